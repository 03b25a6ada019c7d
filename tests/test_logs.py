"""chinchilla_cli.logs: training logs (W&B CSV, JSON Lines, TensorBoard) reduced to runs."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import synthetic_logs as S

from chinchilla_cli import logs
from chinchilla_cli.errors import InputError
from chinchilla_cli.read_options import ReadOptions, Reduce, parse_reduce

DATA = Path(__file__).parent / "data"
OLMO = DATA / "olmo_ladder_wandb_history.csv"
C4 = "eval/c4_en-validation/CrossEntropyLoss"


@pytest.fixture(scope="module")
def rows():
    return S.training_log(checkpoints=20)


def _final(rows):
    """The last logged row of each run, in order of appearance."""
    last: dict[str, dict] = {}
    for row in rows:
        last[row["name"]] = row
    return last


def test_wandb_csv_reduces_to_the_last_row_of_each_run(tmp_path, rows):
    log = logs.read_log(str(S.write_csv(rows, tmp_path / "h.csv")))
    assert log is not None and log.format == "csv" and log.run_col == "name"
    last = _final(rows)
    assert log.run_names == tuple(last)
    assert log.rows_read == len(rows) and log.n_points == log.n_runs == len(last)
    np.testing.assert_allclose(log.columns["loss"], [r["train/loss"] for r in last.values()])
    np.testing.assert_allclose(log.columns["tokens"], [r["tokens"] for r in last.values()])
    # N is logged once, on each run's first row, and holds for all of it
    sizes = {r["name"]: r["params"] for r in rows if "params" in r}
    np.testing.assert_allclose(log.columns["params"], [sizes[n] for n in last])
    assert log.headers == {"loss": "train/loss", "tokens": "tokens", "params": "params"}
    assert log.incomplete == () and log.warnings == ()


def test_jsonl_and_json_array_read_as_the_csv(tmp_path, rows):
    csv_log = logs.read_log(str(S.write_csv(rows, tmp_path / "h.csv")))
    jsonl = logs.read_log(str(S.write_jsonl(rows, tmp_path / "h.jsonl")))
    array = tmp_path / "h.json"
    array.write_text(json.dumps(rows), encoding="utf-8")
    as_array = logs.read_log(str(array))
    for log, fmt in ((jsonl, "jsonl"), (as_array, "json")):
        assert log is not None and log.format == fmt
        assert log.run_names == csv_log.run_names
        for role in ("loss", "tokens", "params"):
            np.testing.assert_allclose(log.columns[role], csv_log.columns[role])


def _tiny(tmp_path: Path, text: str, name: str = "t.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


TINY = """run,step,params,tokens,loss
a,1,1e8,1e9,4.0
a,2,,2e9,3.0
a,3,,3e9,3.2
a,4,,4e9,2.9
b,1,2e8,1e9,3.8
b,2,,2e9,2.5
b,3,,3e9,2.7
"""


@pytest.mark.parametrize(
    ("reduce", "loss", "tokens"),
    [
        ("last", [2.9, 2.7], [4e9, 3e9]),
        ("min", [2.9, 2.5], [4e9, 2e9]),  # the lowest loss at its own D
        ("mean-last 2", [3.05, 2.6], [4e9, 3e9]),  # the mean, at the last D
        ("mean-last:3", [(3.0 + 3.2 + 2.9) / 3, (3.8 + 2.5 + 2.7) / 3], [4e9, 3e9]),
    ],
)
def test_reductions(tmp_path, reduce, loss, tokens):
    log = logs.read_log(_tiny(tmp_path, TINY), ReadOptions(reduce=reduce))
    assert log is not None
    np.testing.assert_allclose(log.columns["loss"], loss)
    np.testing.assert_allclose(log.columns["tokens"], tokens)
    np.testing.assert_allclose(log.columns["params"], [1e8, 2e8])


def test_reduce_none_keeps_every_row_with_its_run(tmp_path):
    log = logs.read_log(_tiny(tmp_path, TINY), ReadOptions(reduce="none"))
    assert log is not None and log.n_points == 7 and log.n_runs == 2
    assert log.run_index.tolist() == [0, 0, 0, 0, 1, 1, 1]
    assert any("every logged row" in w for w in log.warnings)


def test_mean_last_notes_short_runs(tmp_path):
    log = logs.read_log(_tiny(tmp_path, TINY), ReadOptions(reduce="mean-last 4"))
    assert log is not None and any("fewer than 4" in n for n in log.notes)


def test_rows_are_put_in_step_order_and_a_repeated_step_keeps_the_later(tmp_path):
    text = "run,step,params,tokens,loss\n" + "\n".join(
        ["a,2,1e8,2e9,3.0", "a,1,,1e9,4.0", "a,3,,3e9,2.8", "a,3,,3e9,2.7"]  # resumed at 3
    )
    log = logs.read_log(_tiny(tmp_path, text + "\n"))
    assert log is not None and log.columns["loss"].tolist() == [2.7]
    assert any("repeat a step" in n for n in log.notes)


def test_min_tokens_drops_warm_up_rows_before_reducing(tmp_path):
    log = logs.read_log(_tiny(tmp_path, TINY), ReadOptions(reduce="min", min_tokens=2.5e9))
    assert log is not None
    np.testing.assert_allclose(log.columns["loss"], [2.9, 2.7])
    assert any("dropped 4 logged rows with D < 2.50e9" in n for n in log.notes)


def test_tokens_from_steps_times_batch_tokens(tmp_path):
    text = "name,_step,n_params,loss\na,100,1e8,3.0\na,200,,2.9\nb,300,2e8,2.8\n"
    log = logs.read_log(_tiny(tmp_path, text), ReadOptions(batch_tokens=1000))
    assert log is not None
    np.testing.assert_allclose(log.columns["tokens"], [200_000, 300_000])
    assert any("1,000 tokens per step" in n for n in log.notes)
    with pytest.raises(InputError) as e:
        logs.read_log(_tiny(tmp_path, text))
    assert e.value.field == "batch_tokens"


def test_batch_tokens_refused_when_the_log_counts_tokens(tmp_path):
    with pytest.raises(InputError) as e:
        logs.read_log(_tiny(tmp_path, TINY), ReadOptions(batch_tokens=1000))
    assert e.value.field == "batch_tokens" and "tokens column" in e.value.message


def test_the_real_wandb_export(tmp_path):
    """OLMo-ladder's history of two runs: D = _step x batch_size_in_tokens, the C4 loss."""
    log = logs.read_log(str(OLMO), ReadOptions(loss_col=C4))
    assert log is not None and log.run_names == ("190M-1xC", "1B-1xC")
    assert log.rows_read == 119
    assert log.columns["loss"].tolist() == [3.5982627868652344, 3.063988208770752]
    assert log.columns["tokens"].tolist() == [7272 * 524288, 16279 * 1572864]
    assert log.columns["params"].tolist() == [190631117, 1280232653]
    assert log.headers["tokens"] == "_step x tokens per step"
    smooth = logs.read_log(str(OLMO), ReadOptions(loss_col=C4, reduce="mean-last 3"))
    assert smooth is not None
    expected = (3.601834774017334 + 3.5976979732513428 + 3.5982627868652344) / 3
    assert smooth.columns["loss"][0] == pytest.approx(expected, rel=1e-12)


