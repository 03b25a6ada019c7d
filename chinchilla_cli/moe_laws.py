"""Plans under the mixture-of-experts laws: how many experts (Joint MoE,
ludziejewski2025) or how fine (fine-grained MoE, krajewski2024), how big, on how many
tokens, within a memory limit.

`MoERequest.of` checks what `plan` was asked about experts and granularity against the
law; `choose_experts` and `choose_granularity` compare the candidates at a budget and
keep the one of lowest predicted loss among those whose total parameters fit
`max_total_params` (memory: every expert is held). A candidate too big for that limit is
shrunk to the largest model that fits, trained on the rest of the budget's tokens.
The law formulas are in moe_scaling.py; the law objects in laws.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chinchilla_cli.errors import InputError
from chinchilla_cli.laws import (
    Bound,
    FineGrainedMoELaw,
    JointMoELaw,
    Law,
    tokens_for,
)
from chinchilla_cli.moe_scaling import joint_learning_rate
from chinchilla_cli.quantity import human
from chinchilla_cli.solvers import boundary

MOE_LAWS = ("ludziejewski2025", "krajewski2024")
AUTO = "auto"
# the Joint law's experts are top-1 Switch experts the size of the dense FFN
JOINT_TOP_K = 1
JOINT_EXPERT_CHOICES = (1, 2, 4, 8, 16, 32, 64, 128, 256)  # searched within the fit range
GRANULARITY_CHOICES = (1, 2, 4, 8, 16, 32, 64)  # searched within the fit range
FALLBACK_EXPERT_RANGE = (1.0, 32.0)
FALLBACK_GRANULARITY_RANGE = (1.0, 16.0)
DENSE_LAW_MOE_NOTE = (
    "{name} is a dense law: it gives sparsity no credit (the loss is that of a dense model "
    "of the active size, whatever the experts); the MoE laws ludziejewski2025 (experts) "
    "and krajewski2024 (granularity) do"
)
# Step Law at OLMoE-1B-7B (1.3B active, 5T tokens) gives 4.6e-3 against its 4.0e-4, and at
# DeepSeek-V2 (21B active, 8.1T tokens) 7.3e-4 against its 2.4e-4 (tests check the ratios)
STEP_LAW_MOE_NOTE = (
    "Step Law on active parameters is 3-11x above the peak learning rates OLMoE-1B-7B "
    "(4.0e-4) and DeepSeek-V2 (2.4e-4) used: take it as an upper bound for an MoE"
)


@dataclass(frozen=True)
class Candidate:
    """One setting compared: its active and total parameters, tokens and loss at the
    budget, and whether the memory limit shrank it."""

    setting: float  # experts or granularity
    params: float  # active
    total_params: float
    tokens: float
    loss: float
    capped: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "setting": self.setting,
            "active_params": self.params,
            "total_params": self.total_params,
            "tokens": self.tokens,
            "loss": self.loss,
            "capped_by_memory": self.capped,
        }


@dataclass(frozen=True)
class MoEChoice:
    """The settings compared at one budget and the one chosen (lowest loss that fits)."""

    law: str
    setting: str  # "experts" or "granularity"
    flops: float
    candidates: tuple[Candidate, ...]
    chosen: Candidate
    max_total_params: float | None = None
    searched: bool = True  # False: one setting given, no search

    def to_dict(self) -> dict[str, Any]:
        return {
            "law": self.law,
            "setting": self.setting,
            "chosen": self.chosen.setting,
            "searched": self.searched,
            "flops": self.flops,
            "max_total_params": self.max_total_params,
            "candidates": [c.to_dict() for c in self.candidates],
        }


TotalOf = Callable[[float, float], float]  # (active params, setting) -> total params


def _candidate(
    law: Law,
    setting: float,
    flops: float,
    total_of: TotalOf,
    max_total: float | None,
) -> Candidate:
    n = law.optimal_params(flops)
    total = total_of(n, setting)
    capped = False
    if max_total is not None and total > max_total:
        # the largest active size whose total fits (shapes are discrete: bisect in log N)
        capped = True
        n = math.exp(
            boundary(
                lambda u: total_of(math.exp(u), setting) <= max_total,
                math.log(n * max_total / total) - 1.0,
                math.log(n),
                iterations=40,
            )
        )
        total = total_of(n, setting)
    d = float(tokens_for(flops, n))
    terms = law.loss(n, d)
    assert terms is not None
    return Candidate(setting, n, total, d, terms.total, capped)


def _choose(
    laws: Sequence[tuple[float, Law]],
    name: str,
    setting: str,
    flops: float,
    total_of: TotalOf,
    max_total: float | None,
    searched: bool,
) -> tuple[Law, MoEChoice]:
    rows = [_candidate(law, s, flops, total_of, max_total) for s, law in laws]
    fitting = [r for r in rows if max_total is None or r.total_params <= max_total * 1.0001]
    if not fitting:
        raise InputError(
            f"no {setting} setting fits {human(max_total or 0)} total parameters at this "
            "budget; raise it",
            field="max_total_params",
        )
    best = min(fitting, key=lambda r: r.loss)
    law = dict(laws)[best.setting]
    return law, MoEChoice(name, setting, flops, tuple(rows), best, max_total, searched)


def expert_choices(law: JointMoELaw, given: Sequence[int] | None) -> tuple[int, ...]:
    """The expert counts `experts` "auto" compares: powers of two over the law's fitted
    range, or the ones given."""
    if given:
        return tuple(sorted(set(given)))
    lo, hi = _bounds(law.fit_experts, FALLBACK_EXPERT_RANGE)
    return tuple(e for e in JOINT_EXPERT_CHOICES if lo <= e <= hi)


def granularity_choices(law: FineGrainedMoELaw) -> tuple[int, ...]:
    lo, hi = _bounds(law.fit_granularity, FALLBACK_GRANULARITY_RANGE)
    return tuple(g for g in GRANULARITY_CHOICES if lo <= g <= hi)


def _bounds(bound: Bound | None, fallback: tuple[float, float]) -> tuple[float, float]:
    lo, hi = bound or fallback
    return (fallback[0] if lo is None else lo), (fallback[1] if hi is None else hi)


def choose_experts(
    law: JointMoELaw,
    flops: float,
    total_of: TotalOf,
    choices: Sequence[int] | None = None,
    max_total_params: float | None = None,
) -> tuple[JointMoELaw, MoEChoice]:
    """The expert count of lowest predicted loss at `flops` among `choices` (default:
    powers of two in the law's fitted range) whose model fits `max_total_params`."""
    laws = [(float(e), law.at_experts(e)) for e in expert_choices(law, choices)]
    chosen, choice = _choose(
        laws, law.name, "experts", flops, total_of, max_total_params, len(laws) > 1
    )
    assert isinstance(chosen, JointMoELaw)
    return chosen, choice


def choose_granularity(
    law: FineGrainedMoELaw,
    flops: float,
    choices: Sequence[float] | None = None,
    max_total_params: float | None = None,
) -> tuple[FineGrainedMoELaw, MoEChoice]:
    """The granularity of lowest predicted loss at `flops` under the law's FLOP model,
    total parameters being the law's own (non-embedding)."""
    settings = tuple(choices) if choices else granularity_choices(law)
    laws = [(float(g), law.at_granularity(g)) for g in settings]

    def total_of(params: float, g: float) -> float:
        return law.at_granularity(g).total_params(params)

    chosen, choice = _choose(
        laws, law.name, "granularity", flops, total_of, max_total_params, len(laws) > 1
    )
    assert isinstance(chosen, FineGrainedMoELaw)
    return chosen, choice


# ---------------------------------------------------------------- what plan was asked


@dataclass(frozen=True)
class MoERequest:
    """What `plan` was asked about experts and granularity, checked against the law.

    `experts` None with `auto_experts` False: no expert count (a dense plan, or the
    dense law's sketch); `choices`: the candidates of a search."""

    law: Law
    experts: int | None = None
    auto_experts: bool = False
    choices: tuple[int, ...] = ()
    granularity: float | None = None
    auto_granularity: bool = False
    max_total_params: float | None = None

    @property
    def searches(self) -> bool:
        return self.auto_experts or self.auto_granularity

    @classmethod
    def of(
        cls,
        law: Law,
        arch: str | None,
        experts: int | str | Sequence[int] | None,
        granularity: float | str | None,
        max_total_params: float | None,
    ) -> MoERequest:
        moe_arch = arch is not None and arch.strip().lower() == "moe"
        auto, choices, fixed = _parse_experts(experts)
        if isinstance(law, JointMoELaw):
            if granularity is not None:
                raise InputError(
                    f"goes with krajewski2024 (fine-grained MoE); {law.name} routes each "
                    "token to one expert the size of the dense FFN: give `experts`",
                    field="granularity",
                )
            if (auto or choices or max_total_params is not None) and not moe_arch:
                raise InputError(
                    "choosing experts needs `arch` moe (without it the plan is the law's "
                    "dense form)",
                    field="experts" if auto or choices else "max_total_params",
                )
            return cls(law, fixed, auto or bool(choices), choices, None, False, max_total_params)
        if isinstance(law, FineGrainedMoELaw):
            if arch is not None and not moe_arch:
                raise InputError(
                    f"{law.name} is a law of mixtures of experts ({law.moe.expansion} x G "
                    f"experts, G of them per token): its plans are MoE; leave `arch` out or "
                    f"give moe, not {arch!r}",
                    field="arch",
                )
            if experts is not None:
                raise InputError(
                    f"{law.name} fixes the expansion at {law.moe.expansion} and routes each "
                    "token to G experts: give `granularity` (a number or auto), not `experts`",
                    field="experts",
                )
            auto_g = isinstance(granularity, str) and granularity.strip().lower() == AUTO
            g = None if auto_g or granularity is None else float(granularity)
            if g is not None and not (math.isfinite(g) and g >= 1):
                raise InputError(
                    f"`granularity` must be at least 1, got {granularity!r}", field="granularity"
                )
            return cls(law, None, False, (), g, auto_g, max_total_params)
        for field, value in (
            ("granularity", granularity),
            ("max_total_params", max_total_params),
        ):
            if value is not None:
                raise InputError(
                    f"needs an MoE law ({', '.join(MOE_LAWS)}); {law.name} is {law.kind}",
                    field=field,
                )
        if auto or choices:
            raise InputError(
                f"choosing experts needs an MoE law ({', '.join(MOE_LAWS)}): {law.name} "
                "gives sparsity no credit, so every count would tie",
                field="experts",
            )
        return cls(law, fixed)

    def fixed_law(self) -> Law:
        """The law at the setting given (the dense form when none was)."""
        if isinstance(self.law, JointMoELaw) and self.experts is not None:
            return self.law.at_experts(self.experts)
        if isinstance(self.law, FineGrainedMoELaw) and self.granularity is not None:
            return self.law.at_granularity(self.granularity)
        return self.law


def _parse_experts(
    experts: int | str | Sequence[int] | None,
) -> tuple[bool, tuple[int, ...], int | None]:
    """(auto, candidates, fixed count) from `experts`: a count, "auto", "8,16,32" or a
    list of counts."""
    if experts is None:
        return False, (), None
    if isinstance(experts, str):
        text = experts.strip().lower()
        if text == AUTO:
            return True, (), None
        parts = [p.strip() for p in text.split(",")]
        if not all(p.isdigit() and int(p) >= 1 for p in parts):
            raise InputError(
                f"`experts` must be a positive whole number, auto, or a comma list of "
                f"counts to compare (8,16,32), got {experts!r}",
                field="experts",
            )
        listed = tuple(int(p) for p in parts)
        return (False, (), listed[0]) if len(listed) == 1 else (False, listed, None)
    if isinstance(experts, bool) or not isinstance(experts, (int, Sequence)):
        raise InputError(f"`experts` must be a whole number, got {experts!r}", field="experts")
    if isinstance(experts, int):
        if experts < 1:
            raise InputError(
                f"`experts` must be a positive whole number, got {experts!r}", field="experts"
            )
        return False, (), experts
    counts = tuple(int(e) for e in experts)
    if not counts or any(e < 1 for e in counts):
        raise InputError(f"`experts` counts must be positive, got {experts!r}", field="experts")
    return False, counts, None


# ---------------------------------------------------------------- warnings and notes


def range_warnings(law: Law, total_params: float | None) -> list[str]:
    """Where the plan's experts, granularity or total parameters lie beyond what the MoE
    law was fitted on (the dense quantities are checked by laws.extrapolation_warning)."""
    out = []
    if isinstance(law, JointMoELaw):
        lo, hi = _bounds(law.fit_experts, FALLBACK_EXPERT_RANGE)
        if law.experts > hi:
            out.append(
                f"{law.experts} experts is beyond the {hi:g} {law.name} was fitted on: its "
                "saturating Ê and the loss here are extrapolations"
            )
        bound = law.fit_total_params
    elif isinstance(law, FineGrainedMoELaw):
        lo, hi = _bounds(law.fit_granularity, FALLBACK_GRANULARITY_RANGE)
        if law.granularity > hi:
            out.append(
                f"granularity {law.granularity:g} is beyond the {hi:g} {law.name} was "
                "fitted on: the loss here is an extrapolation"
            )
        bound = law.fit_total_params
    else:
        return []
    if bound is not None and bound[1] is not None and total_params is not None:
        if total_params > 10 * bound[1]:
            out.append(
                f"{human(total_params)} total parameters is {total_params / bound[1]:.3g}x the "
                f"largest {law.name} was fitted on ({human(bound[1])})"
            )
    return out


def dense_law_note(law: Law) -> str | None:
    """For `arch` moe under a dense law: it gives sparsity no credit."""
    if isinstance(law, (JointMoELaw, FineGrainedMoELaw)):
        return None
    return DENSE_LAW_MOE_NOTE.format(name=law.name)


# eq. 8 was fitted on top-1 experts at E in {1, 8} and checked up to 32
LR_CHECKED_EXPERTS = 32


@dataclass(frozen=True)
class MoELearningRate:
    """The Joint MoE paper's peak learning rate (eq. 8) for the plan's sketch, with the
    constants it was computed from (presets/laws.yaml, ludziejewski2025)."""

    learning_rate: float
    non_embedding_active_params: float
    experts: int
    top_k: int
    constants: tuple[float, float, float]  # intercept, exponents of N_act\e and of E
    step_law_note: str = STEP_LAW_MOE_NOTE

    @property
    def formula(self) -> str:
        c, p, e = self.constants

        def term(x: float) -> str:
            return f"{'-' if x < 0 else '+'} {abs(x):g}"

        return f"exp({c:g} {term(p)} ln N_act,non-emb {term(e)} ln E) (ludziejewski2025 eq. 8)"

    @property
    def extrapolated(self) -> bool:
        """Beyond the top-1 experts, up to 32, that eq. 8 was fitted and checked on."""
        return self.top_k != JOINT_TOP_K or self.experts > LR_CHECKED_EXPERTS

    @property
    def notes(self) -> tuple[str, ...]:
        out = [self.step_law_note]
        if self.top_k != JOINT_TOP_K:
            out.append(f"eq. 8 was fitted on top-1 experts; this sketch routes top-{self.top_k}")
        if self.experts > LR_CHECKED_EXPERTS:
            out.append(
                f"eq. 8 was checked up to {LR_CHECKED_EXPERTS} experts; this sketch has "
                f"{self.experts}"
            )
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "law": "ludziejewski2025",
            "learning_rate": self.learning_rate,
            "non_embedding_active_params": self.non_embedding_active_params,
            "experts": self.experts,
            "formula": self.formula,
            "notes": list(self.notes),
        }


