import json
from pathlib import Path

import pytest


def test_plan_hardware_budget(run_json):
    d = run_json("plan", "--chips", "1024", "--days", "30")
    expected = 1024 * 989.4e12 * 0.40 * 30 * 86400
    assert d["budget"]["flops"] == pytest.approx(expected, rel=1e-12)
    assert d["budget"]["source"] == "hardware"
    assert d["law"]["name"] == "besiroglu2024"
    o = d["optimal"]
    assert 6 * o["params"] * o["tokens"] == pytest.approx(o["flops"], rel=1e-12)
    assert o["tokens_per_param"] == pytest.approx(o["tokens"] / o["params"])
    for key in (
        "n_layers",
        "d_model",
        "n_heads",
        "head_dim",
        "ffw_size",
        "vocab_size",
        "seq_len",
        "params",
        "flops_per_token",
    ):
        assert key in d["architecture"]
    f = d["feasibility"]
    assert f["fits"] is True
    assert f["cluster_memory_bytes"] == 1024 * 80e9
    assert f["train_memory_bytes"] == 16 * o["params"]
    assert f["tokens_per_second"] == pytest.approx(o["tokens"] / (30 * 86400))
    loss = d["loss"]
    assert loss["total"] == pytest.approx(
        loss["irreducible"] + loss["params_term"] + loss["data_term"]
    )


def test_plan_gopher_budget_default_law(run_json):
    d = run_json("plan", "--flops", "5.76e23")
    assert d["optimal"]["params"] == pytest.approx(72.3e9, rel=5e-3)
    assert d["optimal"]["tokens"] == pytest.approx(1.33e12, rel=5e-3)
    assert d["feasibility"]["fits"] is None


def test_plan_from_params_and_tokens_agree(run_json):
    by_n = run_json("plan", "--params", "70B", "--law", "hoffmann2022")
    assert by_n["optimal"]["params"] == 70e9
    by_d = run_json("plan", "--tokens", str(by_n["optimal"]["tokens"]), "--law", "hoffmann2022")
    assert by_d["optimal"]["params"] == pytest.approx(70e9, rel=1e-9)
    assert by_d["budget"]["flops"] == pytest.approx(by_n["budget"]["flops"], rel=1e-9)


def test_allocation_law_has_null_loss(run):
    r = run("plan", "--flops", "1e23", "--law", "hoffmann2022-approach1", "--json")
    d = json.loads(r.stdout)
    assert d["loss"]["total"] is None and d["loss"]["data_term"] is None
    human = run("plan", "--flops", "1e23", "--law", "hoffmann2022-approach1")
    assert "predicts no loss" in human.stdout


def test_kaplan_warns(run):
    r = run("plan", "--flops", "1e23", "--law", "kaplan2020")
    assert r.exit_code == 0
    assert "embeddings" in r.stdout


def test_plan_human_output_mentions_assumptions(run):
    r = run("plan", "--chips", "1024", "--days", "30")
    assert r.exit_code == 0
    for text in ("h100-sxm", "MFU 40%", "besiroglu2024", "Other laws", "kaplan2020", "Feasibility"):
        assert text in r.stdout
    assert "\x1b[" not in r.stdout  # piped: no colour codes


def test_flops_with_cluster_gives_days(run_json):
    d = run_json("plan", "--flops", "1e24", "--chips", "512", "--accelerator", "a100-80gb")
    assert d["budget"]["days"] == pytest.approx(1e24 / (512 * 312e12 * 0.4) / 86400)


def test_does_not_fit_warns(run):
    r = run("plan", "--flops", "1e27", "--chips", "8", "--json")
    d = json.loads(r.stdout)
    assert d["feasibility"]["fits"] is False
    assert any("does not fit" in w for w in d["warnings"])


