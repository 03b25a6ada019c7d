"""Training logs as runs for `chinchilla fit`: many logged rows per run in, one point per
run out.

A training log is long-format: one row per logged step of a run, such as a W&B history
CSV export, JSON Lines (one object per logged step) or TensorBoard event files (a file,
or a directory whose subdirectories are the runs; needs the `tensorboard` extra). A run
column (`run`, `name`, `run_id`, or `run_col`) groups the rows. `reduce` turns each
run's rows into the point the fit sees:

- "last" (default): the last logged loss, at the run's last logged D;
- "min": the lowest logged loss, at its own D;
- "mean-last K": the mean of the last K logged losses (noisy logs), at the last D;
- "none": every logged row is a point (the bootstrap then resamples runs, not rows).

N comes from a column whose value is one per run (it may be logged on any of the run's
rows, e.g. once at step 0); D from a tokens column, or from a step column times the
tokens per step (`batch_tokens`, or a column such as `batch_size_in_tokens`). Rows below
`min_tokens` (warm-up) are dropped before reducing. When the log carries the planned
length of a run (total steps or tokens), or `schedule_tokens` gives it, a run whose log
stops short of it is named in a warning: an intermediate checkpoint of a cosine schedule
overstates the loss a run planned to stop there would reach (Hoffmann et al. 2022).

The result is the column mapping that `runs.runs_from_columns` reads (one row per
point), so every check and filter of a plain table of runs applies after the reduction.
Every problem is one InputError; a message about the file's content starts with
`file:line:`.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import re
import typing
from array import array
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from operator import itemgetter
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from chinchilla_cli import accuracy as _accuracy
from chinchilla_cli import runs as _runs
from chinchilla_cli.errors import InputError
from chinchilla_cli.quantity import sci
from chinchilla_cli.read_options import DEFAULT_READ, ReadOptions

__all__ = [
    "LOG_ALIASES",
    "REDUCTIONS",
    "INCOMPLETE_BELOW",
    "Reduce",
    "TrainingLog",
    "parse_reduce",
    "read_log",
    "read_table",
    "table_from_columns",
]

_Floats = NDArray[np.float64]
_Ints = NDArray[np.intp]
_Where = Callable[[int], str]

REDUCTIONS = ("last", "min", "mean-last", "none")
# A run whose last logged D is below this fraction of its planned D is flagged: evaluation
# intervals leave the last logged step a little short of the final one in a complete run.
INCOMPLETE_BELOW = 0.98
TENSORBOARD_HINT = "pip install 'chinchilla-cli[tensorboard]'"

# Header names of the roles a log adds to a table of runs (matched as runs.py matches
# its own: case, spaces, "_", "-", and here also "/" and "." ignored).
LOG_ALIASES: dict[str, tuple[str, ...]] = {
    "run": ("run", "name", "run_id", "run_name"),
    "step": ("step", "_step", "global_step", "trainer/global_step", "iteration", "iter"),
    "batch_tokens": (
        "batch_tokens",
        "batch_size_in_tokens",
        "tokens_per_step",
        "global_batch_tokens",
    ),
    "schedule_steps": (
        "total_steps",
        "max_steps",
        "num_train_steps",
        "trainer.num_train_steps",
        "train_steps",
        "planned_steps",
        "scheduled_steps",
    ),
    "schedule_tokens": (
        "planned_tokens",
        "schedule_tokens",
        "scheduled_tokens",
        "target_tokens",
        "token_budget",
        "max_tokens",
        "total_train_tokens",
    ),
}
_EXTRA_ALIASES: dict[str, tuple[str, ...]] = {  # beyond runs.ALIASES, seen in logs
    "params": ("num_params", "n_parameters", "num_parameters", "parameter_count", "param_count"),
    "tokens": ("tokens_seen", "num_tokens_seen", "consumed_tokens", "tokens_processed"),
    "flops": (),
    "loss": (),
}
_ROLES = ("run", "step", "params", "tokens", "flops", "loss", "batch_tokens")
_SCHEDULE = ("schedule_steps", "schedule_tokens")
_MEAN_LAST = re.compile(r"^mean[\s_-]*last(?:[\s:=_-]*(\d+))?$")
_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")
_JSON_CHUNK = 65_536  # objects gathered before their keys are moved into columns


def _normal(name: str) -> str:
    return _runs._SEPARATORS.sub("", name.replace("\ufeff", "").lower())


def _aliases(role: str) -> set[str]:
    if role in LOG_ALIASES:
        names: tuple[str, ...] = LOG_ALIASES[role]
    else:
        names = _runs.ALIASES[role] + _EXTRA_ALIASES[role]
    return {_normal(a) for a in names}


# ------------------------------------------------------------------------- reduce


@dataclass(frozen=True)
class Reduce:
    """How a run's logged rows become the fit's point(s): `how` in REDUCTIONS; `k` the
    window of "mean-last"."""

    how: str = "last"
    k: int = 1

    def __str__(self) -> str:
        return f"mean-last {self.k}" if self.how == "mean-last" else self.how

    def describe(self) -> str:
        """In words, for the notes."""
        return {
            "last": "the last logged loss of each run",
            "min": "the lowest logged loss of each run, at its own D",
            "mean-last": f"the mean of the last {self.k} logged losses of each run, at its last D",
            "none": "every logged row (the bootstrap resamples runs)",
        }[self.how]


def parse_reduce(text: str | Reduce | None) -> Reduce:
    """`reduce` as given: "last", "min", "mean-last K" (also "mean-last:K"), or "none"."""
    if text is None:
        return Reduce()
    if isinstance(text, Reduce):
        return text
    if not isinstance(text, str):
        raise InputError(f"{text!r} is not a reduction; expected {_accepted()}", field="reduce")
    word = " ".join(text.strip().lower().split())
    if word in ("last", "min", "none"):
        return Reduce(word)
    m = _MEAN_LAST.match(word)
    if m:
        if m.group(1) is None:
            raise InputError(
                f"{text!r} needs the number of points, e.g. mean-last:5 (or 'mean-last 5', quoted)",
                field="reduce",
            )
        k = int(m.group(1))
        if k < 1:
            raise InputError(f"{text!r}: the window must be at least 1 point", field="reduce")
        return Reduce("mean-last", k)
    raise InputError(f"unknown reduction {text!r}; expected {_accepted()}", field="reduce")


def _accepted() -> str:
    return "last, min, mean-last:K (e.g. mean-last:5) or none"


# ------------------------------------------------------------------------- result


@dataclass(frozen=True)
class TrainingLog:
    """A training log reduced to the fit's points, and what was done to get there."""

    source: str
    format: str  # "csv", "jsonl", "json", "tensorboard"
    columns: dict[str, _Floats]  # role -> one value per point: what runs_from_columns reads
    headers: dict[str, str]  # role -> the header, key or tag it came from (or how derived)
    run_names: tuple[str, ...]  # the runs with at least one point, in order of appearance
    run_index: _Ints  # the run of each point (index into run_names)
    rows_read: int  # logged rows read (every row of the file)
    run_col: str | None  # None: no run column, each row is a run
    reduce: Reduce
    incomplete: tuple[str, ...]  # runs whose log stops short of their schedule
    notes: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def n_runs(self) -> int:
        return len(self.run_names)

    @property
    def n_points(self) -> int:
        return int(self.run_index.shape[0])

    def to_dict(self) -> dict[str, typing.Any]:
        return {
            "format": self.format,
            "run_col": self.run_col,
            "reduce": str(self.reduce),
            "rows_read": self.rows_read,
            "runs": self.n_runs,
            "points": self.n_points,
            "columns": dict(self.headers),
            "incomplete_runs": list(self.incomplete),
            "notes": list(self.notes),
        }


