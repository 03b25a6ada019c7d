"""The paper's grid of starts and the search over it: screened (the default) or
exhaustive, with a census of the distinct optima the starts reach.

- screened: evaluate the objective at every start of the 4,500-point grid in one
  vectorised pass and polish only the promising starts -- the best few overall plus the
  best of each of the most promising (alpha, beta) pairs, so no region of exponent space
  is skipped;
- exhaustive: every start run to convergence, as the recipe reads, with a census of the
  distinct optima the grid reached (a multi-modality diagnostic).
Because each polish converges fully, a bootstrap refit warm-started from the full fit's
optimum lands where a full 4,500-start refit does (tests check both).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chinchilla_cli.errors import FitError
from chinchilla_cli.fit_constraints import Constraints, subspace
from chinchilla_cli.fit_defaults import HUBER_DELTA
from chinchilla_cli.newton import minimise
from chinchilla_cli.objective import LogRuns, law_from_theta, objective, objective_many

GRID_AXES = {  # Hoffmann et al. 2022, appendix D.2
    "a": tuple(np.arange(0.0, 25.1, 5.0)),
    "b": tuple(np.arange(0.0, 25.1, 5.0)),
    "e": tuple(np.arange(-1.0, 1.01, 0.5)),
    "alpha": tuple(np.arange(0.0, 2.01, 0.5)),
    "beta": tuple(np.arange(0.0, 2.01, 0.5)),
}
SCREEN_ROWS = 4096  # rank starts on at most this many runs; polish on all of them
SAME_OPTIMUM = 1e-7  # optima whose objectives agree to this (relative) are one
N_BEST, N_PAIRS = 4, 12  # screened starts: best overall, best of the best (alpha, beta) pairs


def paper_grid() -> np.ndarray:
    """The 4,500 starts, columns (a, b, e, alpha, beta)."""
    ax = GRID_AXES
    return np.array(list(itertools.product(ax["a"], ax["b"], ax["e"], ax["alpha"], ax["beta"])))


@dataclass(frozen=True)
class Polished:
    """One start polished to convergence (or not): the point theta it reached, the
    objective there (the sum of Huber losses), and the solver's word on it."""

    theta: np.ndarray
    objective: float
    converged: bool
    message: str
    iterations: int


METHOD = "trust-region Newton"


def _message(converged: bool, iterations: int) -> str:
    if converged:
        return f"{METHOD}: converged in {iterations} iterations"
    return f"{METHOD}: stopped after {iterations} iterations without converging"


def polish_many(
    thetas: np.ndarray,
    runs: LogRuns,
    delta: float = HUBER_DELTA,
    constraints: Constraints | None = None,
    row_weights: np.ndarray | None = None,
) -> list[Polished]:
    """Newton to convergence from every row of thetas at once (one batch, no scipy).
    `row_weights` (starts x runs) gives each start its own weights of the runs."""
    space = subspace(runs, constraints)
    found = minimise(space.to_psi(thetas), [space.part], delta, row_weights)
    th = space.to_theta(found.psi)
    return [
        Polished(
            th[i],
            float(found.f[i]) * delta,
            bool(found.converged[i]),
            _message(bool(found.converged[i]), int(found.iterations[i])),
            int(found.iterations[i]),
        )
        for i in range(len(th))
    ]


def polish(
    theta0: np.ndarray,
    runs: LogRuns,
    delta: float = HUBER_DELTA,
    plain: bool = False,
    constraints: Constraints | None = None,
) -> Polished:
    """Newton from one start to convergence; or (plain) scipy's L-BFGS-B with its
    defaults on the raw sum, as the unaccelerated recipe runs it."""
    if plain:
        from scipy.optimize import minimize

        r = minimize(objective, theta0, args=(runs, delta), jac=True, method="L-BFGS-B")
        return Polished(np.asarray(r.x), float(r.fun), bool(r.success), str(r.message), int(r.nit))
    return polish_many(np.atleast_2d(theta0), runs, delta, constraints)[0]


def select_starts(
    grid: np.ndarray, values: np.ndarray, n_best: int = N_BEST, n_pairs: int = N_PAIRS
) -> np.ndarray:
    """Indices of the starts worth polishing: the best overall, and the best start of
    each of the `n_pairs` most promising (alpha, beta) pairs of the grid, so the polish
    covers several regions of exponent space rather than one basin."""
    order = np.argsort(values, kind="stable")
    chosen = [int(i) for i in order[:n_best]]
    pairs: set[tuple[float, float]] = set()
    for i in order:
        key = (float(grid[i, 3]), float(grid[i, 4]))
        if key not in pairs:
            pairs.add(key)
            chosen.append(int(i))
            if len(pairs) == n_pairs:
                break
    return np.array(sorted(set(chosen)))


def screen_runs(runs: LogRuns, limit: int = SCREEN_ROWS) -> LogRuns:
    """At most `limit` runs, evenly spread through the data, for ranking and first polish."""
    n = len(runs.log_loss)
    if n <= limit:
        return runs
    return runs.subset(np.linspace(0, n - 1, limit).round().astype(int))


