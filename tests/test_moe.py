"""Mixture-of-experts shapes (chinchilla_cli.moe): counts against published models, FLOPs,
the sketch, and the MoE presets in presets/models.yaml."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from chinchilla_cli.architecture import Architecture
from chinchilla_cli.architecture import sketch as dense_sketch
from chinchilla_cli.comparison import preset_config
from chinchilla_cli.errors import InputError
from chinchilla_cli.moe import LatentAttention, MoEArchitecture, moe_from_mapping, moe_sketch
from chinchilla_cli.presets import load_presets

# DeepSeek-V2/V3's multi-head latent attention: deepseek-ai/DeepSeek-V3
# inference/configs/config_671B.json (q_lora_rank 1536, kv_lora_rank 512, qk_nope_head_dim
# 128, qk_rope_head_dim 64, v_head_dim 128), the same in DeepSeek-V2's config_236B.json.
MLA = LatentAttention(
    kv_lora_rank=512, qk_nope_head_dim=128, qk_rope_head_dim=64, v_head_dim=128, q_lora_rank=1536
)

# Published totals and active counts, each with the tolerance our count meets and why.
# name: (total, active, rel tolerance on total, rel tolerance on active, source)
PUBLISHED = {
    # deepseek-ai/DeepSeek-V3 README.md: "671B total parameters with 37B activated". The
    # active count (37.5B) includes the input embedding and output head; the report does
    # not say whether its 37B does (35.7B without both).
    "deepseek-v3": (671e9, 37e9, 0.002, 0.02),
    # DeepSeek-V2 technical report section 3.1.2: "236B total parameters, of which 21B are
    # activated for each token".
    "deepseek-v2": (236e9, 21e9, 0.005, 0.025),
    # databricks/dbrx MODEL_CARD_dbrx_base.md: "132B total parameters of which 36B
    # parameters are active".
    "dbrx": (132e9, 36e9, 0.005, 0.015),
    # allenai/OLMoE README.md: "1.3 billion active and 6.9 billion total parameters"
    # (rounded to 0.1B: 1.28B counts as 1.3B).
    "olmoe-1b-7b": (6.9e9, 1.3e9, 0.005, 0.02),
    # Qwen3-30B-A3B model card: "30.5B in total and 3.3B activated".
    "qwen3-30b-a3b": (30.5e9, 3.3e9, 0.002, 0.02),
    # Qwen3 technical report, Table 2 / Qwen3-235B-A22B model card: 235B total, 22B activated.
    "qwen3-235b-a22b": (235e9, 22e9, 0.002, 0.01),
    # meta-llama/llama-models models/llama4/MODEL_CARD.md: 17B activated, 109B total. The
    # card's total includes the vision encoder, which the text shape leaves out (107.8B).
    "llama-4-scout": (109e9, 17e9, 0.015, 0.015),
    # Same model card: 17B activated, 400B total (text only counts 400.7B).
    "llama-4-maverick": (400e9, 17e9, 0.005, 0.015),
}


def _moe_presets() -> dict[str, dict]:
    return {k: e for k, e in load_presets("models").items() if "experts" in e}


def _preset_arch(name: str) -> MoEArchitecture:
    e = load_presets("models")[name]
    return moe_from_mapping(e["moe_architecture"], f"presets/models.yaml:{name}")


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_counts(name):
    total, active, tol_total, tol_active = PUBLISHED[name]
    arch = _preset_arch(name)
    assert arch.params == pytest.approx(total, rel=tol_total)
    assert arch.active_params == pytest.approx(active, rel=tol_active)
    # the preset states the same published numbers
    e = load_presets("models")[name]
    assert (e["params"], e["active_params"]) == (total, active)


def test_deepseek_v3_exact_counts():
    # config_671B.json: 61 layers, the first 3 dense (inter_dim 18432), dim 7168, 128 heads,
    # 256 routed experts + 1 shared of moe_inter_dim 2048, 8 activated, vocabulary 129280.
    arch = _preset_arch("deepseek-v3")
    assert (arch.moe_layers, arch.dense_ffw_layers) == (58, 3)
    assert arch.params == pytest.approx(671.03e9, rel=1e-3)
    assert arch.active_params == pytest.approx(37.55e9, rel=1e-3)
    assert arch.non_embedding_active_params == pytest.approx(35.70e9, rel=1e-3)
    # MLA per layer: 7168x1536 + 1536 + 1536x128x192 + 7168x576 + 512 + 512x128x256 + 128x128x7168
    assert arch.attention_params == 187_107_328


def test_deepseek_v3_with_plain_attention_is_far_off():
    """Why LatentAttention exists: 128 plain heads of 128 hold 2.5x MLA's weights, which
    barely moves the total (2.6%) but puts the active count 48% above the published 37B."""
    mla = _preset_arch("deepseek-v3")
    plain = MoEArchitecture(**{**mla.__dict__, "latent_attention": None})
    assert plain.attention_params == 4 * 7168 * 128 * 128
    assert plain.params / 671e9 == pytest.approx(1.026, abs=0.002)
    assert plain.active_params / 37e9 == pytest.approx(1.48, abs=0.01)


def test_qwen3_non_embedding_counts():
    # Model cards: "Number of Paramaters (Non-Embedding): 29.9B" (30B-A3B) and 234B (235B-A22B);
    # Qwen's non-embedding count leaves out the input embedding and the untied output head.
    for name, published in (("qwen3-30b-a3b", 29.9e9), ("qwen3-235b-a22b", 234e9)):
        arch = _preset_arch(name)
        assert arch.params - arch.embedding_params == pytest.approx(published, rel=0.003)


def test_moe_presets_are_consistent():
    presets = _moe_presets()
    assert set(presets) == set(PUBLISHED)
    for name, e in presets.items():
        assert e["source"] and e["tokens"] > 0 and "reported_flops" in e, name
        assert 0 < e["active_params"] < e["params"], name
        assert 1 <= e["top_k"] <= e["experts"] and e["shared_experts"] >= 0, name
        arch = _preset_arch(name)
        assert (arch.experts, arch.top_k, arch.shared_experts) == (
            e["experts"],
            e["top_k"],
            e["shared_experts"],
        ), name
        # chinchilla compare reads N as the active count, the total beside it
        cfg = preset_config(name)
        assert cfg.params == e["active_params"] and cfg.total == e["params"]
        assert cfg.tokens == e["tokens"]


def test_null_seq_len_defaults():
    # Llama 4's pre-training context is not published
    assert load_presets("models")["llama-4-scout"]["moe_architecture"]["seq_len"] is None
    assert _preset_arch("llama-4-scout").seq_len == 2048


def test_maverick_interleaves_moe_layers():
    # interleave_moe_layer_step 2: 24 MoE layers of 128 experts, 24 dense of width 16384
    arch = _preset_arch("llama-4-maverick")
    assert (arch.moe_layers, arch.dense_ffw_layers) == (24, 24)


# ---------------------------------------------------------------- conventions


def _toy(**changes) -> MoEArchitecture:
    base = dict(
        n_layers=4,
        d_model=256,
        n_heads=4,
        head_dim=64,
        vocab_size=1000,
        seq_len=128,
        experts=8,
        top_k=2,
        ffw_size=1024,
        kv_heads=2,
    )
    return MoEArchitecture(**{**base, **changes})


def test_one_expert_is_the_dense_llama_count_plus_a_router():
    """experts = top_k = 1 with the dense width: architecture.py's llama count, plus the
    router's d x 1 weights and 2·d FLOPs per layer."""
    moe = _toy(experts=1, top_k=1)
    dense = Architecture(4, 256, 4, 64, 1024, 1000, 128, 2, "llama")
    assert moe.expert_ffw_size == 1024
    assert moe.params == moe.active_params == dense.params + 4 * 256
    assert moe.forward_flops_per_token() == dense.forward_flops_per_token() + 4 * 2 * 256