# ------------------------------------------------------------------------- entry points


def read_log(
    path: str,
    *,
    params_col: str | None = None,
    tokens_col: str | None = None,
    flops_col: str | None = None,
    loss_col: str | None = None,
    metric_col: str | None = None,
    run_col: str | None = None,
    reduce: str | Reduce | None = None,
    batch_tokens: float | None = None,
    schedule_tokens: float | None = None,
    min_tokens: float | None = None,
    stdin: typing.TextIO | None = None,
) -> TrainingLog | None:
    """The training log in `path` ("-" for stdin) reduced to points, or None when the file
    is a plain table of runs (one row per run) that runs.read_runs reads.

    A file is a training log when `run_col` is given, when it is JSON Lines or TensorBoard
    (event files, or a directory of runs), or when a CSV/TSV has both a run column and a
    step column (a W&B history export). Raises InputError.
    """
    overrides = _overrides(run_col, params_col, tokens_col, flops_col, loss_col, metric_col)
    options = _Options(parse_reduce(reduce), batch_tokens, schedule_tokens, min_tokens)
    long, _ = _load(path, overrides, stdin)
    return None if long is None else _reduce(long, overrides, options)


def read_table(
    path: str, options: ReadOptions = DEFAULT_READ, *, stdin: typing.TextIO | None = None
) -> tuple[_runs.Runs, TrainingLog | None]:
    """The runs in `path` ("-" for stdin): a plain table of runs (read by runs.read_runs;
    the log is None) or a training log (see `read_log`), reduced to points and read as
    one. The log options (`reduce`, `batch_tokens`, `schedule_tokens`) are refused for a
    plain table; the filters apply to both. Raises InputError.
    """
    o = options
    overrides = o.column_names
    log_options = _Options(parse_reduce(o.reduce), o.batch_tokens, o.schedule_tokens, o.min_tokens)
    long, text = _load(path, overrides, stdin)
    if long is None:  # a plain table of runs: the reader of tables reads it
        log_options.refuse_for_table()
        table = _runs.read_runs(
            path,
            params_col=o.params_col,
            tokens_col=o.tokens_col,
            flops_col=o.flops_col,
            loss_col=o.loss_col,
            metric_col=o.metric_col,
            min_tokens=o.min_tokens,
            min_params=o.min_params,
            max_loss=o.max_loss,
            min_flops=o.min_flops,
            max_flops=o.max_flops,
            stdin=text if text is not None else stdin,
        )
        return table, None
    log = _reduce(long, overrides, log_options)
    return _as_runs(log, _RunFilters(o.min_params, o.max_loss, o.min_flops, o.max_flops)), log


