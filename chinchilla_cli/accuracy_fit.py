"""The accuracy fit: the sigmoid of accuracy.py fitted to runs' observed loss and task
metric (Levenberg-Marquardt in numpy from a grid of starts), with bootstrap refits paired
with the law's (same resamples), for `fit`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from chinchilla_cli.accuracy import AccuracyFit, Sample, logistic
from chinchilla_cli.errors import FitError, InputError
from chinchilla_cli.fit_defaults import SEED
from chinchilla_cli.metrics import several_columns_warning

if TYPE_CHECKING:
    from chinchilla_cli.laws import ParametricLaw
    from chinchilla_cli.runs import Runs

_Floats = NDArray[np.float64]
MIN_POINTS = 6  # four parameters, and two points to spare


def _unpack(theta: Sequence[float]) -> Sample:
    """(u, v, k, L0) -> (a, k, L0, b): b = s(u), a = (1 - b) s(v), so a > 0, b >= 0 and
    a + b <= 1 hold whatever the optimiser does."""
    u, v, k, L0 = (float(x) for x in theta)
    b = logistic(u)
    return (1.0 - b) * logistic(v), k, L0, b


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def _pack(a: float, k: float, L0: float, b: float) -> list[float]:
    b = min(max(b, 1e-6), 1 - 1e-6)
    return [_logit(b), _logit(a / (1 - b)), k, L0]


def _residuals(theta: _Floats, loss: _Floats, y: _Floats, sw: _Floats) -> tuple[_Floats, _Floats]:
    """Weighted residuals (prediction - y) and their Jacobian in (u, v, k, L0)."""
    u, v, k, L0 = theta
    b = 0.5 * (1 + np.tanh(0.5 * u))
    sv = 0.5 * (1 + np.tanh(0.5 * v))
    a = (1 - b) * sv
    s = 0.5 * (1 + np.tanh(0.5 * k * (loss - L0)))
    ds = s * (1 - s)
    r = (a * s + b - y) * sw
    jac = np.column_stack(
        [
            b * (1 - b) * (1 - s * sv),
            (1 - b) * sv * (1 - sv) * s,
            a * ds * (loss - L0),
            -a * ds * k,
        ]
    )
    return r, jac * sw[:, None]


@dataclass(frozen=True)
class _Solution:
    theta: list[float]
    sse: float
    converged: bool
    iterations: int
    why: str


def _levenberg_marquardt(
    theta0: Sequence[float], loss: _Floats, y: _Floats, sw: _Floats, max_iter: int = 400
) -> _Solution:
    """Least squares by Levenberg-Marquardt with Marquardt's diagonal scaling."""
    theta = np.asarray(theta0, dtype=np.float64)
    r, jac = _residuals(theta, loss, y, sw)
    sse = float(r @ r)
    lam = 1e-3
    for it in range(1, max_iter + 1):
        grad = jac.T @ r
        hess = jac.T @ jac
        scale = np.maximum(np.diag(hess), 1e-12)
        while True:
            try:
                step = -np.linalg.solve(hess + lam * np.diag(scale), grad)
            except np.linalg.LinAlgError:
                step = np.full(4, np.nan)
            trial = theta + step
            if np.all(np.isfinite(trial)):
                r2, jac2 = _residuals(trial, loss, y, sw)
                sse2 = float(r2 @ r2)
                if math.isfinite(sse2) and sse2 < sse:
                    lam = max(lam / 3.0, 1e-12)
                    break
            lam *= 4.0
            if lam > 1e12:  # no step lowers the error: a minimum (or a flat valley)
                return _Solution(theta.tolist(), sse, True, it, "no step lowers the error")
        gain = (sse - sse2) / max(sse, 1e-300)
        theta, r, jac, sse = trial, r2, jac2, sse2
        if gain < 1e-12 or float(np.abs(step).max()) < 1e-10 * (1 + float(np.abs(theta).max())):
            return _Solution(theta.tolist(), sse, True, it, "the error stopped falling")
        if sse < 1e-30:
            return _Solution(theta.tolist(), sse, True, it, "an exact fit")
    return _Solution(
        theta.tolist(), sse, False, max_iter, f"no convergence in {max_iter} iterations"
    )


