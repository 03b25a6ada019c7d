"""A training plan: a budget, its compute-optimal split under a law, the loss it
predicts, an architecture of that size, and whether it fits the hardware."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from chinchilla_cli._display import display_bundle
from chinchilla_cli.architecture import (
    DEFAULT_ASPECT_RATIO,
    DEFAULT_FAMILY,
    DEFAULT_KV_HEADS,
    DEFAULT_SEQ_LEN,
    DEFAULT_VOCAB,
    SKETCH_FAMILIES,
    Architecture,
    sketch,
)
from chinchilla_cli.constrained import ConstrainedPlan, optimal_constrained
from chinchilla_cli.costs import (
    DEFAULT_GRID_G_PER_KWH,
    DEFAULT_PUE,
    GRID_SOURCE,
    PUE_SOURCE,
    Cost,
    Energy,
    Prices,
    run_costs,
)
from chinchilla_cli.errors import InputError
from chinchilla_cli.frontier import Allocation, flops_for_loss, frontier_loss, optimal_allocation
from chinchilla_cli.hardware import (
    DEFAULT_ACCELERATOR,
    DEFAULT_GOODPUT,
    DEFAULT_MFU,
    DEFAULT_PRECISION,
    PRECISIONS,
    SECONDS_PER_DAY,
    SECONDS_PER_HOUR,
    Cluster,
    Precision,
    cluster_assumptions,
    load_accelerator,
    peak_precision,
)
from chinchilla_cli.hyperparameters import Hyperparameters as LawHyperparameters
from chinchilla_cli.hyperparameters import load_hyperparameter_law, optimal_hyperparameters
from chinchilla_cli.inference import InferencePlan, inference_optimal
from chinchilla_cli.laws import (
    DEFAULT_LAW,
    FLOPS_PER_PARAM_TOKEN,
    Law,
    LossTerms,
    ParametricLaw,
    extrapolation_warning,
    load_law,
)
from chinchilla_cli.moe import MoEArchitecture, moe_sketch
from chinchilla_cli.quantity import MAX_BUDGET_FLOPS, human, parse_budgets, require, sci
from chinchilla_cli.tradeoff import TradeoffRow, tradeoff

if TYPE_CHECKING:  # a plan loads the forecast only when its law carries one
    from chinchilla_cli.accuracy import AccuracyForecast

# Mixed-precision Adam: bf16 weights (2) + bf16 grads (2) + fp32 master, m, v (12).
TRAIN_BYTES_PER_PARAM = PRECISIONS[DEFAULT_PRECISION].bytes_per_param
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
    seconds: float | None = None  # wall-clock of the recommended run on the cluster
    # the parameters held in memory: a mixture of experts holds every expert (N is active)
    memory_params: float | None = None
    precision: str = DEFAULT_PRECISION

    def to_dict(self) -> dict[str, Any]:
        return {
            "train_memory_bytes": self.train_memory_bytes,
            "bytes_per_param": self.bytes_per_param,
            "memory_params": self.memory_params,
            "precision": self.precision,
            "cluster_memory_bytes": self.cluster_memory_bytes,
            "fits": self.fits,
            "min_chips_for_memory": self.min_chips_for_memory,
            "tokens_per_second": self.tokens_per_second,
            "tokens_per_second_per_chip": self.tokens_per_second_per_chip,
            "seconds": self.seconds,
        }


def feasibility(
    run: Allocation,
    c: Cluster | None,
    memory_params: float | None = None,
    precision: Precision = PRECISIONS[DEFAULT_PRECISION],
) -> Feasibility:
    """Whether the run's training state fits the cluster, and the throughput it needs.
    `memory_params`: the parameters held (a mixture of experts' total; default N)."""
    held = run.params if memory_params is None else memory_params
    memory = precision.bytes_per_param * held
    bpp = precision.bytes_per_param
    if c is None:
        return Feasibility(
            memory, bpp, None, None, None, None, None, None, None, held, precision.name
        )
    seconds = c.seconds_for(run.flops)
    rate = run.tokens / seconds if seconds else None
    return Feasibility(
        memory_params=held,
        precision=precision.name,
        train_memory_bytes=memory,
        bytes_per_param=bpp,
        chip_memory_bytes=c.accelerator.memory_bytes,
        cluster_memory_bytes=c.memory_bytes,
        fits=memory <= c.memory_bytes,
        min_chips_for_memory=math.ceil(memory / c.accelerator.memory_bytes),
        tokens_per_second=rate,
        tokens_per_second_per_chip=None if rate is None else rate / c.chips,
        seconds=seconds,
    )


@dataclass(frozen=True)
class CrossCheck:
    law: str
    kind: str
    params: float
    tokens: float
    loss: float | None

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params

    def to_dict(self) -> dict[str, Any]:
        return {
            "law": self.law,
            "kind": self.kind,
            "params": self.params,
            "tokens": self.tokens,
            "tokens_per_param": self.tokens_per_param,
            "loss": self.loss,
        }


def crosscheck(
    flops: float, names: tuple[str, ...] = CROSSCHECK_LAWS, chosen: Law | None = None
) -> tuple[CrossCheck, ...]:
    """Every preset law's optimum at `flops`, and the chosen law's when it is not a preset
    (a fitted law must face the others too)."""
    laws = [load_law(name) for name in names]
    if chosen is not None and chosen.name not in names:
        laws.insert(0, chosen)
    rows = []
    for law in laws:
        alloc = optimal_allocation(law, flops)
        terms = law.loss(alloc.params, alloc.tokens)
        rows.append(
            CrossCheck(
                law.name,
                law.kind,
                alloc.params,
                alloc.tokens,
                None if terms is None else terms.total,
            )
        )
    return tuple(rows)


SKETCH_TOLERANCE = 0.10  # warn when the sketch's count is further than this from N
ASPECT_TOLERANCE = 1.5  # ... or its d_model / layers more than this factor from the asked


def sketch_warnings(
    arch: Architecture | MoEArchitecture, params: float, aspect_ratio: float
) -> list[str]:
    """Say when the sketch does not describe the planned model (its active count: N is
    what each token uses)."""
    out = []
    off = arch.active_params / params - 1
    what = "active parameters" if isinstance(arch, MoEArchitecture) else "parameters"
    if abs(off) > SKETCH_TOLERANCE:
        out.append(
            f"the architecture sketch has {human(arch.active_params)} {what}, {off:+.0%} from "
            f"the planned {human(params)} ({arch.n_layers} layer{'s' * (arch.n_layers != 1)} x "
            f"{arch.d_model}): no shape of this "
            "family comes closer; its memory and FLOPs describe the sketch, not the plan"
        )
    ratio = arch.aspect_ratio / aspect_ratio
    if not 1 / ASPECT_TOLERANCE <= ratio <= ASPECT_TOLERANCE:
        out.append(
            f"the sketch's d_model/layers is {arch.aspect_ratio:.3g}, not the asked "
            f"{aspect_ratio:g}: widths come in whole heads and depth in whole layers"
        )
    return out


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


# The hyperparameter laws a plan asks, in presets/hyperparameters.yaml; the first one's
# batch is the plan's (its C-based law needs only the budget, and its rate and batch were
# fitted together).
HYPERPARAMETER_LAWS = ("deepseek2024", "steplaw2025")
CRITICAL_BATCH_NOTE = (
    "no critical batch size is checked: Zhang et al. 2024 (arXiv 2410.21676) publish no "
    "fitted constants that could be verified"
)


@dataclass(frozen=True)
class HyperparameterAdvice:
    """What each hyperparameter law gives this run, and the batch the plan adopts: whole
    sequences per step and the steps that take to see D tokens. The laws are suggestions
    fitted to their authors' recipes; where they disagree, tune around them."""

    laws: tuple[LawHyperparameters, ...]  # HYPERPARAMETER_LAWS' answers, the adopted first
    formulas: tuple[str, ...]  # each law's formula, as its preset prints it
    seq_len: int
    tokens: float  # D of the run the batch is for

    @property
    def adopted(self) -> LawHyperparameters:
        return self.laws[0]

    @property
    def learning_rate(self) -> float:
        return self.adopted.learning_rate

    @property
    def batch_tokens(self) -> float:
        return self.adopted.batch_tokens

    @property
    def batch_sequences(self) -> int:
        """The adopted batch in whole sequences (at least one)."""
        return max(1, round(self.batch_tokens / self.seq_len))

    @property
    def steps(self) -> int:
        """Optimizer steps to see D tokens at the adopted batch."""
        return math.ceil(self.tokens / (self.batch_sequences * self.seq_len))

    def spread(self, key: str) -> float:
        """Largest over smallest of the laws' `learning_rate` or `batch_tokens`."""
        values = [getattr(h, key) for h in self.laws]
        return float(max(values) / min(values))

    def to_dict(self) -> dict[str, Any]:
        return {
            "law": self.adopted.law,
            "learning_rate": self.learning_rate,
            "batch_tokens": self.batch_tokens,
            "batch_sequences": self.batch_sequences,
            "seq_len": self.seq_len,
            "steps": self.steps,
            "laws": [
                {**h.to_dict(), "formula": f} for h, f in zip(self.laws, self.formulas, strict=True)
            ],
            "spread": {k: self.spread(k) for k in ("learning_rate", "batch_tokens")},
            "critical_batch_tokens": None,
            "critical_batch_note": CRITICAL_BATCH_NOTE,
        }


def hyperparameter_advice(run: Allocation, seq_len: int) -> HyperparameterAdvice:
    """Every law of HYPERPARAMETER_LAWS at the run's N and D (C-based laws take 6ND)."""
    specs = [load_hyperparameter_law(name) for name in HYPERPARAMETER_LAWS]
    answers = tuple(
        optimal_hyperparameters(spec, params=run.params, tokens=run.tokens) for spec in specs
    )
    return HyperparameterAdvice(
        answers, tuple(spec.formula() for spec in specs), seq_len, run.tokens
    )


def hyperparameter_findings(
    h: HyperparameterAdvice, chips: int | None
) -> tuple[list[str], list[str]]:
    """A finding when the laws disagree by more than DISAGREEMENT, and a warning when the
    cluster has more chips than the batch has sequences."""
    findings: list[str] = []
    warnings: list[str] = []

    def show(key: str, x: float) -> str:
        return f"{human(x)} tokens" if key == "batch_tokens" else f"{x:.3g}"

    for key, what in (("batch_tokens", "batch size"), ("learning_rate", "peak learning rate")):
        if h.spread(key) > DISAGREEMENT:
            lo = min(h.laws, key=lambda r: float(getattr(r, key)))
            hi = max(h.laws, key=lambda r: float(getattr(r, key)))
            findings.append(
                f"the hyperparameter laws disagree by {h.spread(key):.1f}x on the {what}: "
                f"{show(key, getattr(lo, key))} ({lo.law}) to {show(key, getattr(hi, key))} "
                f"({hi.law}); "
                "each holds for its authors' recipe: tune between them"
            )
    if chips is not None and chips > h.batch_sequences:
        per_replica = math.ceil(chips / h.batch_sequences)
        warnings.append(
            f"the batch holds {h.batch_sequences:,} sequences per step but the cluster has "
            f"{chips:,} chips: data parallelism alone leaves chips without a sequence; shard "
            f"each replica over at least {per_replica} chips (tensor or pipeline parallel) or "
            "raise the batch"
        )
    return findings, warnings


RECOMMENDATIONS = ("compute-optimal", "data-constrained", "inference-aware", "as-given")


@dataclass(frozen=True)
class Plan:
    """Everything `chinchilla plan` reports for one budget.

    `optimal` is the recommended run after every constraint given (repeated data,
    inference); every section (loss, sketch, memory, time, cost) describes it.
    `compute_optimal` is the law's plain split of the budget, shown beside it.
    """

    law: Law
    budget: Budget
    optimal: Allocation
    compute_optimal: Allocation
    recommendation: str  # one of RECOMMENDATIONS
    loss: LossTerms | None
    architecture: Architecture | MoEArchitecture
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
    hyperparameters: HyperparameterAdvice | None = None
    # C*/C of the recommended run: the least compute reaching its loss, over its compute
    # (1 on the frontier); for runs given as N and D, and inference-aware ones
    compute_efficiency: float | None = None
    # whether the run lies within a decade of the law's fitted runs (None: range unknown)
    within_fit_range: bool | None = None
    written: tuple[tuple[str, str | None], ...] = (("plot", None),)  # files written: (key, path)
    # the task metric the law's accuracy forecast predicts for the run (None: it has none)
    accuracy: AccuracyForecast | None = None

    def to_dict(self) -> dict[str, Any]:
        """The plan as `chinchilla plan` prints it in JSON."""
        loss = (
            self.loss.to_dict()
            if self.loss
            else dict.fromkeys(("total", "irreducible", "params_term", "data_term"))
        )
        return {
            "law": {"name": self.law.name, "kind": self.law.kind, "source": self.law.source},
            "budget": self.budget.to_dict(),
            "recommendation": self.recommendation,
            "optimal": self.optimal.to_dict(),
            "compute_optimal": self.compute_optimal.to_dict(),
            "compute_efficiency": self.compute_efficiency,
            "within_fit_range": self.within_fit_range,
            "loss": loss,
            "architecture": self.architecture.to_dict(),
            "feasibility": self.feasibility.to_dict(),
            "cost": self.cost.to_dict() if self.cost else None,
            "energy": self.energy.to_dict() if self.energy else None,
            "uncertainty": self.uncertainty.to_dict() if self.uncertainty else None,
            "accuracy": self.accuracy.to_dict() if self.accuracy else None,
            "data_constrained": self.constrained.to_dict() if self.constrained else None,
            "inference": self.inference.to_dict() if self.inference else None,
            "tradeoff": [r.to_dict() for r in self.tradeoff],
            "hyperparameters": self.hyperparameters.to_dict() if self.hyperparameters else None,
            "crosscheck": [c.to_dict() for c in self.crosscheck],
            "findings": list(self.findings),
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
            **dict(self.written),
        }

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return display_bundle(self)


@dataclass(frozen=True)
class Shape:
    """How to sketch the architecture."""

    family: str = DEFAULT_FAMILY
    vocab_size: int | None = None  # None: the family's default
    seq_len: int = DEFAULT_SEQ_LEN
    aspect_ratio: float = DEFAULT_ASPECT_RATIO
    kv_heads: int = DEFAULT_KV_HEADS
    # family "moe": routed experts, experts per token, shared experts, expert width
    experts: int | None = None
    top_k: int | None = None
    shared_experts: int = 0
    expert_ffw: int | None = None  # None: the dense width over top_k + shared_experts

    @property
    def vocab(self) -> int:
        return self.vocab_size if self.vocab_size is not None else DEFAULT_VOCAB[self.family]

    def sketch(self, params: float) -> Architecture | MoEArchitecture:
        """A model of this shape with about `params` (active) parameters."""
        if self.family == "moe":
            assert self.experts is not None and self.top_k is not None
            return moe_sketch(
                params,
                self.experts,
                self.top_k,
                self.shared_experts,
                self.expert_ffw,
                self.vocab_size,
                self.seq_len,
                self.aspect_ratio,
                self.kv_heads,
            )
        return sketch(
            params, self.vocab_size, self.seq_len, self.aspect_ratio, self.family, self.kv_heads
        )


def make_plan(
    law: Law,
    budget: Budget,
    allocation: Allocation | None = None,
    *,
    shape: Shape = Shape(),
    unique_tokens: float | None = None,
    inference_tokens: float | None = None,
    target_loss: float | None = None,
    prices: Prices | None = None,
    assumptions: tuple[str, ...] = (),
    precision: Precision = PRECISIONS[DEFAULT_PRECISION],
) -> Plan:
    """The plan for a resolved budget (see `plan` for the one that resolves it).

    `allocation` overrides the law's optimum (a plan from `params` or `tokens` passes the
    exact size the user asked for rather than a round trip through the frontier). With
    `unique_tokens` the recommended split is the data-constrained optimum; with
    `inference_tokens`, the model of the same loss that is cheapest over its life.
    """
    if budget.source == "params-and-tokens":
        assert allocation is not None
        compute_optimal = optimal_allocation(law, budget.flops)
        alloc, recommendation = allocation, "as-given"
    else:
        compute_optimal = allocation or optimal_allocation(law, budget.flops)
        alloc, recommendation = compute_optimal, "compute-optimal"
    warnings = list(law.notes)
    findings = []
    if not law.splits_6nd and recommendation == "compute-optimal":
        findings.append(
            f"6·N·D of {law.name}'s split is {sci(compute_optimal.flops)} FLOPs, "
            f"{compute_optimal.flops / budget.flops:.2f}x the budget C (its C = M·D counts "
            "attention and no embeddings); time and cost below are for 6·N·D"
        )
    constrained = inference = None
    if unique_tokens is not None:
        assert isinstance(law, ParametricLaw)
        constrained = optimal_constrained(law, budget.flops, unique_tokens)
        alloc, recommendation = (
            Allocation(constrained.params, constrained.tokens),
            "data-constrained",
        )
    if inference_tokens is not None:
        assert isinstance(law, ParametricLaw)
        goal = (
            target_loss if target_loss is not None else law.loss(alloc.params, alloc.tokens).total
        )
        inference = inference_optimal(law, goal, inference_tokens)
        alloc, recommendation = Allocation(inference.params, inference.tokens), "inference-aware"
        findings.append(
            f"the inference-aware model trains on {alloc.flops / budget.flops:.2f}x the budget's "
            f"compute ({sci(alloc.flops)} FLOPs) to reach the same loss with "
            f"{human(alloc.params)} parameters; time and cost below are for that run"
        )

    arch = shape.sketch(alloc.params)
    warnings += sketch_warnings(arch, alloc.params, shape.aspect_ratio)
    beyond = extrapolation_warning(law, alloc.params, alloc.tokens, alloc.flops)
    if beyond:
        warnings.append(beyond)
    fitted = getattr(law, "fit_range", None)
    within = None if fitted is None else beyond is None
    # memory holds every expert: the plan's active N times the sketch's total/active
    feas = feasibility(
        alloc, budget.cluster, alloc.params * arch.params / arch.active_params, precision
    )
    if feas.fits is False:
        c = budget.cluster
        assert c is not None
        warnings.append(
            f"training state ({feas.train_memory_bytes / 1e12:.2f} TB at {feas.bytes_per_param} "
            f"bytes/param) does not fit in the cluster's {c.memory_bytes / 1e12:.2f} TB "
            f"of accelerator memory even fully sharded; it needs at least "
            f"{feas.min_chips_for_memory} x {c.accelerator.name}"
        )
    checks = crosscheck(budget.flops, chosen=law)
    spread = disagreement(checks)
    if spread:
        findings.append(spread)
    terms = law.loss(alloc.params, alloc.tokens)
    if constrained is not None and isinstance(law, ParametricLaw):
        # with repeated data the loss is the law's at the effective N' and D'
        terms = law.loss(constrained.effective_params, constrained.effective_tokens)
    efficiency = None
    if recommendation in ("as-given", "inference-aware") and terms is not None:
        c_star = flops_for_loss(law, terms.total)
        efficiency = None if c_star is None else c_star / alloc.flops
    advice = hyperparameter_advice(alloc, shape.seq_len)
    said, cautions = hyperparameter_findings(
        advice, None if budget.cluster is None else budget.cluster.chips
    )
    findings += said
    warnings += cautions
    cost = energy = None
    if budget.cluster is not None and feas.seconds is not None and prices is not None:
        cost, energy = run_costs(budget.cluster.chips, feas.seconds, prices)
    return Plan(
        law,
        budget,
        alloc,
        compute_optimal,
        recommendation,
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
        cost,
        energy,
        advice,
        compute_efficiency=efficiency,
        within_fit_range=within,
        accuracy=_accuracy(law, alloc, constrained),
    )


@dataclass(frozen=True)
class Frontier:
    """The law's compute-optimal runs at several budgets (the budget range of `chinchilla plan`)."""

    law: Law
    rows: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "law": {"name": self.law.name, "kind": self.law.kind, "source": self.law.source},
            "frontier": list(self.rows),
        }

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return display_bundle(self)


