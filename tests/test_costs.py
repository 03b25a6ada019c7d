"""Time, cost, energy, deadlines, goodput and architecture families in `plan`."""

import pytest

from chinchilla_cli.architecture import Architecture, sketch
from chinchilla_cli.presets import load_presets


def test_cost_and_energy(run_json):
    d = run_json("plan", "--chips", "1024", "--days", "30")
    hours = 30 * 24
    assert d["cost"]["chip_hours"] == pytest.approx(1024 * hours)
    price = load_presets("hardware")["h100-sxm"]["price_usd_per_hour"]
    assert d["cost"]["usd"] == pytest.approx(1024 * hours * price)
    assert d["energy"]["kwh"] == pytest.approx(1024 * 700 * hours * 1.1 / 1000)
    assert d["energy"]["kg_co2e"] == pytest.approx(d["energy"]["kwh"] * 475 / 1000)


def test_cost_overrides(run_json):
    d = run_json(
        "plan",
        "--chips",
        "8",
        "--days",
        "1",
        "--price-per-hour",
        "10",
        "--pue",
        "1.5",
        "--grid-intensity",
        "20",
    )
    assert d["cost"]["usd"] == pytest.approx(8 * 24 * 10)
    assert d["energy"]["kwh"] == pytest.approx(8 * 700 * 24 * 1.5 / 1000)
    assert d["energy"]["kg_co2e"] == pytest.approx(d["energy"]["kwh"] * 20 / 1000)


def test_unknown_tdp_needs_override(run_json):
    d = run_json("plan", "--chips", "64", "--days", "2", "--accelerator", "tpu-v5p")
    assert d["energy"]["kwh"] is None and d["cost"]["usd"] is None
    d = run_json(
        "plan", "--chips", "64", "--days", "2", "--accelerator", "tpu-v5p", "--tdp-watts", "450"
    )
    assert d["energy"]["kwh"] == pytest.approx(64 * 450 * 48 * 1.1 / 1000)


def test_deadline_gives_chips(run_json):
    d = run_json("plan", "--flops", "5.76e23", "--deadline-days", "30")
    chips = d["budget"]["chips"]
    per_chip = 989.4e12 * 0.4 * 30 * 86400
    assert chips == -(-5.76e23 // per_chip)
    assert d["budget"]["days"] <= 30
    for option in ("--params", "--target-loss"):
        value = "70B" if option == "--params" else "2.0"
        assert run_json("plan", option, value, "--deadline-days", "60")["budget"]["chips"] >= 1


def test_goodput_scales_time_and_cost(run_json):
    full = run_json("plan", "--flops", "1e24", "--chips", "1024")
    half = run_json("plan", "--flops", "1e24", "--chips", "1024", "--goodput", "0.5")
    assert half["budget"]["days"] == pytest.approx(2 * full["budget"]["days"])
    assert half["cost"]["usd"] == pytest.approx(2 * full["cost"]["usd"])
    hw = run_json("plan", "--chips", "1024", "--days", "30", "--goodput", "0.8")
    assert hw["budget"]["flops"] == pytest.approx(1024 * 989.4e12 * 0.4 * 0.8 * 30 * 86400)


def test_llama_architecture(run_json):
    d = run_json("plan", "--flops", "1e24", "--arch", "llama", "--kv-heads", "8")
    a = d["architecture"]
    assert a["family"] == "llama" and a["vocab_size"] == 128256 and a["kv_heads"] == 8
    assert a["ffw_size"] % 256 == 0
    assert a["non_embedding_params"] < a["params"]


@pytest.mark.parametrize("name", ["llama-2-70b", "llama-3-8b", "llama-3-70b", "llama-3-405b"])
def test_published_llama_shapes(name):
    m = load_presets("models")[name]
    a = m["architecture"]
    arch = Architecture(
        a["n_layers"],
        a["d_model"],
        a["n_heads"],
        a["head_dim"],
        a["ffw_size"],
        a["vocab_size"],
        a["seq_len"],
        a.get("kv_heads"),
        "llama",
    )
    published = {
        "llama-2-70b": 68.98e9,
        "llama-3-8b": 8.03e9,
        "llama-3-70b": 70.55e9,
        "llama-3-405b": 405.85e9,
    }[name]
    assert arch.params == pytest.approx(published, rel=0.02)


def test_llama_sketch_rules():
    a = sketch(8e9, family="llama")
    assert a.params == pytest.approx(8e9, rel=0.05)
    assert a.ffw_size % 256 == 0 and a.n_heads % a.n_kv_heads == 0
    assert a.embedding_params == 2 * a.vocab_size * a.d_model


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--flops", "1e24", "--deadline-days", "10", "--chips", "8"], "--deadline-days"),
        (["--flops", "1e24", "--arch", "mamba"], "--arch"),
        (["--flops", "1e24", "--chips", "8", "--goodput", "0"], "--goodput"),
        (["--flops", "1e24", "--chips", "8", "--pue", "0.5"], "--pue"),
    ],
)
def test_cost_bad_input(run, args, needle):
    r = run("plan", *args)
    assert r.exit_code == 2 and needle in r.stderr


def test_plan_plot(run, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "plan.png"
    r = run("plan", "--flops", "5.76e23", "--plot", str(out))
    assert r.exit_code == 0, r.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    again = run("plan", "--flops", "5.76e23", "--plot", str(out))
    assert again.exit_code == 2 and "--force" in again.stderr
    assert out.read_bytes() == data


def test_a_sequence_that_multiplies_the_cost_per_token_warns():
    """C = 6ND (and the wall-clock and cost with it) leaves out attention over the
    sequence: at a million tokens a sequence it is 28x short, and the plan says so."""
    from chinchilla_cli import plan

    long = plan(chips=64, days=30, seq_len=1_000_000)
    said = [w for w in long.warnings if "appendix F" in w]
    assert len(said) == 1 and "1,000,000-token" in said[0]
    ratio = long.architecture.flops_per_token / long.architecture.flops_per_token_6n
    assert f"{ratio:.2f}x" in said[0] and ratio > 20
    assert not any("appendix F" in w for w in plan(chips=64, days=30).warnings)
