"""Read the user's table of training runs (N, D, C, final loss) for `chinchilla fit`.

`read_runs` reads a CSV/TSV/semicolon/pipe file (UTF-8 with or without BOM, or
UTF-16/32 with BOM); `runs_from_columns` takes a mapping of column names to arrays (a
pandas DataFrame works). Both find the columns by header name, derive the third of N,
D and C from the other two through C = 6 N D, check every value and apply the filters.

A file is read by `np.loadtxt` when every data line is plain numbers; anything else
(quotes, suffixes such as 70B, thousands separators, blank or ragged lines, a text
column, a bad value) sends it through the csv module, which reads it again row by row
and names the line of the first problem. Every problem is one InputError.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import math
import os
import re
import sys
import typing
import warnings
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
from numpy.typing import NDArray

from chinchilla_cli import accuracy as _accuracy
from chinchilla_cli.errors import InputError
from chinchilla_cli.laws import FLOPS_PER_PARAM_TOKEN
from chinchilla_cli.quantity import parse_quantity, sci

__all__ = ["ALIASES", "ROLES", "ColumnTable", "Runs", "read_runs", "runs_from_columns"]

ROLES = ("params", "tokens", "flops", "loss")
ALIASES: dict[str, tuple[str, ...]] = {
    "params": ("params", "n", "parameters", "model size", "n_params", "num params", "model params"),
    "tokens": ("tokens", "d", "t", "training tokens", "n_tokens", "num tokens"),
    "flops": ("flops", "flop", "c", "compute", "training flop", "training flops", "compute budget"),
    "loss": ("loss", "l", "final loss", "val loss", "validation loss", "eval loss", "train loss"),
}

_Floats = NDArray[np.float64]
_Where = Callable[[int], str]  # row index -> "runs.csv:14", for messages

_SYMBOLS = {"params": "N", "tokens": "D", "flops": "C", "loss": "loss"}
_DELIMITERS = (",", "\t", ";", "|")  # ties go to the earliest
_CHUNK_BYTES = 1 << 20
_MAX_LINE_CHARS = 64_000_000
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF8, "utf-8-sig"),
)
# 1,000,000 and 1,234.5e3 and 1,500M: commas only between groups of three digits
_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?(?:[eE][+-]?\d+)?[kKmMbBgGtTpP]?$")
_SPACES = re.compile(r"[\s_\-]+")
_SEPARATORS = re.compile(r"[\s_\-/.]+")  # and the path-like names of logged metrics


@dataclass(frozen=True)
class Runs:
    """The kept runs, one array element per run, and how they were read."""

    params: _Floats  # N
    tokens: _Floats  # D
    flops: _Floats  # C
    loss: _Floats  # final loss
    source: str  # the path as given, "<stdin>", or the `source` of runs_from_columns
    n_read: int  # data rows read
    n_dropped: int  # rows removed by the filters
    columns: dict[str, str]  # role -> header text used, or "derived"
    derived: tuple[str, ...]  # e.g. "tokens D = C / (6 N) (no tokens column)"
    notes: tuple[str, ...]  # other sentences worth showing (filters, inconsistencies)
    # the input rows kept, by 0-based position (None: all of them), so a caller can
    # carry its own per-row data (a training log's run of each point) through the filters
    rows_kept: NDArray[np.intp] | None = None
    # a task metric of each run (accuracy.py: `metric_col`, or a column named as a task),
    # NaN where a run has none; the task columns seen when several were and none was named
    metric: _Floats | None = None
    metric_col: str | None = None
    metric_candidates: tuple[str, ...] = ()

    @property
    def n_kept(self) -> int:
        return int(self.loss.shape[0])


class ColumnTable(typing.Protocol):
    """What `runs_from_columns` needs: a dict of arrays or lists, or a pandas DataFrame."""

    def keys(self) -> Iterable[typing.Any]: ...

    def __getitem__(self, key: typing.Any, /) -> typing.Any: ...


def read_runs(
    path: str,
    *,
    params_col: str | None = None,
    tokens_col: str | None = None,
    flops_col: str | None = None,
    loss_col: str | None = None,
    max_loss: float | None = None,
    min_flops: float | None = None,
    max_flops: float | None = None,
    min_rows: int = 10,
    stdin: typing.TextIO | None = None,
    min_params: float | None = None,
    min_tokens: float | None = None,
    metric_col: str | None = None,
) -> Runs:
    """Read the runs in `path` ("-" for `stdin`, default sys.stdin) and apply the filters.

    `*_col` name a column (matched like the built-in names: case, spaces, "_" and "-"
    ignored) instead of finding it by its header. `max_loss` keeps loss <= max_loss,
    `min_flops`/`max_flops` bound C, `min_params` N and `min_tokens` D. Raises InputError
    for anything wrong with the input, naming the file and, where it applies, the line,
    the column and the value. `metric_col` names a task metric column (else one named as
    a task is found; see accuracy.py), read into `Runs.metric` (empty cells: NaN).
    """
    filters = _Filters(max_loss, min_flops, max_flops, min_rows, min_params, min_tokens)
    source = "<stdin>" if path == "-" else str(path)
    overrides = {"params": params_col, "tokens": tokens_col, "flops": flops_col, "loss": loss_col}
    overrides["metric"] = metric_col
    try:
        with _opened(path, source, stdin) as (data, unit):
            encoding = _check_text(data, source, unit)

            def csv_rows() -> tuple[dict[str, _Floats], array[int]]:
                with _text(data, encoding) as text:
                    return _csv_rows(_Header(text, source, overrides), source)

            with _text(data, encoding) as text:
                header = _Header(text, source, overrides)
                values = _numpy_rows(text, header)
            lines: array[int] | None = None
            if values is None:
                values, lines = csv_rows()

            def where(row: int) -> str:
                # numpy keeps no line numbers: for an error, the csv module reads it again
                line = (lines if lines is not None else csv_rows()[1])[row]
                return f"{source}:{line}"

            named = loss_col is not None
            return _finish(source, header.names, values, where, filters, header.candidates, named)
    except OSError as e:
        raise InputError(f"{source}: cannot be read ({e.strerror or e})") from None


def runs_from_columns(
    columns: Mapping[str, typing.Any] | ColumnTable,
    *,
    params_col: str | None = None,
    tokens_col: str | None = None,
    flops_col: str | None = None,
    loss_col: str | None = None,
    max_loss: float | None = None,
    min_flops: float | None = None,
    max_flops: float | None = None,
    min_rows: int = 10,
    source: str = "<columns>",
    min_params: float | None = None,
    min_tokens: float | None = None,
    metric_col: str | None = None,
) -> Runs:
    """The runs in a mapping of column names to arrays, as `read_runs` reads a file.

    `columns` is a dict of lists or arrays, or anything with `keys()` and `[name]` such
    as a pandas DataFrame. Columns are found by the same names as in a file (N, params,
    D, tokens, C, flops, loss, ...) or named by `*_col`; the others are ignored. Cells
    may be numbers or strings such as "70B". `source` names the table in messages, whose
    rows are given by their 0-based position. Raises InputError as `read_runs` does.
    """
    filters = _Filters(max_loss, min_flops, max_flops, min_rows, min_params, min_tokens)
    overrides = {"params": params_col, "tokens": tokens_col, "flops": flops_col, "loss": loss_col}
    keys = list(columns.keys())
    header = [str(key) for key in keys]
    found = _find_columns(header, source, overrides)
    candidates = _accuracy.find_metric(header, found, metric_col, source)
    names = {role: header[i] for role, i in found.items()}
    values = {role: _column(columns[keys[i]], header[i], source) for role, i in found.items()}
    lengths = {names[role]: v.shape[0] for role, v in values.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name!r} has {n}" for name, n in lengths.items())
        raise InputError(f"{source}: the columns differ in length: {shown}")
    if not values["loss"].size:
        raise InputError(f"{source}: no runs; the columns are empty")

    def where(row: int) -> str:
        return f"{source}: row {row}"

    return _finish(source, names, values, where, filters, candidates, loss_col is not None)


# ---------------------------------------------------------------------------- opening


@contextmanager
def _opened(
    path: str, source: str, stdin: typing.TextIO | None
) -> Iterator[tuple[typing.IO[bytes], str]]:
    """The input as seekable bytes (it may be read twice), and what messages call one
    unit of it: "byte", or "character" for a stream that holds text, not bytes."""
    if path == "-":
        stream = sys.stdin if stdin is None else stdin
        buffer = getattr(stream, "buffer", None)
        if buffer is None:  # a text stream with no bytes underneath (io.StringIO)
            yield io.BytesIO(stream.read().encode("utf-8", "surrogatepass")), "character"
            return
        yield io.BytesIO(buffer.read()), "byte"  # a pipe cannot be read twice
        return
    if os.path.isdir(path):
        raise InputError(f"{source}: is a directory, not a table of runs")
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        raise InputError(f"{source}: no such file") from None
    except PermissionError:
        raise InputError(f"{source}: cannot be read (permission denied)") from None
    with f:
        yield f, "byte"


def _check_text(data: typing.IO[bytes], source: str, unit: str) -> str:
    """The encoding, once every byte is known to be text: the first NUL or undecodable
    byte, or a line too long for a table, is reported by its line before any parsing."""
    head = data.read(4)
    if not head:
        raise _empty(source)
    encoding = next((name for bom, name in _BOMS if head.startswith(bom)), "utf-8")
    utf8 = encoding.startswith("utf-8")
    decoder = codecs.getincrementaldecoder(encoding)()
    line, run = 1, 0  # the line at the start of the chunk; characters since a line end
    data.seek(0)
    while True:
        chunk = data.read(_CHUNK_BYTES)
        try:
            text, why = decoder.decode(chunk, final=not chunk), ""
        except UnicodeDecodeError as e:
            # the text before it, to see if a NUL came first
            text = e.object[: e.start].decode(encoding) if utf8 else ""
            if not utf8:
                why = "invalid UTF-16/32 text"
            elif not chunk:
                why = f"the file ends inside a UTF-8 character (line {line})"
            else:
                bad, bad_line = e.object[e.start : e.start + 1].hex(), line + text.count("\n")
                why = f"byte 0x{bad} on line {bad_line} is not UTF-8"
        nul = text.find("\x00")
        if nul >= 0:
            nul_line = line + text.count("\n", 0, nul)
            why = f"NUL {unit if utf8 else 'character'} on line {nul_line}"
        if why:
            raise InputError(f"{source}: not a text table (binary data?): {why}")
        if not chunk:
            return encoding
        end = max(text.rfind("\n"), text.rfind("\r"))
        run = run + len(text) if end < 0 else len(text) - end - 1
        if run > _MAX_LINE_CHARS:
            raise InputError(
                f"{source}:{line}: the line is longer than "
                f"{_MAX_LINE_CHARS // 1_000_000} million characters; not a table of runs?"
            )
        line += text.count("\n")


def _empty(source: str) -> InputError:
    return InputError(
        f"{source}: is empty; expected a header line naming the columns "
        "(e.g. params,tokens,loss), then one line per run"
    )


# ---------------------------------------------------------------------------- reading


@contextmanager
def _text(data: typing.IO[bytes], encoding: str) -> Iterator[typing.TextIO]:
    """The text from its start, line ends untranslated (as the csv module wants)."""
    data.seek(0)
    text = io.TextIOWrapper(data, encoding=encoding, newline="")
    try:
        yield text
    finally:
        text.detach()  # leave `data` open to be read again


class _Header:
    """The header row, its columns, and the csv reader left on the line after it."""

    def __init__(self, text: typing.TextIO, source: str, overrides: dict[str, str | None]):
        self.skipped = 0  # blank lines before the first line with text
        for first in text:
            if first.strip():
                break
            self.skipped += 1
        else:
            raise _empty(source)
        self.delimiter = _sniff_delimiter(first)
        self.reader = csv.reader(itertools.chain([first], text), delimiter=self.delimiter)
        try:
            row = next((r for r in self.reader if any(cell.strip() for cell in r)), None)
        except csv.Error as e:
            raise InputError(f"{source}:{self.line}: cannot parse the line ({e})") from None
        if row is None:
            raise _empty(source)
        self.cells = [cell.replace("\ufeff", "").strip() for cell in row]
        self.header_line = self.line
        if all(_is_number(cell) for cell in self.cells if cell):
            raise InputError(
                f"{source}:{self.line}: no header row; the first line must name the columns "
                f"(e.g. params,tokens,loss), but it holds only numbers: {_listing(self.cells)}"
            )
        self.found = _find_columns(self.cells, source, overrides)
        self.candidates = _accuracy.find_metric(
            self.cells, self.found, overrides.get("metric"), source
        )
        self.names = {role: self.cells[i] for role, i in self.found.items()}

    @property
    def line(self) -> int:
        """The physical lines read so far (a quoted cell may span several)."""
        return self.skipped + self.reader.line_num


def _numpy_rows(text: typing.TextIO, header: _Header) -> dict[str, _Floats] | None:
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
    return {role: np.ascontiguousarray(table[:, i]) for role, i in header.found.items()}


def _csv_rows(header: _Header, source: str) -> tuple[dict[str, _Floats], array[int]]:
    """Every data row through the csv module: suffixes, thousands separators, blank and
    quoted lines, and the line of each row for the messages."""
    roles = [role for role in (*ROLES, "metric") if role in header.found]
    index = [header.found[role] for role in roles]
    labels = [header.cells[i] for i in index]
    width, k = len(header.cells), len(index)
    values, lines = array("d"), array("q")
    extend, take, reader = values.extend, itemgetter(*index), header.reader

    def columns() -> dict[str, _Floats]:
        table = np.asarray(values, dtype=np.float64).reshape(-1, k)
        return {role: np.ascontiguousarray(table[:, j]) for j, role in enumerate(roles)}

    try:
        try:
            for row in reader:
                if len(row) == width:
                    try:
                        extend(map(float, take(row)))  # plain floats
                    except ValueError:
                        del values[len(values) // k * k :]  # a half-appended row
                        parsed = _parse_row(
                            row, index, labels, f"{source}:{header.line}", "metric" in roles
                        )
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
        except csv.Error as e:
            raise InputError(f"{source}:{header.line}: cannot parse the line ({e})") from None
    except InputError:
        # report the earliest problem in the file: a bad value may precede this one
        _check_values(columns(), header.names, lambda row: f"{source}:{lines[row]}")
        raise
    if not lines:
        raise InputError(
            f"{source}: no data rows after the header (line {header.header_line}); "
            "expected one line per run below it"
        )
    return columns(), lines


def _sniff_delimiter(line: str) -> str:
    """The candidate delimiter found most often outside double quotes; comma if none."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(_DELIMITERS, key=counts.__getitem__)
    return best if counts[best] else ","


