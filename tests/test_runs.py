"""Reading the user's table of runs: formats, columns, derivations, filters, every bad input;
and the same from a mapping of columns (runs_from_columns)."""

from __future__ import annotations

import csv
import io
import math
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chinchilla_cli import formats, tables
from chinchilla_cli import runs as runs_module
from chinchilla_cli.errors import InputError
from chinchilla_cli.read_options import DEFAULT_READ, ReadOptions
from chinchilla_cli.runs import ALIASES, Runs, read_runs, runs_from_columns

DATA = Path(__file__).parent / "data"
SVG = DATA / "svg_extracted_data.csv"
LLAMA3 = DATA / "llama3_isoflops_points.csv"

ROWS = [  # params, tokens, loss; 12 runs, enough for min_rows=10
    (1e8 * (i + 1), 2e9 * (i + 1), 4.0 - 0.1 * i) for i in range(12)
]


def read(path: str, *, min_rows: int = 10, stdin=None, **options) -> Runs:
    """read_runs with its ReadOptions given as keywords."""
    return read_runs(path, ReadOptions(**options), min_rows=min_rows, stdin=stdin)


def from_columns(columns, *, min_rows: int = 10, source: str = "<columns>", **options) -> Runs:
    """runs_from_columns with its ReadOptions given as keywords."""
    return runs_from_columns(columns, ReadOptions(**options), min_rows=min_rows, source=source)


def table(rows=ROWS, header=("params", "tokens", "loss"), sep=",", end="\n") -> str:
    lines = [sep.join(header)] + [sep.join(repr(float(v)) for v in row) for row in rows]
    return end.join(lines) + end


def write(tmp_path: Path, text: str | bytes, name: str = "runs.csv") -> str:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8", newline="")
    return str(p)


def read_text(tmp_path: Path, text: str | bytes, name: str = "runs.csv", **kw) -> Runs:
    return read(write(tmp_path, text, name), **kw)


def raised(tmp_path: Path, text: str | bytes, name: str = "runs.csv", **kw) -> InputError:
    with pytest.raises(InputError) as e:
        read_text(tmp_path, text, name, **kw)
    return e.value


def error(tmp_path: Path, text: str | bytes, name: str = "runs.csv", **kw) -> str:
    return str(raised(tmp_path, text, name, **kw))


def assert_rows(r: Runs, rows=ROWS) -> None:
    expected = np.array(rows, dtype=float)
    np.testing.assert_array_equal(r.params, expected[:, 0])
    np.testing.assert_array_equal(r.tokens, expected[:, 1])
    np.testing.assert_array_equal(r.loss, expected[:, 2])
    np.testing.assert_array_equal(r.flops, 6.0 * expected[:, 0] * expected[:, 1])


# ------------------------------------------------------------------ the real data files


def test_svg_file_loads_with_no_options():
    r = read(str(SVG))
    assert (r.n_read, r.n_kept, r.n_dropped) == (245, 245, 0)
    assert r.source == str(SVG)
    assert r.columns == {
        "params": "Model Size",
        "tokens": "derived",
        "flops": "Training FLOP",
        "loss": "loss",
    }
    assert r.derived == ("tokens D = C / (6 N) (no tokens column)",)
    with SVG.open(newline="") as f:
        rows = list(csv.DictReader(f))
    np.testing.assert_array_equal(r.params, [float(row["Model Size"]) for row in rows])
    np.testing.assert_array_equal(r.flops, [float(row["Training FLOP"]) for row in rows])
    np.testing.assert_array_equal(r.loss, [float(row["loss"]) for row in rows])
    np.testing.assert_array_equal(r.tokens, r.flops / (6 * r.params))  # exactly
    for a in (r.params, r.tokens, r.flops, r.loss):
        assert a.dtype == np.float64 and a.shape == (245,) and a.flags.c_contiguous


def test_svg_file_max_loss_keeps_240():
    r = read(str(SVG), max_loss=3.42)
    assert (r.n_read, r.n_kept, r.n_dropped) == (245, 240, 5)
    assert r.loss.max() <= 3.42
    assert "dropped 5 rows with loss > 3.42" in r.notes
    np.testing.assert_array_equal(r.tokens, r.flops / (6 * r.params))
    full = read(str(SVG))
    assert np.sort(full.loss)[-5:].min() > 3.42 > np.sort(full.loss)[-6]  # the five highest


def test_llama3_file_loads_with_no_options():
    r = read(str(LLAMA3))
    assert (r.n_read, r.n_kept) == (133, 133)
    assert r.columns == {
        "params": "derived",
        "tokens": "training_tokens",
        "flops": "compute_budget",
        "loss": "validation_loss",
    }
    assert r.derived == ("params N = C / (6 D) (no params column)",)
    np.testing.assert_array_equal(r.params, r.flops / (6 * r.tokens))
    assert len(np.unique(r.flops)) == 10
    assert r.flops.min() == 6e18 and r.flops.max() == 1e22


# ------------------------------------------------------------------ formats


@pytest.mark.parametrize("sep", [",", "\t", ";", "|"])
@pytest.mark.parametrize("name", ["runs.csv", "runs.tsv", "runs.txt", "runs"])
def test_delimiters_are_sniffed_whatever_the_extension(tmp_path, sep, name):
    assert_rows(read_text(tmp_path, table(sep=sep), name))


def test_delimiter_is_the_most_frequent_outside_quotes(tmp_path):
    text = '"N (params, count)";"D, tokens";loss\n' + table(sep=";").split("\n", 1)[1]
    r = read_text(tmp_path, text, params_col="N (params, count)", tokens_col="D, tokens")
    assert_rows(r)


