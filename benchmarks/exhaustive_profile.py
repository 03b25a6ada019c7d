"""Where `chinchilla fit --exhaustive` spends its time, in numbers.

Run: python benchmarks/exhaustive_profile.py [--merge]

In one process with one BLAS thread, on the replication's 240 runs
(tests/data/svg_extracted_data.csv, loss <= 3.42), every start of the paper's grid run to
convergence (`exhaustive_grid`), timed: the Newton iterations spent in each
precision, and the time in the objective (exp, log and the Huber loss), its gradient and
Hessian, the eigen-decompositions of the 5 x 5 Hessians, the trust-region steps and the
rest. With --merge it also counts, at every iteration, how many of the starts still
running share a trial point (to 1e-9 and 1e-6 in standardised coordinates): starts that
merge before converging could be followed as one.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from chinchilla_cli import newton  # noqa: E402
from chinchilla_cli.grid_search import exhaustive_grid  # noqa: E402
from chinchilla_cli.objective import LogRuns  # noqa: E402
from chinchilla_cli.read_options import ReadOptions  # noqa: E402
from chinchilla_cli.runs import read_runs  # noqa: E402

DATA = ROOT / "tests" / "data" / "svg_extracted_data.csv"
PARTS = {  # report line: the function timed
    "objective (2 exp + 1 log a cell)": "scaled_value",
    "gradient and Hessian": "scaled_derivatives",
    "trust-region steps": "_trust_step",
}


def timed(fn: Callable[..., Any], into: dict[str, float], key: str) -> Callable[..., Any]:
    def wrapper(*a: Any, **k: Any) -> Any:
        t = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            into[key] = into.get(key, 0.0) + time.perf_counter() - t

    return wrapper


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--merge", action="store_true", help="count starts sharing a trial point")
    args = ap.parse_args()
    runs = read_runs(str(DATA), ReadOptions(max_loss=3.42))
    log_runs = LogRuns.of(runs.params, runs.tokens, runs.loss)

    counts = {"float32": [0, 0], "float64": [0, 0]}  # [evaluated, accepted]
    merged = {1e-9: 0, 1e-6: 0}
    trial = newton._trial

    def counting(psi: np.ndarray, part: newton.Part, *rest: object) -> tuple:
        out = trial(psi, part, *rest)  # type: ignore[arg-type]
        c = counts["float32" if part.frame.zp.dtype == np.float32 else "float64"]
        c[0] += len(psi)
        c[1] += int(out[1].sum())
        if args.merge:
            for tol in merged:
                merged[tol] += len(psi) - len(np.unique(np.round(psi / tol), axis=0))
        return out

    spent: dict[str, float] = {}
    saved = {name: getattr(newton, name) for name in PARTS.values()}
    saved_eigh = np.linalg.eigh
    for name in PARTS.values():
        setattr(newton, name, timed(saved[name], spent, name))
    np.linalg.eigh = timed(saved_eigh, spent, "eigh")  # type: ignore[assignment]
    newton._trial = counting  # type: ignore[assignment]
    t0 = time.process_time()
    best, _, census = exhaustive_grid(log_runs)
    total = time.process_time() - t0
    newton._trial = trial  # type: ignore[assignment]
    np.linalg.eigh = saved_eigh  # type: ignore[assignment]
    for name, fn in saved.items():
        setattr(newton, name, fn)

    print(
        f"{census.n_starts:,} starts, {census.n_converged:,} converged, "
        f"{census.n_optima} distinct optima, {census.starts_at_best:,} at the best "
        f"(objective {best.objective:.12g})"
    )
    for name, (n, acc) in counts.items():
        print(
            f"  {name}: {n:,} iterations ({n / census.n_starts:.0f} a start), "
            f"{acc:,} steps accepted, {n - acc:,} rejected"
        )
    if args.merge:
        for tol, k in merged.items():
            print(f"  trial points shared by two starts still running, to {tol:g}: {k:,}")
    print(f"CPU time {total:.2f} s, of which:")
    rest = total
    for label, key in [*PARTS.items(), ("eigen-decompositions (LAPACK)", "eigh")]:
        t = spent.get(key, 0.0)
        rest -= t
        print(f"  {label:36s}{t:6.2f} s  {100 * t / total:4.0f}%")
    print(f"  {'the rest (numpy calls, bookkeeping)':36s}{rest:6.2f} s  {100 * rest / total:4.0f}%")
    n_cells = sum(c[0] for c in counts.values()) * len(log_runs.log_loss)
    print(
        f"  {n_cells / 1e6:.0f} million start x run cells evaluated: "
        f"{1e9 * total / n_cells:.1f} ns a cell in all"
    )


if __name__ == "__main__":
    main()
