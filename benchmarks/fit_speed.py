"""Speed of `chinchilla fit` against the plain recipe, measured in one run.

Run: python benchmarks/fit_speed.py [--skip-plain] [--repeat 3] [--rows-large 100000]
                                    [--rows-read 1000000]

Every timing is a whole process (start-up included) with one BLAS thread:
1. Plain recipe: scipy L-BFGS-B with the analytic gradient from each of the paper's
   4,500 starts on the replication's 240 runs (tests/data/svg_extracted_data.csv,
   loss <= 3.42), the best kept (`--plain-only` runs just this, in a child process).
2. `chinchilla fit` (screen the grid, polish the promising starts) on the same file.
3. `chinchilla fit --exhaustive` (every start run to convergence) on the same file.
4. Each form of the law (`--form chinchilla|kaplan|coupled|compare`): the whole command
   (its audit included: every budget held out, every ordered cut) and the fit alone
   (in this process, `audit=False`), best of `--repeat`.
Prints each time, each fit's ratio against the plain loop timed in this same run (goal
>= 30x) and the objectives (they must agree). Then the bootstrap rate (resamples per
second, 135-row subset as in the issue), a fit of a synthetic 100,000-row file, and the
time and peak memory of reading a 1,000,000-row file (the reader alone;
tests/test_runs.py bounds its memory). Where the exhaustive fit's time goes:
benchmarks/exhaustive_profile.py.
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
from chinchilla_cli.fit_defaults import FORMS  # noqa: E402
from chinchilla_cli.fitting import fit as fit_api  # noqa: E402
from chinchilla_cli.laws import ParametricLaw  # noqa: E402
from chinchilla_cli.read_options import ReadOptions  # noqa: E402
from chinchilla_cli.runs import read_runs  # noqa: E402

DATA = ROOT / "tests" / "data" / "svg_extracted_data.csv"


def command() -> list[str]:
    exe = Path(sys.executable).parent / "chinchilla"
    return [str(exe)] if exe.exists() else [shutil.which("chinchilla") or "chinchilla"]


def timed_command(args: list[str]) -> tuple[float, dict]:
    t0 = time.perf_counter()
    out = subprocess.run(command() + args, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - t0, json.loads(out)


def plain_only() -> None:
    """The plain loop in this process; prints its objective as JSON (for the parent)."""
    runs = read_runs(str(DATA), ReadOptions(max_loss=3.42))
    plain = fit_plain_loop(runs.params, runs.tokens, runs.loss)
    print(json.dumps({"objective": plain.objective, "params": plain.law.parameters()}))


def timed_plain() -> tuple[float, dict]:
    t0 = time.perf_counter()
    cmd = [sys.executable, str(Path(__file__).resolve()), "--plain-only"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return time.perf_counter() - t0, json.loads(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-plain", action="store_true", help="skip the minute-long plain loop")
    ap.add_argument("--plain-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--repeat", type=int, default=3, help="best of this many fit commands")
    ap.add_argument("--rows-large", type=int, default=100_000)
    ap.add_argument("--resamples", type=int, default=300)
    ap.add_argument("--rows-read", type=int, default=1_000_000)
    args = ap.parse_args()
    if args.plain_only:
        plain_only()
        return
    runs = read_runs(str(DATA), ReadOptions(max_loss=3.42))

    fit_args = ["fit", str(DATA), "--max-loss", "3.42", "--json"]
    fits = {}
    for label, extra in (("chinchilla fit", []), ("chinchilla fit --exhaustive", ["--exhaustive"])):
        t, d = min(
            (timed_command(fit_args + extra) for _ in range(args.repeat)), key=lambda x: x[0]
        )
        fits[label] = (t, d)
        print(
            f"{label + ' (whole command, best of ' + str(args.repeat) + '):':52s}{t:7.2f} s  "
            f"objective {d['objective']:.12g}"
        )
    census = fits["chinchilla fit --exhaustive"][1]["optimizer"]["exhaustive"]
    print(
        f"  exhaustive: {census['converged']:,} of {census['starts']:,} starts converged, "
        f"{census['distinct_optima']} distinct optima, {census['starts_at_best']:,} at the best"
    )
    forms = time_forms(fit_args, args.repeat)
    if not args.skip_plain:
        t_plain, plain = timed_plain()
        print(
            f"{'plain loop, 4,500 L-BFGS-B starts (whole process):':52s}{t_plain:7.2f} s  "
            f"objective {plain['objective']:.12g}"
        )
        for label, (t, d) in fits.items():
            same = abs(d["objective"] - plain["objective"]) <= 1e-9 * plain["objective"]
            print(
                f"ratio {label}: {t_plain / t:.1f}x faster than the plain loop (goal >= 30x); "
                f"same objective within 1e-9: {same}; no higher: "
                f"{d['objective'] <= plain['objective'] * (1 + 1e-12)}"
            )
        for form, (t_cmd, t_fit) in forms.items():
            print(
                f"ratio --form {form}: whole command {t_plain / t_cmd:.1f}x, fit alone "
                f"{t_plain / t_fit:.1f}x faster than the plain loop"
            )
        d = fits["chinchilla fit"][1]
        for k in ("E", "A", "B", "alpha", "beta"):
            print(f"  {k:5s} fit {d['params'][k]:.6g}  plain {plain['params'][k]:.6g}")

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


def time_forms(fit_args: list[str], repeat: int) -> dict[str, tuple[float, float]]:
    """Each form: the whole command (audit included) and the fit alone, best of `repeat`."""
    out = {}
    for form in FORMS:
        t_cmd, d = min(
            (timed_command(fit_args + ["--form", form]) for _ in range(repeat)),
            key=lambda x: x[0],
        )
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fit_api(str(DATA), max_loss=3.42, form=form, audit=False)
            times.append(time.perf_counter() - t0)
        out[form] = (t_cmd, min(times))
        cut = (d["audit"] or {}).get("ordered_cut_rmse_log_loss")
        print(
            f"{'--form ' + form + ' (command; fit alone):':52s}{t_cmd:7.2f} s; {min(times):.2f} s"
            f"  objective {d['objective']:.6g}, ordered-cut RMSE "
            + ("—" if cut is None else f"{cut:.4f}")
        )
    return out


def write_table(path: Path, table: np.ndarray) -> None:
    np.savetxt(path, table, delimiter=",", header="params,tokens,loss", comments="", fmt="%.8g")


if __name__ == "__main__":
    main()
