"""The tabular reader: a CSV/TSV/semicolon/pipe table, JSON Lines (or one JSON array of
objects) or TensorBoard event files into named columns, each row with its provenance
(`file:line`, `file: item 3`, `events-file: step 100`) for the messages.

Two shapes of result, for the two kinds of input:

- `read_numbers`: a table of runs, the columns a `Layout` picks read as floats. A file is
  read by `np.loadtxt` when every data line is plain numbers; anything else (quotes,
  suffixes such as 70B, thousands separators, blank or ragged lines, a text column, a bad
  value) sends it through the csv module, which reads it again row by row and names the
  line of the first problem.
- `Table` (`read_csv_table`, `read_json`, `read_tensorboard`): a training log's raw cells
  (one per logged row; None or "" where a row logs nothing) of the columns a caller
  wants, which logs.py turns into numbers and reduces per run.

Every problem is one InputError whose message starts with the file (and line).
"""

from __future__ import annotations

import csv
import json
import math
import typing
import warnings
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from chinchilla_cli import fast_logs, tables
from chinchilla_cli.errors import InputError

__all__ = [
    "TENSORBOARD_HINT",
    "Layout",
    "Table",
    "numbers",
    "read_csv_table",
    "read_json",
    "read_numbers",
    "read_tensorboard",
]

Floats = NDArray[np.float64]
Where = Callable[[int], str]  # row index -> "runs.csv:14", for messages
TENSORBOARD_HINT = "pip install 'chinchilla-cli[tensorboard]'"
_JSON_CHUNK = 65_536  # objects gathered before their keys are moved into columns


# ---------------------------------------------------------------------------- tables of runs


@dataclass(frozen=True)
class Layout:
    """Which columns of a table of runs to read: `numbers` (name -> column index, in the
    order a row's cells are checked), those named in `blank` may be empty (NaN: a run
    with no loss yet, a run with no task score); `label` a column read as text (a run's
    group), or None."""

    numbers: dict[str, int]
    label: int | None = None
    blank: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Numbers:
    """A table of runs as read: the header's cells, the columns (name -> floats, one per
    data row), each row's place (`where`), and the label column's text (or None)."""

    cells: list[str]
    layout: Layout
    values: dict[str, Floats]
    where: Where
    labels: list[str] | None


def read_numbers(
    path: str,
    source: str,
    stdin: typing.TextIO | None,
    locate: Callable[[list[str]], Layout],
    use: Callable[[Numbers], typing.Any],
    check: Callable[[dict[str, Floats], Where], None],
) -> typing.Any:
    """The table in `path` ("-": `stdin`), its columns found by `locate` from the header
    cells, handed to `use` while the file is open (a message may read it again for a
    line number); `use`'s result is returned. `check(values, where)` names the earliest
    bad value when a later row cannot be read at all."""
    try:
        with tables.opened(path, source, stdin) as (data, unit):
            encoding = tables.check_text(data, source, unit)

            def csv_rows() -> tuple[dict[str, Floats], array[int], list[str] | None]:
                with tables.decoded(data, encoding) as text:
                    return _csv_rows(_Header(text, source, locate), source, check)

            with tables.decoded(data, encoding) as text:
                header = _Header(text, source, locate)
                values = None if header.layout.label is not None else _numpy_rows(text, header)
            lines: array[int] | None = None
            labels = None
            if values is None:
                values, lines, labels = csv_rows()

            def where(row: int) -> str:
                # numpy keeps no line numbers: for an error, the csv module reads it again
                line = (lines if lines is not None else csv_rows()[1])[row]
                return f"{source}:{line}"

            return use(Numbers(header.cells, header.layout, values, where, labels))
    except OSError as e:
        raise InputError(f"{source}: cannot be read ({e.strerror or e})") from None


class _Header:
    """The header row, its columns, and the csv reader left on the line after it."""

    def __init__(self, text: typing.TextIO, source: str, locate: Callable[[list[str]], Layout]):
        first, self.skipped = tables.first_line(text, source)
        self.delimiter = tables.sniff_delimiter(first)
        self.reader = tables.csv_reader(first, text)
        try:
            row = next((r for r in self.reader if any(cell.strip() for cell in r)), None)
        except csv.Error as e:
            raise InputError(f"{source}:{self.line}: cannot parse the line ({e})") from None
        if row is None:
            raise tables.empty_error(source)
        self.cells = tables.header_cells(row)
        self.header_line = self.line
        if all(tables.is_number(cell) for cell in self.cells if cell):
            raise InputError(
                f"{source}:{self.line}: no header row; the first line must name the columns "
                "(e.g. params,tokens,loss), but it holds only numbers: "
                f"{tables.listing(self.cells)}"
            )
        self.layout = locate(self.cells)

    @property
    def line(self) -> int:
        """The physical lines read so far (a quoted cell may span several)."""
        return self.skipped + int(self.reader.line_num)


