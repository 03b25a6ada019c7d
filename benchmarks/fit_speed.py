"""Speed of `chinchilla fit` against the plain recipe, measured in one run.

Run: python benchmarks/fit_speed.py [--skip-plain] [--rows-large 100000] [--rows-read 1000000]

1. Plain recipe: scipy L-BFGS-B with the analytic gradient from each of the paper's
   4,500 starts on the replication's 240 runs (tests/data/svg_extracted_data.csv,
   loss <= 3.42), the best kept.
2. The whole `chinchilla fit` command on the same file, start-up included (subprocess).
Prints both times, their ratio (target >= 30x) and both objectives (they must agree).
Then the bootstrap rate (resamples per second, 135-row subset as in the issue), a
fit of a synthetic 100,000-row file, and the time and peak memory of reading a
1,000,000-row file (the reader alone; tests/test_runs.py bounds its memory).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

# One BLAS thread, as the `chinchilla` entry point sets, for the in-process fits below.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from chinchilla_cli.approach3 import bootstrap_parametric, fit_parametric, fit_plain_loop  # noqa: E402
from chinchilla_cli.laws import ParametricLaw  # noqa: E402
from chinchilla_cli.runs import read_runs  # noqa: E402

DATA = ROOT / "tests" / "data" / "svg_extracted_data.csv"


def command() -> list[str]:
    exe = Path(sys.executable).parent / "chinchilla"
    return [str(exe)] if exe.exists() else [shutil.which("chinchilla") or "chinchilla"]


def timed_command(args: list[str]) -> tuple[float, dict]:
    t0 = time.perf_counter()
    out = subprocess.run(command() + args, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - t0, json.loads(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-plain", action="store_true", help="skip the minute-long plain loop")
    ap.add_argument("--rows-large", type=int, default=100_000)
    ap.add_argument("--resamples", type=int, default=300)
    ap.add_argument("--rows-read", type=int, default=1_000_000)
    args = ap.parse_args()
    runs = read_runs(str(DATA), max_loss=3.42)

    t_cmd, d = min(
        (timed_command(["fit", str(DATA), "--max-loss", "3.42", "--json"]) for _ in range(3)),
        key=lambda x: x[0],
    )
    print(
        f"chinchilla fit (whole command, best of 3): {t_cmd:6.2f} s  objective "
        f"{d['objective']:.12g}"
    )
    if not args.skip_plain:
        t0 = time.perf_counter()
        plain = fit_plain_loop(runs.params, runs.tokens, runs.loss)
        t_plain = time.perf_counter() - t0
        print(
            f"plain loop, 4,500 L-BFGS-B starts:         {t_plain:6.2f} s  objective "
            f"{plain.objective:.12g}"
        )
        print(f"ratio: {t_plain / t_cmd:.1f}x faster (target >= 30x)")
        same = abs(d["objective"] - plain.objective) <= 1e-9 * plain.objective
        print(
            f"same objective (within 1e-9 relative): {same}; fast <= plain: "
            f"{d['objective'] <= plain.objective * (1 + 1e-12)}"
        )
        for k in ("E", "A", "B", "alpha", "beta"):
            print(f"  {k:5s} fast {d['params'][k]:.6g}  plain {plain.law.parameters()[k]:.6g}")

    idx = np.random.default_rng(0).choice(runs.n_kept, 135, replace=False)
    n, t, loss = runs.params[idx], runs.tokens[idx], runs.loss[idx]
    fit = fit_parametric(n, t, loss)
    t0 = time.perf_counter()
    bootstrap_parametric(fit, n, t, loss, args.resamples, seed=0)
    dt = time.perf_counter() - t0
    print(
        f"bootstrap: {args.resamples} resamples of 135 runs in {dt:.2f} s "
        f"({args.resamples / dt:.0f} resamples/s)"
    )

    law = ParametricLaw("truth", 1.69, 406.4, 410.7, 0.34, 0.28)
    rng = np.random.default_rng(1)
    m = args.rows_large
    big_n = np.exp(rng.uniform(np.log(5e7), np.log(2e10), m))
    big_d = np.exp(rng.uniform(np.log(1e9), np.log(5e11), m))
    big_l = (law.E + law.A / big_n**law.alpha + law.B / big_d**law.beta) * np.exp(
        rng.normal(0, 0.003, m)
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.csv"
        write_table(path, np.column_stack([big_n, big_d, big_l]))
        t_big, big = timed_command(["fit", str(path), "--json"])
    print(
        f"{m:,}-row fit (whole command): {t_big:.2f} s; E {big['params']['E']:.4f} "
        f"alpha {big['params']['alpha']:.4f} beta {big['params']['beta']:.4f} (truth 1.69, "
        "0.34, 0.28)"
    )

    k = args.rows_read
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "million.csv"
        idx = np.arange(k) % m
        write_table(path, np.column_stack([big_n[idx], big_d[idx], big_l[idx]]))
        t0 = time.perf_counter()
        read = read_runs(str(path))
        t_read = time.perf_counter() - t0
        tracemalloc.start()
        read_runs(str(path))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(
        f"{read.n_read:,}-row read ({path.name}, {k * 3:,} cells): {t_read:.2f} s, "
        f"peak memory {peak / 1e6:.0f} MB (traced Python allocations)"
    )


def write_table(path: Path, table: np.ndarray) -> None:
    np.savetxt(path, table, delimiter=",", header="params,tokens,loss", comments="", fmt="%.8g")


if __name__ == "__main__":
    main()
