"""Runs as people hold them (issue 21): DataFrames, records, W&B's two exports joined, a
group column in a log, and nothing lost silently (runs without a loss, crashed runs,
errors that name their argument)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import synthetic_logs as S

from chinchilla_cli import fit
from chinchilla_cli.errors import InputError


@pytest.fixture(scope="module")
def rows():
    return S.training_log(checkpoints=12)


def _write(rows: list[dict], path: Path) -> str:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in rows:
            w.writerow(["" if r.get(c) is None else r[c] for c in cols])
    return str(path)


def _same(a, b):
    for name in ("params", "tokens", "loss"):
        np.testing.assert_allclose(getattr(a.runs, name), getattr(b.runs, name), rtol=1e-12)
    assert a.law.parameters() == pytest.approx(b.law.parameters(), rel=1e-6)


def test_records_and_dataframes_of_a_log_are_reduced_as_the_file(tmp_path, rows):
    pd = pytest.importorskip("pandas")
    path = S.write_jsonl(rows, tmp_path / "h.jsonl")
    from_file = fit(str(path))
    assert from_file.log is not None and from_file.log.n_runs == 35
    _same(fit(rows), from_file)  # records, as W&B's scan_history() rows
    _same(fit(iter(rows)), from_file)  # any iterable of them
    frame = pd.read_json(path, lines=True)  # NaN where a row logs no params
    _same(fit(frame), from_file)
    # params on every row (a config column joined by the user): still one point per run
    frame["params"] = frame.groupby("name")["params"].transform("first")
    everywhere = fit(frame)
    assert everywhere.runs.n_kept == 35
    _same(everywhere, from_file)


def test_a_mapping_of_a_log_is_a_log(rows):
    columns = {k: [r.get(k) for r in rows] for k in S.COLUMNS}
    report = fit(columns)
    assert report.log is not None and report.log.n_runs == 35


def test_a_run_without_a_loss_is_named_and_counted(rows):
    ghost = {"name": "ghost", "_step": 0, "params": 1e9, "total_steps": 10}
    report = fit([*rows, ghost])
    assert report.log.dropped_runs == ("ghost",)
    assert (report.runs.n_read, report.runs.n_dropped, report.runs.n_kept) == (36, 1, 35)
    assert any("'ghost'" in w and "no usable loss" in w for w in report.warnings)
    assert report.to_dict()["runs"]["log"]["dropped_runs"] == ["ghost"]


def test_wandb_history_joined_to_its_runs_table(tmp_path, rows):
    history, table = S.wandb_exports(rows)
    table.append({"Name": "crashed", "State": "crashed", "params": 1e9, "total_steps": 99})
    table[3]["State"] = "running"  # logged, but not finished
    h, t = _write(history, tmp_path / "history.csv"), _write(table, tmp_path / "runs.csv")
    with pytest.raises(InputError):
        fit(h)  # no N in the history alone
    joined = fit(h, run_table=t)
    _same(joined, fit(rows))
    assert joined.log.dropped_runs == ("crashed",)
    assert any("'crashed'" in w and "no usable loss" in w for w in joined.warnings)
    name = table[3]["Name"]
    assert any(f"did not finish (column 'State'): {name!r} (running)" in w for w in joined.warnings)
    assert (joined.runs.n_read, joined.runs.n_dropped) == (36, 1)
    assert any("joined on 'Name' = 'name'" in n for n in joined.log.notes)
    pd = pytest.importorskip("pandas")  # the same two exports as DataFrames
    _same(fit(pd.DataFrame(history), run_table=pd.DataFrame(table)), joined)


def test_the_runs_table_gives_each_run_its_schedule(tmp_path, rows):
    short = S.training_log(checkpoints=12, stop_early={"n4e+07-x5": 0.5})
    history, table = S.wandb_exports(short)
    report = fit(history, run_table=table)
    assert report.log.incomplete == ("n4e+07-x5",)


def test_a_runs_table_without_a_name_column_says_how_to_name_it(rows):
    history, table = S.wandb_exports(rows)
    for entry in table:
        entry["label"] = entry.pop("Name")
    with pytest.raises(InputError) as e:
        fit(history, run_table=table)
    assert e.value.field == "run_table" and "`run_col`" in e.value.message


def test_group_column_of_one_log(tmp_path, rows):
    names = dict.fromkeys(r["name"] for r in rows)
    arms = {name: ("base" if i % 2 else "variant") for i, name in enumerate(names)}
    logged = [{**r, "arm": arms[r["name"]]} if "params" in r else r for r in rows]
    report = fit(_write(logged, tmp_path / "log.csv"), group="arm")
    assert report.intervention is not None
    history, table = S.wandb_exports(rows, groups=arms)
    via_table = fit(history, run_table=table, group="arm")
    a, b = via_table.intervention.to_dict(), report.intervention.to_dict()
    assert [v["label"] for v in a["variants"]] == [v["label"] for v in b["variants"]] == ["base"]
    assert a["variants"][0]["params"] == pytest.approx(b["variants"][0]["params"], rel=1e-9)


def test_a_group_comparison_of_a_log_keeps_what_the_log_said(tmp_path):
    history, runs = S.write_wandb_example(tmp_path)
    report = fit(str(history), run_table=str(runs), group="arm")
    assert report.log is not None and report.log.dropped_runs == ("base-n4e+09-x80-retry",)
    assert (report.runs.n_read, report.runs.n_dropped, report.runs.n_kept) == (36, 1, 35)
    assert any("no usable loss" in w for w in report.warnings)
    assert report.intervention is not None


@pytest.mark.parametrize(
    "arrays, field",
    [
        ({"loss": [3.0] * 11 + [float("inf")]}, "loss"),
        ({"loss": [3.0] * 3 + [float("nan")] * 9}, "loss"),  # too few runs with a loss
        ({"tokens": [2e10] * 11}, "tokens"),
        ({"params": [1e38] * 12}, "params"),
        ({"loss": [True] * 12}, "loss"),
    ],
)
def test_errors_about_arrays_name_the_array(arrays, field):
    given = {"params": [1e9] * 12, "tokens": [2e10] * 12, "loss": [3.0] * 12, **arrays}
    with pytest.raises(InputError) as e:
        fit(**given)
    assert e.value.field == field


def test_errors_about_a_table_name_the_runs(tmp_path):
    with pytest.raises(InputError) as e:
        fit({"N": [1e9] * 12, "D": [2e10] * 12, "perplexity": [3.0] * 12})
    assert e.value.field == "runs" and "no loss column" in e.value.message
    with pytest.raises(InputError) as e:
        fit([1, 2, 3])
    assert e.value.field == "runs"


def test_boolean_losses_in_a_log_are_refused(rows):
    broken = [{**r, "train/loss": True} for r in rows]
    with pytest.raises(InputError, match="is a boolean, not a number"):
        fit(broken)


def test_cli_run_table_and_a_located_error_keeps_its_one_line(tmp_path, rows, run):
    history, table = S.wandb_exports(rows)
    h, t = _write(history, tmp_path / "history.csv"), _write(table, tmp_path / "runs.csv")
    result = run("fit", h, "--run-table", t)
    assert result.exit_code == 0, result.output
    result = run("fit", h, "--run-table", str(tmp_path / "none.csv"))
    assert result.exit_code == 2
    assert "none.csv: no such file" in result.stderr


def test_a_wandb_panel_csv_is_read_as_the_log_it_shows(tmp_path, rows):
    panel = str(S.write_panel(rows, tmp_path / "panel.csv"))
    with pytest.raises(InputError) as e:
        fit(panel, batch_tokens=S.BATCH_TOKENS)
    assert "a panel CSV holds no N: export the runs' history instead" in e.value.message
    _, table = S.wandb_exports(rows)
    report = fit(panel, run_table=table, batch_tokens=S.BATCH_TOKENS)
    assert report.log.format == "wandb-panel" and report.log.n_runs == 35
    _same(report, fit(rows))


def test_the_wandb_example_files_are_what_the_helper_writes(tmp_path):
    data = Path(__file__).parent / "data"
    for made in S.write_wandb_example(tmp_path):
        fresh = made.read_text().splitlines()
        committed = (data / made.name).read_text().splitlines()
        assert len(fresh) == len(committed) and fresh[0] == committed[0]
        # the same rows; the last printed digits may differ between numpy versions
        for mine, theirs in zip(committed[1:], fresh[1:], strict=True):
            for a, b in zip(mine.split(","), theirs.split(","), strict=True):
                try:
                    assert float(a) == pytest.approx(float(b), rel=1e-5)
                except ValueError:
                    assert a == b  # names and states


def test_a_runs_table_fitted_as_it_is_names_its_unfinished_runs(tmp_path):
    table = [
        {"Name": f"r{i}", "State": "crashed" if i == 3 else "finished", "params": n, "tokens": d}
        | {"loss": S.LAW.loss(n, d).total}
        for i, (n, d) in enumerate((n, n * r) for n in S.SIZES for r in S.RATIOS)
    ]
    for given in (_write(table, tmp_path / "runs.csv"), table):
        report = fit(given)
        assert report.log is None
        assert any("did not finish (column 'State'): 'r3' (crashed)" in w for w in report.warnings)


def test_dataframes_with_nullable_numbers_and_boolean_losses(rows):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(rows)
    frame["params"] = frame["params"].astype("Float64")  # pd.NA where not logged
    frame["total_steps"] = frame["total_steps"].astype("Int64")
    _same(fit(frame), fit(rows))
    for dtype in (bool, "boolean"):
        frame["train/loss"] = (frame["train/loss"] > 3).astype(dtype)
        with pytest.raises(InputError, match="is a boolean, not a number") as e:
            fit(frame)
        assert e.value.field == "runs"


def test_fit_takes_its_numbers_as_text_as_the_command_line_does():
    svg = str(Path(__file__).parent / "data" / "svg_extracted_data.csv")
    given = fit(svg, max_loss="3.42", bootstrap="20", min_flops="1e18")
    assert given.to_dict() == fit(svg, max_loss=3.42, bootstrap=20, min_flops=1e18).to_dict()
    with pytest.raises(InputError) as e:
        fit(svg, max_loss="lots")
    assert e.value.field == "max_loss"


def test_schedule_tokens_per_run(rows):
    planned = {r["name"]: r["total_steps"] * S.BATCH_TOKENS for r in rows if "params" in r}
    short = S.training_log(checkpoints=12, stop_early={"n4e+07-x5": 0.5})
    logged = [{k: v for k, v in r.items() if k != "total_steps"} for r in short]
    report = fit(logged, schedule_tokens=planned)
    assert report.log.incomplete == ("n4e+07-x5",)  # one value for all would flag most
    assert len(fit(logged, schedule_tokens=max(planned.values())).log.incomplete) > 20
    report = fit(logged, schedule_tokens={**planned, "elsewhere": 1e9})
    assert any("names 1 run the log does not have: 'elsewhere'" in w for w in report.warnings)


def test_a_runs_table_column_of_arms_is_pointed_out_when_pooled():
    """Two arms fitted as one law, with the arm column right there in the runs table: the
    notes name it and the option that fits each apart; grouped, nothing is said."""
    data = Path(__file__).parent / "data"
    history, runs = data / "wandb_history.csv", data / "wandb_runs.csv"
    pooled = fit(str(history), run_table=str(runs))
    said = [n for n in pooled.runs.notes + pooled.log.notes if "labels its runs" in n]
    assert said == [
        "the runs table's column 'arm' labels its runs 'base', 'wide': all were fitted as "
        "one law; `group` arm fits each apart"
    ]
    grouped = fit(str(history), run_table=str(runs), group="arm")
    assert not any("labels its runs" in n for n in grouped.runs.notes + grouped.log.notes)


def test_numpy_numbers_are_numbers():
    """A DataFrame's cells are numpy scalars: the API takes them as the numbers they are."""
    np = pytest.importorskip("numpy")
    from chinchilla_cli import plan, sweep

    assert plan(chips=1024, days=np.int64(30)).to_dict() == plan(chips=1024, days=30).to_dict()
    assert plan(np.float32(1e23)).budget.flops == pytest.approx(1e23, rel=1e-6)
    assert plan(params=np.int64(70_000_000_000)).optimal.params == 70e9
    assert len(sweep(1e20).budgets) == 1 and len(sweep(np.array([1e19, 1e20])).budgets) == 2


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: __import__("chinchilla_cli").plan(flops=[1e22, 1e23]), "flops"),
        (lambda: __import__("chinchilla_cli").plan(flops=True), "flops"),
        (lambda: __import__("chinchilla_cli").plan(1e23, law=42), "law"),
        (lambda: __import__("chinchilla_cli").load_law(None), "law"),
        (lambda: __import__("chinchilla_cli").compare(42), "configs"),
        (
            lambda: __import__("chinchilla_cli").plan(
                1e23, law="ludziejewski2025", arch="moe", experts=0
            ),
            "experts",
        ),
        (
            lambda: __import__("chinchilla_cli").plan(
                1e23, law="ludziejewski2025", arch="moe", experts=-3
            ),
            "experts",
        ),
    ],
)
def test_wrong_types_in_the_api_are_input_errors(call, field):
    """Never a bare TypeError, AttributeError or ValueError: an InputError naming the
    argument, in one line."""
    with pytest.raises(InputError) as e:
        call()
    assert e.value.field == field and "\n" not in str(e.value)
