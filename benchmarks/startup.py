"""Start-up cost of `chinchilla plan` against importing its three big dependencies.

Run: python benchmarks/startup.py [--repeat 15]
Prints the median wall time of each and their ratio, measured in this one run
(target: at most 1.3x).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def median_seconds(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    exe = Path(sys.executable).parent / "chinchilla"
    plan = [str(exe)] if exe.exists() else [shutil.which("chinchilla") or "chinchilla"]
    plan += ["plan", "--chips", "1024", "--days", "30"]
    baseline = [sys.executable, "-c", "import numpy, rich, typer"]
    median_seconds(plan, 2)  # warm the file cache for both
    median_seconds(baseline, 2)
    t_base = median_seconds(baseline, args.repeat)
    t_plan = median_seconds(plan, args.repeat)
    print(f"import numpy, rich, typer : {t_base * 1000:7.1f} ms (median of {args.repeat})")
    print(f"chinchilla plan ...       : {t_plan * 1000:7.1f} ms")
    print(f"ratio                     : {t_plan / t_base:7.2f}x  (target <= 1.3x)")


if __name__ == "__main__":
    main()