def moe_learning_rate(
    non_embedding_active_params: float, experts: int, top_k: int
) -> MoELearningRate:
    """Eq. 8 of the Joint MoE paper for a sketch's active non-embedding parameters."""
    from chinchilla_cli.presets import load_presets

    rate = load_presets("laws")["ludziejewski2025"]["learning_rate"]
    constants = (float(rate["intercept"]), float(rate["params"]), float(rate["experts"]))
    return MoELearningRate(
        joint_learning_rate(non_embedding_active_params, experts, *constants),
        non_embedding_active_params,
        experts,
        top_k,
        constants,
    )


# ---------------------------------------------------------------- sweeps


def sweep_expert_counts(experts: int | str | Sequence[int] | None) -> tuple[int | None, ...]:
    """The expert counts a sweep covers: one set of runs each ("auto" is refused: a sweep
    measures every count, it does not pick one)."""
    auto, choices, fixed = _parse_experts(experts)
    if auto:
        raise InputError(
            "a sweep runs every count it is given; list them (1,4,16) rather than auto",
            field="experts",
        )
    return choices or (fixed,)


def sweep_top_k(law: Law, arch: str | None, top_k: int | None) -> int | None:
    """The Joint MoE law's experts are top-1: its sweeps default to that."""
    moe_arch = arch is not None and arch.strip().lower() == "moe"
    if top_k is None and moe_arch and isinstance(law, JointMoELaw):
        return JOINT_TOP_K
    return top_k


