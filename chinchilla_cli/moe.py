"""Mixture-of-experts transformer shapes: total and active parameters, FLOPs per token.

An MoE layer replaces the dense SwiGLU feed-forward block with `experts` routed experts
(each a SwiGLU block of width `expert_ffw`), of which a router picks `top_k` per token,
plus `shared_experts` that every token passes through. Only the active part costs
compute, so a dense scaling law's N is read as the ACTIVE parameter count here:
`moe_sketch` places a shape's active parameters where the law puts N.

Conventions follow `chinchilla_cli.architecture`'s "llama" family, the one modern MoE
models build on: SwiGLU (three d x ffw matrices), grouped-query attention with
`kv_heads` key/value heads, untied input and output embeddings unless `tied_embeddings`,
RMSNorm (one d-vector before attention, one before the feed-forward block, one at the
end). Biases are left out (under 0.1%). The router is a d x experts matrix per MoE
layer, counted in the active parameters and, at 2·d·experts FLOPs per token, in the
compute: every token scores every expert.

Optionally, DeepSeek-V2/V3's multi-head latent attention (`LatentAttention`), whose
low-rank projections hold 2.5x fewer parameters than plain multi-head attention with the
same heads: counting DeepSeek-V3 with plain attention would put its active parameters
near 55B instead of its published 37B.

Training FLOPs per token are 3 x the forward count of Hoffmann et al. 2022, appendix F
(multiply-accumulate = 2 FLOPs; the backward pass costs twice the forward), as
`Architecture.flops_per_token` counts them, with the feed-forward term taken over the
experts a token actually visits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from chinchilla_cli.architecture import (
    DEFAULT_ASPECT_RATIO,
    DEFAULT_KV_HEADS,
    DEFAULT_SEQ_LEN,
    DEFAULT_VOCAB,
    FLOPS_PER_PARAM_TOKEN,
    TRAINING_PER_FORWARD,
    context_attention_flops,
    embedding_flops,
    fit_shape,
    shape,
)
from chinchilla_cli.errors import InputError
from chinchilla_cli.solvers import solve_increasing

DEFAULT_MOE_VOCAB = DEFAULT_VOCAB["moe"]
SWIGLU_MATRICES = 3  # gate, up and down projections of a SwiGLU block


def _whole(value: Any, field: str, minimum: int = 1) -> int:
    """`value` as an int of at least `minimum`, or an InputError naming `field`."""
    # bool is an int subclass: True would otherwise pass as 1 expert
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        wanted = "a positive whole number" if minimum == 1 else f"a whole number >= {minimum}"
        raise InputError(f"`{field}` must be {wanted}, got {value!r}", field=field)
    return value


@dataclass(frozen=True)
class LatentAttention:
    """Multi-head latent attention (DeepSeek-V2, arXiv 2405.04434, section 2.1).

    Keys and values are projected from d_model down to `kv_lora_rank` (plus a shared
    `qk_rope_head_dim`-wide rotary key), then up to the heads; queries likewise through
    `q_lora_rank` (None: projected directly, as DeepSeek-V2-Lite does). Each head's
    query-key width is `qk_nope_head_dim + qk_rope_head_dim`, its value width
    `v_head_dim`. The two low-rank latents carry an RMSNorm each.
    """

    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int
    q_lora_rank: int | None = None

    def __post_init__(self) -> None:
        _whole(self.kv_lora_rank, "kv_lora_rank")
        _whole(self.qk_nope_head_dim, "qk_nope_head_dim")
        _whole(self.qk_rope_head_dim, "qk_rope_head_dim", minimum=0)
        _whole(self.v_head_dim, "v_head_dim")
        if self.q_lora_rank is not None:
            _whole(self.q_lora_rank, "q_lora_rank")

    @property
    def qk_head_dim(self) -> int:
        return self.qk_nope_head_dim + self.qk_rope_head_dim

    def matrix_params(self, d_model: int, n_heads: int) -> int:
        """Weights of the query, key-value and output projections of one layer."""
        q_out = n_heads * self.qk_head_dim
        if self.q_lora_rank is None:
            query = d_model * q_out
        else:
            query = d_model * self.q_lora_rank + self.q_lora_rank * q_out
        kv_down = d_model * (self.kv_lora_rank + self.qk_rope_head_dim)
        kv_up = self.kv_lora_rank * n_heads * (self.qk_nope_head_dim + self.v_head_dim)
        out = n_heads * self.v_head_dim * d_model
        return query + kv_down + kv_up + out

    @property
    def norm_params(self) -> int:
        """The RMSNorm gains on the latents (query latent only when there is one)."""
        return self.kv_lora_rank + (self.q_lora_rank or 0)


@dataclass(frozen=True)
class MoEArchitecture:
    """A mixture-of-experts decoder. `n_layers` counts every layer, dense ones included.

    `ffw_size` is the dense SwiGLU width: the width of the feed-forward blocks that are
    not MoE (the `dense_layers` leading layers, and the layers between MoE layers when
    `moe_interval` > 1). `expert_ffw` defaults to `ffw_size / (top_k + shared_experts)`,
    which gives each token the same feed-forward compute as the dense block: DeepSeek-V3
    (18432 / (8 + 1) = 2048), Qwen3 (6144 / 8 = 768) and Llama 4 Scout (16384 / (1 + 1)
    = 8192) are all built that way. With `moe_interval` = k, every k-th layer after the
    dense ones is MoE (Llama 4 Maverick: 2). With `latent_attention`, the attention is
    counted from it and `head_dim` and `kv_heads` play no part.
    """

    n_layers: int
    d_model: int
    n_heads: int
    head_dim: int
    vocab_size: int
    seq_len: int
    experts: int
    top_k: int
    shared_experts: int = 0
    ffw_size: int | None = None
    expert_ffw: int | None = None
    dense_layers: int = 0
    moe_interval: int = 1
    kv_heads: int | None = None  # None: as many as n_heads (plain multi-head attention)
    latent_attention: LatentAttention | None = None
    tied_embeddings: bool = False

    def __post_init__(self) -> None:
        for name in ("n_layers", "d_model", "n_heads", "head_dim", "vocab_size", "seq_len"):
            _whole(getattr(self, name), name)
        _whole(self.experts, "experts")
        _whole(self.top_k, "top_k")
        if self.top_k > self.experts:
            raise InputError(
                f"`top_k` must be at most `experts` ({self.experts}), got {self.top_k}",
                field="top_k",
            )
        if isinstance(self.shared_experts, bool) or not isinstance(self.shared_experts, int):
            raise InputError(
                f"`shared_experts` must be a whole number, got {self.shared_experts!r}",
                field="shared_experts",
            )
        if self.shared_experts < 0:
            raise InputError(
                f"`shared_experts` cannot be negative, got {self.shared_experts}",
                field="shared_experts",
            )
        _whole(self.dense_layers, "dense_layers", minimum=0)
        _whole(self.moe_interval, "moe_interval")
        if self.moe_layers < 1:
            raise InputError(
                f"no MoE layer: {self.n_layers} layers, the first {self.dense_layers} dense "
                f"and every {self.moe_interval} after them MoE; lower `dense_layers` or "
                "`moe_interval`",
                field="dense_layers" if self.dense_layers else "moe_interval",
            )
        if self.kv_heads is not None:
            _whole(self.kv_heads, "kv_heads")
            if self.n_heads % self.kv_heads:
                raise InputError(
                    f"`kv_heads` ({self.kv_heads}) must divide `n_heads` ({self.n_heads})",
                    field="kv_heads",
                )
        if self.ffw_size is not None:
            _whole(self.ffw_size, "ffw_size")
        if self.expert_ffw is not None:
            _whole(self.expert_ffw, "expert_ffw")
        if self.ffw_size is None and (self.expert_ffw is None or self.dense_ffw_layers):
            needs = "the dense layers' width" if self.expert_ffw is not None else "a width"
            raise InputError(
                f"`ffw_size` is needed for {needs} (give `ffw_size`, or `expert_ffw` when "
                "every layer is MoE)",
                field="ffw_size",
            )
        if self.expert_ffw_size < 1:
            raise InputError(
                f"`ffw_size` {self.ffw_size} split over {self.active_experts} active experts "
                "leaves them no width; give `expert_ffw`",
                field="expert_ffw",
            )

    # ------------------------------------------------------------------ shape
    @property
    def n_kv_heads(self) -> int:
        return self.n_heads if self.kv_heads is None else self.kv_heads

    @property
    def active_experts(self) -> int:
        """Experts each token passes through in an MoE layer: routed top-k plus shared."""
        return self.top_k + self.shared_experts

    @property
    def expert_ffw_size(self) -> int:
        """Each expert's SwiGLU width (given, or the dense width over the active experts)."""
        if self.expert_ffw is not None:
            return self.expert_ffw
        assert self.ffw_size is not None  # __post_init__ requires one of the two
        return round(self.ffw_size / self.active_experts)

    @property
    def moe_layers(self) -> int:
        return (self.n_layers - self.dense_layers) // self.moe_interval

    @property
    def dense_ffw_layers(self) -> int:
        """Layers whose feed-forward block is the dense SwiGLU of width `ffw_size`."""
        return self.n_layers - self.moe_layers

    # ------------------------------------------------------------------ parameters
    @property
    def embedding_params(self) -> int:
        return self.vocab_size * self.d_model * (1 if self.tied_embeddings else 2)

    @property
    def attention_params(self) -> int:
        """Attention weights of one layer (projections, and MLA's latent norms)."""
        d = self.d_model
        if self.latent_attention is not None:
            mla = self.latent_attention
            return mla.matrix_params(d, self.n_heads) + mla.norm_params
        inner = self.n_heads * self.head_dim
        return 2 * d * inner + 2 * d * self.n_kv_heads * self.head_dim

    @property
    def expert_params(self) -> int:
        """One expert's weights."""
        return SWIGLU_MATRICES * self.d_model * self.expert_ffw_size

    @property
    def router_params(self) -> int:
        """All routers' weights (d_model x experts in each MoE layer)."""
        return self.moe_layers * self.d_model * self.experts

    def _dense_ffw_params(self) -> int:
        if not self.dense_ffw_layers:
            return 0
        assert self.ffw_size is not None
        return self.dense_ffw_layers * SWIGLU_MATRICES * self.d_model * self.ffw_size

    def _shared_params(self) -> int:
        """Everything every token uses: embeddings, attention, norms, dense FFNs, routers."""
        norms = self.n_layers * 2 * self.d_model + self.d_model
        return (
            self.embedding_params
            + self.n_layers * self.attention_params
            + norms
            + self._dense_ffw_params()
            + self.router_params
        )

    @property
    def params(self) -> int:
        """Total parameters: every expert, embeddings included."""
        experts = self.moe_layers * (self.experts + self.shared_experts) * self.expert_params
        return self._shared_params() + experts

    @property
    def active_params(self) -> int:
        """Parameters one token uses: embeddings, attention, norms, dense feed-forward
        blocks, routers, shared experts and `top_k` routed experts per MoE layer."""
        return self._shared_params() + self.moe_layers * self.active_experts * self.expert_params

    @property
    def non_embedding_active_params(self) -> int:
        return self.active_params - self.embedding_params

    @property
    def active_fraction(self) -> float:
        return self.active_params / self.params

    @property
    def sparsity(self) -> float:
        """Share of routed experts a token skips, (experts - top_k) / experts."""
        return (self.experts - self.top_k) / self.experts

    # ------------------------------------------------------------------ compute
    def _attention_flops(self) -> int:
        """Forward FLOPs per token of one layer's attention (appendix F's terms)."""
        s, h = self.seq_len, self.n_heads
        if self.latent_attention is not None:
            mla = self.latent_attention
            projections = 2 * mla.matrix_params(self.d_model, h)
            qk, v = h * mla.qk_head_dim, h * mla.v_head_dim
        else:
            inner = h * self.head_dim
            projections = 2 * self.attention_params
            qk = v = inner
        return projections + context_attention_flops(s, h, qk, v)

    def forward_flops_per_token(self, with_embeddings: bool = True) -> float:
        """Forward FLOPs per token (Hoffmann et al. 2022 appendix F, MAC = 2 FLOPs).

        Per layer: attention; the dense SwiGLU (2·3·d·ffw) where there is one; in MoE
        layers the router (2·d·experts) and the active experts (2·3·d·expert_ffw each).
        `with_embeddings` adds the embedding and final-logit terms (2·vocab·d each).
        """
        d = self.d_model
        dense_ffw = 0
        if self.dense_ffw_layers:
            assert self.ffw_size is not None
            dense_ffw = self.dense_ffw_layers * 2 * SWIGLU_MATRICES * d * self.ffw_size
        moe = self.moe_layers * (
            2 * d * self.experts
            + self.active_experts * 2 * SWIGLU_MATRICES * d * self.expert_ffw_size
        )
        layers = self.n_layers * self._attention_flops() + dense_ffw + moe
        if not with_embeddings:
            return float(layers)
        return float(layers + embedding_flops(self.vocab_size, d))

    @property
    def flops_per_token(self) -> float:
        """Training FLOPs per token: 3 x forward (backward costs twice the forward)."""
        return TRAINING_PER_FORWARD * self.forward_flops_per_token()

    @property
    def flops_per_token_6n(self) -> float:
        """6 x ACTIVE parameters: the 6N rule applied to what a token uses."""
        return FLOPS_PER_PARAM_TOKEN * self.active_params

    @property
    def aspect_ratio(self) -> float:
        """d_model / layers."""
        return self.d_model / self.n_layers

    def to_dict(self) -> dict[str, Any]:
        mla = self.latent_attention
        return {
            "family": "moe",
            "n_layers": self.n_layers,
            "d_model": self.d_model,
            "n_heads": self.n_heads,
            "kv_heads": self.n_kv_heads,
            "head_dim": self.head_dim,
            "attention": "latent" if mla is not None else "grouped-query",
            "latent_attention": None
            if mla is None
            else {f.name: getattr(mla, f.name) for f in fields(mla)},
            "vocab_size": self.vocab_size,
            "seq_len": self.seq_len,
            "tied_embeddings": self.tied_embeddings,
            "experts": self.experts,
            "top_k": self.top_k,
            "shared_experts": self.shared_experts,
            "ffw_size": self.ffw_size,
            "expert_ffw_size": self.expert_ffw_size,
            "dense_layers": self.dense_layers,
            "moe_interval": self.moe_interval,
            "moe_layers": self.moe_layers,
            "params": self.params,
            "total_params": self.params,
            "active_params": self.active_params,
            "non_embedding_active_params": self.non_embedding_active_params,
            "active_fraction": self.active_fraction,
            "flops_per_token": self.flops_per_token,
            "flops_per_token_6n_active": self.flops_per_token_6n,
            "aspect_ratio": self.aspect_ratio,
        }