def _overrides(
    run: str | None,
    params: str | None,
    tokens: str | None,
    flops: str | None,
    loss: str | None,
    metric: str | None = None,
) -> dict[str, str | None]:
    return {
        "run": run,
        "params": params,
        "tokens": tokens,
        "flops": flops,
        "loss": loss,
        "metric": metric,
    }


def _load(
    path: str, overrides: Mapping[str, str | None], stdin: typing.TextIO | None
) -> tuple[_Long | None, typing.TextIO | None]:
    """The long table of a log, or None for a plain table of runs (with, for stdin, its
    text again: a pipe cannot be read twice)."""
    source = "<stdin>" if path == "-" else str(path)
    if path != "-" and (os.path.isdir(path) or ".tfevents" in os.path.basename(path)):
        return _read_tensorboard(path, source), None
    with _runs._opened(path, source, stdin) as (data, unit):
        encoding = _runs._check_text(data, source, unit)
        head = _peek(data, encoding)
        if path.lower().endswith(_JSON_SUFFIXES) or head[:1] in ("{", "["):
            return _read_json(data, encoding, source, overrides), None
        long = _read_csv(data, encoding, source, overrides)
        if long is None and path == "-":
            data.seek(0)
            return None, io.TextIOWrapper(io.BytesIO(data.read()), encoding=encoding)
        return long, None


def table_from_columns(
    columns: Mapping[str, typing.Any] | _runs.ColumnTable,
    options: ReadOptions = DEFAULT_READ,
    *,
    source: str = "<columns>",
) -> tuple[_runs.Runs, TrainingLog | None]:
    """`read_table` for a mapping of columns (a dict of lists, a pandas DataFrame such as
    W&B's `run.history()`): a training log when `run_col` is given, else a plain table."""
    o = options
    log_options = _Options(parse_reduce(o.reduce), o.batch_tokens, o.schedule_tokens, o.min_tokens)
    filters = _RunFilters(o.min_params, o.max_loss, o.min_flops, o.max_flops)
    if o.run_col is None:
        log_options.refuse_for_table()
        table = _runs.runs_from_columns(
            columns,
            params_col=o.params_col,
            tokens_col=o.tokens_col,
            flops_col=o.flops_col,
            loss_col=o.loss_col,
            metric_col=o.metric_col,
            min_tokens=o.min_tokens,
            min_params=o.min_params,
            max_loss=o.max_loss,
            min_flops=o.min_flops,
            max_flops=o.max_flops,
            source=source,
        )
        return table, None
    keys = list(columns.keys())
    names = [str(k) for k in keys]
    cells = {name: list(columns[key]) for name, key in zip(names, keys, strict=True)}
    lengths = {len(v) for v in cells.values()}
    if len(lengths) > 1:
        raise InputError(f"{source}: the columns differ in length ({sorted(lengths)})")
    n = lengths.pop() if lengths else 0
    long = _Long(source, "columns", names, cells, n, lambda row: f"{source}: row {row}")
    log = _reduce(long, o.column_names, log_options)
    return _as_runs(log, filters), log


@dataclass(frozen=True)
class _RunFilters:
    """The filters on the points, applied by runs.runs_from_columns."""

    min_params: float | None
    max_loss: float | None
    min_flops: float | None
    max_flops: float | None


def _as_runs(log: TrainingLog, filters: _RunFilters) -> _runs.Runs:
    """The points as runs.py's Runs, with the log's headers as the columns' names."""
    table = _runs.runs_from_columns(
        log.columns,
        metric_col="metric" if "metric" in log.columns else None,
        min_params=filters.min_params,
        max_loss=filters.max_loss,
        min_flops=filters.min_flops,
        max_flops=filters.max_flops,
        source=log.source,
    )
    columns = {role: log.headers.get(role, used) for role, used in table.columns.items()}
    for role, used in table.columns.items():
        if used == "derived":
            columns[role] = "derived"
    return replace(table, columns=columns, metric_col=log.headers.get("metric"))


@dataclass(frozen=True)
class _Options:
    reduce: Reduce
    batch_tokens: float | None
    schedule_tokens: float | None
    min_tokens: float | None

    def refuse_for_table(self) -> None:
        """The log options given for a plain table of runs: refused, not ignored."""
        given = {
            "reduce": self.reduce != Reduce(),
            "batch_tokens": self.batch_tokens is not None,
            "schedule_tokens": self.schedule_tokens is not None,
        }
        for field, was_given in given.items():
            if was_given:
                raise InputError(
                    "applies to training logs (many rows per run); this is a table of "
                    "runs: name its run column with `run_col`",
                    field=field,
                )


# ------------------------------------------------------------------------- reading


