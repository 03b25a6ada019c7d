"""Total and active parameters named unmistakably wherever a plan's JSON gives
parameters (the old keys kept), and serving an MoE counts every expert."""

from __future__ import annotations

import pytest

MOE = ("--arch", "moe", "--experts", "64", "--top-k", "8")


def test_every_parameter_count_names_total_and_active(run_json):
    out = run_json("plan", "--flops", "1e23", *MOE)
    a = out["architecture"]
    ratio = a["total_params"] / a["active_params"]
    assert a["params"] == a["total_params"] and ratio > 4  # the old key: the total
    for key in ("optimal", "compute_optimal"):
        entry = out[key]
        assert entry["active_params"] == entry["params"]  # the old key: active
        assert entry["total_params"] == pytest.approx(entry["params"] * ratio)
    assert out["feasibility"]["total_params"] == out["feasibility"]["memory_params"]
    assert out["feasibility"]["total_params"] == pytest.approx(out["optimal"]["total_params"])
    for row in out["tradeoff"] + out["crosscheck"] + out["hyperparameters"]["laws"]:
        assert row["active_params"] == row["params"]
        assert row["total_params"] == pytest.approx(row["params"] * ratio)


def test_a_dense_plan_has_total_equal_to_active(run_json):
    out = run_json("plan", "--flops", "1e23")
    a = out["architecture"]
    assert a["total_params"] == a["active_params"] == a["params"]
    assert out["optimal"]["total_params"] == out["optimal"]["active_params"]


def test_serving_an_moe_holds_every_expert(run_json):
    moe = run_json("plan", "--flops", "1e23", "--inference-tokens", "2e13", *MOE)
    dense = run_json("plan", "--flops", "1e23", "--inference-tokens", "2e13")
    i, a = moe["inference"], moe["architecture"]
    ratio = a["total_params"] / a["active_params"]
    # the same law, the same active N; serving holds the total, 2 bytes a parameter
    assert i["active_params"] == pytest.approx(dense["inference"]["params"])
    assert i["total_params"] == pytest.approx(i["params"] * ratio)
    assert i["serving_memory_bytes"] == pytest.approx(2 * i["total_params"])
    assert dense["inference"]["serving_memory_bytes"] == pytest.approx(
        2 * dense["inference"]["params"]
    )


def test_the_inference_table_shows_the_serving_memory(run):
    r = run("plan", "--flops", "1e23", "--inference-tokens", "2e13", *MOE)
    assert r.exit_code == 0, r.output
    assert "serving memory" in r.stdout and "every expert" in r.stdout
