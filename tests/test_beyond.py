"""Planning beyond the paper: each published worked example is pinned here."""

import pytest

from chinchilla_cli.constrained import optimal_constrained
from chinchilla_cli.frontier import optimal_allocation
from chinchilla_cli.inference import inference_optimal
from chinchilla_cli.law_files import load_law
from chinchilla_cli.laws import ParametricLaw
from chinchilla_cli.tradeoff import tradeoff


def test_data_constrained_worked_example():
    # datablations README: C = 1e22, 25B unique tokens -> about 7.0B params, 237B tokens
    c = optimal_constrained(load_law("muennighoff2023"), 1e22, 25e9)
    assert c.params == pytest.approx(7.0e9, rel=0.02)
    assert c.tokens == pytest.approx(237e9, rel=0.02)
    assert c.epochs == pytest.approx(9.5, abs=0.1)
    assert c.loss_penalty > 0
    assert 6 * c.params * c.tokens == pytest.approx(1e22, rel=1e-9)


def test_data_constrained_with_plenty_of_data_is_the_plain_optimum():
    law = load_law("muennighoff2023")
    c = optimal_constrained(law, 1e22, 1e15)
    assert c.params == pytest.approx(law.optimal_params(1e22), rel=1e-4)
    assert c.loss_penalty == pytest.approx(0, abs=1e-9)


def test_inference_worked_example():
    # Sardana et al. 2024: loss 1.947, 2e12 inference tokens -> about 24.2B and 2.66T
    law = ParametricLaw("sardana", 1.69, 406.4, 410.7, 0.336, 0.283)
    i = inference_optimal(law, 1.947, 2e12)
    assert i.params == pytest.approx(24.2e9, rel=0.01)
    assert i.tokens == pytest.approx(2.66e12, rel=0.01)
    assert law.loss(i.params, i.tokens).total == pytest.approx(1.947, abs=1e-9)
    assert i.params < i.chinchilla_params and i.tokens > i.chinchilla_tokens
    assert i.lifetime_flops < i.chinchilla_lifetime_flops


def test_tradeoff_published_points():
    # de Vries 2023 with the paper's constants: 50% size costs ~20% more, 30% about 100%
    law = load_law("hoffmann2022")
    a = optimal_allocation(law, 5.76e23)
    rows = {r.size_factor: r for r in tradeoff(law, a.params, a.tokens)}
    assert rows[0.5].compute_overhead == pytest.approx(0.20, abs=0.02)
    assert rows[0.3].compute_overhead == pytest.approx(1.0, abs=0.1)
    assert rows[1.0].compute_overhead == pytest.approx(0.0, abs=1e-12)
    for r in rows.values():  # the same loss at every size
        if r.tokens is not None:
            assert law.loss(r.params, r.tokens).total == pytest.approx(
                law.loss(a.params, a.tokens).total
            )


def test_llama3_law_rounding_matters():
    law = load_law("llama3-2024")
    assert law.optimal_tokens(3.8e25) == pytest.approx(10.5e12, rel=0.01)


def test_deepseek_law():
    law = load_law("deepseek2024")
    c = 1e22
    assert law.optimal_scale(c) == pytest.approx(0.1715 * c**0.5243)
    a = optimal_allocation(law, c)
    # the law's own D_opt (section 3.2), not C / (6N) of a converted model size
    assert a.tokens == pytest.approx(5.8316 * c**0.4757)
    assert load_law("deepseek2024").optimal_tokens(1e24) == pytest.approx(1.52e12, rel=0.005)
    assert law.flops_for_params(a.params) == pytest.approx(c, rel=1e-6)
    assert law.flops_for_tokens(a.tokens) == pytest.approx(c, rel=1e-9)


def test_deepseek_plan_keeps_its_tokens_and_says_6nd(run_json):
    d = run_json("plan", "--flops", "1e24", "--law", "deepseek2024")
    assert d["optimal"]["tokens"] == pytest.approx(1.52e12, rel=0.005)
    assert d["budget"]["flops"] == 1e24
    ratio = d["optimal"]["flops"] / 1e24
    assert 0.9 < ratio < 1.0
    assert any(f"{ratio:.2f}x the budget C" in f for f in d["findings"])
    assert "C = M·D" in " ".join(d["assumptions"])


# ---- through the command ---------------------------------------------------------


def test_plan_unique_tokens(run_json):
    d = run_json("plan", "--flops", "1e22", "--unique-tokens", "25B", "--law", "muennighoff2023")
    dc = d["data_constrained"]
    assert dc["params"] == pytest.approx(7.0e9, rel=0.02)
    assert dc["epochs"] == pytest.approx(9.5, abs=0.1)
    assert d["optimal"]["params"] == dc["params"]
    assert dc["loss_penalty"] > 0


def test_plan_inference_tokens(run_json, tmp_path):
    p = tmp_path / "sardana.yaml"
    p.write_text("name: sardana\nE: 1.69\nA: 406.4\nB: 410.7\nalpha: 0.336\nbeta: 0.283\n")
    d = run_json("plan", "--target-loss", "1.947", "--inference-tokens", "2e12", "--law", str(p))
    inf = d["inference"]
    assert inf["params"] == pytest.approx(24.2e9, rel=0.01)
    assert inf["tokens"] == pytest.approx(2.66e12, rel=0.01)
    assert inf["lifetime_flops_saved"] > 0