def test_law_file(run_json, tmp_path):
    p = tmp_path / "law.yaml"
    p.write_text("name: mine\nE: 1.69\nA: 406.4\nB: 410.7\nalpha: 0.34\nbeta: 0.28\n")
    d = run_json("plan", "--flops", "5.76e23", "--law", str(p))
    assert d["law"]["name"] == "mine"
    assert d["optimal"]["params"] == pytest.approx(32.2e9, rel=5e-3)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--flops", "1e23", "--mfu", "1.5"], "--mfu"),
        (["--flops", "1e23", "--chips", "8", "--mfu", "0"], "--mfu"),
        (["--chips", "0", "--days", "3"], "--chips"),
        (["--chips", "8", "--days", "-3"], "--days"),
        (["--flops", "lots"], "--flops"),
        (["--flops", "nan"], "--flops"),
        (["--flops", "inf"], "--flops"),
        (["--flops", "1e23", "--params", "70B"], "2 ways"),
        (["--chips", "8", "--days", "3", "--flops", "1e23"], "2 ways"),
        (["--chips", "8", "--days", "3", "--accelerator", "h900"], "h200"),
        (["--flops", "1e23", "--law", "nope"], "besiroglu2024"),
        (["--flops", "1e23", "--law", "missing.yaml"], "does not exist"),
        ([], "no budget"),
        (["--chips", "8"], "no budget"),
        (["--days", "3"], "--chips"),
        (["--flops", "1e23", "--bogus"], "--bogus"),
    ],
)
def test_bad_input_one_line_exit_2(run, args, needle):
    r = run("plan", *args)
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert needle in lines[0]
    assert "Traceback" not in r.output
    assert r.stdout == ""


def test_law_file_not_a_law(run, tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("hello: world\n")
    r = run("plan", "--flops", "1e23", "--law", str(p))
    assert r.exit_code == 2
    assert "not a parametric law" in r.stderr


def test_presets_command(run, run_json):
    d = run_json("presets")
    assert d["hardware"]["h100-sxm"]["bf16_tflops"] == 989.4
    assert d["hardware"]["a100-80gb"]["bf16_tflops"] == 312
    for kind in ("hardware", "models", "laws"):
        for name, entry in d[kind].items():
            assert entry.get("source"), (kind, name)
    for name in (
        "h100-sxm",
        "h100-pcie",
        "h200",
        "b200",
        "a100-40gb",
        "a100-80gb",
        "v100",
        "mi300x",
        "tpu-v4",
        "tpu-v5e",
        "tpu-v5p",
        "tpu-v6e",
        "gaudi3",
    ):
        assert name in d["hardware"]
    r = run("presets", "laws")
    assert r.exit_code == 0 and "besiroglu2024" in r.stdout and "hardware" not in r.stdout
    assert run("presets", "gpus").exit_code == 2


def test_version_and_help(run):
    r = run("--version")
    assert r.exit_code == 0 and r.stdout.startswith("chinchilla ")
    r = run("plan", "--help")
    assert r.exit_code == 0
    for opt in ("--flops", "--chips", "--days", "--mfu", "--law", "--json"):
        assert opt in r.stdout
    assert run().exit_code == 0


def test_brief_inference_aware_compute_is_the_runs_own(run):
    """The brief plan's compute row sits above the run's N and D: it is that run's 6ND,
    with the budget it was derived from beside it."""
    r = run(
        "plan", "--target-loss", "1.947", "--inference-tokens", "2e12",
        "--law", str(Path(__file__).parent.parent / "examples" / "sardana.yaml"), "--brief",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert " compute             3.86e23 FLOPs   this run's 6ND; the least compute" in r.stdout


def test_a_budget_range_beyond_the_law_warns(run_json):
    """A frontier far past the runs a law was fitted to says so, as a single plan does."""
    d = run_json("plan", "--budget-range", "1e21:1e26:6")
    assert len(d["warnings"]) == 1
    said = d["warnings"][0]
    assert said.startswith("budgets beyond the runs besiroglu2024 was fitted to: 3 of 6")
    assert "at 1.00e26 FLOPs" in said
    assert run_json("plan", "--budget-range", "1e19:1e21:3")["warnings"] == []