@dataclass
class _Long:
    """A long-format log as read: its column names and the raw cells of the columns that
    may hold a role (one per row; None or "" where a row logs nothing)."""

    source: str
    format: str
    names: list[str]
    cells: Mapping[str, Sequence[typing.Any]]
    n_rows: int
    where: _Where  # row -> "file:line" (or how the format names a row)
    implicit_run: bool = False  # TensorBoard: the runs are directories, not a column


def _wanted(overrides: Mapping[str, str | None]) -> Callable[[str], bool]:
    """Whether a column may hold a role: it matches an alias or a named column."""
    accepted = set().union(*(_aliases(r) for r in (*_ROLES, *_SCHEDULE)))
    named = {_normal(v) for v in overrides.values() if v is not None}
    exact = {v.strip() for v in overrides.values() if v is not None}

    def wanted(name: str) -> bool:
        return (
            name.strip() in exact
            or _normal(name) in accepted
            or _normal(name) in named
            or _accuracy.is_task_column(name)  # auto-detected task metrics
            or (overrides.get("loss") is None and _runs.ends_in_loss(name))
        )

    return wanted


def _peek(data: typing.IO[bytes], encoding: str) -> str:
    """The first non-blank characters of the input."""
    with _runs._text(data, encoding) as text:
        head = text.read(4096).lstrip("\ufeff \t\r\n")
    return head


def _read_csv(
    data: typing.IO[bytes], encoding: str, source: str, overrides: Mapping[str, str | None]
) -> _Long | None:
    """A CSV/TSV log, or None when the table is a plain table of runs (no `run_col` was
    given, and it lacks a run column or a step column)."""
    with _runs._text(data, encoding) as text:
        reader, header, skipped, header_line = _csv_header(text, source)
        if overrides["run"] is None:
            normal = {_normal(h) for h in header}
            if not (normal & _aliases("run") and normal & _aliases("step")):
                return None
        wanted = _wanted(overrides)
        index = [i for i, h in enumerate(header) if h and wanted(h)]
        if not index:
            return _Long(source, "csv", header, {}, 0, lambda row: source)
        take = itemgetter(*index)
        width = len(header)
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
    cells = {header[i]: col for i, col in zip(index, columns, strict=True)}
    return _Long(source, "csv", header, cells, len(rows), where)


def _csv_header(text: typing.TextIO, source: str) -> tuple[typing.Any, list[str], int, int]:
    """A csv reader left below the header, the header's cells, the blank lines before
    it, and its line."""
    skipped = 0
    for first in text:
        if first.strip():
            break
        skipped += 1
    else:
        raise _runs._empty(source)
    reader = csv.reader(itertools.chain([first], text), delimiter=_runs._sniff_delimiter(first))
    try:
        header = [cell.replace("\ufeff", "").strip() for cell in next(reader)]
    except csv.Error as e:
        raise InputError(f"{source}:{skipped + 1}: cannot parse the line ({e})") from None
    return reader, header, skipped, skipped + reader.line_num


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
    with _runs._text(data, encoding) as text:
        reader, _, skipped, header_line = _csv_header(text, source)
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


def _read_json(
    data: typing.IO[bytes], encoding: str, source: str, overrides: Mapping[str, str | None]
) -> _Long:
    """JSON Lines (one object per line), or one JSON array of objects."""
    wanted = _wanted(overrides)
    decided: dict[str, bool] = {}
    names: list[str] = []
    lines = array("q")
    with _runs._text(data, encoding) as text:
        head = text.read(4096).lstrip("\ufeff \t\r\n")
    chunks: Iterator[tuple[list[int], list[typing.Any]]]
    if head.startswith("["):
        with _runs._text(data, encoding) as text:
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
    columns: dict[str, list[typing.Any]] = {}
    row = 0
    try:
        for numbers, chunk in chunks:
            for at, obj in zip(numbers, chunk, strict=True):
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
                    column.extend([None] * len(chunk))
            for key in keys:
                if decided[key]:
                    if key not in columns:
                        columns[key] = [None] * row
                    columns[key].extend([obj.get(key) for obj in chunk])
            lines.extend(numbers)
            row += len(chunk)
    finally:  # close the file's line reader now, not when collected
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    if row == 0:
        raise InputError(f"{source}: no logged rows; expected one JSON object per logged step")
    cells: dict[str, Sequence[typing.Any]] = {str(k): v for k, v in columns.items()}

    def where(r: int) -> str:
        return f"{source}:{lines[r]}" if unit == "line" else f"{source}: item {lines[r]}"

    return _Long(source, fmt, names, cells, row, where)


def _json_lines(
    data: typing.IO[bytes], encoding: str, source: str
) -> Iterator[tuple[list[int], list[typing.Any]]]:
    """Chunks of (line numbers, values) of the non-blank lines."""
    numbers: list[int] = []
    pending: list[str] = []
    with _runs._text(data, encoding) as text:
        for number, line in enumerate(text, 1):
            stripped = line.strip().lstrip("\ufeff")
            if stripped:
                numbers.append(number)
                pending.append(stripped)
                if len(pending) == _JSON_CHUNK:
                    yield numbers, _json_chunk(numbers, pending, source)
                    numbers, pending = [], []
        if pending:
            yield numbers, _json_chunk(numbers, pending, source)


