"""Transformer shapes: parameter count, FLOPs per token, and a sketch for a target size;
the 6 of C = 6 N D (FLOPS_PER_PARAM_TOKEN, which laws.py builds on).

Two families:
- "chinchilla" (Hoffmann et al. 2022, Table A9): dense MLP with ffw = 4 d_model, head
  size 64 up to d_model 1024 and 128 above, tied 32k vocabulary. Parameters
      N = vocab·d + layers·(5·d·(heads·head_dim) + 2·d·ffw)
  which is vocab·d + 13·layers·d² when heads·head_dim = d and ffw = 4d. This is an
  empirical count that matches all 50 rows of Table A9 within 0.8% (the plain
  Q, K, V, O + MLP count, with 4 in place of 5, is about 7% low).
- "llama" (Touvron et al. 2023; Llama 3): SwiGLU MLP (three d x ffw matrices), grouped-
  query attention with kv_heads key/value heads, untied input and output embeddings,
  RMSNorm (one d-vector per norm).
- "gpt" (GPT-3, BLOOM, Falcon...): the plain count of a dense GELU transformer, tied
  embeddings, Q and O of d x (heads·head_dim), K and V of d x (kv_heads·head_dim), MLP
  2·d·ffw; biases and norms (under 0.1%) left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from chinchilla_cli.solvers import solve_increasing

DEFAULT_ASPECT_RATIO = 100.0  # d_model / layers; Table A9 spans 43-109, Chinchilla 102
# mixtures of experts are sketched with the llama family's rules (moe.moe_sketch)
DEFAULT_VOCAB = {"chinchilla": 32_000, "llama": 128_256, "moe": 128_256}
DEFAULT_SEQ_LEN = 2_048
DEFAULT_KV_HEADS = 8
FAMILIES = ("chinchilla", "llama", "gpt")
SKETCH_FAMILIES = ("chinchilla", "llama")  # what sketch() shapes: `plan(arch=...)`
DEFAULT_FAMILY = "chinchilla"


TRAINING_PER_FORWARD = 3.0  # training FLOPs per forward FLOP: the backward costs twice it
# C = 6 N D: forward 2ND plus backward 4ND (the laws count compute this way; laws.py
# re-exports it, and sits above this module)
FLOPS_PER_PARAM_TOKEN = 2.0 * TRAINING_PER_FORWARD


def context_attention_flops(seq_len: int, heads: int, qk_width: int, v_width: int) -> int:
    """Appendix F's attention over the context, forward, per token: the logits (query .
    key), the softmax and the weighted sum of values."""
    return 2 * seq_len * qk_width + 3 * heads * seq_len + 2 * seq_len * v_width


def embedding_flops(vocab_size: int, d_model: int) -> int:
    """Appendix F's input embedding and final logits, forward, per token."""
    return 2 * vocab_size * d_model + 2 * d_model * vocab_size


@dataclass(frozen=True)
class Architecture:
    n_layers: int
    d_model: int
    n_heads: int
    head_dim: int
    ffw_size: int
    vocab_size: int
    seq_len: int
    kv_heads: int | None = None  # None: as many as n_heads (plain multi-head attention)
    family: str = "chinchilla"

    @property
    def n_kv_heads(self) -> int:
        return self.n_heads if self.kv_heads is None else self.kv_heads

    @property
    def embedding_params(self) -> int:
        tied = self.family != "llama"
        return self.vocab_size * self.d_model * (1 if tied else 2)

    @property
    def non_embedding_params(self) -> int:
        d, inner = self.d_model, self.n_heads * self.head_dim
        attention = d * inner + 2 * d * self.n_kv_heads * self.head_dim + inner * d
        if self.family == "llama":
            return self.n_layers * (attention + 3 * d * self.ffw_size + 2 * d) + d
        if self.family == "gpt":
            return self.n_layers * (attention + 2 * d * self.ffw_size)
        return self.n_layers * (5 * d * inner + 2 * d * self.ffw_size)

    @property
    def params(self) -> int:
        return self.embedding_params + self.non_embedding_params

    @property
    def active_params(self) -> int:
        """The parameters each token uses: all of them in a dense model."""
        return self.params

    def forward_flops_per_token(self, with_embeddings: bool = True) -> float:
        """Hoffmann et al. 2022 appendix F, per token (multiply-accumulate = 2 FLOPs).

        Table A4 of the paper is reproduced with the embedding and final-logit terms left
        out (`with_embeddings=False`); the full count is what a run actually spends.
        """
        d, s, h = self.d_model, self.seq_len, self.n_heads
        inner = h * self.head_dim
        kv = self.n_kv_heads * self.head_dim
        qkv = 2 * d * (inner + 2 * kv)
        attention = context_attention_flops(s, h, inner, inner)
        out = 2 * inner * d
        mlp = 2 * (3 if self.family == "llama" else 2) * d * self.ffw_size
        layers = self.n_layers * (qkv + attention + out + mlp)
        if not with_embeddings:
            return float(layers)
        return float(layers + embedding_flops(self.vocab_size, d))

    @property
    def flops_per_token(self) -> float:
        """Training FLOPs per token: 3 x forward (backward costs twice the forward)."""
        return TRAINING_PER_FORWARD * self.forward_flops_per_token()

    @property
    def flops_per_token_6n(self) -> float:
        """The 6N approximation of training FLOPs per token, for comparison."""
        return FLOPS_PER_PARAM_TOKEN * self.params

    @property
    def flops_per_token_ratio_to_6n(self) -> float:
        return self.flops_per_token / self.flops_per_token_6n

    @property
    def aspect_ratio(self) -> float:
        """d_model / layers."""
        return self.d_model / self.n_layers

    @property
    def non_embedding_fraction(self) -> float:
        return self.non_embedding_params / self.params

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "n_layers": self.n_layers,
            "d_model": self.d_model,
            "n_heads": self.n_heads,
            "kv_heads": self.n_kv_heads,
            "head_dim": self.head_dim,
            "ffw_size": self.ffw_size,
            "vocab_size": self.vocab_size,
            "seq_len": self.seq_len,
            "params": self.params,
            "total_params": self.params,
            "active_params": self.active_params,
            "non_embedding_params": self.non_embedding_params,
            "flops_per_token": self.flops_per_token,
            "flops_per_token_6n": self.flops_per_token_6n,
            "aspect_ratio": self.aspect_ratio,
        }