def _normalise(name: str) -> str:
    return _SPACES.sub("", name.replace("\ufeff", "").lower())


def _find_columns(
    header: list[str], source: str, overrides: dict[str, str | None]
) -> dict[str, int]:
    """Role -> column index, for loss and at least two of params, tokens and flops."""
    normal = [_normalise(h) for h in header]
    found: dict[str, int] = {}
    for role in ROLES:  # named columns first: they take their column out of the guessing
        name = overrides[role]
        if name is None:
            continue
        hits = [i for i, h in enumerate(header) if h == name.strip()]
        if len(hits) != 1:
            hits = [i for i, h in enumerate(normal) if h == _normalise(name)]
        if not hits:
            raise InputError(
                f"no column {name!r} in {source}; columns: {_listing(header)}",
                field=f"{role}_col",
            )
        if len(hits) > 1:
            raise InputError(
                f"{name!r} matches {len(hits)} columns of {source} "
                f"({_positions(header, hits)}); rename all but one",
                field=f"{role}_col",
            )
        for other, i in found.items():
            if i == hits[0]:
                raise InputError(
                    f"`{other}_col` and `{role}_col` both name column {header[i]!r} of {source}"
                )
        found[role] = hits[0]
    taken = set(found.values())
    for role in ROLES:
        if role in found:
            continue
        accepted = {_normalise(a) for a in ALIASES[role]}
        hits = [i for i, h in enumerate(normal) if h in accepted and i not in taken]
        if len(hits) > 1:
            what = "the loss" if role == "loss" else f"{role} ({_SYMBOLS[role]})"
            fix = (
                "rename all but one"
                if len({header[i] for i in hits}) == 1
                else f"choose one with `{role}_col`"
            )
            raise InputError(
                f"{source}: columns {_positions(header, hits)} "
                f"{'both' if len(hits) == 2 else 'all'} look like {what}; {fix}"
            )
        if hits:
            found[role] = hits[0]
    if "loss" not in found:
        taken = set(found.values())
        ending = loss_by_its_ending([h for i, h in enumerate(header) if i not in taken], source)
        if ending is None:
            raise InputError(
                f"{source}: no loss column; accepted headers: {', '.join(ALIASES['loss'])}, "
                "or one header ending in 'loss' (or name one with `loss_col`); "
                f"columns: {_listing(header)}"
            )
        found["loss"] = header.index(ending)
    have = [role for role in ("params", "tokens", "flops") if role in found]
    if len(have) < 2:
        got = f"only {have[0]} ({header[found[have[0]]]!r})" if have else "none of them"
        names = "; ".join(f"{r}: {', '.join(ALIASES[r])}" for r in ("params", "tokens", "flops"))
        raise InputError(
            f"{source}: need two of the params (N), tokens (D) and flops (C) columns, "
            f"C = 6 N D gives the third; found {got}. Accepted headers: {names} "
            "(or name them with `params_col`, `tokens_col`, `flops_col`); "
            f"columns: {_listing(header)}"
        )
    return found


