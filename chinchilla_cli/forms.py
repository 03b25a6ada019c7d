"""Functional forms of a loss law beyond Chinchilla's, fitted by the same robust objective.

Every form here is one family, written in log space over phi = (a, b, e, alpha, beta, k):

    log L = LSE(e, k LSE(a - alpha log N, b - beta log D)),
    i.e.  L = E + (A/N^alpha + B/D^beta)^k   with A = e^a, B = e^b, E = e^e.

- "coupled": all six free. k = 1 is Chinchilla's form (Hoffmann et al. 2022, eq. 2);
  k != 1 couples N and D (a generalisation of it, not a paper's law);
- "kaplan": Kaplan et al. 2020, eq. 1.5, L = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D
  (Table 2 of that paper), plus an irreducible term E (0 gives eq. 1.5 itself): the
  family with beta = 1, alpha = alpha_N/alpha_D, a = alpha log N_c, b = log D_c and
  k = alpha_D.
Chinchilla's own form is fitted by its batched Newton engine (approach3.py); these by
the sum of Huber losses of log-loss residuals (delta as the paper's), screened over a
grid of starts, the promising ones polished together by a batched damped Newton method
with the analytic Hessian (form_newton.py).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from chinchilla_cli.audit import Refit
from chinchilla_cli.errors import FitError
from chinchilla_cli.fit_defaults import HUBER_DELTA
from chinchilla_cli.form_newton import minimise
from chinchilla_cli.grid_search import screen_runs
from chinchilla_cli.laws import FormLaw
from chinchilla_cli.objective import SCREEN_CELLS, LogRuns

PHI = ("a", "b", "e", "alpha", "beta", "k")
FORMS = ("chinchilla", "kaplan", "coupled")
BOUNDS = {
    "a": (-20.0, 150.0),
    "b": (-20.0, 150.0),
    "e": (-10.0, 3.0),
    "alpha": (0.0, 5.0),
    "beta": (0.0, 5.0),
    "k": (0.01, 10.0),
}
N_POLISH = 10  # starts polished per fit: the best few and the best of distinct exponents


@dataclass(frozen=True)
class Form:
    """One form: which of phi it fits, the values of the rest, and its grid of starts."""

    name: str
    fixed: dict[str, float]
    grid: dict[str, tuple[float, ...]]

    @property
    def free(self) -> tuple[int, ...]:
        return tuple(i for i, k in enumerate(PHI) if k not in self.fixed)

    def starts(self) -> np.ndarray:
        """The grid, as rows of phi."""
        axes = [self.grid[k] if k not in self.fixed else (self.fixed[k],) for k in PHI]
        return np.array(list(itertools.product(*axes)))


_AB = tuple(np.arange(0.0, 25.1, 5.0))
_E = tuple(np.arange(-1.0, 1.01, 0.5))
_EXP = (0.5, 1.0, 1.5, 2.0)  # the paper's exponents less 0 (a constant term, degenerate)
FORM_SPECS = {
    "coupled": Form(
        "coupled",
        {},
        {"a": _AB, "b": _AB, "e": _E, "alpha": _EXP, "beta": _EXP, "k": (0.5, 1.0, 2.0)},
    ),
    "kaplan": Form(
        "kaplan",
        {"beta": 1.0},
        {
            "a": tuple(np.arange(0.0, 30.1, 5.0)),
            "b": tuple(np.arange(5.0, 35.1, 5.0)),
            "e": _E,
            "alpha": (0.25, 0.5, 1.0, 2.0),
            "k": (0.05, 0.1, 0.2, 0.4, 0.8),
        },
    ),
}


def form_spec(form: str, irreducible: bool = True) -> Form:
    """The form's spec; without the irreducible term, E held at 0 (e = -inf)."""
    spec = FORM_SPECS[form]
    if irreducible:
        return spec
    return Form(spec.name, {**spec.fixed, "e": -math.inf}, spec.grid)


def predict(phi: np.ndarray, runs: LogRuns) -> np.ndarray:
    """log L at rows phi (k x 6) for every run (k x n)."""
    p = np.atleast_2d(phi)
    u1 = p[:, 0:1] - p[:, 3:4] * runs.log_params[None, :]
    u2 = p[:, 1:2] - p[:, 4:5] * runs.log_tokens[None, :]
    out: np.ndarray = np.logaddexp(p[:, 2:3], p[:, 5:6] * np.logaddexp(u1, u2))
    return out