def _best(results: Sequence[Polished]) -> int:
    return int(np.argmin([p.objective if math.isfinite(p.objective) else np.inf for p in results]))


def best_of_grid(
    runs: LogRuns,
    delta: float = HUBER_DELTA,
    grid: np.ndarray | None = None,
    extra_starts: np.ndarray | None = None,
    constraints: Constraints | None = None,
) -> tuple[Polished, np.ndarray, int]:
    """Screen the grid, polish the promising starts, return (best, its start, polished)."""
    cons = constraints or Constraints()
    grid = cons.apply(paper_grid() if grid is None else grid)
    if cons:  # the constrained grid repeats points: screen each once
        grid = np.unique(grid, axis=0)
    small = screen_runs(runs)
    values = objective_many(grid, small, delta)
    starts = grid[select_starts(grid, values)]
    if extra_starts is not None:
        starts = np.vstack([cons.apply(extra_starts), starts])
    results = polish_many(starts, small, delta, cons)
    if small is not runs:  # large data: refine the few best on every run
        order = np.argsort([p.objective for p in results])[:4]
        refined = polish_many(np.array([results[i].theta for i in order]), runs, delta, cons)
        k = _best(refined)
        return refined[k], starts[order[k]], len(results) + len(refined)
    k = _best(results)
    return results[k], starts[k], len(results)


@dataclass(frozen=True)
class Optimum:
    """One distinct local optimum that starts of the grid converged to."""

    theta: np.ndarray
    objective: float
    starts: int  # how many starts converged here

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "starts": self.starts,
            "params": law_from_theta(self.theta).parameters(),
        }


@dataclass(frozen=True)
class GridCensus:
    """Where every start of the grid went: a multi-modality diagnostic.

    Optima are distinct when their objectives differ by more than SAME_OPTIMUM (relative);
    `optima` lists them best first (at most `SHOWN_OPTIMA`). Starts that did not converge
    within MAX_ITER iterations are counted apart."""

    n_starts: int
    n_converged: int
    n_optima: int
    optima: tuple[Optimum, ...]

    @property
    def starts_at_best(self) -> int:
        return self.optima[0].starts if self.optima else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "starts": self.n_starts,
            "converged": self.n_converged,
            "distinct_optima": self.n_optima,
            "starts_at_best": self.starts_at_best,
            "optima": [o.to_dict() for o in self.optima],
        }


SHOWN_OPTIMA = 5


def _groups(results: Sequence[Polished]) -> list[list[int]]:
    """Indices of the converged results grouped by objective into distinct optima, best
    group first and each group's best first."""
    done = [i for i, p in enumerate(results) if p.converged and math.isfinite(p.objective)]
    done.sort(key=lambda i: results[i].objective)
    groups: list[list[int]] = []
    for i in done:
        if groups and results[i].objective <= results[groups[-1][0]].objective * (1 + SAME_OPTIMUM):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def census(
    results: Sequence[Polished], counts: Sequence[int] | None = None, n_starts: int | None = None
) -> GridCensus:
    """The distinct optima among results (each standing for `counts[i]` starts)."""
    counts = [1] * len(results) if counts is None else list(counts)
    groups = _groups(results)
    optima = [
        Optimum(results[g[0]].theta, results[g[0]].objective, sum(counts[i] for i in g))
        for g in groups
    ]
    converged = sum(o.starts for o in optima)
    total = sum(counts) if n_starts is None else n_starts
    return GridCensus(total, converged, len(optima), tuple(optima[:SHOWN_OPTIMA]))


def _fastest(results: Sequence[Polished], group: Sequence[int]) -> int:
    """The start of `group` that converged in the fewest iterations: the most direct
    route to their optimum (the lowest objective among starts that agree to rounding
    says nothing about the route, and another optimiser from it may end elsewhere)."""
    return min(group, key=lambda i: (results[i].iterations, i))


def exhaustive_grid(
    runs: LogRuns,
    delta: float = HUBER_DELTA,
    constraints: Constraints | None = None,
) -> tuple[Polished, np.ndarray, GridCensus]:
    """Every start of the grid run to convergence: (best, a start that reached it,
    census). The start is the one that got there in the fewest iterations.

    On more than SCREEN_ROWS runs every start converges on an evenly spread subset of
    SCREEN_ROWS runs, and each distinct optimum found there is then polished on all."""
    cons = constraints or Constraints()
    grid = cons.apply(paper_grid())
    if cons:  # the constrained grid repeats points: run each once
        grid = np.unique(grid, axis=0)
    small = screen_runs(runs)
    results = polish_many(grid, small, delta, cons)
    groups = _groups(results)
    if small is runs:
        if not groups:  # nothing converged: the lowest objective, as the census says
            k = _best(results)
            return results[k], grid[k], census(results)
        return results[groups[0][0]], grid[_fastest(results, groups[0])], census(results)
    if not groups:
        raise FitError("no start of the grid converged")
    reps = [g[0] for g in groups]
    refined = polish_many(np.array([results[i].theta for i in reps]), runs, delta, cons)
    k = _best(refined)
    found = census(refined, [len(g) for g in groups], len(grid))
    return refined[k], grid[_fastest(results, groups[k])], found