def test_a_loss_named_by_its_metric_is_found_and_said(tmp_path):
    """W&B names a loss by its metric: the one column ending in 'loss' is the loss, with
    a note; the real OLMo export needs no `loss_col`."""
    olmo = logs.read_log(str(OLMO))
    assert olmo is not None and olmo.headers["loss"] == C4
    assert olmo.columns["loss"].tolist() == [3.5982627868652344, 3.063988208770752]
    assert any(C4 in note and "ends in 'loss'" in note for note in olmo.notes)
    named = logs.read_log(str(OLMO), ReadOptions(loss_col=C4))
    assert named is not None and not any("ends in 'loss'" in note for note in named.notes)
    # a mixed-precision loss scale is not a loss; two candidates are a choice to make
    body = TINY.splitlines()[1:]
    scaled = "run,step,params,tokens,train/CrossEntropyLoss,loss_scale\n"
    log = logs.read_log(_tiny(tmp_path, scaled + "\n".join(f"{x},1024" for x in body)))
    assert log is not None and log.headers["loss"] == "train/CrossEntropyLoss"
    two = "run,step,params,tokens,train/CrossEntropyLoss,eval/CrossEntropyLoss\n"
    two += "\n".join(x + x[x.rfind(",") :] for x in body)
    with pytest.raises(InputError, match="both end in 'loss'; choose one with `loss_col`"):
        logs.read_log(_tiny(tmp_path, two))


