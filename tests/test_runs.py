"""Reading the user's table of runs: formats, columns, derivations, filters, every bad input."""

from __future__ import annotations

import csv
import io
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chinchilla_cli import runs as runs_module
from chinchilla_cli.errors import InputError
from chinchilla_cli.runs import ALIASES, Runs, read_runs

DATA = Path(__file__).parent / "data"
SVG = DATA / "svg_extracted_data.csv"
LLAMA3 = DATA / "llama3_isoflops_points.csv"

ROWS = [  # params, tokens, loss; 12 runs, enough for min_rows=10
    (1e8 * (i + 1), 2e9 * (i + 1), 4.0 - 0.1 * i) for i in range(12)
]


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
    return read_runs(write(tmp_path, text, name), **kw)


def error(tmp_path: Path, text: str | bytes, name: str = "runs.csv", **kw) -> str:
    with pytest.raises(InputError) as e:
        read_text(tmp_path, text, name, **kw)
    return str(e.value)


def assert_rows(r: Runs, rows=ROWS) -> None:
    expected = np.array(rows, dtype=float)
    np.testing.assert_array_equal(r.params, expected[:, 0])
    np.testing.assert_array_equal(r.tokens, expected[:, 1])
    np.testing.assert_array_equal(r.loss, expected[:, 2])
    np.testing.assert_array_equal(r.flops, 6.0 * expected[:, 0] * expected[:, 1])


# ------------------------------------------------------------------ the real data files


def test_svg_file_loads_with_no_options():
    r = read_runs(str(SVG))
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
    r = read_runs(str(SVG), max_loss=3.42)
    assert (r.n_read, r.n_kept, r.n_dropped) == (245, 240, 5)
    assert r.loss.max() <= 3.42
    assert "dropped 5 rows with loss > 3.42" in r.notes
    np.testing.assert_array_equal(r.tokens, r.flops / (6 * r.params))
    full = read_runs(str(SVG))
    assert np.sort(full.loss)[-5:].min() > 3.42 > np.sort(full.loss)[-6]  # the five highest


def test_llama3_file_loads_with_no_options():
    r = read_runs(str(LLAMA3))
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
    assert "--loss-col" in message
    r = read_text(tmp_path, text, loss_col="val loss")
    np.testing.assert_array_equal(r.loss, [y + 1 for _, _, y in ROWS])


def test_override_naming_a_missing_column(tmp_path):
    message = error(tmp_path, table(), loss_col="foo")
    assert (
        message == f"--loss-col: no column 'foo' in {tmp_path / 'runs.csv'}; "
        "columns: params, tokens, loss"
    )
    assert error(tmp_path, table(), params_col="size").startswith("--params-col: no column")


def test_two_overrides_naming_one_column(tmp_path):
    message = error(tmp_path, table(), params_col="params", tokens_col="PARAMS")
    assert "--params-col and --tokens-col both name column 'params'" in message


def test_duplicated_headers(tmp_path):
    rows = [(n, d, y, y) for n, d, y in ROWS]
    message = error(tmp_path, table(rows, ("params", "tokens", "loss", "loss")))
    assert "runs.csv" in message
    assert "'loss' (column 3) and 'loss' (column 4)" in message
    message = error(tmp_path, table(rows, ("params", "tokens", "loss", "Loss")), loss_col="LOSS")
    assert "--loss-col: 'LOSS' matches 2 columns" in message
    r = read_text(tmp_path, table(rows, ("params", "tokens", "loss", "Loss")), loss_col="Loss")
    assert r.columns["loss"] == "Loss"  # the exact header text decides
    rows = [(n, n, d, y) for n, d, y in ROWS]
    message = error(tmp_path, table(rows, ("n", "params", "tokens", "loss")))
    assert "'n' (column 1) and 'params' (column 2) both look like params (N)" in message
    assert "--params-col" in message


def test_override_prefers_the_exact_header_text(tmp_path):
    rows = [(n, d, y, y + 1) for n, d, y in ROWS]
    r = read_text(
        tmp_path, table(rows, ("params", "tokens", "val_loss", "val-loss")), loss_col="val-loss"
    )
    assert r.columns["loss"] == "val-loss"


def test_no_loss_column(tmp_path):
    message = error(tmp_path, "params,tokens,perplexity\n1,2,3\n")
    assert "runs.csv: no loss column; accepted headers: loss, l, final loss, val loss," in message
    assert "columns: params, tokens, perplexity" in message


def test_fewer_than_two_of_params_tokens_flops(tmp_path):
    message = error(tmp_path, "model size,loss\n1,2\n")
    assert "runs.csv: need two of the params (N), tokens (D) and flops (C) columns" in message
    assert "found only params ('model size')" in message
    for name in ("model size", "training tokens", "compute budget"):
        assert name in message
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
    with pytest.raises(InputError, match="--min-flops .* is above --max-flops"):
        read_runs(str(SVG), min_flops=1e22, max_flops=1e20)
    with pytest.raises(InputError, match="--max-loss: nan"):
        read_runs(str(SVG), max_loss=float("nan"))


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
        read_runs(path)


def test_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        read_runs(str(tmp_path))


def test_unreadable_file(tmp_path, monkeypatch):
    path = write(tmp_path, table())

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(runs_module, "open", denied, raising=False)
    with pytest.raises(InputError, match=r"runs\.csv: cannot be read \(permission denied\)"):
        read_runs(path)


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
        ("1,5", "'1,5' is not a number"),
        ("70BB", "'70BB' is not a number"),
        ("1e999T", "'1e999T' is not finite"),
    ],
)
@pytest.mark.parametrize("column", [0, 1, 2])
def test_bad_values(tmp_path, cell, problem, column):
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
    message = error(tmp_path, table(header=("params", "tokens", "loss")) + "1e200,1e200,3\n")
    assert "runs.csv:14: flops C = 6 N D comes out as inf from N = 1e+200, D = 1e+200" in message


