"""The MoE laws (ludziejewski2025: Joint MoE; krajewski2024: fine-grained MoE): their
papers' own tables, and how plan, compare and sweep use them."""

from __future__ import annotations

import math

import pytest

from chinchilla_cli import compare, plan, sweep
from chinchilla_cli.errors import InputError
from chinchilla_cli.hyperparameters import step_law
from chinchilla_cli.law_files import load_law
from chinchilla_cli.laws import FineGrainedMoELaw, JointMoELaw, ParametricLaw
from chinchilla_cli.moe_scaling import joint_learning_rate


def joint() -> JointMoELaw:
    law = load_law("ludziejewski2025")
    assert isinstance(law, JointMoELaw)
    return law


def fine() -> FineGrainedMoELaw:
    law = load_law("krajewski2024")
    assert isinstance(law, FineGrainedMoELaw)
    return law


# ---------------------------------------------------------------- the papers' tables


# Joint MoE Table 4 (as recomputed in the verified reference): per-E coefficient and
# exponent of the N_act term (m, p) and of the D term (n, q)
TABLE_4 = [
    (1, 30.364, -0.1817, 53.98, -0.1965),
    (8, 21.833, -0.1676, 119.91, -0.2338),
    (32, 16.542, -0.1557, 234.67, -0.2652),
]


@pytest.mark.parametrize(("experts", "m", "p", "n", "q"), TABLE_4)
def test_joint_law_reproduces_table_4(experts, m, p, n, q):
    law = joint().at_experts(experts)
    assert law.A == pytest.approx(m, rel=0.003)
    assert -law.alpha == pytest.approx(p, abs=5e-4)
    assert law.B == pytest.approx(n, rel=0.003)
    assert -law.beta == pytest.approx(q, abs=5e-4)
    assert law.E == pytest.approx(1.3637)


def test_joint_law_gives_a_dense_model_e_start():
    moe = joint().moe
    assert moe is not None
    assert moe.saturated(1) == pytest.approx(2.0732)
    # saturating: more experts help less and less, never past E_max
    assert moe.saturated(8) < moe.saturated(32) < moe.saturated(1e6) < 290.4521


# Fine-grained MoE Table 2: "64 x X" (X the dense trunk 12 d² n_blocks), tokens,
# granularity and the FLOPs of eq. 10 as printed
TABLE_2 = [
    (100e6, 4.37e9, 8, 2.95e18),
    (1e9, 28.94e9, 16, 1.93e20),
    (3e9, 72.90e9, 16, 1.41e21),
    (7e9, 137.60e9, 32, 6.46e21),
    (70e9, 941.07e9, 32, 4.16e23),
    (300e9, 2.96e12, 64, 5.69e24),
    (1e12, 7.94e12, 64, 4.97e25),
]


@pytest.mark.parametrize(("trunk", "tokens", "granularity", "flops"), TABLE_2)
def test_fine_grained_flops_reproduce_table_2(trunk, tokens, granularity, flops):
    moe = fine().moe
    blocks = (trunk / (12 * 64**2)) ** (1 / 3)  # 12 d² n with d = 64 n
    total = moe.total_for_blocks(blocks)
    assert total == pytest.approx(trunk * (8 * 64 + 4) / 12)
    assert moe.flops(total, tokens, granularity) == pytest.approx(flops, rel=0.005)


def test_fine_grained_router_charges_granularity():
    moe = fine().moe
    assert moe.flops(1e10, 1e10, 16) > moe.flops(1e10, 1e10, 1)


# ---------------------------------------------------------------- the presets


@pytest.mark.parametrize("name", ["ludziejewski2025", "krajewski2024"])
def test_moe_presets_carry_source_range_and_a_comparability_note(name):
    law = load_law(name)
    assert "arXiv" in law.source and "Table" in law.source
    assert law.fit_range is not None
    assert any("not comparable with the dense laws" in n for n in law.notes)


def test_joint_law_at_one_expert_is_its_dense_form():
    law = joint()
    assert isinstance(law, ParametricLaw) and law.experts == 1
    plain = plan(flops=1e20, law="ludziejewski2025")
    assert plain.optimal.params == pytest.approx(law.optimal_params(1e20))
    assert any("its dense form" in f for f in plain.findings)
    one = plan(flops=1e20, law="ludziejewski2025", arch="moe", experts=1)
    assert one.optimal.params == pytest.approx(plain.optimal.params)
    assert one.loss is not None and plain.loss is not None
    assert one.loss.total == pytest.approx(plain.loss.total)


