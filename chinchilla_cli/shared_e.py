"""One E shared by several groups of runs: each group i fitted as E + A_i/N^alpha_i +
B_i/D^beta_i with a single irreducible loss E for all (a change to the model should not
move the entropy of text), its refits and its bootstrap. The joint problem is the same
trust-region Newton iteration (newton.py) over one `Part` per group: psi holds each
group's (a', b', alpha', beta') and then the shared e.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from chinchilla_cli.approach3 import ParametricFit
from chinchilla_cli.errors import FitError, InputError
from chinchilla_cli.fit_constraints import Constraints
from chinchilla_cli.fit_defaults import HUBER_DELTA, SEED
from chinchilla_cli.grid_search import best_of_grid
from chinchilla_cli.laws import ParametricLaw
from chinchilla_cli.newton import Minima, Part, minimise
from chinchilla_cli.objective import (
    SCREEN_CELLS,
    Frame,
    LogRuns,
    RunsLike,
    as_log_runs,
    law_from_theta,
    scaled_value,
)


@dataclass(frozen=True)
class SharedFit:
    """A joint fit of several groups of runs sharing one irreducible loss E.

    `laws[i]` is group i's law (E the same in all); `objective` the summed Huber
    objective over every group's runs at the joint optimum, `objectives[i]` each group's
    part of it; `separate` the sum of the groups' own unconstrained optima, so
    `objective - separate` >= 0 is what sharing E costs."""

    laws: tuple[ParametricLaw, ...]
    thetas: tuple[np.ndarray, ...]
    objective: float
    objectives: tuple[float, ...]
    separate: float
    converged: bool
    huber_delta: float

    @property
    def E(self) -> float:
        return self.laws[0].E

    def to_dict(self) -> dict[str, Any]:
        return {
            "E": self.E,
            "laws": [law.parameters() for law in self.laws],
            "objective": self.objective,
            "objectives": list(self.objectives),
            "separate_objective": self.separate,
            "converged": self.converged,
            "huber_delta": self.huber_delta,
        }


def fit_shared_e(
    groups: Sequence[LogRuns | RunsLike],
    *,
    delta: float = HUBER_DELTA,
    names: Sequence[str] | None = None,
) -> SharedFit:
    """Fit E + A_i/N^alpha_i + B_i/D^beta_i to each group i of runs, with one E for all.

    `groups` are LogRuns or tables with `params`, `tokens` and `loss` arrays (`runs.Runs`);
    at least two. Minimises the sum of every group's Huber objective over the 4k + 1
    parameters by the same trust-region Newton method, started from each group's own
    fit with E fixed, for E at each group's own optimum and at their geometric mean, and
    keeps the best. Raises InputError for fewer than two groups, FitError when no start
    gives every group positive exponents."""
    logs = [as_log_runs(g) for g in groups]
    if len(logs) < 2:
        raise InputError("a shared E needs at least two groups of runs", field="groups")
    k = len(logs)
    labels = list(names) if names is not None else [f"group{i + 1}" for i in range(k)]
    own = [best_of_grid(lr, delta)[0] for lr in logs]
    separate = sum(p.objective for p in own)
    es = [p.theta[2] for p in own]
    candidates = sorted({*map(float, es), float(np.mean(es))})
    parts, starts = _shared_parts(logs), []
    for e in candidates:
        cons = Constraints(fixed=(("E", math.exp(e)),))
        psi = np.empty(4 * k + 1)
        for i, lr in enumerate(logs):
            th = best_of_grid(lr, delta, constraints=cons)[0].theta
            std = parts[i].frame.to_std @ th
            psi[4 * i : 4 * i + 4] = std[[0, 1, 3, 4]]
        psi[-1] = e
        starts.append(psi)
    found = minimise(np.array(starts), parts, delta)
    return _shared_result(found, parts, labels, separate, delta)


def _shared_result(
    found: Minima, parts: Sequence[Part], labels: Sequence[str], separate: float, delta: float
) -> SharedFit:
    """The best of the joint starts `found` as a SharedFit, each group's law and objective."""
    j = int(np.argmin(np.where(np.isfinite(found.f), found.f, np.inf)))
    psi = found.psi[j]
    thetas = tuple(_shared_thetas(psi, parts))
    if any(t[3] <= 0 or t[4] <= 0 or not np.all(np.isfinite(t)) for t in thetas):
        raise FitError("the shared-E fit did not find positive exponents for every group")
    per_group = tuple(
        float(scaled_value((p.q @ psi)[None, :], p.frame, delta, p.frame.weights)[0][0]) * delta
        for p in parts
    )
    laws = tuple(law_from_theta(t, name) for t, name in zip(thetas, labels, strict=True))
    return SharedFit(
        laws,
        thetas,
        float(found.f[j]) * delta,
        per_group,
        separate,
        bool(found.converged[j]),
        delta,
    )


def _shared_parts(logs: Sequence[LogRuns]) -> list[Part]:
    """The joint problem of `fit_shared_e`: psi = (a', b', alpha', beta') per group, then e."""
    k = len(logs)
    parts = []
    for i, lr in enumerate(logs):
        q = np.zeros((5, 4 * k + 1))
        for j, row in enumerate((0, 1, 3, 4)):
            q[row, 4 * i + j] = 1.0
        q[2, 4 * k] = 1.0
        parts.append(Part(Frame.of(lr), q, np.zeros(5)))
    return parts


def _shared_start(fit: SharedFit, parts: Sequence[Part]) -> np.ndarray:
    """The joint optimum of `fit` in the coordinates of `parts` (their own frames)."""
    psi = np.empty(4 * len(parts) + 1)
    for i, (theta, part) in enumerate(zip(fit.thetas, parts, strict=True)):
        psi[4 * i : 4 * i + 4] = (part.frame.to_std @ theta)[[0, 1, 3, 4]]
    psi[-1] = fit.thetas[0][2]
    return psi


