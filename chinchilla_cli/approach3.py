"""Approach 3 of Hoffmann et al. 2022: fit L(N, D) = E + A/N^alpha + B/D^beta.

The paper's recipe (appendix D.2): minimise the sum of Huber losses of log-loss
residuals (objective.py) from every start of a 4,500-point grid, and keep the best. Here
the grid is screened and its promising starts polished by a batched trust-region Newton
method (grid_search.py, newton.py), optionally under fixed or tied parameters
(fit_constraints.py); this module turns the best optimum into a `ParametricFit` and
refits it on bootstrap resamples. One E shared by several groups of runs: shared_e.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chinchilla_cli.errors import FitError
from chinchilla_cli.fit_constraints import Constraints
from chinchilla_cli.fit_defaults import HUBER_DELTA, SEED
from chinchilla_cli.grid_search import (
    GRID_AXES,
    METHOD,
    GridCensus,
    Polished,
    best_of_grid,
    exhaustive_grid,
    paper_grid,
    polish,
    polish_many,
)
from chinchilla_cli.laws import ParametricLaw
from chinchilla_cli.objective import SCREEN_CELLS, THETA, THETA_OF, LogRuns, law_from_theta

MIN_EXPONENT = 1e-6  # alpha or beta below this: the term is a constant, the law degenerate


@dataclass(frozen=True)
class ParametricFit:
    """The result of an Approach 3 fit, in the manner of scipy.optimize.OptimizeResult."""

    law: ParametricLaw
    theta: np.ndarray  # (a, b, e, alpha, beta)
    objective: float
    converged: bool
    message: str
    iterations: int
    n_runs: int
    rmse_log_loss: float
    start: np.ndarray
    starts_polished: int
    huber_delta: float
    constraints: Constraints = field(default_factory=Constraints)
    census: GridCensus | None = None  # the exhaustive fit's: every start's optimum

    def beyond_grid(self) -> list[str]:
        """The coordinates of the optimum at or beyond the edge of the initialisation grid:
        there the grid did not bracket the answer and a wider one might find a better fit.
        (Most grid starts lie on some edge, so the start itself says little.) Fixed
        parameters are the user's, not the fit's, and are not reported."""
        held = {THETA_OF[k] for k, _ in self.constraints.fixed}
        out = []
        for i, (name, value) in enumerate(zip(THETA, self.theta, strict=True)):
            lo, hi = GRID_AXES[name][0], GRID_AXES[name][-1]
            if i not in held and (value <= lo + 1e-6 or value >= hi - 1e-6):
                out.append(f"{name} = {value:.4g} (grid {lo:g} to {hi:g})")
        return out

    def refit(self, runs: LogRuns) -> Polished:
        """The same fit (delta, constraints) on other runs, warm-started at this optimum."""
        return polish(self.theta, runs, self.huber_delta, constraints=self.constraints)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": METHOD,
            "objective": self.objective,
            "converged": self.converged,
            "message": self.message,
            "iterations": self.iterations,
            "rmse_log_loss": self.rmse_log_loss,
            "huber_delta": self.huber_delta,
            "starts_polished": self.starts_polished,
            "start": dict(zip(THETA, map(float, self.start), strict=True)),
            "fixed": dict(self.constraints.fixed),
            "tied": [list(t) for t in self.constraints.tied],
            "exhaustive": None if self.census is None else self.census.to_dict(),
        }


def fit_parametric(
    params: np.ndarray,
    tokens: np.ndarray,
    loss: np.ndarray,
    *,
    delta: float = HUBER_DELTA,
    name: str = "fit",
    source: str = "",
    exhaustive: bool = False,
    constraints: Constraints | None = None,
) -> ParametricFit:
    """Hoffmann et al.'s Approach 3 on these runs: the grid screened and its promising
    starts polished, or (`exhaustive`) every start run to convergence with a census of
    the optima reached. `constraints` fix or tie parameters. Raises FitError when no
    start finds a law with positive exponents."""
    runs = LogRuns.of(params, tokens, loss)
    cons = constraints or Constraints()
    if exhaustive:
        best, start, found = exhaustive_grid(runs, delta, cons)
        return _result(best, start, found.n_starts, runs, delta, name, source, cons, found)
    best, start, polished = best_of_grid(runs, delta, constraints=cons)
    return _result(best, start, polished, runs, delta, name, source, cons)


def _result(
    best: Polished,
    start: np.ndarray,
    polished: int,
    runs: LogRuns,
    delta: float,
    name: str,
    source: str,
    constraints: Constraints | None = None,
    found: GridCensus | None = None,
) -> ParametricFit:
    theta = best.theta
    # an exponent of ~0 makes its term a constant beside E: a degenerate law, not a fit
    if not np.all(np.isfinite(theta)) or min(theta[3], theta[4]) < MIN_EXPONENT:
        raise FitError(
            "the fit did not find a law with positive exponents (alpha, beta) "
            f"[{best.message}]; the runs may not span enough model sizes and token counts"
        )
    law = law_from_theta(theta, name, source)
    pred = np.log(
        law.E
        + law.A * np.exp(-law.alpha * runs.log_params)
        + law.B * np.exp(-law.beta * runs.log_tokens)
    )
    rmse = float(np.sqrt(np.mean((pred - runs.log_loss) ** 2)))
    return ParametricFit(
        law,
        theta,
        best.objective,
        best.converged,
        best.message,
        best.iterations,
        len(runs.log_loss),
        rmse,
        start,
        polished,
        delta,
        constraints or Constraints(),
        found,
    )


def fit_plain_loop(
    params: np.ndarray, tokens: np.ndarray, loss: np.ndarray, delta: float = HUBER_DELTA
) -> ParametricFit:
    """The unaccelerated recipe: L-BFGS-B from all 4,500 starts. For benchmarks."""
    runs = LogRuns.of(params, tokens, loss)
    grid = paper_grid()
    results = [polish(s, runs, delta, plain=True) for s in grid]
    i = int(np.argmin([p.objective for p in results]))
    return _result(results[i], grid[i], len(grid), runs, delta, "plain-loop", "")


def bootstrap_parametric(
    fit: ParametricFit,
    params: np.ndarray,
    tokens: np.ndarray,
    loss: np.ndarray,
    resamples: int,
    seed: int = SEED,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Refit on `resamples` bootstrap resamples of the runs; rows of (E, A, B, alpha, beta).

    A resample is the runs drawn with replacement, i.e. the same runs with integer
    weights (how often each was drawn), so the objective is a weighted sum. Each refit
    is warm-started from the full fit's optimum, keeps its constraints, and is polished
    to convergence, which matches a full 4,500-start refit (tests check this) at a
    fraction of the cost. The refits run as one batch per chunk of resamples."""
    runs = LogRuns.of(params, tokens, loss)
    n = len(loss)
    rng = np.random.default_rng(seed)
    weights = np.empty((resamples, n))
    for k in range(resamples):  # drawn one by one: the same resamples whatever the chunking
        weights[k] = np.bincount(rng.integers(0, n, n), minlength=n)
    out = np.empty((resamples, 5))
    chunk = max(1, min(64, SCREEN_CELLS // max(n, 1)))
    for i in range(0, resamples, chunk):
        w = weights[i : i + chunk]
        starts = np.repeat(fit.theta[None, :], len(w), axis=0)
        found = polish_many(starts, runs, fit.huber_delta, fit.constraints, row_weights=w)
        for k, p in enumerate(found):
            a, b, e, alpha, beta = p.theta
            out[i + k] = (math.exp(e), math.exp(a), math.exp(b), alpha, beta)
        if progress is not None:
            progress(i + len(w))
    return out
