"""Interventions compared (`fit --vs`, `--group`, `--shared E`): groups generated from
known laws, whose multipliers and crossovers are known in closed form, recovered by the
fits; the command's JSON equal to the library's, its errors one line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from synthetic_interventions import (
    BASELINE,
    SCALED,
    STEEPER,
    runs,
    scaled_multiplier,
    write_csv,
)

from chinchilla_cli import fit
from chinchilla_cli.approach3 import fit_parametric
from chinchilla_cli.errors import InputError
from chinchilla_cli.frontier import flops_for_loss, frontier_loss
from chinchilla_cli.interventions import (
    crossover_flops,
    default_budgets,
    frontier_losses,
    multipliers,
)
from chinchilla_cli.laws import ParametricLaw
from chinchilla_cli.objective import LogRuns
from chinchilla_cli.shared_e import bootstrap_shared_e, fit_shared_e, refit_shared_e, shared_e_from

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DATA = Path(__file__).parent / "data"
SEARCH = (1e15, 1e30)


def _g(law: ParametricLaw) -> float:
    return law.alpha * law.beta / (law.alpha + law.beta)


def _k(law: ParametricLaw) -> float:
    """L*(C) = E + K (C/6)^-g."""
    return law.A * law.G**-law.alpha + law.B * law.G**law.beta


# ---- the closed forms ------------------------------------------------------------------


def test_multiplier_matches_the_frontier_functions():
    """C_base(L*_variant(C)) / C computed at once equals frontier.py's one law at a time."""
    c = np.geomspace(1e17, 1e25, 9)
    m = multipliers(BASELINE, STEEPER, c)
    for x, value in zip(c, m, strict=True):
        want = flops_for_loss(BASELINE, frontier_loss(STEEPER, x)) / x
        assert value == pytest.approx(want, rel=1e-9)
    assert frontier_losses(STEEPER, c) == pytest.approx([frontier_loss(STEEPER, x) for x in c])


def test_scaled_variant_has_a_constant_multiplier_and_no_crossover():
    m = multipliers(BASELINE, SCALED, np.geomspace(1e15, 1e28, 14))
    assert m == pytest.approx(scaled_multiplier(), rel=1e-9)
    assert scaled_multiplier() == pytest.approx(0.9 ** (-1 / _g(BASELINE)))
    assert crossover_flops(BASELINE, SCALED, SEARCH) == []


def test_crossover_in_closed_form():
    """Same exponents, a smaller K but a larger E: the frontiers meet where
    (K_b - K_v) x^-g = E_v - E_b, x = C/6; below it the variant is ahead."""
    variant = ParametricLaw("v", 1.75, 0.6 * BASELINE.A, 0.6 * BASELINE.B, 0.34, 0.28)
    x = ((_k(BASELINE) - _k(variant)) / (variant.E - BASELINE.E)) ** (1 / _g(BASELINE))
    found = crossover_flops(BASELINE, variant, SEARCH)
    assert len(found) == 1
    c, ahead = found[0]
    assert c == pytest.approx(6 * x, rel=1e-9)
    assert ahead == "baseline"
    assert multipliers(BASELINE, variant, [c])[0] == pytest.approx(1.0, rel=1e-8)


def test_variant_below_the_baseline_floor_is_unbounded():
    variant = ParametricLaw("v", 1.60, BASELINE.A, BASELINE.B, 0.34, 0.28)
    m = multipliers(BASELINE, variant, [1e18, 1e30])
    assert math.isfinite(m[0]) and m[0] > 1
    assert m[1] == math.inf  # L*_variant(1e30) < E_baseline


def test_default_budgets_are_the_data_span_and_beyond():
    assert default_budgets([(1e17, 1e21), (2e17, 5e20)]) == (1e17, 1e19, 1e21, 1e22, 1e23)


# ---- fits recover them -----------------------------------------------------------------


@pytest.fixture(scope="module")
def scaled():
    return fit(runs(BASELINE, 1), vs=runs(SCALED, 2), bootstrap=200)


@pytest.fixture(scope="module")
def steeper():
    return fit(runs(BASELINE, 1), vs=runs(STEEPER, 2), bootstrap=200)


