"""The bootstrap when a run gives several points (a training log read with `reduce`
none): resample runs, not rows.

Checkpoints of one run share its model, data order and schedule, so their errors are
correlated; resampling them one by one would treat 40 checkpoints as 40 independent runs
and make the intervals far too narrow. A resample here draws whole runs with
replacement, and every point of a run drawn twice counts twice.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from chinchilla_cli.approach3 import ParametricFit
from chinchilla_cli.fit_defaults import SEED
from chinchilla_cli.grid_search import polish
from chinchilla_cli.objective import LogRuns


def run_groups(groups: np.ndarray) -> np.ndarray:
    """The run of each point as 0..runs-1 (filters may have removed some runs)."""
    return np.unique(np.asarray(groups), return_inverse=True)[1].reshape(-1)


def bootstrap_parametric_by_run(
    fit: ParametricFit,
    params: np.ndarray,
    tokens: np.ndarray,
    loss: np.ndarray,
    groups: np.ndarray,
    resamples: int,
    seed: int = SEED,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Rows of (E, A, B, alpha, beta), each refitted on runs drawn with replacement.

    As approach3.bootstrap_parametric does for one point per run, a resample is the same
    points with integer weights (how often each point's run was drawn), and each refit
    is warm-started from the full fit's optimum and polished to convergence.
    """
    runs = LogRuns.of(params, tokens, loss)
    group = run_groups(groups)
    n_runs = int(group.max()) + 1
    rng = np.random.default_rng(seed)
    out = np.empty((resamples, 5))
    for k in range(resamples):
        drawn = np.bincount(rng.integers(0, n_runs, n_runs), minlength=n_runs)
        best = polish(fit.theta, runs.reweighted(drawn[group].astype(float)), fit.huber_delta)
        a, b, e, alpha, beta = best.theta
        out[k] = (math.exp(e), math.exp(a), math.exp(b), alpha, beta)
        if progress is not None:
            progress(k + 1)
    return out