def _json_chunk(numbers: list[int], lines: list[str], source: str) -> list[typing.Any]:
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
    for number, line in zip(numbers, lines, strict=True):
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError as e:
            raise InputError(f"{source}:{number}: not valid JSON ({e.msg})") from None
    return out


def _read_tensorboard(path: str, source: str) -> _Long:
    """TensorBoard event files: `path` is one file (one run) or a directory, whose event
    files are grouped into runs by the directory holding them (as TensorBoard does)."""
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
    root = Path(path)
    if root.is_dir():
        files = sorted(p for p in root.rglob("*") if p.is_file() and ".tfevents" in p.name)
        if not files:
            raise InputError(f"{source}: is a directory with no TensorBoard event files in it")
    elif root.exists():
        files = [root]
    else:
        raise InputError(f"{source}: no such file")
    rows: dict[tuple[str, int], int] = {}
    run_of: list[str] = []
    step_of: list[int] = []
    file_of: list[str] = []
    values: dict[str, dict[int, float]] = {}
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
                number = _scalar(value, tensor_util)
                if number is None:
                    continue
                key = (run, int(event.step))
                row = rows.get(key)
                if row is None:
                    row = rows[key] = len(run_of)
                    run_of.append(run)
                    step_of.append(int(event.step))
                    file_of.append(str(file))
                values.setdefault(value.tag, {})[row] = number
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

    return _Long(source, "tensorboard", ["run", "step", *values], cells, n, where, True)


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


# ------------------------------------------------------------------------- roles


def _resolve(long: _Long, overrides: Mapping[str, str | None]) -> dict[str, str]:
    """Role -> column name. A named column must exist; an alias must match one column."""
    present = [n for n in long.names if n in long.cells]
    normal = {n: _normal(n) for n in present}
    found: dict[str, str] = {}
    for role, name in overrides.items():
        if name is None:
            continue
        if long.implicit_run and role == "run":
            raise InputError(
                "TensorBoard runs are the directories that hold the event files; "
                "there is no run column to name",
                field="run_col",
            )
        hits = [n for n in present if n == name.strip()] or [
            n for n in present if normal[n] == _normal(name)
        ]
        if not hits:
            raise InputError(
                f"no column {name!r} in {long.source}; columns: {_runs._listing(long.names)}",
                field=f"{role}_col",
            )
        if len(hits) > 1:
            raise InputError(
                f"{name!r} matches {len(hits)} columns of {long.source} ({', '.join(hits)})",
                field=f"{role}_col",
            )
        found[role] = hits[0]
    taken = set(found.values())
    for role in (*_ROLES, *_SCHEDULE):
        if role in found:
            continue
        accepted = _aliases(role)
        hits = [n for n in present if normal[n] in accepted and n not in taken]
        if len(hits) > 1:
            how = f"choose one with `{role}_col`" if role in overrides else "rename all but one"
            raise InputError(
                f"{long.source}: columns {', '.join(repr(h) for h in hits)} all look like "
                f"{_ROLE_WORDS[role]}; {how}"
            )
        if hits:
            found[role] = hits[0]
            taken.add(hits[0])
    if "loss" not in found:
        ending = _runs.loss_by_its_ending([n for n in present if n not in taken], long.source)
        if ending is None:
            raise InputError(
                f"{long.source}: no loss column; accepted names: "
                f"{', '.join(_runs.ALIASES['loss'])}, train/loss, eval/loss, or one column "
                f"whose name ends in 'loss' (or name one with `loss_col`); "
                f"columns: {_runs._listing(long.names)}"
            )
        found["loss"] = ending
    return found


_ROLE_WORDS = {
    "run": "the run",
    "step": "the step",
    "params": "params (N)",
    "tokens": "tokens (D)",
    "flops": "flops (C)",
    "loss": "the loss",
    "batch_tokens": "tokens per step",
    "schedule_steps": "the planned steps",
    "schedule_tokens": "the planned tokens",
}


def _numbers(cells: Sequence[typing.Any], name: str, where: _Where) -> _Floats:
    """A column as floats, NaN where a row logs nothing ("" or null)."""
    n = len(cells)
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
                out[i] = _runs._parse_cell(cell, name, where(i))
        elif isinstance(cell, (int, float)) and not isinstance(cell, bool):
            try:
                out[i] = float(cell)
            except OverflowError:
                out[i] = math.inf
        else:
            raise InputError(f"{where(i)}: column {name!r}: {cell!r} is not a number")
    return out


# ------------------------------------------------------------------------- reducing


