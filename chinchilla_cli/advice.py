"""What a plan says about its run beside the split itself: whether it fits the cluster,
what the other laws would do, the bootstrap intervals of the law, whether the sketch
describes the run, and the hyperparameter laws' learning rate and batch."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from chinchilla_cli.architecture import Architecture
from chinchilla_cli.fit_defaults import CI_LEVEL
from chinchilla_cli.frontier import Allocation, optimal_allocation
from chinchilla_cli.hardware import DEFAULT_PRECISION, PRECISIONS, Cluster, Precision
from chinchilla_cli.hyperparameters import Hyperparameters as LawHyperparameters
from chinchilla_cli.hyperparameters import load_hyperparameter_law, optimal_hyperparameters
from chinchilla_cli.law_files import load_law
from chinchilla_cli.laws import Law, ParametricLaw
from chinchilla_cli.moe import MoEArchitecture
from chinchilla_cli.quantity import human

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
# the training state per parameter of the default number format (bf16 mixed precision)
TRAIN_BYTES_PER_PARAM = PRECISIONS[DEFAULT_PRECISION].bytes_per_param


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
# ... or its full FLOPs per token (appendix F) more than this factor above the 6N that C,
# the wall-clock and the cost count: long sequences, or a small model's output logits
FULL_COUNT_RATIO = 1.5


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


def full_count_warning(arch: Architecture | MoEArchitecture) -> str | None:
    """Say when training the model costs far more per token than the 6N that C = 6·N·D
    (and with it the wall-clock and the cost) counts: Hoffmann et al. appendix F's count
    adds attention over the whole sequence and the output logits."""
    ratio = arch.flops_per_token / arch.flops_per_token_6n
    if ratio <= FULL_COUNT_RATIO:
        return None
    return (
        f"C, the wall-clock and the cost count 6N FLOPs per token, but this model's full "
        f"count (Hoffmann et al. appendix F: attention over {arch.seq_len:,}-token sequences "
        f"and the output logits) is {ratio:.2f}x that: training it takes about {ratio:.2g}x "
        "the compute and time shown"
    )


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
    # a new run's loss there: the samples plus the law's run-to-run noise (None: no noise)
    loss_new_run: Interval | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "samples": self.samples,
            "params": self.params.to_list(),
            "tokens": self.tokens.to_list(),
            "loss": self.loss.to_list(),
            "loss_new_run": None if self.loss_new_run is None else self.loss_new_run.to_list(),
            "source": self.source,
        }


def uncertainty(
    law: ParametricLaw, flops: float, alloc: Allocation, level: float = CI_LEVEL
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

    losses = [s.loss(alloc.params, alloc.tokens).total for s in laws]
    new_run = None
    if law.noise is not None:
        from chinchilla_cli.prediction import new_run_interval

        point = law.loss(alloc.params, alloc.tokens).total
        new_run = Interval(*new_run_interval(point, losses, law.noise.log_loss_sd, level))
    return Uncertainty(
        level,
        len(laws),
        interval([s.optimal_params(flops) for s in laws]),
        interval([s.optimal_tokens(flops) for s in laws]),
        interval(losses),
        law.samples_source,
        new_run,
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