def test_default_expert_width_keeps_the_dense_compute():
    """expert_ffw defaults to ffw / (top_k + shared): the tokens' feed-forward FLOPs are the
    dense model's; only the router's 2·d·experts per layer is added."""
    dense = Architecture(4, 256, 4, 64, 1024, 1000, 128, 2, "llama")
    for top_k, shared in ((2, 0), (1, 1), (3, 1)):
        moe = _toy(experts=8, top_k=top_k, shared_experts=shared)
        assert moe.expert_ffw_size == 1024 // (top_k + shared)
        extra = 4 * 2 * 256 * 8
        assert moe.forward_flops_per_token() == dense.forward_flops_per_token() + extra


def test_flops_per_token_by_hand():
    arch = _toy(expert_ffw=300, shared_experts=1)
    d, s, h, kv = 256, 128, 4, 2 * 64
    attention = 2 * d * (h * 64 + 2 * kv) + 2 * s * 256 + 3 * h * s + 2 * s * 256 + 2 * 256 * d
    moe = 2 * d * 8 + 3 * 2 * 3 * d * 300  # router + (top_k 2 + shared 1) experts
    forward = 4 * (attention + moe) + 2 * 1000 * d * 2
    assert arch.forward_flops_per_token() == forward
    assert arch.flops_per_token == 3 * forward
    assert arch.flops_per_token_6n == 6 * arch.active_params