def test_schedule_column_flags_a_log_that_stops_short(tmp_path):
    rows = S.training_log(checkpoints=20, stop_early={"n4e+07-x20": 0.5, "n4e+09-x5": 0.8})
    log = logs.read_log(str(S.write_csv(rows, tmp_path / "h.csv")))
    assert log is not None and set(log.incomplete) == {"n4e+07-x20", "n4e+09-x5"}
    (warning,) = log.warnings
    assert "2 runs' last losses are logged before their schedules end" in warning
    assert "'n4e+07-x20' (at 50% of" in warning and "overstates" in warning


def test_schedule_tokens_argument(tmp_path):
    log = logs.read_log(str(OLMO), ReadOptions(loss_col=C4, schedule_tokens=2.56e10))
    assert log is not None and log.incomplete == ("190M-1xC",)
    assert "1 run's last loss is logged before" in log.warnings[0]


def test_a_plain_table_is_not_a_log(tmp_path):
    assert logs.read_log(str(DATA / "svg_extracted_data.csv")) is None
    # a run column without a step column: still one row per run, as before
    assert logs.read_log(_tiny(tmp_path, "name,params,tokens,loss\na,1e8,1e9,3\n")) is None
    # ... unless the run column is named
    log = logs.read_log(
        _tiny(tmp_path, "name,params,tokens,loss\na,1e8,1e9,3\n"), ReadOptions(run_col="name")
    )
    assert log is not None and log.run_names == ("a",)


def test_table_from_columns_reduces_a_dataframe_like_log():
    table = {
        "run": ["a", "a", "b", "b"] * 3,
        "params": [1e8, 1e8, 2e8, 2e8] * 3,
        "tokens": [1e9, 2e9, 1e9, 2e9] * 3,
        "loss": [3.0, 2.8, 2.9, 2.7] * 3,
    }
    with pytest.raises(InputError, match="only 2 runs"):  # reduced first, then checked
        logs.table_from_columns(table, ReadOptions(run_col="run"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, Reduce("last")),
        ("LAST", Reduce("last")),
        ("min", Reduce("min")),
        ("none", Reduce("none")),
        ("mean-last 5", Reduce("mean-last", 5)),
        ("mean-last:7", Reduce("mean-last", 7)),
        ("mean_last=2", Reduce("mean-last", 2)),
    ],
)
def test_parse_reduce(text, expected):
    assert parse_reduce(text) == expected


@pytest.mark.parametrize("text", ["mean-last", "mean-last 0", "median", "last 5"])
def test_parse_reduce_refuses(text):
    with pytest.raises(InputError) as e:
        parse_reduce(text)
    assert e.value.field == "reduce" and "\n" not in e.value.message
    with pytest.raises(InputError) as made:  # checked once, when the options are made
        ReadOptions(reduce=text)
    assert made.value.message == e.value.message and made.value.field == "reduce"
    assert ReadOptions(reduce="mean-last:3").reduction == Reduce("mean-last", 3)


# ------------------------------------------------------------------ bad files


BAD = [
    (
        "h.csv",
        "run,step,params,tokens,loss\na,1,1e8,1e9,3\na,2,2e8,2e9,2.9\n",
        ":3: column 'params': 200000000 differs from 100000000",
    ),
    ("h.csv", "run,step,params,tokens,loss\na,1,1e8,1e9,3\na,2,,2e9,abc\n", ":3: column 'loss'"),
    ("h.csv", "run,step,params,tokens,loss\na,1,1e8,1e9,3\na,2,,2e9\n", ":3: expected 5 cells"),
    ("h.csv", "run,step,params,tokens,loss\na,1,1e8,1e9,3\n,2,,2e9,2\n", ":3: column 'run'"),
    ("h.csv", "run,step,params,tokens,loss\na,1,1e8,1e9,0\n", ":2: column 'loss': 0"),
    ("h.jsonl", '{"run": "a", "step": 1, "params": 1e8, "tokens": 1e9, "loss": 3}\n{oops\n', ":2:"),
    ("h.jsonl", '{"run": "a", "loss": 3}\n[1, 2]\n', ":2: expected a JSON object"),
    ("h.jsonl", '{"run": "a", "step": 1, "params": 1e8, "tokens": "x", "loss": 3}\n', ":1:"),
]