def _reduce(long: _Long, overrides: Mapping[str, str | None], options: _Options) -> TrainingLog:
    roles = _resolve(long, overrides)
    candidates = _accuracy.add_log_metric(roles, [n for n in long.names if n in long.cells])
    src, where = long.source, long.where
    notes: list[str] = []
    if overrides.get("loss") is None and _normal(roles["loss"]) not in _aliases("loss"):
        notes.append(_runs.loss_note(roles["loss"]))
    warnings: list[str] = []
    n = long.n_rows
    num = {r: _numbers(long.cells[c], c, where) for r, c in roles.items() if r != "run"}
    loss = num["loss"]

    # the runs: codes in order of first appearance
    if "run" in roles:
        codes, run_names = _codes(long.cells[roles["run"]], roles["run"], where)
    else:
        codes, run_names = np.arange(n, dtype=np.intp), [str(i) for i in range(n)]
    grouped = "run" in roles

    # rows that log a loss are the log's points; other rows may carry N, plans, batch sizes
    logged = ~np.isnan(loss)
    bad = logged & ~(np.isfinite(loss) & (loss > 0))
    if bad.any():
        row = int(np.argmax(bad))
        if np.isfinite(loss[row]):
            raise InputError(
                f"{where(row)}: column {roles['loss']!r}: {_show(loss[row])} is not positive; "
                "a loss must be > 0"
            )
        diverged = sorted({run_names[c] for c in codes[bad]})
        notes.append(
            f"ignored {_count(int(bad.sum()), 'row')} with an infinite loss "
            f"(runs {_names(diverged)}: diverged?)"
        )
        logged &= ~bad
    if not logged.any():
        raise InputError(f"{src}: no row logs a loss (column {roles['loss']!r})")

    params = _per_run(num, "params", codes, len(run_names), roles, where)
    if "params" not in roles and "flops" not in roles:
        raise InputError(
            f"{src}: no params (N) column; N must be logged (on any row of each run, e.g. "
            f"once at step 0): accepted names: {', '.join(_runs.ALIASES['params'])} "
            "(or name it with `params_col`)"
        )
    step = num.get("step")
    if step is not None:
        bad_step = ~np.isnan(step) & ~(np.isfinite(step) & (step >= 0))
        if bad_step.any():
            row = int(np.argmax(bad_step))
            raise InputError(
                f"{where(row)}: column {roles['step']!r}: {_show(step[row])} is not a step "
                "(a whole number >= 0)"
            )

    # D of every row: a tokens column, else steps x tokens per step
    tokens_header = roles.get("tokens")
    per_step: _Floats | None = None
    if "tokens" in roles:
        if options.batch_tokens is not None:
            raise InputError(
                f"the log has a tokens column ({roles['tokens']!r}); `batch_tokens` applies "
                "only to logs without one",
                field="batch_tokens",
            )
        tokens = num["tokens"]
    elif "flops" in roles and "params" in roles:
        with np.errstate(all="ignore"):
            tokens = num["flops"] / (6.0 * params[codes])
        tokens_header = f"C / (6 N) from {roles['flops']!r}"
    else:
        if step is None:
            raise InputError(
                f"{src}: no tokens (D) column and no step column to count them; accepted "
                f"names: {', '.join(_runs.ALIASES['tokens'])}; or a step column "
                f"({', '.join(LOG_ALIASES['step'])}) with `batch_tokens`"
            )
        if options.batch_tokens is not None:
            per_step = np.full(len(run_names), float(options.batch_tokens))
            how = f"{options.batch_tokens:,.0f} tokens per step (`batch_tokens`)"
        elif "batch_tokens" in roles:
            per_step = _per_run(num, "batch_tokens", codes, len(run_names), roles, where)
            how = f"column {roles['batch_tokens']!r}"
        else:
            raise InputError(
                f"{src}: no tokens (D) column; D = steps x tokens per step needs "
                "`batch_tokens` (batch size x sequence length) or a column such as "
                f"{LOG_ALIASES['batch_tokens'][1]!r}",
                field="batch_tokens",
            )
        tokens = step * per_step[codes]
        tokens_header = f"{roles['step']} x tokens per step"
        notes.append(f"tokens D = {roles['step']!r} x {how} (no tokens column)")
    bad_tokens = logged & ~np.isnan(tokens) & ~(np.isfinite(tokens) & (tokens > 0))
    if bad_tokens.any():
        row = int(np.argmax(bad_tokens))
        what = f"column {roles['tokens']!r}: " if "tokens" in roles else "tokens D "
        raise InputError(f"{where(row)}: {what}{_show(tokens[row])} is not positive")
    no_tokens = logged & np.isnan(tokens)
    if no_tokens.any():
        notes.append(
            f"ignored {_count(int(no_tokens.sum()), 'row')} with a loss but no tokens "
            f"(first: {where(int(np.argmax(no_tokens)))})"
        )
        logged &= ~no_tokens
    if options.min_tokens is not None:
        warm = logged & (tokens < options.min_tokens)
        if warm.any():
            before = set(np.unique(codes[logged]).tolist())
            logged &= ~warm
            gone = before - set(np.unique(codes[logged]).tolist())
            notes.append(
                f"dropped {_count(int(warm.sum()), 'logged row')} with D < "
                f"{sci(options.min_tokens)} (`min_tokens`)"
                + (
                    f"; no row left of runs {_names([run_names[c] for c in sorted(gone)])}"
                    if gone
                    else ""
                )
            )
        if not logged.any():
            raise InputError(
                f"{src}: no logged row has D >= {sci(options.min_tokens)}", field="min_tokens"
            )

    # each run's rows in training order (step, else D), the later of a repeated step kept
    rows = np.flatnonzero(logged)
    key = step if step is not None else tokens
    order = np.lexsort((rows, key[rows], codes[rows]))
    rows = rows[order]
    c, k = codes[rows], key[rows]
    if len(rows) > 1:
        again = (c[1:] == c[:-1]) & (k[1:] == k[:-1])
        if again.any():
            notes.append(
                f"{_count(int(again.sum()), 'row')} repeat a step of their run (resumed?): "
                "the later one is kept"
            )
            rows = rows[np.concatenate([~again, [True]])]
            c = codes[rows]
    starts = np.concatenate([[0], np.flatnonzero(c[1:] != c[:-1]) + 1])
    ends = np.concatenate([starts[1:], [len(rows)]])
    run_of_segment = c[starts]

    reduce = options.reduce
    point_loss: _Floats
    if reduce.how == "none":
        if not grouped:
            raise InputError(
                "keeps every row of each run: the log needs a run column (`run_col`)",
                field="reduce",
            )
        point_rows = rows
        point_loss = loss[rows]
        point_run = c
    elif reduce.how == "min":
        seg = np.repeat(np.arange(len(starts)), ends - starts)
        best = np.lexsort((np.arange(len(rows)), loss[rows], seg))
        first = np.concatenate([[True], seg[best][1:] != seg[best][:-1]])
        point_rows = rows[best[first]]
        point_loss = loss[point_rows]
        point_run = run_of_segment
    else:
        point_rows = rows[ends - 1]
        point_run = run_of_segment
        if reduce.how == "mean-last":
            cum = np.concatenate([[0.0], np.cumsum(loss[rows])])
            lo = np.maximum(starts, ends - reduce.k)
            point_loss = (cum[ends] - cum[lo]) / (ends - lo)
            short = int(np.count_nonzero(ends - starts < reduce.k))
            if short:
                notes.append(
                    f"{_count(short, 'run')} logged fewer than {reduce.k} losses: the mean "
                    "is over the ones logged"
                )
        else:
            point_loss = loss[point_rows]

    if grouped:
        shown = (
            f"runs grouped by column {roles['run']!r}"
            if not long.implicit_run
            else ("runs from the event files' directories")
        )
        notes.insert(
            0,
            f"{shown}: {_count(len(starts), 'run')} from {_count(n, 'logged row')}; "
            f"points: {reduce.describe()}",
        )

    # the schedule: a log that stops short overstates the loss (Chinchilla's caveat)
    planned = _planned(
        num, roles, codes, len(run_names), options, per_step, tokens, rows, starts, ends, where
    )
    last_tokens = tokens[rows[ends - 1]]
    incomplete: list[str] = []
    if planned is not None:
        plan = planned[run_of_segment]
        short = np.isfinite(plan) & (last_tokens < INCOMPLETE_BELOW * plan)
        for j in np.flatnonzero(short):
            incomplete.append(run_names[run_of_segment[j]])
        if incomplete:
            shown = ", ".join(
                f"{name!r} ({last_tokens[j] / plan[j]:.0%} of {sci(plan[j])} tokens)"
                for name, j in zip(incomplete[:5], np.flatnonzero(short)[:5], strict=False)
            )
            more = f" and {len(incomplete) - 5} more" if len(incomplete) > 5 else ""
            warnings.append(
                f"{_count(len(incomplete), 'run')} "
                f"{'stops' if len(incomplete) == 1 else 'stop'} before the schedule ends: "
                f"{shown}{more}; an intermediate checkpoint of a cosine schedule overstates "
                "the loss of a run planned to end there: let them finish, or leave them out"
            )
    if reduce.how == "none":
        warnings.append(
            "`reduce` none fits every logged row: the intermediate checkpoints of a cosine "
            "schedule overstate the loss of runs planned to stop there (Hoffmann et al. "
            "2022 fit final losses only); the bootstrap resamples whole runs"
        )

    # the points, in the columns runs_from_columns reads
    columns: dict[str, _Floats] = {"loss": np.ascontiguousarray(point_loss)}
    columns["tokens"] = np.ascontiguousarray(tokens[point_rows])
    headers = {"loss": roles["loss"], "tokens": tokens_header or "derived"}
    if "metric" in num:  # a task metric, reduced as the loss was (accuracy.py)
        metric, percent = _accuracy.check_metric(num["metric"], roles["metric"], where)
        notes += [percent] if percent else []
        columns["metric"] = _accuracy.reduce_log_metric(
            metric, codes, key, point_rows, point_run, reduce.how, reduce.k
        )
        headers["metric"] = roles["metric"]
    if candidates:
        warnings.append(_accuracy.several_columns_warning(candidates))
    if "params" in roles:
        columns["params"] = params[codes[point_rows]]
        headers["params"] = roles["params"]
    if "flops" in roles:
        columns["flops"] = num["flops"][point_rows]
        headers["flops"] = roles["flops"]
    used = np.unique(point_run)  # sorted codes = order of first appearance
    remap = np.full(len(run_names), -1, dtype=np.intp)
    remap[used] = np.arange(len(used))
    return TrainingLog(
        source=src,
        format=long.format,
        columns=columns,
        headers=headers,
        run_names=tuple(run_names[u] for u in used),
        run_index=remap[point_run],
        rows_read=n,
        run_col=roles.get("run") if not long.implicit_run else "(directories)",
        reduce=reduce,
        incomplete=tuple(incomplete),
        notes=tuple(notes),
        warnings=tuple(warnings),
    )


