"""Start-up cost of `chinchilla plan` against importing its three big dependencies.

Run: python benchmarks/startup.py [--repeat 15]
Prints the median wall time of each and their ratio, measured in this one run
(target: at most 1.3x).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

# one BLAS thread for both, as the `chinchilla` entry point sets it
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# and bytecode cached as on a user's machine (installed packages have theirs from pip; an
# editable checkout writes its own on the warm-up run unless this is set)
ENV.pop("PYTHONDONTWRITEBYTECODE", None)


def median_seconds(cmd: list[str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(
            cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
        )
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
    # interleaved, so that a change in the machine's speed touches both alike
    t_base = t_plan = 0.0
    bases, plans = [], []
    for _ in range(args.repeat):
        bases.append(median_seconds(baseline, 1))
        plans.append(median_seconds(plan, 1))
    t_base, t_plan = statistics.median(bases), statistics.median(plans)
    print(f"import numpy, rich, typer : {t_base * 1000:7.1f} ms (median of {args.repeat})")
    print(f"chinchilla plan ...       : {t_plan * 1000:7.1f} ms")
    print(f"ratio                     : {t_plan / t_base:7.2f}x  (target <= 1.3x)")


if __name__ == "__main__":
    main()
