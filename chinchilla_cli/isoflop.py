"""Approach 2 of Hoffmann et al. 2022: IsoFLOP profiles.

Group the runs by FLOP budget, fit a parabola of loss against log N within each budget,
take its vertex as N_opt(C), then fit the power laws N_opt = k C^a and D_opt = k' C^b
(D_opt = C / (6 N_opt), so b = 1 - a).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from chinchilla_cli.errors import FitError
from chinchilla_cli.fit_defaults import FLOPS_TOLERANCE as DEFAULT_FLOPS_TOLERANCE  # noqa: E402
from chinchilla_cli.laws import tokens_for

MIN_SIZES = 3


@dataclass(frozen=True)
class BudgetMinimum:
    flops: float  # geometric mean of the group's budgets
    n_runs: int
    params: float  # vertex of the parabola: N_opt(C)
    tokens: float  # C / (6 N_opt)
    loss: float  # the parabola's value at its vertex
    inside: bool  # the vertex lies within the sampled sizes (not extrapolated)
    # loss = c2 (ln N)^2 + c1 ln N + c0 over the sampled sizes, for the figure
    parabola: tuple[float, float, float] = (0.0, 0.0, 0.0)
    sampled_params: tuple[float, float] = (0.0, 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "flops": self.flops,
            "n_runs": self.n_runs,
            "params": self.params,
            "tokens": self.tokens,
            "loss": self.loss,
            "inside_sampled_range": self.inside,
        }


@dataclass(frozen=True)
class IsoflopFit:
    minima: tuple[BudgetMinimum, ...]
    a: float
    k: float  # N_opt = k C^a
    b: float
    k_tokens: float  # D_opt = k_tokens C^b
    n_runs: int
    warnings: tuple[str, ...]

    def optimal_params(self, flops: float) -> float:
        return self.k * flops**self.a

    def to_dict(self) -> dict[str, Any]:
        return {
            "minima": [m.to_dict() for m in self.minima],
            "frontier": {"a": self.a, "b": self.b, "k": self.k, "k_tokens": self.k_tokens},
        }


def group_budgets(flops: np.ndarray, tolerance: float = DEFAULT_FLOPS_TOLERANCE) -> np.ndarray:
    """A budget label per run: sorted by C, a new group starts when C exceeds the
    group's smallest by more than the tolerance."""
    order = np.argsort(flops, kind="stable")
    labels = np.empty(len(flops), dtype=int)
    label, first = -1, -math.inf
    for i in order:
        if flops[i] > first * (1.0 + tolerance):
            label, first = label + 1, flops[i]
        labels[i] = label
    return labels


def budget_minimum(params: np.ndarray, flops: np.ndarray, loss: np.ndarray) -> BudgetMinimum | str:
    """The parabola's vertex for one budget, or why there is none."""
    c = float(np.exp(np.mean(np.log(flops))))
    x = np.log(params)
    if len(np.unique(np.round(x, 9))) < MIN_SIZES:
        return f"budget {c:.3g} FLOPs has fewer than {MIN_SIZES} model sizes; skipped"
    p2, p1, p0 = np.polyfit(x, loss, 2)
    if p2 <= 0:
        return f"budget {c:.3g} FLOPs: loss against log N is not convex (no minimum); skipped"
    x_opt = -p1 / (2 * p2)
    n_opt = float(np.exp(x_opt))
    inside = bool(x.min() <= x_opt <= x.max())
    return BudgetMinimum(
        c,
        len(x),
        n_opt,
        tokens_for(c, n_opt),
        float(p0 - p1**2 / (4 * p2)),
        inside,
        (float(p2), float(p1), float(p0)),
        (float(params.min()), float(params.max())),
    )


def fit_isoflop(
    params: np.ndarray,
    flops: np.ndarray,
    loss: np.ndarray,
    tolerance: float = DEFAULT_FLOPS_TOLERANCE,
) -> IsoflopFit:
    labels = group_budgets(flops, tolerance)
    minima, warnings = [], []
    for g in range(labels.max() + 1):
        m = labels == g
        found = budget_minimum(params[m], flops[m], loss[m])
        if isinstance(found, str):
            warnings.append(found)
            continue
        if not found.inside:
            warnings.append(
                f"budget {found.flops:.3g} FLOPs: the minimum lies outside the sampled "
                "sizes (extrapolated); centre the sweep on the optimum"
            )
        minima.append(found)
    if len(minima) < 2:
        raise FitError(
            f"IsoFLOP fit needs at least 2 budgets with {MIN_SIZES}+ model sizes each; found "
            f"{len(minima)} (budgets group runs whose FLOPs agree within {tolerance:.0%}; "
            "see `flops_tolerance`)"
        )
    c = np.log([m.flops for m in minima])
    a, log_k = np.polyfit(c, np.log([m.params for m in minima]), 1)
    b, log_kt = np.polyfit(c, np.log([m.tokens for m in minima]), 1)
    if not (0 < a < 1 and 0 < b < 1):
        warnings.append(
            f"the fitted exponents a = {a:.3g}, b = {b:.3g} lie outside (0, 1): N_opt or "
            "D_opt would shrink as compute grows; check the budgets' grouping "
            "(`flops_tolerance`) and the sweep's centring"
        )
    return IsoflopFit(
        tuple(minima),
        float(a),
        float(np.exp(log_k)),
        float(b),
        float(np.exp(log_kt)),
        len(loss),
        tuple(warnings),
    )


def bootstrap_isoflop(
    params: np.ndarray,
    flops: np.ndarray,
    loss: np.ndarray,
    resamples: int,
    tolerance: float = DEFAULT_FLOPS_TOLERANCE,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Rows of (a, b, k, k_tokens), resampling runs with replacement within each budget
    (so every budget keeps its number of runs). Degenerate resamples are skipped."""
    labels = group_budgets(flops, tolerance)
    groups = [np.flatnonzero(labels == g) for g in range(labels.max() + 1)]
    rng = np.random.default_rng(seed)
    out = []
    for k in range(resamples):
        idx = np.concatenate([rng.choice(g, len(g)) for g in groups])
        try:
            f = fit_isoflop(params[idx], flops[idx], loss[idx], tolerance)
        except FitError:
            continue
        out.append((f.a, f.b, f.k, f.k_tokens))
        if progress is not None:
            progress(k + 1)
    return np.array(out).reshape(-1, 4)