def _codes(cells: Sequence[typing.Any], name: str, where: _Where) -> tuple[_Ints, list[str]]:
    """A run column as integer codes in order of first appearance, and the names."""
    try:
        index = {v: i for i, v in enumerate(dict.fromkeys(cells))}  # first appearance
    except TypeError:  # an unhashable cell (a JSON list or object)
        row = next(i for i, v in enumerate(cells) if not isinstance(v, typing.Hashable))
        raise InputError(f"{where(row)}: column {name!r}: a run name must be text") from None
    codes = np.fromiter(map(index.__getitem__, cells), np.intp, len(cells))
    names = ["" if v is None else str(v).strip() for v in index]
    blank = [code for code, label in enumerate(names) if not label]
    if blank:
        row = int(np.argmax(codes == blank[0]))
        raise InputError(f"{where(row)}: column {name!r}: the row has no run name")
    # "a" and " a", or 1 and "1", name one run
    merged: dict[str, int] = {}
    remap = np.empty(len(names), dtype=np.intp)
    for code, label in enumerate(names):
        remap[code] = merged.setdefault(label, len(merged))
    return remap[codes], list(merged)


def _per_run(
    num: Mapping[str, _Floats],
    role: str,
    codes: _Ints,
    n_runs: int,
    roles: Mapping[str, str],
    where: _Where,
) -> _Floats:
    """One value per run of a column logged on any of the run's rows (NaN: none)."""
    out = np.full(n_runs, np.nan)
    if role not in num:
        return out
    values = num[role]
    given = ~np.isnan(values)
    if not given.any():
        return out
    bad = given & ~(np.isfinite(values) & (values > 0))
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(
            f"{where(row)}: column {roles[role]!r}: {_show(values[row])} is not positive"
        )
    low = np.full(n_runs, np.inf)
    high = np.full(n_runs, -np.inf)
    np.minimum.at(low, codes[given], values[given])
    np.maximum.at(high, codes[given], values[given])
    varies = np.isfinite(low) & (high > low * (1 + 1e-6))
    if varies.any():
        run = int(np.argmax(varies))
        rows = np.flatnonzero(given & (codes == run))
        first = float(values[rows[0]])
        other = rows[np.argmax(np.abs(values[rows] - first) > first * 1e-6)]
        raise InputError(
            f"{where(int(other))}: column {roles[role]!r}: {_show(values[other])} differs from "
            f"{_show(first)} ({where(int(rows[0]))}) in the same run; {_ROLE_WORDS[role]} "
            "must be one value per run"
        )
    out[np.isfinite(low)] = low[np.isfinite(low)]
    if role == "params" and np.isnan(out).any() and "flops" not in roles:
        missing = int(np.argmax(np.isnan(out)))
        row = int(np.argmax(codes == missing))
        raise InputError(
            f"{where(row)}: column {roles[role]!r}: this run logs no N on any of its rows; "
            "log it once per run (e.g. at step 0)"
        )
    return out