def ends_in_loss(name: str) -> bool:
    """Whether a header may be a loss named by its metric (a loss scale is not)."""
    return _SEPARATORS.sub("", name.lower()).endswith("loss")


def loss_by_its_ending(names: list[str], source: str) -> str | None:
    """The one name ending in 'loss' -- a loss named by its metric, as W&B names them
    (eval/c4_en-validation/CrossEntropyLoss); None if there is none. A loss scale is not
    a loss; several candidates are the user's choice."""
    ends = [n for n in names if ends_in_loss(n)]
    if len(ends) > 1:
        raise InputError(
            f"{source}: no column is named like the loss, and "
            f"{', '.join(repr(n) for n in ends)} {'both' if len(ends) == 2 else 'all'} "
            "end in 'loss'; choose one with `loss_col`"
        )
    return ends[0] if ends else None


def loss_note(name: str) -> str:
    """Said when the loss column was found by `loss_by_its_ending`."""
    return (
        f"loss: column {name!r}, the one whose name ends in 'loss' (name another with `loss_col`)"
    )


def _listing(cells: list[str], limit: int = 20) -> str:
    # a quoted header may hold a line break; a message stays on one line
    shown = ", ".join(" ".join(c.split()) for c in cells[:limit])
    return shown + (f", ... ({len(cells) - limit} more)" if len(cells) > limit else "")