def test_the_earliest_problem_is_reported(tmp_path):
    lines = table().splitlines()
    lines[3] = "1e9,2e10,-1"  # line 4
    lines[6] = "1e9,2e10"  # line 7
    message = error(tmp_path, "\n".join(lines) + "\n")
    assert "runs.csv:4: column 'loss': '-1' is not positive" in message


def test_line_numbers_across_blocks(tmp_path, monkeypatch):
    """Blocks parsed by numpy and by the csv module count lines the same way."""
    monkeypatch.setattr(runs_module, "_BLOCK_CHARS", 200)
    rows = [(1e8 + i, 2e9 + i, 3.0) for i in range(600)]
    lines = table(rows).splitlines()
    lines[100] = '"1e8",2e9,3.0'  # a quoted cell: this block goes through the csv module
    lines[150] = "x,2e9,3.0"
    message = error(tmp_path, "\n".join(lines) + "\n")
    assert "runs.csv:151: column 'params': 'x' is not a number" in message
    lines[150] = "1e8,2e9,3.0"
    lines[500] = "1e8,2e9,0"
    assert "runs.csv:501: column 'loss': '0' is not positive" in error(
        tmp_path, "\n".join(lines) + "\n"
    )


# ------------------------------------------------------------------ both parsing paths agree


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(*[st.floats(min_value=1e-100, max_value=1e100)] * 3),
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
        a = read_runs("-", stdin=io.TextIOWrapper(io.BytesIO(plain.encode())), min_rows=1)
        b = read_runs("-", stdin=io.StringIO(quoted), min_rows=1)
        for r in (a, b):
            np.testing.assert_array_equal(r.params, expected[:, 0])
            np.testing.assert_array_equal(r.tokens, expected[:, 1])
            np.testing.assert_array_equal(r.loss, expected[:, 2])


def test_mixed_blocks_give_the_same_arrays(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    rows = [tuple(v) for v in 10 ** rng.uniform(-2, 20, size=(3000, 3))]
    plain = table(rows)
    lines = plain.splitlines()
    for i in range(5, len(lines), 97):  # sprinkle quoted rows and blank lines
        lines[i] = ",".join(f'"{c}"' for c in lines[i].split(","))
    for i in range(7, len(lines), 301):
        lines[i] += "\n"
    mixed = "\n".join(lines) + "\n"
    reference = read_text(tmp_path, plain, "plain.csv")
    fast_block = runs_module._fast_block
    for block in (64, 1000, 1 << 20):
        monkeypatch.setattr(runs_module, "_BLOCK_CHARS", block)
        outcomes: list[bool] = []

        def counted(*args, _outcomes=outcomes):
            result = fast_block(*args)
            _outcomes.append(result is not None)
            return result

        monkeypatch.setattr(runs_module, "_fast_block", counted)
        r = read_text(tmp_path, mixed, "mixed.csv")
        assert r.n_read == 3000
        if block < len(mixed):  # several blocks: both paths were used
            assert any(outcomes) and not all(outcomes)
        for name in ("params", "tokens", "flops", "loss"):
            np.testing.assert_array_equal(getattr(r, name), getattr(reference, name))


def test_quoted_header_spanning_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(runs_module, "_BLOCK_CHARS", 16)
    text = '"model\nsize (a very long name, with commas)",tokens,loss\n' + "".join(
        f'{n!r},"{d!r}",{y!r}\n' for n, d, y in ROWS
    )
    r = read_text(tmp_path, text, params_col="model\nsize (a very long name, with commas)")
    assert_rows(r)
    message = error(tmp_path, text + "1,2\n", params_col="model size(a very long name,with commas)")
    assert "runs.csv:15: expected 3 cells" in message  # the header takes lines 1 and 2


# ------------------------------------------------------------------ stdin


def test_stdin_bytes():
    stream = io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbf" + table(sep="\t").encode()))
    r = read_runs("-", stdin=stream)
    assert r.source == "<stdin>"
    assert_rows(r)


def test_stdin_utf16_and_errors():
    stream = io.TextIOWrapper(io.BytesIO(table().encode("utf-16")))
    assert_rows(read_runs("-", stdin=stream))
    bad = io.TextIOWrapper(io.BytesIO((table() + "1,2,zz\n").encode()))
    with pytest.raises(InputError, match=r"^<stdin>:14: column 'loss': 'zz' is not a number"):
        read_runs("-", stdin=bad)
    with pytest.raises(InputError, match=r"^<stdin>: is empty"):
        read_runs("-", stdin=io.TextIOWrapper(io.BytesIO(b"")))
    with pytest.raises(InputError, match=r"^<stdin>: not a text table \(binary data\?\)"):
        read_runs("-", stdin=io.TextIOWrapper(io.BytesIO(b"\x00\x01\x02" * 100)))


def test_stdin_text_without_a_buffer():
    assert_rows(read_runs("-", stdin=io.StringIO(table(end="\r\n"))))
    with pytest.raises(InputError, match=r"^<stdin>: not a text table .*NUL character on line 3"):
        read_runs("-", stdin=io.StringIO("params,tokens,loss\n1,2,3\n1,\x00,3\n"))


def test_stdin_defaults_to_sys_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(table().encode())))
    assert_rows(read_runs("-"))


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


def test_a_million_rows_in_little_memory(million_rows):
    path, first = million_rows
    tracemalloc.start()
    try:
        start = time.perf_counter()
        r = read_runs(path, max_loss=3.0)
        seconds = time.perf_counter() - start
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
