"""Accuracy forecasts: a task metric as a sigmoid of the loss (Llama 3 section 3.2.1;
Bhagia et al. 2024), fitted beside the law, saved with it, and printed by `plan`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from chinchilla_cli import fit, load_law, plan
from chinchilla_cli.accuracy import sigmoid
from chinchilla_cli.accuracy_fit import fit_accuracy

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
    brief = run("plan", "--flops", "1e22", "--law", str(path), "--brief").stdout
    assert f"{p.accuracy.value:.1%}" in brief and "hellaswag" in brief


def test_plans_without_a_forecast_say_null(run_json):
    assert run_json("plan", "--flops", "1e22")["accuracy"] is None


def test_the_example_ladder_fits_back_to_its_sigmoid(run_json):
    d = run_json("fit", str(LADDER), "--metric-col", "hellaswag")
    a = d["accuracy"]
    assert a["metric"] == "hellaswag" and a["n_skipped"] == 2
    for key, value in TRUE.items():
        assert a[key] == pytest.approx(value, rel=0.05, abs=0.02), key


def test_the_budget_range_forecasts_each_row(run, run_json):
    """Each frontier row is a planned run: it carries the metric its law's loss gives,
    the same as `plan` at that budget, with the interval; laws without a forecast add no
    key and no column."""
    law = str(ROOT / "examples" / "ladder.law.yaml")
    rows = run_json("plan", "--budget-range", "1e20:1e24:3", "--law", law)["frontier"]
    for row in rows:
        single = plan(flops=row["flops"], law=law).accuracy
        assert single is not None
        assert row["accuracy"]["value"] == pytest.approx(single.value)
        assert row["accuracy"]["interval"] == pytest.approx(list(single.interval))
    assert rows[0]["accuracy"]["value"] < rows[-1]["accuracy"]["value"]  # loss falls
    out = run("plan", "--budget-range", "1e20:1e24:3", "--law", law).stdout
    assert "hellaswag" in out and f"{100 * rows[1]['accuracy']['value']:.1f} [" in out
    plain = run_json("plan", "--budget-range", "1e20:1e24:3")["frontier"]
    assert all("accuracy" not in row for row in plain)
    assert "hellaswag" not in run("plan", "--budget-range", "1e20:1e24:3").stdout


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


# ------------------------------------------------------------------ finding the column


@pytest.mark.parametrize(
    ("name", "task"),
    [
        ("hellaswag", True),
        ("HellaSwag", True),
        ("arc_easy_acc", True),
        ("eval/downstream/piqa_len_norm", True),
        ("hellaswag/acc_norm", True),
        ("mmlu", True),
        ("hellaswag_loss", False),
        ("hellaswag_acc_stderr", False),
        ("mmlu_stem", False),
        ("loss", False),
        ("acc", False),
    ],
)
def test_task_columns_are_found_by_name(name, task):
    from chinchilla_cli.metrics import is_task_column

    assert is_task_column(name) is task


def test_several_task_columns_and_none_named_fit_none_and_say_so():
    r = _runs()
    r["arc_easy"] = r["hellaswag"]
    report = fit(r)
    assert report.accuracy is None
    assert any("'hellaswag', 'arc_easy'" in w and "`metric_col`" in w for w in report.warnings)
    assert fit(r, metric_col="arc_easy").accuracy.metric == "arc_easy"


def test_too_few_values_refused_when_named_and_a_warning_when_found():
    from chinchilla_cli.errors import InputError

    r = _runs()
    r["hellaswag"] = np.where(np.arange(r["loss"].size) < 4, r["hellaswag"], np.nan)
    with pytest.raises(InputError) as e:
        fit(r, metric_col="hellaswag")
    assert e.value.field == "metric_col" and "only 4" in e.value.message
    report = fit(r)
    assert report.accuracy is None and any("only 4" in w for w in report.warnings)


def test_isoflop_has_no_loss_to_chain_to(tmp_path, run):
    flops = np.repeat([1e19, 1e20, 1e21], 7)
    n = np.concatenate([np.geomspace(c**0.5 / 30, c**0.5 / 2, 7) for c in (1e19, 1e20, 1e21)])
    d = flops / (6 * n)
    loss = 1.69 + 406.4 / n**0.34 + 410.7 / d**0.28
    acc = [sigmoid(x, **TRUE) for x in loss]
    path = tmp_path / "iso.csv"
    rows = [f"{a:g},{b:g},{c:.5f},{m:.5f}" for a, b, c, m in zip(n, d, loss, acc, strict=True)]
    path.write_text("params,tokens,loss,hellaswag\n" + "\n".join(rows) + "\n")
    r = run("fit", str(path), "--approach", "isoflop", "--metric-col", "hellaswag")
    assert r.exit_code == 2 and "--metric-col" in r.stderr and "--approach" in r.stderr
    report = fit(str(path), approach="isoflop")  # found by name: a warning, no forecast
    assert report.accuracy is None and report.to_dict()["accuracy"] is None
    assert any("'hellaswag'" in w and "`approach`" in w for w in report.warnings)


# ------------------------------------------------------------------ the bootstrap


def test_each_sigmoid_sample_is_refitted_on_the_law_samples_resample():
    """Row i of the sigmoid's samples comes from the resample of the law's row i: the
    weights accuracy.resample_weights draws are the law bootstrap's own."""
    from chinchilla_cli.accuracy_fit import resample_weights
    from chinchilla_cli.approach3 import LogRuns, polish

    report = fit(_runs(), bootstrap=6, seed=3)
    runs, p = report.runs, report.parametric
    weights = resample_weights(runs.n_kept, 6, 3)
    logruns = LogRuns.of(runs.params, runs.tokens, runs.loss)
    for i in (0, 5):
        theta = polish(p.theta, logruns.reweighted(weights[i]), p.huber_delta).theta
        assert math.exp(theta[2]) == pytest.approx(report.samples[i][0], rel=1e-4)  # E
        assert theta[3] == pytest.approx(report.samples[i][3], rel=1e-4)  # alpha
        keep = ~np.isnan(runs.metric)
        refit = fit_accuracy(runs.loss[keep], runs.metric[keep], weights=weights[i][keep])
        assert refit.a == pytest.approx(report.accuracy.samples[i][0], rel=1e-3)
    assert len(report.accuracy.samples) == len(report.samples) == 6


