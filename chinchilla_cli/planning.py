"""A training plan: a budget, its compute-optimal split under a law, the loss it
predicts, an architecture of that size, and whether it fits the hardware.

`plan` resolves the budget (budgets.py) on a cluster and shape (specs.py) and hands it
to `make_plan`, which picks the recommended run and gathers what advice.py says about
it. `frontier_table` is the law's frontier at several budgets (a budget range).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from chinchilla_cli._display import Displayed, Drawn
from chinchilla_cli.advice import (
    CrossCheck,
    Feasibility,
    HyperparameterAdvice,
    Uncertainty,
    crosscheck,
    disagreement,
    feasibility,
    full_count_warning,
    hyperparameter_advice,
    hyperparameter_findings,
    sketch_warnings,
    uncertainty,
)
from chinchilla_cli.architecture import Architecture
from chinchilla_cli.budgets import (
    Budget,
    budget_seconds,
    check_budget_arguments,
    deadline_warnings,
    resolve_budget,
)
from chinchilla_cli.costs import GRID_SOURCE, PUE_SOURCE, Cost, Energy, Prices, run_costs
from chinchilla_cli.errors import InputError
from chinchilla_cli.frontier import Allocation, flops_for_loss, frontier_loss, optimal_allocation
from chinchilla_cli.hardware import DEFAULT_PRECISION, PRECISIONS, Cluster, Precision
from chinchilla_cli.law_files import resolve_law
from chinchilla_cli.laws import Law, LossTerms, ParametricLaw, extrapolation_warning
from chinchilla_cli.moe import MoEArchitecture
from chinchilla_cli.pinned import published_mismatch
from chinchilla_cli.plausibility import check_sequence, moe_shape_warnings
from chinchilla_cli.quantity import accepts_quantities, human, parse_budgets, require, sci
from chinchilla_cli.specs import ClusterSpec, ShapeSpec, cluster_spec, given, shape_spec
from chinchilla_cli.tradeoff import TradeoffRow, tradeoff

# What only some plans need loads with them (`chinchilla plan` starts fast): the
# accuracy forecast with a law that carries one, the data-constrained and inference-aware
# solutions with their arguments, a named model with `model`, MFU checks with `mfu`.
if TYPE_CHECKING:
    from chinchilla_cli.accuracy import AccuracyForecast
    from chinchilla_cli.constrained import ConstrainedPlan
    from chinchilla_cli.inference import InferencePlan
    from chinchilla_cli.moe_laws import MoEChoice, MoELearningRate, MoERequest
    from chinchilla_cli.moe_plan import Settled
    from chinchilla_cli.named_models import NamedModel

RECOMMENDATIONS = ("compute-optimal", "data-constrained", "inference-aware", "as-given")
SERVING_BYTES_PER_PARAM = 2  # bf16 weights held to serve (the KV cache aside)


@dataclass(frozen=True)
class Plan(Drawn):
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
    # the task metric the law's accuracy forecast predicts for the run (None: it has none)
    accuracy: AccuracyForecast | None = None
    # the preset planned as built (`plan(model=...)`); None: a sketch of the law's size
    model: NamedModel | None = None
    # the experts or granularities an MoE law compared (None: no comparison was made)
    moe_choice: MoEChoice | None = None
    # the Joint MoE paper's learning rate (eq. 8), for a mixture-of-experts sketch
    moe_learning_rate: MoELearningRate | None = None

    def to_dict(self) -> dict[str, Any]:
        """The plan as `chinchilla plan` prints it in JSON."""
        loss = (
            self.loss.to_dict()
            if self.loss
            else dict.fromkeys(("total", "irreducible", "params_term", "data_term"))
        )
        counted = self._counted
        return {
            "law": {"name": self.law.name, "kind": self.law.kind, "source": self.law.source},
            "budget": self.budget.to_dict(),
            "recommendation": self.recommendation,
            "optimal": counted(self.optimal.to_dict()),
            "compute_optimal": counted(self.compute_optimal.to_dict()),
            "compute_efficiency": self.compute_efficiency,
            "within_fit_range": self.within_fit_range,
            "loss": loss,
            "architecture": self.architecture.to_dict(),
            "feasibility": {
                **self.feasibility.to_dict(),
                "total_params": self.feasibility.memory_params,
            },
            "cost": self.cost.to_dict() if self.cost else None,
            "energy": self.energy.to_dict() if self.energy else None,
            "uncertainty": self.uncertainty.to_dict() if self.uncertainty else None,
            "accuracy": self.accuracy.to_dict() if self.accuracy else None,
            "data_constrained": self.constrained.to_dict() if self.constrained else None,
            "inference": self._inference_dict(),
            "tradeoff": [counted(r.to_dict()) for r in self.tradeoff],
            "hyperparameters": self._hyperparameters_dict(),
            "moe_law": self.moe_choice.to_dict() if self.moe_choice else None,
            "moe_learning_rate": self.moe_learning_rate.to_dict()
            if self.moe_learning_rate
            else None,
            "crosscheck": [counted(c.to_dict()) for c in self.crosscheck],
            "findings": list(self.findings),
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
            "model": self.model.to_dict() if self.model else None,
        }

    def __repr__(self) -> str:
        o = self.optimal
        loss = "no loss" if self.loss is None else f"loss {self.loss.total:.4f}"
        how = "" if self.recommendation == "compute-optimal" else f", {self.recommendation}"
        n = len(self.warnings)
        warned = f", {n} warning{'s' if n > 1 else ''}" if n else ""
        return (
            f"Plan({human(o.params)} params, {human(o.tokens)} tokens, {sci(o.flops)} FLOPs, "
            f"{loss}, law {self.law.name}{how}{warned})"
        )

    @property
    def total_per_active(self) -> float:
        """Total over active parameters of the plan's architecture (1 for a dense model)."""
        return self.architecture.params / self.architecture.active_params

    def _counted(self, entry: dict[str, Any]) -> dict[str, Any]:
        """`entry` (whose `params` is N, the active count) with `active_params` and
        `total_params` named: the total at the architecture's total/active ratio."""
        n = entry["params"]
        return {**entry, "active_params": n, "total_params": n * self.total_per_active}

    @property
    def serving_memory_bytes(self) -> float | None:
        """The weights serving the inference-aware model holds (bf16): every expert of a
        mixture, not only the active ones (None: no inference-aware plan)."""
        if self.inference is None:
            return None
        return SERVING_BYTES_PER_PARAM * self.inference.params * self.total_per_active

    def _hyperparameters_dict(self) -> dict[str, Any] | None:
        """The hyperparameter advice, each law's N named as active and total."""
        if self.hyperparameters is None:
            return None
        out = self.hyperparameters.to_dict()
        return {**out, "laws": [self._counted(row) for row in out["laws"]]}

    def _inference_dict(self) -> dict[str, Any] | None:
        """The inference-aware run, with the memory that serving it holds."""
        if self.inference is None:
            return None
        return {
            **self._counted(self.inference.to_dict()),
            "serving_memory_bytes": self.serving_memory_bytes,
        }


