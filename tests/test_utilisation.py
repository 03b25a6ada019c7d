"""The default utilisation per precision rests on published runs: recomputed here from the
facts their authors published (GPU-hours, tokens, active parameters) and the chips'
dense peaks, not taken from anyone's summary. A given MFU beyond every published run, or
far below the lowest, is a warning."""

from __future__ import annotations

import pytest

from chinchilla_cli import plan
from chinchilla_cli.hardware import DEFAULT_MFU_BY_PRECISION, load_accelerator
from chinchilla_cli.utilisation import derived_mfu, published_runs

H100_FP8 = 1979e12  # NVIDIA H100 SXM5 datasheet, dense (the H800's taken as equal)
# (active parameters, training tokens, GPU-hours) as published:
# DeepSeek-V3 README: 37B activated, 14.8T tokens, 2.664M H800 GPU-hours (trained in fp8)
# Llama 4 MODEL_CARD.md: 17B activated; Scout ~40T tokens, 5.0M H100 GPU-hours;
# Maverick ~22T tokens, 2.38M H100 GPU-hours
FACTS = {
    "deepseek-v3": (37e9, 14.8e12, 2.664e6),
    "llama-4-scout": (17e9, 40e12, 5.0e6),
    "llama-4-maverick": (17e9, 22e12, 2.38e6),
}
EXPECTED = {"deepseek-v3": 0.173, "llama-4-scout": 0.1145, "llama-4-maverick": 0.132}


@pytest.mark.parametrize("name", FACTS)
def test_moe_runs_utilisation_recomputed_from_their_published_facts(name):
    active, tokens, hours = FACTS[name]
    mfu = derived_mfu(active, tokens, hours, H100_FP8)
    assert mfu == pytest.approx(EXPECTED[name], abs=0.002)
    # and the presets carry the same facts
    run = {r.name: r for r in published_runs()}[name]
    assert run.derived and run.precision == "fp8" and run.mixture_of_experts
    assert run.mfu == pytest.approx(mfu, rel=1e-9)


def test_deepseek_v3_is_35_percent_of_the_bf16_peak():
    active, tokens, hours = FACTS["deepseek-v3"]
    bf16 = load_accelerator("h800").peak_flops_per_second("bf16")
    assert bf16 is not None
    assert derived_mfu(active, tokens, hours, bf16) == pytest.approx(0.346, abs=0.002)


def test_the_defaults_rest_on_the_published_runs():
    runs = published_runs()
    dense_bf16 = [r for r in runs if r.precision == "bf16" and r.mfu_high >= 0.38]
    # bf16: inside the range of large dense runs (Llama 3 405B 38-43%, PaLM 46.2%)
    assert {r.name for r in dense_bf16} == {"palm", "llama-3-405b"}
    low, high = min(r.mfu_low for r in dense_bf16), max(r.mfu_high for r in dense_bf16)
    assert low <= DEFAULT_MFU_BY_PRECISION["bf16"] <= high
    # fp8: the best published fp8 run (DeepSeek-V3), to the percent
    best = max((r for r in runs if r.precision == "fp8"), key=lambda r: r.mfu)
    assert best.name == "deepseek-v3"
    assert DEFAULT_MFU_BY_PRECISION["fp8"] == pytest.approx(best.mfu, abs=0.005)


def test_the_default_utilisation_follows_the_precision_and_says_why():
    bf16 = plan(chips=64, days=10)
    fp8 = plan(chips=64, days=10, precision="fp8")
    assert bf16.budget.cluster is not None and fp8.budget.cluster is not None
    assert bf16.budget.cluster.mfu == 0.40 and fp8.budget.cluster.mfu == 0.17
    said = " ".join(fp8.assumptions)
    assert "MFU 17% (default) for fp8" in said and "DeepSeek-V3" in said
    assert "PaLM" in " ".join(bf16.assumptions)


@pytest.mark.parametrize(
    ("mfu", "precision", "words"),
    [
        (0.95, "bf16", "beyond what any published bf16 run reached"),
        (0.30, "fp8", "beyond what any published fp8 run reached"),
        (0.01, "bf16", "implausibly low"),
        # judged at its own precision: 8% of a bf16 peak is under half GPT-3's 21%, though
        # above half the lowest fp8 run's 11.5% of a peak twice as high
        (0.08, "bf16", "implausibly low: under half the lowest published run (gpt-3"),
    ],
)
def test_an_mfu_beyond_or_far_below_published_runs_is_a_warning(mfu, precision, words):
    p = plan(chips=64, days=10, mfu=mfu, precision=precision)
    assert any(words in w for w in p.warnings)


def test_a_plausible_mfu_is_no_warning():
    p = plan(chips=64, days=10, mfu=0.4)
    assert not any("MFU" in w for w in p.warnings)
    p = plan(chips=64, days=10, mfu=0.08, precision="fp8")
    assert not any("MFU" in w for w in p.warnings)


def test_a_sweep_warns_about_an_implausible_mfu_too():
    from chinchilla_cli import sweep

    assert any("beyond what any published" in w for w in sweep("1e19,1e20", mfu=0.95).warnings)
    assert not any("MFU" in w for w in sweep("1e19,1e20", mfu=0.4).warnings)


def test_a_cluster_spec_defaults_its_mfu_by_precision():
    from chinchilla_cli.specs import ClusterSpec

    spec = ClusterSpec(precision="fp8")
    assert spec.utilisation == 0.17 and "mfu" in spec.defaulted
    assert ClusterSpec(mfu=0.3).utilisation == 0.3
    p = plan(chips=64, days=10, cluster=None, precision="fp8")
    q = plan(chips=64, days=10, cluster=spec)
    assert p.budget.flops == pytest.approx(q.budget.flops)
