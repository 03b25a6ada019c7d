"""--layers and --d-model pin a generic sketch; with a published mixture of experts'
settings its counts match the published totals within 5% or the plan warns; and
--aspect-ratio shapes mixture-of-experts sketches as it does dense ones."""

from __future__ import annotations

import pytest

from chinchilla_cli import plan, sweep
from chinchilla_cli.errors import InputError
from chinchilla_cli.named_models import named_model
from chinchilla_cli.pinned import PUBLISHED_TOLERANCE
from chinchilla_cli.presets import load_presets
from chinchilla_cli.specs import ShapeSpec

MOE_PRESETS = [n for n, e in load_presets("models").items() if e.get("moe_architecture")]


def _published_settings(name: str) -> dict[str, object]:
    a = named_model(name).architecture
    settings: dict[str, object] = {
        "arch": "moe", "experts": a.experts, "top_k": a.top_k,  # type: ignore[union-attr]
        "shared_experts": a.shared_experts, "expert_ffw": a.expert_ffw_size,  # type: ignore[union-attr]
        "layers": a.n_layers, "d_model": a.d_model, "vocab": a.vocab_size,
    }  # fmt: skip
    if a.latent_attention is None:  # type: ignore[union-attr]
        settings["kv_heads"] = a.n_kv_heads
    return settings


@pytest.mark.parametrize("name", MOE_PRESETS)
def test_a_sketch_with_published_settings_matches_its_totals_or_warns(name):
    entry = load_presets("models")[name]
    p = plan(tokens=float(entry["tokens"]), **_published_settings(name))  # type: ignore[arg-type]
    a = p.architecture
    shape = entry["moe_architecture"]
    assert (a.n_layers, a.d_model) == (shape["n_layers"], shape["d_model"])
    off_total = a.params / float(entry["params"]) - 1
    off_active = a.active_params / float(entry["active_params"]) - 1
    warned = any(f"with {name}'s settings" in w for w in p.warnings)
    within = max(abs(off_total), abs(off_active)) <= PUBLISHED_TOLERANCE
    assert warned != within, (name, off_total, off_active)
    if name in ("deepseek-v3", "deepseek-v2", "qwen3-30b-a3b", "dbrx", "olmoe-1b-7b"):
        assert abs(off_total) <= PUBLISHED_TOLERANCE  # the totals come out within 5%


def test_maverick_s_interleaved_layers_are_named_in_the_warning():
    p = plan(tokens=22e12, **_published_settings("llama-4-maverick"))  # type: ignore[arg-type]
    said = [w for w in p.warnings if "llama-4-maverick's settings" in w]
    assert said and "dense layers between its MoE layers" in said[0]
    assert "model` llama-4-maverick" in said[0] or "--model llama-4-maverick" in said[0]


def test_both_pinned_fix_the_size_and_a_budget_is_refused():
    p = plan(arch="llama", layers=32, d_model=4096, tokens=1e12)
    assert p.architecture.n_layers == 32 and p.architecture.d_model == 4096
    assert p.optimal.params == p.architecture.active_params
    optimum = plan(arch="llama", layers=32, d_model=4096)  # the law's tokens for that size
    assert optimum.budget.source == "params"
    with pytest.raises(InputError) as e:
        plan(flops=1e22, layers=32, d_model=4096)
    assert e.value.field == "flops"


@pytest.mark.parametrize("pin", [{"layers": 40}, {"d_model": 5120}])
def test_one_pin_fits_the_other_dimension_to_the_size(pin):
    p = plan(flops=1e23, arch="moe", experts=64, top_k=8, **pin)  # type: ignore[arg-type]
    a = p.architecture
    for key, value in pin.items():
        assert {"layers": a.n_layers, "d_model": a.d_model}[key] == value
    assert a.active_params == pytest.approx(p.optimal.params, rel=0.05)
    assert any("sketch pinned at" in s for s in p.assumptions)


def test_pins_are_checked(run):
    r = run("plan", "--flops", "1e22", "--d-model", "1000")
    assert r.exit_code == 2 and "--d-model" in r.stderr and "whole number of heads" in r.stderr
    r = run("plan", "--flops", "1e22", "--layers", "20", "--aspect-ratio", "50")
    assert r.exit_code == 2 and "--aspect-ratio" in r.stderr
    r = run("plan", "--flops", "1e22", "--layers", "20", "--d-model", "2048")
    assert r.exit_code == 2 and "--flops" in r.stderr and "--layers" in r.stderr


@pytest.mark.parametrize("aspect", [30.0, 300.0])
def test_the_aspect_ratio_shapes_moe_sketches(aspect):
    p = plan(flops=1e23, arch="moe", experts=64, top_k=8, aspect_ratio=aspect)
    a = p.architecture
    assert a.aspect_ratio == pytest.approx(aspect, rel=0.25)
    s = sweep("1e21,1e22", arch="moe", experts=64, top_k=8, aspect_ratio=aspect, sizes=3)
    centre = s.budgets[-1].runs[1].architecture
    assert centre.aspect_ratio == pytest.approx(aspect, rel=0.35)


def test_a_shape_spec_pinned_in_both_has_fixed_params():
    spec = ShapeSpec(family="llama", layers=32, d_model=4096)
    assert spec.fixed_params() == spec.build(32, 4096).active_params
    assert ShapeSpec(family="llama", layers=32).fixed_params() is None