def test_bom_crlf_and_trailing_blank_lines(tmp_path):
    text = table(end="\r\n") + "\r\n\r\n  \r\n"
    assert_rows(read_text(tmp_path, b"\xef\xbb\xbf" + text.encode()))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_bom(tmp_path, encoding):
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(encoding, b"")
    r = read_text(tmp_path, bom + table(end="\r\n").encode(encoding))
    assert_rows(r)
    assert r.columns["params"] == "params"  # no BOM left on the first header


def test_quoted_numbers_and_thousands_separators(tmp_path):
    text = "params,tokens,loss\n" + "".join(f'"{int(n):,}","{d:.2e}","{y!r}"\n' for n, d, y in ROWS)
    assert_rows(read_text(tmp_path, text))
    semicolons = "params;tokens;loss\n" + "".join(
        f"{int(n):,};{int(d):,};{y!r}\n" for n, d, y in ROWS
    )
    assert_rows(read_text(tmp_path, semicolons, "semi.csv"))


def test_suffixed_numbers(tmp_path):
    text = 'params,tokens,loss\n70B,1.4T,1.94\n400M,8B,3.0\n2k,"1,000k",5\n1.5m,3G,4\n'
    r = read_text(tmp_path, text, min_rows=1)
    np.testing.assert_allclose(r.params, [70e9, 400e6, 2e3, 1.5e6], rtol=1e-15)
    np.testing.assert_allclose(r.tokens, [1.4e12, 8e9, 1e6, 3e9], rtol=1e-15)


def test_plain_floats_scientific_and_spaces(tmp_path):
    text = "params , tokens , loss\n 1e9 , 2.5E+10 ,3.125 \n+100000000,.5e11,2\n"
    r = read_text(tmp_path, text, min_rows=2)
    np.testing.assert_array_equal(r.params, [1e9, 1e8])
    np.testing.assert_array_equal(r.tokens, [2.5e10, 5e10])
    np.testing.assert_array_equal(r.loss, [3.125, 2.0])


def test_quoted_cell_with_a_newline_in_an_unused_column(tmp_path):
    text = "name,params,tokens,loss\n" + "".join(
        f'"run\n{i}",{n!r},{d!r},{y!r}\n' for i, (n, d, y) in enumerate(ROWS)
    )
    assert_rows(read_text(tmp_path, text))


def test_blank_lines_and_rows_of_empty_cells_are_skipped(tmp_path):
    lines = table().splitlines()
    text = "\n\n" + "\n".join(lines[:4] + ["", ",,", "   "] + lines[4:]) + "\n\n,,\n"
    r = read_text(tmp_path, text)
    assert_rows(r)
    assert r.n_read == 12


# ------------------------------------------------------------------ columns


@pytest.mark.parametrize("role", ["params", "tokens", "loss"])
def test_every_accepted_header_is_found(tmp_path, role):
    default = {"params": "params", "tokens": "tokens", "loss": "loss"}
    for alias in ALIASES[role]:
        for spelling in (alias, alias.upper().replace(" ", "_"), alias.title().replace(" ", "-")):
            header = tuple(spelling if r == role else default[r] for r in default)
            r = read_text(tmp_path, table(header=header))
            assert r.columns[role] == spelling
            assert_rows(r)


def test_every_accepted_flops_header_is_found(tmp_path):
    for alias in ALIASES["flops"]:
        text = f"params,{alias.upper()},loss\n" + "".join(
            f"{n!r},{6 * n * d!r},{y!r}\n" for n, d, y in ROWS
        )
        r = read_text(tmp_path, text)
        assert r.columns["flops"] == alias.upper()
        assert r.derived == ("tokens D = C / (6 N) (no tokens column)",)


def test_derive_params_tokens_or_flops(tmp_path):
    n = np.array([r[0] for r in ROWS])
    d = np.array([r[1] for r in ROWS])
    c = 6 * n * d
    loss = [r[2] for r in ROWS]
    no_flops = read_text(tmp_path, table())
    assert no_flops.derived == ("flops C = 6 N D (no flops column)",)
    assert no_flops.columns["flops"] == "derived"
    np.testing.assert_array_equal(no_flops.flops, 6.0 * n * d)

    rows = list(zip(c, d, loss, strict=True))
    no_params = read_text(tmp_path, table(rows, ("compute", "tokens", "loss")))
    assert no_params.derived == ("params N = C / (6 D) (no params column)",)
    np.testing.assert_array_equal(no_params.params, c / (6.0 * d))

    rows = list(zip(n, c, loss, strict=True))
    no_tokens = read_text(tmp_path, table(rows, ("n", "c", "l")))
    assert no_tokens.derived == ("tokens D = C / (6 N) (no tokens column)",)
    np.testing.assert_array_equal(no_tokens.tokens, c / (6.0 * n))


def test_all_three_given_are_used_as_given(tmp_path):
    rows = [(n, d, 6 * n * d, y) for n, d, y in ROWS]
    r = read_text(tmp_path, table(rows, ("params", "tokens", "flops", "loss")))
    assert r.derived == () and r.notes == ()
    assert "derived" not in r.columns.values()
    skewed = [(n, d, 8 * n * d, y) for n, d, y in ROWS]
    r = read_text(tmp_path, table(skewed, ("params", "tokens", "flops", "loss")))
    np.testing.assert_array_equal(r.flops, [row[2] for row in skewed])
    assert any("differs from 6 N D by up to 33%" in note for note in r.notes)


def test_column_overrides(tmp_path):
    header = ("size", "tok", "my loss", "loss")
    rows = [(n, d, y, 99.0) for n, d, y in ROWS]
    r = read_text(
        tmp_path, table(rows, header), params_col="SIZE", tokens_col="tok", loss_col="My_Loss"
    )
    assert r.columns == {"params": "size", "tokens": "tok", "flops": "derived", "loss": "my loss"}
    assert_rows(r)


