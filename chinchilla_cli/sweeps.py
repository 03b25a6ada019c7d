"""Design an IsoFLOP experiment (`chinchilla sweep`): for each FLOP budget C, model sizes
spread evenly in log N and centred on a law's predicted optimum N*(C), each trained on
D = C / (6 N) tokens, with an architecture sketch and its wall-clock on a cluster.

Centring matters: Approach 2 fits a parabola to loss against log N within each budget,
and a sweep that sits off the true optimum biases the parabola's vertex towards its
centre. The law only guesses the optimum, so the span (largest / smallest size) should
leave room on both sides.

Each run's N is the exact parameter count of its architecture sketch (the model one
would actually train), not the log-even target it was sketched for; its tokens are
C / (6 N) for that N, so every run of a budget spends exactly C = 6 N D. The targets
are kept beside the counts (`target_params`).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from chinchilla_cli._display import Drawn
from chinchilla_cli.advice import TRAIN_BYTES_PER_PARAM
from chinchilla_cli.architecture import Architecture
from chinchilla_cli.errors import InputError
from chinchilla_cli.fit_defaults import FLOPS_TOLERANCE as FIT_FLOPS_TOLERANCE
from chinchilla_cli.frontier import optimal_allocation
from chinchilla_cli.hardware import SECONDS_PER_HOUR, Cluster
from chinchilla_cli.law_files import resolve_law
from chinchilla_cli.laws import FLOPS_PER_PARAM_TOKEN, Law
from chinchilla_cli.moe import MoEArchitecture
from chinchilla_cli.plausibility import check_distinct_shapes
from chinchilla_cli.quantity import (
    BUDGET_FORMS,
    accepts_quantities,
    human,
    parse_budgets,
    require,
    sci,
)
from chinchilla_cli.specs import ClusterSpec, ShapeSpec, cluster_spec, given, shape_spec
from chinchilla_cli.utilisation import mfu_warnings

DEFAULT_SIZES = 9
DEFAULT_SPAN = 16.0
DEFAULT_CHIPS = 8  # each run of a sweep is small: one node
MIN_PARABOLA_SIZES = 3  # a parabola through loss against log N needs three sizes
MAX_SIZES = 100
SKETCH_TOLERANCE = 0.05  # warn when a sketch's count is further than this from its target
APPENDIX_F_NOTE_RATIO = 1.10  # mention the appendix-F count when it exceeds 6N by this
# the next runs to train (design.py), here without numpy for the command line's defaults
NARROW = ("nopt", "loss")  # what the runs narrow: N_opt(C) or the compute-optimal loss L*(C)
DEFAULT_NARROW = "nopt"
DEFAULT_SUGGESTED_RUNS = 4

CSV_COLUMNS = (
    "budget_flops",
    "params",
    "tokens",
    "flops",
    "n_layers",
    "d_model",
    "n_heads",
    "hours",
    "loss",
)


# ---------------------------------------------------------------- budgets


def target_sizes(centre: float, sizes: int, span: float) -> tuple[float, ...]:
    """`sizes` values spread evenly in log N, centred on `centre` (in log), with
    largest / smallest = `span`. One size is the centre itself."""
    if sizes == 1:
        return (centre,)
    return tuple(centre * span ** (i / (sizes - 1) - 0.5) for i in range(sizes))


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class SweepRun:
    """One planned run: the sketched model, its tokens for the budget, its wall-clock."""

    target_params: float  # the log-even size it was sketched for
    architecture: Architecture | MoEArchitecture
    tokens: float  # C / (6 N) with N the sketch's exact (active) count
    flops: float  # the budget: 6 N D
    seconds: float  # on the cluster, from 6 N D
    centre_params: float  # the budget's centre, for N/N*
    loss: float | None  # the law's predicted loss (None if it predicts none)

    @property
    def params(self) -> int:
        """N: the active parameters of a mixture of experts, all of a dense model's."""
        return self.architecture.active_params

    @property
    def total_params(self) -> int:
        return self.architecture.params

    @property
    def hours(self) -> float:
        return self.seconds / SECONDS_PER_HOUR

    @property
    def relative_size(self) -> float:
        """N / N*: the run's size over the budget's centre."""
        return self.params / self.centre_params

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "total_params": self.total_params,
            "target_params": self.target_params,
            "relative_size": self.relative_size,
            "tokens": self.tokens,
            "tokens_per_param": self.tokens_per_param,
            "flops": self.flops,
            "architecture": self.architecture.to_dict(),
            "hours": self.hours,
            "predicted_loss": self.loss,
        }