def test_plan_target_loss(run_json):
    d = run_json("plan", "--target-loss", "1.95", "--law", "hoffmann2022", "--chips", "2048")
    assert d["budget"]["source"] == "target-loss"
    assert d["loss"]["total"] == pytest.approx(1.95, abs=1e-9)
    assert d["budget"]["days"] > 0


@pytest.mark.parametrize("loss", ["1.69", "1.5"])
def test_plan_unreachable_target_loss(run, loss):
    r = run("plan", "--target-loss", loss, "--law", "hoffmann2022")
    assert r.exit_code == 2
    assert "unreachable" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_plan_tradeoff_table(run, run_json):
    d = run_json("plan", "--flops", "5.76e23", "--law", "hoffmann2022")
    half = next(r for r in d["tradeoff"] if r["size_factor"] == 0.5)
    assert half["compute_overhead"] == pytest.approx(0.20, abs=0.02)
    assert "de Vries" in run("plan", "--flops", "5.76e23").stdout


def test_plan_budget_range(run_json, run):
    d = run_json("plan", "--budget-range", "1e21:1e26:6", "--law", "hoffmann2022")
    assert [r["flops"] for r in d["frontier"]] == pytest.approx(
        [1e21, 1e22, 1e23, 1e24, 1e25, 1e26]
    )
    ns = [r["params"] for r in d["frontier"]]
    assert ns == sorted(ns)
    d2 = run_json("plan", "--budget-range", "6e18,1e19,3e19")
    assert len(d2["frontier"]) == 3 and d2["frontier"][0]["uncertainty"] is not None
    bad = run("plan", "--budget-range", "1e21:1e26")
    assert bad.exit_code == 2 and "--budget-range" in bad.stderr


def test_plan_uncertainty_from_the_shipped_samples(run_json):
    d = run_json("plan", "--flops", "5.76e23")
    u = d["uncertainty"]
    assert u["samples"] >= 100
    lo, hi = u["params"]
    assert lo < d["optimal"]["params"] < hi
    assert u["loss"][0] < d["loss"]["total"] < u["loss"][1]
    assert "--bootstrap" in load_law("besiroglu2024").samples_source


def test_plan_uncertainty_from_a_saved_fit(run, run_json, tmp_path):
    from pathlib import Path

    law = tmp_path / "mine.yaml"
    data = Path(__file__).parent / "data" / "svg_extracted_data.csv"
    assert (
        run(
            "fit", str(data), "--max-loss", "3.42", "--bootstrap", "20", "--save", str(law)
        ).exit_code
        == 0
    )
    d = run_json("plan", "--flops", "1e23", "--law", str(law))
    assert d["uncertainty"]["samples"] == 20


def test_crosscheck_disagreement_sentence(run_json):
    d = run_json("plan", "--flops", "1e24")
    assert any("disagree" in f for f in d["findings"])
    names = {c["law"] for c in d["crosscheck"]}
    assert {
        "hoffmann2022-approach1",
        "hoffmann2022-approach2",
        "hoffmann2022",
        "besiroglu2024",
        "kaplan2020",
        "llama3-2024",
        "deepseek2024",
    } <= names


def test_hyperparameter_suggestions(run_json):
    d = run_json("plan", "--flops", "1e22")
    h, run = d["hyperparameters"], d["optimal"]
    # DeepSeek LLM section 3.1 at C = 6ND of the run, and Step Law at its N and D
    c = 6 * run["params"] * run["tokens"]
    assert h["law"] == "deepseek2024"
    assert h["learning_rate"] == pytest.approx(0.3118 * c**-0.125)
    assert h["batch_tokens"] == pytest.approx(0.2920 * c**0.3271)
    step = h["laws"][1]
    assert step["law"] == "steplaw2025"
    n, dd = run["params"], run["tokens"]
    assert step["learning_rate"] == pytest.approx(1.797 * n**-0.7129 * dd**0.3075)
    assert step["batch_tokens"] == pytest.approx(0.5807 * dd**0.5709)
    # the batch as a plan quantity: whole sequences, and the steps that see D
    assert h["batch_sequences"] == round(h["batch_tokens"] / 2048)
    assert h["steps"] * h["batch_sequences"] * 2048 >= dd
    assert (h["steps"] - 1) * h["batch_sequences"] * 2048 < dd
    spread = max(x["batch_tokens"] for x in h["laws"]) / min(x["batch_tokens"] for x in h["laws"])
    assert h["spread"]["batch_tokens"] == pytest.approx(spread)
    assert h["critical_batch_tokens"] is None and "Zhang" in h["critical_batch_note"]


def test_more_chips_than_sequences_is_a_warning(run_json):
    d = run_json("plan", "--flops", "1e21", "--chips", "20000")
    seqs = d["hyperparameters"]["batch_sequences"]
    assert seqs < 20000
    assert any(f"holds {seqs:,} sequences" in w for w in d["warnings"])


@pytest.mark.parametrize(
    "args, needle",
    [
        (
            ["--flops", "1e22", "--unique-tokens", "25B", "--law", "hoffmann2022-approach1"],
            "--unique-tokens",
        ),
        (
            ["--flops", "1e22", "--inference-tokens", "1T", "--law", "kaplan2020"],
            "--inference-tokens",
        ),
        (["--target-loss", "2.0", "--law", "hoffmann2022-approach2"], "--target-loss"),
        (["--flops", "1e22", "--unique-tokens", "0"], "--unique-tokens"),
    ],
)
def test_beyond_bad_input(run, args, needle):
    r = run("plan", *args)
    assert r.exit_code == 2 and needle in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
