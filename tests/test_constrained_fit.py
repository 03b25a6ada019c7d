"""Constrained forms of Approach 3: fixed and tied parameters, and one E shared by
several groups of runs."""

import json

import numpy as np
import pytest

from chinchilla_cli import InputError, fit
from chinchilla_cli.approach3 import fit_parametric
from chinchilla_cli.fit_constraints import constraints_from
from chinchilla_cli.laws import ParametricLaw
from chinchilla_cli.objective import LogRuns
from chinchilla_cli.shared_e import fit_shared_e


def _runs(law, m=150, n_span=(5e7, 2e10), d_span=(1e9, 5e11), noise=0.002, seed=0):
    rng = np.random.default_rng(seed)
    n = np.exp(rng.uniform(*np.log(n_span), m))
    d = np.exp(rng.uniform(*np.log(d_span), m))
    loss = (law.E + law.A / n**law.alpha + law.B / d**law.beta) * np.exp(rng.normal(0, noise, m))
    return n, d, loss


def test_fixed_e_recovers_the_rest():
    truth = ParametricLaw("t", 1.69, 406.4, 410.7, 0.34, 0.28)
    n, d, loss = _runs(truth)
    f = fit_parametric(n, d, loss, constraints=constraints_from({"E": 1.69}))
    assert f.converged and f.law.E == 1.69
    assert f.law.alpha == pytest.approx(0.34, rel=0.05)
    assert f.law.beta == pytest.approx(0.28, rel=0.05)
    assert f.law.A == pytest.approx(406.4, rel=0.3)


def test_fixed_exponent_recovers_the_rest():
    truth = ParametricLaw("t", 2.2, 900.0, 3000.0, 0.45, 0.40)
    n, d, loss = _runs(truth, seed=1)
    f = fit_parametric(n, d, loss, constraints=constraints_from(["alpha=0.45"]))
    assert f.law.alpha == 0.45
    assert f.law.E == pytest.approx(2.2, rel=0.02)
    assert f.law.beta == pytest.approx(0.40, rel=0.05)


def test_tie_recovers_a_shared_exponent_from_a_narrow_sweep():
    # N spans only 6x: alpha and beta cannot be separated, but tied they are one number
    truth = ParametricLaw("t", 1.69, 406.4, 410.7, 0.30, 0.30)
    n, d, loss = _runs(truth, n_span=(5e7, 3e8), seed=2)
    tied = fit_parametric(n, d, loss, constraints=constraints_from({"E": 1.69}, ["alpha=beta"]))
    assert tied.law.alpha == tied.law.beta == pytest.approx(0.30, abs=0.01)
    report = fit(params=n, tokens=d, loss=loss, fix={"E": 1.69}, tie=[("alpha", "beta")])
    assert report.law.alpha == pytest.approx(tied.law.alpha, rel=1e-9)
    assert not any("`tie`" in w for w in report.warnings)  # already tied: no suggestion


def test_a_tie_is_one_parameter_not_two_that_agree():
    """Tied parameters come out of the fit as one number (exactly equal), fixed ones as
    given, A = B as alpha = beta, in the fit and in every bootstrap refit."""
    truth = ParametricLaw("t", 1.9, 700.0, 700.0, 0.36, 0.31)
    n, d, loss = _runs(truth, m=80, seed=5)
    f = fit_parametric(n, d, loss, constraints=constraints_from(None, ["A=B"]))
    assert f.law.A == f.law.B and f.theta[0] == f.theta[1]
    assert f.law.A == pytest.approx(700.0, rel=0.3)
    report = fit(params=n, tokens=d, loss=loss, tie=["beta=alpha"], fix=["E=1.9"], bootstrap=4)
    assert report.law.alpha == report.law.beta and report.law.E == 1.9
    assert report.samples is not None
    assert np.array_equal(report.samples[:, 3], report.samples[:, 4])


