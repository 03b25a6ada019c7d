"""Data-constrained scaling (Muennighoff et al. 2023): the best split of a budget when
only U unique tokens exist, so data beyond U is repeated and loses value.

With D total tokens of which U_D = min(U, D) are unique, R_D = D/U_D - 1 repeats, the
effective data is
    D' = U_D + U_D·R_D*·(1 - exp(-R_D / R_D*)),
and parameters beyond the compute-optimal size for U_D tokens, U_N = min(N, N_opt(U_D)),
R_N = max(N/U_N - 1, 0), count as
    N' = U_N + U_N·R_N*·(1 - exp(-R_N / R_N*)).
Loss L = E + A/N'^alpha + B/D'^beta. No closed form: a bounded 1-D search along C = 6ND.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from chinchilla_cli.laws import FLOPS_PER_PARAM_TOKEN, ParametricLaw
from chinchilla_cli.solvers import golden_min

# Muennighoff et al. 2023's fitted decay constants (C4), used when a law carries none.
R_D_STAR = 15.387756
R_N_STAR = 5.309743


@dataclass(frozen=True)
class ConstrainedPlan:
    """The best split of a budget with `unique_tokens` of unique data: N and D, what
    they count for (N', D'), the loss, and the same budget with unlimited data."""

    unique_tokens: float
    params: float
    tokens: float
    effective_params: float
    effective_tokens: float
    loss: float
    unconstrained_params: float
    unconstrained_tokens: float
    unconstrained_loss: float  # the same budget with unlimited unique data
    R_D_star: float
    R_N_star: float

    @property
    def epochs(self) -> float:
        return self.tokens / self.unique_tokens

    @property
    def loss_penalty(self) -> float:
        return self.loss - self.unconstrained_loss

    def to_dict(self) -> dict[str, Any]:
        return {
            "unique_tokens": self.unique_tokens,
            "params": self.params,
            "tokens": self.tokens,
            "epochs": self.epochs,
            "effective_tokens": self.effective_tokens,
            "effective_params": self.effective_params,
            "loss": self.loss,
            "unconstrained_params": self.unconstrained_params,
            "unconstrained_tokens": self.unconstrained_tokens,
            "unconstrained_loss": self.unconstrained_loss,
            "loss_penalty": self.loss_penalty,
            "R_D_star": self.R_D_star,
            "R_N_star": self.R_N_star,
        }


def _decayed(unique: float, total: float, r_star: float) -> float:
    used = min(unique, total)
    repeats = total / used - 1.0
    return used + used * r_star * (1.0 - math.exp(-repeats / r_star))


def constants(law: ParametricLaw) -> tuple[float, float]:
    """(R_D*, R_N*): the law's decay constants, else Muennighoff et al.'s."""
    return (law.R_D_star or R_D_STAR, law.R_N_star or R_N_STAR)


def effective(
    law: ParametricLaw, params: float, tokens: float, unique_tokens: float
) -> tuple[float, float]:
    """(N', D'): the parameters and tokens that count, given the unique data."""
    rd, rn = constants(law)
    unique_used = min(unique_tokens, tokens)
    useful_params = min(params, law.optimal_params(law.flops_for_tokens(unique_used)))
    return _decayed(useful_params, params, rn), _decayed(unique_tokens, tokens, rd)


def constrained_loss(
    law: ParametricLaw, params: float, tokens: float, unique_tokens: float
) -> float:
    """The loss of N parameters trained on D tokens of which `unique_tokens` are unique."""
    n_eff, d_eff = effective(law, params, tokens, unique_tokens)
    loss: float = law.E + law.A / n_eff**law.alpha + law.B / d_eff**law.beta
    return loss


def optimal_constrained(law: ParametricLaw, flops: float, unique_tokens: float) -> ConstrainedPlan:
    """Minimise the data-constrained loss over N along C = 6ND (golden section in log N,
    within 1000x either side of the unconstrained optimum)."""
    n0 = law.optimal_params(flops)

    def loss_at(log_n: float) -> float:
        n = math.exp(log_n)
        return constrained_loss(law, n, flops / (FLOPS_PER_PARAM_TOKEN * n), unique_tokens)

    span = math.log(1e3)
    log_n = golden_min(loss_at, math.log(n0) - span, math.log(n0) + span)
    n = math.exp(log_n)
    d = flops / (FLOPS_PER_PARAM_TOKEN * n)
    n_eff, d_eff = effective(law, n, d, unique_tokens)
    rd, rn = constants(law)
    d0 = flops / (FLOPS_PER_PARAM_TOKEN * n0)
    return ConstrainedPlan(
        unique_tokens, n, d, n_eff, d_eff, loss_at(log_n), n0, d0, law.loss(n0, d0).total, rd, rn
    )