def _planned(
    num: Mapping[str, _Floats],
    roles: Mapping[str, str],
    codes: _Ints,
    n_runs: int,
    options: _Options,
    per_step: _Floats | None,
    tokens: _Floats,
    rows: _Ints,
    starts: _Ints,
    ends: _Ints,
    where: _Where,
) -> _Floats | None:
    """Each run's planned D (NaN: unknown), or None when nothing tells the plan."""
    if options.schedule_tokens is not None:
        return np.full(n_runs, float(options.schedule_tokens))
    if "schedule_tokens" in roles:
        return _per_run(num, "schedule_tokens", codes, n_runs, roles, where)
    if "schedule_steps" not in roles:
        return None
    steps = _per_run(num, "schedule_steps", codes, n_runs, roles, where)
    if per_step is None:
        if "step" not in num:
            return None
        # tokens per step from the run's last logged row
        per_step = np.full(n_runs, np.nan)
        last = rows[ends - 1]
        with np.errstate(all="ignore"):
            per_step[codes[last]] = tokens[last] / num["step"][last]
    return steps * per_step


def _count(n: int, what: str) -> str:
    return f"{n:,} {what}" if n == 1 else f"{n:,} {what}s"


def _names(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _show(value: float) -> str:
    return _runs._show(float(value))