def objective_many(phi: np.ndarray, runs: LogRuns, delta: float) -> np.ndarray:
    """The sum of Huber losses at many rows phi at once, in memory-bounded chunks, in
    float32 (it ranks starts: L = E + (e^u1 + e^u2)^k takes four exponentials and
    logarithms a cell, where two log-sum-exps take twice that)."""
    out = np.empty(len(phi))
    step = max(1, SCREEN_CELLS // max(len(runs.log_loss), 1))
    f32 = np.float32
    lp, lt = runs.log_params.astype(f32)[None, :], runs.log_tokens.astype(f32)[None, :]
    ll = runs.log_loss.astype(f32)[None, :]
    for i in range(0, len(phi), step):
        p = phi[i : i + step].astype(f32)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            s = np.exp(p[:, 0:1] - p[:, 3:4] * lp) + np.exp(p[:, 1:2] - p[:, 4:5] * lt)
            r = np.log(np.exp(p[:, 2:3]) + np.exp(p[:, 5:6] * np.log(s))) - ll
            c = np.clip(r, -delta, delta)
            h = c * (r - 0.5 * c)
            if runs.weights is not None:
                h = h * runs.weights.astype(f32)
            total = h.sum(axis=1, dtype=np.float64)
        out[i : i + step] = np.where(np.isfinite(total), total, np.inf)
    return out


def objective(phi: np.ndarray, runs: LogRuns, delta: float) -> tuple[float, np.ndarray]:
    """Sum of Huber losses / delta and its gradient in phi (all six)."""
    a, b, e, alpha, beta, k = phi
    u1 = a - alpha * runs.log_params
    u2 = b - beta * runs.log_tokens
    s = np.logaddexp(u1, u2)
    p1 = np.exp(u1 - s)
    p2 = 1.0 - p1
    v = k * s
    lse = np.logaddexp(e, v)
    q = np.exp(v - lse)  # the coupled term's share of L
    r = lse - runs.log_loss
    c = np.clip(r, -delta, delta)
    h = c * (r - 0.5 * c) / delta
    g = c / delta
    if runs.weights is not None:
        h, g = h * runs.weights, g * runs.weights
    gq = g * q * k
    grad = np.array(
        [
            (gq * p1).sum(),
            (gq * p2).sum(),
            (g * (1.0 - q)).sum(),
            -(gq * p1) @ runs.log_params,
            -(gq * p2) @ runs.log_tokens,
            (g * q * s).sum(),
        ]
    )
    return float(h.sum()), grad


@dataclass(frozen=True)
class Polished:
    phi: np.ndarray
    objective: float  # the sum of Huber losses
    converged: bool
    iterations: int


def polish_many(
    starts: np.ndarray,
    form: Form,
    runs: LogRuns,
    delta: float,
    row_weights: np.ndarray | None = None,
) -> list[Polished]:
    """Damped Newton (form_newton.py) from every row of `starts` at once, over the form's
    free parameters; `row_weights` (rows x runs) give each row its own weights of the runs."""
    lower = np.array([BOUNDS[k][0] for k in PHI])
    upper = np.array([BOUNDS[k][1] for k in PHI])
    weights = row_weights
    if runs.weights is not None:
        weights = np.broadcast_to(runs.weights, (len(starts), len(runs.log_loss)))
        if row_weights is not None:
            weights = weights * row_weights
    x, y, ll = runs.log_params[None, :], runs.log_tokens[None, :], runs.log_loss[None, :]
    held = [i for i in range(len(PHI)) if i not in form.free]
    lower[held], upper[held] = -np.inf, np.inf  # a held value (e = -inf: no E) stays
    found = minimise(
        np.clip(starts, lower, upper), form.free, x, y, ll, delta, weights, lower, upper
    )
    return [
        Polished(
            found.phi[i],
            float(found.f[i]) * delta,
            bool(found.converged[i]),
            int(found.iterations[i]),
        )
        for i in range(len(starts))
    ]


def _select(grid: np.ndarray, values: np.ndarray, n: int = N_POLISH) -> np.ndarray:
    """The best few starts, and the best of each of the most promising exponent sets."""
    order = np.argsort(values, kind="stable")
    chosen = [int(i) for i in order[: n // 3]]
    seen: set[tuple[float, ...]] = set()
    for i in order:
        key = tuple(float(x) for x in grid[i, 3:6])
        if key not in seen:
            seen.add(key)
            chosen.append(int(i))
            if len(chosen) >= n:
                break
    return np.array(sorted(set(chosen)))


def best_fit(
    form: Form,
    runs: LogRuns,
    delta: float = HUBER_DELTA,
    extra: np.ndarray | None = None,
    n_polish: int = N_POLISH,
) -> Polished:
    """Screen the form's grid (plus `extra` starts, always polished), polish the promising
    starts, and return the best converged optimum (else the best)."""
    grid = form.starts()
    small = screen_runs(runs)  # ranked, and first polished, on at most 4,096 runs
    values = objective_many(grid, small, delta)
    starts = grid[_select(grid, values, n_polish)]
    if extra is not None:
        starts = np.vstack([np.atleast_2d(extra), starts])
    found = polish_many(starts, form, small, delta)
    if small is not runs:  # large data: the best two refined on every run
        order = np.argsort([p.objective for p in found])[:2]
        found = polish_many(np.array([found[i].phi for i in order]), form, runs, delta)
    ok = [p for p in found if math.isfinite(p.objective)]
    if not ok:
        raise FitError(f"no start of the {form.name} form's grid gave a finite objective")
    return min(ok, key=lambda p: (not p.converged, p.objective))


@dataclass(frozen=True)
class FormFit:
    """One form fitted to a set of runs: its law, objective, and in-sample RMSE."""

    form: str
    law: FormLaw
    phi: np.ndarray  # (a, b, e, alpha, beta, k)
    objective: float
    converged: bool
    iterations: int
    rmse_log_loss: float
    n_runs: int
    huber_delta: float
    irreducible: bool = True  # False: E held at 0 (Kaplan et al.'s eq. 1.5 itself)

    @property
    def spec(self) -> Form:
        return form_spec(self.form, self.irreducible)

    def to_dict(self) -> dict[str, Any]:
        return {
            "form": self.form,
            "method": "damped Newton (analytic Hessian) from the form's screened grid of starts",
            "objective": self.objective,
            "converged": self.converged,
            "iterations": self.iterations,
            "rmse_log_loss": self.rmse_log_loss,
            "huber_delta": self.huber_delta,
            "fixed": {} if self.irreducible else {"E": 0.0},
        }


def law_of(form: str, phi: np.ndarray, name: str = "fit", source: str = "") -> FormLaw:
    """The law at phi."""
    a, b, e, alpha, beta, k = map(float, phi)
    return FormLaw(name, form, math.exp(e), math.exp(a), math.exp(b), alpha, beta, k, source)


def fit_form(
    form: str,
    params: np.ndarray,
    tokens: np.ndarray,
    loss: np.ndarray,
    delta: float = HUBER_DELTA,
    irreducible: bool = True,
) -> FormFit:
    """Fit the named form ("kaplan" or "coupled") to runs, with E or (`irreducible`
    False) E held at 0; FitError when it fails."""
    spec = form_spec(form, irreducible)
    runs = LogRuns.of(params, tokens, loss)
    best = best_fit(spec, runs, delta)
    free = list(spec.free)
    if not np.all(np.isfinite(best.phi[free])) or min(best.phi[3], best.phi[4]) < 1e-6:
        raise FitError(
            f"the {form} form's fit did not find a law with positive exponents; the runs "
            "may not span enough model sizes and token counts"
        )
    rmse = float(np.sqrt(np.mean((predict(best.phi, runs)[0] - runs.log_loss) ** 2)))
    return FormFit(
        form,
        law_of(form, best.phi),
        best.phi,
        best.objective,
        best.converged,
        best.iterations,
        rmse,
        len(loss),
        delta,
        irreducible,
    )


REFIT_POOL = 200  # the audit's refits screen the full fit's best this many starts
REFIT_POLISH = 2  # and polish this many, beside the full fit's optimum
REFIT_WORDS = (
    f"each refit from the full fit's optimum and the best {REFIT_POLISH} of the "
    f"{REFIT_POOL} best starts of the form's grid, screened on its runs"
)


def refitter(fit: FormFit, runs: LogRuns) -> Refit:
    """The audit's `Refit` (audit.py) for a form: every subset's starts in one batch."""
    spec = fit.spec
    grid = spec.starts()
    values = objective_many(grid, screen_runs(runs), fit.huber_delta)
    pool = grid[np.argsort(values)[:REFIT_POOL]]

    def refit(masks: np.ndarray) -> np.ndarray:
        starts, weights = [], []
        for mask in masks:
            w = mask.astype(float)
            values = objective_many(pool, screen_runs(runs.reweighted(w)), fit.huber_delta)
            for s in (fit.phi[None, :], pool[np.argsort(values)[:REFIT_POLISH]]):
                starts.append(s)
                weights.append(np.repeat(w[None, :], len(s), axis=0))
        found = polish_many(np.vstack(starts), spec, runs, fit.huber_delta, np.vstack(weights))
        per = 1 + REFIT_POLISH
        out = np.full((len(masks), len(runs.log_loss)), np.nan)
        for i in range(len(masks)):
            ok = [p for p in found[i * per : (i + 1) * per] if math.isfinite(p.objective)]
            if ok:
                best = min(ok, key=lambda p: (not p.converged, p.objective))
                out[i] = predict(best.phi, runs)[0]
        return out

    return refit