def _positions(header: list[str], hits: list[int]) -> str:
    return " and ".join(f"{header[i]!r} (column {i + 1})" for i in hits)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        pass
    try:
        parse_quantity(text)
        return True
    except InputError:
        return False


def _parse_row(
    row: list[str], index: list[int], labels: list[str], where: str, blank_last: bool = False
) -> list[float] | None:
    """The slow path: suffixes, thousands separators, and precise errors. None if blank.
    `blank_last`: the last column (a task metric) may be empty: NaN."""
    if not any(cell.strip() for cell in row):
        return None
    if blank_last and not row[index[-1]].strip():
        parsed = _parse_row(row, index[:-1], labels[:-1], where) if len(index) > 1 else []
        return [*(parsed or []), math.nan]
    return [_parse_cell(row[i], label, where) for i, label in zip(index, labels, strict=True)]


def _parse_cell(cell: str, column: str, where: str) -> float:
    where = f"{where}: column {column!r}"
    text = cell.strip()
    if not text:
        raise InputError(f"{where}: the cell is empty; expected a number")
    try:
        return float(text)  # non-finite values are reported by _check_values
    except ValueError:
        pass
    if "," in text and not _GROUPED.match(text):
        raise InputError(
            f"{where}: {cell!r} is not a number (a comma is read only as a thousands "
            "separator, as in 1,000,000)"
        )
    try:
        return parse_quantity(text)
    except InputError as e:
        problem = "is not finite" if "not finite" in e.message else "is not a number"
        raise InputError(
            f"{where}: {cell!r} {problem}; expected e.g. 5.76e23, 70B, 1.4T or 1,000,000"
        ) from None