def test_flops_follow_active_not_total_parameters():
    few, many = _toy(experts=8), _toy(experts=64)
    assert many.params - few.params == 4 * (64 - 8) * (few.expert_params + 256)
    assert many.active_params - few.active_params == 4 * 256 * (64 - 8)  # routers only
    router_flops = 4 * 2 * 256 * (64 - 8)
    assert many.forward_flops_per_token() - few.forward_flops_per_token() == router_flops


def test_latent_attention_by_hand():
    mla = LatentAttention(kv_lora_rank=32, qk_nope_head_dim=16, qk_rope_head_dim=8, v_head_dim=16)
    # no query latent: d x heads·24, kv down d x (32 + 8), up 32 x heads·(16 + 16), out
    assert mla.matrix_params(256, 4) == 256 * 96 + 256 * 40 + 32 * 128 + 64 * 256
    assert mla.norm_params == 32
    with_q = LatentAttention(32, 16, 8, 16, q_lora_rank=64)
    assert with_q.matrix_params(256, 4) == 256 * 64 + 64 * 96 + 256 * 40 + 32 * 128 + 64 * 256
    arch = _toy(latent_attention=mla)
    assert arch.attention_params == mla.matrix_params(256, 4) + 32
    # logits over 4 heads of query-key width 24, softmax, values of width 16
    s = 128
    scores = 2 * s * 4 * 24 + 3 * 4 * s + 2 * s * 4 * 16
    assert arch._attention_flops() == 2 * mla.matrix_params(256, 4) + scores


def test_to_dict_has_units_and_is_json():
    d = _preset_arch("deepseek-v3").to_dict()
    json.dumps(d)
    for key in ("params", "active_params", "flops_per_token", "expert_ffw_size", "moe_layers"):
        assert key in d
    assert d["attention"] == "latent" and d["latent_attention"]["kv_lora_rank"] == 512
    assert d["active_fraction"] == pytest.approx(37.55 / 671.03, rel=1e-3)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"top_k": 9}, "top_k"),
        ({"top_k": 0}, "top_k"),
        ({"experts": 0}, "experts"),
        ({"shared_experts": -1}, "shared_experts"),
        ({"shared_experts": 1.5}, "shared_experts"),
        ({"experts": True}, "experts"),
        ({"dense_layers": 4}, "dense_layers"),
        ({"moe_interval": 5}, "moe_interval"),
        ({"moe_interval": 0}, "moe_interval"),
        ({"kv_heads": 3}, "kv_heads"),
        ({"ffw_size": None}, "ffw_size"),
        ({"ffw_size": None, "expert_ffw": 64, "dense_layers": 1}, "ffw_size"),
        ({"ffw_size": 4, "top_k": 8}, "expert_ffw"),
        ({"d_model": 0}, "d_model"),
    ],
)
def test_bad_shapes(changes, field):
    with pytest.raises(InputError) as e:
        _toy(**changes)
    assert e.value.field == field
    assert "--" not in e.value.message  # core modules name arguments, not flags