def test_fit_recovers_the_constant_multiplier(scaled):
    iv = scaled.intervention
    assert iv is not None and len(iv.variants) == 1
    v = iv.variants[0]
    truth = scaled_multiplier()
    assert [p.flops for p in v.points] == [1e17, 1e19, 1e21, 1e22, 1e23]
    for p in v.points:
        if p.within_data:
            assert p.multiplier == pytest.approx(truth, rel=0.05)
            lo, hi = p.interval
            assert lo < truth < hi
    assert [p.within_data for p in v.points] == [True, True, True, False, False]
    assert [p.beyond_data for p in v.points][-2:] == pytest.approx([10.0, 100.0], rel=1e-3)
    assert v.crossovers == ()
    assert v.ahead == "variant"


def test_fit_recovers_the_crossover(steeper):
    (truth, ahead), *_ = crossover_flops(BASELINE, STEEPER, SEARCH)
    v = steeper.intervention.variants[0]
    assert len(v.crossovers) == 1
    x = v.crossovers[0]
    assert x.within_data and x.ahead_above == ahead == "variant"
    assert abs(math.log10(x.flops / truth)) < 0.25  # within a factor 1.8 of 1.8e18
    lo, hi = v.crossover_interval
    assert lo < truth < hi
    assert v.crossover_share > 0.9
    want = multipliers(BASELINE, STEEPER, [p.flops for p in v.points])
    for p, w in zip(v.points, want, strict=True):
        if p.within_data:
            assert p.multiplier == pytest.approx(w, rel=0.1)
            assert p.interval[0] < w < p.interval[1]


def test_report_is_the_baselines_fit(steeper):
    alone = fit(runs(BASELINE, 1), bootstrap=200)
    d, a = steeper.to_dict(), alone.to_dict()
    assert d["params"] == a["params"] and d["ci"] == a["ci"]  # same seed, same resamples
    assert a["intervention"] is None
    iv = d["intervention"]
    assert iv["multipliers_from"] == "separate fits"
    assert iv["baseline"] == "<columns>" and iv["variants"][0]["label"] == "<vs 1>"
    assert iv["bootstrap"] == {"resamples": 200, "seed": 0}
    assert iv["variants"][0]["fit"]["n_runs"] == 63
    assert "intervention" not in iv["variants"][0]["fit"]
    json.dumps(d, allow_nan=False)


def test_budgets_given_as_range_or_list():
    base, var = runs(BASELINE, 1), runs(SCALED, 2)
    r = fit(base, vs=var, budgets="1e18:1e22:5")
    v = r.intervention.variants[0]
    assert [p.flops for p in v.points] == pytest.approx([1e18, 1e19, 1e20, 1e21, 1e22])
    assert r.intervention.budgets_given
    r = fit(base, vs=var, budgets=[3e20, 1e19])
    assert [p.flops for p in r.intervention.variants[0].points] == [1e19, 3e20]


def test_several_variants_each_against_the_baseline():
    r = fit(runs(BASELINE, 1), vs=[runs(SCALED, 2), runs(STEEPER, 3)])
    labels = [v.label for v in r.intervention.variants]
    assert labels == ["<vs 1>", "<vs 2>"]
    assert r.intervention.variants[1].crossovers


def test_unbounded_multiplier_is_null_with_a_reason():
    lower = ParametricLaw("lower", 1.55, BASELINE.A, BASELINE.B, 0.34, 0.28)
    r = fit(runs(BASELINE, 1), vs=runs(lower, 2), budgets=[1e19, 1e29])
    p = r.intervention.variants[0].points
    assert p[0].multiplier is not None and p[1].multiplier is None
    d = r.to_dict()["intervention"]["variants"][0]["budgets"][1]
    assert d["multiplier"] is None and "E" in d["note"]
    assert any("unbounded" in w for w in r.intervention.warnings)