@dataclass(frozen=True)
class Recommendation:
    """The run a plan recommends, how it was chosen, and the constrained optima that
    chose it (repeated data, inference)."""

    run: Allocation
    kind: str  # one of RECOMMENDATIONS
    compute_optimal: Allocation
    constrained: ConstrainedPlan | None
    inference: InferencePlan | None
    findings: tuple[str, ...]


def recommend(
    law: Law,
    budget: Budget,
    allocation: Allocation | None,
    unique_tokens: float | None,
    inference_tokens: float | None,
    target_loss: float | None,
) -> Recommendation:
    """The recommended run: the law's split (or the `allocation` asked for), the
    data-constrained optimum with `unique_tokens`, the model cheapest over its life with
    `inference_tokens`."""
    if budget.source == "params-and-tokens":
        assert allocation is not None
        compute_optimal = optimal_allocation(law, budget.flops)
        alloc, kind = allocation, "as-given"
    else:
        compute_optimal = allocation or optimal_allocation(law, budget.flops)
        alloc, kind = compute_optimal, "compute-optimal"
    findings = []
    if not law.splits_6nd and kind == "compute-optimal":
        findings.append(
            f"6·N·D of {law.name}'s split is {sci(compute_optimal.flops)} FLOPs, "
            f"{compute_optimal.flops / budget.flops:.2f}x the budget C (its C = M·D counts "
            "attention and no embeddings); time and cost below are for 6·N·D"
        )
    constrained = inference = None
    if unique_tokens is not None:
        from chinchilla_cli.constrained import optimal_constrained

        assert isinstance(law, ParametricLaw)
        constrained = optimal_constrained(law, budget.flops, unique_tokens)
        alloc, kind = Allocation(constrained.params, constrained.tokens), "data-constrained"
    if inference_tokens is not None:
        from chinchilla_cli.inference import inference_optimal

        assert isinstance(law, ParametricLaw)
        goal = (
            target_loss if target_loss is not None else law.loss(alloc.params, alloc.tokens).total
        )
        inference = inference_optimal(law, goal, inference_tokens)
        alloc, kind = Allocation(inference.params, inference.tokens), "inference-aware"
        findings.append(
            f"the inference-aware model trains on {alloc.flops / budget.flops:.2f}x the budget's "
            f"compute ({sci(alloc.flops)} FLOPs) to reach the same loss with "
            f"{human(alloc.params)} parameters; time and cost below are for that run"
        )
    return Recommendation(alloc, kind, compute_optimal, constrained, inference, tuple(findings))