def test_top_k_message():
    with pytest.raises(InputError, match="`top_k` must be at most `experts` \\(8\\), got 9"):
        _toy(top_k=9)


def test_expert_width_alone_is_enough_when_every_layer_is_moe():
    arch = _toy(ffw_size=None, expert_ffw=512)
    assert arch.expert_ffw_size == 512 and arch.dense_ffw_layers == 0


@pytest.mark.parametrize(
    "raw, match",
    [
        ([1, 2], "must be a mapping"),
        ({"n_layerz": 2}, "unknown key 'n_layerz'"),
        ({"n_layers": 2}, "moe_architecture"),
        ({"latent_attention": {"rank": 1}}, "latent_attention must be a mapping"),
    ],
)
def test_bad_mappings(raw, match):
    with pytest.raises(InputError, match=match) as e:
        moe_from_mapping(raw, "x.yaml:m")
    assert e.value.field == "file"


def test_mapping_errors_name_the_place():
    raw = dict(load_presets("models")["dbrx"]["moe_architecture"], top_k=17)
    with pytest.raises(InputError, match="x.yaml:dbrx: moe_architecture: `top_k` must be at most"):
        moe_from_mapping(raw, "x.yaml:dbrx")


# ---------------------------------------------------------------- sketch


@pytest.mark.parametrize(
    "experts, top_k, shared, expert_ffw",
    [(64, 8, 0, None), (8, 2, 0, None), (256, 8, 1, 2048), (128, 8, 0, 768), (16, 1, 1, None)],
)
def test_sketch_hits_the_active_target(experts, top_k, shared, expert_ffw):
    # from 1B active up: a 128k vocabulary's embeddings are too large a share below that
    # for whole layers to land close (the dense llama sketch behaves the same)
    for target in np.geomspace(1e9, 1e12, 13):
        arch = moe_sketch(float(target), experts, top_k, shared, expert_ffw)
        assert arch.active_params == pytest.approx(target, rel=0.025)
        assert (arch.experts, arch.top_k, arch.shared_experts) == (experts, top_k, shared)
        if expert_ffw is not None:
            assert arch.expert_ffw_size == expert_ffw
        assert 25 <= arch.aspect_ratio <= 400


def test_sketch_default_matches_the_dense_sketch():
    """With the default expert width, the active count is the dense llama shape's."""
    for target in (3e9, 3e10, 3e11):
        moe = moe_sketch(target, 64, 8)
        dense = dense_sketch(target, family="llama")
        assert (moe.n_layers, moe.d_model) == (dense.n_layers, dense.d_model)
        routers = moe.n_layers * moe.d_model * 64
        assert moe.active_params == dense.params + routers


def test_sketch_dense_layers_and_vocab():
    arch = moe_sketch(37e9, 256, 8, shared_experts=1, expert_ffw=2048, dense_layers=3)
    assert arch.dense_layers == 3 and arch.active_params == pytest.approx(37e9, rel=0.01)
    small = moe_sketch(1e9, 64, 8, vocab_size=32000)
    assert small.vocab_size == 32000


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"active_params": 0.0}, "active_params"),
        ({"active_params": math.nan}, "active_params"),
        ({"active_params": True}, "active_params"),
        ({"top_k": 65}, "top_k"),
        ({"shared_experts": -1}, "shared_experts"),
        ({"aspect_ratio": -1.0}, "aspect_ratio"),
        ({"kv_heads": 0}, "kv_heads"),
    ],
)
def test_sketch_errors(kwargs, field):
    args = {"active_params": 1e9, "experts": 64, "top_k": 8, **kwargs}
    with pytest.raises(InputError) as e:
        moe_sketch(**args)
    assert e.value.field == field