def _column(cells: typing.Any, name: str, source: str) -> _Floats:
    """One column of `runs_from_columns` as floats; strings are read as a file's cells."""
    try:
        values = np.asarray(cells, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):  # find the cell that is not a number
        values = np.array([_cell(cell, name, f"{source}: row {i}") for i, cell in enumerate(cells)])
    if values.ndim != 1:
        raise InputError(
            f"{source}: column {name!r} holds an array of shape {values.shape}; "
            "expected one number per run"
        )
    return values


def _cell(cell: object, column: str, where: str) -> float:
    if isinstance(cell, str):
        return _parse_cell(cell, column, where)
    try:
        return float(cell)  # type: ignore[arg-type]
    except OverflowError:  # an int too large for a float: reported as not finite
        return math.inf
    except (TypeError, ValueError):
        raise InputError(f"{where}: column {column!r}: {cell!r} is not a number") from None


def _check_values(values: dict[str, _Floats], names: dict[str, str], where: _Where) -> None:
    """N, D, C and loss must be finite and positive; name the first cell that is not
    (the earliest row; in it, the first column in ROLES order)."""
    bad: list[tuple[int, int]] = []  # (first bad row, column) of each column with one
    for order, role in enumerate(ROLES):
        if role in values:
            good = np.isfinite(values[role]) & (values[role] > 0)
            if not good.all():
                bad.append((int(np.argmin(good)), order))
    if not bad:
        return
    row, order = min(bad)
    role = ROLES[order]
    value = float(values[role][row])
    at = f"{where(row)}: column {names[role]!r}: {_show(value)!r}"
    if not math.isfinite(value):
        raise InputError(f"{at} is not finite; N, D, C and loss must be finite numbers")
    raise InputError(f"{at} is not positive; N, D, C and loss must all be > 0")