def test_override_resolves_two_loss_columns(tmp_path):
    rows = [(n, d, y, y + 1) for n, d, y in ROWS]
    text = table(rows, ("params", "tokens", "train loss", "val loss"))
    message = error(tmp_path, text)
    assert "runs.csv" in message
    assert "'train loss' (column 3) and 'val loss' (column 4) both look like the loss" in message
    assert message.endswith("; choose one with `loss_col`")
    r = read_text(tmp_path, text, loss_col="val loss")
    np.testing.assert_array_equal(r.loss, [y + 1 for _, _, y in ROWS])


def test_override_naming_a_missing_column(tmp_path):
    e = raised(tmp_path, table(), loss_col="foo")
    assert e.field == "loss_col"  # the command line names it --loss-col
    assert e.message == f"no column 'foo' in {tmp_path / 'runs.csv'}; columns: params, tokens, loss"
    e = raised(tmp_path, table(), params_col="size")
    assert e.field == "params_col" and e.message.startswith("no column 'size'")


def test_two_overrides_naming_one_column(tmp_path):
    e = raised(tmp_path, table(), params_col="params", tokens_col="PARAMS")
    assert e.field is None
    assert "`params_col` and `tokens_col` both name column 'params'" in e.message


def test_duplicated_headers(tmp_path):
    rows = [(n, d, y, y) for n, d, y in ROWS]
    message = error(tmp_path, table(rows, ("params", "tokens", "loss", "loss")))
    assert "runs.csv" in message
    assert "'loss' (column 3) and 'loss' (column 4)" in message
    e = raised(tmp_path, table(rows, ("params", "tokens", "loss", "Loss")), loss_col="LOSS")
    assert e.field == "loss_col" and e.message.startswith("'LOSS' matches 2 columns")
    r = read_text(tmp_path, table(rows, ("params", "tokens", "loss", "Loss")), loss_col="Loss")
    assert r.columns["loss"] == "Loss"  # the exact header text decides
    rows = [(n, n, d, y) for n, d, y in ROWS]
    message = error(tmp_path, table(rows, ("n", "params", "tokens", "loss")))
    assert "'n' (column 1) and 'params' (column 2) both look like params (N)" in message
    assert "`params_col`" in message


def test_override_prefers_the_exact_header_text(tmp_path):
    rows = [(n, d, y, y + 1) for n, d, y in ROWS]
    r = read_text(
        tmp_path, table(rows, ("params", "tokens", "val_loss", "val-loss")), loss_col="val-loss"
    )
    assert r.columns["loss"] == "val-loss"


def test_a_loss_named_by_its_metric(tmp_path):
    """A W&B summary export names the loss by its metric: the one header ending in 'loss'
    is the loss, said in a note; a loss scale is not one; two are the user's choice."""
    c4 = "eval/c4_en-validation/CrossEntropyLoss"
    r = read_text(tmp_path, table(ROWS, ("params", "tokens", c4)))
    assert r.columns["loss"] == c4 and any(c4 in note for note in r.notes)
    assert_rows(r)
    assert not any(c4 in note for note in read_text(tmp_path, table(), loss_col="loss").notes)
    named = read_text(tmp_path, table(ROWS, ("params", "tokens", c4)), loss_col=c4)
    assert not any("ends in 'loss'" in note for note in named.notes)
    rows4 = [(*row, 1024.0) for row in ROWS]
    header = ("params", "tokens", "train/CrossEntropyLoss", "loss_scale")
    assert read_text(tmp_path, table(rows4, header)).columns["loss"] == "train/CrossEntropyLoss"
    two = table(rows4, ("params", "tokens", "train/CrossEntropyLoss", c4))
    assert "both end in 'loss'; choose one with `loss_col`" in error(tmp_path, two)


def test_no_loss_column(tmp_path):
    message = error(tmp_path, "params,tokens,perplexity\n1,2,3\n")
    assert "runs.csv: no loss column; accepted headers: loss, l, final loss, val loss," in message
    assert (
        "or one header ending in 'loss' (or name one with `loss_col`); columns: params," in message
    )


def test_fewer_than_two_of_params_tokens_flops(tmp_path):
    message = error(tmp_path, "model size,loss\n1,2\n")
    assert "runs.csv: need two of the params (N), tokens (D) and flops (C) columns" in message
    assert "found only params ('model size')" in message
    for name in ("model size", "training tokens", "compute budget"):
        assert name in message
    assert "(or name them with `params_col`, `tokens_col`, `flops_col`)" in message
    assert "found none of them" in error(tmp_path, "x,loss\n1,2\n")


# ------------------------------------------------------------------ filters


def test_flops_filters(tmp_path):
    rows = [(n, d, 6 * n * d, y) for n, d, y in ROWS]
    c = np.array([row[2] for row in rows])
    text = table(rows, ("params", "tokens", "flops", "loss"))
    lo, hi = c[2], c[-3]
    r = read_text(tmp_path, text, min_flops=lo, max_flops=hi, min_rows=1)
    np.testing.assert_array_equal(r.flops, c[2:-2])
    assert (r.n_read, r.n_kept, r.n_dropped) == (12, 8, 4)
    assert len(r.notes) == 2
    assert r.notes[0].startswith("dropped 2 rows with C < ")
    assert r.notes[1].startswith("dropped 2 rows with C > ")
    r = read_text(tmp_path, text, max_loss=10.0)
    assert r.notes == ("no rows with loss > 10",)