def _starts(loss: _Floats, y: _Floats, w: _Floats, keep: int = 4) -> list[list[float]]:
    """A grid of (k, L0), with a and b for each by weighted linear least squares (the
    sigmoid is linear in them), clipped to the bounds; the `keep` best as starts."""
    lo, hi = float(loss.min()), float(loss.max())
    spread = max(hi - lo, 1e-3)
    scored: list[tuple[float, list[float]]] = []
    for L0 in lo + spread * np.array([-0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5]):
        for c in (1.0, 3.0, 10.0, 30.0):
            k = -c / spread
            s = 0.5 * (1 + np.tanh(0.5 * k * (loss - L0)))
            design = np.column_stack([s, np.ones_like(s)]) * np.sqrt(w)[:, None]
            (a, b), *_ = np.linalg.lstsq(design, y * np.sqrt(w), rcond=None)
            b = min(max(float(b), 0.0), 0.98)
            a = min(max(float(a), 0.01), 0.999 - b)
            sse = float(w @ (a * s + b - y) ** 2)
            scored.append((sse, _pack(a, k, float(L0), b)))
    scored.sort(key=lambda t: t[0])
    return [theta for _, theta in scored[:keep]]


def _solve(
    loss: _Floats, y: _Floats, w: _Floats, start: Sequence[float] | None = None
) -> _Solution:
    """The best of Levenberg-Marquardt from `start` (a warm start) and, if that does not
    converge, or with no start, from the grid's best starts."""
    sw = np.sqrt(w)
    if start is not None:
        warm = _levenberg_marquardt(start, loss, y, sw)
        if warm.converged:
            return warm
    best: _Solution | None = None
    for theta in _starts(loss, y, w):
        found = _levenberg_marquardt(theta, loss, y, sw)
        if best is None or (found.converged, -found.sse) > (best.converged, -best.sse):
            best = found
    assert best is not None
    return best


def fit_accuracy(
    loss: Any, values: Any, metric: str = "accuracy", weights: Any = None
) -> AccuracyFit:
    """Fit `values` (a metric, fractions 0 to 1) = a / (1 + exp(-k (loss - L0))) + b by
    least squares (Levenberg-Marquardt in numpy from a grid of starts), with 0 < a,
    0 <= b, a + b <= 1; k comes out negative for a metric that falls as the loss rises.
    `weights` (optional) weigh the points. Raises InputError for unusable input."""
    L = np.asarray(loss, dtype=np.float64).reshape(-1)
    y = np.asarray(values, dtype=np.float64).reshape(-1)
    w = np.ones_like(L) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if not L.shape == y.shape == w.shape:
        raise InputError(
            f"the losses ({L.size}), values ({y.size}) and weights ({w.size}) differ in length",
            field="values",
        )
    if not (np.all(np.isfinite(L)) and np.all(L > 0)):
        raise InputError("every loss must be a finite positive number", field="loss")
    if not (np.all(np.isfinite(y)) and np.all((y >= 0) & (y <= 1))):
        raise InputError("every value must be a fraction from 0 to 1", field="values")
    if not (np.all(np.isfinite(w)) and np.all(w >= 0)):
        raise InputError("every weight must be a finite number >= 0", field="weights")
    if L.size < MIN_POINTS:
        raise InputError(
            f"{L.size} points; the sigmoid's four parameters need at least {MIN_POINTS}",
            field="values",
        )
    found = _solve(L, y, w)
    return _finish(found, L, y, metric)


def _finish(found: _Solution, L: _Floats, y: _Floats, metric: str) -> AccuracyFit:
    a, k, L0, b = _unpack(found.theta)
    pred = a * 0.5 * (1 + np.tanh(0.5 * k * (L - L0))) + b
    rmse = float(np.sqrt(np.mean((pred - y) ** 2)))
    message = f"{found.why} after {found.iterations} iterations"
    return AccuracyFit(metric, a, k, L0, b, int(L.size), rmse, None, found.converged, message)


def resample_weights(
    n_points: int, resamples: int, seed: int, groups: _Floats | None = None
) -> _Floats:
    """The bootstrap's resamples as integer weights per point, drawn exactly as the law's
    bootstrap draws them (approach3.bootstrap_parametric; resampling.
    bootstrap_parametric_by_run when `groups` gives each point's run), so row i here is
    the resample of the law's sample i."""
    rng = np.random.default_rng(seed)
    out = np.empty((resamples, n_points))
    if groups is None:
        for i in range(resamples):
            out[i] = np.bincount(rng.integers(0, n_points, n_points), minlength=n_points)
        return out
    group = np.unique(np.asarray(groups), return_inverse=True)[1].reshape(-1)
    n_runs = int(group.max()) + 1
    for i in range(resamples):
        drawn = np.bincount(rng.integers(0, n_runs, n_runs), minlength=n_runs)
        out[i] = drawn[group]
    return out