def test_progress_reaches_the_total():
    seen: list[int] = []
    fit(runs(BASELINE, 1), vs=runs(SCALED, 2), bootstrap=20, shared="E", progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 20


# ---- one E shared ---------------------------------------------------------------------


def test_shared_e_fit_matches_the_grid_search():
    """The joint fit started from the groups' own fits lands where fit_shared_e's
    constrained grid search does."""
    groups = [runs(BASELINE, 1), runs(STEEPER, 2)]
    own = [fit_parametric(*(np.array(g[k]) for k in ("params", "tokens", "loss"))) for g in groups]
    logs = [LogRuns.of(*(np.array(g[k]) for k in ("params", "tokens", "loss"))) for g in groups]
    fast, slow = shared_e_from(own, logs), fit_shared_e(logs)
    assert fast.E == pytest.approx(slow.E, rel=1e-6)
    assert fast.objective == pytest.approx(slow.objective, rel=1e-9)
    assert fast.separate == pytest.approx(slow.separate, rel=1e-9)


def test_shared_e_bootstrap_batch_equals_one_refit_per_resample():
    """The batched refits (every part holding all runs, the others weighted 0) land where
    refitting each resample on its own does."""
    groups = [runs(BASELINE, 1), runs(STEEPER, 2)]
    cols = [[np.array(g[k]) for k in ("params", "tokens", "loss")] for g in groups]
    joint = shared_e_from([fit_parametric(*c) for c in cols], [LogRuns.of(*c) for c in cols])
    batch = bootstrap_shared_e(joint, [LogRuns.of(*c) for c in cols], 5, seed=3)
    rng = np.random.default_rng(3)
    for k in range(5):
        drawn = []
        for c in cols:
            n = len(c[2])
            drawn.append(LogRuns.of(*c).reweighted(np.bincount(rng.integers(0, n, n), minlength=n)))
        laws = refit_shared_e(joint, drawn)
        for i, law in enumerate(laws):
            want = [law.E, law.A, law.B, law.alpha, law.beta]
            assert batch[k, i] == pytest.approx(want, rel=1e-5)


def test_shared_e_when_the_change_keeps_e():
    r = fit(runs(BASELINE, 1), vs=runs(STEEPER, 2), shared="E", bootstrap=100)
    iv = r.intervention
    s = iv.shared
    assert iv.multipliers_from == "shared E"
    assert s.fit.E == pytest.approx(1.69, abs=0.02)
    assert s.e_interval[0] < 1.69 < s.e_interval[1]
    assert 0 <= s.extra_fraction < 0.02  # sharing a true common E costs little
    assert [h.label for h in s.held_out] == ["<columns>", "<vs 1>"]
    for h in s.held_out:
        assert h.n_held_out == 7 and h.rmse_shared < 0.01
    assert iv.baseline_law.E == iv.variants[0].law.E == s.fit.E
    d = r.to_dict()["intervention"]["shared_e"]
    assert set(d) >= {"E", "objective", "separate_objective", "held_out", "laws"}


def test_shared_e_fits_worse_when_e_differs():
    moved = ParametricLaw("moved", 1.90, BASELINE.A, BASELINE.B, 0.34, 0.28)
    s = fit(runs(BASELINE, 1), vs=runs(moved, 2), shared="E").intervention.shared
    assert s.extra_fraction > 0.2  # against 0.2% when E is truly shared
    assert s.pooled(True) > 2 * s.pooled(False)  # and it extrapolates worse
    assert all(h.rmse_shared > 2 * h.rmse_separate for h in s.held_out)


# ---- the command -------------------------------------------------------------------------

BASE = str(EXAMPLES / "intervention_baseline.csv")
VARIANT = str(EXAMPLES / "intervention_variant.csv")


def test_examples_are_the_generated_runs(tmp_path):
    from synthetic_interventions import main

    assert Path(BASE).read_text() == write_csv(runs(BASELINE, 1), tmp_path / "b.csv").read_text()
    assert Path(VARIANT).read_text() == write_csv(runs(STEEPER, 2), tmp_path / "v.csv").read_text()
    assert callable(main)


def test_json_equals_the_library(run_json):
    args = ["--bootstrap", "30", "--shared", "E", "--budgets", "1e18,1e22"]
    got = run_json("fit", BASE, "--vs", VARIANT, *args)
    report = fit(BASE, vs=[VARIANT], bootstrap=30, shared="E", budgets="1e18,1e22")
    want = {**report.to_dict(), "saved": None, "plot": None}  # the command's files
    assert got == json.loads(json.dumps(want))


def test_group_column_splits_one_file(tmp_path, run_json):
    path = tmp_path / "arms.csv"
    rows = ["arm,params,tokens,loss"]
    for arm, f in (("new", VARIANT), ("old", BASE)):
        rows += [f"{arm},{line}" for line in Path(f).read_text().splitlines()[1:]]
    path.write_text("\n".join(rows) + "\n")
    got = run_json("fit", str(path), "--group", "arm", "--baseline", "old")
    iv = got["intervention"]
    assert iv["group_col"] == "arm" and iv["baseline"] == "old"
    assert [v["label"] for v in iv["variants"]] == ["new"]
    assert got["runs"]["source"] == f"{path} [arm = old]"
    assert got["runs"]["read"] == 63 and got["n_runs"] == 63
    files = run_json("fit", BASE, "--vs", VARIANT)["intervention"]["variants"][0]["budgets"]
    assert iv["variants"][0]["budgets"] == files
    first = run_json("fit", str(path), "--group", "arm")["intervention"]
    assert first["baseline"] == "new"  # the first value in the file


def test_group_column_errors_name_the_line(tmp_path, run):
    path = tmp_path / "arms.csv"
    lines = Path(BASE).read_text().splitlines()
    body = [f"a,{x}" for x in lines[1:30]] + [f",{lines[30]}"] + [f"b,{x}" for x in lines[31:]]
    path.write_text("\n".join(["arm," + lines[0], *body]) + "\n")
    r = run("fit", str(path), "--group", "arm")
    assert r.exit_code == 2
    assert r.stderr.strip() == (
        f"chinchilla fit: error: --group: {path}:31: the 'arm' cell is empty; "
        "every run needs its group"
    )


def test_text_view(run):
    r = run("fit", BASE, "--vs", VARIANT, "--shared", "E")
    assert r.exit_code == 0, r.stderr
    out = r.stdout
    assert "Effective compute multiplier" in out
    assert "crossover at" in out and "(within the data)" in out
    assert "One E for every group (--shared E)" in out
    assert "10x beyond" in out and "100x beyond" in out


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--vs", VARIANT, "--shared", "A"], "--shared"),
        (["--shared", "E"], "--shared"),
        (["--budgets", "1e20"], "--budgets"),
        (["--baseline", "x"], "--baseline"),
        (["--vs", VARIANT, "--group", "arm"], "--group"),
        (["--group", "nope"], "--group"),
        (["--vs", VARIANT, "--approach", "isoflop"], "--approach"),
        (["--vs", VARIANT, "--budgets", "1e18:1e20"], "--budgets"),
        (["--vs", VARIANT, "--shared", "E", "--tie", "alpha=beta"], "--shared"),
        (["--vs", VARIANT, "--save", "x.yaml"], "--save"),
    ],
)
def test_refused_in_one_line(run, args, option):
    r = run("fit", BASE, *args)
    assert r.exit_code == 2, r.stdout
    line = r.stderr.strip()
    assert "\n" not in line and option in line, line