def test_filters_that_contradict_each_other():
    with pytest.raises(InputError) as e:
        read(str(SVG), min_flops=1e22, max_flops=1e20)
    assert e.value.field == "min_flops"
    assert e.value.message == "1.00e22 is above `max_flops` (1.00e20): no run can pass both"
    for name in ("max_loss", "min_flops", "max_flops"):
        with pytest.raises(InputError) as e:
            read(str(SVG), **{name: float("nan")})
        assert e.value.field == name and e.value.message.startswith("nan is not a number")


def test_too_few_runs_left(tmp_path):
    message = error(tmp_path, table(ROWS[:7]))
    assert message.endswith("runs.csv: only 7 runs; at least 10 are needed to fit")
    message = error(tmp_path, table(), max_loss=3.45)
    assert "runs.csv: only 6 runs left after filtering; at least 10 are needed to fit" in message
    assert "dropped 6 rows with loss > 3.45" in message
    assert read_text(tmp_path, table(ROWS[:7]), min_rows=7).n_kept == 7


# ------------------------------------------------------------------ bad input


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.csv")
    with pytest.raises(InputError, match=r"nope\.csv: no such file"):
        read(path)


def test_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        read(str(tmp_path))


def test_unreadable_file(tmp_path, monkeypatch):
    path = write(tmp_path, table())

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tables, "open", denied, raising=False)
    with pytest.raises(InputError, match=r"runs\.csv: cannot be read \(permission denied\)"):
        read(path)


@pytest.mark.parametrize("text", ["", "\n\n   \n", "\r\n"])
def test_empty_file(tmp_path, text):
    assert "runs.csv: is empty" in error(tmp_path, text)


def test_header_only(tmp_path):
    message = error(tmp_path, "params,tokens,loss\n\n")
    assert "runs.csv: no data rows after the header (line 1)" in message


def test_binary_garbage(tmp_path):
    rng = np.random.default_rng(0)
    garbage = rng.integers(0, 256, 5000, dtype=np.uint8).tobytes()
    message = error(tmp_path, garbage, "model.bin")
    assert message.startswith(f"{tmp_path / 'model.bin'}: not a text table (binary data?)")


def test_nul_byte_and_bad_utf8_name_the_line(tmp_path):
    message = error(tmp_path, (table() + "1,2,\x003\n").encode())
    assert "runs.csv: not a text table (binary data?): NUL byte on line 14" in message
    message = error(tmp_path, table().encode() + b"1,2,\xff\n")
    assert "runs.csv: not a text table (binary data?): byte 0xff on line 14 is not UTF-8" in message
    message = error(tmp_path, table().encode() + b"1,2,\xc3")
    assert "not a text table (binary data?)" in message


def test_no_header_row(tmp_path):
    message = error(tmp_path, "1e9,2e10,3.1\n2e9,4e10,3.0\n")
    assert "runs.csv:1: no header row; the first line must name the columns" in message


def test_ragged_row(tmp_path):
    lines = table().splitlines()
    lines.insert(5, "1e9,2e10")  # line 6
    message = error(tmp_path, "\n".join(lines) + "\n")
    assert (
        message == f"{tmp_path / 'runs.csv'}:6: expected 3 cells, as in the header (line 1), got 2"
    )
    message = error(tmp_path, table() + "1e9,2e10,3,4\n")
    assert "runs.csv:14: expected 3 cells" in message and "got 4" in message


def test_non_numeric_cell(tmp_path):
    lines = table().splitlines()
    lines[11] = "1e9,2e10,abc"  # line 12 of the file
    message = error(tmp_path, "\n".join(lines) + "\n")
    assert message.startswith(f"{tmp_path / 'runs.csv'}:12: column 'loss': 'abc' is not a number")


@pytest.mark.parametrize(
    "cell, problem",
    [
        ("nan", "'nan' is not finite"),
        ("inf", "'inf' is not finite"),
        ("-inf", "'-inf' is not finite"),
        ("1e999", "'inf' is not finite"),
        ("0", "'0' is not positive"),
        ("-3.5", "'-3.5' is not positive"),
        ("", "the cell is empty"),
        (" ", "the cell is empty"),  # numpy's old fromstring read it as -1
        ("1,5", "'1,5' is not a number"),
        ("70BB", "'70BB' is not a number"),
        ("1e999T", "'1e999T' is not finite"),
    ],
)
@pytest.mark.parametrize("column", [0, 1, 2])
def test_bad_values(tmp_path, cell, problem, column):
    if column == 2 and (not cell.strip() or cell == "nan"):
        pytest.skip("a run with no loss is left out and named (test_a_row_with_no_loss...)")
    header = ("Model Size", "D", "val loss")
    row = ["1e9", "2e10", "3.1"]
    row[column] = f'"{cell}"' if "," in cell else cell
    text = table(header=header) + ",".join(row) + "\n"
    message = error(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'runs.csv'}:14: column {header[column]!r}: ")
    assert problem in message


def test_non_positive_derived_from_a_bad_cell_is_reported_at_its_cell(tmp_path):
    rows = [(n, 6 * n * d, y) for n, d, y in ROWS]
    rows[3] = (rows[3][0], -1.0, rows[3][2])
    message = error(tmp_path, table(rows, ("params", "flops", "loss")))
    assert "runs.csv:5: column 'flops': '-1' is not positive" in message


def test_derived_overflow(tmp_path):
    message = error(tmp_path, table(header=("params", "flops", "loss")) + "1e-300,1e300,3\n")
    assert (
        "runs.csv:14: tokens D = C / (6 N) comes out as inf from N = 1e-300, C = 1e+300" in message
    )


def test_sizes_beyond_any_model_are_refused(tmp_path):
    message = error(tmp_path, table(header=("params", "tokens", "loss")) + "1e38,1e9,3\n")
    assert "runs.csv:14: column 'params': '1e+38' is out of range" in message


