"""Approach 3 and Approach 2 fits against the replication's published numbers."""

import json
from pathlib import Path

import numpy as np
import pytest

from chinchilla_cli.approach3 import bootstrap_parametric, fit_parametric
from chinchilla_cli.grid_search import best_of_grid, paper_grid, polish
from chinchilla_cli.isoflop import fit_isoflop
from chinchilla_cli.law_files import load_law
from chinchilla_cli.laws import ParametricLaw
from chinchilla_cli.objective import LogRuns, objective, objective_many
from chinchilla_cli.read_options import ReadOptions  # noqa: E402
from chinchilla_cli.runs import read_runs

DATA = Path(__file__).parent / "data"
SVG = str(DATA / "svg_extracted_data.csv")
LLAMA3 = str(DATA / "llama3_isoflops_points.csv")


@pytest.fixture(scope="module")
def svg_runs():
    return read_runs(SVG, ReadOptions(max_loss=3.42))


@pytest.fixture(scope="module")
def svg_fit(svg_runs):
    return fit_parametric(svg_runs.params, svg_runs.tokens, svg_runs.loss)


def test_reproduces_the_replication(svg_runs, svg_fit):
    assert svg_runs.n_kept == 240
    law = svg_fit.law
    assert law.E == pytest.approx(1.8172, abs=1e-4)
    assert law.A == pytest.approx(477.8, rel=5e-4)
    assert law.B == pytest.approx(2143, rel=5e-4)
    assert law.alpha == pytest.approx(0.3473, abs=1e-4)
    assert law.beta == pytest.approx(0.3672, abs=1e-4)
    assert law.a == pytest.approx(0.513, abs=1e-3)
    assert svg_fit.converged


def test_gradient_matches_finite_differences(svg_runs):
    runs = LogRuns.of(svg_runs.params, svg_runs.tokens, svg_runs.loss)
    theta = np.array([6.0, 7.5, 0.6, 0.33, 0.36])
    f, g = objective(theta, runs)
    for i in range(5):
        h = np.zeros(5)
        h[i] = 1e-7
        numeric = (objective(theta + h, runs)[0] - objective(theta - h, runs)[0]) / 2e-7
        assert g[i] == pytest.approx(numeric, rel=1e-4, abs=1e-9)
    many = objective_many(np.vstack([theta, theta + 0.1]), runs)
    assert many[0] == pytest.approx(f, rel=1e-12)


def test_objective_is_a_sum_not_a_mean(svg_runs):
    runs = LogRuns.of(svg_runs.params, svg_runs.tokens, svg_runs.loss)
    theta = np.array([6.0, 7.5, 0.6, 0.33, 0.36])
    doubled = LogRuns(
        *(np.concatenate([x, x]) for x in (runs.log_params, runs.log_tokens, runs.log_loss))
    )
    assert objective(theta, doubled)[0] == pytest.approx(2 * objective(theta, runs)[0])


def test_no_better_than_plain_recipe_from_best_starts(svg_runs, svg_fit):
    """The accelerated fit is at least as good as the plain recipe (scipy defaults) from
    the 60 most promising starts of the grid, which include the plain recipe's winner."""
    runs = LogRuns.of(svg_runs.params, svg_runs.tokens, svg_runs.loss)
    grid = paper_grid()
    best = np.argsort(objective_many(grid, runs))[:60]
    plain = min(polish(grid[i], runs, plain=True).objective for i in best)
    assert svg_fit.objective <= plain * (1 + 1e-9)


def test_bootstrap_warm_start_matches_full_refit(svg_runs, svg_fit):
    rng = np.random.default_rng(7)
    n = svg_runs.n_kept
    runs = LogRuns.of(svg_runs.params, svg_runs.tokens, svg_runs.loss)
    for _ in range(2):
        w = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        warm = polish(svg_fit.theta, runs.reweighted(w))
        full, _, _ = best_of_grid(runs.reweighted(w))
        assert warm.objective <= full.objective * (1 + 1e-8)
        assert np.allclose(warm.theta, full.theta, atol=1e-3)


def test_bootstrap_is_seeded(svg_runs, svg_fit):
    a = bootstrap_parametric(svg_fit, svg_runs.params, svg_runs.tokens, svg_runs.loss, 5, seed=1)
    b = bootstrap_parametric(svg_fit, svg_runs.params, svg_runs.tokens, svg_runs.loss, 5, seed=1)
    assert np.array_equal(a, b) and a.shape == (5, 5)


@pytest.mark.parametrize(
    "truth",
    [
        ParametricLaw("t1", 1.69, 406.4, 410.7, 0.34, 0.28),
        ParametricLaw("t2", 2.2, 900.0, 3000.0, 0.45, 0.40),
    ],
)
def test_recovers_a_known_law(truth):
    rng = np.random.default_rng(0)
    n = np.exp(rng.uniform(np.log(5e7), np.log(2e10), 150))
    d = np.exp(rng.uniform(np.log(1e9), np.log(5e11), 150))
    loss = np.array([truth.loss(a, b).total for a, b in zip(n, d, strict=True)]) * np.exp(
        rng.normal(0, 0.002, 150)
    )
    law = fit_parametric(n, d, loss).law
    assert law.E == pytest.approx(truth.E, rel=0.05)
    assert law.alpha == pytest.approx(truth.alpha, rel=0.1)
    assert law.beta == pytest.approx(truth.beta, rel=0.1)
    assert law.a == pytest.approx(truth.a, abs=0.03)