def head_dim_for(d_model: int) -> int:
    """Table A9: head size 64 up to d_model 1024, 128 above."""
    return 64 if d_model <= 1024 else 128


def swiglu_width(d_model: int) -> int:
    """SwiGLU: 8/3 d keeps the MLP's parameters at 8 d², rounded up to a multiple of 256."""
    return 256 * math.ceil(8 * d_model / 3 / 256)


def kv_heads_for(heads: int, kv_heads: int) -> int:
    """Key/value heads must divide the query heads: the largest such count <= kv_heads."""
    return math.gcd(heads, min(kv_heads, heads))


def shape(
    n_layers: int,
    d_model: int,
    vocab_size: int,
    seq_len: int,
    family: str = "chinchilla",
    kv_heads: int = DEFAULT_KV_HEADS,
) -> Architecture:
    """The family's shape rules applied to a depth and width."""
    hd = head_dim_for(d_model)
    heads = d_model // hd
    if family == "llama":
        kv = kv_heads_for(heads, kv_heads)
        ffw = swiglu_width(d_model)
        return Architecture(n_layers, d_model, heads, hd, ffw, vocab_size, seq_len, kv, "llama")
    return Architecture(n_layers, d_model, heads, hd, 4 * d_model, vocab_size, seq_len)


class Counted(Protocol):
    """A shape with an (active) parameter count and a d_model / layers."""

    @property
    def active_params(self) -> int: ...

    @property
    def aspect_ratio(self) -> float: ...


Shaped = TypeVar("Shaped", bound=Counted)
WIDTH_WINDOW = 4  # legal widths tried either side of the continuous solution
ASPECT_PENALTY = 0.1  # weight of |log(aspect / asked)| against |log(count / target)|


def fit_shape(
    params: float,
    width: float,
    build: Callable[[int, int], Shaped],
    aspect_ratio: float,
    group: int = 1,
    first_layers: int = 1,
) -> Shaped:
    """The shape `build(layers, d_model)` whose active count is nearest `params`.

    Try the legal widths near the continuous solution `width` (multiples of the head
    size, times `group` heads) with the depth that best fits the target, from
    `first_layers` up; a penalty on the aspect ratio keeps neighbouring sizes from
    jumping between shapes."""
    best: tuple[float, Shaped] | None = None
    for hd in (64, 128):
        step = hd * group
        base = round(width / step)
        for m in range(max(1, base - WIDTH_WINDOW), base + WIDTH_WINDOW + 1):
            d = m * step
            if head_dim_for(d) != hd:
                continue
            first = build(first_layers, d).active_params
            per_layer = build(first_layers + 1, d).active_params - first
            arch = build(first_layers + max(0, round((params - first) / per_layer)), d)
            score = abs(math.log(arch.active_params / params)) + ASPECT_PENALTY * abs(
                math.log(arch.aspect_ratio / aspect_ratio)
            )
            if best is None or score < best[0]:
                best = (score, arch)
    assert best is not None
    return best[1]


def sketch(
    params: float,
    vocab_size: int | None = None,
    seq_len: int = DEFAULT_SEQ_LEN,
    aspect_ratio: float = DEFAULT_ASPECT_RATIO,
    family: str = "chinchilla",
    kv_heads: int = DEFAULT_KV_HEADS,
) -> Architecture:
    """A shape of about `params` parameters with d_model / layers near `aspect_ratio`.

    Solve vocab·d + 13·d³/r = N for the width, then keep the nearest legal shape
    (`fit_shape`).
    """
    vocab = vocab_size if vocab_size is not None else DEFAULT_VOCAB[family]
    emb = 1 if family != "llama" else 2
    # continuous width for N = emb·vocab·d + 13·d³/r (12·d³/r for the llama count, close enough)
    lo = solve_increasing(lambda d: emb * vocab * d + 13.0 * d**3 / aspect_ratio, params, 1.0, 1e7)
    # llama: whole groups of kv_heads query heads, so widths step by head size x kv heads
    group = kv_heads if family == "llama" else 1
    return fit_shape(
        params,
        lo,
        lambda layers, d: shape(layers, d, vocab, seq_len, family, kv_heads),
        aspect_ratio,
        group,
    )