def frontier_table(budgets: Sequence[float] | str, law: str | Law | None = None) -> Frontier:
    """The compute-optimal N, D and loss at each budget (FLOPs), with intervals where the
    law carries bootstrap samples, and the task metric where it carries an accuracy
    forecast. `budgets` may be a list or "START:STOP:COUNT"."""
    the_law = resolve_law(law)
    if isinstance(budgets, str):
        budgets = parse_budgets(budgets, "budget_range")
    rows = []
    for c in budgets:
        a = optimal_allocation(the_law, c)
        row: dict[str, Any] = {**a.to_dict(), "loss": frontier_loss(the_law, c)}
        if isinstance(the_law, ParametricLaw):
            u = uncertainty(the_law, c, a)
            row["uncertainty"] = u.to_dict() if u else None
        acc = _accuracy(the_law, a, None)
        if acc is not None:
            row["accuracy"] = acc.to_dict()
        rows.append(row)
    return Frontier(the_law, tuple(rows))


def resolve_law(law: str | Law | None) -> Law:
    """A law object from a preset name, a YAML path, a Law, or None (the default law)."""
    if law is None:
        return load_law(DEFAULT_LAW)
    if isinstance(law, str):
        return load_law(law)
    return law


# ---------------------------------------------------------------- the public entry point


