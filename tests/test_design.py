"""The next runs to train (`chinchilla sweep --from RUNS --target C`), proved by simulation:
from a known law (Hoffmann et al. 2022 eq. 10) and noisy IsoFLOP runs, the suggested runs
narrow N_opt at a far budget more than the same compute spent on a standard IsoFLOP grid
of the same number of runs. Seeded, with tolerances."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from chinchilla_cli import fit
from chinchilla_cli.calibration import information
from chinchilla_cli.design import suggest_runs, target_gradient, target_log, variance_of
from chinchilla_cli.errors import InputError
from chinchilla_cli.laws import ParametricLaw
from chinchilla_cli.objective import LogRuns, law_from_theta

ROOT = Path(__file__).resolve().parent.parent
REPLICATION = str(ROOT / "tests" / "data" / "svg_extracted_data.csv")
TRUTH = ParametricLaw("truth", 1.69, 406.4, 410.7, 0.34, 0.28)
NOISE = 0.005  # sd of log loss
TARGET = 1e23


def isoflop(budgets, sizes, span=16.0):
    """A standard IsoFLOP grid: `sizes` runs per budget, log-even over `span` in N around
    the true optimum."""
    n = np.concatenate(
        [TRUTH.optimal_params(c) * span ** np.linspace(-0.5, 0.5, sizes) for c in budgets]
    )
    c = np.repeat(budgets, sizes)
    return n, c / (6 * n)


def noisy(params, tokens, rng):
    loss = np.array([TRUTH.loss(n, d).total for n, d in zip(params, tokens, strict=True)])
    return loss * np.exp(rng.normal(0.0, NOISE, loss.shape))


BASE_BUDGETS = [1e17, 1e18, 1e19]
BASE_SIZES = 5
K = 8
MAX_FLOPS = 1e21


def base_fit(seed):
    params, tokens = isoflop(BASE_BUDGETS, BASE_SIZES)
    loss = noisy(params, tokens, np.random.default_rng(seed))
    return params, tokens, fit(params=params, tokens=tokens, loss=loss)


@pytest.fixture(scope="module")
def base():
    return base_fit(0)


def spread(report, params, tokens, extra, seed, repeats=150, narrow="nopt"):
    """RMSE of log N_opt(TARGET) (or of the log loss there) over refits of fresh noisy
    losses of the runs plus `extra` (the base runs draw the same noise whatever is added:
    common random numbers)."""
    n = np.concatenate([params, extra[0]])
    d = np.concatenate([tokens, extra[1]])
    rng = np.random.default_rng(seed)
    truth = target_log(TRUTH, TARGET, narrow)
    errors = []
    for _ in range(repeats):
        theta = report.parametric.refit(LogRuns.of(n, d, noisy(n, d, rng))).theta
        errors.append(target_log(law_from_theta(theta), TARGET, narrow) - truth)
    return math.sqrt(float(np.mean(np.square(errors))))


# one seed on every run; the others (2 s each) with the slow tests in CI
@pytest.mark.parametrize(
    "seed", [0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow)]
)
def test_suggested_runs_narrow_n_opt_more_than_an_isoflop_grid(seed):
    """15 runs (3 budgets x 5 sizes, 0.5% noise) fitted; 8 runs of at most 1e21 FLOPs
    suggested to pin N_opt at 1e23; an IsoFLOP grid of 8 sizes over 16x in N at one
    budget spends the same compute. Fresh noise, refitted 150 times: the suggested runs
    leave N_opt at least 5% tighter (RMSE of log N_opt against the truth)."""
    params, tokens, report = base_fit(seed)
    s = suggest_runs(report, target_flops=TARGET, n_runs=K, max_flops=MAX_FLOPS)
    assert len(s.runs) == K and all(r.flops <= MAX_FLOPS * (1 + 1e-9) for r in s.runs)
    design = (np.array([r.params for r in s.runs]), np.array([r.tokens for r in s.runs]))
    grid = isoflop([s.total_flops / K], K)  # the same compute, one budget, K sizes
    assert 6 * float(np.sum(grid[0] * grid[1])) == pytest.approx(s.total_flops, rel=1e-9)
    # the interval it predicts, before and after, and against the grid's (linearised)
    law, sd = report.law, report.noise.log_loss_sd
    grad = target_gradient(law, TARGET, "nopt")
    info = information(law, params, tokens, sd)
    with_grid = variance_of(grad, info + information(law, *grid, sd))
    with_design = variance_of(grad, info + information(law, *design, sd))
    assert s.after[1] / s.after[0] < s.before[1] / s.before[0]
    assert math.log(s.after[1] / s.after[0]) == pytest.approx(
        2 * 1.959964 * math.sqrt(with_design), rel=1e-4
    )
    assert with_design < 0.95 * with_grid
    # and by simulation: fresh noise, refitted, the spread of N_opt at the target
    nothing = (design[0][:0], design[1][:0])
    none, on_grid, designed = (
        spread(report, params, tokens, x, seed + 10) for x in (nothing, grid, design)
    )
    assert on_grid < none
    assert designed < 0.95 * on_grid


def test_suggested_runs_narrow_the_loss_more_than_an_isoflop_grid(base):
    """`narrow="loss"`, proved as N_opt is: the loss of the compute-optimal run at 1e23,
    refitted on fresh noise 150 times, is tighter with the suggested runs than with an
    IsoFLOP grid of the same compute and number of runs."""
    params, tokens, report = base
    s = suggest_runs(report, target_flops=TARGET, n_runs=K, max_flops=MAX_FLOPS, narrow="loss")
    design = (np.array([r.params for r in s.runs]), np.array([r.tokens for r in s.runs]))
    grid = isoflop([s.total_flops / K], K)
    on_grid, designed = (
        spread(report, params, tokens, x, 10, narrow="loss") for x in (grid, design)
    )
    assert designed < 0.95 * on_grid


def test_narrowing_the_loss(base):
    _, _, report = base
    s = suggest_runs(report, target_flops=TARGET, n_runs=3, max_flops=MAX_FLOPS, narrow="loss")
    assert s.narrow == "loss" and s.value == pytest.approx(
        math.exp(target_log(report.law, TARGET, "loss"))
    )
    assert s.before[0] < s.value < s.before[1]
    assert s.after[1] / s.after[0] < s.before[1] / s.before[0]
    widths = [r.after[1] / r.after[0] for r in s.runs]
    assert widths == sorted(widths, reverse=True)  # each run narrows it further


def test_the_command_is_the_api(run, run_json):
    args = (
        "sweep",
        "--from",
        REPLICATION,
        "--max-loss",
        "3.42",
        "--target",
        "5.76e23",
        "--runs",
        "3",
    )
    d = run_json(*args)
    api = suggest_runs(REPLICATION, target_flops=5.76e23, n_runs=3, max_loss=3.42).to_dict()
    assert d.keys() == api.keys()
    assert d["n_fitted"] == 240 and len(d["runs"]) == 3 and d["narrow"] == "nopt"
    assert [r["params"] for r in d["runs"]] == pytest.approx([r["params"] for r in api["runs"]])
    assert d["interval_after"] == pytest.approx(api["interval_after"])
    assert d["max_flops"] == pytest.approx(10 * 1.3e22, rel=0.05)  # 10x the largest run
    text = run(*args).stdout
    assert "The next runs to train" in text and "interval after" in text


def test_bad_arguments_are_refused(run):
    r = run("sweep", "--from", REPLICATION, "--runs", "2")
    assert r.exit_code == 2 and "--target" in r.output
    r = run("sweep", "--from", REPLICATION, "--target", "1e23", "--budgets", "1e18:1e20:3")
    assert r.exit_code == 2 and "--budgets" in r.output
    r = run("sweep", "--budgets", "1e18:1e20:3", "--target", "1e23")
    assert r.exit_code == 2 and "--from" in r.output
    r = run("sweep", "--from", REPLICATION, "--target", "1e23", "--narrow", "width")
    assert r.exit_code == 2 and "nopt" in r.output
    with pytest.raises(InputError) as e:
        suggest_runs(REPLICATION, target_flops=1e23, n_runs=0)
    assert e.value.field == "n_runs"


def test_a_notebook_shows_the_suggestion(base):
    _, _, report = base
    s = suggest_runs(report, target_flops=TARGET, n_runs=2, max_flops=MAX_FLOPS)
    text = s._repr_mimebundle_()["text/plain"]
    assert "The next runs to train" in text and "Runs, in the order chosen" in text
    assert "Runs, in the order chosen" in s._repr_html_()
    assert repr(s).startswith("Suggestion(2 runs, ")
