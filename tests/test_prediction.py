"""Predictions with two intervals: the law's (bootstrap samples) and a new run's (adding
the run-to-run noise its fit's residuals show), saved with the law, shown by `plan`,
and calibrated: a 95% new-run interval covers about 95% of the runs of a budget the law
was refitted without, on the replication's runs (tests/data/svg_extracted_data.csv)."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from chinchilla_cli import fit, load_law, plan
from chinchilla_cli.calibration import heldout_coverage
from chinchilla_cli.errors import InputError
from chinchilla_cli.laws import ParametricLaw
from chinchilla_cli.prediction import RunNoise, new_run_interval, residual_noise

ROOT = Path(__file__).resolve().parent.parent
REPLICATION = str(ROOT / "tests" / "data" / "svg_extracted_data.csv")
TRUTH = ParametricLaw("truth", 1.69, 406.4, 410.7, 0.34, 0.28)


@pytest.fixture(scope="module")
def replication():
    return fit(REPLICATION, max_loss=3.42, bootstrap=40)


def synthetic_runs(sd: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    params, tokens = np.meshgrid(np.geomspace(2e7, 3e9, 9), np.geomspace(5e8, 2e11, 9))
    params, tokens = params.ravel(), tokens.ravel()
    loss = np.array([TRUTH.loss(n, d).total for n, d in zip(params, tokens, strict=True)])
    return params, tokens, loss * np.exp(rng.normal(0.0, sd, loss.shape))


def test_residual_noise_counts_degrees_of_freedom():
    noise = residual_noise(0.01, 25, 5)
    assert noise == RunNoise(pytest.approx(0.01 * math.sqrt(25 / 20)), 25)
    assert residual_noise(0.01, 5, 5) is None


def test_fit_estimates_the_noise_it_was_given():
    params, tokens, loss = synthetic_runs(0.02)
    report = fit(params=params, tokens=tokens, loss=loss)
    assert report.noise is not None
    assert report.noise.log_loss_sd == pytest.approx(0.02, rel=0.25)
    assert report.to_dict()["noise"]["n_runs"] == 81


def test_new_run_interval_without_samples_is_the_noise_alone():
    lo, hi = new_run_interval(2.0, [], 0.01, 95.0)
    assert math.log(hi / 2.0) == pytest.approx(1.959964 * 0.01, rel=1e-5)
    assert math.log(2.0 / lo) == pytest.approx(1.959964 * 0.01, rel=1e-5)


def test_new_run_interval_of_a_mixture_contains_the_law_interval_and_the_noise():
    samples = list(np.linspace(2.0, 2.1, 101))
    lo, hi = new_run_interval(2.05, samples, 0.01, 95.0)
    # wider than the samples' own interval, narrower than their extremes widened by the noise
    assert lo < 2.0025 and hi > 2.0975
    assert lo > 2.0 * math.exp(-1.96 * 0.01) and hi < 2.1 * math.exp(1.96 * 0.01)
    # no noise: the samples' own percentiles
    assert new_run_interval(2.05, samples, 0.0, 95.0) == pytest.approx((2.0025, 2.0975))


def test_law_predict_gives_both_intervals(replication):
    law = replication.law
    p = law.predict(1e9, 20e9)
    assert p.loss == pytest.approx(law.loss(1e9, 20e9).total)
    assert p.samples == 40 and p.noise == replication.noise
    assert p.interval is not None and p.new_run is not None
    assert p.new_run[0] < p.interval[0] <= p.loss <= p.interval[1] < p.new_run[1]
    d = p.to_dict()
    assert d["loss_new_run"] == list(p.new_run) and d["flops"] == pytest.approx(1.2e20)
    with pytest.raises(InputError) as e:
        law.predict(0, 1e9)
    assert e.value.field == "params"
    with pytest.raises(InputError):
        law.predict(1e9, 1e9, level=100)


def test_a_saved_law_gives_the_same_intervals(replication, tmp_path):
    path = tmp_path / "law.yaml"
    replication.save(path)
    loaded = load_law(str(path))
    assert isinstance(loaded, ParametricLaw) and loaded.noise == replication.noise
    got, want = loaded.predict(4e8, 8e9), replication.law.predict(4e8, 8e9)
    assert got.loss == pytest.approx(want.loss, rel=1e-12)
    assert got.interval == pytest.approx(want.interval, rel=1e-12)
    assert got.new_run == pytest.approx(want.new_run, rel=1e-12)


def test_plan_reports_the_new_run_interval(replication, tmp_path, run, run_json):
    path = tmp_path / "law.yaml"
    replication.save(path)
    expected = replication.law.predict(1e9, 20e9)
    u = plan(params=1e9, tokens=20e9, law=str(path)).to_dict()["uncertainty"]
    assert u["loss"] == pytest.approx(list(expected.interval))
    assert u["loss_new_run"] == pytest.approx(list(expected.new_run))
    d = run_json("plan", "--params", "1B", "--tokens", "20B", "--law", str(path))
    assert d["uncertainty"]["loss_new_run"] == pytest.approx(list(expected.new_run))
    text = run("plan", "--params", "1B", "--tokens", "20B", "--law", str(path)).stdout
    assert "a new run's loss" in text
    # a preset carries no noise: the key is there, empty
    assert plan(1e21, law="besiroglu2024").to_dict()["uncertainty"]["loss_new_run"] is None


def test_law_file_noise_is_checked(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "E: 1.69\nA: 406.4\nB: 410.7\nalpha: 0.34\nbeta: 0.28\n"
        "noise: {log_loss_sd: -1, n_runs: 3}\n"
    )
    with pytest.raises(InputError, match="noise must map"):
        load_law(str(path))


def test_heldout_coverage_on_the_replication(replication):
    """The 95% new-run interval covers about 95% of the runs of each budget held out
    (a peer's interval of the mean covered 0 of 9)."""
    found = replication.heldout_coverage()
    assert found is not None and found.level == 95.0
    assert found.n_runs >= 150 and len(found.budgets) >= 20
    assert 0.8 <= found.coverage <= 1.0
    # a narrower interval covers fewer, and roughly as many as it says
    narrow = heldout_coverage(replication.runs, 50.0, fit=replication.parametric)
    assert narrow.coverage < found.coverage
    assert 0.35 <= narrow.coverage <= 0.8
    d = replication.to_dict()["coverage"]
    assert d["coverage"] == pytest.approx(found.coverage) and d["level"] == 95.0


def test_heldout_coverage_on_synthetic_runs_is_close_to_its_level():
    # an IsoFLOP design: 9 budgets of 9 sizes each
    flops = np.repeat(np.geomspace(1e18, 1e21, 9), 9)
    n = np.tile(np.geomspace(0.25, 4, 9), 9) * np.sqrt(flops / 6 / 20)
    d = flops / (6 * n)
    truth = np.array([TRUTH.loss(a, b).total for a, b in zip(n, d, strict=True)])
    noisy = truth * np.exp(np.random.default_rng(4).normal(0, 0.01, truth.shape))
    found = heldout_coverage(SimpleNamespace(params=n, tokens=d, loss=noisy), 95.0)
    assert len(found.budgets) == 9
    assert 0.85 <= found.coverage <= 1.0


def test_predict_takes_sizes_as_text_and_numpy_numbers():
    np = pytest.importorskip("numpy")
    law = load_law("hoffmann2022")
    assert law.predict("10B", "200B").loss == law.predict(1e10, 2e11).loss
    assert (
        law.predict(np.float64(1e10), np.int64(200_000_000_000)).loss
        == law.predict(1e10, 2e11).loss
    )