def make_plan(
    law: Law,
    budget: Budget,
    allocation: Allocation | None = None,
    *,
    shape: ShapeSpec | None = None,
    unique_tokens: float | None = None,
    inference_tokens: float | None = None,
    target_loss: float | None = None,
    prices: Prices | None = None,
    assumptions: tuple[str, ...] = (),
    precision: Precision = PRECISIONS[DEFAULT_PRECISION],
    model: NamedModel | None = None,
) -> Plan:
    """The plan for a resolved budget (see `plan` for the one that resolves it).

    `allocation` overrides the law's optimum (a plan from `params` or `tokens` passes the
    exact size the user asked for rather than a round trip through the frontier). With
    `unique_tokens` the recommended split is the data-constrained optimum; with
    `inference_tokens`, the model of the same loss that is cheapest over its life. With
    `model`, the architecture is that preset's as built rather than a sketch.
    """
    shape = shape or ShapeSpec()
    pick = recommend(law, budget, allocation, unique_tokens, inference_tokens, target_loss)
    alloc, constrained = pick.run, pick.constrained
    warnings, findings = list(law.notes), list(pick.findings)
    if model is not None:
        arch: Architecture | MoEArchitecture = model.architecture
    else:
        arch = shape.sketch(alloc.params)
        aspect = arch.aspect_ratio if shape.pinned else shape.aspect_ratio
        warnings += sketch_warnings(arch, alloc.params, aspect)
        if isinstance(arch, MoEArchitecture):
            warnings += moe_shape_warnings(arch) + published_mismatch(arch)
    full = full_count_warning(arch)
    if full:
        warnings.append(full)
    beyond = extrapolation_warning(law, alloc.params, alloc.tokens, alloc.flops)
    if beyond:
        warnings.append(beyond)
    # memory holds every expert: the plan's active N times the sketch's total/active
    feas = feasibility(
        alloc, budget.cluster, alloc.params * arch.params / arch.active_params, precision
    )
    warnings += _memory_warning(feas, budget.cluster)
    checks = crosscheck(budget.flops, chosen=law)
    spread = disagreement(checks)
    if spread:
        findings.append(spread)
    terms = law.loss(alloc.params, alloc.tokens)
    if constrained is not None and isinstance(law, ParametricLaw):
        # with repeated data the loss is the law's at the effective N' and D'
        terms = law.loss(constrained.effective_params, constrained.effective_tokens)
    efficiency = None
    if pick.kind in ("as-given", "inference-aware") and terms is not None:
        c_star = flops_for_loss(law, terms.total)
        efficiency = None if c_star is None else c_star / alloc.flops
    advice = hyperparameter_advice(alloc, shape.seq_len)
    check_sequence(shape.seq_len, advice.batch_tokens, advice.adopted.law)
    said, cautions = hyperparameter_findings(
        advice, None if budget.cluster is None else budget.cluster.chips
    )
    cost = energy = None
    if budget.cluster is not None and feas.seconds is not None and prices is not None:
        cost, energy = run_costs(budget.cluster.chips, feas.seconds, prices)
    return Plan(
        law,
        budget,
        alloc,
        pick.compute_optimal,
        pick.kind,
        terms,
        arch,
        feas,
        checks,
        assumptions,
        tuple(warnings + cautions),
        tuple(findings + said),
        constrained,
        pick.inference,
        tradeoff(law, alloc.params, alloc.tokens)
        if isinstance(law, ParametricLaw) and constrained is None
        else (),
        uncertainty(law, budget.flops, alloc) if isinstance(law, ParametricLaw) else None,
        cost,
        energy,
        advice,
        compute_efficiency=efficiency,
        within_fit_range=None if getattr(law, "fit_range", None) is None else beyond is None,
        accuracy=_accuracy(law, alloc, constrained),
        model=model,
    )


