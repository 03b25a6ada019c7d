"""Speed of `chinchilla fit --vs` (interventions compared), measured in one run.

Run: python benchmarks/intervention_speed.py [--repeat 3] [--resamples 300]

Every timing is a whole process (start-up included) with one BLAS thread, the best of
`--repeat`, on the README's example groups (examples/intervention_*.csv, 63 runs each):
1. the baseline alone: `chinchilla fit BASE --bootstrap 300` (the reference);
2. the comparison: `chinchilla fit BASE --vs VARIANT --bootstrap 300` (both groups fitted
   and resampled, multipliers and crossover for every resample);
3. the same with `--shared E` (the joint fit, its 300 refits, the held-out refit).
Prints each time and its ratio against (1) timed in this same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "examples" / "intervention_baseline.csv"
VARIANT = ROOT / "examples" / "intervention_variant.csv"


def command() -> list[str]:
    exe = Path(sys.executable).parent / "chinchilla"
    return [str(exe)] if exe.exists() else [shutil.which("chinchilla") or "chinchilla"]


def timed(args: list[str]) -> tuple[float, dict]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    out = subprocess.run(
        command() + ["fit", *args, "--json"], check=True, capture_output=True, text=True, env=env
    ).stdout
    return time.perf_counter() - t0, json.loads(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs of each")
    ap.add_argument("--resamples", type=int, default=300)
    args = ap.parse_args()
    boot = ["--bootstrap", str(args.resamples)]
    commands = {
        "baseline alone": [str(BASE), *boot],
        "--vs": [str(BASE), "--vs", str(VARIANT), *boot],
        "--vs --shared E": [str(BASE), "--vs", str(VARIANT), "--shared", "E", *boot],
    }
    best = dict.fromkeys(commands, float("inf"))
    answers: dict[str, dict] = {}
    for _ in range(args.repeat):  # interleaved: a busy spell slows every command alike
        for label, argv in commands.items():
            t, answers[label] = timed(argv)
            best[label] = min(best[label], t)
    alone = best["baseline alone"]
    print(f"baseline alone, {args.resamples} resamples: {alone:.2f} s")
    for label in list(commands)[1:]:
        v = answers[label]["intervention"]["variants"][0]
        cross = ", ".join(f"{c['flops']:.3g}" for c in v["crossovers"]) or "none"
        print(
            f"{label}, {args.resamples} resamples: {best[label]:.2f} s vs {alone:.2f} s: "
            f"{best[label] / alone:.2f}x (crossover {cross} FLOPs)"
        )


if __name__ == "__main__":
    main()
