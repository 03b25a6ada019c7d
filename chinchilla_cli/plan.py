"""A training plan: a budget, its compute-optimal split under a law, the loss it
predicts, an architecture of that size, and whether it fits the hardware."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chinchilla_cli.architecture import Architecture, sketch
from chinchilla_cli.constrained import ConstrainedPlan, optimal_constrained
from chinchilla_cli.costs import Cost, Energy
from chinchilla_cli.frontier import Allocation, frontier_loss, optimal_allocation
from chinchilla_cli.hardware import SECONDS_PER_DAY, Cluster
from chinchilla_cli.inference import InferencePlan, inference_optimal
from chinchilla_cli.laws import DeepSeekLaw, Law, LossTerms, ParametricLaw, load_law
from chinchilla_cli.quantity import human
from chinchilla_cli.tradeoff import TradeoffRow, tradeoff

# Mixed-precision Adam: bf16 weights (2) + bf16 grads (2) + fp32 master, m, v (12).
TRAIN_BYTES_PER_PARAM = 16
CROSSCHECK_LAWS = (
    "hoffmann2022-approach1",
    "hoffmann2022-approach2",
    "hoffmann2022",
    "hoffmann2022-unrounded",
    "besiroglu2024",
    "kaplan2020",
    "llama3-2024",
    "deepseek2024",
)
DISAGREEMENT = 2.0  # say so when the cross-check's N_opt spans more than this factor


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
        return {
            "law": self.law,
            "kind": self.kind,
            "params": self.params,
            "tokens": self.tokens,
            "tokens_per_param": self.tokens / self.params,
            "loss": self.loss,
        }


def crosscheck(flops: float, names: tuple[str, ...] = CROSSCHECK_LAWS) -> tuple[CrossCheck, ...]:
    rows = []
    for name in names:
        law = load_law(name)
        alloc = optimal_allocation(law, flops)
        terms = law.loss(alloc.params, alloc.tokens)
        rows.append(
            CrossCheck(
                name, law.kind, alloc.params, alloc.tokens, None if terms is None else terms.total
            )
        )
    return tuple(rows)


def disagreement(rows: tuple[CrossCheck, ...]) -> str | None:
    """A sentence when the laws' N_opt differ by more than DISAGREEMENT x.

    Kaplan's law is left out: it counts parameters without embeddings and its allocation
    is the one the Chinchilla paper overturned, so it would always be the outlier."""
    modern = [r for r in rows if r.kind != "kaplan"]
    if len(modern) < 2:
        return None
    lo = min(modern, key=lambda r: r.params)
    hi = max(modern, key=lambda r: r.params)
    if hi.params <= DISAGREEMENT * lo.params:
        return None
    return (
        f"the laws disagree by {hi.params / lo.params:.1f}x on N_opt at this budget: from "
        f"{human(lo.params)} ({lo.law}) to {human(hi.params)} ({hi.law}), kaplan2020 aside; "
        "the choice of law matters more than the precision of any one of them"
    )


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def to_list(self) -> list[float]:
        return [self.low, self.high]


@dataclass(frozen=True)
class Uncertainty:
    """Percentile intervals over the bootstrap samples a law carries."""

    level: float
    samples: int
    params: Interval  # N_opt(C)
    tokens: Interval  # D_opt(C)
    loss: Interval  # L at the plan's (N, D)
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "samples": self.samples,
            "params": self.params.to_list(),
            "tokens": self.tokens.to_list(),
            "loss": self.loss.to_list(),
            "source": self.source,
        }


def uncertainty(
    law: ParametricLaw, flops: float, alloc: Allocation, level: float = 95.0
) -> Uncertainty | None:
    laws = law.sample_laws()
    if not laws:
        return None

    def interval(values: list[float]) -> Interval:
        values = sorted(values)
        tail = (100.0 - level) / 200.0

        def q(p: float) -> float:  # linear interpolation, as numpy.percentile's default
            x = p * (len(values) - 1)
            i = int(x)
            j = min(i + 1, len(values) - 1)
            return values[i] + (values[j] - values[i]) * (x - i)

        return Interval(q(tail), q(1.0 - tail))

    return Uncertainty(
        level,
        len(laws),
        interval([s.optimal_params(flops) for s in laws]),
        interval([s.optimal_tokens(flops) for s in laws]),
        interval([s.loss(alloc.params, alloc.tokens).total for s in laws]),
        law.samples_source,
    )


@dataclass(frozen=True)
class Hyperparameters:
    """DeepSeek LLM's learning-rate and batch-size laws at this budget (suggestions)."""

    learning_rate: float
    batch_tokens: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "learning_rate": self.learning_rate,
            "batch_tokens": self.batch_tokens,
            "source": self.source,
        }


