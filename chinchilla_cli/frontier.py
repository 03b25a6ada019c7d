"""The compute-optimal frontier of a law: the split of a budget C = 6 N D that
minimises the predicted loss, the loss along it, and its inverse (the least compute
that reaches a loss)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from chinchilla_cli.laws import FLOPS_PER_PARAM_TOKEN, KaplanLaw, Law, ParametricLaw, tokens_for
from chinchilla_cli.solvers import boundary


@dataclass(frozen=True)
class Allocation:
    """A training run's split of compute: N `params` trained on D `tokens`, spending
    C = 6 N D `flops`."""

    params: float
    tokens: float

    @property
    def flops(self) -> float:
        return FLOPS_PER_PARAM_TOKEN * self.params * self.tokens

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params

    def to_dict(self) -> dict[str, float]:
        return {
            "params": self.params,
            "tokens": self.tokens,
            "tokens_per_param": self.tokens_per_param,
            "flops": self.flops,
        }


def optimal_allocation(
    law: Law, flops: float, *, params: float | None = None, tokens: float | None = None
) -> Allocation:
    """The law's compute-optimal split of `flops`: 6 N D = flops exactly for the laws that
    split C = 6 N D; DeepSeek's keeps its own D_opt (C = M D). Give `params` or `tokens`
    when one side is already known (a plan for a model size keeps the size asked)."""
    if not law.splits_6nd:
        return Allocation(
            law.optimal_params(flops) if params is None else params,
            law.optimal_tokens(flops) if tokens is None else tokens,
        )
    if tokens is not None:
        return Allocation(tokens_for(flops, tokens), tokens)
    n = law.optimal_params(flops) if params is None else params
    return Allocation(n, tokens_for(flops, n))


def frontier_loss(law: Law, flops: float) -> float | None:
    """L*(C): the predicted loss of the law's compute-optimal run of `flops`."""
    if not law.predicts_loss:
        return None
    alloc = optimal_allocation(law, flops)
    terms = law.loss(alloc.params, alloc.tokens)
    return None if terms is None else terms.total


def loss_floor(law: Law) -> float | None:
    """The loss the frontier approaches as C -> inf (E; 0 for Kaplan's law)."""
    if law.kind == "parametric":
        return law.E  # type: ignore[union-attr]
    return 0.0 if law.predicts_loss else None


def flops_for_loss(law: Law, loss: float) -> float | None:
    """C*: the least compute whose compute-optimal run reaches `loss`; None if none does."""
    floor = loss_floor(law)
    if floor is None or not math.isfinite(loss) or loss <= floor:
        return None
    if isinstance(law, ParametricLaw):
        return law.flops_for_loss(loss)
    return bisect_flops_for_loss(law, loss)


def bisect_flops_for_loss(law: Law, loss: float, start: float = 1e23) -> float | None:
    """C* by bisection in log C on the decreasing L*(C); None when it is out of float range."""

    def above(log_c: float) -> bool:  # L*(C) > loss: C is too small
        value = frontier_loss(law, math.exp(log_c))
        return value is not None and value > loss

    lo = hi = math.log(start)
    step = math.log(10.0)
    limit = math.log(1e300)
    while above(hi):
        lo, hi = hi, hi + step
        if hi > limit:
            return None
    while not above(lo):
        hi, lo = lo, lo - step
        if lo < -limit:
            return None
    return math.exp(boundary(above, lo, hi))


def data_ceiling(law: Law, tokens: float) -> float | None:
    """L(inf, D): the lowest loss any model size reaches on `tokens` tokens."""
    if law.kind == "parametric":
        assert isinstance(law, ParametricLaw)
        return law.data_ceiling(tokens)
    if law.kind == "kaplan":
        assert isinstance(law, KaplanLaw)
        ceiling: float = (law.D_c / tokens) ** law.alpha_D
        return ceiling
    return None
