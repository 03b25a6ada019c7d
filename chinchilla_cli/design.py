"""The next runs to train (`chinchilla sweep` given runs and a target budget): the K runs that
narrow the interval of N_opt (or of the compute-optimal loss) at a target budget, per
FLOP they cost.

The law is fitted to the runs given; its parameters' information is J^T J / sigma^2
(calibration.py: J the derivatives of each run's log loss in (E, log A, log B, alpha,
beta), sigma the run-to-run noise of the residuals). A run added at (N, D) adds its own
row. The variance of the quantity q (log N_opt(C) or log L*(C)) is g^T (J^T J / sigma^2)^-1
g, g its derivatives; each run added lowers it by (g^T S x)^2 / (sigma^2 + x^T S x)
(S the current covariance, x the run's row: Sherman-Morrison). Greedily, the candidate
with the largest drop per FLOP joins, K times. Candidates: a grid of budgets up to
`max_flops` (down to MAX_FLOPS_SPAN below it) times tokens per parameter within the
span of the fitted runs'. The intervals are
linearised (normal in log q), before and after the runs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np

from chinchilla_cli._display import Displayed
from chinchilla_cli.calibration import information, log_loss_jacobian
from chinchilla_cli.errors import FitError, InputError
from chinchilla_cli.fit_defaults import CI_LEVEL
from chinchilla_cli.fit_results import FitReport
from chinchilla_cli.fitting import fit
from chinchilla_cli.laws import FLOPS_PER_PARAM_TOKEN, ParametricLaw
from chinchilla_cli.quantity import accepts_quantities, sci
from chinchilla_cli.sweeps import DEFAULT_NARROW, DEFAULT_SUGGESTED_RUNS, NARROW

MAX_SUGGESTED_RUNS = 50
MAX_FLOPS_SPAN = 100.0  # candidates from max_flops / this up to max_flops
BUDGETS_PER_DECADE = 4  # candidate budgets, spaced in log C
RATIOS = 16  # candidate D/N values, spaced in log
DEFAULT_MAX_FLOPS_FACTOR = 10.0  # no --max-flops: up to this times the largest run
STEP = 1e-5  # central differences of q in the parameters (E, log A, log B, alpha, beta)


@dataclass(frozen=True)
class SuggestedRun:
    """One run to train, in the order chosen, with the interval of the target quantity
    once it and the runs before it are in (`after`)."""

    params: float
    tokens: float
    predicted_loss: float  # the law's
    after: tuple[float, float]

    @property
    def flops(self) -> float:
        return FLOPS_PER_PARAM_TOKEN * self.params * self.tokens

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "tokens": self.tokens,
            "flops": self.flops,
            "tokens_per_param": self.tokens_per_param,
            "predicted_loss": self.predicted_loss,
            "interval_after": list(self.after),
        }


@dataclass(frozen=True)
class Suggestion(Displayed):
    """The runs that most narrow the `level`% interval of `narrow` ("nopt": N_opt, "loss":
    the compute-optimal loss) at `target_flops` per FLOP, from `law` fitted to `n_fitted`
    runs with run-to-run noise `log_loss_sd`: the interval `before` and `after` them."""

    law: ParametricLaw
    source: str  # where the runs came from
    n_fitted: int
    log_loss_sd: float
    target_flops: float
    narrow: str
    level: float
    value: float  # N_opt(C) or L*(C) under the law
    before: tuple[float, float]
    after: tuple[float, float]
    runs: tuple[SuggestedRun, ...]
    max_flops: float
    n_candidates: int
    method: str = "linearised (Gauss-Newton) information of the fit, greedy per FLOP"

    @property
    def total_flops(self) -> float:
        return sum(r.flops for r in self.runs)

    @property
    def narrowing(self) -> float:
        """Width after over width before, in log: below 1 is narrower."""
        return math.log(self.after[1] / self.after[0]) / math.log(self.before[1] / self.before[0])

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "n_fitted": self.n_fitted,
            "params": self.law.parameters(),
            "log_loss_sd": self.log_loss_sd,
            "target_flops": self.target_flops,
            "narrow": self.narrow,
            "level": self.level,
            "value": self.value,
            "interval_before": list(self.before),
            "interval_after": list(self.after),
            "narrowing": self.narrowing,
            "runs": [r.to_dict() for r in self.runs],
            "total_flops": self.total_flops,
            "max_flops": self.max_flops,
            "n_candidates": self.n_candidates,
            "method": self.method,
        }

    def __repr__(self) -> str:
        what = "N_opt" if self.narrow == "nopt" else "L*"
        return (
            f"Suggestion({len(self.runs)} runs, {sci(self.total_flops)} FLOPs: {what} at "
            f"{sci(self.target_flops)} FLOPs, {self.level:g}% interval {self.narrowing:.3f} "
            f"of its width now, from {self.n_fitted} runs)"
        )


def _law_at(theta: Any) -> ParametricLaw:
    E, log_a, log_b, alpha, beta = (float(x) for x in theta)
    return ParametricLaw("q", E, math.exp(log_a), math.exp(log_b), alpha, beta)


def target_log(law: ParametricLaw, flops: float, narrow: str) -> float:
    """log N_opt(C), or log L*(C) at the compute-optimal split of C."""
    n = law.optimal_params(flops)
    if narrow == "nopt":
        return math.log(n)
    return math.log(law.loss(n, flops / (FLOPS_PER_PARAM_TOKEN * n)).total)


def target_gradient(law: ParametricLaw, flops: float, narrow: str) -> Any:
    """The derivatives of `target_log` in (E, log A, log B, alpha, beta)."""
    theta = np.array([law.E, math.log(law.A), math.log(law.B), law.alpha, law.beta])
    grad = np.zeros(5)
    for i in range(5):
        up, down = theta.copy(), theta.copy()
        up[i] += STEP
        down[i] -= STEP
        grad[i] = target_log(_law_at(up), flops, narrow) - target_log(_law_at(down), flops, narrow)
        grad[i] /= 2 * STEP
    return grad


def candidates(max_flops: float, tokens_per_param: tuple[float, float]) -> tuple[Any, Any]:
    """(N, D) of the candidate runs: budgets from max_flops / MAX_FLOPS_SPAN to max_flops
    times tokens per parameter over `tokens_per_param` (the span of the fitted runs': the
    law's form was checked there, not beyond)."""
    decades = math.log10(MAX_FLOPS_SPAN)
    flops = max_flops * np.logspace(-decades, 0, int(decades * BUDGETS_PER_DECADE) + 1)
    ratio = np.geomspace(*tokens_per_param, RATIOS)
    c, r = np.meshgrid(flops, ratio)
    params = np.sqrt(c.ravel() / (FLOPS_PER_PARAM_TOKEN * r.ravel()))
    return params, r.ravel() * params


def variance_of(grad: Any, info: Any) -> float:
    """g^T I^-1 g: the linearised variance of the target quantity's log."""
    return float(grad @ np.linalg.pinv(info) @ grad)


def choose(
    law: ParametricLaw, info: Any, grad: Any, sd: float, params: Any, tokens: Any, k: int
) -> list[tuple[int, Any]]:
    """Greedily, k times, the candidate whose run lowers g^T I^-1 g most per FLOP; each
    with the information after it joins. A candidate is taken at most once."""
    rows, _ = log_loss_jacobian(law, params, tokens)
    cost = FLOPS_PER_PARAM_TOKEN * params * tokens
    free = np.ones(len(params), dtype=bool)
    out = []
    for _ in range(k):
        cov = np.linalg.pinv(info)
        su = rows @ cov  # S x for each candidate x
        drop = (su @ grad) ** 2 / (sd**2 + np.einsum("ij,ij->i", su, rows))
        score = np.where(free, drop / cost, -np.inf)
        j = int(np.argmax(score))
        free[j] = False
        info = info + np.outer(rows[j], rows[j]) / sd**2
        out.append((j, info))
    return out


def _interval(value: float, var: float, level: float) -> tuple[float, float]:
    z = NormalDist().inv_cdf(0.5 + level / 200.0)
    half = z * math.sqrt(max(var, 0.0))
    return value * math.exp(-half), value * math.exp(half)


@accepts_quantities
def suggest_runs(
    runs: str | Path | Mapping[str, Any] | FitReport,
    *,
    target_flops: float,
    n_runs: int = DEFAULT_SUGGESTED_RUNS,
    max_flops: float | None = None,
    narrow: str = DEFAULT_NARROW,
    level: float = CI_LEVEL,
    max_loss: float | None = None,
) -> Suggestion:
    """The `n_runs` runs (N, D, C = 6ND <= `max_flops`; default DEFAULT_MAX_FLOPS_FACTOR x
    the largest run) that most narrow the `level`% interval of N_opt (`narrow` "nopt")
    or of the compute-optimal loss ("loss") at `target_flops`, per FLOP, given the law
    fitted to `runs` (a file or table of columns as `fit` reads them, `max_loss` dropping
    the worse; or a FitReport of a parametric fit)."""
    _check(target_flops, n_runs, max_flops, narrow, level)
    report = runs if isinstance(runs, FitReport) else fit(runs, max_loss=max_loss)
    if not isinstance(report, FitReport):  # runs with an experts column: the Joint MoE law
        raise InputError(
            "suggests runs for a dense law: runs with an experts column fit the Joint MoE "
            "law, whose design is not supported",
            field="runs",
        )
    law, noise = report.law, report.noise
    if not isinstance(law, ParametricLaw) or noise is None or noise.log_loss_sd <= 0:
        raise FitError("suggesting runs needs a parametric fit with residual noise")
    r = report.runs
    top = max_flops or DEFAULT_MAX_FLOPS_FACTOR * float(np.max(r.flops))
    sd = noise.log_loss_sd
    info = information(law, r.params, r.tokens, sd)
    grad = target_gradient(law, target_flops, narrow)
    value = math.exp(target_log(law, target_flops, narrow))
    ratio = r.tokens / r.params
    params, tokens = candidates(top, (float(ratio.min()), float(ratio.max())))
    picks = choose(law, info, grad, sd, params, tokens, n_runs)
    chosen = tuple(
        SuggestedRun(
            float(params[j]),
            float(tokens[j]),
            law.loss(float(params[j]), float(tokens[j])).total,
            _interval(value, variance_of(grad, after), level),
        )
        for j, after in picks
    )
    return Suggestion(
        law,
        r.source,
        r.n_kept,
        sd,
        target_flops,
        narrow,
        level,
        value,
        _interval(value, variance_of(grad, info), level),
        chosen[-1].after,
        chosen,
        top,
        len(params),
    )


def _check(
    target_flops: float, n_runs: int, max_flops: float | None, narrow: str, level: float
) -> None:
    for name, value in (("target_flops", target_flops), ("max_flops", max_flops)):
        if value is not None and not (math.isfinite(value) and value > 0):
            raise InputError(f"`{name}` must be a positive number of FLOPs, got {value!r}", name)
    if isinstance(n_runs, bool) or not isinstance(n_runs, int):
        raise InputError(f"`n_runs` must be a whole number, got {n_runs!r}", field="n_runs")
    if not 1 <= n_runs <= MAX_SUGGESTED_RUNS:
        raise InputError(
            f"`n_runs` must be 1 to {MAX_SUGGESTED_RUNS}, got {n_runs}", field="n_runs"
        )
    if narrow not in NARROW:
        raise InputError(f"`narrow` must be one of {', '.join(NARROW)}, got {narrow!r}", "narrow")
    if not 0 < level < 100:
        raise InputError(f"`level` must be between 0 and 100, got {level!r}", field="level")
