"""The settings `plan` and `sweep` share, each checked and defaulted once.

`ClusterSpec` is the hardware less its chip count (accelerator, peak, MFU, goodput,
number format, and what a chip-hour costs in dollars and energy); `ShapeSpec` is how to
sketch a model (family, vocabulary, sequence, d_model / layers, key/value heads and the
mixture-of-experts settings). Both are frozen: building one validates every setting and
raises `InputError` naming the argument (`aspect_ratio`), so a value one command refuses
the other refuses too. `of(...)` builds a spec from arguments left as None where the
caller gave none, and records which took their defaults (the assumptions say so).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

from chinchilla_cli.architecture import (
    DEFAULT_ASPECT_RATIO,
    DEFAULT_FAMILY,
    DEFAULT_KV_HEADS,
    DEFAULT_SEQ_LEN,
    DEFAULT_VOCAB,
    SKETCH_FAMILIES,
    Architecture,
    shape,
    sketch,
)
from chinchilla_cli.costs import DEFAULT_GRID_G_PER_KWH, DEFAULT_PUE, Prices
from chinchilla_cli.errors import InputError
from chinchilla_cli.hardware import (
    DEFAULT_ACCELERATOR,
    DEFAULT_GOODPUT,
    DEFAULT_MFU_BY_PRECISION,
    DEFAULT_PRECISION,
    PRECISIONS,
    Accelerator,
    Cluster,
    Precision,
    cluster_assumptions,
    load_accelerator,
    peak_precision,
)
from chinchilla_cli.moe import MoEArchitecture, moe_shape, moe_sketch
from chinchilla_cli.names import match, unknown
from chinchilla_cli.pinned import check_d_model, pinned_sketch
from chinchilla_cli.quantity import require

SHAPE_FAMILIES = (*SKETCH_FAMILIES, "moe")  # moe: moe.moe_sketch, with the llama rules
GQA_FAMILIES = ("llama", "moe")  # the families with grouped-query attention (`kv_heads`)
MIN_ASPECT_RATIO, MAX_ASPECT_RATIO = 4.0, 1000.0  # Table A9 43-109; GPT-3 128, Gopher 205
MOE_SETTINGS = ("experts", "top_k", "shared_experts", "expert_ffw")


def given(text: str, default: bool) -> str:
    """An assumption, marked "(default)" when the caller left the argument out."""
    return text + (" (default)" if default else "")


@dataclass(frozen=True)
class ShapeSpec:
    """How to sketch a model: the family's rules (chinchilla, llama or moe), vocabulary
    and sequence in tokens, the target d_model / layers, key/value heads (llama, moe),
    and for a mixture of experts the routed `experts`, `top_k` of them per token,
    `shared_experts` always on and each expert's width `expert_ffw` (None: the dense
    width over top_k + shared_experts). `vocab_size` 0 takes the family's default.
    """

    family: str = DEFAULT_FAMILY
    vocab_size: int = 0
    seq_len: int = DEFAULT_SEQ_LEN
    aspect_ratio: float = DEFAULT_ASPECT_RATIO
    kv_heads: int = DEFAULT_KV_HEADS
    experts: int | None = None
    top_k: int | None = None
    shared_experts: int = 0
    expert_ffw: int | None = None
    defaulted: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    layers: int | None = None  # pinned depth (None: chosen for the target size)
    d_model: int | None = None  # pinned width (None: chosen for the target size)

    def __post_init__(self) -> None:
        family = match(str(self.family), SHAPE_FAMILIES)
        if family is None:
            raise InputError(unknown("family", str(self.family), SHAPE_FAMILIES), field="arch")
        object.__setattr__(self, "family", family)
        if self.vocab_size == 0:
            object.__setattr__(self, "vocab_size", DEFAULT_VOCAB[family])
        for name in ("vocab_size", "seq_len", "kv_heads", "experts", "top_k", "expert_ffw"):
            require(getattr(self, name), _ARGUMENT.get(name, name), integer=True)
        require(self.shared_experts, "shared_experts", integer=True, inclusive=True)
        require(
            self.aspect_ratio, "aspect_ratio", minimum=MIN_ASPECT_RATIO, maximum=MAX_ASPECT_RATIO
        )
        require(self.layers, "layers", integer=True)
        require(self.d_model, "d_model", integer=True)
        if self.d_model is not None:
            check_d_model(self.d_model)
        self._check_moe()

    def _check_moe(self) -> None:
        """The expert settings describe family moe, which needs `experts` and `top_k`."""
        if self.family != "moe":
            for name in MOE_SETTINGS:
                if getattr(self, name) not in (None, 0):
                    raise InputError(
                        f"describes a mixture of experts; give `arch` moe (this plan sketches "
                        f"{self.family} shapes)",
                        field=name,
                    )
            return
        for name in ("experts", "top_k"):
            if getattr(self, name) is None:
                raise InputError(
                    "`arch` moe needs `experts` (routed experts per layer) and `top_k` "
                    "(experts each token uses), e.g. 64 and 8",
                    field=name,
                )
        assert self.experts is not None and self.top_k is not None
        if self.top_k > self.experts:
            raise InputError(
                f"{self.top_k} experts per token is more than the {self.experts} there are; "
                f"accepted: 1 to {self.experts}",
                field="top_k",
            )

    @classmethod
    def of(
        cls,
        arch: str | None = None,
        vocab: int | None = None,
        seq_len: int | None = None,
        aspect_ratio: float | None = None,
        kv_heads: int | None = None,
        experts: int | None = None,
        top_k: int | None = None,
        shared_experts: int | None = None,
        expert_ffw: int | None = None,
        layers: int | None = None,
        d_model: int | None = None,
    ) -> ShapeSpec:
        """The spec from arguments as `plan` and `sweep` take them (None: the default)."""
        if aspect_ratio is not None and (layers is not None or d_model is not None):
            raise InputError(
                "not with `layers` or `d_model`: the pinned dimension and the target size "
                "set the shape's d_model / layers",
                field="aspect_ratio",
            )
        for name, value in (("vocab", vocab), ("seq_len", seq_len), ("kv_heads", kv_heads)):
            require(value, name, integer=True)
        require(aspect_ratio, "aspect_ratio", minimum=MIN_ASPECT_RATIO, maximum=MAX_ASPECT_RATIO)
        left = {
            "family": arch,
            "vocab_size": vocab,
            "seq_len": seq_len,
            "aspect_ratio": aspect_ratio,
            "kv_heads": kv_heads,
            "shared_experts": shared_experts,
            "expert_ffw": expert_ffw,
        }
        defaulted = frozenset(k for k, v in left.items() if v is None)
        family = DEFAULT_FAMILY if arch is None else arch
        if shared_experts is not None and match(family, SHAPE_FAMILIES) not in (None, "moe"):
            raise InputError(
                f"describes a mixture of experts; give `arch` moe (this plan sketches "
                f"{family} shapes)",
                field="shared_experts",
            )
        spec = cls(
            family,
            0 if vocab is None else vocab,
            DEFAULT_SEQ_LEN if seq_len is None else seq_len,
            DEFAULT_ASPECT_RATIO if aspect_ratio is None else aspect_ratio,
            DEFAULT_KV_HEADS if kv_heads is None else kv_heads,
            experts,
            top_k,
            shared_experts or 0,
            expert_ffw,
            defaulted,
            layers,
            d_model,
        )
        if kv_heads is not None and spec.family not in GQA_FAMILIES:
            raise InputError(
                f"applies to grouped-query attention, `arch` llama or moe; {spec.family} "
                "shapes have as many key/value heads as query heads",
                field="kv_heads",
            )
        return spec

    @property
    def pinned(self) -> bool:
        """Whether the depth or the width is given rather than chosen."""
        return self.layers is not None or self.d_model is not None

    def fixed_params(self) -> int | None:
        """The (active) count of the shape when both depth and width are pinned."""
        if self.layers is None or self.d_model is None:
            return None
        return self.sketch(0.0).active_params

    def build(self, layers: int, d_model: int) -> Architecture | MoEArchitecture:
        """The family's shape rules at this depth and width."""
        if self.family == "moe":
            assert self.experts is not None and self.top_k is not None
            return moe_shape(
                layers, d_model, self.vocab_size, self.seq_len, self.experts, self.top_k,
                self.shared_experts, self.expert_ffw, 0, self.kv_heads,
            )  # fmt: skip
        return shape(layers, d_model, self.vocab_size, self.seq_len, self.family, self.kv_heads)

    def sketch(self, params: float) -> Architecture | MoEArchitecture:
        """A model of this shape with about `params` (active) parameters."""
        if self.pinned:
            group = self.kv_heads if self.family in GQA_FAMILIES else 1
            return pinned_sketch(params, self.build, self.layers, self.d_model, group)
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

    def check_kv_heads(self, params: float) -> None:
        """Grouped-query attention needs at most as many key/value heads as query heads
        (checked when `kv_heads` was given, at the size `params` the plan sketches)."""
        if "kv_heads" in self.defaulted or self.family not in GQA_FAMILIES:
            return
        from chinchilla_cli.quantity import human

        probe = sketch(params, self.vocab_size, self.seq_len, self.aspect_ratio, "llama", 1)
        if self.kv_heads > probe.n_heads:
            raise InputError(
                f"{self.kv_heads} is more than the {probe.n_heads} query heads of a "
                f"{human(params)} sketch; accepted: 1 to {probe.n_heads} (key/value heads "
                "share the query heads in whole groups)",
                field="kv_heads",
            )

    def moe_assumption(self, moe_law: bool = False) -> str:
        """What a mixture-of-experts sketch assumes, in one sentence (`moe_law`: the
        law predicts from active parameters and experts, not a dense law's N)."""
        shared = given(f"{self.shared_experts} shared", "shared_experts" in self.defaulted)
        width = (
            "expert width the dense width / (top-k + shared) (default)"
            if self.expert_ffw is None
            else f"expert width {self.expert_ffw:,}"
        )
        law = (
            "an MoE law of active parameters, tokens and experts"
            if moe_law
            else "the dense law applied to active parameters"
        )
        return (
            f"mixture of experts: {self.experts} routed experts, top-{self.top_k}, {shared}, "
            f"{width}; {law} (N is what each token uses, "
            "C = 6·N_active·D throughout; memory holds every expert)"
        )