def hyperparameters(flops: float) -> Hyperparameters:
    ds = load_law("deepseek2024")
    assert isinstance(ds, DeepSeekLaw)
    return Hyperparameters(
        ds.learning_rate(flops),
        ds.batch_tokens(flops),
        "DeepSeek LLM (arXiv 2401.02954): eta = 0.3118 C^-0.125, B = 0.2920 C^0.3271",
    )


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
    warnings: tuple[str, ...] = ()
    findings: tuple[str, ...] = ()
    constrained: ConstrainedPlan | None = None
    inference: InferencePlan | None = None
    tradeoff: tuple[TradeoffRow, ...] = ()
    uncertainty: Uncertainty | None = None
    cost: Cost | None = None
    energy: Energy | None = None
    hyperparameters: Hyperparameters | None = None

    def to_dict(self) -> dict[str, Any]:
        loss = (
            self.loss.to_dict()
            if self.loss
            else dict.fromkeys(("total", "irreducible", "params_term", "data_term"))
        )
        return {
            "law": {"name": self.law.name, "kind": self.law.kind, "source": self.law.source},
            "budget": self.budget.to_dict(),
            "optimal": self.optimal.to_dict(),
            "loss": loss,
            "architecture": self.architecture.to_dict(),
            "feasibility": self.feasibility.to_dict(),
            "cost": self.cost.to_dict() if self.cost else None,
            "energy": self.energy.to_dict() if self.energy else None,
            "uncertainty": self.uncertainty.to_dict() if self.uncertainty else None,
            "data_constrained": self.constrained.to_dict() if self.constrained else None,
            "inference": self.inference.to_dict() if self.inference else None,
            "tradeoff": [r.to_dict() for r in self.tradeoff],
            "hyperparameters": self.hyperparameters.to_dict() if self.hyperparameters else None,
            "crosscheck": [c.to_dict() for c in self.crosscheck],
            "findings": list(self.findings),
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Shape:
    """How to sketch the architecture."""

    family: str = "chinchilla"
    vocab_size: int | None = None  # None: the family's default
    seq_len: int = 2048
    aspect_ratio: float = 100.0
    kv_heads: int = 8


def make_plan(
    law: Law,
    budget: Budget,
    allocation: Allocation | None = None,
    *,
    shape: Shape = Shape(),
    unique_tokens: float | None = None,
    inference_tokens: float | None = None,
    target_loss: float | None = None,
    costs: tuple[Cost, Energy] | None = None,
    assumptions: tuple[str, ...] = (),
) -> Plan:
    """Everything `chinchilla plan` reports for one budget.

    `allocation` overrides the law's optimum (a plan from --params or --tokens passes the
    exact size the user asked for rather than a round trip through the frontier).
    With `unique_tokens` the plan's split is the data-constrained optimum.
    """
    alloc = allocation or optimal_allocation(law, budget.flops)
    warnings = list(law.notes)
    findings = []
    constrained = inference = None
    if unique_tokens is not None:
        assert isinstance(law, ParametricLaw)
        constrained = optimal_constrained(law, budget.flops, unique_tokens)
        alloc = Allocation(constrained.params, constrained.tokens)
    if inference_tokens is not None:
        assert isinstance(law, ParametricLaw)
        goal = (
            target_loss if target_loss is not None else law.loss(alloc.params, alloc.tokens).total
        )
        inference = inference_optimal(law, goal, inference_tokens)

    arch = sketch(
        alloc.params,
        shape.vocab_size,
        shape.seq_len,
        shape.aspect_ratio,
        shape.family,
        shape.kv_heads,
    )
    feas = feasibility(alloc.params, alloc.tokens, budget)
    if feas.fits is False:
        c = budget.cluster
        assert c is not None
        warnings.append(
            f"training state ({feas.train_memory_bytes / 1e12:.2f} TB at {TRAIN_BYTES_PER_PARAM} "
            f"bytes/param) does not fit in the cluster's {c.memory_bytes / 1e12:.2f} TB "
            f"of accelerator memory even fully sharded; it needs at least "
            f"{feas.min_chips_for_memory} x {c.accelerator.name}"
        )
    checks = crosscheck(budget.flops)
    spread = disagreement(checks)
    if spread:
        findings.append(spread)
    terms = law.loss(alloc.params, alloc.tokens)
    if constrained is not None and isinstance(law, ParametricLaw):
        # with repeated data the loss is the law's at the effective N' and D'
        terms = law.loss(constrained.effective_params, constrained.effective_tokens)
    return Plan(
        law,
        budget,
        alloc,
        terms,
        arch,
        feas,
        checks,
        assumptions,
        tuple(warnings),
        tuple(findings),
        constrained,
        inference,
        tradeoff(law, alloc.params, alloc.tokens)
        if isinstance(law, ParametricLaw) and constrained is None
        else (),
        uncertainty(law, budget.flops, alloc) if isinstance(law, ParametricLaw) else None,
        costs[0] if costs else None,
        costs[1] if costs else None,
        hyperparameters(budget.flops),
    )


def frontier_rows(law: Law, budgets: Sequence[float]) -> list[dict[str, Any]]:
    """One row per budget along the law's frontier (for --budget-range)."""
    rows = []
    for c in budgets:
        a = optimal_allocation(law, c)
        row: dict[str, Any] = {**a.to_dict(), "loss": frontier_loss(law, c)}
        if isinstance(law, ParametricLaw):
            u = uncertainty(law, c, a)
            row["uncertainty"] = u.to_dict() if u else None
        rows.append(row)
    return rows