def _show(value: float) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


# ---------------------------------------------------------------------------- finishing


def _finish(
    source: str,
    names: dict[str, str],
    values: dict[str, _Floats],
    where: _Where,
    filters: _Filters,
    candidates: tuple[str, ...] = (),
    loss_named: bool = False,
) -> Runs:
    """Check the values, derive the missing one of N, D and C, and apply the filters.
    `loss_named`: the loss column was named (`loss_col`), not found by its header."""
    _check_values(values, names, where)
    cols = dict(values)
    columns = {role: names.get(role, "derived") for role in ROLES}
    derived: list[str] = []
    notes: list[str] = []
    if not loss_named and _normalise(names["loss"]) not in {_normalise(a) for a in ALIASES["loss"]}:
        notes.append(loss_note(names["loss"]))
    if "metric" in cols:  # fractions, or percents read as fractions (said in a note)
        cols["metric"], percent = _accuracy.check_metric(cols["metric"], names["metric"], where)
        notes += [percent] if percent else []
    six = FLOPS_PER_PARAM_TOKEN
    with np.errstate(all="ignore"):  # inf, 0 and nan are checked just below
        if "tokens" not in names:
            cols["tokens"] = cols["flops"] / (six * cols["params"])
            derived.append("tokens D = C / (6 N) (no tokens column)")
        elif "params" not in names:
            cols["params"] = cols["flops"] / (six * cols["tokens"])
            derived.append("params N = C / (6 D) (no params column)")
        elif "flops" not in names:
            cols["flops"] = six * cols["params"] * cols["tokens"]
            derived.append("flops C = 6 N D (no flops column)")
        else:
            off = np.abs(cols["flops"] / (six * cols["params"] * cols["tokens"]) - 1.0)
            if np.all(np.isfinite(off)) and off.max() > 0.05:
                notes.append(
                    f"the flops column differs from 6 N D by up to {off.max():.0%} "
                    f"(median {np.median(off):.0%}); C is used as given"
                )
    if derived:
        _check_derived(derived[0], cols, columns, where)

    n_read = int(cols["loss"].shape[0])
    keep = np.ones(n_read, dtype=bool)
    masks = filters.masks(cols["loss"], cols["flops"], cols["params"], cols["tokens"])
    for label, mask in masks:
        dropped = int(np.count_nonzero(keep & ~mask))
        keep &= mask
        notes.append(
            f"dropped {_rows(dropped)} with {label}" if dropped else f"no rows with {label}"
        )
    n_kept = int(np.count_nonzero(keep))
    if n_kept < filters.min_rows:
        left = " left after filtering" if masks else ""
        raise InputError(
            f"{source}: only {n_kept} run{'s' if n_kept != 1 else ''}{left}; "
            f"at least {filters.min_rows} are needed to fit"
            + (f" ({'; '.join(notes)})" if masks else "")
        )
    if n_kept < n_read:
        cols = {role: v[keep] for role, v in cols.items()}
    else:
        cols = {role: np.ascontiguousarray(v) for role, v in cols.items()}
    return Runs(
        params=cols["params"],
        tokens=cols["tokens"],
        flops=cols["flops"],
        loss=cols["loss"],
        source=source,
        n_read=n_read,
        n_dropped=n_read - n_kept,
        columns=columns,
        derived=tuple(derived),
        notes=tuple(notes),
        rows_kept=np.flatnonzero(keep) if n_kept < n_read else None,
        metric=cols.get("metric"),
        metric_col=names.get("metric"),
        metric_candidates=candidates,
    )