def test_the_earliest_problem_is_reported(tmp_path):
    lines = table().splitlines()
    lines[3] = "1e9,2e10,-1"  # line 4
    lines[6] = "1e9,2e10"  # line 7
    message = error(tmp_path, "\n".join(lines) + "\n")
    assert "runs.csv:4: column 'loss': '-1' is not positive" in message


def test_line_numbers_whichever_reader_reads_the_file(tmp_path):
    """numpy keeps no line numbers and skips blank lines; the line of an error found after
    it read the table is the one the csv module counts, as when the csv module reads it."""
    rows = [(1e8 + i, 2e9 + i, 3.0) for i in range(600)]
    lines = table(rows).splitlines()
    lines[100] = '"1e8",2e9,3.0'  # a quoted cell: the csv module reads this file
    lines[150] = "x,2e9,3.0"
    message = error(tmp_path, "\n".join(lines) + "\n")
    assert "runs.csv:151: column 'params': 'x' is not a number" in message
    lines[150] = "1e8,2e9,3.0"
    lines[500] = "1e8,2e9,0"
    assert "runs.csv:501: column 'loss': '0' is not positive" in error(
        tmp_path, "\n".join(lines) + "\n"
    )
    plain = table(rows).splitlines()  # numpy reads this one
    plain[300] = "1e8,2e9,-2"
    for i in (250, 200, 200, 5):  # blank lines numpy skips
        plain.insert(i, "")
    assert "runs.csv:305: column 'loss': '-2' is not positive" in error(
        tmp_path, "\n".join(plain) + "\n"
    )


# ------------------------------------------------------------------ both parsing paths agree


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(*[st.floats(min_value=1e-100, max_value=1e30)] * 3),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from([",", "\t", ";", "|"]),
    st.sampled_from(["\n", "\r\n"]),
)
def test_numpy_and_csv_paths_read_the_same_numbers(rows, sep, end):
    """A plain table goes through numpy, one with a quoted column through the csv module;
    both must read exactly what float() reads."""
    for fmt in (repr, lambda v: f"{v:.17g}", lambda v: f"{v:.6e}", lambda v: f"{v:.3f}"):
        cells = [[fmt(v) for v in row] for row in rows]
        expected = np.array([[float(c) for c in row] for row in cells])
        if not expected.all():
            continue  # rounded to zero
        plain = f"params{sep}tokens{sep}loss{end}" + "".join(sep.join(row) + end for row in cells)
        quoted = f'"params"{sep}tokens{sep}loss{sep}note{end}' + "".join(
            sep.join(row) + f'{sep}"x"{end}' for row in cells
        )
        a = read("-", stdin=io.TextIOWrapper(io.BytesIO(plain.encode())), min_rows=1)
        b = read("-", stdin=io.StringIO(quoted), min_rows=1)
        for r in (a, b):
            np.testing.assert_array_equal(r.params, expected[:, 0])
            np.testing.assert_array_equal(r.tokens, expected[:, 1])
            np.testing.assert_array_equal(r.loss, expected[:, 2])


def test_numpy_and_the_csv_module_give_the_same_arrays(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    rows = [tuple(v) for v in 10 ** rng.uniform(-2, 20, size=(3000, 3))]
    plain = table(rows)
    lines = plain.splitlines()
    for i in range(5, len(lines), 97):  # sprinkle quoted rows and blank lines
        lines[i] = ",".join(f'"{c}"' for c in lines[i].split(","))
    for i in range(7, len(lines), 301):
        lines[i] += "\n"
    mixed = "\n".join(lines) + "\n"
    numpy_rows = formats._numpy_rows
    read_by_numpy: list[bool] = []

    def counted(*args):
        result = numpy_rows(*args)
        read_by_numpy.append(result is not None)
        return result

    monkeypatch.setattr(formats, "_numpy_rows", counted)
    reference = read_text(tmp_path, plain, "plain.csv")
    r = read_text(tmp_path, mixed, "mixed.csv")
    assert read_by_numpy == [True, False]
    assert r.n_read == reference.n_read == 3000
    for name in ("params", "tokens", "flops", "loss"):
        np.testing.assert_array_equal(getattr(r, name), getattr(reference, name))


def test_quoted_header_spanning_two_lines(tmp_path):
    name = "model\nsize (a very long name, with commas)"
    plain = f'"{name}",tokens,loss\n' + "".join(f"{n!r},{d!r},{y!r}\n" for n, d, y in ROWS)
    quoted = f'"{name}",tokens,loss\n' + "".join(f'{n!r},"{d!r}",{y!r}\n' for n, d, y in ROWS)
    for text in (plain, quoted):  # read by numpy below the header, and by the csv module
        assert_rows(read_text(tmp_path, text, params_col=name))
        message = error(
            tmp_path, text + "1,2\n", params_col="model size(a very long name,with commas)"
        )
        assert "runs.csv:15: expected 3 cells" in message  # the header takes lines 1 and 2
        message = error(tmp_path, text + "1,2,-3\n", params_col=name)
        assert "runs.csv:15: column 'loss': '-3' is not positive" in message


def test_checks_read_the_file_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(tables, "CHUNK_BYTES", 7)
    assert_rows(
        read_text(
            tmp_path,
            "params,tokens,loss,note\n"
            + "".join(f"{n!r},{d!r},{y!r},\u00e9t\u00e9\n" for n, d, y in ROWS),
        )
    )  # two-byte characters split between chunks
    message = error(tmp_path, (table() + "1,2,\x003\n").encode())
    assert "runs.csv: not a text table (binary data?): NUL byte on line 14" in message
    message = error(tmp_path, table().encode() + b"1,2,\xff\n")
    assert "runs.csv: not a text table (binary data?): byte 0xff on line 14 is not UTF-8" in message
    message = error(tmp_path, table().encode() + b"1,2,\xc3")
    assert "the file ends inside a UTF-8 character (line 14)" in message
    monkeypatch.setattr(tables, "MAX_LINE_CHARS", 30)
    message = error(tmp_path, table() + "1" * 40 + ",2,3\n")
    assert "runs.csv:14: the line is longer than" in message


# ------------------------------------------------------------------ stdin


def test_stdin_bytes():
    stream = io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbf" + table(sep="\t").encode()))
    r = read("-", stdin=stream)
    assert r.source == "<stdin>"
    assert_rows(r)


def test_stdin_utf16_and_errors():
    stream = io.TextIOWrapper(io.BytesIO(table().encode("utf-16")))
    assert_rows(read("-", stdin=stream))
    bad = io.TextIOWrapper(io.BytesIO((table() + "1,2,zz\n").encode()))
    with pytest.raises(InputError, match=r"^<stdin>:14: column 'loss': 'zz' is not a number"):
        read("-", stdin=bad)
    with pytest.raises(InputError, match=r"^<stdin>: is empty"):
        read("-", stdin=io.TextIOWrapper(io.BytesIO(b"")))
    with pytest.raises(InputError, match=r"^<stdin>: not a text table \(binary data\?\)"):
        read("-", stdin=io.TextIOWrapper(io.BytesIO(b"\x00\x01\x02" * 100)))


def test_stdin_text_without_a_buffer():
    assert_rows(read("-", stdin=io.StringIO(table(end="\r\n"))))
    with pytest.raises(InputError, match=r"^<stdin>: not a text table .*NUL character on line 3"):
        read("-", stdin=io.StringIO("params,tokens,loss\n1,2,3\n1,\x00,3\n"))


def test_stdin_defaults_to_sys_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(table().encode())))
    assert_rows(read("-"))


