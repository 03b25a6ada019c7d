"""Accuracy forecasts: a task metric as a sigmoid of the loss (Llama 3 section 3.2.1;
Bhagia et al. 2024), fitted beside the law, saved with it, and printed by `plan`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from chinchilla_cli import fit, load_law, plan
from chinchilla_cli.accuracy import fit_accuracy, sigmoid

ROOT = Path(__file__).resolve().parent.parent
LADDER = ROOT / "examples" / "ladder_runs.csv"
TRUE = {"a": 0.70, "k": -3.0, "L0": 3.00, "b": 0.25}  # examples/make_ladder_runs.py


def _runs(seed: int = 0, noise: float = 0.005) -> dict[str, np.ndarray]:
    """Runs of a known law whose metric is a known sigmoid of the loss."""
    rng = np.random.default_rng(seed)
    n = np.repeat(np.geomspace(4e7, 4e9, 8), 6)
    d = n * np.tile([5, 10, 20, 40, 80, 160], 8)
    loss = (1.69 + 406.4 / n**0.34 + 410.7 / d**0.28) * np.exp(rng.normal(0, 0.004, n.size))
    acc = np.array([sigmoid(x, **TRUE) for x in loss]) + rng.normal(0, noise, n.size)
    return {"params": n, "tokens": d, "loss": loss, "hellaswag": acc}


def test_the_sigmoid_is_recovered():
    r = _runs()
    f = fit_accuracy(r["loss"], r["hellaswag"], "hellaswag")
    assert f.converged
    assert f.k < 0  # accuracy falls as the loss rises
    for key, value in TRUE.items():
        assert f.parameters()[key] == pytest.approx(value, rel=0.08, abs=0.03), key
    assert f.rmse is not None and f.rmse < 0.01


def test_fit_finds_the_task_column_and_saves_it_with_the_law(tmp_path):
    report = fit(_runs(), bootstrap=20)
    acc = report.accuracy
    assert acc is not None and acc.metric == "hellaswag"
    d = report.to_dict()
    assert d["accuracy"]["metric"] == "hellaswag" and d["accuracy"]["ci"] is not None
    path = tmp_path / "mine.law.yaml"
    report.save(path)
    law = load_law(str(path))
    assert law.accuracy is not None and law.accuracy.metric == "hellaswag"
    assert law.accuracy.a == pytest.approx(acc.a)
    assert len(law.accuracy.samples) == 20


def test_plan_prints_the_predicted_accuracy_with_its_interval(tmp_path, run):
    path = tmp_path / "mine.law.yaml"
    fit(_runs(), bootstrap=20).save(path)
    p = plan(flops=1e22, law=str(path))
    law = load_law(str(path))
    # chained: the law's loss at the planned (N, D), through the sigmoid
    loss = law.loss(p.optimal.params, p.optimal.tokens).total
    assert p.accuracy is not None
    assert p.accuracy.value == pytest.approx(law.accuracy.predict(loss))
    low, high = p.accuracy.interval
    assert low <= p.accuracy.value <= high and p.accuracy.samples == 20
    assert p.to_dict()["accuracy"]["metric"] == "hellaswag"
    out = run("plan", "--flops", "1e22", "--law", str(path)).stdout
    assert "Predicted accuracy" in out and "hellaswag" in out


def test_plans_without_a_forecast_say_null(run_json):
    assert run_json("plan", "--flops", "1e22")["accuracy"] is None


def test_the_example_ladder_fits_back_to_its_sigmoid(run_json):
    d = run_json("fit", str(LADDER), "--metric-col", "hellaswag")
    a = d["accuracy"]
    assert a["metric"] == "hellaswag" and a["n_skipped"] == 2
    for key, value in TRUE.items():
        assert a[key] == pytest.approx(value, rel=0.05, abs=0.02), key


def test_the_shipped_ladder_law_carries_its_forecast():
    law = load_law(str(ROOT / "examples" / "ladder.law.yaml"))
    assert law.accuracy is not None and law.accuracy.metric == "hellaswag"
    assert law.accuracy.samples


@pytest.mark.parametrize(
    "args, words",
    [
        (["--metric-col", "nope"], "--metric-col"),
        (["--metric-col", "loss"], "--metric-col"),
    ],
)
def test_bad_metric_columns_are_one_line(run, args, words):
    r = run("fit", str(LADDER), *args)
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in r.output


def test_a_metric_beyond_a_fraction_or_percent_is_refused(tmp_path, run):
    f = tmp_path / "runs.csv"
    r = _runs()
    rows = ["params,tokens,loss,hellaswag"] + [
        f"{n:g},{d:g},{x:.5f},{a * 1000:.3f}"
        for n, d, x, a in zip(r["params"], r["tokens"], r["loss"], r["hellaswag"], strict=True)
    ]
    f.write_text("\n".join(rows) + "\n")
    result = run("fit", str(f), "--metric-col", "hellaswag")
    assert result.exit_code == 2 and "hellaswag" in result.stderr


def test_a_percent_column_is_read_as_a_fraction(tmp_path):
    r = _runs()
    r["hellaswag"] = r["hellaswag"] * 100
    report = fit(r)
    assert report.accuracy is not None
    assert report.accuracy.b == pytest.approx(TRUE["b"], abs=0.03)


def test_json_of_the_forecast_is_plain(run_json, tmp_path):
    d = run_json("fit", str(LADDER), "--metric-col", "hellaswag")
    json.dumps(d)  # no numpy scalars
    assert all(
        isinstance(d["accuracy"][k], float) and math.isfinite(d["accuracy"][k])
        for k in ("a", "k", "L0", "b")
    )