def test_without_bootstrap_the_plan_has_no_interval(tmp_path):
    path = tmp_path / "point.law.yaml"
    fit(_runs()).save(path)
    p = plan(flops=1e21, law=str(path))
    assert p.accuracy is not None and p.accuracy.interval is None and p.accuracy.samples == 0


def test_a_data_constrained_plan_forecasts_at_the_effective_run(tmp_path):
    path = tmp_path / "mine.law.yaml"
    fit(_runs()).save(path)
    p = plan(flops=1e22, law=str(path), unique_tokens=2e10)
    assert p.constrained is not None and p.loss is not None
    assert p.accuracy.loss == pytest.approx(p.loss.total)
    assert p.accuracy.value == pytest.approx(load_law(str(path)).accuracy.predict(p.loss.total))


# ------------------------------------------------------------------ law files


BLOCK = "accuracy: {metric: hellaswag, a: 0.7, k: -3.0, L0: 3.0, b: 0.25}"


@pytest.mark.parametrize(
    ("block", "words"),
    [
        ("accuracy: 0.9", "accuracy must be a mapping"),
        ("accuracy: {metric: hellaswag, a: 0.7, k: -3.0, b: 0.25}", "missing L0"),
        (BLOCK.replace("a: 0.7", "a: 1.5"), "accuracy.a"),
        (BLOCK.replace("b: 0.25", "b: -0.1"), "accuracy.b"),
        (BLOCK.replace("k: -3.0", "k: nope"), "accuracy.k"),
        (BLOCK.replace("}", ", colour: red}"), "accuracy.colour"),
        (BLOCK.replace("}", ", samples: [[0.7, -3.0, 3.0]]}"), "accuracy.samples[0]"),
        (BLOCK.replace("}", ", samples: [[0.7, -3.0, 3.0, 0.25]]}"), "accuracy.samples"),
    ],
)
def test_a_malformed_block_is_one_line_naming_file_and_key(tmp_path, run, block, words):
    law = tmp_path / "bad.yaml"
    samples = "samples: [[1.7, 400.0, 400.0, 0.34, 0.28], [1.7, 400.0, 400.0, 0.34, 0.28]]"
    law.write_text(f"E: 1.69\nA: 406.4\nB: 410.7\nalpha: 0.34\nbeta: 0.28\n{samples}\n{block}\n")
    r = run("plan", "--flops", "1e22", "--law", str(law))
    assert r.exit_code == 2, r.output
    line = r.stderr.strip()
    assert "\n" not in line and str(law) in line and words in line, line


