"""How flat the optimum is (de Vries 2023, "Go smol or go home"): scale the model by
k_N from the optimum and keep the loss; the data must scale by
    k_D = (1 - (k_N^-alpha - 1) · (A N^-alpha) / (B D^-beta))^(-1/beta)
and the compute overhead is k_N·k_D - 1. Below a critical size no amount of data
reaches the loss (the bracket is not positive)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chinchilla_cli.laws import ParametricLaw

SIZE_FACTORS = (0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 1.0, 1.25, 1.5, 2.0)


@dataclass(frozen=True)
class TradeoffRow:
    size_factor: float
    params: float
    tokens: float | None  # None: this size cannot reach the loss
    token_factor: float | None

    @property
    def compute_overhead(self) -> float | None:
        return None if self.token_factor is None else self.size_factor * self.token_factor - 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "size_factor": self.size_factor,
            "params": self.params,
            "tokens": self.tokens,
            "token_factor": self.token_factor,
            "compute_overhead": self.compute_overhead,
        }


def tradeoff(
    law: ParametricLaw, params: float, tokens: float, factors: tuple[float, ...] = SIZE_FACTORS
) -> tuple[TradeoffRow, ...]:
    ratio = (law.A * params**-law.alpha) / (law.B * tokens**-law.beta)
    rows = []
    for k in factors:
        bracket = 1.0 - (k**-law.alpha - 1.0) * ratio
        if bracket <= 0:
            rows.append(TradeoffRow(k, k * params, None, None))
            continue
        k_d = bracket ** (-1.0 / law.beta)
        rows.append(TradeoffRow(k, k * params, k_d * tokens, k_d))
    return tuple(rows)
