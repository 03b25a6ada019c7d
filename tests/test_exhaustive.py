"""`fit --exhaustive`: every start of the paper's grid run to convergence."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from chinchilla_cli import fit
from chinchilla_cli.approach3 import fit_parametric
from chinchilla_cli.fit_constraints import subspace
from chinchilla_cli.grid_search import paper_grid, polish_many
from chinchilla_cli.laws import ParametricLaw
from chinchilla_cli.newton import (
    COARSE,
    GTOL,
    MAX_ITER,
    PRECISE,
    RESUME,
    _newton,
    _trust_step,
    minimise,
)
from chinchilla_cli.objective import LogRuns, objective, scaled_derivatives, scaled_value
from chinchilla_cli.read_options import ReadOptions  # noqa: E402
from chinchilla_cli.runs import read_runs

DATA = Path(__file__).parent / "data"
SVG = str(DATA / "svg_extracted_data.csv")
LLAMA3 = str(DATA / "llama3_isoflops_points.csv")


@pytest.fixture(scope="module")
def svg_runs():
    return read_runs(SVG, ReadOptions(max_loss=3.42))


@pytest.fixture(scope="module")
def exhaustive(svg_runs):
    return fit_parametric(svg_runs.params, svg_runs.tokens, svg_runs.loss, exhaustive=True)


def test_reaches_the_paper_recipe_optimum(exhaustive):
    law = exhaustive.law
    assert law.E == pytest.approx(1.8172, abs=1e-4)
    assert law.A == pytest.approx(477.8, rel=5e-4)
    assert law.B == pytest.approx(2143, rel=5e-4)
    assert law.alpha == pytest.approx(0.3473, abs=1e-4)
    assert law.beta == pytest.approx(0.3672, abs=1e-4)
    assert exhaustive.converged


def test_census_counts_every_start(exhaustive):
    c = exhaustive.census
    assert c is not None and c.n_starts == 4500 == exhaustive.starts_polished
    assert 0 < c.starts_at_best <= c.n_converged <= c.n_starts
    assert c.n_optima >= len(c.optima) >= 1
    assert c.optima[0].objective == exhaustive.objective
    objectives = [o.objective for o in c.optima]
    assert objectives == sorted(objectives)
    # the start it reports is a grid point that reached the best optimum
    assert any(np.allclose(exhaustive.start, s) for s in paper_grid())


def _scipy_tight(theta0, runs, delta=1e-3):
    """scipy's L-BFGS-B to convergence on the scale-free objective (as the tests' ruler)."""
    from scipy.optimize import minimize

    def scaled(th):
        f, g = objective(th, runs, delta)
        return f / delta, g / delta

    opts = {"gtol": 1e-10, "ftol": 1e-15, "maxiter": 5000}
    r = minimize(scaled, theta0, jac=True, method="L-BFGS-B", options=opts)
    return float(r.fun) * delta, np.asarray(r.x)


def test_agrees_with_scipy_polish_of_its_best_start(svg_runs, exhaustive):
    runs = LogRuns.of(svg_runs.params, svg_runs.tokens, svg_runs.loss)
    from_start, _ = _scipy_tight(exhaustive.start, runs)
    assert exhaustive.objective == pytest.approx(from_start, rel=1e-9)
    # and scipy, started at the optimum itself, finds nothing lower
    at_optimum, theta = _scipy_tight(exhaustive.theta, runs)
    assert exhaustive.objective <= at_optimum * (1 + 1e-9)
    assert np.allclose(theta, exhaustive.theta, atol=1e-4)


def test_gradient_at_the_optimum_is_zero(svg_runs, exhaustive):
    runs = LogRuns.of(svg_runs.params, svg_runs.tokens, svg_runs.loss)
    _, g = objective(exhaustive.theta, runs)
    # GTOL holds in standardised coordinates; theta's differ by up to the spread of log N
    assert np.abs(g / 1e-3).max() < 1e4 * GTOL


def test_finds_the_screened_optimum(svg_runs, exhaustive):
    screened = fit_parametric(svg_runs.params, svg_runs.tokens, svg_runs.loss)
    assert screened.census is None
    assert screened.objective == pytest.approx(exhaustive.objective, rel=1e-9)
    assert np.allclose(screened.theta, exhaustive.theta, atol=1e-5)


def test_screen_is_no_worse_on_generated_runs():
    """Where every start finds a lower objective than the screened fit, the screen is
    wrong; on generated data of several shapes it is not."""
    truth = ParametricLaw("t", 2.2, 900.0, 3000.0, 0.45, 0.40)
    rng = np.random.default_rng(5)
    m = 40
    n = np.exp(rng.uniform(np.log(5e7), np.log(2e10), m))
    d = np.exp(rng.uniform(np.log(1e9), np.log(5e11), m))
    loss = (truth.E + truth.A / n**truth.alpha + truth.B / d**truth.beta) * np.exp(
        rng.normal(0, 0.005, m)
    )
    every = fit_parametric(n, d, loss, exhaustive=True)
    screened = fit_parametric(n, d, loss)
    assert screened.objective <= every.objective * (1 + 1e-9)


def test_batched_polish_matches_one_by_one(svg_runs):
    runs = LogRuns.of(svg_runs.params, svg_runs.tokens, svg_runs.loss)
    starts = paper_grid()[[0, 777, 2222, 4499]]
    together = polish_many(starts, runs)
    for s, p in zip(starts, together, strict=True):
        alone = polish_many(s[None, :], runs)[0]
        assert alone.objective == pytest.approx(p.objective, rel=1e-12)


def test_default_fit_does_not_import_scipy():
    code = (
        "import sys; from chinchilla_cli import fit; "
        f"fit({SVG!r}, max_loss=3.42, bootstrap=20); "
        "print('scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _small_runs(tmp_path):
    law = ParametricLaw("t", 1.69, 406.4, 410.7, 0.34, 0.28)
    rng = np.random.default_rng(2)
    n = np.exp(rng.uniform(np.log(5e7), np.log(2e10), 30))
    d = np.exp(rng.uniform(np.log(1e9), np.log(5e11), 30))
    loss = (law.E + law.A / n**law.alpha + law.B / d**law.beta) * np.exp(rng.normal(0, 0.003, 30))
    path = tmp_path / "runs.csv"
    rows = ["params,tokens,loss"] + [
        f"{a:.6g},{b:.6g},{c:.6g}" for a, b, c in zip(n, d, loss, strict=True)
    ]
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def test_exhaustive_json_and_view(run, tmp_path):
    path = _small_runs(tmp_path)
    r = run("fit", path, "--exhaustive", "--json")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    ex = d["optimizer"]["exhaustive"]
    assert ex["starts"] == 4500 and ex["distinct_optima"] >= 1
    assert 1 <= ex["starts_at_best"] <= ex["converged"] <= 4500
    assert ex["optima"][0]["objective"] == pytest.approx(d["objective"])
    assert set(ex["optima"][0]["params"]) == {"E", "A", "B", "alpha", "beta"}
    # the API gives what the command prints; the census counts float32 solves, whose
    # last bits (and so a start or two at a basin's edge) may differ between runs
    again = fit(path, exhaustive=True).to_dict()["optimizer"]["exhaustive"]
    assert again["starts"] == ex["starts"]
    assert again["converged"] == pytest.approx(ex["converged"], abs=10)
    assert again["optima"][0]["objective"] == pytest.approx(ex["optima"][0]["objective"])
    human = run("fit", path, "--exhaustive")
    assert "distinct optima" in human.stdout and "starts at best" in human.stdout
    plain = json.loads(run("fit", path, "--json").stdout)
    assert plain["optimizer"]["exhaustive"] is None
    assert plain["objective"] == pytest.approx(d["objective"], rel=1e-9)


def test_approach_both_reports_each_held_out_error(run):
    r = run("fit", LLAMA3, "--approach", "both", "--json")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    cmp = d["comparison"]
    assert d["approach"] == "both" and d["params"] is not None and len(d["minima"]) == 10
    assert cmp["held_out_flops"] == pytest.approx(1e22, rel=0.01) and cmp["n_held_out"] == 6
    for name in ("parametric", "isoflop"):
        assert cmp[name]["predicted_params"] > 0
        assert abs(cmp[name]["params_log_error"]) < 1.0
    assert cmp["parametric"]["rmse_log_loss"] > 0 and cmp["isoflop"]["rmse_log_loss"] is None
    assert cmp["closer"] in ("parametric", "isoflop")
    human = run("fit", LLAMA3, "--approach", "both")
    assert "Held out: the largest budget" in human.stdout
    assert "Approach 2 (isoflop)" in human.stdout


def test_approach_both_without_budgets_says_why():
    # a grid of sizes x token counts: no two runs share a budget, so no IsoFLOP minima
    n, d = (
        x.ravel()
        for x in np.meshgrid(1e8 * np.array([1, 3.7, 13, 50]), 1e9 * np.array([1, 5.3, 29, 150]))
    )
    law = ParametricLaw("t", 1.69, 406.4, 410.7, 0.34, 0.28)
    loss = law.E + law.A / n**law.alpha + law.B / d**law.beta
    report = fit(params=n, tokens=d, loss=loss, approach="both")
    assert report.comparison is None and report.parametric is not None
    assert any("`approach` both" in w for w in report.warnings)


# ---- the batched Newton iteration's pieces -------------------------------------------


@pytest.mark.parametrize("path", [LLAMA3, str(DATA / "generated_training_log.csv")])
def test_every_start_finds_nothing_below_the_screen(path):
    """The screened default polishes 16 starts; were any of the 4,500 to end lower on a
    test data set, the screen would be wrong (svg: test_finds_the_screened_optimum)."""
    every, screened = fit(path, exhaustive=True).parametric, fit(path).parametric
    assert every is not None and screened is not None and every.census is not None
    assert every.census.n_converged == 4500
    assert every.objective >= screened.objective * (1 - 1e-9)


def _frame_runs(svg_runs):
    runs = LogRuns.of(svg_runs.params, svg_runs.tokens, svg_runs.loss)
    return runs, subspace(runs)


@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_and_hessian_are_the_objectives(svg_runs, weighted):
    """The kernel's analytic derivatives against central differences of its objective,
    in standardised coordinates, at points near and far from the optimum."""
    runs, space = _frame_runs(svg_runs)
    fr = space.part.frame
    rng = np.random.default_rng(3)
    w = rng.integers(0, 3, (3, len(runs.log_loss))).astype(float) if weighted else None
    theta = np.array(
        [[6.17, 7.67, 0.6, 0.35, 0.37], [8.0, 12.0, 0.2, 0.5, 0.6], [2.0, 3.0, 0.9, 0.1, 0.2]]
    )
    th = space.to_psi(theta)

    def f(x):
        return scaled_value(x, fr, 1e-3, w)[0]

    g, hess = scaled_derivatives(scaled_value(th, fr, 1e-3, w)[1], fr, 1e-3, w)
    h = 1e-6
    for i in range(5):
        e = np.zeros(5)
        e[i] = h
        num_g = (f(th + e) - f(th - e)) / (2 * h)
        assert np.allclose(g[:, i], num_g, rtol=1e-5, atol=1e-4 * np.abs(g).max())
        gp = scaled_derivatives(scaled_value(th + e, fr, 1e-3, w)[1], fr, 1e-3, w)[0]
        gm = scaled_derivatives(scaled_value(th - e, fr, 1e-3, w)[1], fr, 1e-3, w)[0]
        num_h = (gp - gm) / (2 * h)
        assert np.allclose(hess[:, i], num_h, rtol=1e-4, atol=1e-4 * np.abs(hess).max())
    assert np.array_equal(hess, hess.transpose(0, 2, 1))


def test_trust_step_solves_the_secular_equation():
    """Where the saddle-free Newton step -|H|^-1 g is longer than the radius, the step is
    -(|H| + mu)^-1 g with |step| = radius (bisection on mu as the ruler), else Newton's."""
    rng = np.random.default_rng(7)
    m = rng.normal(size=(400, 5, 5))
    hess = (m + m.transpose(0, 2, 1)) * 10.0 ** rng.uniform(-4, 3, (400, 1, 1))
    lam, vec = np.linalg.eigh(hess)
    g = rng.normal(size=(400, 5)) * 10.0 ** rng.uniform(-3, 2, (400, 1))
    radius = 10.0 ** rng.uniform(-4, 1, 400)
    step, predicted, length, _ = _trust_step(g, lam, vec, radius)
    gv = np.einsum("si,sij->sj", g, vec)
    curv = np.abs(lam) + 1e-12 * (1 + np.abs(lam).max(axis=1, keepdims=True))
    newton = np.linalg.norm(gv / curv, axis=1)
    inside = newton <= radius
    assert np.allclose(length, np.linalg.norm(step, axis=1))
    assert np.allclose(step[inside], -np.einsum("sij,sj->si", vec, gv / curv)[inside])
    lo, hi = np.zeros(400), np.full(400, 1e12)
    for _ in range(200):  # |s(mu)| falls with mu
        mid = 0.5 * (lo + hi)
        long = np.linalg.norm(gv / (curv + mid[:, None]), axis=1) > radius
        lo, hi = np.where(long, mid, lo), np.where(long, hi, mid)
    ruler = -np.einsum("sij,sj->si", vec, gv / (curv + hi[:, None]))
    assert np.allclose(length[~inside], radius[~inside], rtol=1e-6)
    assert np.allclose(step[~inside], ruler[~inside], rtol=1e-5, atol=1e-9 * radius.max())
    assert np.all(predicted > 0)


