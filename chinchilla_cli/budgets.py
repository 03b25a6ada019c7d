"""A plan's budget: given as FLOPs, a cluster and a duration, a model size, a token count
or a target loss, resolved to the FLOPs C it means (and the cluster, if any, it runs on).
Every way is refused below the sizes the laws describe and above the budgets they do."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chinchilla_cli.errors import InputError
from chinchilla_cli.frontier import Allocation, flops_for_loss, optimal_allocation
from chinchilla_cli.hardware import SECONDS_PER_DAY, SECONDS_PER_HOUR, Cluster
from chinchilla_cli.laws import FLOPS_PER_PARAM_TOKEN, Law
from chinchilla_cli.quantity import MAX_BUDGET_FLOPS, require, sci
from chinchilla_cli.specs import ClusterSpec


@dataclass(frozen=True)
class Budget:
    """How much compute, where it came from, and the cluster it runs on (if known)."""

    flops: float
    source: str  # "flops" | "hardware" | "params" | "tokens" | "target-loss" | "deadline"
    cluster: Cluster | None = None
    seconds: float | None = None  # wall-clock on the cluster, given or derived

    def to_dict(self) -> dict[str, Any]:
        c = self.cluster
        return {
            "flops": self.flops,
            "source": self.source,
            "accelerator": c.accelerator.name if c else None,
            "chips": c.chips if c else None,
            "peak_flops_per_second": c.peak_flops_per_second if c else None,
            "mfu": c.mfu if c else None,
            "goodput": c.goodput if c else None,
            "seconds": self.seconds,
            "days": None if self.seconds is None else self.seconds / SECONDS_PER_DAY,
        }


# Below these the laws describe nothing: a 32k-token embedding alone is ~2M parameters, and
# the smallest runs any law here was fitted to have tens of millions (Hoffmann et al.
# 2022: 70M; Besiroglu et al. 2024: 57M). Between these and a law's fitted runs, plans
# say that they extrapolate.
MIN_PLAN_PARAMS = 1e6
MIN_PLAN_TOKENS = 1e6
MIN_PLAN_FLOPS = FLOPS_PER_PARAM_TOKEN * MIN_PLAN_PARAMS * MIN_PLAN_TOKENS
MIN_ASPECT_RATIO, MAX_ASPECT_RATIO = 4.0, 1000.0  # Table A9 43-109; GPT-3 128, Gopher 205
# The largest training clusters reported by 2025 hold on the order of 1e5 accelerators.
LARGEST_CLUSTER_CHIPS = 200_000


def too_small(value: float, smallest: float, field: str) -> str:
    what = {"flops": "FLOPs", "params": "parameters", "tokens": "tokens"}[field]
    return (
        f"{value:g} {what} is below {smallest:g}: no law here describes runs that small "
        f"(their smallest fitted runs have tens of millions of parameters); accepted: "
        f"{smallest:g} or more"
    )


def deadline_warnings(chips: int) -> list[str]:
    """A deadline that needs more chips than exist (more than the batch can feed: see
    hyperparameter_findings)."""
    out = []
    if chips > LARGEST_CLUSTER_CHIPS:
        out.append(
            f"the deadline needs {chips:,} accelerators, more than the largest training "
            f"clusters built to date (about {LARGEST_CLUSTER_CHIPS:,})"
        )
    return out


def check_one_budget(given: dict[str, Any]) -> None:
    """Refuse a budget given several ways, or none (keys: the arguments, values: None
    where not given)."""
    ways = [f"`{k}`" for k, v in given.items() if v is not None]
    if len(ways) > 1:
        raise InputError(
            f"plan: the budget is given {len(ways)} ways ({', '.join(ways)}); give exactly one",
            field=next(k for k, v in given.items() if v is not None).split("`")[0],
            located=True,
        )
    if not ways:
        raise InputError(
            "no budget; give one of `flops` C, `chips` N with `days` or `hours`, "
            "`params` N, `tokens` D, `target_loss` L or `budget_range`",
            field="flops",
            located=True,
        )


def budget_for(compute: Callable[[float], float], value: float, asked: str, field: str) -> float:
    """The budget `compute(value)` that an argument implies, if the laws and sketches
    describe it (at most MAX_BUDGET_FLOPS); else one InputError about `field`."""
    try:
        total = compute(value)
    except OverflowError:
        total = math.inf
    if not 0 < total <= MAX_BUDGET_FLOPS:  # NaN fails too
        size = sci(total) if math.isfinite(total) else "more than 1e308"
        raise InputError(
            f"{asked} needs a budget of {size} FLOPs; the laws and the architecture sketch "
            f"describe budgets up to {sci(MAX_BUDGET_FLOPS, 1)}",
            field=field,
        )
    return total


def check_budget_arguments(
    flops: float | None,
    *,
    chips: int | None,
    days: float | None,
    hours: float | None,
    params: float | None,
    tokens: float | None,
    target_loss: float | None,
    deadline_days: float | None,
) -> None:
    """Refuse a budget given several ways or none, and any of its numbers out of range."""
    hardware_budget = chips if (days is not None or hours is not None) else None
    budgets = {
        "flops": flops,
        "params": params if tokens is None else None,
        "tokens": tokens if params is None else None,
        "params` with `tokens": params if params is not None and tokens is not None else None,
        "target_loss": target_loss,
        "chips` with `days`/`hours": hardware_budget,
    }
    if sum(v is not None for v in budgets.values()) <= 1:
        if days is not None and hours is not None:
            raise InputError("plan: give `days` or `hours`, not both", field="hours", located=True)
        if (days is not None or hours is not None) and chips is None:
            raise InputError(
                "plan: `days`/`hours` need `chips` (how many accelerators)",
                field="chips",
                located=True,
            )
    check_one_budget(budgets)
    if deadline_days is not None and chips is not None:
        raise InputError(
            "gives the chips needed; do not combine it with `chips`", field="deadline_days"
        )
    for field, value in (
        ("days", days),
        ("hours", hours),
        ("target_loss", target_loss),
        ("deadline_days", deadline_days),
    ):
        require(value, field)
    for field, value, smallest in (
        ("flops", flops, MIN_PLAN_FLOPS),
        ("params", params, MIN_PLAN_PARAMS),
        ("tokens", tokens, MIN_PLAN_TOKENS),
    ):
        require(value, field)
        if value is not None and value < smallest:
            raise InputError(too_small(value, smallest, field), field=field)
    require(chips, "chips", integer=True)


def resolve_budget(
    law: Law,
    hardware: ClusterSpec,
    flops: float | None = None,
    *,
    chips: int | None = None,
    seconds: float | None = None,
    params: float | None = None,
    tokens: float | None = None,
    target_loss: float | None = None,
    deadline_days: float | None = None,
) -> tuple[Budget, Allocation | None]:
    """The budget the one given way means, and the run it fixes (None: the law's split).
    `seconds` with `chips` is a hardware budget; `chips` or `deadline_days` alone, the
    cluster of a budget given otherwise."""
    allocation = None
    if flops is not None:
        total, source = flops, "flops"
    elif params is not None and tokens is not None:
        as_given = Allocation(params, tokens)
        allocation, source = as_given, "params-and-tokens"
        total = budget_for(lambda _: as_given.flops, params, "`params` x `tokens`", "params")
    elif params is not None:
        total = budget_for(law.flops_for_params, params, f"{params:g} parameters", "params")
        allocation, source = optimal_allocation(law, total, params=params), "params"
    elif tokens is not None:
        total = budget_for(law.flops_for_tokens, tokens, f"{tokens:g} tokens", "tokens")
        allocation, source = optimal_allocation(law, total, tokens=tokens), "tokens"
    elif target_loss is not None:
        total, source = _flops_for_target(law, target_loss), "target-loss"
    else:
        total, source = 0.0, "hardware"
    cluster: Cluster | None = None
    if chips is not None:
        cluster = hardware.cluster(chips)
    elif deadline_days is not None:
        cluster = hardware.chips_for(total, deadline_days * SECONDS_PER_DAY)
    if source == "hardware":
        assert cluster is not None and chips is not None and seconds is not None
        total = budget_for(
            cluster.flops_in, seconds, f"`chips` {chips:,} for {seconds:g} s", "chips"
        )
        if total < MIN_PLAN_FLOPS:
            raise InputError(too_small(total, MIN_PLAN_FLOPS, "flops"), field="chips")
    seconds_on = cluster.seconds_for(total) if cluster else None
    return Budget(total, source, cluster, seconds_on), allocation


def budget_seconds(days: float | None, hours: float | None) -> float | None:
    """The wall-clock of a hardware budget (None: none given)."""
    if days is not None:
        return days * SECONDS_PER_DAY
    return None if hours is None else hours * SECONDS_PER_HOUR


def _flops_for_target(law: Law, target_loss: float) -> float:
    """The least compute reaching `target_loss`, refused at or below the law's floor."""
    c_star = flops_for_loss(law, target_loss)
    if c_star is None:
        floor = getattr(law, "E", 0.0)
        raise InputError(
            f"{target_loss:g} is unreachable under {law.name}: "
            f"at or below its irreducible loss {floor:g}; accepted: a loss above it",
            field="target_loss",
        )
    return budget_for(lambda _: c_star, target_loss, f"a loss of {target_loss:g}", "target_loss")