# ------------------------------------------------------------------ runs_from_columns


class FakeSeries:
    """A pandas Series as far as numpy and the reader see one."""

    def __init__(self, values):
        self.values = list(values)

    def __array__(self, dtype=None, copy=None):
        return np.array(self.values, dtype=dtype)

    def __iter__(self):
        return iter(self.values)

    def __len__(self):
        return len(self.values)


class FakeFrame:
    """A pandas DataFrame as far as runs_from_columns sees one: keys() and [name]."""

    def __init__(self, columns):
        self._columns = {name: FakeSeries(values) for name, values in columns.items()}

    def keys(self):
        return list(self._columns)

    def __getitem__(self, name):
        return self._columns[name]


def columns_error(columns, **kw) -> InputError:
    with pytest.raises(InputError) as e:
        from_columns(columns, **kw)
    return e.value


def test_columns_dict_of_lists():
    n, d, y = (list(c) for c in zip(*ROWS, strict=True))
    r = from_columns({"params": n, "tokens": d, "loss": y})
    assert_rows(r)
    assert r.source == "<columns>" and (r.n_read, r.n_kept) == (12, 12)
    assert r.columns == {"params": "params", "tokens": "tokens", "flops": "derived", "loss": "loss"}
    assert r.derived == ("flops C = 6 N D (no flops column)",)
    for a in (r.params, r.tokens, r.flops, r.loss):
        assert a.dtype == np.float64 and a.shape == (12,) and a.flags.c_contiguous


def test_columns_dict_of_arrays_with_aliases():
    table = np.array(ROWS)
    r = from_columns({"N": table[:, 0], "D": table[:, 1], "Loss": table[:, 2]})
    assert_rows(r)
    assert r.columns == {"params": "N", "tokens": "D", "flops": "derived", "loss": "Loss"}
    flops = 6 * table[:, 0] * table[:, 1]
    r = from_columns({"Model Size": table[:, 0], "C": flops, "val_loss": table[:, 2]})
    assert r.derived == ("tokens D = C / (6 N) (no tokens column)",)
    np.testing.assert_array_equal(r.tokens, flops / (6 * table[:, 0]))


def test_columns_and_a_file_give_the_same_runs(tmp_path):
    r = read(str(SVG), max_loss=3.42)
    with SVG.open(newline="") as f:
        rows = list(csv.DictReader(f))
    columns = {name: [row[name] for row in rows] for name in rows[0]}  # strings, as read
    c = from_columns(columns, max_loss=3.42, source="svg")
    for name in ("params", "tokens", "flops", "loss"):
        np.testing.assert_array_equal(getattr(c, name), getattr(r, name))
    assert (c.columns, c.derived, c.notes) == (r.columns, r.derived, r.notes)
    assert (c.source, c.n_read, c.n_dropped) == ("svg", r.n_read, r.n_dropped)


def test_columns_fake_dataframe():
    n, d, y = (list(c) for c in zip(*ROWS, strict=True))
    frame = FakeFrame({"run": [f"r{i}" for i in range(12)], "N": n, "D": d, "loss": y})
    r = from_columns(frame)  # the text column is not one of ours: ignored
    assert_rows(r)
    assert r.columns["params"] == "N"


def test_columns_cells_read_as_in_a_file():
    r = from_columns(
        {"params": ["70B", "400M", "1,000,000"], "tokens": [1.4e12, "8e9", 3e9], "loss": [2, 3, 4]},
        min_rows=1,
    )
    np.testing.assert_array_equal(r.params, [70e9, 400e6, 1e6])
    np.testing.assert_array_equal(r.tokens, [1.4e12, 8e9, 3e9])


