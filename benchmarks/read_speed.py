"""Speed of reading a 1,000,000-row table of runs: the current reader against the one it
replaced (benchmarks/_baseline_runs.py, the hand-written np.fromstring reader), measured
on the same generated file in one run.

Run: python benchmarks/read_speed.py [--rows 1000000] [--repeat 3]
Prints the ratio of the best times, new/old (target <= 1.0: at least as fast).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import _baseline_runs  # noqa: E402
import numpy as np  # noqa: E402

from chinchilla_cli.runs import read_runs  # noqa: E402


def write_table(path: Path, rows: int) -> None:
    """params,tokens,flops,loss as a spreadsheet would export them, 9 significant digits."""
    rng = np.random.default_rng(7)
    block = min(rows, 10_000)
    n = 10 ** rng.uniform(7, 11, block)
    d = 10 ** rng.uniform(9, 13, block)
    loss = 1.8 + 400 / n**0.34 + 400 / d**0.28
    lines = [
        f"{a:.9g},{b:.9g},{c:.9g},{y:.6f}\n"
        for a, b, c, y in zip(n, d, 6 * n * d, loss, strict=True)
    ]
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("params,tokens,flops,loss\n")
        for start in range(0, rows, block):
            f.writelines(lines[: rows - start])


def seconds(read: Callable[[str], object], path: Path) -> float:
    gc.collect()
    t0 = time.perf_counter()
    read(str(path))
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "runs.csv"
        write_table(path, args.rows)
        new = read_runs(str(path))  # also warms the file cache for both
        old = _baseline_runs.read_runs(str(path))
        assert new.n_read == old.n_read == args.rows
        for name in ("params", "tokens", "flops", "loss"):
            np.testing.assert_array_equal(getattr(new, name), getattr(old, name))
        times: dict[str, list[float]] = {"old": [], "new": []}
        for _ in range(args.repeat):  # alternate, so both see the same machine load
            times["old"].append(seconds(_baseline_runs.read_runs, path))
            times["new"].append(seconds(read_runs, path))
    t_old, t_new = min(times["old"]), min(times["new"])
    print(
        f"read {args.rows:,} rows: new/old time ratio {t_new / t_old:.2f} "
        f"(best of {args.repeat} each; target <= 1.0)"
    )


if __name__ == "__main__":
    main()