@dataclass(frozen=True)
class SweepBudget:
    """The runs of one FLOP budget, centred on the law's optimum N*(C)."""

    flops: float
    centre_params: float  # N*(C) under the law
    centre_tokens: float  # C / (6 N*)
    centre_loss: float | None
    runs: tuple[SweepRun, ...]
    experts: int | None = None  # a sweep over experts (an MoE law): this budget's count

    @property
    def total_flops(self) -> float:
        return sum(r.flops for r in self.runs)

    @property
    def total_seconds(self) -> float:
        return sum(r.seconds for r in self.runs)

    @property
    def total_hours(self) -> float:
        return self.total_seconds / SECONDS_PER_HOUR

    @property
    def loss_spread(self) -> float | None:
        """Predicted loss of the worst run minus that of the best: the curvature the
        parabola has to find above the noise of the losses."""
        losses = [r.loss for r in self.runs if r.loss is not None]
        return max(losses) - min(losses) if losses else None

    @property
    def tokens_per_param(self) -> float:
        return self.centre_tokens / self.centre_params

    def to_dict(self) -> dict[str, Any]:
        return {
            "flops": self.flops,
            "centre_params": self.centre_params,
            "centre_tokens": self.centre_tokens,
            "centre_loss": self.centre_loss,
            "predicted_loss_spread": self.loss_spread,
            "runs": [r.to_dict() for r in self.runs],
            "total_flops": self.total_flops,
            "total_hours": self.total_hours,
            **({} if self.experts is None else {"experts": self.experts}),
        }


