"""Speed of reading training logs for `chinchilla fit`: a 1,000,000-row log reduced to its
runs, and the whole fit, each against reading a plain 1,000,000-row table of runs with
the existing reader (runs.read_runs), all timed in the same run.

Run: python benchmarks/log_speed.py [--rows 1000000] [--repeat 3]

The log is W&B-style: `name`, `_step`, `params` (on each run's first row only),
`total_steps`, `tokens`, `train/loss`; 1,000 runs of 1,000 checkpoints each, written as
CSV and as JSON Lines. Prints each best time and its ratio to the baseline's best.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # as the `chinchilla` entry point sets
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from read_speed import write_table  # noqa: E402

from chinchilla_cli import fit, logs  # noqa: E402
from chinchilla_cli.runs import read_runs  # noqa: E402

E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28
BATCH = 65_536


def write_log(csv_path: Path, jsonl_path: Path, rows: int) -> int:
    """A log of about `rows` rows (runs of 1,000 checkpoints); returns its runs."""
    per_run = 1000
    n_runs = max(10, rows // per_run)
    rng = np.random.default_rng(0)
    sizes = np.geomspace(4e7, 4e9, 40)
    ratios = np.geomspace(5, 80, max(1, n_runs // len(sizes)))
    with (
        csv_path.open("w", encoding="utf-8", newline="") as c,
        jsonl_path.open("w", encoding="utf-8") as j,
    ):
        c.write("name,_step,params,total_steps,tokens,train/loss\n")
        run = 0
        for n in sizes:
            for ratio in ratios:
                if run == n_runs:
                    break
                total = max(per_run, round(n * ratio / BATCH))
                steps = np.linspace(total / per_run, total, per_run).round()
                d = steps * BATCH
                frac = steps / total
                loss = (E + A / n**ALPHA + B / d**BETA + 0.08 * (1 - frac)) * np.exp(
                    rng.normal(0, 0.004, per_run)
                )
                name = f"run{run}"
                for i in range(per_run):
                    first = i == 0
                    size, plan = (f"{n:.6g}", str(total)) if first else ("", "")
                    c.write(f"{name},{steps[i]:.0f},{size},{plan},{d[i]:.0f},{loss[i]:.6f}\n")
                    obj = {"name": name, "_step": int(steps[i]), "tokens": float(d[i])}
                    if first:
                        obj["params"] = float(n)
                        obj["total_steps"] = total
                    obj["train/loss"] = round(float(loss[i]), 6)
                    j.write(json.dumps(obj) + "\n")
                run += 1
    return run


def best(task: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        task()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        table, log_csv, log_jsonl = (Path(tmp) / f for f in ("runs.csv", "h.csv", "h.jsonl"))
        write_table(table, args.rows)
        n_runs = write_log(log_csv, log_jsonl, args.rows)
        reduced = logs.read_log(str(log_csv))
        assert reduced is not None and reduced.n_runs == n_runs, reduced
        rows = reduced.rows_read
        tasks: dict[str, Callable[[], object]] = {
            f"baseline: read_runs, plain {args.rows:,}-row table": lambda: read_runs(str(table)),
            f"read_log, {rows:,}-row CSV log -> {n_runs} runs": lambda: logs.read_log(str(log_csv)),
            f"read_log, {rows:,}-row JSONL log -> {n_runs} runs": lambda: logs.read_log(
                str(log_jsonl)
            ),
            f"fit(), {rows:,}-row CSV log (read, reduce, fit)": lambda: fit(str(log_csv)),
        }
        results = {label: best(task, args.repeat) for label, task in tasks.items()}
    base = next(iter(results.values()))
    width = max(map(len, results))
    print(f"best of {args.repeat} each, ratio to the baseline's time:")
    for label, seconds in results.items():
        print(f"  {label:<{width}}  {seconds:6.2f} s  {seconds / base:5.2f}x")


if __name__ == "__main__":
    main()