# ---------------------------------------------------------------- plan


def test_plan_at_e_experts_is_the_law_exactly():
    p = plan(flops=1e20, law="ludziejewski2025", arch="moe", experts=8)
    law = joint().at_experts(8)
    assert p.optimal.params == pytest.approx(law.optimal_params(1e20))
    assert 6 * p.optimal.params * p.optimal.tokens == pytest.approx(1e20)
    moe = law.moe
    assert moe is not None and p.loss is not None
    assert p.loss.total == pytest.approx(moe.loss(p.optimal.params, p.optimal.tokens, 8))
    assert p.architecture.experts == 8 and p.architecture.top_k == 1  # type: ignore[union-attr]
    assert "an MoE law" in " ".join(p.assumptions)


def test_experts_auto_picks_the_lowest_loss_in_the_fitted_range():
    p = plan(flops=1e20, law="ludziejewski2025", arch="moe", experts="auto")
    choice = p.moe_choice
    assert choice is not None
    assert [c.setting for c in choice.candidates] == [1, 2, 4, 8, 16, 32]
    assert choice.chosen.loss == min(c.loss for c in choice.candidates)
    assert p.loss is not None and p.loss.total == pytest.approx(choice.chosen.loss)
    d = p.to_dict()["moe_law"]
    assert d["chosen"] == choice.chosen.setting and len(d["candidates"]) == 6


def test_max_total_params_keeps_the_best_model_that_fits():
    free = plan(flops=1e21, law="ludziejewski2025", arch="moe", experts="auto")
    held = plan(
        flops=1e21, law="ludziejewski2025", arch="moe", experts="auto", max_total_params=5e9
    )
    assert free.moe_choice is not None and held.moe_choice is not None
    assert free.moe_choice.chosen.total_params > 5e9
    chosen = held.moe_choice.chosen
    assert chosen.total_params <= 5e9 * 1.001
    assert all(c.total_params <= 5e9 * 1.001 for c in held.moe_choice.candidates)
    # under memory AND compute, some experts beat dense (the paper's point)
    assert 1 < chosen.setting < 32
    assert held.optimal.params == pytest.approx(chosen.params)
    assert held.feasibility.memory_params == pytest.approx(5e9, rel=0.01)
    assert any("does not fit" in f for f in held.findings)


def test_experts_list_compares_the_counts_given(run):
    r = run(
        "plan", "--flops", "1e20", "--law", "ludziejewski2025", "--arch", "moe",
        "--experts", "4,16",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert "Experts compared" in r.stdout


def test_beyond_the_laws_range_warns():
    p = plan(flops=1e24, law="ludziejewski2025", arch="moe", experts=256)
    said = " ".join(p.warnings)
    assert "256 experts is beyond the 32" in said
    assert "beyond the runs ludziejewski2025 was fitted to" in said


def test_granularity_under_the_fine_grained_law():
    p = plan(flops=1e19, law="krajewski2024", granularity=8)
    law = fine().at_granularity(8)
    assert p.optimal.params == pytest.approx(law.optimal_params(1e19), rel=1e-6)
    auto = plan(flops=1e19, law="krajewski2024", granularity="auto", arch="moe")
    assert auto.moe_choice is not None
    assert [c.setting for c in auto.moe_choice.candidates] == [1, 2, 4, 8, 16]
    assert auto.moe_choice.chosen.loss == min(c.loss for c in auto.moe_choice.candidates)
    g = round(auto.moe_choice.chosen.setting)
    assert auto.architecture.experts == 64 * g and auto.architecture.top_k == g  # type: ignore[union-attr]


def test_the_fine_grained_law_always_plans_a_mixture_of_experts():
    """Its N is a mixture's: without `arch` the sketch is still 64 x G experts, top-G,
    and the memory holds all of them; a dense family is refused, naming `arch`."""
    p = plan(flops=1e22, law="krajewski2024", granularity=4)
    a = p.architecture
    assert (a.experts, a.top_k) == (256, 4)  # type: ignore[union-attr]
    assert a.params > 20 * a.active_params  # type: ignore[union-attr]
    assert p.to_dict() == plan(flops=1e22, law="krajewski2024", granularity=4, arch="MoE").to_dict()
    with pytest.raises(InputError) as e:
        plan(flops=1e22, law="krajewski2024", arch="llama")
    assert e.value.field == "arch" and "mixtures of experts" in e.value.message


def test_fine_grained_split_spends_the_budget_under_its_flop_model():
    law = fine().at_granularity(4)
    n = law.optimal_params(1e20)
    d = law.optimal_tokens(1e20)
    total = law.total_params(n)
    assert law.moe.flops(total, d, 4) == pytest.approx(1e20, rel=1e-6)
    # the loss at that split is the lowest of its IsoFLOP curve
    for factor in (0.8, 1.25):
        m = n * factor
        assert law.loss(m, 1e20 / (6 * m)).total > law.loss(n, d).total


def test_dense_law_with_an_moe_says_it_gives_sparsity_no_credit():
    p = plan(flops=1e22, arch="moe", experts=8, top_k=2)
    said = " ".join(p.warnings)
    assert "gives sparsity no credit" in said
    assert "ludziejewski2025" in said and "krajewski2024" in said


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (("--experts", "auto", "--arch", "moe"), "--experts"),
        (("--law", "krajewski2024", "--experts", "8"), "--experts"),
        (("--law", "ludziejewski2025", "--granularity", "4"), "--granularity"),
        (("--max-total-params", "5B"), "--max-total-params"),
        (("--law", "ludziejewski2025", "--experts", "auto"), "--experts"),
        (("--law", "krajewski2024", "--granularity", "0.5"), "--granularity"),
    ],
)
def test_moe_law_options_refused_in_one_line(run, args, option):
    r = run("plan", "--flops", "1e21", *args)
    assert r.exit_code == 2
    line = r.stderr.strip()
    assert "\n" not in line and option in line, line