def _unfittable(values: _Floats, n_runs: int, name: str) -> str | None:
    """Why the runs' metric `values` (those given) cannot be fitted, or None."""
    if values.size < MIN_POINTS:
        return (
            f"only {values.size} of the {n_runs} runs have a value in column {name!r}; "
            f"the accuracy fit needs at least {MIN_POINTS}"
        )
    if float(np.ptp(values)) == 0:
        return f"column {name!r} is {float(values[0]):g} in every run: no accuracy forecast to fit"
    return None


def _refits(point: AccuracyFit, L: _Floats, y: _Floats, weights: _Floats) -> tuple[Sample, ...]:
    """The bootstrap's refits, one per row of `weights`, warm-started at `point`."""
    start = _pack(point.a, point.k, point.L0, point.b)
    rows = []
    for w in weights:
        if np.count_nonzero(w) < 2:  # too few distinct runs to move the fit
            rows.append((point.a, point.k, point.L0, point.b))
            continue
        rows.append(_unpack(_solve(L, y, w, start).theta))
    return tuple(rows)


def fit_runs_accuracy(
    runs: Runs,
    law: ParametricLaw | None,
    *,
    named: bool,
    bootstrap: int = 0,
    seed: int = SEED,
    groups: _Floats | None = None,
) -> tuple[AccuracyFit | None, list[str]]:
    """Stage 2 for `fit`: the sigmoid of the runs' metric column (runs.metric) on their
    observed loss, with `bootstrap` refits on the law bootstrap's resamples (same `seed`
    and `groups`, so sample i pairs with the law's sample i), and warnings.

    Runs without a value are left out of this stage only. A column the caller `named`
    (`metric_col`) that cannot be fitted is an error; a column found by name is dropped
    with a warning. `law` None (an IsoFLOP fit): no forecast, no loss to chain."""
    warnings: list[str] = []
    if runs.metric_candidates:
        warnings.append(several_columns_warning(runs.metric_candidates))
    if runs.metric is None or runs.metric_col is None:
        return None, warnings
    name = runs.metric_col
    problem: str | None = None
    if law is None:
        problem = (
            f"the accuracy forecast of column {name!r} chains it to the law's loss; "
            "it needs `approach` parametric or both"
        )
        if named:
            raise InputError(problem, field="metric_col")
        return None, [*warnings, problem]
    have = ~np.isnan(runs.metric)
    n = int(have.sum())
    problem = _unfittable(runs.metric[have], runs.n_kept, name)
    if problem is not None:
        if named:
            raise InputError(problem, field="metric_col")
        return None, [*warnings, f"no accuracy forecast: {problem}"]
    L, y = runs.loss[have], runs.metric[have]
    point = _finish(_solve(L, y, np.ones_like(L)), L, y, name)
    if not point.converged:
        problem = (
            f"the accuracy fit of column {name!r} did not converge ({point.message}); "
            "check the column for outliers"
        )
        if named:
            raise FitError(problem)
        return None, [*warnings, problem]
    N, D = runs.params[have], runs.tokens[have]
    chained = law.E + law.A / N**law.alpha + law.B / D**law.beta
    pred = point.a * 0.5 * (1 + np.tanh(0.5 * point.k * (chained - point.L0))) + point.b
    rmse_chained = float(np.sqrt(np.mean((pred - y) ** 2)))
    samples: tuple[Sample, ...] = ()
    if bootstrap:
        weights = resample_weights(runs.n_kept, bootstrap, seed, groups)[:, have]
        samples = _refits(point, L, y, weights)
    if point.k > 0:
        warnings.append(
            f"column {name!r} rises with the loss (k = {point.k:.3g} > 0): an error rate "
            "rather than an accuracy? The forecast assumes a metric that falls as loss rises"
        )
    return (
        AccuracyFit(
            name,
            point.a,
            point.k,
            point.L0,
            point.b,
            n,
            point.rmse,
            rmse_chained,
            True,
            point.message,
            runs.n_kept - n,
            samples,
        ),
        warnings,
    )
