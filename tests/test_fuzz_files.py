"""Fuzzing the files users hand the tool: tables of runs and YAML law and model files.

Each random file either reads (and then every value is finite and positive) or fails
with one InputError of one line naming the file; nothing else ever escapes. Through the
command line the same holds: exit 0, 1 (a fit that fails) or 2, and one stderr line.
The tables' fixed cases (a million rows, each format) are in tests/test_runs.py.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chinchilla_cli.comparison import configs_from_file
from chinchilla_cli.errors import InputError
from chinchilla_cli.law_files import _FIELDS, _OPTIONAL, load_law
from chinchilla_cli.laws import ParametricLaw
from chinchilla_cli.runs import ALIASES, read_runs, runs_from_columns

FILE_FUZZ = settings(  # CHINCHILLA_FUZZ_EXAMPLES=2000 for a longer run by hand
    max_examples=int(os.environ.get("CHINCHILLA_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def fresh(tmp_path: Path, data: bytes | str, name: str) -> Path:
    p = tmp_path / name
    if isinstance(data, str):
        p.write_text(data, encoding="utf-8", newline="")
    else:
        p.write_bytes(data)
    return p


def one_line(error: InputError, path: Path) -> None:
    """The message names the file; the command line prints it on one line (it folds any
    newline a quoted cell or a name brings in, as these tests check through `run`)."""
    message = " ".join(str(error).split())
    assert message and path.name in message, message


# ---------------------------------------------------------------- tables of runs

HEADERS = st.sampled_from(
    [a for names in ALIASES.values() for a in names] + ["name", "lr", "", "params", "loss"]
) | st.text(max_size=8)
NUMBER_CELLS = st.one_of(
    st.floats(1e-3, 1e25).map(repr),
    st.floats(1e-3, 1e25).map(lambda x: f"{x:.3e}"),
    st.integers(1, 10**15).map(lambda n: f"{n:,}"),  # thousands separators
    st.tuples(st.floats(0.1, 999), st.sampled_from("kMBT")).map(lambda t: f"{t[0]:.3g}{t[1]}"),
    st.sampled_from(["0", "-1", "nan", "inf", "1e999", "", " ", "abc", "1,2", "1.2.3", "--"]),
)
CELLS = NUMBER_CELLS | st.text(max_size=6)


@st.composite
def tables(draw) -> tuple[bytes, str]:
    """A table as a spreadsheet might export it: any delimiter, quoting, ragged or
    truncated rows, duplicated headers, any of the encodings the reader accepts."""
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    width = draw(st.integers(1, 5))
    header = draw(st.lists(HEADERS, min_size=width, max_size=width))
    if draw(st.booleans()):  # the usual columns, so that many tables get past the header
        header = (["params", "tokens", "loss"] + header)[: max(3, width)]
    n_rows = draw(st.integers(0, 25))
    rows = []
    for _ in range(n_rows):
        w = len(header) if draw(st.integers(0, 7)) else draw(st.integers(0, len(header) + 2))
        rows.append(draw(st.lists(CELLS, min_size=w, max_size=w)))

    def cell(text: str) -> str:
        if draw(st.integers(0, 4)) == 0 or sep in text or '"' in text or "\n" in text:
            return '"' + text.replace('"', '""') + '"'
        return text

    end = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = end.join(sep.join(cell(c) for c in row) for row in [header, *rows]) + end
    if draw(st.integers(0, 5)) == 0:  # truncated: the file ends mid-row
        text = text[: draw(st.integers(0, len(text)))]
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-32"]))
    return text.encode(encoding, "surrogatepass"), encoding


def check_runs_or_error(path: Path, **kw) -> None:
    try:
        runs = read_runs(str(path), **kw)
    except InputError as e:
        one_line(e, path)
        return
    for values in (runs.params, runs.tokens, runs.flops, runs.loss):
        assert values.dtype == np.float64 and values.shape == (runs.n_kept,)
        assert np.all(np.isfinite(values)) and np.all(values > 0)
    assert runs.n_kept >= kw.get("min_rows", 10)


@FILE_FUZZ
@given(table=tables())
def test_any_table_reads_or_fails_in_one_line(tmp_path, table):
    data, _ = table
    check_runs_or_error(fresh(tmp_path, data, "runs.csv"), min_rows=1)


@FILE_FUZZ
@given(data=st.binary(max_size=3000))
def test_random_bytes_read_or_fail_in_one_line(tmp_path, data):
    check_runs_or_error(fresh(tmp_path, data, "random.bin"), min_rows=1)


@FILE_FUZZ
@given(text=st.text(max_size=400))
def test_random_text_reads_or_fails_in_one_line(tmp_path, text):
    check_runs_or_error(fresh(tmp_path, text.encode("utf-8", "surrogatepass"), "t.csv"))


@FILE_FUZZ
@given(table=tables())
def test_reading_stdin_and_a_file_agree(tmp_path, table):
    """`fit -` reads the same bytes the same way as `fit runs.csv`."""
    import io

    data, _ = table
    path = fresh(tmp_path, data, "runs.csv")
    stdin = io.TextIOWrapper(io.BytesIO(data))

    def outcome(source: str, **kw):
        try:
            r = read_runs(source, min_rows=1, **kw)
        except InputError as e:
            return str(e).replace(str(path), "<stdin>")
        return [r.params.tolist(), r.tokens.tolist(), r.loss.tolist()]

    assert outcome(str(path)) == outcome("-", stdin=stdin)


@st.composite
def column_tables(draw) -> dict:
    """A mapping of columns as a notebook might hold one: numbers, strings, None, nan."""
    n = draw(st.integers(0, 12))
    numbers = st.floats() | st.integers(-5, 10**15) | st.just(10**400)
    cells = numbers | NUMBER_CELLS | st.none() | st.text(max_size=4)
    names = draw(st.lists(HEADERS, max_size=5, unique=True))
    if draw(st.booleans()):
        names = list(dict.fromkeys(["N", "D", "loss", *names]))
    return {name: draw(st.lists(cells, min_size=n, max_size=n)) for name in names}


@FILE_FUZZ
@given(columns=column_tables())
def test_any_columns_read_or_fail_in_one_line(columns):
    try:
        runs = runs_from_columns(columns, min_rows=1, source="<notebook>")
    except InputError as e:
        assert e.field is None and e.message.startswith("<notebook>"), str(e)
        return
    for values in (runs.params, runs.tokens, runs.flops, runs.loss):
        assert values.dtype == np.float64 and values.shape == (runs.n_kept,)
        assert np.all(np.isfinite(values)) and np.all(values > 0)


LAW = load_law("hoffmann2022")
ROWS = [  # 20 runs on a 5 x 4 grid of N and D, losses from the law
    (n, d, LAW.loss(n, d).total)
    for n in (1e8, 3e8, 1e9, 3e9, 1e10)
    for d in (2e9, 1e10, 5e10, 2e11)
]


def export(sep: str, cell: str, end: str = "\n") -> str:
    """ROWS as a spreadsheet exports them: `cell` formats one number."""
    lines = [sep.join(("params", "tokens", "loss"))]
    lines += [sep.join(cell.format(v) for v in row) for row in ROWS]
    return end.join(lines) + end


@pytest.mark.parametrize(
    "name, data",
    [
        ("semicolons.csv", export(";", "{:,}")),
        ("tabs.tsv", export("\t", "{!r}")),
        ("quoted.csv", export(",", '"{:,}"')),
        ("utf16.csv", export(",", "{}", "\r\n").encode("utf-16")),
    ],
)
def test_spreadsheet_exports_fit_from_the_command_line(run, tmp_path, name, data):
    path = fresh(tmp_path, data, name)
    r = run("fit", str(path), "--json")
    assert r.exit_code == 0, r.stderr
    fitted = json.loads(r.stdout)["params"]
    assert fitted["alpha"] == pytest.approx(LAW.alpha, rel=1e-3)
    assert fitted["E"] == pytest.approx(LAW.E, rel=1e-3)


@pytest.mark.parametrize(
    "data, needle",
    [
        ("params,tokens,loss\n", "no data rows"),
        ("params,params,loss\n1,2,3\n", "look like params"),
        ("params,tokens,loss\n1e9,2e10\n", "expected 3 cells"),
        ("params,tokens,loss\n1e9,2e10,3\n1e9,2e10,2.9e", "'2.9e' is not a number"),
        (bytes(range(256)), "not a text table"),
        ("", "is empty"),
    ],
)
def test_bad_tables_from_the_command_line(run, tmp_path, data, needle):
    path = fresh(tmp_path, data, "runs.csv")
    r = run("fit", str(path))
    assert r.exit_code == 2, r.output
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in r.output


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(table=tables())
def test_any_table_through_fit(run, tmp_path, table):
    data, _ = table
    path = fresh(tmp_path, data, "runs.csv")
    r = run("fit", str(path), "--json")
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert r.exit_code in (0, 1, 2) and "Traceback" not in r.output
    if r.exit_code:
        assert len(r.stderr.splitlines()) == 1, r.stderr


# ---------------------------------------------------------------- YAML law files

SCALARS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-10, 10),
    st.integers(-(10**30), 10**30),
    st.text(max_size=8),
    st.booleans(),
    st.none(),
)
VALUES = (
    SCALARS
    | st.lists(SCALARS, max_size=3)
    | st.dictionaries(st.text(max_size=4), SCALARS, max_size=2)
)
LAW_KEYS = sorted({k for fields in _FIELDS.values() for k in fields} | _OPTIONAL) + ["colour"]


@st.composite
def law_documents(draw) -> dict:
    kind = draw(st.sampled_from([*_FIELDS, "parametric", "nonsense", None]))
    doc: dict = {} if kind is None else {"kind": kind}
    for key in _FIELDS.get(kind or "parametric", ()):
        if draw(st.integers(0, 9)):  # usually present...
            doc[key] = draw(st.floats(0.05, 0.9) | VALUES) if draw(st.booleans()) else 0.3
    for key in draw(st.lists(st.sampled_from(LAW_KEYS), max_size=3)):
        doc[key] = draw(VALUES)  # ...with extra, odd or missing keys
    return doc


def check_law_or_error(path: Path) -> None:
    try:
        law = load_law(str(path))
    except InputError as e:
        one_line(e, path)
        return
    if isinstance(law, ParametricLaw):
        for value in law.parameters().values():
            assert math.isfinite(value) and value >= 0


@FILE_FUZZ
@given(doc=law_documents())
def test_any_law_document_loads_or_fails_in_one_line(tmp_path, doc):
    path = fresh(tmp_path, yaml.safe_dump(doc), "law.yaml")
    check_law_or_error(path)


@FILE_FUZZ
@given(text=st.text(max_size=200))
def test_any_yaml_text_loads_or_fails_in_one_line(tmp_path, text):
    check_law_or_error(fresh(tmp_path, text.encode("utf-8", "surrogatepass"), "law.yaml"))


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object:os.system {}",
        "!!python/object/apply:os.system ['echo owned']",
        "!!python/object/new:os.system [echo owned]",
        "!!python/name:os.system",
        "!!python/module:os",
        "E: !!python/object/apply:os.getcwd []",
    ],
)
def test_python_tags_are_refused_with_a_message(run, tmp_path, tag):
    law = fresh(tmp_path, tag + "\n", "law.yaml")
    with pytest.raises(InputError, match="refused.*safe_load"):
        load_law(str(law))
    r = run("plan", "--flops", "1e23", "--law", str(law))
    assert r.exit_code == 2 and "refused" in r.stderr and len(r.stderr.splitlines()) == 1
    runs = fresh(tmp_path, "- " + tag + "\n", "runs.yaml")
    r = run("compare", "--file", str(runs))
    assert r.exit_code == 2 and "refused" in r.stderr and len(r.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "text, needle",
    [
        ("E: 1.7\nA: 400\nB: 400\nalpha: 0.3\nbeta: -0.3\n", "beta must be positive"),
        ("E: 1.7\nA: 400\nB: 400\nalpha: 0\nbeta: 0.3\n", "alpha must be positive"),
        ("E: -1\nA: 400\nB: 400\nalpha: 0.3\nbeta: 0.3\n", "E must be positive"),
        ("kind: allocation\nk: 0.1\na: -0.5\n", "a must be positive"),
        ("kind: allocation\nk: 0.1\na: 1.5\n", "a must be below 1"),
        ("kind: kaplan\na: 0.7\nk: 1\nN_c: 1\nD_c: 1\nalpha_N: -0.1\nalpha_D: 0.1\n", "alpha_N"),
        ("E: 1.7\nA: '400'\nB: 400\nalpha: 0.3\nbeta: 0.3\n", "A must be a finite number"),
        ("E: 1.7\nA: [400]\nB: 400\nalpha: 0.3\nbeta: 0.3\n", "A must be a finite number"),
        ("E: 1.7\nA: true\nB: 400\nalpha: 0.3\nbeta: 0.3\n", "A must be a finite number"),
        ("E: 1.7\nA: .nan\nB: 400\nalpha: 0.3\nbeta: 0.3\n", "A must be a finite number"),
        ("E: 1.7\nA: 400\nB: 400\nalpha: 0.3\n", "missing beta"),
        ("kind: deepseek\nk_scale: 1\n", "missing a_scale"),
        ("kind: magic\n", "unknown kind 'magic'"),
        ("E: 1.7\nA: 400\nB: 400\nalpha: 0.3\nbeta: 0.3\nsamples: [[1, 2]]\n", "samples"),
    ],
)
def test_bad_law_files_one_line_exit_2(run, tmp_path, text, needle):
    law = fresh(tmp_path, text, "law.yaml")
    r = run("plan", "--flops", "1e23", "--law", str(law))
    assert r.exit_code == 2, r.output
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and needle in lines[0] and "law.yaml" in lines[0], r.stderr


def test_extra_keys_warn_and_the_plan_goes_on(run_json, tmp_path):
    law = fresh(
        tmp_path,
        "E: 1.7\nA: 400\nB: 400\nalpha: 0.3\nbeta: 0.3\ncolour: red\nowner: me\n",
        "l.yaml",
    )
    d = run_json("plan", "--flops", "1e23", "--law", str(law))
    assert d["optimal"]["params"] > 0
    assert any("colour" in w for w in d["warnings"]) and any("owner" in w for w in d["warnings"])


# ---------------------------------------------------------------- YAML model files

RUN_KEYS = ["name", "params", "tokens", "reported_flops", "architecture", "source", "colour"]


@FILE_FUZZ
@given(
    entries=st.lists(
        st.dictionaries(st.sampled_from(RUN_KEYS), VALUES | st.sampled_from(["1B", "2T", "x"])),
        max_size=3,
    )
    | VALUES
)
def test_any_model_file_loads_or_fails_in_one_line(tmp_path, entries):
    path = fresh(tmp_path, yaml.safe_dump(entries), "runs.yaml")
    try:
        configs = configs_from_file(str(path))
    except InputError as e:
        one_line(e, path)
        return
    for c in configs:
        assert 0 < c.params < math.inf and 0 < c.tokens < math.inf


# ---------------------------------------------------------------- training logs and runs tables


@st.composite
def logs_(draw) -> bytes:
    """A W&B-style history: a run and a step column, among others, with any cells."""
    sep = draw(st.sampled_from([",", "\t", ";"]))
    extra = draw(st.lists(HEADERS, max_size=3))
    header = ["name", "_step", *extra, "params", "tokens", "train/loss"]
    rows = []
    for _ in range(draw(st.integers(0, 30))):
        w = len(header) if draw(st.integers(0, 7)) else draw(st.integers(0, len(header) + 1))
        row = draw(st.lists(CELLS, min_size=w, max_size=w))
        if row:
            row[0] = draw(st.sampled_from(["a", "b", "c", "", "nan", '"q"', "x y"]))
        rows.append(row)
    end = draw(st.sampled_from(["\n", "\r\n"]))
    return (end.join(sep.join(r) for r in [header, *rows]) + end).encode()


def test_any_log_reads_or_fails_in_one_line(tmp_path):
    from chinchilla_cli import logs

    @FILE_FUZZ
    @given(data=logs_())
    def check(data):
        path = fresh(tmp_path, data, "history.csv")
        try:
            runs, log = logs.read_table(str(path))
        except InputError as e:
            one_line(e, path)
            return
        assert np.all(np.isfinite(runs.loss)) and np.all(runs.loss > 0)

    check()


def test_any_runs_table_joins_or_fails_in_one_line(tmp_path):
    from chinchilla_cli import fit

    history = "name,_step,tokens,loss\n" + "".join(
        f"r{i},{s},{1e9 * s * (i + 1)},{3 - 0.1 * s + 0.01 * i}\n"
        for i in range(12)
        for s in (1, 2)
    )
    hist = fresh(tmp_path, history, "history.csv")

    @FILE_FUZZ
    @given(table=tables())
    def check(table):
        data, _ = table
        path = fresh(tmp_path, data, "runs.csv")
        try:
            fit(str(hist), run_table=str(path))
        except InputError as e:
            assert e.field in ("run_table", "runs", "run_col"), e
            assert "\n" not in " ".join(str(e).split())
        except Exception as e:  # a fit that fails on odd numbers is a FitError, not a crash
            from chinchilla_cli.errors import FitError

            assert isinstance(e, FitError), repr(e)

    check()
