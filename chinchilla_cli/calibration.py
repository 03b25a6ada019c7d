"""Does a new run's interval cover new runs? Each budget held out in turn: the law refitted
without it, each of its runs predicted with a `level`% new-run interval, and the share
of runs inside counted (`heldout_coverage`).

A refit per budget cannot afford its own bootstrap, so the law's part of the interval
here is linearised: the Gauss-Newton covariance sigma^2 (J^T J)^-1 of the parameters
(E, log A, log B, alpha, beta), J the derivatives of each fitted run's log loss, sigma
the run-to-run noise of the refit's residuals; a held-out run's log loss then has
variance g^T cov g + sigma^2 (g: its own derivatives). The same information matrix
J^T J / sigma^2 is what design.py adds candidate runs to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from chinchilla_cli.approach3 import ParametricFit, fit_parametric
from chinchilla_cli.errors import InputError
from chinchilla_cli.fit_defaults import CI_LEVEL, FLOPS_TOLERANCE
from chinchilla_cli.isoflop import group_budgets
from chinchilla_cli.laws import FLOPS_PER_PARAM_TOKEN, ParametricLaw
from chinchilla_cli.objective import LogRuns, RunsLike, law_from_theta
from chinchilla_cli.prediction import residual_noise

N_LAW_PARAMS = 5  # E, A, B, alpha, beta
MIN_BUDGET_RUNS = 3  # a budget is held out when it has this many runs
MIN_TRAIN_RUNS = 10  # and this many are left to refit


def log_loss_jacobian(law: ParametricLaw, params: Any, tokens: Any) -> tuple[Any, Any]:
    """(J, log L): the derivatives of each run's log loss in (E, log A, log B, alpha,
    beta), one row per run, and the log losses themselves."""
    n_term = law.A * np.asarray(params, float) ** -law.alpha
    d_term = law.B * np.asarray(tokens, float) ** -law.beta
    total = law.E + n_term + d_term
    jac = np.stack(
        [
            np.ones_like(total),
            n_term,
            d_term,
            -n_term * np.log(params),
            -d_term * np.log(tokens),
        ],
        axis=1,
    )
    return jac / total[:, None], np.log(total)


def information(law: ParametricLaw, params: Any, tokens: Any, log_loss_sd: float) -> Any:
    """The Fisher information of runs at (N, D) about the law's parameters: J^T J / sigma^2."""
    jac, _ = log_loss_jacobian(law, params, tokens)
    return jac.T @ jac / log_loss_sd**2


def residual_sd(law: ParametricLaw, params: Any, tokens: Any, loss: Any) -> float:
    """The run-to-run noise of log loss around `law` on these runs (prediction.py's)."""
    _, log_pred = log_loss_jacobian(law, params, tokens)
    err = np.log(np.asarray(loss, float)) - log_pred
    n = len(err)
    noise = residual_noise(float(np.sqrt(np.mean(err**2))), n, N_LAW_PARAMS)
    if noise is None:
        raise InputError(f"{n} runs leave no residual degree of freedom after 5 parameters")
    return noise.log_loss_sd


@dataclass(frozen=True)
class BudgetCoverage:
    """One held-out budget: its runs, how many the new-run interval covered, and the
    error of the refitted law on them (log loss: RMSE and mean, observed - predicted)."""

    flops: float
    n_runs: int
    n_covered: int
    rmse_log_loss: float
    bias_log_loss: float
    log_loss_sd: float  # the refit's run-to-run noise

    def to_dict(self) -> dict[str, Any]:
        return {
            "flops": self.flops,
            "n_runs": self.n_runs,
            "n_covered": self.n_covered,
            "rmse_log_loss": self.rmse_log_loss,
            "bias_log_loss": self.bias_log_loss,
            "log_loss_sd": self.log_loss_sd,
        }