def test_bad_variant_file_names_its_line(tmp_path, run):
    bad = tmp_path / "bad.csv"
    lines = Path(VARIANT).read_text().splitlines()
    lines[5] = "1e8,2e9,oops"
    bad.write_text("\n".join(lines) + "\n")
    r = run("fit", BASE, "--vs", str(bad))
    assert r.exit_code == 2
    assert r.stderr.strip().startswith(f"chinchilla fit: error: {bad}:6: column 'loss'")
    r = run("fit", BASE, "--vs", str(tmp_path / "missing.csv"))
    assert r.exit_code == 2 and "no such file" in r.stderr


def test_library_refuses_in_arguments():
    with pytest.raises(InputError) as e:
        fit(params=[1e8] * 20, tokens=[1e9] * 20, loss=[3.0] * 20, group="arm")
    assert e.value.field == "runs"
    with pytest.raises(InputError) as e:
        fit(BASE, vs=VARIANT, budgets=[])
    assert e.value.field == "budgets"
    with pytest.raises(InputError) as e:
        fit(str(DATA / "svg_extracted_data.csv"), vs=VARIANT, approach="isoflop")
    assert e.value.field == "approach"


def test_plot_is_written(tmp_path, run):
    pytest.importorskip("matplotlib")
    out = tmp_path / "cmp.png"
    r = run("fit", BASE, "--vs", VARIANT, "--bootstrap", "20", "--plot", str(out), "--json")
    assert r.exit_code == 0, r.stderr
    assert out.stat().st_size > 10_000
    assert json.loads(r.stdout)["plot"] == str(out)
