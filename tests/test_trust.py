"""A plan you can trust: odd or absurd input is refused, or the answer says what is
wrong with it; nothing is printed calmly that the tool knows to be off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chinchilla_cli import fit, load_law, plan
from chinchilla_cli.errors import InputError

DATA = Path(__file__).parent / "data"
SVG = str(DATA / "svg_extracted_data.csv")


# ---------------------------------------------------------------- the sketch


def test_sketch_that_misses_the_plan_warns():
    p = plan(flops=1e18, arch="llama")
    assert any("architecture sketch has" in w and "from the planned" in w for w in p.warnings)
    assert not any("≈" in a for a in p.assumptions)


def test_sketch_that_fits_says_nothing():
    p = plan(flops=5.76e23)
    assert not any("architecture sketch" in w for w in p.warnings)


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"flops": 1e23, "arch": "llama", "kv_heads": 1000}, "kv_heads", "accepted: 1 to"),
        ({"flops": 1e23, "kv_heads": 4}, "kv_heads", "`arch` llama"),
        ({"flops": 1e23, "aspect_ratio": 1e9}, "aspect_ratio", "<= 1000"),
        ({"params": 0.5}, "params", "accepted: 1e+06 or more"),
        ({"tokens": 1}, "tokens", "accepted: 1e+06 or more"),
        ({"flops": 1e5}, "flops", "accepted: 6e+12 or more"),
        ({"flops": 1e23, "mfu": 0.5}, "mfu", "give `chips` or `deadline_days`"),
    ],
)
def test_impossible_or_meaningless_plans_are_refused(kwargs, field, text):
    with pytest.raises(InputError) as e:
        plan(**kwargs)
    assert e.value.field == field and text in e.value.message


def test_cli_prints_the_bounds(run):
    r = run("plan", "--flops", "1e5")
    assert r.exit_code == 2
    assert r.stderr.startswith("chinchilla plan: error: --flops: 100000 FLOPs is below 6e+12")


# ---------------------------------------------------------------- extrapolation


def test_preset_ranges_are_stated():
    for name in ("besiroglu2024", "hoffmann2022", "hoffmann2022-unrounded"):
        law = load_law(name)
        assert law.fit_range is not None and law.fit_range.flops is not None
    assert load_law("besiroglu2024").fit_range.flops == (1.40e18, 1.30e22)


def test_plan_beyond_the_fitted_runs_says_so(run_json):
    d = run_json("plan", "--flops", "1e25")
    assert d["within_fit_range"] is False
    assert any("extrapolations" in w for w in d["warnings"])
    d = run_json("plan", "--flops", "1e20")
    assert d["within_fit_range"] is True
    assert not any("extrapolations" in w for w in d["warnings"])


def _small_law(tmp_path):
    """A law fitted to runs that stop at 2.6e19 FLOPs and 0.9B parameters."""
    rows = fit(SVG, max_loss=3.42).runs
    keep = (rows.flops <= 2.6e19) & (rows.params <= 9e8)
    report = fit(params=rows.params[keep], tokens=rows.tokens[keep], loss=rows.loss[keep])
    path = report.save(tmp_path / "small.law.yaml")
    return report, path


def test_fitted_law_carries_its_range(tmp_path):
    report, path = _small_law(tmp_path)
    law = load_law(str(path))
    assert law.name == "small"  # not "small.law"
    assert law.fit_range is not None
    assert law.fit_range.flops[1] <= 2.6e19 and law.fit_range.params[1] <= 9e8
    assert report.to_dict()["warnings"]  # its own allocations at 5.76e23 and 1e25 warn
    assert any("extrapolate" in w for w in report.warnings)


def test_fitted_law_used_far_beyond_warns_everywhere(tmp_path, run_json):
    _, path = _small_law(tmp_path)
    d = run_json("plan", "--flops", "1e23", "--law", str(path))
    assert d["within_fit_range"] is False
    assert any("beyond the runs small was fitted to" in w for w in d["warnings"])
    assert "small" in [c["law"] for c in d["crosscheck"]]  # the chosen law faces the others
    c = run_json("compare", "gopher", "chinchilla", "--law", str(path))
    assert any("small extrapolates here" in n for n in c["notes"])


# ---------------------------------------------------------------- deadline


def test_deadline_beyond_any_cluster_warns(run_json):
    d = run_json("plan", "--flops", "1e23", "--deadline-days", "1e-9")
    assert any("largest training clusters" in w for w in d["warnings"])
    assert any("sequences" in w for w in d["warnings"])


# ---------------------------------------------------------------- fit options


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--bootstrap", "10", "--ci", "0.95"], "--ci: 0.95 reads as 0.95%"),
        (["--bootstrap", "1"], "--bootstrap: an interval needs at least 2"),
        (
            ["--bootstrap", "1e12"],
            "--bootstrap: 1e+12 is out of range; expected a number <=",
        ),
        (
            ["--approach", "isoflop", "--flops-tolerance", "100"],
            "--flops-tolerance: 100 would merge distinct budgets",
        ),
        (["--seed", "3"], "--seed: applies to the bootstrap intervals; give --bootstrap"),
        (["--approach", "isoflop", "--huber-delta", "0.01"], "--huber-delta: applies to"),
    ],
)
def test_fit_refuses_silent_nonsense(run, args, text):
    r = run("fit", SVG, "--max-loss", "3.42", *args)
    assert r.exit_code == 2, r.stdout
    assert text in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_fit_ci_did_you_mean():
    with pytest.raises(InputError, match="did you mean 95"):
        fit(SVG, bootstrap=10, ci=0.95)


def test_thin_bootstrap_warns():
    report = fit(SVG, max_loss=3.42, bootstrap=10)
    assert any("use `bootstrap` 40 or more" in w for w in report.warnings)


def test_isoflop_exponent_outside_unit_interval_warns():
    import numpy as np

    # budgets whose optimum shrinks as compute grows
    rng = np.random.default_rng(0)
    params, flops, loss = [], [], []
    for c, n_opt in ((1e19, 4e9), (1e20, 1e9), (1e21, 2.5e8)):
        for n in np.geomspace(n_opt / 8, n_opt * 8, 7):
            params.append(n)
            flops.append(c)
            loss.append(2 + 0.05 * np.log(n / n_opt) ** 2 + rng.normal(0, 1e-4))
    report = fit(params=params, flops=flops, loss=loss, approach="isoflop")
    assert any("outside (0, 1)" in w for w in report.warnings)


# ---------------------------------------------------------------- compare


def test_compare_refuses_duplicate_labels(run):
    r = run("compare", "a=7B@1T", "a=8B@1T")
    assert r.exit_code == 2 and "two runs are named 'a'" in r.stderr


# ---------------------------------------------------------------- N and D together


def test_params_and_tokens_together_cost_a_chosen_run(run_json):
    d = run_json("plan", "--params", "8B", "--tokens", "15T", "--chips", "1024")
    assert d["recommendation"] == "as-given"
    assert d["optimal"]["params"] == 8e9 and d["optimal"]["tokens"] == 15e12
    assert d["budget"]["flops"] == pytest.approx(6 * 8e9 * 15e12)
    assert 0 < d["compute_efficiency"] < 1
    assert d["compute_optimal"]["params"] > 8e9
    assert d["cost"]["chip_hours"] > 0 and d["feasibility"]["seconds"] > 0


# ---------------------------------------------------------------- output


def test_answer_first_and_brief(run):
    full = run("plan", "--chips", "1024", "--days", "30")
    assert full.stdout.startswith("Plan: Compute-optimal under besiroglu2024: ")
    brief = run("plan", "--chips", "1024", "--days", "30", "--brief")
    assert brief.exit_code == 0
    assert brief.stdout.startswith("Plan: ")
    assert len(brief.stdout.splitlines()) < 25 < len(full.stdout.splitlines())
    for word in (
        "compute",
        "parameters N",
        "loss",
        "sketch",
        "training memory",
        "wall-clock",
        "cost",
    ):
        assert word in brief.stdout


def test_piped_tables_have_no_trailing_spaces(run):
    for args in (
        ["plan", "--chips", "1024", "--days", "30"],
        ["compare", "gopher", "chinchilla"],
        ["sweep", "--budgets", "1e18:1e20:3"],
        ["fit", SVG, "--max-loss", "3.42"],
        ["presets"],
    ):
        out = run(*args).stdout
        assert out and not any(line != line.rstrip() for line in out.splitlines()), args


def test_bootstrap_leaves_stderr_empty_when_piped(run):
    r = run("fit", SVG, "--max-loss", "3.42", "--bootstrap", "20")
    assert r.exit_code == 0 and r.stderr == ""


def test_bare_command_prints_help_once(run):
    r = run()
    assert r.exit_code in (0, 2) and r.stdout.count("Usage:") == 1


def test_help_shows_what_numbers_take(run):
    for command in ("plan", "fit", "sweep"):
        text = run(command, "--help").stdout
        assert "<parse>" not in text and "PARSE" not in text
    plan_help = run("plan", "--help").stdout
    for metavar in ("FLOPS", "DAYS", "FRACTION"):
        assert metavar in plan_help


# ---------------------------------------------------------------- outputs together


def test_an_interrupted_fit_leaves_no_output(run, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from chinchilla_cli.plots import fit as fit_plots

    def broken(plt, report):
        raise ValueError("no figure today")

    monkeypatch.setattr(fit_plots, "fit_figure", broken)
    save, figure = tmp_path / "law.yaml", tmp_path / "fit.png"
    r = run("fit", SVG, "--max-loss", "3.42", "--save", str(save), "--plot", str(figure))
    assert r.exit_code == 2 and "--plot: cannot draw this fit" in r.stderr
    assert not save.exists() and not figure.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary files either


def test_sweep_outputs_appear_together(run, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from chinchilla_cli.plots import sweep as sweep_plots

    def broken(plt, sw):
        raise ValueError("no figure today")

    monkeypatch.setattr(sweep_plots, "sweep_figure", broken)
    csv, figure = tmp_path / "grid.csv", tmp_path / "grid.png"
    r = run("sweep", "--budgets", "1e18:1e20:3", "--csv", str(csv), "--plot", str(figure))
    assert r.exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_json_keys_for_trust(run_json):
    d = run_json("plan", "--flops", "1e22")
    for key in ("recommendation", "compute_optimal", "compute_efficiency", "within_fit_range"):
        assert key in d
    json.dumps(d)


# ---------------------------------------------------------------- fuzzing the silent cases

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    log_flops=st.floats(12.5, 29.5),
    arch=st.sampled_from([None, "llama"]),
    aspect=st.one_of(st.none(), st.floats(4, 1000)),
    law=st.sampled_from(["besiroglu2024", "hoffmann2022", "kaplan2020", "llama3-2024"]),
)
def test_a_plan_never_misdescribes_itself_silently(log_flops, arch, aspect, law):
    """Whatever the input, an accepted plan either holds together or says what does not."""
    try:
        p = plan(flops=10**log_flops, arch=arch, aspect_ratio=aspect, law=law)
    except InputError:
        return
    text = " ".join(p.warnings)
    if abs(p.architecture.params / p.optimal.params - 1) > 0.10:
        assert "architecture sketch has" in text
    if p.within_fit_range is False:
        assert "extrapolations" in text
    assert p.budget.flops == pytest.approx(p.optimal.flops, rel=1e-9)
