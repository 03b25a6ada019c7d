"""A law fitted in memory knows what its saved file knows: planning with `fit(...).law`
equals planning with the file `save` (or `fit --save`) writes, reloaded by `load_law`."""

from __future__ import annotations

from pathlib import Path

import pytest

from chinchilla_cli import fit, load_law, plan

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LADDER = EXAMPLES / "ladder_runs.csv"  # 48 runs with a hellaswag column: a forecast too


def _approx(a, b, path="plan"):
    """Equal dicts, floats within a relative 1e-9 (YAML keeps every digit, but say so)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), path
        for k in a:
            _approx(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _approx(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(b, bool):
        assert b == pytest.approx(a, rel=1e-9), path
    else:
        assert a == b, path


@pytest.fixture(scope="module")
def report():
    return fit(str(LADDER), bootstrap=40, metric_col="hellaswag")


def test_fitted_law_carries_samples_range_and_forecast(report):
    law = report.law
    assert len(law.samples) == 40
    assert law.samples_source.startswith("40 bootstrap resamples")
    assert law.fit_range is not None and law.fit_range.params == (4e7, 4e9)
    assert law.accuracy is not None and len(law.accuracy.samples) == 40
    assert "48 runs" in law.source


@pytest.mark.parametrize("flops", [1e21, 1e23])
def test_plan_with_the_fitted_law_equals_the_saved_one(report, tmp_path, flops):
    path = report.save(tmp_path / "fit.law.yaml")  # named as the law in memory: "fit"
    in_memory = plan(flops, law=report.law).to_dict()
    _approx(in_memory, plan(flops, law=load_law(str(path))).to_dict())
    assert in_memory["uncertainty"]["samples"] == 40
    assert in_memory["accuracy"]["source"].endswith("paired")


def test_the_cli_save_reloads_to_the_same_plan(run, report, tmp_path):
    path = tmp_path / "fit.law.yaml"
    args = ("fit", str(LADDER), "--bootstrap", "40", "--metric-col", "hellaswag")
    result = run(*args, "--save", str(path))
    assert result.exit_code == 0, result.output
    _approx(plan(1e23, law=report.law).to_dict(), plan(1e23, law=load_law(str(path))).to_dict())


def test_a_law_fitted_without_bootstrap_has_no_samples():
    law = fit(str(LADDER)).law
    assert law.samples == () and law.samples_source == ""
    assert plan(1e23, law=law).uncertainty is None