@dataclass(frozen=True)
class Sweep(Drawn):
    """An IsoFLOP experiment (`chinchilla sweep`): for each budget, `sizes` runs spread
    over a factor `span` in N around the law's optimum, each with its architecture
    sketch (of `shape`) and its wall-clock on `cluster`. `csv_text()` is the grid for
    `chinchilla fit`."""

    law: Law
    cluster: Cluster
    budgets: tuple[SweepBudget, ...]
    sizes: int
    span: float
    shape: ShapeSpec  # the sketches: family, vocabulary, sequence, d_model/layers, experts
    assumptions: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def __repr__(self) -> str:
        b = self.budgets
        if not b:
            return f"Sweep(no budgets, law {self.law.name})"
        where = f"{sci(b[0].flops)} to {sci(b[-1].flops)}" if len(b) > 1 else sci(b[0].flops)
        return (
            f"Sweep({len(b)} budget{'s' * (len(b) != 1)} x {self.sizes} sizes = "
            f"{len(self.runs)} runs, {where} "
            f"FLOPs, {self.total_hours:,.3g} hours on {self.cluster.chips} x "
            f"{self.cluster.accelerator.name}, law {self.law.name})"
        )

    @property
    def vocab_size(self) -> int:
        return self.shape.vocab_size

    @property
    def seq_len(self) -> int:
        return self.shape.seq_len

    @property
    def aspect_ratio(self) -> float:
        return self.shape.aspect_ratio

    @property
    def runs(self) -> tuple[SweepRun, ...]:
        return tuple(r for b in self.budgets for r in b.runs)

    @property
    def total_flops(self) -> float:
        return sum(b.total_flops for b in self.budgets)

    @property
    def total_seconds(self) -> float:
        return sum(b.total_seconds for b in self.budgets)

    @property
    def total_hours(self) -> float:
        return self.total_seconds / SECONDS_PER_HOUR

    def to_dict(self) -> dict[str, Any]:
        c = self.cluster
        return {
            "law": {"name": self.law.name, "kind": self.law.kind, "source": self.law.source},
            "hardware": {
                "accelerator": c.accelerator.name,
                "chips": c.chips,
                "peak_flops_per_second": c.peak_flops_per_second,
                "mfu": c.mfu,
                "flops_per_second": c.flops_per_second,
            },
            "sizes": self.sizes,
            "span": self.span,
            "vocab_size": self.vocab_size,
            "seq_len": self.seq_len,
            "aspect_ratio": self.aspect_ratio,
            "family": self.shape.family,
            "budgets": [b.to_dict() for b in self.budgets],
            "n_runs": len(self.runs),
            "total_flops": self.total_flops,
            "total_hours": self.total_hours,
            "assumptions": list(self.assumptions),
            "warnings": list(self.warnings),
        }

    def csv_text(self) -> str:
        """The grid as CSV for `chinchilla fit`: fill in the loss column, then fit it."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        by_experts = any(b.experts is not None for b in self.budgets)
        writer.writerow(CSV_COLUMNS + (("experts",) if by_experts else ()))
        for b in self.budgets:
            for r in b.runs:
                a = r.architecture
                writer.writerow(
                    [
                        f"{b.flops:.10g}",
                        r.params,
                        f"{round(r.tokens)}",
                        f"{r.flops:.10g}",
                        a.n_layers,
                        a.d_model,
                        a.n_heads,
                        f"{r.hours:.6g}",
                        "",
                        *([b.experts] if by_experts else []),
                    ]
                )
        return out.getvalue()


# ---------------------------------------------------------------- the design


def make_sweep(
    law: Law,
    budgets: tuple[float, ...],
    cluster: Cluster,
    *,
    sizes: int = DEFAULT_SIZES,
    span: float = DEFAULT_SPAN,
    shape: ShapeSpec | None = None,
    assumptions: tuple[str, ...] = (),
) -> Sweep:
    """The runs of an IsoFLOP sweep over `budgets` (FLOPs), `sizes` per budget spread over
    a factor `span` in N around the law's optimum, on `cluster`, sketched with `shape`
    (default: the chinchilla family; a mixture of experts: N is active)."""
    shape = shape or ShapeSpec()
    if not budgets:
        raise InputError(f"no budgets; expected {BUDGET_FORMS}", field="budgets")
    if not 1 <= sizes <= MAX_SIZES:
        raise InputError(
            f"{sizes} is out of range; expected a whole number from 1 "
            f"to {MAX_SIZES} (3 or more for a parabola)",
            field="sizes",
        )
    if not (span > 1 and math.isfinite(span)):
        raise InputError(
            f"{span:g} is out of range; expected a number > 1 (largest over smallest model size)",
            field="span",
        )
    planned = []
    for c in budgets:
        centre = optimal_allocation(law, c)
        runs = []
        for target in target_sizes(centre.params, sizes, span):
            arch = shape.sketch(target)
            tokens = c / (FLOPS_PER_PARAM_TOKEN * arch.active_params)
            terms = law.loss(arch.active_params, tokens)
            runs.append(
                SweepRun(
                    target,
                    arch,
                    tokens,
                    c,
                    cluster.seconds_for(c),
                    centre.params,
                    None if terms is None else terms.total,
                )
            )
        needed = min(sizes, MIN_PARABOLA_SIZES)
        check_distinct_shapes(c, [r.architecture for r in runs], needed, shape.vocab_size)
        centre_terms = law.loss(centre.params, centre.tokens)
        planned.append(
            SweepBudget(
                c,
                centre.params,
                centre.tokens,
                None if centre_terms is None else centre_terms.total,
                tuple(runs),
            )
        )
    result = Sweep(law, cluster, tuple(planned), sizes, span, shape, assumptions)
    return replace(result, warnings=tuple(_warnings(result)))


def _warnings(sw: Sweep) -> list[str]:
    out = list(sw.law.notes)
    if sw.sizes < MIN_PARABOLA_SIZES:
        out.append(
            f"`sizes` {sw.sizes}: a parabola through loss against log N needs at least "
            f"{MIN_PARABOLA_SIZES} sizes per budget; a fit with `approach` isoflop "
            "will skip these budgets"
        )
    if len(sw.budgets) == 1:
        out.append(
            "one budget gives one IsoFLOP minimum; fitting how N_opt grows with C "
            "needs at least 2 budgets (3 or more to see a trend)"
        )
    for lo, hi in zip(sw.budgets, sw.budgets[1:], strict=False):
        if hi.flops <= lo.flops * (1 + FIT_FLOPS_TOLERANCE):
            out.append(
                f"budgets {sci(lo.flops)} and {sci(hi.flops)} are within "
                f"{FIT_FLOPS_TOLERANCE:.0%} of each other: `chinchilla fit` would read "
                "them as one budget (see `flops_tolerance`)"
            )
    for b in sw.budgets:
        off = [r for r in b.runs if abs(r.params / r.target_params - 1) > SKETCH_TOLERANCE]
        if off:
            worst = max(off, key=lambda r: abs(math.log(r.params / r.target_params)))
            out.append(
                f"budget {sci(b.flops)}: {len(off)} of {len(b.runs)} sketches miss their target "
                f"size by more than {SKETCH_TOLERANCE:.0%} (worst: {human(worst.target_params)} "
                f"-> {human(worst.params)}); at these sizes the {sw.vocab_size:,}-token embedding "
                "dominates the count: lower `vocab` or raise the budget"
            )
        distinct = {r.params for r in b.runs}
        if len(distinct) < len(b.runs):
            out.append(
                f"budget {sci(b.flops)}: only {len(distinct)} distinct model sizes among "
                f"its {len(b.runs)} runs (several targets got the same sketch)"
            )
    memory = sw.cluster.memory_bytes
    too_big = [r for r in sw.runs if TRAIN_BYTES_PER_PARAM * r.total_params > memory]
    if too_big:
        biggest = max(r.total_params for r in too_big)
        out.append(
            f"{len(too_big)} run(s) (up to {human(biggest)} parameters) need more than the "
            f"cluster's {memory / 1e12:,.2f} TB of accelerator memory for weights, "
            f"gradients and Adam ({TRAIN_BYTES_PER_PARAM} bytes/param); add `chips`"
        )
    ratio = max(
        r.architecture.flops_per_token / (FLOPS_PER_PARAM_TOKEN * r.params) for r in sw.runs
    )
    if ratio > APPENDIX_F_NOTE_RATIO:
        out.append(
            f"hours count C = 6ND; the sketches' full count (Hoffmann et al. appendix F: "
            f"attention over {sw.seq_len:,}-token sequences and the output logits) is up "
            f"to {ratio:.2f}x that at the smallest sizes, and the wall-clock with it"
        )
    return out


@accepts_quantities
def sweep(
    budgets: str | Sequence[float],
    *,
    sizes: int = DEFAULT_SIZES,
    span: float = DEFAULT_SPAN,
    law: str | Law | None = None,
    chips: int = DEFAULT_CHIPS,
    accelerator: str | None = None,
    peak_flops: float | None = None,
    mfu: float | None = None,
    vocab: int | None = None,
    seq_len: int | None = None,
    aspect_ratio: float | None = None,
    arch: str | None = None,
    kv_heads: int | None = None,
    experts: int | str | Sequence[int] | None = None,
    top_k: int | None = None,
    shared_experts: int | None = None,
    expert_ffw: int | None = None,
    precision: str | None = None,
    cluster: ClusterSpec | None = None,
    shape: ShapeSpec | None = None,
) -> Sweep:
    """Design an IsoFLOP experiment: at each budget (FLOPs; a list or "START:STOP:COUNT"),
    `sizes` model sizes over a factor `span` in N, centred on the law's optimum, with an
    architecture sketch each and the wall-clock of each run on `chips` accelerators.
    `arch` and the expert arguments shape the sketches as `plan` does (for "moe", N is
    the active parameters); `precision` picks the accelerator's peak. The hardware and
    shape settings may come as one `cluster` (ClusterSpec) and `shape` (ShapeSpec).
    Under the Joint MoE law (ludziejewski2025) `experts` may list counts ("1,4,16"): one
    set of runs per count at each budget, the experiment that fits that law."""
    from chinchilla_cli.moe_laws import sweep_expert_counts, sweep_law, sweep_top_k

    counts = sweep_expert_counts(experts)
    if len(counts) > 1:
        parts = [
            sweep(
                budgets, sizes=sizes, span=span, law=law, chips=chips, accelerator=accelerator,
                peak_flops=peak_flops, mfu=mfu, vocab=vocab, seq_len=seq_len,
                aspect_ratio=aspect_ratio, arch=arch, kv_heads=kv_heads, experts=e,
                top_k=top_k, shared_experts=shared_experts, expert_ffw=expert_ffw,
                precision=precision, cluster=cluster, shape=shape,
            )
            for e in counts
        ]  # fmt: skip
        return _merge(parts, counts)
    experts = counts[0]
    planned = parse_budgets(budgets, "budgets") if isinstance(budgets, str) else tuple(budgets)
    for value in planned:
        require(value, "budgets")
    require(chips, "chips", integer=True)
    given_law = resolve_law(law)
    sketches = shape_spec(
        shape, arch=arch, vocab=vocab, seq_len=seq_len, aspect_ratio=aspect_ratio,
        kv_heads=kv_heads, experts=experts, shared_experts=shared_experts,
        top_k=sweep_top_k(given_law, arch, top_k), expert_ffw=expert_ffw,
    )  # fmt: skip
    settings = {"accelerator": accelerator, "peak_flops": peak_flops, "mfu": mfu}
    hardware = cluster_spec(cluster, True, {**settings, "precision": precision})
    the_law = sweep_law(given_law, sketches)
    on = hardware.cluster(chips)
    assumptions = [
        given(f"law {the_law.name}", law is None),
        "C = 6·N·D",
        *hardware.assumptions(on, with_goodput=False),
        "runs one after another on the whole cluster",
        f"{sketches.family} shapes, vocabulary {sketches.vocab_size:,}, sequence "
        f"{sketches.seq_len:,}, d_model/layers ≈ {sketches.aspect_ratio:g}",
    ]
    if sketches.family == "moe":
        assumptions.append(sketches.moe_assumption(the_law is not given_law))
    result = make_sweep(
        the_law,
        planned,
        on,
        sizes=sizes,
        span=span,
        shape=sketches,
        assumptions=tuple(assumptions),
    )
    if "mfu" in hardware.defaulted:
        return result
    extra = mfu_warnings(hardware.utilisation, hardware.precision)
    return replace(result, warnings=result.warnings + tuple(extra))


def _merge(parts: list[Sweep], counts: tuple[int | None, ...]) -> Sweep:
    """One sweep of several expert counts: each count's budgets, marked with it."""
    budgets = tuple(
        replace(b, experts=e) for part, e in zip(parts, counts, strict=True) for b in part.budgets
    )
    warnings = tuple(dict.fromkeys(w for part in parts for w in part.warnings))
    assumptions = tuple(dict.fromkeys(a for part in parts for a in part.assumptions))
    return replace(parts[0], budgets=budgets, warnings=warnings, assumptions=assumptions)