# a spec's fields named as the arguments of `plan` and `sweep` (for error messages)
_ARGUMENT = {"family": "arch", "vocab_size": "vocab"}


@dataclass(frozen=True)
class ClusterSpec:
    """The hardware a run trains on, less the number of chips: the `accelerator` preset,
    its dense peak in FLOP/s per chip (`peak_flops` None: the preset's at `precision`),
    the model FLOPs utilisation `mfu` (None: the default for the precision, from
    published runs), the `goodput` fraction of wall-clock that trains,
    and for the cost: USD per chip-hour and watts per chip (None: the preset's), the
    data centre's `pue` and the grid's carbon intensity in gCO2e/kWh.
    """

    accelerator: str = DEFAULT_ACCELERATOR
    peak_flops: float | None = None
    mfu: float | None = None
    goodput: float = DEFAULT_GOODPUT
    precision: str = DEFAULT_PRECISION
    price_per_hour: float | None = None
    tdp_watts: float | None = None
    pue: float = DEFAULT_PUE
    grid_intensity: float = DEFAULT_GRID_G_PER_KWH
    defaulted: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("peak_flops", "price_per_hour", "tdp_watts"):
            require(getattr(self, name), name)
        require(self.mfu, "mfu", maximum=1.0)
        require(self.goodput, "goodput", maximum=1.0)
        require(self.pue, "pue", minimum=1.0, inclusive=True)
        require(self.grid_intensity, "grid_intensity", inclusive=True)
        object.__setattr__(self, "accelerator", self.hardware.name)
        typed = match(str(self.precision), PRECISIONS)
        if typed is None:
            raise InputError(
                unknown("precision", str(self.precision), PRECISIONS), field="precision"
            )
        object.__setattr__(self, "precision", peak_precision(self.hardware, typed, self.peak_flops))
        if self.mfu is None:  # the default depends on the number format
            object.__setattr__(self, "mfu", DEFAULT_MFU_BY_PRECISION[self.precision])
            object.__setattr__(self, "defaulted", self.defaulted | {"mfu"})

    @classmethod
    def of(
        cls,
        accelerator: str | None = None,
        peak_flops: float | None = None,
        mfu: float | None = None,
        goodput: float | None = None,
        precision: str | None = None,
        price_per_hour: float | None = None,
        tdp_watts: float | None = None,
        pue: float | None = None,
        grid_intensity: float | None = None,
    ) -> ClusterSpec:
        """The spec from arguments as `plan` and `sweep` take them (None: the default)."""
        values = {
            "accelerator": accelerator,
            "peak_flops": peak_flops,
            "mfu": mfu,
            "goodput": goodput,
            "precision": precision,
            "price_per_hour": price_per_hour,
            "tdp_watts": tdp_watts,
            "pue": pue,
            "grid_intensity": grid_intensity,
        }
        defaults = {f.name: f.default for f in fields(cls) if f.name in values}
        return cls(
            **{k: defaults[k] if v is None else v for k, v in values.items()},  # type: ignore[arg-type]
            defaulted=frozenset(k for k, v in values.items() if v is None),
        )

    @property
    def given(self) -> tuple[str, ...]:
        """The settings the caller gave (all of them when built directly)."""
        return tuple(f.name for f in fields(self)[:-1] if f.name not in self.defaulted)

    @cached_property
    def hardware(self) -> Accelerator:
        """The accelerator preset."""
        return load_accelerator(self.accelerator)

    @property
    def number_format(self) -> Precision:
        return PRECISIONS[self.precision]

    @property
    def peak_flops_per_second(self) -> float:
        """The dense peak per chip: given, or the preset's at the number format."""
        peak = self.peak_flops or self.hardware.peak_flops_per_second(self.precision)
        assert peak is not None  # peak_precision refused a preset without this peak
        return peak

    @property
    def utilisation(self) -> float:
        """The model FLOPs utilisation: given, or the default for the number format."""
        assert self.mfu is not None  # __post_init__ sets the default
        return self.mfu

    def cluster(self, chips: int) -> Cluster:
        """`chips` of these accelerators."""
        return Cluster(
            self.hardware, chips, self.peak_flops_per_second, self.utilisation, self.goodput,
            self.precision,
        )  # fmt: skip

    def chips_for(self, flops: float, seconds: float) -> Cluster:
        """The smallest cluster of these accelerators that delivers `flops` in `seconds`."""
        return self.cluster(self.cluster(1).chips_for(flops, seconds))

    def prices(self) -> Prices:
        """What a chip-hour costs: the given price and power, else the preset's."""
        acc = self.hardware
        return Prices(
            usd_per_chip_hour=acc.price_usd_per_hour
            if self.price_per_hour is None
            else self.price_per_hour,
            price_source="given" if self.price_per_hour is not None else acc.price_note or "none",
            tdp_watts=self.tdp_watts or acc.tdp_watts,
            pue=self.pue,
            grid_g_per_kwh=self.grid_intensity,
        )

    def assumptions(self, cluster: Cluster, with_goodput: bool = True) -> list[str]:
        """The sentences about the cluster and its number format; "(default)" marks what
        the caller left out."""
        return cluster_assumptions(
            cluster,
            self.peak_flops is not None,
            "mfu" in self.defaulted,
            ("goodput" in self.defaulted) if with_goodput else None,
        )


def shape_spec(spec: ShapeSpec | None, **settings: Any) -> ShapeSpec:
    """`spec`, or the one the flat arguments describe (not both)."""
    if spec is None:
        return ShapeSpec.of(**settings)
    _refuse_both("shape", settings)
    return spec


def cluster_spec(
    spec: ClusterSpec | None, has_cluster: bool, settings: dict[str, Any]
) -> ClusterSpec:
    """`spec`, or the one the flat arguments describe (not both); a setting given for a
    plan without a cluster is refused."""
    if not has_cluster:
        named = {**settings, "cluster": spec}
        for argument, value in named.items():
            if value is not None:
                raise InputError(
                    "describes the cluster, and this plan has none: give `chips` or "
                    "`deadline_days`",
                    field=argument,
                )
    if spec is None:
        return ClusterSpec.of(**settings)
    _refuse_both("cluster", settings)
    return spec


def _refuse_both(name: str, settings: dict[str, Any]) -> None:
    for argument, value in settings.items():
        if value is not None:
            raise InputError(f"is part of `{name}`; give one or the other", field=argument)