def _numpy_rows(text: typing.TextIO, header: _Header) -> dict[str, Floats] | None:
    """Every data line as plain numbers, as many as the header has columns, or None.

    With no quote character, no comments and all columns converted, np.loadtxt reads a
    table only if every cell is one plain float (read as float() would); blank lines
    are skipped by both readers. Anything else is left to the csv module.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "no data": the csv path says so
        try:
            table = np.loadtxt(
                text,
                dtype=np.float64,
                delimiter=header.delimiter,
                comments=None,
                quotechar=None,
                ndmin=2,
            )
        except ValueError:
            return None
    if table.shape[0] == 0 or table.shape[1] != len(header.cells):
        return None
    return {name: np.ascontiguousarray(table[:, i]) for name, i in header.layout.numbers.items()}


def _csv_rows(
    header: _Header, source: str, check: Callable[[dict[str, Floats], Where], None]
) -> tuple[dict[str, Floats], array[int], list[str] | None]:
    """Every data row through the csv module: suffixes, thousands separators, blank and
    quoted lines, the label column's text, and the line of each row for the messages."""
    layout = header.layout
    names = list(layout.numbers)
    index = list(layout.numbers.values())
    labels = [header.cells[i] for i in index]
    width, k = len(header.cells), len(index)
    values, lines = array("d"), array("q")
    texts: list[str] | None = None if layout.label is None else []
    extend, take, reader = values.extend, itemgetter(*index), header.reader
    blanks = frozenset(j for j, name in enumerate(names) if name in layout.blank)

    def columns() -> dict[str, Floats]:
        table = np.asarray(values, dtype=np.float64).reshape(-1, k)
        return {name: np.ascontiguousarray(table[:, j]) for j, name in enumerate(names)}

    try:
        try:
            for row in reader:
                if len(row) == width:
                    try:
                        extend(map(float, take(row)))  # plain floats
                    except ValueError:
                        del values[len(values) // k * k :]  # a half-appended row
                        parsed = _parse_row(row, index, labels, f"{source}:{header.line}", blanks)
                        if parsed is None:  # a row of empty cells
                            continue
                        extend(parsed)
                elif any(cell.strip() for cell in row):
                    raise InputError(
                        f"{source}:{header.line}: expected {width} cells, as in the header "
                        f"(line {header.header_line}), got {len(row)}"
                    )
                else:  # a blank line
                    continue
                lines.append(header.line)
                if texts is not None:
                    texts.append(row[typing.cast(int, layout.label)].strip())
        except csv.Error as e:
            raise InputError(f"{source}:{header.line}: cannot parse the line ({e})") from None
    except InputError:
        # report the earliest problem in the file: a bad value may precede this one
        check(columns(), lambda row: f"{source}:{lines[row]}")
        raise
    if not lines:
        raise InputError(
            f"{source}: no data rows after the header (line {header.header_line}); "
            "expected one line per run below it"
        )
    return columns(), lines, texts


def _parse_row(
    row: list[str],
    index: list[int],
    labels: list[str],
    where: str,
    blanks: frozenset[int] = frozenset(),
) -> list[float] | None:
    """The slow path: suffixes, thousands separators, and precise errors. None if blank.
    The cells at the positions in `blanks` (of `index`) may be empty: NaN."""
    if not any(cell.strip() for cell in row):
        return None
    return [
        math.nan if j in blanks and not row[i].strip() else tables.parse_cell(row[i], label, where)
        for j, (i, label) in enumerate(zip(index, labels, strict=True))
    ]


def _refuse_booleans(cells: typing.Any, name: str, where: Where) -> None:
    """True and False are not numbers (numpy would read them as 1 and 0)."""
    kind = getattr(getattr(cells, "dtype", None), "kind", "O")
    if kind in "fiuSU":
        return
    flat = list(cells) if kind != "b" else [bool(cells[0])]
    row = next((i for i, c in enumerate(flat) if isinstance(c, (bool, np.bool_))), None)
    if row is not None:
        raise InputError(
            f"{where(row)}: column {name!r}: {bool(flat[row])!r} is a boolean, not a number"
        )


def column_numbers(cells: typing.Any, name: str, source: str) -> Floats:
    """One column of a mapping of columns as floats; strings are read as a file's cells
    (row i named "source: row i")."""
    _refuse_booleans(cells, name, tables.row_of(source))
    try:
        values = np.asarray(cells, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # find the cell that is not a number
        where = tables.row_of(source)
        values = np.array(
            [tables.cell_number(cell, name, where(i)) for i, cell in enumerate(cells)]
        )
    if values.ndim != 1:
        raise InputError(
            f"{source}: column {name!r} holds an array of shape {values.shape}; "
            "expected one number per run"
        )
    return values


# ---------------------------------------------------------------------------- training logs


@dataclass
class Table:
    """A long-format table as read: its column names and the raw cells of the columns
    that may hold a role (one per row; None or "" where a row logs nothing)."""

    source: str
    format: str  # "csv", "jsonl", "json", "tensorboard", "columns"
    names: list[str]
    cells: Mapping[str, Sequence[typing.Any]]
    n_rows: int
    where: Where  # row -> "file:line" (or how the format names a row)
    implicit_run: bool = False  # TensorBoard: the runs are directories, not a column
    # said about the table before it is reduced (a runs table joined to it: run_tables.py)
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unlogged: list[str] = field(default_factory=list)  # runs known to have no logged row


def peek(data: typing.IO[bytes], encoding: str) -> str:
    """The first non-blank characters of the input."""
    with tables.decoded(data, encoding) as text:
        head = text.read(4096).lstrip("\ufeff \t\r\n")
    return head


def csv_header(text: typing.TextIO, source: str) -> tuple[typing.Any, list[str], int, int]:
    """A csv reader left below the header, the header's cells, the blank lines before
    it, and its line."""
    first, skipped = tables.first_line(text, source)
    reader = tables.csv_reader(first, text)
    try:
        header = tables.header_cells(next(reader))
    except csv.Error as e:
        raise InputError(f"{source}:{skipped + 1}: cannot parse the line ({e})") from None
    return reader, header, skipped, skipped + reader.line_num


def read_csv_table(
    data: typing.IO[bytes],
    encoding: str,
    source: str,
    wanted: Callable[[str], bool],
    is_log: Callable[[list[str]], bool],
    is_text: Callable[[str], bool] | None = None,
) -> Table | None:
    """A CSV/TSV log: the cells of the columns `wanted` says may hold a role; None when
    `is_log` says from the header's names that the table is not a log. With `is_text`
    (the columns read as text, such as the run's name), a plain file is read by numpy
    (fast_logs.py): the other columns as floats."""
    with tables.decoded(data, encoding) as text:
        reader, names, skipped, header_line = csv_header(text, source)
        if not is_log(names):
            return None
        index = [i for i, h in enumerate(names) if h and wanted(h)]
        if not index:
            return Table(source, "csv", names, {}, 0, lambda row: source)
        delimiter = reader.dialect.delimiter
    if is_text is not None:
        plain = fast_logs.read_plain_log(
            data, encoding, delimiter, header_line, names, index, is_text
        )
        if plain is not None:
            cells, n = plain

            def at_line(row: int) -> str:
                return f"{source}:{header_line + 1 + row}"

            return Table(source, "csv", names, cells, n, at_line)
    with tables.decoded(data, encoding) as text:
        reader, names, skipped, header_line = csv_header(text, source)
        take = itemgetter(*index)
        width = len(names)
        rows: list[typing.Any] | None
        try:  # the fast pass: one comprehension, no line numbers kept
            rows = [take(row) for row in reader if len(row) == width]
        except csv.Error:
            rows = None
        last_line = skipped + reader.line_num
    if rows is not None and last_line - header_line == len(rows):
        # every line below the header is one row (no blank, ragged or multi-line rows)
        def where(row: int) -> str:
            return f"{source}:{header_line + 1 + row}"
    else:  # read again, keeping each row's line, to name a bad line or any line later
        rows, lines = _csv_rows_with_lines(data, encoding, source, take, width)

        def where(row: int) -> str:
            return f"{source}:{lines[row]}"

    if not rows:
        raise InputError(
            f"{source}: no data rows after the header (line {header_line}); expected one "
            "line per logged step below it"
        )
    if len(index) == 1:
        columns: list[Sequence[str]] = [rows]
    else:  # a map per column: several times faster than zip(*rows) on a million rows
        columns = [list(map(itemgetter(j), rows)) for j in range(len(index))]
    cells = {names[i]: col for i, col in zip(index, columns, strict=True)}
    return Table(source, "csv", names, cells, len(rows), where)


def _csv_rows_with_lines(
    data: typing.IO[bytes],
    encoding: str,
    source: str,
    take: Callable[[list[str]], typing.Any],
    width: int,
) -> tuple[list[typing.Any], array[int]]:
    """The slow pass: every row with its line; a ragged or unparsable line is an error."""
    rows: list[typing.Any] = []
    lines = array("q")
    with tables.decoded(data, encoding) as text:
        reader, _, skipped, header_line = csv_header(text, source)
        try:
            for row in reader:
                if len(row) == width:
                    rows.append(take(row))
                    lines.append(skipped + reader.line_num)
                elif any(cell.strip() for cell in row):
                    raise InputError(
                        f"{source}:{skipped + reader.line_num}: expected {width} cells, as in "
                        f"the header (line {header_line}), got {len(row)}"
                    )
        except csv.Error as e:
            at = skipped + reader.line_num
            raise InputError(f"{source}:{at}: cannot parse the line ({e})") from None
    return rows, lines


def read_json(
    data: typing.IO[bytes], encoding: str, source: str, wanted: Callable[[str], bool]
) -> Table:
    """JSON Lines (one object per line), or one JSON array of objects: the values of the
    keys `wanted` says may hold a role."""
    chunks: Iterator[tuple[list[int], list[typing.Any]]]
    if peek(data, encoding).startswith("["):
        with tables.decoded(data, encoding) as text:
            try:
                items = json.loads(text.read().lstrip("\ufeff"))
            except json.JSONDecodeError as e:
                raise InputError(f"{source}:{e.lineno}: not valid JSON ({e.msg})") from None
        if not isinstance(items, list):
            raise InputError(f"{source}: expected a JSON array of objects, one per logged step")
        chunks = iter([(list(range(1, len(items) + 1)), items)])
        fmt, unit = "json", "item"
    else:
        chunks = _json_lines(data, encoding, source)
        fmt, unit = "jsonl", "line"
    try:
        names, cells, lines = _json_columns(chunks, source, unit, wanted)
    finally:  # close the file's line reader now, not when collected
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    if not lines:
        raise InputError(f"{source}: no logged rows; expected one JSON object per logged step")

    def where(r: int) -> str:
        return f"{source}:{lines[r]}" if unit == "line" else f"{source}: item {lines[r]}"

    return Table(source, fmt, names, cells, len(lines), where)


def _json_columns(
    chunks: Iterator[tuple[list[int], list[typing.Any]]],
    source: str,
    unit: str,
    wanted: Callable[[str], bool],
) -> tuple[list[str], dict[str, Sequence[typing.Any]], array[int]]:
    """The keys seen (in order), the wanted keys' values (None where a row has none),
    and each row's line (or item)."""
    decided: dict[str, bool] = {}
    names: list[str] = []
    lines = array("q")
    columns: dict[str, list[typing.Any]] = {}  # key -> its chunks' parts (_json_part)
    row = 0
    for at_lines, chunk in chunks:
        for at, obj in zip(at_lines, chunk, strict=True):
            if type(obj) is not dict:
                kind = type(obj).__name__
                raise InputError(
                    f"{source}:{at}: expected a JSON object (one per logged step), got {kind}"
                    if unit == "line"
                    else f"{source}: item {at}: expected a JSON object, got {kind}"
                )
        # move the chunk into the columns: one pass per key, not one per cell
        keys: set[str] = set().union(*chunk)
        for key in keys - decided.keys():
            decided[key] = wanted(str(key))
            names.append(str(key))
        for key, column in columns.items():
            if key not in keys:
                column.append(len(chunk))  # nothing logged in these rows
        for key in keys:
            if decided[key]:
                if key not in columns:
                    columns[key] = [row] if row else []
                columns[key].append(_json_part([obj.get(key) for obj in chunk]))
        lines.extend(at_lines)
        row += len(chunk)
    return names, {str(k): _json_column(v) for k, v in columns.items()}, lines


def _json_part(values: list[typing.Any]) -> typing.Any:
    """One chunk of a JSON column, held small: plain numbers as an array (ints as ints,
    so a run numbered 1 stays "1"), repeated text shared; anything else as it is."""
    kinds = set(map(type, values))
    try:
        if kinds == {int}:
            return np.array(values, dtype=np.int64)
        if float in kinds and kinds <= {float, int, type(None)}:
            return np.array(values, dtype=np.float64)  # None: NaN, nothing logged
    except OverflowError:  # an int beyond int64 or float: the slow path says so
        return values
    if kinds == {str}:
        seen: dict[str, str] = {}
        return [seen.setdefault(v, v) for v in values]
    return values


def _json_column(parts: list[typing.Any]) -> Sequence[typing.Any]:
    """A JSON column's parts (arrays, lists, or a count of rows logging nothing) as one
    array when every part is numbers, else as one list (None where nothing logged)."""
    if all(not isinstance(p, list) for p in parts):
        arrays = [p if isinstance(p, np.ndarray) else np.full(p, np.nan) for p in parts]
        if arrays:
            return typing.cast(Sequence[typing.Any], np.concatenate(arrays))
    out: list[typing.Any] = []
    for p in parts:
        out.extend(
            [None] * p if isinstance(p, int) else p.tolist() if isinstance(p, np.ndarray) else p
        )
    return out


def _json_lines(
    data: typing.IO[bytes], encoding: str, source: str
) -> Iterator[tuple[list[int], list[typing.Any]]]:
    """Chunks of (line numbers, values) of the non-blank lines."""
    at_lines: list[int] = []
    pending: list[str] = []
    with tables.decoded(data, encoding) as text:
        for number, line in enumerate(text, 1):
            stripped = line.strip().lstrip("\ufeff")
            if stripped:
                at_lines.append(number)
                pending.append(stripped)
                if len(pending) == _JSON_CHUNK:
                    yield at_lines, _json_chunk(at_lines, pending, source)
                    at_lines, pending = [], []
        if pending:
            yield at_lines, _json_chunk(at_lines, pending, source)


def _json_chunk(at_lines: list[int], lines: list[str], source: str) -> list[typing.Any]:
    """One json.loads of "[line,line,...]" is several times faster than one per line; a
    chunk that fails, or does not give one value per line, is parsed line by line to name
    the bad line."""
    try:
        values = json.loads("[" + ",".join(lines) + "]")
        if isinstance(values, list) and len(values) == len(lines):
            return values
    except json.JSONDecodeError:
        pass
    out = []
    for number, line in zip(at_lines, lines, strict=True):
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise InputError(f"{source}:{number}: not valid JSON ({e.msg})") from None
    return out


def read_tensorboard(path: str, source: str) -> Table:
    """TensorBoard event files: `path` is one file (one run) or a directory, whose event
    files are grouped into runs by the directory holding them (as TensorBoard does)."""
    root = Path(path)  # found before the import: a folder of no event files says so
    if root.is_dir():
        files = sorted(p for p in root.rglob("*") if p.is_file() and ".tfevents" in p.name)
        if not files:
            raise InputError(f"{source}: is a directory with no TensorBoard event files in it")
    elif root.exists():
        files = [root]
    else:
        raise InputError(f"{source}: no such file")
    try:
        from tensorboard.backend.event_processing.event_file_loader import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
            EventFileLoader,
        )
        from tensorboard.util import tensor_util  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError:
        raise InputError(
            f"{source}: reading TensorBoard event files needs the tensorboard extra: "
            f"{TENSORBOARD_HINT}"
        ) from None
    rows: dict[tuple[str, int], int] = {}
    run_of: list[str] = []
    step_of: list[int] = []
    file_of: list[str] = []
    values: dict[str, dict[int, float | str]] = {}
    for file in files:
        # a run is the directory holding its event files (a restart adds files to it)
        if root.is_dir():
            run = file.parent.relative_to(root).as_posix()
            run = root.resolve().name if run == "." else run
        else:
            run = file.parent.resolve().name or file.name
        try:
            events = list(EventFileLoader(str(file)).Load())
        except Exception as e:  # a truncated or foreign file: the loader's own errors vary
            raise InputError(f"{file}: cannot be read as TensorBoard events ({e})") from None
        for event in events:
            if not event.HasField("summary"):
                continue
            for value in event.summary.value:
                found = _hparams(value)  # the run's hyperparameters (N among them)
                if found is None:
                    number = _scalar(value, tensor_util)
                    if number is None:
                        continue
                    found = {value.tag: number}
                key = (run, int(event.step))
                row = rows.get(key)
                if row is None:
                    row = rows[key] = len(run_of)
                    run_of.append(run)
                    step_of.append(int(event.step))
                    file_of.append(str(file))
                for tag, given in found.items():
                    values.setdefault(tag, {})[row] = given
    n = len(run_of)
    if n == 0:
        raise InputError(f"{source}: the TensorBoard events hold no scalars")
    cells: dict[str, Sequence[typing.Any]] = {"run": run_of, "step": step_of}
    for tag, by_row in values.items():
        column: list[typing.Any] = [None] * n
        for r, v in by_row.items():
            column[r] = v
        cells[tag] = column

    def where(row: int) -> str:
        return f"{file_of[row]}: step {step_of[row]}"

    return Table(source, "tensorboard", ["run", "step", *values], cells, n, where, True)


def _hparams(value: typing.Any) -> dict[str, float | str] | None:
    """The hyperparameters of a TensorBoard hparams summary (the HParams plugin's session
    start: numbers, text and booleans as 1/0 are not wanted, so left out), or None."""
    if value.metadata.plugin_data.plugin_name != "hparams":
        return None
    try:
        from tensorboard.plugins.hparams import plugin_data_pb2  # type: ignore[import-untyped,import-not-found,unused-ignore]

        data = plugin_data_pb2.HParamsPluginData.FromString(value.metadata.plugin_data.content)
    except Exception:  # another version's message: the scalars are still read
        return {}
    out: dict[str, float | str] = {}
    for name, given in data.session_start_info.hparams.items():
        kind = given.WhichOneof("kind")
        if kind == "number_value":
            out[name] = float(given.number_value)
        elif kind == "string_value":
            out[name] = str(given.string_value)
    return out


def _scalar(value: typing.Any, tensor_util: typing.Any) -> float | None:
    """A summary value's number, if it is a scalar (TensorBoard stores them as tensors)."""
    if value.HasField("tensor"):
        try:
            array_ = tensor_util.make_ndarray(value.tensor)
        except Exception:  # strings, images and other tensors that are not numbers
            return None
        if array_.size == 1 and array_.dtype.kind in "fiu":
            return float(array_.reshape(-1)[0])
        return None
    if value.HasField("simple_value"):
        return float(value.simple_value)
    return None


def numbers(cells: Sequence[typing.Any], name: str, where: Where) -> Floats:
    """A column of raw cells as floats, NaN where a row logs nothing ("" or null)."""
    n = len(cells)
    kind = getattr(getattr(cells, "dtype", None), "kind", "O")
    if kind in "fiu":  # a numeric array (a DataFrame's column, a joined runs table's)
        return np.asarray(cells, dtype=np.float64)
    if n and not isinstance(cells[0], str):  # a CSV's cells are text, never booleans
        _refuse_booleans(cells, name, where)
    try:  # plain numbers in every row
        return np.fromiter(map(float, cells), np.float64, n)
    except (TypeError, ValueError, OverflowError):
        pass
    try:  # plain numbers in some rows, nothing logged ("" or null) in the others
        given = [i for i, c in enumerate(cells) if c is not None and c != ""]
        out = np.full(n, np.nan)
        out[given] = np.fromiter(map(float, map(cells.__getitem__, given)), np.float64, len(given))
        return out
    except (TypeError, ValueError, OverflowError):
        pass
    out = np.empty(n, dtype=np.float64)  # the slow path: suffixes (70B), and the errors
    for i, cell in enumerate(cells):
        if cell is None:
            out[i] = math.nan
        elif isinstance(cell, str):
            text = cell.strip()
            if not text:
                out[i] = math.nan
                continue
            try:
                out[i] = float(text)
            except ValueError:
                out[i] = tables.parse_cell(cell, name, where(i))
        elif isinstance(cell, (int, float)) and not isinstance(cell, bool):
            try:
                out[i] = float(cell)
            except OverflowError:
                out[i] = math.inf
        else:
            raise InputError(f"{where(i)}: column {name!r}: {cell!r} is not a number")
    return out