_MAPPING_KEYS = tuple(f.name for f in fields(MoEArchitecture))
_LATENT_KEYS = tuple(f.name for f in fields(LatentAttention))


def moe_from_mapping(raw: Any, where: str, what: str = "file") -> MoEArchitecture:
    """A `moe_architecture:` mapping (as in presets/models.yaml): MoEArchitecture's
    field names as keys, `latent_attention` a nested mapping of LatentAttention's.
    A missing or null `seq_len` becomes `architecture.DEFAULT_SEQ_LEN`."""
    if not isinstance(raw, Mapping):
        raise InputError(
            f"{where}: moe_architecture must be a mapping of {', '.join(_MAPPING_KEYS)}",
            field=what,
        )
    unknown = sorted(set(map(str, raw)) - set(_MAPPING_KEYS))
    if unknown:
        raise InputError(
            f"{where}: moe_architecture has unknown key {unknown[0]!r}; "
            f"expected {', '.join(_MAPPING_KEYS)}",
            field=what,
        )
    values = dict(raw)
    if values.get("seq_len") is None:
        # not published (Llama 4): attention FLOPs assume the default context, as
        # comparison.architecture_from_mapping does for dense presets
        values["seq_len"] = DEFAULT_SEQ_LEN
    latent = values.get("latent_attention")
    if latent is not None:
        if not isinstance(latent, Mapping) or set(map(str, latent)) - set(_LATENT_KEYS):
            raise InputError(
                f"{where}: latent_attention must be a mapping of {', '.join(_LATENT_KEYS)}",
                field=what,
            )
        try:
            values["latent_attention"] = LatentAttention(**latent)
        except TypeError as e:  # a missing required key
            raise InputError(f"{where}: latent_attention: {e}", field=what) from None
        except InputError as e:
            raise InputError(f"{where}: latent_attention: {e.message}", field=what) from None
    try:
        return MoEArchitecture(**values)
    except TypeError as e:
        raise InputError(f"{where}: moe_architecture: {e}", field=what) from None
    except InputError as e:
        raise InputError(f"{where}: moe_architecture: {e.message}", field=what) from None