def _memory_warning(feas: Feasibility, cluster: Cluster | None) -> list[str]:
    """A warning when the training state does not fit the cluster even fully sharded."""
    if feas.fits is not False:
        return []
    assert cluster is not None
    return [
        f"training state ({feas.train_memory_bytes / 1e12:.2f} TB at {feas.bytes_per_param} "
        f"bytes/param) does not fit in the cluster's {cluster.memory_bytes / 1e12:.2f} TB "
        f"of accelerator memory even fully sharded; it needs at least "
        f"{feas.min_chips_for_memory} x {cluster.accelerator.name}"
    ]


@dataclass(frozen=True)
class FrontierRow:
    """One budget of a frontier: the law's compute-optimal run, its predicted loss, the
    bootstrap intervals (laws with samples) and the task metric (laws with a forecast)."""

    run: Allocation
    loss: float | None
    uncertainty: Uncertainty | None = None
    accuracy: AccuracyForecast | None = None
    parametric: bool = False  # parametric laws report `uncertainty`, None when unsampled

    @property
    def flops(self) -> float:
        return self.run.flops

    def to_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {**self.run.to_dict(), "loss": self.loss}
        if self.parametric:
            row["uncertainty"] = self.uncertainty.to_dict() if self.uncertainty else None
        if self.accuracy is not None:
            row["accuracy"] = self.accuracy.to_dict()
        return row


@dataclass(frozen=True)
class Frontier(Displayed):
    """The law's compute-optimal runs at several budgets (the budget range of
    `chinchilla plan`), one `FrontierRow` per budget."""

    law: Law
    rows: tuple[FrontierRow, ...]
    warnings: tuple[str, ...] = ()  # the law's notes; the budgets beyond its fitted runs

    def to_dict(self) -> dict[str, Any]:
        return {
            "law": {"name": self.law.name, "kind": self.law.kind, "source": self.law.source},
            "frontier": [r.to_dict() for r in self.rows],
            "warnings": list(self.warnings),
        }

    def __repr__(self) -> str:
        runs = [r.run for r in self.rows]
        if not runs:
            return f"Frontier(no budgets, law {self.law.name})"
        return (
            f"Frontier({len(runs)} budgets, {sci(runs[0].flops)} to {sci(runs[-1].flops)} "
            f"FLOPs: N {human(runs[0].params)} to {human(runs[-1].params)}, "
            f"law {self.law.name})"
        )


@accepts_quantities
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
        parametric = isinstance(the_law, ParametricLaw)
        rows.append(
            FrontierRow(
                a,
                frontier_loss(the_law, c),
                uncertainty(the_law, c, a) if isinstance(the_law, ParametricLaw) else None,
                _accuracy(the_law, a, None),
                parametric,
            )
        )
    return Frontier(the_law, tuple(rows), (*the_law.notes, *_frontier_beyond(the_law, rows)))