@pytest.mark.parametrize(("name", "text", "where"), BAD, ids=[w for _, _, w in BAD])
def test_bad_log_is_one_line_with_file_and_line(tmp_path, name, text, where):
    path = _tiny(tmp_path, text, name)
    with pytest.raises(InputError) as e:
        logs.read_log(path)
    message = e.value.message
    assert "\n" not in message and message.startswith(path) and where in message, message


# ------------------------------------------------------------------ TensorBoard


def _write_events(root: Path, rows: list[dict]) -> Path:
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writers: dict[str, EventFileWriter] = {}
    for row in rows:
        name = row["name"]
        if name not in writers:
            writers[name] = EventFileWriter(str(root / name))
        values = [
            summary_pb2.Summary.Value(tag=tag, simple_value=float(row[key]))
            for tag, key in (
                ("params", "params"),
                ("tokens", "tokens"),
                ("train/loss", "train/loss"),
            )
            if key in row
        ]
        event = event_pb2.Event(step=row["_step"], summary=summary_pb2.Summary(value=values))
        writers[name].add_event(event)
    for w in writers.values():
        w.close()
    return root


def test_tensorboard_directory_of_runs(tmp_path, rows):
    root = _write_events(tmp_path / "tb", rows)
    log = logs.read_log(str(root))
    csv_log = logs.read_log(str(S.write_csv(rows, tmp_path / "h.csv")))
    assert log is not None and csv_log is not None and log.format == "tensorboard"
    assert sorted(log.run_names) == sorted(csv_log.run_names)
    order = [csv_log.run_names.index(n) for n in log.run_names]
    for role in ("loss", "tokens", "params"):  # event files store 32-bit floats
        np.testing.assert_allclose(log.columns[role], csv_log.columns[role][order], rtol=1e-6)
    one = sorted(root.iterdir())[0]
    single = logs.read_log(str(next(one.iterdir())))  # one event file: one run
    assert single is not None and single.run_names == (one.name,)


def test_tensorboard_without_the_extra_names_it(tmp_path, monkeypatch):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "events.out.tfevents.1.host").write_bytes(b"\0" * 16)
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "tensorboard.backend.event_processing.event_file_loader", None)
    with pytest.raises(InputError) as e:
        logs.read_log(str(tmp_path))
    assert "\n" not in e.value.message
    assert "pip install 'chinchilla-cli[tensorboard]'" in e.value.message


def test_tensorboard_run_col_is_refused(tmp_path, rows):
    root = _write_events(tmp_path / "tb", rows[:5])
    with pytest.raises(InputError) as e:
        logs.read_log(str(root), ReadOptions(run_col="name"))
    assert e.value.field == "run_col"


def test_short_column_names_n_and_t_are_params_and_tokens(tmp_path):
    from chinchilla_cli.runs import read_runs

    lines = ["n,t,loss"] + [
        f"{n:g},{n * 20:g},{2 + 1e3 / n**0.3:.4f}" for n in np.geomspace(1e7, 1e9, 10)
    ]
    runs = read_runs(_tiny(tmp_path, "\n".join(lines) + "\n"))
    assert runs.columns == {"params": "n", "tokens": "t", "flops": "derived", "loss": "loss"}
    assert math.isclose(float(runs.tokens[0] / runs.params[0]), 20.0)


def test_an_unquoted_window_says_to_quote_it(run):
    """`--reduce mean-last 3` leaves "3" as an extra argument: the one line says a value
    with a space needs quotes, and mean-last:3 needs none."""
    log = str(DATA / "generated_training_log.csv")
    r = run("fit", log, "--reduce", "mean-last", "3")
    assert r.exit_code == 2 and "quotes" in r.stderr and len(r.stderr.splitlines()) == 1
    assert run("fit", log, "--reduce", "mean-last:3").exit_code == 0


def test_a_mean_last_window_over_much_of_a_run_warns_and_names_the_runs(tmp_path, rows):
    path = S.write_csv(rows, tmp_path / "h.csv")
    narrow = logs.read_log(str(path), ReadOptions(reduce="mean-last:2"))
    assert narrow is not None and not any("window spans" in w for w in narrow.warnings)
    wide = logs.read_log(str(path), ReadOptions(reduce="mean-last:5"))
    assert wide is not None
    (warning,) = [w for w in wide.warnings if "window spans" in w]
    assert "more than 10% of the tokens of 35 runs: 'n4e+07-x5' (20%)" in warning


# ------------------------------------------------------------------ the fast path of big logs


