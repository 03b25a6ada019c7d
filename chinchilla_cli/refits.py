"""Chinchilla's law refitted on many subsets of the runs at once, for the audit
(audit.py): every subset is a row of weights (0 for the runs it leaves out), and every
start of every subset goes through one batch of the trust-region Newton solver.

Each subset starts from the full fit's optimum; one of less than WARM_ONLY_SHARE of the
runs (an ordered cut on the smallest budgets, whose optimum may lie far from the full
fit's) also from the best REFIT_STARTS of a coarse grid (COARSE_AXES, 243 starts of the
paper's ranges, screened on the subset's runs): cheaper than the paper's 4,500 starts.
"""

from __future__ import annotations

import itertools

import numpy as np

from chinchilla_cli.approach3 import MIN_EXPONENT, ParametricFit
from chinchilla_cli.audit import Coverage
from chinchilla_cli.calibration import score_new_runs, z_of
from chinchilla_cli.errors import InputError
from chinchilla_cli.grid_search import Polished, polish_many, screen_runs
from chinchilla_cli.objective import LogRuns, law_from_theta, objective_many

COARSE_AXES = {  # a coarse grid within the paper's ranges (appendix D.2)
    "a": (0.0, 10.0, 20.0),
    "b": (0.0, 10.0, 20.0),
    "e": (-1.0, 0.0, 1.0),
    "alpha": (0.25, 0.5, 1.0),
    "beta": (0.25, 0.5, 1.0),
}
REFIT_STARTS = 3  # the coarse grid's best starts polished per subset, beside the warm start
WARM_ONLY_SHARE = 0.8  # a subset of this share of the points or more: the warm start alone
REFIT_WORDS = (
    f"each refit from the full fit's optimum, and (fitted on less than "
    f"{WARM_ONLY_SHARE:.0%} of the runs) the best {REFIT_STARTS} of a coarse "
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


def refitter(fit: ParametricFit, runs: LogRuns) -> Refits:
    """The audit's `Refit` for Chinchilla's law: same delta and constraints as `fit`."""
    return Refits(fit, runs)


class Refits:
    """Chinchilla's law refitted on subsets (`__call__`, the audit's `Refit`), each
    subset's law kept so that `coverage` can score a new run's interval on the runs it
    left out."""

    def __init__(self, fit: ParametricFit, runs: LogRuns) -> None:
        self.fit, self.runs = fit, runs
        self.thetas: dict[int, np.ndarray] = {}  # each subset's refit, by its row in masks

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        fit, runs, cons = self.fit, self.runs, self.fit.constraints
        grid = cons.apply(coarse_grid())
        if cons:
            grid = np.unique(grid, axis=0)
        starts, weights, owner = [], [], []
        for i, mask in enumerate(masks):
            w = mask.astype(float)
            rows = [fit.theta[None, :]]
            if w.mean() < WARM_ONLY_SHARE:  # far from the full fit: screened starts too
                values = objective_many(grid, screen_runs(runs.reweighted(w)), fit.huber_delta)
                rows.append(grid[np.argsort(values, kind="stable")[:REFIT_STARTS]])
            for s in rows:
                starts.append(s)
                weights.append(np.repeat(w[None, :], len(s), axis=0))
                owner += [i] * len(s)
        found = polish_many(
            np.vstack(starts), runs, fit.huber_delta, cons, row_weights=np.vstack(weights)
        )
        best: dict[int, Polished] = {}
        for i, p in zip(owner, found, strict=True):
            usable = (
                p.converged and np.all(np.isfinite(p.theta)) and min(p.theta[3:5]) >= MIN_EXPONENT
            )
            if usable and (i not in best or p.objective < best[i].objective):
                best[i] = p
        self.thetas = {i: p.theta for i, p in best.items()}
        out = np.full((len(masks), len(runs.log_loss)), np.nan)
        for i, p in best.items():
            out[i] = predict_log_loss(p.theta, runs)[0]
        return out

    def coverage(self, level: float, groups: np.ndarray | None = None) -> Coverage | None:
        """The audit's `Coverage`: the share of a subset's left-out runs inside their
        `level`% new-run interval under that subset's law (calibration.py's linearised
        interval), None where the refit failed or left no residual degree of freedom.
        None with `groups` (a training log's run of each point): checkpoints share their
        run's noise, so no honest count of runs inside is possible."""
        if groups is not None:
            return None
        z = z_of(level)
        columns = [np.exp(self.runs.log_params), np.exp(self.runs.log_tokens)]
        columns.append(np.exp(self.runs.log_loss))

        def share(fold: int, train: np.ndarray, held: np.ndarray) -> float | None:
            theta = self.thetas.get(fold)
            if theta is None or not held.any():
                return None
            fitted = (columns[0][train], columns[1][train], columns[2][train])
            left = (columns[0][held], columns[1][held], columns[2][held])
            try:
                covered = score_new_runs(law_from_theta(theta), fitted, left, z)[0]
            except InputError:  # as many parameters as runs: no noise to estimate
                return None
            return covered / int(held.sum())

        return share