def _frontier_beyond(law: Law, rows: Sequence[FrontierRow]) -> list[str]:
    """One warning for the budgets more than a decade beyond the law's fitted runs."""
    fit_range = getattr(law, "fit_range", None)
    if fit_range is None:
        return []
    said = [fit_range.beyond(r.run.params, r.run.tokens, r.flops) for r in rows]
    beyond = [(r, s) for r, s in zip(rows, said, strict=True) if s]
    if not beyond:
        return []
    far, how = max(beyond, key=lambda b: b[0].flops)
    return [
        f"budgets beyond the runs {law.name} was fitted to: {len(beyond)} of {len(rows)}; at "
        f"{sci(far.flops)} FLOPs, {'; '.join(how)}: there the allocation and loss are "
        "extrapolations"
    ]


def _accuracy(
    law: Law, alloc: Allocation, constrained: ConstrainedPlan | None
) -> AccuracyForecast | None:
    if getattr(law, "accuracy", None) is None:
        return None
    from chinchilla_cli.accuracy import plan_accuracy

    return plan_accuracy(law, alloc, constrained)


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


# ---------------------------------------------------------------- the public entry point


@accepts_quantities
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
    experts: int | str | Sequence[int] | None = None,
    top_k: int | None = None,
    shared_experts: int | None = None,
    expert_ffw: int | None = None,
    granularity: float | str | None = None,
    max_total_params: float | None = None,
    precision: str | None = None,
    cluster: ClusterSpec | None = None,
    shape: ShapeSpec | None = None,
    model: str | None = None,
    layers: int | None = None,
    d_model: int | None = None,
) -> Plan:
    """Plan a training run: the compute-optimal model for a budget, its predicted loss, an
    architecture of that size, and what it takes on a cluster.

    Give the budget exactly one way: `flops`; `chips` with `days` or `hours`; `params` (the
    optimum for that model size); `tokens`; or `target_loss` (the least compute reaching
    it). `chips` alone (or `deadline_days`) adds the cluster: time, memory and cost;
    `precision` ("bf16" or "fp8") picks the accelerator's dense peak. The cluster's
    settings may come as one `cluster` (a ClusterSpec) instead.

    `arch` "moe" sketches a mixture of experts with `experts` routed experts, `top_k` of
    them per token, `shared_experts` always on (default 0) and experts `expert_ffw` wide
    (default: the dense width over top_k + shared_experts, the same active compute). The
    law's N is then the ACTIVE parameters (the dense law applied to what each token uses):
    compute is 6 x active x D throughout, memory counts every expert. The shape's settings
    may come as one `shape` (a ShapeSpec) instead.
    `model` plans a preset of presets/models.yaml as built: its exact shape and (active)
    parameters, on `tokens` (default: its published tokens); budget and shape arguments
    are then refused, a cluster is `chips` or `deadline_days`. `layers` and `d_model`
    pin the sketch's depth and width: with both, the shape and so its size are fixed (a
    budget is then `tokens`, or none: the law's optimal tokens for that size).

    Under the MoE laws the experts count: with `law` "ludziejewski2025" (Joint MoE),
    `experts` E gives its compute-optimal active parameters and tokens for E top-1
    experts, "auto" (or a list of counts) the count of lowest predicted loss, and
    `max_total_params` keeps only models whose total parameters fit; with
    "krajewski2024", `granularity` G (a number or "auto") under that law's FLOP model.
    Every argument left as None takes its default, and the plan's assumptions say so.

    >>> plan(chips=1024, days=30).optimal.params  # doctest: +SKIP
    """
    the_law = resolve_law(law)
    request = moe_request(
        the_law, arch if shape is None else shape.family, experts, granularity, max_total_params
    )
    shape_settings = {
        "arch": arch, "vocab": vocab, "seq_len": seq_len, "aspect_ratio": aspect_ratio,
        "kv_heads": kv_heads, "experts": request and request.experts, "top_k": top_k,
        "shared_experts": shared_experts, "expert_ffw": expert_ffw, "layers": layers,
        "d_model": d_model,
    }  # fmt: skip
    sketches, named, fixed = shape_and_size(
        model,
        shape,
        shape_settings,
        {
            "flops": flops, "days": days, "hours": hours, "params": params,
            "target_loss": target_loss, "unique_tokens": unique_tokens,
            "inference_tokens": inference_tokens, "granularity": granularity,
            "max_total_params": max_total_params,
        },
    )  # fmt: skip
    if named is not None and sketches is not None:  # the MoE law at the model's experts
        request = moe_request(
            the_law, sketches.family, named_experts(the_law, sketches), None, None
        )
    if fixed is not None:
        params = fixed
        tokens = named.tokens if named is not None and tokens is None else tokens
    check_budget_arguments(
        flops, chips=chips, days=days, hours=hours, params=params, tokens=tokens,
        target_loss=target_loss, deadline_days=deadline_days,
    )  # fmt: skip
    for field, value in (("unique_tokens", unique_tokens), ("inference_tokens", inference_tokens)):
        require(value, field)
    settings = {
        "accelerator": accelerator, "peak_flops": peak_flops, "mfu": mfu, "goodput": goodput,
        "precision": precision, "price_per_hour": price_per_hour, "tdp_watts": tdp_watts,
        "pue": pue, "grid_intensity": grid_intensity,
    }  # fmt: skip
    hardware = cluster_spec(cluster, chips is not None or deadline_days is not None, settings)
    _check_law_can(the_law, unique_tokens, inference_tokens, target_loss)
    if request is not None:
        from chinchilla_cli.moe_plan import check_budget_for_search

        check_budget_for_search(request, any(x is not None for x in (params, tokens, target_loss)))
    at = the_law if request is None else request.fixed_law()  # an MoE law at its setting
    budget, allocation = resolve_budget(
        at, hardware, flops, chips=chips, seconds=budget_seconds(days, hours),
        params=params, tokens=tokens, target_loss=target_loss, deadline_days=deadline_days,
    )  # fmt: skip
    sketched = sketches is None and shape is None  # a sketch the law's choice may shape
    settled = _settle(request, budget.flops, shape_settings if sketched else {})
    if settled is not None:
        the_law, allocation = settled.law, settled.allocation or allocation
        shape_settings = shape_settings if shape else settled.shape_settings
    if sketches is None:
        sketches = shape_spec(shape, **shape_settings)
        sketches.check_kv_heads((allocation or optimal_allocation(the_law, budget.flops)).params)
    result = make_plan(
        the_law,
        budget,
        allocation,
        shape=sketches,
        unique_tokens=unique_tokens,
        inference_tokens=inference_tokens,
        target_loss=target_loss,
        prices=hardware.prices() if budget.cluster is not None else None,
        assumptions=plan_assumptions(
            the_law, law is None, hardware, budget.cluster, sketches, named
        ),
        precision=hardware.number_format,
        model=named,
    )
    extra = []
    if deadline_days is not None and budget.cluster is not None:
        extra += deadline_warnings(budget.cluster.chips)
    if budget.cluster is not None and "mfu" not in hardware.defaulted:
        from chinchilla_cli.utilisation import mfu_warnings

        extra += mfu_warnings(hardware.utilisation, hardware.precision)
    said = [] if named is None else _published_cost(named, result.cost)
    result = replace(
        result, warnings=result.warnings + tuple(extra), findings=result.findings + tuple(said)
    )
    return result if settled is None else _with_moe(result, the_law, settled)