def test_an_allocation_law_refuses_an_accuracy_block(tmp_path):
    from chinchilla_cli.errors import InputError

    law = tmp_path / "alloc.yaml"
    law.write_text(f"kind: allocation\nk: 0.1\na: 0.5\n{BLOCK}\n")
    with pytest.raises(InputError, match="parametric"):
        load_law(str(law))


def test_a_hand_written_block_forecasts(tmp_path):
    law = tmp_path / "hand.yaml"
    law.write_text(f"E: 1.69\nA: 406.4\nB: 410.7\nalpha: 0.34\nbeta: 0.28\n{BLOCK}\n")
    p = plan(params=7e9, tokens=1.4e11, law=str(law))
    loss = 1.69 + 406.4 / 7e9**0.34 + 410.7 / 1.4e11**0.28
    assert p.accuracy.value == pytest.approx(sigmoid(loss, **TRUE), rel=1e-12)


# ------------------------------------------------------------------ training logs


def _log(tmp_path, metric_every: int = 2) -> Path:
    """A W&B-style log of the known runs: 5 logged steps each, the loss falling to the
    run's final loss, hellaswag logged on every `metric_every`-th step only."""
    r = _runs(noise=0.002)
    lines = ["name,_step,params,tokens,train/loss,eval/downstream/hellaswag_acc"]
    for i, (n, d, loss, acc) in enumerate(
        zip(r["params"], r["tokens"], r["loss"], r["hellaswag"], strict=True)
    ):
        for step in range(1, 6):
            early = loss * (1 + 0.05 * (5 - step))
            metric = acc if step == 5 else acc * 0.9
            cell = f"{metric:.5f}" if step % metric_every == 1 or step == 5 else ""
            first = f"{n:g}" if step == 1 else ""
            lines.append(f"run{i},{step},{first},{d * step / 5:g},{early:.5f},{cell}")
    path = tmp_path / "history.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_log_reduces_the_metric_as_it_reduces_the_loss(tmp_path):
    path = _log(tmp_path)
    report = fit(str(path))  # the task column is found by name, reduced to the last value
    acc = report.accuracy
    assert acc is not None and acc.metric == "eval/downstream/hellaswag_acc"
    assert acc.n_runs == 48 and acc.n_skipped == 0
    for key, value in TRUE.items():
        assert acc.parameters()[key] == pytest.approx(value, rel=0.08, abs=0.03), key
    assert report.to_dict()["runs"]["log"]["columns"]["metric"] == acc.metric


def test_reduce_metric_last_mean_and_row():
    from chinchilla_cli.metrics import reduce_log_metric

    nan = np.nan
    values = np.array([0.1, nan, 0.3, 0.5, nan, 0.7, 0.2])
    runs = np.array([0, 0, 0, 1, 1, 1, 0])
    order = np.array([1.0, 2.0, 3.0, 1.0, 2.0, 3.0, 0.5])  # row 6 is run 0's first step
    point_run = np.array([0, 1])
    rows = np.array([2, 4])  # the rows the loss was taken from
    last = reduce_log_metric(values, runs, order, rows, point_run, "last")
    assert last.tolist() == [0.3, 0.7]
    mean = reduce_log_metric(values, runs, order, rows, point_run, "mean-last", 2)
    assert mean.tolist() == pytest.approx([0.2, 0.6])
    same_row = reduce_log_metric(values, runs, order, rows, point_run, "min")
    assert same_row[0] == 0.3 and math.isnan(same_row[1])


def test_a_log_percent_value_out_of_range_names_its_line(tmp_path, run):
    path = _log(tmp_path)
    lines = path.read_text().splitlines()
    cells = lines[5].split(",")
    cells[-1] = "250"
    lines[5] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    r = run("fit", str(path))
    assert r.exit_code == 2
    assert f"{path}:6" in r.stderr and "not an accuracy" in r.stderr


def test_the_forecast_model_stands_below_the_laws_and_the_runs():
    """accuracy.py (the sigmoid, AccuracyFit, the plan's forecast) imports neither the
    laws, the runs nor numpy, not even for type checking: laws.py and a plan import it."""
    import ast
    import subprocess
    import sys

    import chinchilla_cli.accuracy as model

    tree = ast.parse(Path(model.__file__).read_text(encoding="utf-8"))
    imported = {
        node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    } | {a.name for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    assert imported <= {
        "__future__",
        "math",
        "collections.abc",
        "dataclasses",
        "typing",
        "chinchilla_cli.errors",
    }, imported
    code = (
        "import sys; import chinchilla_cli.accuracy; "
        "print(sorted(m for m in ('numpy', 'chinchilla_cli.laws', 'chinchilla_cli.runs') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
