"""`fit` on runs with an experts column fits the Joint MoE law (all eleven constants)
and saves a law that `plan --arch moe --experts E` uses."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from chinchilla_cli import fit
from chinchilla_cli.law_files import load_law
from chinchilla_cli.laws import JointMoELaw
from chinchilla_cli.moe_fit import MoEFitReport


def _runs(noise: float = 0.003) -> dict[str, list[float]]:
    """Runs drawn from the published law at 1 to 32 experts, with lognormal noise."""
    law = load_law("ludziejewski2025")
    assert isinstance(law, JointMoELaw) and law.moe is not None
    rng = np.random.default_rng(1)
    cols: dict[str, list[float]] = {"params": [], "tokens": [], "experts": [], "loss": []}
    for e in (1, 2, 4, 8, 16, 32):
        for n in np.geomspace(1e8, 2.5e9, 5):
            for ratio in (2, 8, 30):
                loss = law.moe.loss(n, n * ratio, e) * np.exp(rng.normal(0, noise))
                for k, v in zip(cols, (n, n * ratio, e, loss), strict=True):
                    cols[k].append(float(v))
    return cols


def test_fit_recovers_the_joint_law_it_was_drawn_from():
    report = fit(_runs())
    assert isinstance(report, MoEFitReport)
    assert report.experts == (1, 2, 4, 8, 16, 32)
    truth = load_law("ludziejewski2025")
    assert isinstance(truth, JointMoELaw) and truth.moe is not None
    for n, d, e in ((3e8, 6e9, 1), (1e9, 2e10, 8), (2e9, 5e10, 32)):
        assert report.law.loss(n, d, e) == pytest.approx(truth.moe.loss(n, d, e), rel=0.01)
    assert report.rmse_log_loss < 0.01
    assert report.to_dict()["approach"] == "joint_moe"


def test_saved_law_plans_at_e_experts_with_intervals(tmp_path, run, run_json):
    path = tmp_path / "runs.csv"
    cols = _runs()
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        w.writerows(zip(*cols.values(), strict=True))
    law = tmp_path / "moe.yaml"
    r = run("fit", str(path), "--bootstrap", "5", "--save", str(law))
    assert r.exit_code == 0, r.stderr
    assert "Joint MoE" in r.stdout and "95% CI" in r.stdout
    d = run_json("plan", "--flops", "1e20", "--law", str(law), "--arch", "moe", "--experts", "8")
    assert d["law"]["kind"] == "joint_moe"
    assert d["uncertainty"]["samples"] == 5
    lo, hi = d["uncertainty"]["params"]
    assert lo <= d["optimal"]["params"] * 1.001 and hi >= d["optimal"]["params"] * 0.999
    fitted = load_law(str(law))
    assert isinstance(fitted, JointMoELaw)
    assert fitted.at_experts(8).optimal_params(1e20) == pytest.approx(d["optimal"]["params"])


def test_runs_without_an_experts_column_fit_the_dense_form():
    cols = _runs()
    del cols["experts"]
    report = fit(cols)
    assert not isinstance(report, MoEFitReport)
    assert report.law is not None


def test_experts_column_refuses_the_dense_options():
    from chinchilla_cli.errors import InputError

    with pytest.raises(InputError) as e:
        fit(_runs(), approach="isoflop")
    assert e.value.field == "approach"