def test_narrow_sweep_warning_suggests_the_tie(run, tmp_path):
    truth = ParametricLaw("t", 1.69, 406.4, 410.7, 0.30, 0.30)
    n, d, loss = _runs(truth, m=60, n_span=(5e7, 3e8), seed=3)
    report = fit(params=n, tokens=d, loss=loss)
    assert any("`tie` alpha=beta" in w for w in report.warnings)
    path = tmp_path / "narrow.csv"
    rows = ["params,tokens,loss"] + [
        f"{a:.6g},{b:.6g},{c:.6g}" for a, b, c in zip(n, d, loss, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")
    r = run("fit", str(path))
    assert "--tie alpha=beta" in " ".join(r.stdout.split())


def test_cli_fix_and_tie_json(run_json):
    d = run_json(
        "fit",
        "tests/data/svg_extracted_data.csv",
        "--max-loss",
        "3.42",
        "--fix",
        "E=1.8",
        "--tie",
        "alpha=beta",
    )
    assert d["params"]["E"] == 1.8
    assert d["params"]["alpha"] == d["params"]["beta"]  # one parameter: equal to the last bit
    assert d["optimizer"]["fixed"] == {"E": 1.8}
    assert d["optimizer"]["tied"] == [["alpha", "beta"]]


def test_bootstrap_keeps_the_constraints():
    truth = ParametricLaw("t", 1.69, 406.4, 410.7, 0.34, 0.28)
    n, d, loss = _runs(truth, m=80, seed=4)
    report = fit(params=n, tokens=d, loss=loss, fix=["E=1.69"], tie=["alpha=beta"], bootstrap=8)
    s = report.samples
    assert s is not None and np.all(s[:, 0] == pytest.approx(1.69))
    assert np.allclose(s[:, 3], s[:, 4])


@pytest.mark.parametrize(
    "args, message",
    [
        (["--fix", "E"], "--fix: 'E' is not NAME=VALUE"),
        (["--fix", "E=abc"], "--fix: E='abc': the value is not a number"),
        (["--fix", "E=-1"], "--fix: E=-1: the value must be a positive number"),
        (["--fix", "gamma=1"], "--fix: unknown parameter 'gamma'"),
        (["--tie", "alpha=E"], "--tie: cannot tie alpha to E"),
        (["--tie", "alpha"], "--tie: 'alpha' is not NAME=NAME"),
        (["--fix", "alpha=0.3", "--tie", "alpha=beta"], "--tie: alpha is both fixed"),
        (
            ["--fix", "E=1", "--fix", "A=1", "--fix", "B=1", "--fix", "alpha=1", "--fix", "beta=1"],
            "--fix: every parameter is fixed",
        ),
        (["--approach", "isoflop", "--tie", "alpha=beta"], "shape the parametric fit"),
    ],
)
def test_bad_fix_and_tie_are_one_line(run, args, message):
    r = run("fit", "tests/data/svg_extracted_data.csv", *args)
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], r.stderr


def test_library_errors_name_the_argument():
    with pytest.raises(InputError) as e:
        constraints_from({"E": 0})
    assert e.value.field == "fix"
    with pytest.raises(InputError) as e:
        constraints_from(None, [("alpha", "A")])
    assert e.value.field == "tie"


def test_shared_e_recovers_a_known_e():
    a = _runs(ParametricLaw("x", 1.8, 400.0, 410.0, 0.34, 0.28), m=120, seed=5)
    b = _runs(ParametricLaw("y", 1.8, 900.0, 3000.0, 0.45, 0.40), m=120, seed=6)
    shared = fit_shared_e([LogRuns.of(*a), LogRuns.of(*b)], names=["x", "y"])
    assert shared.converged
    assert shared.E == pytest.approx(1.8, rel=0.01)
    assert [law.name for law in shared.laws] == ["x", "y"]
    assert all(law.E == shared.E for law in shared.laws)
    assert shared.laws[0].alpha == pytest.approx(0.34, rel=0.05)
    assert shared.laws[1].beta == pytest.approx(0.40, rel=0.05)
    # one E for two groups can only cost objective, never gain it
    assert shared.objective >= shared.separate * (1 - 1e-9)
    assert shared.objective == pytest.approx(sum(shared.objectives), rel=1e-9)
    d = shared.to_dict()
    assert json.dumps(d) and d["E"] == shared.E and len(d["laws"]) == 2


def test_shared_e_takes_tables_of_runs_and_needs_two_groups():
    from chinchilla_cli.read_options import ReadOptions
    from chinchilla_cli.runs import read_runs

    table = read_runs("tests/data/svg_extracted_data.csv", ReadOptions(max_loss=3.42))
    with pytest.raises(InputError):
        fit_shared_e([table])
    half = len(table.params) // 2
    first = LogRuns.of(table.params[:half], table.tokens[:half], table.loss[:half])
    shared = fit_shared_e([first, table])
    assert shared.E > 0 and len(shared.laws) == 2