def moe_shape(
    n_layers: int,
    d_model: int,
    vocab_size: int,
    seq_len: int,
    experts: int,
    top_k: int,
    shared_experts: int,
    expert_ffw: int | None,
    dense_layers: int,
    kv_heads: int,
) -> MoEArchitecture:
    """The llama family's shape rules (`architecture.shape`) with an MoE feed-forward."""
    dense = shape(n_layers, d_model, vocab_size, seq_len, "llama", kv_heads)
    return MoEArchitecture(
        n_layers=n_layers,
        d_model=d_model,
        n_heads=dense.n_heads,
        head_dim=dense.head_dim,
        vocab_size=vocab_size,
        seq_len=seq_len,
        experts=experts,
        top_k=top_k,
        shared_experts=shared_experts,
        ffw_size=dense.ffw_size,
        expert_ffw=expert_ffw,
        dense_layers=dense_layers,
        kv_heads=dense.kv_heads,
    )


def moe_sketch(
    active_params: float,
    experts: int,
    top_k: int,
    shared_experts: int = 0,
    expert_ffw: int | None = None,
    vocab_size: int | None = None,
    seq_len: int = DEFAULT_SEQ_LEN,
    aspect_ratio: float = DEFAULT_ASPECT_RATIO,
    kv_heads: int = DEFAULT_KV_HEADS,
    dense_layers: int = 0,
) -> MoEArchitecture:
    """An MoE shape with about `active_params` ACTIVE parameters, d_model / layers near
    `aspect_ratio`: where a dense law puts N, this puts what each token uses.

    The llama family's rules (`architecture.sketch(family="llama")`) set the width, heads
    and dense SwiGLU width; each expert gets `expert_ffw`, by default the dense width over
    `top_k + shared_experts` (the dense model's compute per token, spread over the active
    experts). Solve for a continuous width, then try nearby legal widths (whole groups of
    `kv_heads` heads) with the depth that best fits the target, and keep the closest
    active count; a penalty on the aspect ratio keeps neighbouring sizes from jumping
    between shapes. Total parameters follow from `experts`.
    """
    if (
        isinstance(active_params, bool)
        or not isinstance(active_params, (int, float))
        or not math.isfinite(active_params)
        or active_params <= 0
    ):
        raise InputError(
            f"`active_params` must be positive, got {active_params!r}", field="active_params"
        )
    if not (math.isfinite(aspect_ratio) and aspect_ratio > 0):
        raise InputError(
            f"`aspect_ratio` must be positive, got {aspect_ratio!r}", field="aspect_ratio"
        )
    _whole(kv_heads, "kv_heads")
    vocab = vocab_size if vocab_size is not None else DEFAULT_MOE_VOCAB

    def build(layers: int, d: int) -> MoEArchitecture:
        return moe_shape(
            layers, d, vocab, seq_len, experts, top_k, shared_experts, expert_ffw,
            dense_layers, kv_heads,
        )  # fmt: skip

    build(dense_layers + 1, 128 * kv_heads)  # validates experts, top_k... before solving

    active = top_k + shared_experts

    def continuous(d: float) -> float:
        # per layer: attention (~2 d² + 2·d·kv·128), active experts, router, with
        # layers = d / aspect_ratio; embeddings in and out
        ef = expert_ffw if expert_ffw is not None else 8 * d / 3 / active
        per_layer = 2 * d * d + 2 * d * kv_heads * 128 + active * 3 * d * ef + d * experts
        return 2 * vocab * d + per_layer * d / aspect_ratio

    width = solve_increasing(continuous, float(active_params), 1.0, 1e7)
    return fit_shape(active_params, width, build, aspect_ratio, kv_heads, dense_layers + 1)
