"""How fast `chinchilla fit --exhaustive` could be in numpy at best, against the plain loop.

Run: python benchmarks/exhaustive_floor.py [--every 10]

The goal is the whole command at least 30x faster than the plain loop (scipy L-BFGS-B from
each of the 4,500 starts). This measures, in one run with one BLAS thread, on the
replication's 240 runs (tests/data/svg_extracted_data.csv, loss <= 3.42):
1. the plain loop on every `--every`-th start: its time per start (scaled to 4,500) and
   the objective evaluations L-BFGS-B needs per start (with scipy's loose default stop);
2. the leanest numpy pass a batched optimiser needs per evaluation: objective and
   gradient of a chunk of starts x 240 runs, float32, in cache (one matrix product for
   both exponents, 2 exp and 1 log a cell, the Huber sum, two matrix products for the
   gradient), in nanoseconds per cell;
3. the command's fixed part: the whole `chinchilla fit --exhaustive` minus the grid's
   own time in this process (start-up, reading, the extrapolation check, the report).
Floor = 4,500 starts x 240 runs x evaluations x ns a cell: what an ideal batched
L-BFGS (no bookkeeping, no Hessian, no float64 finish) would spend. The best ratio any
numpy optimiser needing as many evaluations could reach is plain / (fixed + floor).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from chinchilla_cli.fit_defaults import HUBER_DELTA  # noqa: E402
from chinchilla_cli.grid_search import exhaustive_grid, paper_grid  # noqa: E402
from chinchilla_cli.newton import CHUNK_CELLS  # noqa: E402
from chinchilla_cli.objective import LogRuns, objective  # noqa: E402
from chinchilla_cli.read_options import ReadOptions  # noqa: E402
from chinchilla_cli.runs import read_runs  # noqa: E402

DATA = ROOT / "tests" / "data" / "svg_extracted_data.csv"
GOAL = 30.0


def plain_sample(runs: LogRuns, every: int) -> tuple[float, float]:
    """(seconds per start, objective evaluations per start) of scipy's L-BFGS-B."""
    from scipy.optimize import minimize

    starts = paper_grid()[::every]
    evals = 0
    t0 = time.perf_counter()
    for s in starts:
        r = minimize(objective, s, args=(runs, HUBER_DELTA), jac=True,
                     method="L-BFGS-B")  # fmt: skip
        evals += r.nfev
    return (time.perf_counter() - t0) / len(starts), evals / len(starts)


def lean_pass_ns(runs: LogRuns, repeat: int = 400) -> float:
    """Nanoseconds a cell for objective and gradient, float32, one cache-sized chunk."""
    n = len(runs.log_loss)
    k = max(1, CHUNK_CELLS // n)
    rng = np.random.default_rng(0)
    zp = ((runs.log_params - runs.log_params.mean()) / runs.log_params.std()).astype(np.float32)
    zt = ((runs.log_tokens - runs.log_tokens.mean()) / runs.log_tokens.std()).astype(np.float32)
    ll = runs.log_loss.astype(np.float32)
    ex = np.zeros((4, 2 * n), dtype=np.float32)
    ex[0, :n], ex[1, n:], ex[2, :n], ex[3, n:] = 1.0, 1.0, -zp, -zt
    cols = np.column_stack([np.ones(n), zp, np.ones(n), zt]).astype(np.float32)
    th = rng.normal([6.0, 7.0, 0.3, 0.5], 0.3, (k, 4)).astype(np.float32)
    e3 = np.exp(rng.normal(0.6, 0.1, (k, 1))).astype(np.float32)
    delta = np.float32(HUBER_DELTA)

    def once() -> None:
        x = th @ ex
        np.exp(x, out=x)
        s = x[:, :n] + x[:, n:]
        s += e3
        r = np.log(s)
        r -= ll
        c = np.clip(r, -delta, delta)
        np.einsum("ij,ij->i", c, r - 0.5 * c)  # the Huber sum
        c /= s
        x[:, :n] *= c
        x[:, n:] *= c
        x[:, :n] @ cols[:, :2]  # gradient: against 1 and zp, 1 and zt
        x[:, n:] @ cols[:, 2:]

    once()
    best = np.inf
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(repeat):
            once()
        best = min(best, (time.perf_counter() - t0) / repeat)
    return 1e9 * best / (k * n)


def command_seconds(args: list[str]) -> float:
    exe = Path(sys.executable).parent / "chinchilla"
    cmd = [str(exe)] if exe.exists() else [shutil.which("chinchilla") or "chinchilla"]
    t0 = time.perf_counter()
    subprocess.run(cmd + args, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=10, help="plain loop on every k-th start")
    args = ap.parse_args()
    loaded = read_runs(str(DATA), ReadOptions(max_loss=3.42))
    runs = LogRuns.of(loaded.params, loaded.tokens, loaded.loss)
    n_starts, n_runs = len(paper_grid()), len(runs.log_loss)

    per_start, evals = plain_sample(runs, args.every)
    plain = per_start * n_starts
    ns = lean_pass_ns(runs)
    floor = n_starts * n_runs * evals * ns * 1e-9
    whole = command_seconds(["fit", str(DATA), "--max-loss", "3.42", "--exhaustive", "--json"])
    t0 = time.perf_counter()
    exhaustive_grid(runs)
    grid = time.perf_counter() - t0
    fixed = max(whole - grid, 0.0)

    print(f"plain loop: {per_start * 1e3:.2f} ms a start, {evals:.1f} evaluations a start "
          f"(every {args.every}th start); 4,500 starts: {plain:.1f} s")  # fmt: skip
    print(f"leanest numpy pass (objective and gradient, float32, in cache): {ns:.1f} ns a cell")
    print(f"floor for the grid: 4,500 x {n_runs} x {evals:.1f} x {ns:.1f} ns = {floor:.2f} s")
    print(f"`fit --exhaustive` today: {whole:.2f} s whole, of which the grid {grid:.2f} s "
          f"and the rest {fixed:.2f} s: {plain / whole:.1f}x the plain loop")  # fmt: skip
    best = plain / (fixed + floor)
    print(f"best ratio at the floor: {plain:.1f} / ({fixed:.2f} + {floor:.2f}) = {best:.1f}x "
          f"(goal {GOAL:g}x): {'within reach' if best >= GOAL else 'out of reach'}")  # fmt: skip


if __name__ == "__main__":
    main()