def test_columns_options_and_filters():
    n, d, y = (np.array(c) for c in zip(*ROWS, strict=True))
    columns = {"size": n, "tok": d, "train loss": y + 1, "val loss": y}
    e = columns_error(columns)
    assert "both look like the loss; choose one with `loss_col`" in e.message
    r = from_columns(
        columns, params_col="size", tokens_col="tok", loss_col="val loss", max_loss=3.45, min_rows=1
    )
    np.testing.assert_array_equal(r.loss, y[y <= 3.45])
    assert r.notes == ("dropped 6 rows with loss > 3.45",)
    e = columns_error(columns, params_col="weights")
    assert e.field == "params_col" and e.message.startswith("no column 'weights' in <columns>")
    assert columns_error(columns, loss_col="val loss", max_flops=float("nan")).field == "max_flops"


def test_columns_missing_loss():
    e = columns_error({"N": [1e9], "D": [2e10], "perplexity": [20.0]})
    assert e.field is None
    assert e.message.startswith("<columns>: no loss column; accepted headers: loss, l, ")
    assert e.message.endswith("(or name one with `loss_col`); columns: N, D, perplexity")
    assert "or one header ending in 'loss'" in e.message
    e = columns_error({"N": [1e9], "loss": [2.0]}, source="my table")
    assert e.message.startswith("my table: need two of the params (N), tokens (D) and flops (C)")


@pytest.mark.parametrize(
    "cell, problem",
    [
        (float("nan"), "'nan' is not finite"),
        (None, "'nan' is not finite"),
        (-3.5, "'-3.5' is not positive"),
        (0, "'0' is not positive"),
        (10**400, "'inf' is not finite"),
        ("abc", "'abc' is not a number"),
        ("", "the cell is empty"),
        ([1, 2], "[1, 2] is not a number"),
    ],
)
def test_columns_bad_values_name_the_column_and_the_row(cell, problem):
    if cell is None or cell == "" or (isinstance(cell, float) and math.isnan(cell)):
        pytest.skip("a run with no loss is left out and named (test_a_row_with_no_loss...)")
    loss = [3.0] * 12
    loss[4] = cell
    e = columns_error({"N": [1e9] * 12, "D": [2e10] * 12, "val loss": loss})
    assert e.message.startswith("<columns>: row 4: column 'val loss': ")
    assert problem in e.message
    assert "\n" not in str(e)


def test_columns_of_other_shapes():
    e = columns_error({"N": [1e9] * 12, "D": [2e10] * 11, "loss": [3.0] * 12})
    assert (
        e.message
        == "<columns>: the columns differ in length: 'N' has 12, 'D' has 11, 'loss' has 12"
    )
    e = columns_error({"N": np.ones((12, 2)), "D": [2e10] * 12, "loss": [3.0] * 12})
    assert "column 'N' holds an array of shape (12, 2)" in e.message
    assert "no runs" in columns_error({"N": [], "D": [], "loss": []}).message
    e = columns_error({"N": [1e200] * 12, "D": [1e200] * 12, "loss": [3.0] * 12})
    assert e.message.startswith("<columns>: row 0: column 'N': '1e+200' is out of range")
    assert (
        "only 3 runs" in columns_error({"N": [1e9] * 3, "D": [2e10] * 3, "loss": [3.0] * 3}).message
    )


# ------------------------------------------------------------------ a million runs


@pytest.fixture(scope="module")
def million_rows(tmp_path_factory):
    rng = np.random.default_rng(7)
    n = 10 ** rng.uniform(7, 11, 1000)
    d = 10 ** rng.uniform(9, 13, 1000)
    loss = 1.8 + 400 / n**0.34 + 400 / d**0.28
    chunk = "".join(
        f"{a:.9g},{b:.9g},{c:.9g},{y:.6f}\n"
        for a, b, c, y in zip(n, d, 6 * n * d, loss, strict=True)
    )
    path = tmp_path_factory.mktemp("big") / "million.csv"
    with path.open("w", encoding="utf-8") as f:
        f.write("params,tokens,flops,loss\n")
        for _ in range(1000):
            f.write(chunk)
    first = np.array([[float(c) for c in line.split(",")] for line in chunk.splitlines()])
    return str(path), first