def _both_paths(text: bytes):
    """A log read by numpy (fast_logs) and by the csv module: (cells, n, where) each."""
    import io as _io

    from chinchilla_cli import formats, tables

    out = []
    for is_text in (lambda name: name == "run", None):
        data = _io.BytesIO(text)
        encoding = tables.check_text(data, "t.csv", "byte")
        table = formats.read_csv_table(
            data, encoding, "t.csv", lambda name: True, lambda header: True, is_text
        )
        assert table is not None
        numbers = {
            name: formats.numbers(cells, name, table.where)
            for name, cells in table.cells.items()
            if name != "run"
        }
        runs = [str(v) for v in table.cells["run"]]
        out.append((numbers, runs, table.n_rows, table.where(table.n_rows - 1)))
    return out


def test_the_numpy_and_csv_readers_of_a_log_agree():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    cell = st.one_of(st.just(""), st.floats(1e-3, 1e12).map(repr), st.integers(0, 10**6).map(str))
    row = st.tuples(st.sampled_from(["a", "b-1", "run 7"]), cell, cell, cell)

    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(row, min_size=1, max_size=30),
        st.sampled_from([",", "\t", ";"]),
        st.sampled_from(["\n", "\r\n"]),
    )
    def check(rows, sep, end):
        text = sep.join(["run", "step", "params", "loss"]) + end
        text += "".join(sep.join(r) + end for r in rows)
        fast, slow = _both_paths(text.encode())
        for name in slow[0]:
            np.testing.assert_array_equal(fast[0][name], slow[0][name])
        assert fast[1:] == slow[1:]

    check()


def test_the_fast_path_gives_way_to_the_csv_module(tmp_path):
    quoted = b'run,step,loss\n"a",1,3\n'
    blank = b"run,step,loss\na,1,3\n\na,2,2.9\n"
    nameless = b"run,step,loss\na,1,3\n,2,2.9\n"
    for text in (quoted, blank, nameless):
        fast, slow = _both_paths(text)
        assert fast[1:] == slow[1:]


def test_a_million_row_log_reduces_to_its_runs(tmp_path):
    sys.path.insert(0, str(Path(__file__).parent.parent / "benchmarks"))
    from log_speed import write_log

    n_runs = write_log(tmp_path / "h.csv", tmp_path / "h.jsonl", 1_000_000)
    log = logs.read_log(str(tmp_path / "h.csv"))
    assert log is not None and log.n_runs == n_runs == 1000 and log.rows_read == 1_000_000


def test_tensorboard_hparams_give_each_run_its_n(tmp_path, rows):
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto import event_pb2
    from tensorboard.plugins.hparams import summary_v2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    logged = [{k: v for k, v in r.items() if k != "params"} for r in rows]
    root = _write_events(tmp_path / "tb", logged)
    for r in rows:
        if "params" in r:  # N as a hyperparameter of the run, as hp.hparams() writes it
            writer = EventFileWriter(str(root / r["name"]), filename_suffix=".hparams")
            pb = summary_v2.hparams_pb({"params": r["params"], "optimizer": "adam"})
            writer.add_event(event_pb2.Event(step=0, summary=pb))
            writer.close()
    log = logs.read_log(str(root))
    assert log is not None and log.n_runs == 35
    want = _final(rows)
    assert sorted(log.columns["params"]) == sorted(r["params"] for r in rows if "params" in r)
    assert len(want) == 35


def test_json_columns_keep_their_values_as_logged(tmp_path):
    lines = [
        {"run": r, "step": s, "params": 1e8 * (r + 1), "tokens": 1e9 * s, "loss": 3.0 - 0.1 * s}
        for r in range(12)
        for s in (1, 2)
    ]
    path = tmp_path / "h.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    log = logs.read_log(str(path))
    assert log is not None and log.run_names[:3] == ("0", "1", "2")  # not "0.0"
    lines[-1]["loss"] = True
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    with pytest.raises(InputError, match=r"h.jsonl:24: column 'loss': True is a boolean"):
        logs.read_log(str(path))


def test_a_log_whose_rows_never_pair_a_loss_with_tokens_says_so(tmp_path):
    with pytest.raises(InputError, match="no row logs both a loss and its tokens"):
        logs.read_log(_tiny(tmp_path, "name,_step,params,tokens,loss\na,0,1e8,,1\n"))
    with pytest.raises(InputError, match="this run logs no N"):
        logs.read_log(_tiny(tmp_path, "name,_step,params,tokens,loss\na,0,,1e9,1\n"))