def test_a_search_needs_a_compute_budget():
    with pytest.raises(InputError) as e:
        plan(params=1e9, law="ludziejewski2025", arch="moe", experts="auto")
    assert e.value.field == "experts"


# ---------------------------------------------------------------- learning rate


def test_joint_learning_rate_is_eq_8():
    from chinchilla_cli.moe_laws import moe_learning_rate

    assert moe_learning_rate(1e9, 8, 1).learning_rate == pytest.approx(
        math.exp(8.39 - 0.81 * math.log(1e9) - 0.25 * math.log(8))
    )
    assert joint_learning_rate(1e9, 1, 8.39, -0.81, -0.25) == pytest.approx(
        math.exp(8.39 - 0.81 * math.log(1e9))
    )


def test_step_law_is_3_to_11x_above_olmoe_and_deepseek_v2():
    olmoe = step_law(1.3e9, 5e12).learning_rate / 4.0e-4
    deepseek_v2 = step_law(21e9, 8.1e12).learning_rate / 2.4e-4
    assert 2.5 < deepseek_v2 < 3.5 and 10 < olmoe < 12


def test_moe_plan_shows_the_moe_learning_rate_and_the_step_law_caveat(run):
    args = ("plan", "--flops", "1e21", "--law", "ludziejewski2025", "--arch", "moe")
    full = run(*args, "--experts", "8")
    brief = run(*args, "--experts", "8", "--brief")
    for r in (full, brief):
        assert r.exit_code == 0, r.stderr
        text = " ".join(r.stdout.split())
        assert "eq. 8" in text and "3-11x above" in text
    p = plan(flops=1e21, law="ludziejewski2025", arch="moe", experts=8)
    assert p.moe_learning_rate is not None
    assert p.to_dict()["moe_learning_rate"]["learning_rate"] == pytest.approx(
        p.moe_learning_rate.learning_rate
    )


# ---------------------------------------------------------------- compare and sweep


def test_compare_reads_a_mixture_of_experts_at_its_experts():
    c = compare("deepseek-v3", "llama-3-70b", law="ludziejewski2025")
    v3, llama = c.rows
    assert v3.loss is not None and llama.loss is not None
    assert v3.loss.total < llama.loss.total  # sparsity now earns its credit
    notes = " ".join(c.notes)
    assert "256 experts is beyond the 32" in notes
    assert "not comparable with the dense laws" in notes


def test_compare_under_a_dense_law_names_the_moe_laws():
    c = compare("deepseek-v3", "llama-3-70b")
    assert any("gives sparsity no credit" in n for n in c.notes)


def test_sweep_over_experts_at_fixed_compute():
    s = sweep("1e19", law="ludziejewski2025", arch="moe", experts="1,8", sizes=3)
    assert [b.experts for b in s.budgets] == [1, 8]
    assert s.budgets[1].centre_params < s.budgets[0].centre_params
    assert all(r.flops == pytest.approx(1e19) for r in s.runs)
    header = s.csv_text().splitlines()[0]
    assert header.endswith(",experts")
    with pytest.raises(InputError):
        sweep("1e19", law="ludziejewski2025", arch="moe", experts="auto")