@pytest.mark.slow
def test_a_million_rows_in_little_memory(million_rows):
    path, first = million_rows
    start = time.perf_counter()
    read(path, max_loss=3.0)
    seconds = time.perf_counter() - start  # untraced: tracing slows each line numpy reads
    tracemalloc.start()
    try:
        r = read(path, max_loss=3.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    kept_per_chunk = int(np.count_nonzero(first[:, 3] <= 3.0))
    assert r.n_read == 1_000_000
    assert r.n_kept == 1000 * kept_per_chunk
    np.testing.assert_array_equal(r.params[:kept_per_chunk], first[first[:, 3] <= 3.0, 0])
    np.testing.assert_array_equal(r.loss[-kept_per_chunk:], first[first[:, 3] <= 3.0, 3])
    assert peak < 300e6, f"peak {peak / 1e6:.0f} MB"
    assert seconds < 30, f"{seconds:.1f} s"


# ------------------------------------------------------------------ a group column


def grouped_table(cells: list[str]) -> str:
    """ROWS with an `arm` column holding `cells` (one per row)."""
    lines = ["arm,params,tokens,loss"]
    lines += [f"{arm},{n!r},{d!r},{y!r}" for arm, (n, d, y) in zip(cells, ROWS, strict=True)]
    return "\n".join(lines) + "\n"


def test_groups_are_read_in_the_same_pass_as_the_runs(tmp_path, monkeypatch):
    opened = []
    real = tables.opened

    def counted(*args, **kwargs):
        opened.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(tables, "opened", counted)
    arms = ["a"] * 6 + ["b"] * 6
    path = write(tmp_path, grouped_table(arms))
    g = runs_module.read_grouped_runs(path, ReadOptions(max_loss=3.85), "ARM")
    assert opened == [path]  # one read of the file: runs and groups from one parse
    assert g.group_col == "arm" and g.groups == tuple(arms)
    assert g.runs.n_read == 12 and g.runs.n_kept == 10  # the filters keep rows, not groups
    assert [arms[i] for i in g.runs.rows_kept] == ["a"] * 4 + ["b"] * 6
    np.testing.assert_array_equal(g.runs.loss, np.array(ROWS)[2:, 2])


def test_a_bad_cell_of_a_grouped_table_is_reported_once_at_its_line(tmp_path):
    arms = ["a"] * 12
    text = grouped_table(arms).replace("\na,400000000.0,", "\na,4e8x,", 1)
    with pytest.raises(InputError) as e:
        runs_module.read_grouped_runs(write(tmp_path, text), DEFAULT_READ, "arm")
    assert e.value.message.startswith(f"{tmp_path / 'runs.csv'}:5: column 'params': '4e8x'")
    assert e.value.field is None
    arms[3] = " "
    path = write(tmp_path, grouped_table(arms))
    with pytest.raises(InputError) as e:
        runs_module.read_grouped_runs(path, DEFAULT_READ, "arm")
    assert (e.value.field, e.value.message) == (
        "group",
        f"{path}:5: the 'arm' cell is empty; every run needs its group",
    )
    with pytest.raises(InputError) as e:
        runs_module.read_grouped_runs(path, DEFAULT_READ, "branch")
    assert e.value.field == "group" and e.value.message.startswith("no column 'branch' in")


def test_groups_of_stdin_and_of_columns(tmp_path):
    from chinchilla_cli import groups, logs

    arms = ["a"] * 6 + ["b"] * 6
    stdin = io.StringIO(grouped_table(arms))
    g, log = logs.read_grouped_table("-", DEFAULT_READ, "arm", stdin=stdin)
    assert log is None and g.groups == tuple(arms) and g.runs.source == "<stdin>"
    columns = {"arm": arms, **{k: [r[i] for r in ROWS] for i, k in enumerate(("N", "D", "L"))}}
    c = runs_module.grouped_runs_from_columns(columns, DEFAULT_READ, "arm")
    assert c.groups == g.groups
    np.testing.assert_array_equal(c.runs.loss, g.runs.loss)
    columns["arm"] = [*arms[:3], None, *arms[4:]]
    with pytest.raises(InputError) as e:
        runs_module.grouped_runs_from_columns(columns, DEFAULT_READ, "arm")
    assert e.value.message == "<columns>: row 3: the 'arm' cell is empty; every run needs its group"
    with pytest.raises(InputError) as e:  # fewer than ten runs in a group
        groups.read_groups(write(tmp_path, grouped_table(arms)), "arm", "b", DEFAULT_READ)
    assert e.value.field == "group" and "arm = 'b' has 6 runs after the filters" in str(e.value)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        (ReadOptions(reduce="min"), "reduce"),
        (ReadOptions(batch_tokens=1e6), "batch_tokens"),
        (ReadOptions(schedule_tokens=1e9), "schedule_tokens"),
    ],
)
def test_a_table_of_runs_refuses_the_log_settings(tmp_path, options, field):
    with pytest.raises(InputError) as e:
        read_runs(write(tmp_path, table()), options)
    assert e.value.field == field and "applies to training logs" in e.value.message
    with pytest.raises(InputError) as e:
        runs_from_columns({"N": [1e8] * 12, "D": [1e9] * 12, "loss": [3.0] * 12}, options)
    assert e.value.field == field


@pytest.mark.parametrize("cell", ["", " ", "nan", "NaN"])
def test_a_row_with_no_loss_is_left_out_and_named(tmp_path, cell):
    """A run not trained yet (a sweep grid half filled in) or one that crashed or diverged
    (no loss, or NaN) is left out of the fit, counted and named: never silently."""
    lines = table().splitlines()
    lines[3] = f"1e9,2e10,{cell}"  # line 4 of the file
    lines[7] = "2e9,4e10,"  # line 8
    path = tmp_path / "runs.csv"
    path.write_text("\n".join(lines) + "\n")
    runs = read_runs(str(path))
    assert (runs.n_read, runs.n_dropped, runs.n_kept) == (12, 2, 10)
    assert "dropped 2 rows with no loss" in runs.notes
    assert runs.warnings == (f"2 rows with no loss left out of the fit: {path}:4, {path}:8",)
    assert runs.rows_kept is not None and 2 not in runs.rows_kept and 6 not in runs.rows_kept


def test_columns_with_no_loss_are_left_out_and_named():
    loss = [3.0] * 12 + [None, float("nan")]
    runs = runs_from_columns(
        {"N": [1e9 * (1 + i) for i in range(14)], "D": [2e10] * 14, "loss": loss}
    )
    assert (runs.n_read, runs.n_kept) == (14, 12)
    assert runs.warnings == (
        "2 rows with no loss left out of the fit: <columns>: row 12, <columns>: row 13",
    )


def test_a_row_with_no_loss_is_not_checked_further():
    """A run not trained yet may have no size either (a DataFrame's empty row): it is left
    out, not refused for its N."""
    n = [1e9 * (1 + i) for i in range(12)]
    runs = runs_from_columns(
        {"N": [*n, None], "D": [2e10] * 12 + [None], "loss": [3.0] * 12 + [None]}
    )
    assert (runs.n_read, runs.n_kept) == (13, 12)
    with pytest.raises(InputError, match=r"^<columns>: no row has a loss"):
        runs_from_columns({"N": [1e9], "D": [2e10], "loss": [None]}, min_rows=1)
