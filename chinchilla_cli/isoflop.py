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
from chinchilla_cli.fit_defaults import FLOPS_TOLERANCE as DEFAULT_FLOPS_TOLERANCE
from chinchilla_cli.fit_defaults import SEED
from chinchilla_cli.laws import tokens_for
from chinchilla_cli.quantity import sci

MIN_SIZES = 3
POOR_R_SQUARED = 0.9  # a budget's parabola explaining less of its losses is flagged


@dataclass(frozen=True)
class BudgetMinimum:
    """One FLOP budget of Approach 2: its runs' parabola of loss in log N, and the
    vertex, N_opt(C), with how well the parabola fits."""

    flops: float  # geometric mean of the group's budgets
    n_runs: int
    params: float  # vertex of the parabola: N_opt(C)
    tokens: float  # C / (6 N_opt)
    loss: float  # the parabola's value at its vertex
    inside: bool  # the vertex lies within the sampled sizes (not extrapolated)
    # loss = c2 (ln N)^2 + c1 ln N + c0 over the sampled sizes, for the figure
    parabola: tuple[float, float, float] = (0.0, 0.0, 0.0)
    sampled_params: tuple[float, float] = (0.0, 0.0)
    # how well the parabola fits the budget's runs: R^2, the residual standard error
    # (the noise: RMSE over n - 3 degrees of freedom; 0 with exactly 3 runs), and the best
    # run, whose loss the parabola's minimum should not exceed by more than the noise
    r_squared: float = math.nan
    rmse: float = math.nan
    best_loss: float = math.nan
    best_params: float = math.nan
    poor: str | None = None  # why the parabola fits poorly, or None

    def to_dict(self) -> dict[str, Any]:
        def num(x: float) -> float | None:
            return None if math.isnan(x) else x

        return {
            "flops": self.flops,
            "n_runs": self.n_runs,
            "params": self.params,
            "tokens": self.tokens,
            "loss": self.loss,
            "inside_sampled_range": self.inside,
            "r_squared": num(self.r_squared),
            "rmse": num(self.rmse),
            "best_observed_loss": num(self.best_loss),
            "best_observed_params": num(self.best_params),
            "poor_fit": self.poor is not None,
            "poor_fit_reason": self.poor,
        }


@dataclass(frozen=True)
class IsoflopFit:
    """Approach 2's result: each budget's minimum, and the power laws through them,
    N_opt = k C^a and D_opt = k' C^b."""

    minima: tuple[BudgetMinimum, ...]
    a: float
    k: float  # N_opt = k C^a
    b: float
    k_tokens: float  # D_opt = k_tokens C^b
    n_runs: int
    warnings: tuple[str, ...]

    def optimal_params(self, flops: float) -> float:
        params: float = self.k * flops**self.a
        return params

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
    vertex = float(p0 - p1**2 / (4 * p2))
    resid = loss - np.polyval((p2, p1, p0), x)
    spread = float(np.sum((loss - loss.mean()) ** 2))
    r_squared = 1.0 - float(np.sum(resid**2)) / spread if spread > 0 else 1.0
    dof = len(x) - MIN_SIZES
    rmse = float(np.sqrt(np.sum(resid**2) / dof)) if dof > 0 else 0.0
    best = int(np.argmin(loss))
    best_loss = float(loss[best])
    gap = vertex - best_loss
    # the best of n runs sits below the curve by about rmse sqrt(2 ln n) by chance alone
    # (the expected largest of n normal deviations); a wider gap is the parabola's misfit
    noise = rmse * math.sqrt(2 * math.log(len(x)))
    reasons = []
    if r_squared < POOR_R_SQUARED:
        reasons.append(f"R^2 {r_squared:.2f} < {POOR_R_SQUARED:g}")
    if gap > noise + 1e-12:
        reasons.append(
            f"its minimum {vertex:.4f} lies {gap:.2g} above the best run's loss "
            f"{best_loss:.4f}, more than the noise {noise:.2g}"
        )
    return BudgetMinimum(
        c,
        len(x),
        n_opt,
        tokens_for(c, n_opt),
        vertex,
        inside,
        (float(p2), float(p1), float(p0)),
        (float(params.min()), float(params.max())),
        r_squared=r_squared,
        rmse=rmse,
        best_loss=best_loss,
        best_params=float(params[best]),
        poor="; ".join(reasons) or None,
    )


def fit_isoflop(
    params: np.ndarray,
    flops: np.ndarray,
    loss: np.ndarray,
    tolerance: float = DEFAULT_FLOPS_TOLERANCE,
) -> IsoflopFit:
    """Approach 2 on these runs: group them into budgets (C within `tolerance`), take
    each budget's parabola minimum, fit the power laws through the minima. Raises
    FitError when fewer than two budgets give a minimum."""
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
        if found.poor is not None:
            warnings.append(
                f"budget {sci(found.flops)} FLOPs: the parabola fits its runs poorly "
                f"({found.poor}); its N_opt is unreliable: add sizes near the optimum"
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
    seed: int = SEED,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Rows of (a, b, k, k_tokens) from a residual bootstrap within each budget.

    The sizes of an IsoFLOP sweep are its design, so they stay: a resample gives each
    budget its parabola's losses plus its residuals drawn with replacement (scaled by
    sqrt(n / (n - 3)) for the three fitted coefficients; a budget of exactly 3 sizes,
    which has none, draws from the other budgets' residuals). Drawing the runs instead
    left many resamples without a budget's smallest or largest sizes: that budget's
    vertex then moved or was extrapolated, or the budget was dropped, which gave `a` a
    long one-sided tail that the runs' noise does not. Failed resamples are skipped."""
    labels = group_budgets(flops, tolerance)
    x = np.log(params)
    fitted = np.array(loss, dtype=float)
    scaled: dict[int, np.ndarray] = {}
    groups = []
    for g in range(labels.max() + 1):
        idx = np.flatnonzero(labels == g)
        if len(np.unique(np.round(x[idx], 9))) < MIN_SIZES:
            continue  # the full fit skips this budget too; its runs stay as they are
        fitted[idx] = np.polyval(np.polyfit(x[idx], loss[idx], 2), x[idx])
        if len(idx) > MIN_SIZES:
            resid = loss[idx] - fitted[idx]
            scaled[g] = resid * math.sqrt(len(idx) / (len(idx) - MIN_SIZES))
        groups.append((g, idx))
    if not scaled:
        raise FitError(
            f"the bootstrap needs a budget with more than {MIN_SIZES} sizes: a parabola "
            "through exactly 3 points leaves no residuals to estimate the noise from"
        )
    pooled = np.concatenate(list(scaled.values()))
    rng = np.random.default_rng(seed)
    out = []
    for k in range(resamples):
        y = np.array(loss, dtype=float)
        for g, idx in groups:
            y[idx] = fitted[idx] + rng.choice(scaled.get(g, pooled), len(idx))
        try:
            f = fit_isoflop(params, flops, y, tolerance)
        except FitError:
            continue
        out.append((f.a, f.b, f.k, f.k_tokens))
        if progress is not None:
            progress(k + 1)
    return np.array(out).reshape(-1, 4)