def test_a_plateau_float32_cannot_see_is_crossed_in_float64_then_float32(svg_runs):
    """From this start float32 stops after 17 iterations on the plateau of the 21.02
    optimum, where a term 1e-13 small grows by e per step and gains 1e-7 (relative) at
    first; float64 takes over until a step gains 1e-4, float32 resumes, and the start
    reaches the best optimum."""
    runs, space = _frame_runs(svg_runs)
    part = space.part
    psi0 = space.to_psi(np.array([[0.0, 0.0, -1.0, 1.0, 1.0]]))
    single = [replace(part, frame=part.frame.astype(np.float32))]
    coarse = _newton(psi0, single, 1e-3, None, MAX_ITER, COARSE)
    fine = _newton(coarse.psi, [part], 1e-3, None, MAX_ITER, PRECISE, None, RESUME)
    assert coarse.f[0] * 1e-3 == pytest.approx(0.0210238, rel=1e-5)
    assert fine.resume[0] and not fine.converged[0]
    assert coarse.f[0] - fine.f[0] > RESUME * coarse.f[0]
    done = minimise(psi0, [part], 1e-3)
    assert done.converged[0] and not done.resume[0]
    assert done.f[0] * 1e-3 == pytest.approx(0.00101827401780, rel=1e-9)


def test_batch_composition_does_not_change_a_start(svg_runs):
    """Starts finish and leave at different times (the batch compacts as they do): each
    start's result is the same in a batch of 60 as alone."""
    runs, _ = _frame_runs(svg_runs)
    starts = paper_grid()[::75]
    together = polish_many(starts, runs)
    for s, p in zip(starts[::6], together[::6], strict=True):
        alone = polish_many(s[None, :], runs)[0]
        assert alone.objective == pytest.approx(p.objective, rel=1e-9)
        assert alone.converged == p.converged