def test_isoflop_recovers_llama3_law():
    runs = read_runs(LLAMA3)
    iso = fit_isoflop(runs.params, runs.flops, runs.loss)
    assert len(iso.minima) == 10
    # Llama 3 paper: D* = 0.29 C^0.53 as printed; (0.299, 0.537) unrounded
    assert iso.b == pytest.approx(0.537, abs=0.005)
    assert iso.k_tokens == pytest.approx(0.299, rel=0.05)
    assert iso.a == pytest.approx(1 - iso.b, abs=1e-9)


# ---- the command ----------------------------------------------------------------


def test_fit_cli_json(run):
    r = run("fit", SVG, "--max-loss", "3.42", "--json")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["approach"] == "parametric" and d["n_runs"] == 240
    assert d["runs"] == {**d["runs"], "read": 245, "dropped": 5, "kept": 240}
    assert d["params"]["E"] == pytest.approx(1.8172, abs=1e-4)
    assert set(d["frontier"]) >= {"a", "b", "G"}
    assert d["converged"] is True and d["objective"] > 0
    assert d["ci"] is None
    assert set(d["tokens_per_param"]) == {"1e21", "5.76e23", "1e25"}
    assert isinstance(d["warnings"], list)


def test_fit_bootstrap_ci(run):
    r = run(
        "fit", SVG, "--max-loss", "3.42", "--bootstrap", "20", "--seed", "3", "--ci", "90", "--json"
    )
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    for k in ("E", "A", "B", "alpha", "beta", "a", "b", "tokens_per_param@5.76e23"):
        lo, hi = d["ci"][k]
        assert lo <= hi
    assert d["ci"]["E"][0] <= d["params"]["E"] <= d["ci"]["E"][1]
    assert d["ci_level"] == 90


def test_fit_save_then_plan_and_refuse_overwrite(run, run_json, tmp_path):
    out = tmp_path / "law.yaml"
    r = run("fit", SVG, "--max-loss", "3.42", "--bootstrap", "10", "--save", str(out))
    assert r.exit_code == 0, r.stderr
    law = load_law(str(out))
    assert law.name == "law" and law.E == pytest.approx(1.8172, abs=1e-4)
    assert len(law.samples) == 10
    plan = run_json("plan", "--flops", "5.76e23", "--law", str(out))
    assert plan["law"]["name"] == "law"
    before = out.read_text()
    again = run("fit", SVG, "--save", str(out))
    assert again.exit_code == 2 and "--force" in again.stderr
    assert out.read_text() == before
    forced = run("fit", SVG, "--max-loss", "3.42", "--save", str(out), "--force", "--name", "mine")
    assert forced.exit_code == 0 and load_law(str(out)).name == "mine"


def test_fit_from_stdin(run):
    text = Path(SVG).read_text()
    r = run("fit", "-", "--max-loss", "3.42", "--json", input=text)
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["n_runs"] == 240


def test_fit_isoflop_cli(run):
    r = run("fit", LLAMA3, "--approach", "isoflop", "--json")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["approach"] == "isoflop" and len(d["minima"]) == 10
    assert d["frontier"]["b"] == pytest.approx(0.537, abs=0.005)
    human = run("fit", LLAMA3, "--approach", "isoflop")
    assert "IsoFLOP minima" in human.stdout


def test_isoflop_skips_thin_budgets_with_warning(run, tmp_path):
    p = tmp_path / "runs.csv"
    rows = ["params,tokens,loss"]
    for c in (1e19, 1e20, 1e21):
        for n in (1e8, 2e8, 4e8, 8e8):
            rows.append(
                f"{n},{c / 6 / n},{3 + (np.log(n) - np.log(1e8 * (c / 1e19) ** 0.5)) ** 2 * 0.05}"
            )
    rows.append(f"1e9,{1e22 / 6e9},2.0")
    p.write_text("\n".join(rows) + "\n")
    d = json.loads(run("fit", str(p), "--approach", "isoflop", "--json").stdout)
    assert len(d["minima"]) == 3
    assert any("fewer than 3 model sizes" in w for w in d["warnings"])


@pytest.mark.parametrize(
    "args, needle",
    [
        (["missing.csv"], "missing.csv"),
        ([SVG, "--max-loss", "2.0"], "at least 10"),
        ([SVG, "--approach", "magic"], "isoflop"),
        ([SVG, "--loss-col", "nope"], "--loss-col"),
        ([SVG, "--bootstrap", "-1"], "--bootstrap"),
        ([SVG, "--ci", "120"], "--ci"),
    ],
)
def test_fit_bad_input(run, args, needle):
    r = run("fit", *args)
    assert r.exit_code == 2, r.output
    assert len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr
    assert "Traceback" not in r.output


def test_fit_that_fails_exits_1(run, tmp_path):
    """Loss that grows with model size and data has no law with positive exponents."""
    p = tmp_path / "backwards.csv"
    n = np.geomspace(1e8, 1e10, 30)
    d = np.geomspace(1e9, 1e11, 30)[::-1]
    rows = ["params,tokens,loss"] + [
        f"{a:.0f},{b:.0f},{1 + 0.05 * np.log(a * b):.5f}" for a, b in zip(n, d, strict=True)
    ]
    p.write_text("\n".join(rows) + "\n")
    r = run("fit", str(p))
    assert r.exit_code == 1, r.output
    assert len(r.stderr.strip().splitlines()) == 1 and "fit" in r.stderr
