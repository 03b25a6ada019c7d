"""Chinchilla's law refitted on many subsets of the runs at once, for the audit
(audit.py): every subset is a row of weights (0 for the runs it leaves out), and every
start of every subset goes through one batch of the trust-region Newton solver.

Each subset starts from the full fit's optimum and from the best REFIT_STARTS of a
coarse grid (COARSE_AXES, 243 starts of the paper's ranges, screened on the subset's
runs): cheaper than the paper's 4,500 starts, and a subset of small budgets, whose
optimum may lie far from the full fit's, still gets starts of its own.
"""

from __future__ import annotations

import itertools

import numpy as np

from chinchilla_cli.approach3 import MIN_EXPONENT, ParametricFit
from chinchilla_cli.audit import Refit
from chinchilla_cli.grid_search import polish_many
from chinchilla_cli.objective import LogRuns, objective_many

COARSE_AXES = {  # a coarse grid within the paper's ranges (appendix D.2)
    "a": (0.0, 10.0, 20.0),
    "b": (0.0, 10.0, 20.0),
    "e": (-1.0, 0.0, 1.0),
    "alpha": (0.25, 0.5, 1.0),
    "beta": (0.25, 0.5, 1.0),
}
REFIT_STARTS = 3  # the coarse grid's best starts polished per subset, beside the warm start
REFIT_WORDS = (
    f"each refit from the full fit's optimum and the best {REFIT_STARTS} of a coarse "
    f"{np.prod([len(v) for v in COARSE_AXES.values()])}-start grid, screened on its runs"
)


def coarse_grid() -> np.ndarray:
    """The coarse grid's starts, columns (a, b, e, alpha, beta)."""
    return np.array(list(itertools.product(*COARSE_AXES.values())))


def predict_log_loss(theta: np.ndarray, runs: LogRuns) -> np.ndarray:
    """log L of Chinchilla's law at rows theta (k x 5), for every run (k x n)."""
    th = np.atleast_2d(theta)
    t1 = th[:, 0:1] - th[:, 3:4] * runs.log_params[None, :]
    t2 = th[:, 1:2] - th[:, 4:5] * runs.log_tokens[None, :]
    out: np.ndarray = np.logaddexp(np.logaddexp(t1, t2), th[:, 2:3])
    return out


def refitter(fit: ParametricFit, runs: LogRuns) -> Refit:
    """The audit's `Refit` for Chinchilla's law: same delta and constraints as `fit`."""

    def refit(masks: np.ndarray) -> np.ndarray:
        cons = fit.constraints
        grid = cons.apply(coarse_grid())
        if cons:
            grid = np.unique(grid, axis=0)
        starts, weights = [], []
        for mask in masks:
            w = mask.astype(float)
            values = objective_many(grid, runs.reweighted(w), fit.huber_delta)
            best = grid[np.argsort(values, kind="stable")[:REFIT_STARTS]]
            for s in (fit.theta[None, :], best):
                starts.append(s)
                weights.append(np.repeat(w[None, :], len(s), axis=0))
        found = polish_many(
            np.vstack(starts), runs, fit.huber_delta, cons, row_weights=np.vstack(weights)
        )
        per = 1 + min(REFIT_STARTS, len(grid))
        out = np.full((len(masks), len(runs.log_loss)), np.nan)
        for i in range(len(masks)):
            ok = [
                p
                for p in found[i * per : (i + 1) * per]
                if p.converged
                and np.all(np.isfinite(p.theta))
                and min(p.theta[3:5]) >= MIN_EXPONENT
            ]
            if ok:
                best_p = min(ok, key=lambda p: p.objective)
                out[i] = predict_log_loss(best_p.theta, runs)[0]
        return out

    return refit
