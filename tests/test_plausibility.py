"""Calm nonsense refused or warned about: a sequence longer than the batch, experts one
unit wide or by the hundred thousand, a sweep whose small budgets repeat one shape."""

from __future__ import annotations

import pytest

from chinchilla_cli import plan, sweep
from chinchilla_cli.errors import InputError
from chinchilla_cli.plausibility import published_moe_bounds

MOE = ("--arch", "moe", "--experts", "8", "--top-k", "2")


def test_a_sequence_longer_than_the_batch_is_refused(run):
    r = run("plan", "--flops", "1e22", "--seq-len", "1000000000")
    assert r.exit_code == 2
    line = r.stderr.strip()
    assert "\n" not in line and "--seq-len" in line and "longer than the whole batch" in line


def test_a_law_whose_batch_is_shorter_than_a_sequence_says_so(run):
    r = run("plan", "--flops", "1e22", "--seq-len", "4000000")
    assert r.exit_code == 0, r.output
    assert "under 1" in r.stdout


def test_an_ordinary_sequence_is_accepted():
    assert plan(flops=1e22, seq_len=8192).hyperparameters is not None


def test_experts_one_unit_wide_are_a_warning(run):
    r = run("plan", "--flops", "1e22", *MOE, "--expert-ffw", "1")
    assert r.exit_code == 0, r.output
    assert "experts 1 wide" in r.stdout and "narrower than d_model" in r.stdout


def test_a_hundred_thousand_experts_is_a_warning_naming_the_total():
    p = plan(flops=1e22, arch="moe", experts=100_000, top_k=2)
    said = [w for w in p.warnings if "100,000 routed experts" in w]
    assert said and "beyond any published mixture of experts" in said[0]
    assert "parameters in all" in said[0] and "routers" in said[0]


def test_published_moe_shapes_are_no_warning():
    bounds = published_moe_bounds()
    assert bounds.most_experts == ("deepseek-v3", 256)
    p = plan(flops=1e23, arch="moe", experts=64, top_k=8)
    assert not any("published mixture" in w or "narrower" in w for w in p.warnings)


def test_a_sketch_beyond_the_largest_published_moe_says_so():
    p = plan(flops=1e26, arch="moe", experts=64, top_k=8)
    assert any("the largest published mixture of experts" in w for w in p.warnings)


def test_a_sweep_whose_small_budgets_repeat_one_shape_is_refused():
    with pytest.raises(InputError) as e:
        sweep("1e15:1e18:4", sizes=5, arch="moe", experts=64, top_k=8)
    assert e.value.field == "budgets"
    assert "only 1 distinct model" in e.value.message


def test_a_sweep_whose_sizes_differ_is_accepted():
    s = sweep("1e19,1e20", sizes=5, arch="moe", experts=64, top_k=8)
    assert len(s.runs) == 10
