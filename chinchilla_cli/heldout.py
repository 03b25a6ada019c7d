"""Which approach extrapolates better on these runs: hold out the largest budget, fit
each approach without it, and compare what each predicts there.

Approach 2 predicts no loss, only N_opt(C); the held-out budget's own IsoFLOP minimum
(its parabola's vertex) is what both approaches can be scored against. Approach 3 also
predicts every held-out run's loss, whose RMSE is reported as the fit reports it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from chinchilla_cli.approach3 import MIN_EXPONENT, ParametricFit
from chinchilla_cli.errors import FitError
from chinchilla_cli.isoflop import MIN_SIZES, budget_minimum, fit_isoflop, group_budgets
from chinchilla_cli.objective import LogRuns, law_from_theta
from chinchilla_cli.runs import Runs


@dataclass(frozen=True)
class HeldOutError:
    """One approach fitted without the held-out budget, scored on it."""

    approach: str
    predicted_params: float | None  # N_opt at the held-out budget, from the other runs
    params_log_error: float | None  # ln(predicted / the held-out budget's own N_opt)
    rmse_log_loss: float | None  # over the held-out runs (parametric only)
    note: str = ""  # why a number is missing

    def to_dict(self) -> dict[str, Any]:
        return {
            "predicted_params": self.predicted_params,
            "params_log_error": self.params_log_error,
            "rmse_log_loss": self.rmse_log_loss,
            "note": self.note or None,
        }


@dataclass(frozen=True)
class ApproachComparison:
    """Both approaches' errors on the largest IsoFLOP budget when fitted without it."""

    held_out_flops: float
    n_held_out: int
    observed_params: float  # the held-out budget's own IsoFLOP minimum
    errors: tuple[HeldOutError, ...]

    def best(self) -> str | None:
        """The approach whose N_opt lands closer to the held-out minimum, if both scored."""
        scored = [e for e in self.errors if e.params_log_error is not None]
        if len(scored) < 2:
            return None
        return min(scored, key=lambda e: abs(e.params_log_error or 0.0)).approach

    def to_dict(self) -> dict[str, Any]:
        return {
            "held_out_flops": self.held_out_flops,
            "n_held_out": self.n_held_out,
            "observed_params": self.observed_params,
            "closer": self.best(),
            **{e.approach: e.to_dict() for e in self.errors},
        }


def compare_approaches(
    runs: Runs, fit: ParametricFit, tolerance: float
) -> ApproachComparison | str:
    """Hold out the largest budget that has an IsoFLOP minimum (MIN_SIZES sizes or more;
    every larger run goes with it), refit Approach 3 (warm-started, same constraints) and
    Approach 2 on the rest, and score both; or, as a string, why that is not possible."""
    labels = group_budgets(runs.flops, tolerance)
    x = np.round(np.log(runs.params), 9)
    sized = [g for g in range(labels.max() + 1) if len(np.unique(x[labels == g])) >= MIN_SIZES]
    if len(sized) < 3:
        return (
            f"the runs have {len(sized)} budgets with {MIN_SIZES}+ model sizes; comparing "
            "the approaches needs 3 (one held out, two to fit Approach 2)"
        )
    top = labels >= sized[-1]
    own = labels == sized[-1]
    vertex = budget_minimum(runs.params[own], runs.flops[own], runs.loss[own])
    if isinstance(vertex, str):
        return f"the held-out {vertex}"
    c = vertex.flops
    train = LogRuns.of(runs.params[~top], runs.tokens[~top], runs.loss[~top])
    errors = []
    refit = fit.refit(train)
    if refit.converged and min(refit.theta[3], refit.theta[4]) >= MIN_EXPONENT:
        law = law_from_theta(refit.theta)
        held = LogRuns.of(runs.params[top], runs.tokens[top], runs.loss[top])
        pred = np.log(
            law.E
            + law.A * np.exp(-law.alpha * held.log_params)
            + law.B * np.exp(-law.beta * held.log_tokens)
        )
        n_opt = law.optimal_params(c)
        errors.append(
            HeldOutError(
                "parametric",
                n_opt,
                math.log(n_opt / vertex.params),
                float(np.sqrt(np.mean((pred - held.log_loss) ** 2))),
            )
        )
    else:
        errors.append(HeldOutError("parametric", None, None, None, "the refit failed"))
    try:
        iso = fit_isoflop(runs.params[~top], runs.flops[~top], runs.loss[~top], tolerance)
    except FitError as e:
        errors.append(HeldOutError("isoflop", None, None, None, e.message))
    else:
        n_iso = iso.optimal_params(c)
        errors.append(
            HeldOutError(
                "isoflop",
                n_iso,
                math.log(n_iso / vertex.params),
                None,
                "Approach 2 predicts N_opt, not the loss",
            )
        )
    return ApproachComparison(c, int(top.sum()), vertex.params, tuple(errors))
