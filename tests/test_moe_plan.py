"""Mixtures of experts, precision and the batch through `plan`, `compare` and `sweep`:
N is the active parameters (the dense law applied to what each token uses), compute is
6 x active x D everywhere, memory holds every expert."""

from __future__ import annotations

import pytest

from chinchilla_cli import compare, plan, sweep
from chinchilla_cli.hardware import load_accelerator

MOE = ("--arch", "moe", "--experts", "64", "--top-k", "8")


def test_moe_plan_puts_active_parameters_where_the_dense_law_puts_n(run_json):
    dense = run_json("plan", "--chips", "1024", "--days", "30")
    moe = run_json("plan", "--chips", "1024", "--days", "30", *MOE)
    # the same budget and the same N: the law does not know the model is sparse
    assert moe["budget"]["flops"] == dense["budget"]["flops"]
    assert moe["optimal"]["params"] == pytest.approx(dense["optimal"]["params"])
    assert moe["optimal"]["tokens"] == pytest.approx(dense["optimal"]["tokens"])
    a, f = moe["architecture"], moe["feasibility"]
    assert a["family"] == "moe" and a["experts"] == 64 and a["top_k"] == 8
    # the sketch's ACTIVE count is the plan's N; its total is several times larger
    assert a["active_params"] == pytest.approx(moe["optimal"]["params"], rel=0.10)
    assert a["params"] > 4 * a["active_params"]
    # memory holds every expert: 16 bytes x the plan's total (N x sketch total/active)
    total = moe["optimal"]["params"] * a["params"] / a["active_params"]
    assert f["memory_params"] == pytest.approx(total)
    assert f["train_memory_bytes"] == pytest.approx(16 * total)
    # time from 6 x active x D: the budget's 30 days exactly
    assert moe["optimal"]["flops"] == pytest.approx(moe["budget"]["flops"])
    assert f["seconds"] == pytest.approx(30 * 86400)
    said = " ".join(moe["assumptions"])
    assert "the dense law applied to active parameters" in said
    assert "64 routed experts, top-8" in said


def test_moe_expert_width_defaults_to_the_dense_compute_per_token():
    p = plan(flops=1e22, arch="moe", experts=16, top_k=2, shared_experts=1)
    a = p.architecture
    assert a.expert_ffw_size == a.ffw_size // 3
    given = plan(flops=1e22, arch="moe", experts=16, top_k=2, expert_ffw=1024)
    assert given.architecture.expert_ffw_size == 1024


def test_moe_plan_view_says_active_and_total(run):
    out = run("plan", "--flops", "1e23", *MOE).stdout
    assert "active parameters" in out and "in all" in out
    assert "Architecture sketch (mixture of experts)" in out
    brief = run("plan", "--flops", "1e23", *MOE, "--brief").stdout
    assert "64 experts, top-8" in brief


@pytest.mark.parametrize(
    "args, option, words",
    [
        (("--experts", "8"), "--experts", "--arch moe"),
        (("--top-k", "2"), "--top-k", "--arch moe"),
        (("--shared-experts", "1"), "--shared-experts", "--arch moe"),
        (("--expert-ffw", "512"), "--expert-ffw", "--arch moe"),
        (("--arch", "moe", "--top-k", "2"), "--experts", "needs --experts"),
        (("--arch", "moe", "--experts", "8"), "--top-k", "needs --experts"),
        (("--arch", "moe", "--experts", "8", "--top-k", "9"), "--top-k", "accepted: 1 to 8"),
        (("--arch", "moe", "--experts", "0", "--top-k", "1"), "--experts", ""),
        (("--precision", "fp8"), "--precision", "--chips"),
        (
            ("--chips", "8", "--days", "1", "--precision", "fp16"),
            "--precision",
            "did you mean bf16",
        ),
        (
            ("--chips", "8", "--days", "1", "--accelerator", "a100-80gb", "--precision", "fp8"),
            "--precision",
            "no fp8 peak",
        ),
    ],
)
def test_bad_moe_and_precision_options_are_one_line(run, args, option, words):
    r = run("plan", "--flops", "1e22", *args) if "--chips" not in args else run("plan", *args)
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and option in lines[0] and words in lines[0]
    assert "Traceback" not in r.output


def test_fp8_runs_at_the_fp8_peak(run_json):
    h100 = load_accelerator("h100-sxm")
    # at one utilisation (the defaults differ: see test_utilisation.py)
    base = ("plan", "--flops", "1e24", "--chips", "1024", "--mfu", "0.4")
    bf16 = run_json(*base)
    fp8 = run_json(*base, "--precision", "fp8")
    assert fp8["budget"]["peak_flops_per_second"] == h100.fp8_flops_per_second
    ratio = h100.fp8_flops_per_second / h100.bf16_flops_per_second
    assert bf16["budget"]["seconds"] / fp8["budget"]["seconds"] == pytest.approx(ratio)
    assert fp8["feasibility"]["precision"] == "fp8"
    assert any(a.startswith("fp8 training:") for a in fp8["assumptions"])
    # the deadline needs fewer chips at the higher peak
    slow = run_json("plan", "--flops", "1e24", "--deadline-days", "30", "--mfu", "0.4")
    fast = run_json(
        "plan", "--flops", "1e24", "--deadline-days", "30", "--precision", "fp8", "--mfu", "0.4"
    )
    assert fast["budget"]["chips"] < slow["budget"]["chips"]


def test_compare_uses_active_parameters_for_mixtures_of_experts(run_json):
    d = run_json("compare", "deepseek-v3", "chinchilla", "moe=37B/671B@14.8T")
    ds, ch, mine = d["models"]
    # 6 x 37B active x 14.8T, not 6 x 671B x 14.8T (5.96e25)
    assert ds["flops"] == pytest.approx(6 * 37e9 * 14.8e12)
    assert ds["params"] == 37e9 and ds["total_params"] == 671e9 and ds["moe"] is True
    assert ch["total_params"] == ch["params"] and ch["moe"] is False
    assert mine["flops"] == ds["flops"] and mine["loss"] == ds["loss"]
    assert any("mixtures of experts" in n for n in d["notes"])


def test_compare_file_with_active_params(tmp_path):
    f = tmp_path / "runs.yaml"
    f.write_text("- {name: m, params: 47B, active_params: 13B, tokens: 1T}\n")
    c = compare(file=str(f))
    (row,) = c.rows
    assert row.config.params == 13e9 and row.config.total == 47e9
    assert row.config.flops == pytest.approx(6 * 13e9 * 1e12)


@pytest.mark.parametrize("spec", ["x=70B/13B@1T", "x=/13B@1T", "x=13B/@1T", "x=1B/2B/3B@1T"])
def test_compare_refuses_malformed_moe_specs(run, spec):
    r = run("compare", spec)
    assert r.exit_code == 2 and len(r.stderr.strip().splitlines()) == 1


def test_sweep_of_mixtures_of_experts_spends_each_budget_on_active_parameters():
    s = sweep("1e20,1e21", arch="moe", experts=32, top_k=4, sizes=3)
    for b in s.budgets:
        for r in b.runs:
            assert r.params == r.architecture.active_params < r.total_params
            assert 6 * r.params * r.tokens == pytest.approx(b.flops)
    d = s.to_dict()
    assert d["family"] == "moe"
    assert all("total_params" in r for b in d["budgets"] for r in b["runs"])


def test_sweep_refuses_experts_without_moe(run):
    r = run("sweep", "--budgets", "1e20", "--experts", "8")
    assert r.exit_code == 2 and "--arch moe" in r.stderr