def sweep_law(law: Law, shape: Any) -> Law:
    """The law at the sweep's expert count (the Joint MoE law) or granularity (the
    fine-grained law, top-k read as G); other laws as they are."""
    if getattr(shape, "family", None) != "moe":
        return law
    if isinstance(law, JointMoELaw):
        return law.at_experts(shape.experts)
    if isinstance(law, FineGrainedMoELaw):
        return law.at_granularity(shape.top_k)
    return law


def law_for_architecture(law: Law, architecture: Any) -> Law:
    """The Joint MoE law at a mixture of experts' routed expert count (others unchanged):
    `compare` reads a named MoE run at its own experts."""
    experts = getattr(architecture, "experts", None)
    if isinstance(law, JointMoELaw) and isinstance(experts, int):
        return law.at_experts(experts)
    return law


def moe_config_notes(law: Law, configs: Sequence[Any]) -> list[str]:
    """What `compare` says about the mixtures of experts among its runs: how the law
    reads them, and where they lie beyond an MoE law's fitted experts and totals."""
    names = ", ".join(c.name for c in configs)
    plural = "s" * (len(configs) > 1)
    if not isinstance(law, (JointMoELaw, FineGrainedMoELaw)):
        return [
            f"{names}: mixture{plural} of experts: N is the active parameters, for the law "
            "and for C = 6·N·D (the dense law applied to what each token uses); the total "
            "sets the memory",
            DENSE_LAW_MOE_NOTE.format(name=law.name),
        ]
    out = [
        f"{names}: mixture{plural} of experts: N is the active parameters (C = 6·N·D); "
        + (
            f"{law.name} reads each at its routed expert count as top-1 experts the size of "
            "the dense FFN (its own setting), whatever their top-k and width"
            if isinstance(law, JointMoELaw)
            else f"{law.name} reads them at granularity {law.granularity:g}"
        )
    ]
    for c in configs:
        out += [
            f"{c.name}: {w}"
            for w in range_warnings(law_for_architecture(law, c.architecture), c.total)
        ]
    return out
