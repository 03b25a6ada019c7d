"""Where `plan` meets the MoE laws: the law at the experts or granularity chosen, the
sketch's settings that go with it, and what the plan adds (the comparison of settings,
the Joint MoE learning rate, the notes on sparsity and the laws' ranges).

planning.plan calls `settle` once its budget is known, and `moe_additions` on the plan
it made; the choices themselves are moe_laws.py's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chinchilla_cli.errors import InputError
from chinchilla_cli.frontier import Allocation
from chinchilla_cli.laws import FineGrainedMoELaw, JointMoELaw, Law
from chinchilla_cli.moe import MoEArchitecture
from chinchilla_cli.moe_laws import (
    JOINT_TOP_K,
    MoEChoice,
    MoELearningRate,
    MoERequest,
    choose_experts,
    choose_granularity,
    dense_law_note,
    moe_learning_rate,
    range_warnings,
)
from chinchilla_cli.quantity import human
from chinchilla_cli.specs import ShapeSpec


@dataclass(frozen=True)
class Settled:
    """The law at its setting, the comparison that chose it (None: none was made), the
    run it fixes when the memory limit shrank it, and the sketch's settings."""

    law: Law
    choice: MoEChoice | None
    allocation: Allocation | None
    shape_settings: dict[str, Any]


def check_budget_for_search(request: MoERequest, fixed_budget: bool) -> None:
    """A search compares settings at one compute: the budget must be compute."""
    if request.searches and fixed_budget:
        raise InputError(
            "a search over experts or granularity compares them at one compute budget: "
            "give `flops` or `chips` with `days`/`hours`, not a model size, tokens or loss",
            field="experts" if request.auto_experts else "granularity",
        )


def settle(request: MoERequest, flops: float, settings: dict[str, Any]) -> Settled:
    """The law at the experts or granularity asked (chosen at `flops` for auto), and the
    sketch settings `settings` completed for it (experts, top-k)."""
    law, shape = request.law, dict(settings)
    if request.experts is not None:  # "8" from the command line: the count
        shape["experts"] = request.experts
    arch_moe = str(shape.get("arch") or "").strip().lower() == "moe"
    choice = None
    if isinstance(law, JointMoELaw) and arch_moe:
        if shape.get("top_k") is None:
            shape["top_k"] = JOINT_TOP_K
        if request.searches:

            def total_of(params: float, experts: float) -> float:
                spec = ShapeSpec.of(**{**shape, "experts": int(experts)})
                arch = spec.sketch(params)
                return params * arch.params / arch.active_params

            law, choice = choose_experts(
                law, flops, total_of, request.choices or None, request.max_total_params
            )
        else:
            law = law.at_experts(request.experts or 1)
            shape["experts"] = law.experts
            if request.max_total_params is not None:
                law, choice = _one_expert_count(request, law, flops, shape)
        assert isinstance(law, JointMoELaw)
        shape["experts"] = law.experts
    elif isinstance(law, FineGrainedMoELaw):
        if request.searches or request.max_total_params is not None:
            choices = None if request.searches else [request.granularity or 1.0]
            law, choice = choose_granularity(law, flops, choices, request.max_total_params)
        else:
            law = request.fixed_law()
        assert isinstance(law, FineGrainedMoELaw)
        # the law has no dense form: its N is a mixture's, so the sketch is always one
        g = max(1, round(law.granularity))
        shape["arch"], shape["experts"], shape["top_k"] = "moe", law.moe.expansion * g, g
    else:
        law = request.fixed_law()
    run = None
    if choice is not None and choice.chosen.capped:
        run = Allocation(choice.chosen.params, choice.chosen.tokens)
    return Settled(law, choice, run, shape)


def _one_expert_count(
    request: MoERequest, law: JointMoELaw, flops: float, shape: dict[str, Any]
) -> tuple[Law, MoEChoice]:
    def total_of(params: float, experts: float) -> float:
        arch = ShapeSpec.of(**shape).sketch(params)
        return params * arch.params / arch.active_params

    return choose_experts(law, flops, total_of, [law.experts], request.max_total_params)


@dataclass(frozen=True)
class MoEAdditions:
    """What a plan gains from the MoE laws: warnings, findings, the learning rate."""

    warnings: tuple[str, ...]
    findings: tuple[str, ...]
    learning_rate: MoELearningRate | None


def moe_additions(
    law: Law,
    arch: Any,
    run: Allocation,
    choice: MoEChoice | None,
    memory_params: float | None,
) -> MoEAdditions:
    """The warnings (a dense law given an MoE; beyond the MoE law's range), findings
    (a run shrunk to fit memory) and learning rate (eq. 8) of an MoE plan."""
    warnings: list[str] = []
    findings: list[str] = []
    rate = None
    if isinstance(arch, MoEArchitecture):
        note = dense_law_note(law)
        if note is not None:
            warnings.append(note)
        if isinstance(law, JointMoELaw) and arch.top_k != JOINT_TOP_K:
            warnings.append(
                f"{law.name}'s experts are top-1 (Switch); this sketch routes top-{arch.top_k}, "
                "which the law's loss does not describe"
            )
        scale = run.params / arch.active_params
        rate = moe_learning_rate(arch.non_embedding_active_params * scale, arch.experts, arch.top_k)
    elif isinstance(law, JointMoELaw):
        findings.append(
            f"{law.name} at one expert is its dense form; with `arch` moe and `experts` it "
            "plans a mixture of experts"
        )
    elif isinstance(law, FineGrainedMoELaw):
        findings.append(
            f"{law.name} describes a mixture of {law.moe.expansion} x G experts; with `arch` "
            "moe the sketch is one"
        )
    total = memory_params
    if isinstance(law, FineGrainedMoELaw):
        total = law.total_params(run.params)
        findings.append(
            f"under {law.name}'s FLOP model (eq. 10, router included) the run is "
            f"{human(total)} total non-embedding parameters at granularity "
            f"{law.granularity:g}; N here is its compute-equivalent active count F / (6 D)"
        )
    warnings += range_warnings(law, total)
    if choice is not None and choice.chosen.capped:
        assert choice.max_total_params is not None
        findings.append(
            f"the compute-optimal model does not fit {human(choice.max_total_params)} total "
            f"parameters: the plan is the largest that does ({human(run.params)} active), "
            "trained on the rest of the budget's tokens"
        )
    return MoEAdditions(tuple(warnings), tuple(findings), rate)