def _check_derived(
    sentence: str, cols: dict[str, _Floats], columns: dict[str, str], where: _Where
) -> None:
    """A derived N, D or C can overflow or underflow even when the inputs are fine."""
    role = next(r for r in ("params", "tokens", "flops") if columns[r] == "derived")
    values = cols[role]
    good = np.isfinite(values) & (values > 0)
    if good.all():
        return
    row = int(np.argmin(good))
    given = ", ".join(
        f"{_SYMBOLS[r]} = {_show(float(cols[r][row]))}"
        for r in ("params", "tokens", "flops")
        if r != role
    )
    formula = sentence.split(" (")[0]
    raise InputError(
        f"{where(row)}: {formula} comes out as {_show(float(values[row]))} "
        f"from {given}; N, D and C must be finite and positive"
    )


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


@dataclass(frozen=True)
class _Filters:
    """The filters on the rows and the fewest runs to keep; checked when made."""

    max_loss: float | None
    min_flops: float | None
    max_flops: float | None
    min_rows: int
    min_params: float | None = None
    min_tokens: float | None = None

    def __post_init__(self) -> None:
        for field in ("max_loss", "min_flops", "max_flops", "min_params", "min_tokens"):
            value = getattr(self, field)
            if value is not None and math.isnan(value):
                raise InputError("nan is not a number", field=field)
        low, high = self.min_flops, self.max_flops
        if low is not None and high is not None and low > high:
            raise InputError(
                f"{sci(low)} is above `max_flops` ({sci(high)}): no run can pass both",
                field="min_flops",
            )

    def masks(
        self, loss: _Floats, flops: _Floats, params: _Floats, tokens: _Floats
    ) -> list[tuple[str, NDArray[np.bool_]]]:
        """(the rows it drops, in words; the rows it keeps) for each filter given."""
        masks = []
        if self.max_loss is not None:
            masks.append((f"loss > {self.max_loss:g}", loss <= self.max_loss))
        if self.min_flops is not None:
            masks.append((f"C < {sci(self.min_flops)}", flops >= self.min_flops))
        if self.max_flops is not None:
            masks.append((f"C > {sci(self.max_flops)}", flops <= self.max_flops))
        if self.min_params is not None:
            masks.append((f"N < {sci(self.min_params)}", params >= self.min_params))
        if self.min_tokens is not None:
            masks.append((f"D < {sci(self.min_tokens)}", tokens >= self.min_tokens))
        return masks