PLAN_FAMILIES = (*SKETCH_FAMILIES, "moe")  # moe: moe.moe_sketch, with the llama rules
BUDGET_ARGUMENTS = ("flops", "params", "tokens", "target_loss", "chips with days or hours")


def plan(
    flops: float | None = None,
    *,
    chips: int | None = None,
    days: float | None = None,
    hours: float | None = None,
    params: float | None = None,
    tokens: float | None = None,
    target_loss: float | None = None,
    law: str | Law | None = None,
    accelerator: str | None = None,
    peak_flops: float | None = None,
    mfu: float | None = None,
    goodput: float | None = None,
    deadline_days: float | None = None,
    price_per_hour: float | None = None,
    tdp_watts: float | None = None,
    pue: float | None = None,
    grid_intensity: float | None = None,
    unique_tokens: float | None = None,
    inference_tokens: float | None = None,
    arch: str | None = None,
    kv_heads: int | None = None,
    aspect_ratio: float | None = None,
    vocab: int | None = None,
    seq_len: int | None = None,
    experts: int | None = None,
    top_k: int | None = None,
    shared_experts: int | None = None,
    expert_ffw: int | None = None,
    precision: str | None = None,
) -> Plan:
    """Plan a training run: the compute-optimal model for a budget, its predicted loss, an
    architecture of that size, and what it takes on a cluster.

    Give the budget exactly one way: `flops`; `chips` with `days` or `hours`; `params` (the
    optimum for that model size); `tokens`; or `target_loss` (the least compute reaching
    it). `chips` alone (or `deadline_days`) adds the cluster: time, memory and cost;
    `precision` ("bf16" or "fp8") picks the accelerator's dense peak.

    `arch` "moe" sketches a mixture of experts with `experts` routed experts, `top_k` of
    them per token, `shared_experts` always on (default 0) and experts `expert_ffw` wide
    (default: the dense width over top_k + shared_experts, the same active compute). The
    law's N is then the ACTIVE parameters (the dense law applied to what each token uses):
    compute is 6 x active x D throughout, memory counts every expert.
    Every argument left as None takes its default, and the plan's assumptions say so.

    >>> plan(chips=1024, days=30).optimal.params  # doctest: +SKIP
    """
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
            raise InputError("plan: give `days` or `hours`, not both")
        if (days is not None or hours is not None) and chips is None:
            raise InputError("plan: `days`/`hours` need `chips` (how many accelerators)")
    check_one_budget(budgets)
    if deadline_days is not None and chips is not None:
        raise InputError(
            "gives the chips needed; do not combine it with `chips`", field="deadline_days"
        )
    for field, value in (
        ("days", days),
        ("hours", hours),
        ("target_loss", target_loss),
        ("peak_flops", peak_flops),
        ("deadline_days", deadline_days),
        ("price_per_hour", price_per_hour),
        ("tdp_watts", tdp_watts),
        ("unique_tokens", unique_tokens),
        ("inference_tokens", inference_tokens),
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
    for field, whole in (
        ("chips", chips),
        ("kv_heads", kv_heads),
        ("vocab", vocab),
        ("seq_len", seq_len),
        ("experts", experts),
        ("top_k", top_k),
        ("expert_ffw", expert_ffw),
    ):
        require(whole, field, integer=True)
    require(shared_experts, "shared_experts", integer=True, inclusive=True)
    require(aspect_ratio, "aspect_ratio", minimum=MIN_ASPECT_RATIO, maximum=MAX_ASPECT_RATIO)
    require(mfu, "mfu", maximum=1.0)
    require(goodput, "goodput", maximum=1.0)
    require(pue, "pue", minimum=1.0, inclusive=True)
    require(grid_intensity, "grid_intensity", inclusive=True)

    family = DEFAULT_FAMILY if arch is None else arch
    if family not in PLAN_FAMILIES:
        raise InputError(
            f"unknown family {family!r}; expected one of {', '.join(PLAN_FAMILIES)}", field="arch"
        )
    if kv_heads is not None and family not in ("llama", "moe"):
        raise InputError(
            f"applies to grouped-query attention, `arch` llama or moe; {family} shapes have as "
            "many key/value heads as query heads",
            field="kv_heads",
        )
    check_moe(family, experts, top_k, shared_experts, expert_ffw)

    if chips is None and deadline_days is None:
        for field, setting in (
            ("accelerator", accelerator),
            ("peak_flops", peak_flops),
            ("mfu", mfu),
            ("goodput", goodput),
            ("price_per_hour", price_per_hour),
            ("tdp_watts", tdp_watts),
            ("pue", pue),
            ("grid_intensity", grid_intensity),
            ("precision", precision),
        ):
            if setting is not None:
                raise InputError(
                    "describes the cluster, and this plan has none: give `chips` or "
                    "`deadline_days`",
                    field=field,
                )
    the_law = resolve_law(law)
    _check_law_can(the_law, unique_tokens, inference_tokens, target_loss)
    acc = load_accelerator(accelerator or DEFAULT_ACCELERATOR)
    number_format = PRECISIONS[peak_precision(acc, precision, peak_flops)]
    peak = peak_flops or acc.peak_flops_per_second(number_format.name)
    assert peak is not None
    utilisation = DEFAULT_MFU if mfu is None else mfu
    good = DEFAULT_GOODPUT if goodput is None else goodput
    shape = Shape(
        family,
        vocab,
        DEFAULT_SEQ_LEN if seq_len is None else seq_len,
        DEFAULT_ASPECT_RATIO if aspect_ratio is None else aspect_ratio,
        DEFAULT_KV_HEADS if kv_heads is None else kv_heads,
        experts,
        top_k,
        shared_experts or 0,
        expert_ffw,
    )

    allocation = None
    if flops is not None:
        total, source = flops, "flops"
    elif params is not None and tokens is not None:
        as_given = Allocation(params, tokens)
        allocation, source = as_given, "params-and-tokens"
        total = _budget(lambda _: as_given.flops, params, "`params` x `tokens`", "params")
    elif params is not None:
        total = _budget(the_law.flops_for_params, params, f"{params:g} parameters", "params")
        allocation, source = optimal_allocation(the_law, total, params=params), "params"
    elif tokens is not None:
        total = _budget(the_law.flops_for_tokens, tokens, f"{tokens:g} tokens", "tokens")
        allocation, source = optimal_allocation(the_law, total, tokens=tokens), "tokens"
    elif target_loss is not None:
        c_star = flops_for_loss(the_law, target_loss)
        if c_star is None:
            floor = getattr(the_law, "E", 0.0)
            raise InputError(
                f"{target_loss:g} is unreachable under {the_law.name}: "
                f"at or below its irreducible loss {floor:g}; accepted: a loss above it",
                field="target_loss",
            )
        total = _budget(lambda _: c_star, target_loss, f"a loss of {target_loss:g}", "target_loss")
        source = "target-loss"
    else:
        total, source = 0.0, "hardware"

    cluster = None
    if chips is not None:
        cluster = Cluster(acc, chips, peak, utilisation, good, number_format.name)
    elif deadline_days is not None:
        needed = Cluster(acc, 1, peak, utilisation, good, number_format.name).chips_for(
            total, deadline_days * SECONDS_PER_DAY
        )
        cluster = Cluster(acc, needed, peak, utilisation, good, number_format.name)
    if source == "hardware":
        assert cluster is not None and chips is not None
        seconds = days * SECONDS_PER_DAY if days is not None else (hours or 0.0) * SECONDS_PER_HOUR
        total = _budget(cluster.flops_in, seconds, f"`chips` {chips:,} for {seconds:g} s", "chips")
        if total < MIN_PLAN_FLOPS:
            raise InputError(too_small(total, MIN_PLAN_FLOPS, "flops"), field="chips")
    budget = Budget(total, source, cluster, cluster.seconds_for(total) if cluster else None)
    if family in ("llama", "moe") and kv_heads is not None:
        _check_kv_heads(kv_heads, allocation or optimal_allocation(the_law, total), shape)

    prices = None
    if cluster is not None:
        prices = Prices(
            usd_per_chip_hour=price_per_hour
            if price_per_hour is not None
            else acc.price_usd_per_hour,
            price_source="given" if price_per_hour is not None else acc.price_note or "none",
            tdp_watts=tdp_watts or acc.tdp_watts,
            pue=DEFAULT_PUE if pue is None else pue,
            grid_g_per_kwh=DEFAULT_GRID_G_PER_KWH if grid_intensity is None else grid_intensity,
        )
    assumptions = [
        _given(f"law {the_law.name}", law is None),
        "C = 6·N·D" if the_law.splits_6nd else "C = M·D (the law's own), time from 6·N·D",
    ]
    if cluster is not None:
        assumptions += cluster_assumptions(
            cluster, peak_flops is not None, mfu is None, goodput is None
        )
        assumptions.append(
            _given(f"{number_format.name} training: {number_format.recipe}", precision is None)
        )
        if prices is not None:
            assumptions.append(
                f"PUE {prices.pue:g}, grid {prices.grid_g_per_kwh:g} gCO2e/kWh"
                + (
                    f" (defaults: {PUE_SOURCE}; {GRID_SOURCE})"
                    if pue is None and grid_intensity is None
                    else ""
                )
            )
    if family == "moe":
        assumptions.append(moe_assumption(shape, shared_experts is None, expert_ffw is None))
    assumptions.append(
        f"{family} shapes, vocabulary {shape.vocab:,}, sequence {shape.seq_len:,}, "
        + _given(f"sketch target d_model/layers {shape.aspect_ratio:g}", aspect_ratio is None)
    )
    result = make_plan(
        the_law,
        budget,
        allocation,
        shape=shape,
        unique_tokens=unique_tokens,
        inference_tokens=inference_tokens,
        target_loss=target_loss,
        prices=prices,
        assumptions=tuple(assumptions),
        precision=number_format,
    )
    if deadline_days is not None and cluster is not None:
        extra = deadline_warnings(cluster.chips, result)
        if extra:
            result = replace(result, warnings=result.warnings + tuple(extra))
    return result


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


def deadline_warnings(chips: int, result: Plan) -> list[str]:
    """A deadline that needs more chips than exist (more than the batch can feed: see
    hyperparameter_findings)."""
    out = []
    if chips > LARGEST_CLUSTER_CHIPS:
        out.append(
            f"the deadline needs {chips:,} accelerators, more than the largest training "
            f"clusters built to date (about {LARGEST_CLUSTER_CHIPS:,})"
        )
    return out


def _check_law_can(
    law: Law,
    unique_tokens: float | None,
    inference_tokens: float | None,
    target_loss: float | None,
) -> None:
    """Refuse what a law cannot answer: repeated data or inference without a loss model."""
    for field, value in (("unique_tokens", unique_tokens), ("inference_tokens", inference_tokens)):
        if value is not None and not isinstance(law, ParametricLaw):
            raise InputError(
                f"needs a law that predicts loss from N and D (parametric); "
                f"{law.name} is {law.kind}",
                field=field,
            )
    if target_loss is not None and not law.predicts_loss:
        raise InputError(
            f"{law.name} predicts no loss; use a parametric law "
            "such as besiroglu2024 or hoffmann2022",
            field="target_loss",
        )


def _check_kv_heads(kv_heads: int, alloc: Allocation, shape: Shape) -> None:
    """Grouped-query attention needs at most as many key/value heads as query heads."""
    probe = sketch(alloc.params, shape.vocab_size, shape.seq_len, shape.aspect_ratio, "llama", 1)
    if kv_heads > probe.n_heads:
        raise InputError(
            f"{kv_heads} is more than the {probe.n_heads} query heads of a {human(alloc.params)} "
            f"sketch; accepted: 1 to {probe.n_heads} (key/value heads share the query heads "
            "in whole groups)",
            field="kv_heads",
        )


def _accuracy(
    law: Law, alloc: Allocation, constrained: ConstrainedPlan | None
) -> AccuracyForecast | None:
    if getattr(law, "accuracy", None) is None:
        return None
    from chinchilla_cli.accuracy import plan_accuracy

    return plan_accuracy(law, alloc, constrained)


def check_moe(
    family: str,
    experts: int | None,
    top_k: int | None,
    shared_experts: int | None,
    expert_ffw: int | None,
) -> None:
    """The expert options describe `arch` moe, which needs `experts` and `top_k`."""
    given = {
        "experts": experts,
        "top_k": top_k,
        "shared_experts": shared_experts,
        "expert_ffw": expert_ffw,
    }
    if family != "moe":
        for field, value in given.items():
            if value is not None:
                raise InputError(
                    f"describes a mixture of experts; give `arch` moe (this plan sketches "
                    f"{family} shapes)",
                    field=field,
                )
        return
    for field in ("experts", "top_k"):
        if given[field] is None:
            raise InputError(
                "`arch` moe needs `experts` (routed experts per layer) and `top_k` (experts "
                "each token uses), e.g. 64 and 8",
                field=field,
            )
    assert experts is not None and top_k is not None
    if top_k > experts:
        raise InputError(
            f"{top_k} experts per token is more than the {experts} there are; accepted: "
            f"1 to {experts}",
            field="top_k",
        )


def moe_assumption(shape: Shape, shared_default: bool, width_default: bool) -> str:
    """What a mixture-of-experts plan assumes, in one sentence."""
    shared = _given(f"{shape.shared_experts} shared", shared_default)
    width = (
        "expert width the dense width / (top-k + shared) (default)"
        if width_default
        else f"expert width {shape.expert_ffw:,}"
    )
    return (
        f"mixture of experts: {shape.experts} routed experts, top-{shape.top_k}, {shared}, "
        f"{width}; the dense law applied to active parameters (N is what each token uses, "
        "C = 6·N_active·D throughout; memory holds every expert)"
    )


def check_one_budget(given: dict[str, Any]) -> None:
    """Refuse a budget given several ways, or none (keys: the arguments, values: None
    where not given)."""
    ways = [f"`{k}`" for k, v in given.items() if v is not None]
    if len(ways) > 1:
        raise InputError(
            f"plan: the budget is given {len(ways)} ways ({', '.join(ways)}); give exactly one"
        )
    if not ways:
        raise InputError(
            "plan: no budget; give one of `flops` C, `chips` N with `days` or `hours`, "
            "`params` N, `tokens` D, `target_loss` L or `budget_range`"
        )


def _given(text: str, default: bool) -> str:
    """An assumption, marked "(default)" when the caller left the argument out."""
    return text + (" (default)" if default else "")


def _budget(compute: Callable[[float], float], value: float, asked: str, field: str) -> float:
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