def _shared_thetas(psi: np.ndarray, parts: Sequence[Part]) -> list[np.ndarray]:
    return [np.linalg.solve(p.frame.to_std, p.q @ psi + p.c) for p in parts]


def shared_e_from(
    fits: Sequence[ParametricFit],
    groups: Sequence[LogRuns | RunsLike],
    *,
    names: Sequence[str] | None = None,
) -> SharedFit:
    """`fit_shared_e` for groups already fitted on their own (`fits[i]` is group i's
    unconstrained fit): the joint Newton iteration started from each group's own optimum
    with E moved to each group's own E, their geometric mean and a little beyond both
    ends, instead of a constrained grid search per group and E. The same optimum as
    `fit_shared_e` on the tests' groups, at a small fraction of the cost. Raises
    InputError for fewer than two groups or constrained fits, FitError as
    `fit_shared_e` does."""
    logs = [as_log_runs(g) for g in groups]
    if len(logs) < 2 or len(fits) != len(logs):
        raise InputError("a shared E needs at least two groups of runs", field="groups")
    if any(f.constraints for f in fits):
        raise InputError("the shared-E fit takes no `fix` or `tie`", field="groups")
    delta = fits[0].huber_delta
    labels = list(names) if names is not None else [f"group{i + 1}" for i in range(len(logs))]
    parts = _shared_parts(logs)
    es = [float(f.theta[2]) for f in fits]
    spread = max(es) - min(es)
    candidates = sorted({*es, float(np.mean(es)), min(es) - 0.5 * spread - 0.01, max(es) + 0.01})
    starts = []
    for e in candidates:
        psi = np.empty(4 * len(logs) + 1)
        for i, (f, part) in enumerate(zip(fits, parts, strict=True)):
            psi[4 * i : 4 * i + 4] = (part.frame.to_std @ f.theta)[[0, 1, 3, 4]]
        psi[-1] = e
        starts.append(psi)
    found = minimise(np.array(starts), parts, delta)
    return _shared_result(found, parts, labels, float(sum(f.objective for f in fits)), delta)


def refit_shared_e(
    fit: SharedFit, groups: Sequence[LogRuns | RunsLike]
) -> tuple[ParametricLaw, ...]:
    """The shared-E fit on other runs of the same groups (a subset, or LogRuns carrying
    weights), warm-started at `fit`'s optimum; each group's law. Raises FitError when a
    group's exponents do not stay positive."""
    parts = _shared_parts([as_log_runs(g) for g in groups])
    found = minimise(_shared_start(fit, parts)[None, :], parts, fit.huber_delta)
    thetas = _shared_thetas(found.psi[0], parts)
    if any(t[3] <= 0 or t[4] <= 0 or not np.all(np.isfinite(t)) for t in thetas):
        raise FitError("the shared-E refit did not find positive exponents for every group")
    return tuple(law_from_theta(t, law.name) for t, law in zip(thetas, fit.laws, strict=True))


def bootstrap_shared_e(
    fit: SharedFit,
    groups: Sequence[LogRuns | RunsLike],
    resamples: int,
    seed: int = SEED,
    progress: Callable[[int], None] | None = None,
    units: Sequence[np.ndarray | None] | None = None,
) -> np.ndarray:
    """The shared-E fit refitted on `resamples` bootstrap resamples; an array of shape
    (resamples, groups, 5), rows (E, A, B, alpha, beta) (E the same across a resample's
    groups). Each group's runs are drawn with replacement on their own (groups are
    independent samples), as integer weights; `units[i]` gives the run of each point of
    group i when a run gives several (whole runs are drawn). Each refit is warm-started
    at the full fit's optimum and polished to convergence, the resamples in batches: every
    part holds all groups' runs, its own weighted 1 and the others 0, so that one row of
    weights per resample serves every part."""
    logs = [as_log_runs(g) for g in groups]
    sizes = [len(lr.log_loss) for lr in logs]
    edges = np.concatenate([[0], np.cumsum(sizes)])
    every = LogRuns(
        *(
            np.concatenate([getattr(lr, k) for lr in logs])
            for k in ("log_params", "log_tokens", "log_loss")
        )
    )
    parts = []
    for i, part in enumerate(_shared_parts(logs)):
        mine = np.zeros(int(edges[-1]))
        mine[edges[i] : edges[i + 1]] = 1.0
        parts.append(replace(part, frame=Frame.of(every.reweighted(mine))))
    start = _shared_start(fit, parts)
    unit = [
        np.arange(n) if units is None or units[i] is None else np.asarray(units[i])
        for i, n in enumerate(sizes)
    ]
    rng = np.random.default_rng(seed)
    weights = np.empty((resamples, int(edges[-1])))
    for k in range(resamples):  # drawn one by one: the same resamples whatever the chunking
        for i, u in enumerate(unit):
            n = int(u.max()) + 1
            weights[k, edges[i] : edges[i + 1]] = np.bincount(rng.integers(0, n, n), minlength=n)[u]
    out = np.empty((resamples, len(logs), 5))
    chunk = max(1, min(64, SCREEN_CELLS // max(int(edges[-1]) * len(logs), 1)))
    for lo in range(0, resamples, chunk):
        w = weights[lo : lo + chunk]
        found = minimise(np.repeat(start[None, :], len(w), axis=0), parts, fit.huber_delta, w)
        for k, psi in enumerate(found.psi):
            for i, theta in enumerate(_shared_thetas(psi, parts)):
                a, b, e, alpha, beta = theta
                out[lo + k, i] = (math.exp(e), math.exp(a), math.exp(b), alpha, beta)
        if progress is not None:
            progress(lo + len(w))
    return out