# A dense plan under a dense law has nothing for the MoE modules to do: they load only for
# a plan that involves experts (`chinchilla plan` starts faster without them).
MOE_LAW_KINDS = ("joint_moe", "fine_grained_moe")


def moe_request(
    law: Law,
    family: str | None,
    experts: int | str | Sequence[int] | None,
    granularity: float | str | None,
    max_total_params: float | None,
) -> MoERequest | None:
    """What a plan asks of experts and granularity (moe_laws.MoERequest), checked against
    the law; None for a dense plan under a dense law."""
    moe_family = str(family or "").strip().lower() == "moe"
    asked = (experts, granularity, max_total_params) != (None, None, None)
    if not (moe_family or asked or law.kind in MOE_LAW_KINDS):
        return None
    from chinchilla_cli.moe_laws import MoERequest

    return MoERequest.of(law, family, experts, granularity, max_total_params)


def _settle(request: MoERequest | None, flops: float, settings: dict[str, Any]) -> Settled | None:
    if request is None:
        return None
    from chinchilla_cli.moe_plan import settle

    return settle(request, flops, settings)


def _with_moe(result: Plan, law: Law, settled: Settled) -> Plan:
    """The plan with what an MoE law or sketch adds: warnings, findings, the comparison
    that chose its experts and the Joint MoE learning rate."""
    from chinchilla_cli.moe_plan import moe_additions

    more = moe_additions(
        law, result.architecture, result.optimal, settled.choice, result.feasibility.memory_params
    )
    return replace(
        result,
        warnings=result.warnings + more.warnings,
        findings=result.findings + more.findings,
        moe_choice=settled.choice,
        moe_learning_rate=more.learning_rate,
    )


