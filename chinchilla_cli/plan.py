"""A training plan: a budget, its compute-optimal split under a law, the loss it
predicts, an architecture of that size, and whether it fits the hardware."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from chinchilla_cli.architecture import Architecture, sketch
from chinchilla_cli.frontier import Allocation, optimal_allocation
from chinchilla_cli.hardware import SECONDS_PER_DAY, Cluster
from chinchilla_cli.laws import Law, LossTerms, load_law

# Mixed-precision Adam: bf16 weights (2) + bf16 grads (2) + fp32 master, m, v (12).
TRAIN_BYTES_PER_PARAM = 16
CROSSCHECK_LAWS = (
    "hoffmann2022-approach1",
    "hoffmann2022-approach2",
    "hoffmann2022",
    "hoffmann2022-unrounded",
    "besiroglu2024",
    "kaplan2020",
)


@dataclass(frozen=True)
class Budget:
    """How much compute, where it came from, and the cluster it runs on (if known)."""

    flops: float
    source: str  # "flops" | "hardware" | "params" | "tokens"
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
            "seconds": self.seconds,
            "days": None if self.seconds is None else self.seconds / SECONDS_PER_DAY,
        }


@dataclass(frozen=True)
class Feasibility:
    train_memory_bytes: float
    bytes_per_param: int
    chip_memory_bytes: float | None
    cluster_memory_bytes: float | None
    fits: bool | None  # None when no cluster was given
    min_chips_for_memory: int | None
    tokens_per_second: float | None
    tokens_per_second_per_chip: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "train_memory_bytes": self.train_memory_bytes,
            "bytes_per_param": self.bytes_per_param,
            "cluster_memory_bytes": self.cluster_memory_bytes,
            "fits": self.fits,
            "min_chips_for_memory": self.min_chips_for_memory,
            "tokens_per_second": self.tokens_per_second,
            "tokens_per_second_per_chip": self.tokens_per_second_per_chip,
        }


def feasibility(params: float, tokens: float, budget: Budget) -> Feasibility:
    memory = TRAIN_BYTES_PER_PARAM * params
    c = budget.cluster
    if c is None:
        return Feasibility(memory, TRAIN_BYTES_PER_PARAM, None, None, None, None, None, None)
    rate = tokens / budget.seconds if budget.seconds else None
    return Feasibility(
        train_memory_bytes=memory,
        bytes_per_param=TRAIN_BYTES_PER_PARAM,
        chip_memory_bytes=c.accelerator.memory_bytes,
        cluster_memory_bytes=c.memory_bytes,
        fits=memory <= c.memory_bytes,
        min_chips_for_memory=math.ceil(memory / c.accelerator.memory_bytes),
        tokens_per_second=rate,
        tokens_per_second_per_chip=None if rate is None else rate / c.chips,
    )


@dataclass(frozen=True)
class CrossCheck:
    law: str
    kind: str
    params: float
    tokens: float
    loss: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"law": self.law, "kind": self.kind, "params": self.params, "tokens": self.tokens,
                "tokens_per_param": self.tokens / self.params, "loss": self.loss}


def crosscheck(flops: float, names: tuple[str, ...] = CROSSCHECK_LAWS) -> tuple[CrossCheck, ...]:
    rows = []
    for name in names:
        law = load_law(name)
        alloc = optimal_allocation(law, flops)
        terms = law.loss(alloc.params, alloc.tokens)
        rows.append(CrossCheck(name, law.kind, alloc.params, alloc.tokens,
                               None if terms is None else terms.total))
    return tuple(rows)


@dataclass(frozen=True)
class Plan:
    law: Law
    budget: Budget
    optimal: Allocation
    loss: LossTerms | None
    architecture: Architecture
    feasibility: Feasibility
    crosscheck: tuple[CrossCheck, ...]
    assumptions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        loss = self.loss.to_dict() if self.loss else dict.fromkeys(
            ("total", "irreducible", "params_term", "data_term"))
        return {
            "law": {"name": self.law.name, "kind": self.law.kind, "source": self.law.source},
            "budget": self.budget.to_dict(),
            "optimal": self.optimal.to_dict(),
            "loss": loss,
            "architecture": self.architecture.to_dict(),
            "feasibility": self.feasibility.to_dict(),
            "crosscheck": [c.to_dict() for c in self.crosscheck],
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
        }


def make_plan(
    law: Law,
    budget: Budget,
    allocation: Allocation | None = None,
    *,
    vocab_size: int | None = None,
    seq_len: int = 2048,
    aspect_ratio: float = 100.0,
    family: str = "chinchilla",
    kv_heads: int = 8,
    assumptions: tuple[str, ...] = (),
) -> Plan:
    """Everything `chinchilla plan` reports for one budget.

    `allocation` overrides the law's optimum (a plan from --params or --tokens passes the
    exact size the user asked for rather than a round trip through the frontier).
    """
    alloc = allocation or optimal_allocation(law, budget.flops)
    arch = sketch(alloc.params, vocab_size, seq_len, aspect_ratio, family, kv_heads)
    feas = feasibility(alloc.params, alloc.tokens, budget)
    warnings = list(law.notes)
    if feas.fits is False:
        c = budget.cluster
        assert c is not None
        warnings.append(
            f"training state ({feas.train_memory_bytes / 1e12:.2f} TB at {TRAIN_BYTES_PER_PARAM} "
            f"bytes/param) does not fit in the cluster's {feas.cluster_memory_bytes / 1e12:.2f} TB "
            f"of accelerator memory even fully sharded; it needs at least "
            f"{feas.min_chips_for_memory} x {c.accelerator.name}"
        )
    return Plan(law, budget, alloc, law.loss(alloc.params, alloc.tokens), arch, feas,
                crosscheck(budget.flops), assumptions, tuple(warnings))
