"""Inference-aware sizing (Sardana et al. 2024, "Beyond Chinchilla-Optimal"): over a
model's life it is trained on D_tr tokens and then serves D_inf tokens, costing
6·N·D_tr + 2·N·D_inf FLOPs. For a target loss l, the cheapest lifetime has
    (beta·B/alpha + B)·D^-beta + (D_inf·beta·B / (3 alpha))·D^(-beta-1) + E - l = 0
for D = D_tr, and N = (A / (l - E - B·D^-beta))^(1/alpha): a smaller model trained longer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from chinchilla_cli.errors import InputError
from chinchilla_cli.frontier import flops_for_loss, optimal_allocation
from chinchilla_cli.laws import FLOPS_PER_PARAM_TOKEN, ParametricLaw
from chinchilla_cli.solvers import bisect

INFERENCE_FLOPS_PER_PARAM_TOKEN = 2.0


@dataclass(frozen=True)
class InferencePlan:
    inference_tokens: float
    target_loss: float
    params: float
    tokens: float
    chinchilla_params: float  # the compute-optimal run that reaches the same loss
    chinchilla_tokens: float

    @staticmethod
    def lifetime(params: float, tokens: float, inference_tokens: float) -> float:
        return (
            FLOPS_PER_PARAM_TOKEN * params * tokens
            + INFERENCE_FLOPS_PER_PARAM_TOKEN * params * inference_tokens
        )

    @property
    def training_flops(self) -> float:
        return FLOPS_PER_PARAM_TOKEN * self.params * self.tokens

    @property
    def lifetime_flops(self) -> float:
        return self.lifetime(self.params, self.tokens, self.inference_tokens)

    @property
    def chinchilla_lifetime_flops(self) -> float:
        return self.lifetime(self.chinchilla_params, self.chinchilla_tokens, self.inference_tokens)

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params

    @property
    def saved_flops(self) -> float:
        """Lifetime compute saved over the compute-optimal model of the same loss."""
        return self.chinchilla_lifetime_flops - self.lifetime_flops

    @property
    def saved_fraction(self) -> float:
        return 1.0 - self.lifetime_flops / self.chinchilla_lifetime_flops

    def to_dict(self) -> dict[str, Any]:
        return {
            "inference_tokens": self.inference_tokens,
            "target_loss": self.target_loss,
            "params": self.params,
            "tokens": self.tokens,
            "tokens_per_param": self.tokens_per_param,
            "training_flops": self.training_flops,
            "lifetime_flops": self.lifetime_flops,
            "chinchilla_params": self.chinchilla_params,
            "chinchilla_tokens": self.chinchilla_tokens,
            "chinchilla_lifetime_flops": self.chinchilla_lifetime_flops,
            "lifetime_flops_saved": self.saved_flops,
            "lifetime_saved_fraction": self.saved_fraction,
        }


def inference_optimal(
    law: ParametricLaw, target_loss: float, inference_tokens: float
) -> InferencePlan:
    if target_loss <= law.E:
        raise InputError(
            f"{target_loss:g} is at or below the irreducible loss "
            f"E = {law.E:g} of {law.name}: no model reaches it",
            field="target_loss",
        )
    E, A, B, alpha, beta = law.E, law.A, law.B, law.alpha, law.beta

    def f(log_d: float) -> float:
        d = math.exp(log_d)
        excess: float = (
            (beta * B / alpha + B) * d**-beta
            + (inference_tokens * beta * B / (3 * alpha)) * d ** (-beta - 1)
            + E
            - target_loss
        )
        return excess

    # f falls from +inf (tiny D) to E - l < 0 (huge D): one root
    log_d = bisect(f, math.log(1.0), math.log(1e30))
    d = math.exp(log_d)
    n = (A / (target_loss - E - B * d**-beta)) ** (1 / alpha)
    c_star = flops_for_loss(law, target_loss)
    assert c_star is not None
    ref = optimal_allocation(law, c_star)
    return InferencePlan(inference_tokens, target_loss, n, d, ref.params, ref.tokens)
