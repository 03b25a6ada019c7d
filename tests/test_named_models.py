"""`plan --model NAME`: a famous model costed as built (its exact shape, its published
tokens), its counts against the published totals, and the published chip-hours beside
the plan's."""

from __future__ import annotations

import pytest

from chinchilla_cli import plan
from chinchilla_cli.comparison import model_names
from chinchilla_cli.errors import InputError
from chinchilla_cli.named_models import named_model
from chinchilla_cli.presets import load_presets

# DeepSeek-V3 README (deepseek-ai/DeepSeek-V3): 671B total, 37B activated, 14.8T tokens,
# 2.664M H800 GPU-hours of pre-training; arXiv 2412.19437: 2,048 H800s, FP8 training
DEEPSEEK_V3 = {"total": 671e9, "active": 37e9, "tokens": 14.8e12, "gpu_hours": 2.664e6}


def test_deepseek_v3_comes_out_at_671b_total_and_37b_active(run_json):
    out = run_json("plan", "--model", "deepseek-v3")
    a, m = out["architecture"], out["model"]
    assert a["total_params"] == pytest.approx(DEEPSEEK_V3["total"], rel=1e-3)
    # the published 37B is rounded down: the count is 37.55B (embeddings included)
    assert a["active_params"] == pytest.approx(DEEPSEEK_V3["active"], rel=0.02)
    assert m["published_total_params"] == DEEPSEEK_V3["total"]
    assert m["published_active_params"] == DEEPSEEK_V3["active"]
    # the exact shape: dense-first layers, latent attention, 256 routed experts
    assert (a["n_layers"], a["d_model"], a["dense_layers"]) == (61, 7168, 3)
    assert a["attention"] == "latent" and a["experts"] == 256 and a["top_k"] == 8
    # N is the counted active parameters, D the published tokens
    assert out["optimal"]["params"] == a["active_params"]
    assert out["optimal"]["tokens"] == DEEPSEEK_V3["tokens"]
    assert out["budget"]["source"] == "params-and-tokens"
    assert out["loss"]["total"] is not None
    # memory holds every expert
    assert out["feasibility"]["memory_params"] == pytest.approx(a["total_params"])


@pytest.mark.parametrize("name", model_names())
def test_every_preset_counts_within_5_percent_of_its_published_total(name):
    # published sizes are rounded names ("Llama 2 7B" counts 6.74B)
    m = named_model(name)
    assert abs(m.count_mismatch) < 0.05
    if m.published_active_params is not None:
        assert m.active_params == pytest.approx(m.published_active_params, rel=0.03)


def test_tokens_set_the_run_length():
    default = plan(model="deepseek-v3")
    shorter = plan(model="deepseek-v3", tokens=1e12)
    assert shorter.optimal.tokens == 1e12
    assert shorter.optimal.params == default.optimal.params
    assert shorter.budget.flops == pytest.approx(default.budget.flops / 14.8)


def test_dense_presets_are_planned_as_built_too():
    p = plan(model="gpt-3", chips=1024)
    assert p.architecture.n_layers == 96 and p.architecture.d_model == 12288
    assert p.optimal.params == pytest.approx(175e9, rel=0.01)
    assert p.optimal.tokens == 300e9
    assert "gpt-3 as built" in p.assumptions[-1]


def test_deepseek_v3_on_2048_h800_at_fp8_costs_near_its_published_gpu_hours():
    p = plan(model="deepseek-v3", chips=2048, accelerator="h800", precision="fp8")
    assert p.cost is not None
    # 6 x 37.55B x 14.8T at the default fp8 utilisation: within 5% of the 2.664M reported
    assert p.cost.chip_hours == pytest.approx(DEEPSEEK_V3["gpu_hours"], rel=0.05)
    said = [f for f in p.findings if "GPU-hours" in f]
    assert said and "2.66M h800 GPU-hours" in said[0]


def test_the_costing_shows_published_gpu_hours(run):
    r = run(
        "plan", "--model", "deepseek-v3", "--chips", "2048", "--accelerator", "h800",
        "--precision", "fp8", "--brief",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "deepseek-v3 as built" in r.stdout
    assert "2,664,000 GPU-hours" in r.stdout


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--flops", "1e24"], "--flops"),
        (["--params", "10B"], "--params"),
        (["--experts", "8", "--top-k", "2", "--arch", "moe"], "--arch"),
        (["--seq-len", "8192"], "--seq-len"),
        (["--inference-tokens", "1e12"], "--inference-tokens"),
        (["--chips", "64", "--days", "3"], "--days"),
    ],
)
def test_a_named_model_refuses_what_it_fixes(run, extra, option):
    r = run("plan", "--model", "deepseek-v3", *extra)
    assert r.exit_code == 2
    assert option in r.stderr and "--model deepseek-v3" in r.stderr
    assert "Traceback" not in r.output


def test_an_unknown_model_names_the_nearest():
    with pytest.raises(InputError) as e:
        plan(model="deepseek-v4")
    assert e.value.field == "model" and "deepseek-v3" in e.value.message


def test_every_preset_with_a_training_entry_names_its_source():
    for name, entry in load_presets("models").items():
        training = entry.get("training")
        if training is not None:
            assert training["precision"] in ("bf16", "fp8"), name
            assert str(training.get("source", "")).strip(), name


def test_a_named_model_plan_draws(run, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "ds.png"
    r = run("plan", "--model", "deepseek-v3", "--plot", str(out))
    assert r.exit_code == 0, r.output
    assert out.stat().st_size > 0


def test_an_unpublished_sequence_length_is_said_to_be_the_default():
    scout = plan(model="llama-4-scout")
    assert "sequence 2,048 (not published: the default)" in scout.assumptions[-1]
    assert "not published" not in plan(model="deepseek-v3").assumptions[-1]