@dataclass(frozen=True)
class Coverage:
    """The share of held-out runs inside their `level`% new-run interval, over every
    budget with MIN_BUDGET_RUNS runs or more, each held out in turn."""

    level: float
    budgets: tuple[BudgetCoverage, ...]
    method: str = "linearised law covariance plus the refit's run-to-run noise"

    @property
    def n_runs(self) -> int:
        return sum(b.n_runs for b in self.budgets)

    @property
    def n_covered(self) -> int:
        return sum(b.n_covered for b in self.budgets)

    @property
    def coverage(self) -> float:
        return self.n_covered / self.n_runs if self.n_runs else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "coverage": self.coverage,
            "n_runs": self.n_runs,
            "n_covered": self.n_covered,
            "method": self.method,
            "budgets": [b.to_dict() for b in self.budgets],
        }


def heldout_coverage(
    runs: RunsLike,
    level: float = CI_LEVEL,
    *,
    tolerance: float = FLOPS_TOLERANCE,
    fit: ParametricFit | None = None,
) -> Coverage:
    """Hold out each budget (runs whose C agree within `tolerance`, MIN_BUDGET_RUNS or
    more), refit the law without it (warm-started at `fit`, the fit of all the runs,
    made here when not given), and count its runs inside their `level`% new-run interval.
    `runs` has arrays `params`, `tokens` and `loss` (runs.Runs, a FitReport's `runs`)."""
    if not 0 < level < 100:
        raise InputError(f"`level` must be between 0 and 100, got {level!r}", field="level")
    params, tokens, loss = (np.asarray(x, float) for x in (runs.params, runs.tokens, runs.loss))
    if fit is None:
        fit = fit_parametric(params, tokens, loss)
    flops = FLOPS_PER_PARAM_TOKEN * params * tokens
    labels = group_budgets(flops, tolerance)
    z = z_of(level)
    out = []
    for g in range(int(labels.max()) + 1):
        held = labels == g
        if held.sum() < MIN_BUDGET_RUNS or (~held).sum() < MIN_TRAIN_RUNS:
            continue
        out.append(_one_budget(fit, params, tokens, loss, flops, held, z))
    return Coverage(level, tuple(out))


def _one_budget(
    fit: ParametricFit,
    params: Any,
    tokens: Any,
    loss: Any,
    flops: Any,
    held: Any,
    z: float,
) -> BudgetCoverage:
    """Refit without the `held` runs, and score the new-run interval on them."""
    keep = ~held
    law = law_from_theta(fit.refit(LogRuns.of(params[keep], tokens[keep], loss[keep])).theta)
    scored = score_new_runs(
        law, (params[keep], tokens[keep], loss[keep]), (params[held], tokens[held], loss[held]), z
    )
    return BudgetCoverage(float(np.exp(np.mean(np.log(flops[held])))), int(held.sum()), *scored)


def score_new_runs(
    law: ParametricLaw, fitted: tuple[Any, Any, Any], held: tuple[Any, Any, Any], z: float
) -> tuple[int, float, float, float]:
    """How many `held` runs (params, tokens, loss) lie inside their new-run interval of
    half-width z standard deviations, the law having been fitted to the `fitted` runs;
    with the error on them (RMSE and mean of observed - predicted log loss) and the
    fitted runs' run-to-run noise."""
    sd = residual_sd(law, *fitted)
    cov = np.linalg.pinv(information(law, fitted[0], fitted[1], sd))
    jac, log_pred = log_loss_jacobian(law, held[0], held[1])
    law_var = np.einsum("ij,jk,ik->i", jac, cov, jac)
    err = np.log(np.asarray(held[2], float)) - log_pred
    inside = np.abs(err) <= z * np.sqrt(law_var + sd**2)
    return int(inside.sum()), float(np.sqrt(np.mean(err**2))), float(np.mean(err)), sd


def z_of(level: float) -> float:
    """The half-width, in standard deviations, of a two-sided `level`% normal interval."""
    return NormalDist().inv_cdf(0.5 + level / 200.0)