def _published_cost(named: NamedModel, cost: Cost | None) -> list[str]:
    from chinchilla_cli.named_models import published_cost_findings

    return published_cost_findings(named, cost)


def named_experts(law: Law, shape: ShapeSpec) -> int | None:
    """The expert count a named model gives an MoE law that reads one (the Joint law)."""
    return shape.experts if law.kind == "joint_moe" and shape.family == "moe" else None


def shape_and_size(
    model: str | None,
    shape: ShapeSpec | None,
    shape_args: dict[str, Any],
    budget_args: dict[str, Any],
) -> tuple[ShapeSpec | None, NamedModel | None, float | None]:
    """The shape a plan sketches, the named model it plans as built (if any) and the
    size N that either fixes (a named model's, or a sketch pinned in depth and width),
    refusing every argument that would contradict them; (None, None, None) for a sketch
    of the law's size, whose shape is settled with the law (MoE laws choose experts)."""
    if model is not None:
        from chinchilla_cli.named_models import named_model, refuse_with_model

        refuse_with_model(model, {**shape_args, **budget_args, "shape": shape})
        named = named_model(model)
        return named.shape_spec(), named, named.active_params
    if shape is not None:
        layers, d_model = shape.layers, shape.d_model
    else:
        layers, d_model = shape_args.get("layers"), shape_args.get("d_model")
    if layers is None or d_model is None:  # sketched once the law has settled its experts
        return None, None, None
    sketches = shape_spec(shape, **shape_args)
    fixed = sketches.fixed_params()
    if fixed is not None:
        for argument, value in budget_args.items():
            if value is not None:
                raise InputError(
                    "not with both `layers` and `d_model`: they fix the model's size; give "
                    "`tokens` for its run length (or none: the law's optimal tokens for it)",
                    field=argument,
                )
    return sketches, None, fixed


def plan_assumptions(
    law: Law,
    law_default: bool,
    hardware: ClusterSpec,
    cluster: Cluster | None,
    shape: ShapeSpec,
    model: NamedModel | None = None,
) -> tuple[str, ...]:
    """What the plan assumes, "(default)" marking what the caller left out (with
    `model`, the preset's shape in place of the sketch's settings)."""
    out = [
        given(f"law {law.name}", law_default),
        "C = 6·N·D" if law.splits_6nd else "C = M·D (the law's own), time from 6·N·D",
    ]
    if cluster is not None:
        out += hardware.assumptions(cluster)
        number = hardware.number_format
        out.append(
            given(f"{number.name} training: {number.recipe}", "precision" in hardware.defaulted)
        )
        out.append(
            f"PUE {hardware.pue:g}, grid {hardware.grid_intensity:g} gCO2e/kWh"
            + (
                f" (defaults: {PUE_SOURCE}; {GRID_SOURCE})"
                if {"pue", "grid_intensity"} <= hardware.defaulted
                else ""
            )
        )
    if model is not None:
        return (*out, model.assumption())
    if shape.family == "moe":
        out.append(shape.moe_assumption(law.kind in ("joint_moe", "fine_grained_moe")))
    pins = [f"{shape.layers} layers"] if shape.layers is not None else []
    pins += [f"d_model {shape.d_model:,}"] if shape.d_model is not None else []
    out.append(
        f"{shape.family} shapes, vocabulary {shape.vocab_size:,}, sequence {shape.seq_len:,}, "
        + (
            "sketch pinned at " + " x ".join(pins)
            if pins
            else given(
                f"sketch target d_model/layers {shape.aspect_ratio:g}",
                "aspect_ratio" in shape.defaulted,
            )
        )
    )
    return tuple(out)
