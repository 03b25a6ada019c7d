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

The formats are read by formats.py (into named raw columns with each row's place); this
module finds the roles, and reduces each run. The result is the column mapping that
`runs.runs_from_columns` reads (one row per point), so every check and filter of a plain
table of runs applies after the reduction. Every problem is one InputError; a message
about the file's content starts with `file:line:`.
"""

from __future__ import annotations

import io
import os
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from chinchilla_cli import formats, log_runs, metrics, panels, tables
from chinchilla_cli.errors import InputError
from chinchilla_cli.laws import FLOPS_PER_PARAM_TOKEN
from chinchilla_cli.quantity import sci
from chinchilla_cli.read_options import DEFAULT_READ, ReadOptions, Reduce
from chinchilla_cli.runs import (
    ALIASES,
    ColumnTable,
    GroupedRuns,
    Runs,
    ends_in_loss,
    grouped_runs_from_columns,
    loss_by_its_ending,
    loss_note,
    read_grouped_runs,
    read_runs,
    runs_from_columns,
)

__all__ = [
    "INCOMPLETE_BELOW",
    "LOG_ALIASES",
    "TrainingLog",
    "read_grouped_table",
    "read_log",
    "read_table",
    "table_from_columns",
]

_Floats = NDArray[np.float64]
_Ints = NDArray[np.intp]
_Where = formats.Where

# A run whose last logged D is below this fraction of its planned D is flagged: evaluation
# intervals leave the last logged step a little short of the final one in a complete run.
INCOMPLETE_BELOW = 0.98
# A mean-last window over more than this fraction of a run's tokens is warned about.
WIDE_WINDOW = 0.10

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
_JOINED = ("params", "batch_tokens")  # with _SCHEDULE: what a runs table may add to a log
_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")


def _normal(name: str) -> str:
    return tables.normalise_path(name)


def _aliases(role: str) -> set[str]:
    if role in LOG_ALIASES:
        names: tuple[str, ...] = LOG_ALIASES[role]
    else:
        names = ALIASES[role] + _EXTRA_ALIASES[role]
    return {_normal(a) for a in names}


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
    dropped_runs: tuple[str, ...] = ()  # runs with no usable loss (named in a warning)
    run_groups: tuple[str, ...] = ()  # each run's group label (`group`), if read

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
            "dropped_runs": list(self.dropped_runs),
            "notes": list(self.notes),
        }


# ------------------------------------------------------------------------- entry points


def read_log(
    path: str, options: ReadOptions = DEFAULT_READ, *, stdin: typing.TextIO | None = None
) -> TrainingLog | None:
    """The training log in `path` ("-" for stdin) reduced to points, or None when the file
    is a plain table of runs (one row per run) that runs.read_runs reads.

    A file is a training log when `options.run_col` is given, when it is JSON Lines or
    TensorBoard (event files, or a directory of runs), or when a CSV/TSV has both a run
    column and a step column (a W&B history export). Of `options`, the columns, the log
    settings and `min_tokens` apply here (the other filters apply to the points, in
    `read_table`). Raises InputError.
    """
    table, _ = _load(path, options, stdin)
    return None if table is None else _reduce(table, options)


def read_table(
    path: str, options: ReadOptions = DEFAULT_READ, *, stdin: typing.TextIO | None = None
) -> tuple[Runs, TrainingLog | None]:
    """The runs in `path` ("-" for stdin): a plain table of runs (read by runs.read_runs;
    the log is None) or a training log (see `read_log`), reduced to points and read as
    one. The log options (`reduce`, `batch_tokens`, `schedule_tokens`) are refused for a
    plain table; the filters apply to both. Raises InputError.
    """
    table, text = _load(path, options, stdin)
    if table is None:  # a plain table of runs: the reader of tables reads it
        runs = read_runs(path, options, stdin=text if text is not None else stdin)
        return _with_states(runs, path if path != "-" else None), None
    log = _reduce(table, options)
    return _as_runs(log, options), log


def read_grouped_table(
    path: str, options: ReadOptions, group_col: str, *, stdin: typing.TextIO | None = None
) -> tuple[GroupedRuns, TrainingLog | None]:
    """`read_table` split by the column `group_col`: of a table of runs, read in the same
    pass as the runs (runs.read_grouped_runs); of a training log, one label per run
    (logged on any of its rows, or joined from the runs table), each point its run's;
    with the log it was reduced from (None for a table of runs)."""
    table, text = _load(path, options, stdin, group_col)
    if table is None:
        stream = text if text is not None else stdin
        return read_grouped_runs(path, options, group_col, stdin=stream), None
    log = _reduce(table, options, group_col)
    return _grouped(log, options, group_col), log


def grouped_from_columns(
    columns: Mapping[str, typing.Any] | ColumnTable,
    options: ReadOptions,
    group_col: str,
    *,
    source: str = "<columns>",
) -> tuple[GroupedRuns, TrainingLog | None]:
    """`read_grouped_table` for a table of columns (a DataFrame, records)."""
    if not looks_like_log([str(k) for k in columns.keys()], options.column_names) and (
        options.run_table is None
    ):
        return grouped_runs_from_columns(columns, options, group_col, source=source), None
    log = _reduce(_columns_table(columns, options, source, group_col), options, group_col)
    return _grouped(log, options, group_col), log


def _grouped(log: TrainingLog, options: ReadOptions, group_col: str) -> GroupedRuns:
    runs = _as_runs(log, options)
    labels = tuple(log.run_groups[i] for i in log.run_index)
    return GroupedRuns(runs, log.headers.get("group", group_col), labels)


def _load(
    path: str, options: ReadOptions, stdin: typing.TextIO | None, group_col: str | None = None
) -> tuple[formats.Table | None, typing.TextIO | None]:
    """The long table of a log (with the runs table joined to it), or None for a plain
    table of runs (with, for stdin, its text again: a pipe cannot be read twice)."""
    table, text = _load_table(path, options, stdin, group_col)
    return (None if table is None else _joined(table, options, group_col)), text


def _load_table(
    path: str, options: ReadOptions, stdin: typing.TextIO | None, group_col: str | None
) -> tuple[formats.Table | None, typing.TextIO | None]:
    overrides = options.column_names
    source = tables.source_name(path)
    if path != "-" and (os.path.isdir(path) or ".tfevents" in os.path.basename(path)):
        return formats.read_tensorboard(path, source), None
    with tables.opened(path, source, stdin) as (data, unit):
        encoding = tables.check_text(data, source, unit)
        head = formats.peek(data, encoding)
        wanted = _wanted(overrides, group_col)
        if path.lower().endswith(_JSON_SUFFIXES) or head[:1] in ("{", "["):
            return formats.read_json(data, encoding, source, wanted), None

        panel = False

        def is_log(header: list[str]) -> bool:
            nonlocal panel
            panel = panels.is_panel(header)  # W&B's wide panel CSV: every column kept
            return panel or looks_like_log(header, overrides) or options.run_table is not None

        def keep(name: str) -> bool:
            return panel or wanted(name)

        texts = {_normal(c) for c in (overrides.get("run"), group_col) if c is not None}

        def is_text(name: str) -> bool:  # read as text: the run's name, its group
            return _normal(name) in texts or (overrides.get("run") is None and _is_run(name))

        table = formats.read_csv_table(data, encoding, source, keep, is_log, is_text)
        if table is not None and panel:
            return panels.unpanel(table, _aliases("step")), None
        if table is None and path == "-":
            data.seek(0)
            return None, io.TextIOWrapper(io.BytesIO(data.read()), encoding=encoding)
        return table, None


def table_from_columns(
    columns: Mapping[str, typing.Any] | ColumnTable,
    options: ReadOptions = DEFAULT_READ,
    *,
    source: str = "<columns>",
) -> tuple[Runs, TrainingLog | None]:
    """`read_table` for a mapping of columns (a dict of lists, a pandas DataFrame such as
    W&B's `run.history()`): a training log when a file with these headers would be one
    (`run_col` given, or a run column and a step column), else a plain table of runs."""
    if not looks_like_log([str(k) for k in columns.keys()], options.column_names) and (
        options.run_table is None
    ):
        return _with_states(runs_from_columns(columns, options, source=source), columns), None
    table = _columns_table(columns, options, source, None)
    log = _reduce(table, options)
    return _as_runs(log, options), log


def _columns_table(
    columns: Mapping[str, typing.Any] | ColumnTable,
    options: ReadOptions,
    source: str,
    group_col: str | None,
) -> formats.Table:
    """A table of columns as a log's raw columns (the runs table joined to it)."""
    keys = list(columns.keys())
    names = [str(k) for k in keys]
    wanted = _wanted(options.column_names, group_col)
    cells: dict[str, typing.Any] = {}
    for name, key in zip(names, keys, strict=True):
        if wanted(name):
            column = columns[key]
            cells[name] = _column_cells(column)
    lengths = {len(v) for v in cells.values()}
    if len(lengths) > 1:
        raise InputError(f"{source}: the columns differ in length ({sorted(lengths)})")
    n = lengths.pop() if lengths else 0
    if not n:
        raise InputError(f"{source}: no logged rows; the columns are empty")
    table = formats.Table(source, "columns", names, cells, n, tables.row_of(source))
    return _joined(table, options, group_col)


def _column_cells(column: typing.Any) -> typing.Any:
    """A column of a table of columns as the log reader takes it: a list, or an array
    (a DataFrame's nullable numbers, pd.NA in them, as floats with NaN)."""
    if not hasattr(column, "dtype"):
        return list(column)
    if hasattr(column, "to_numpy") and getattr(column.dtype, "kind", "O") in "fiu":
        try:
            return column.to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            pass
    return np.asarray(column)


def _joined(table: formats.Table, options: ReadOptions, group_col: str | None) -> formats.Table:
    """The log with W&B's runs table (`run_table`) joined to it on the run name."""
    if options.run_table is None:
        return table
    from chinchilla_cli import run_tables

    joinable = set().union(*(_aliases(r) for r in (*_JOINED, *_SCHEDULE)))
    joinable |= {_normal(c) for c in (options.params_col, group_col) if c is not None}
    try:
        runs = run_tables.read_run_table(options.run_table)
    except InputError as e:
        raise InputError(e.message, field=e.field or "run_table") from None
    return run_tables.join(
        table,
        runs,
        options.run_col,
        lambda name: _normal(name) in _aliases("run"),
        lambda name: _normal(name) in joinable,
    )


def _with_states(runs: Runs, table: typing.Any) -> Runs:
    """A table of runs with W&B's state column: its unfinished runs named in a warning
    (their loss is the last one logged, not a final one)."""
    if table is None:
        return runs
    names = [str(k) for k in table.keys()] if not isinstance(table, str) else None
    if names is None:
        with open(table, "rb") as f:  # the first lines only, to look for the column
            head = f.read(65536).decode("utf-8", "replace")
        names = re.split(r"[,\t;|\n\r\"]", head)
    if not any(tables.normalise(n) == "state" for n in names):
        return runs
    from chinchilla_cli import run_tables

    said = run_tables.unfinished_warning(run_tables.read_run_table(table), _is_run)
    return runs if said is None else replace(runs, warnings=(*runs.warnings, said))


def looks_like_log(header: Sequence[str], overrides: Mapping[str, str | None]) -> bool:
    """Whether a table with this header is a training log: `run_col` is given, or it has
    a run column and a step column (a W&B history export)."""
    normal = {_normal(h) for h in header}
    return overrides.get("run") is not None or bool(
        normal & _aliases("run") and normal & _aliases("step")
    )


def _as_runs(log: TrainingLog, options: ReadOptions) -> Runs:
    """The points as runs.py's Runs, with the log's headers as the columns' names; of
    `options`, the filters on the points (`min_tokens` dropped rows before reducing)."""
    points = ReadOptions(
        metric_col="metric" if "metric" in log.columns else None,
        min_params=options.min_params,
        max_loss=options.max_loss,
        min_flops=options.min_flops,
        max_flops=options.max_flops,
    )
    table = runs_from_columns(log.columns, points, source=log.source)
    columns = {role: log.headers.get(role, used) for role, used in table.columns.items()}
    for role, used in table.columns.items():
        if used == "derived":
            columns[role] = "derived"
    dropped = len(log.dropped_runs)  # counted as read and dropped
    return replace(
        table,
        columns=columns,
        metric_col=log.headers.get("metric"),
        n_read=table.n_read + dropped,
        n_dropped=table.n_dropped + dropped,
    )


# ------------------------------------------------------------------------- roles


def _is_run(name: str) -> bool:
    return _normal(name) in _aliases("run")


def _wanted(
    overrides: Mapping[str, str | None], group_col: str | None = None
) -> Callable[[str], bool]:
    """Whether a column may hold a role: it matches an alias or a named column."""
    accepted = set().union(*(_aliases(r) for r in (*_ROLES, *_SCHEDULE)))
    given = [*overrides.values(), group_col]
    named = {_normal(v) for v in given if v is not None}
    exact = {v.strip() for v in given if v is not None}

    def wanted(name: str) -> bool:
        return (
            name.strip() in exact
            or _normal(name) in accepted
            or _normal(name) in named
            or metrics.is_task_column(name)  # auto-detected task metrics
            or (overrides.get("loss") is None and ends_in_loss(name))
        )

    return wanted


def _resolve(long: formats.Table, overrides: Mapping[str, str | None]) -> dict[str, str]:
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
                f"no column {name!r} in {long.source}; columns: {tables.listing(long.names)}",
                field="group" if role == "group" else f"{role}_col",
            )
        if len(hits) > 1:
            raise InputError(
                f"{name!r} matches {len(hits)} columns of {long.source} ({', '.join(hits)})",
                field="group" if role == "group" else f"{role}_col",
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
        ending = loss_by_its_ending([n for n in present if n not in taken], long.source)
        if ending is None:
            raise InputError(
                f"{long.source}: no loss column; accepted names: "
                f"{', '.join(ALIASES['loss'])}, train/loss, eval/loss, or one column "
                f"whose name ends in 'loss' (or name one with `loss_col`); "
                f"columns: {tables.listing(long.names)}"
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
    "group": "the group",
}


# ------------------------------------------------------------------------- reducing


@dataclass
class _Log:
    """A log's rows as numbers, while it is reduced: each role's column (NaN where a row
    logs nothing), each row's run, and the notes and warnings gathered on the way."""

    table: formats.Table
    roles: dict[str, str]  # role -> column name
    num: dict[str, _Floats]  # role -> one float per row
    codes: _Ints  # the run of each row (index into run_names)
    run_names: list[str]
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    candidates: tuple[str, ...] = ()  # task columns seen when several were, none named

    @property
    def where(self) -> _Where:
        return self.table.where

    @property
    def n_runs(self) -> int:
        return len(self.run_names)

    def per_run(self, role: str) -> _Floats:
        return log_runs.per_run(
            self.num, role, self.codes, self.n_runs, self.roles, self.where, _ROLE_WORDS[role]
        )


@dataclass(frozen=True)
class _Segments:
    """The logged rows kept, each run's in training order: run `c[i]` of row `rows[i]`;
    run j's rows are rows[starts[j]:ends[j]]."""

    rows: _Ints
    c: _Ints
    starts: _Ints
    ends: _Ints

    @property
    def run_of_segment(self) -> _Ints:
        return self.c[self.starts]


def _reduce(
    table: formats.Table, options: ReadOptions, group_col: str | None = None
) -> TrainingLog:
    """The log in `table` reduced to the fit's points, as `options.reduction` says;
    `group_col` read as each run's group label."""
    overrides: dict[str, str | None] = {**options.column_names, "group": group_col}
    log = _numbers_of(table, overrides)
    reduce = options.reduction
    logged = _logged(log)
    params = log.per_run("params")
    if "params" not in log.roles and "flops" not in log.roles:
        raise InputError(
            f"{table.source}: no params (N) column; N must be logged (on any row of each run, "
            f"e.g. once at step 0): accepted names: {', '.join(ALIASES['params'])} "
            "(or name it with `params_col`), or join W&B's runs table with `run_table`"
            + (
                f"; a panel CSV holds no N: {panels.PANEL_HINT}"
                if table.format == "wandb-panel"
                else ""
            )
        )
    step = log.num.get("step")
    _check_steps(log, step)
    tokens, tokens_header, per_step = _tokens(log, params, step, options.batch_tokens)
    logged = _with_tokens(log, logged, tokens, options.min_tokens)
    key = step if step is not None else tokens
    seg = _segments(log, logged, key)
    point_rows, point_loss, point_run = _points(log, seg, reduce, grouped="run" in log.roles)
    if "run" in log.roles:
        shown = (
            f"runs grouped by column {log.roles['run']!r}"
            if not table.implicit_run
            else ("runs from the event files' directories")
        )
        log.notes.insert(
            0,
            f"{shown}: {tables.count(len(seg.starts), 'run')} from "
            f"{tables.count(table.n_rows, 'logged row')}; points: {reduce.describe()}",
        )
    if reduce.how == "mean-last":
        _wide_windows(log, seg, reduce, tokens)
    planned = _planned(log, options.schedule_tokens, per_step, tokens, seg)
    incomplete = _incomplete(log, planned, tokens, seg)
    if reduce.how == "none":
        log.warnings.append(
            "`reduce` none fits every logged row: the intermediate checkpoints of a cosine "
            "schedule overstate the loss of runs planned to stop there (Hoffmann et al. "
            "2022 fit final losses only); the bootstrap resamples whole runs"
        )
    columns: dict[str, _Floats] = {"loss": np.ascontiguousarray(point_loss)}
    columns["tokens"] = np.ascontiguousarray(tokens[point_rows])
    headers = {"loss": log.roles["loss"], "tokens": tokens_header or "derived"}
    _point_columns(log, columns, headers, params, key, point_rows, point_run, reduce)
    if "group" in log.roles:
        headers["group"] = log.roles["group"]
    if log.candidates:
        log.warnings.append(metrics.several_columns_warning(log.candidates))
    used = np.unique(point_run)  # sorted codes = order of first appearance
    remap = np.full(log.n_runs, -1, dtype=np.intp)
    remap[used] = np.arange(len(used))
    dropped = _dropped(log, used)
    run_groups: tuple[str, ...] = ()
    if "group" in log.roles:
        column = log.roles["group"]
        run_groups = log_runs.run_labels(
            table.cells[column], column, log.codes, log.run_names, used, log.where
        )
    return TrainingLog(
        source=table.source,
        format=table.format,
        columns=columns,
        headers=headers,
        run_names=tuple(log.run_names[u] for u in used),
        run_index=remap[point_run],
        rows_read=table.n_rows,
        run_col=log.roles.get("run") if not table.implicit_run else "(directories)",
        reduce=reduce,
        incomplete=tuple(incomplete),
        notes=tuple(log.notes),
        warnings=tuple(log.warnings),
        dropped_runs=tuple(dropped),
        run_groups=run_groups,
    )


def _dropped(log: _Log, used: _Ints) -> list[str]:
    """The runs with no usable loss (none logged, or none left by `min_tokens` or the
    rows without D), and those the runs table lists with no logged row: named and
    counted, never lost silently."""
    unused = np.ones(log.n_runs, dtype=bool)
    unused[used] = False
    dropped = [log.run_names[c] for c in np.flatnonzero(unused)] + list(log.table.unlogged)
    if dropped:
        log.warnings.append(
            f"{tables.count(len(dropped), 'run')} {'has' if len(dropped) == 1 else 'have'} "
            f"no usable loss and {'is' if len(dropped) == 1 else 'are'} left out: "
            f"{tables.shown_names(dropped)} (nothing logged, crashed before its first "
            "evaluation, or every row below `min_tokens`)"
        )
    return dropped


def _numbers_of(table: formats.Table, overrides: Mapping[str, str | None]) -> _Log:
    """The roles found, their columns as numbers, and the runs: codes in order of first
    appearance (each row its own run without a run column)."""
    roles = _resolve(table, overrides)
    present = [n for n in table.names if n in table.cells]
    candidates = metrics.add_log_metric(roles, present)  # warned about at the end
    where = table.where
    num = {
        r: formats.numbers(table.cells[c], c, where)
        for r, c in roles.items()
        if r not in ("run", "group")
    }
    if "run" in roles:
        codes, run_names = log_runs.run_codes(table.cells[roles["run"]], roles["run"], where)
    else:
        n = table.n_rows
        codes, run_names = np.arange(n, dtype=np.intp), [str(i) for i in range(n)]
    log = _Log(table, roles, num, codes, run_names, [*table.notes], [*table.warnings])
    if overrides.get("loss") is None and _normal(roles["loss"]) not in _aliases("loss"):
        log.notes.append(loss_note(roles["loss"]))
    log.candidates = candidates
    return log


def _logged(log: _Log) -> NDArray[np.bool_]:
    """The rows that log a loss: the log's points (other rows may carry N, plans, batch
    sizes). A loss <= 0 is an error; an infinite one (a diverged run) is left out."""
    loss = log.num["loss"]
    logged = ~np.isnan(loss)
    bad = logged & ~(np.isfinite(loss) & (loss > 0))
    if bad.any():
        row = int(np.argmax(bad))
        if np.isfinite(loss[row]):
            raise InputError(
                f"{log.where(row)}: column {log.roles['loss']!r}: {tables.show(loss[row])} "
                "is not positive; a loss must be > 0"
            )
        diverged = sorted({log.run_names[c] for c in log.codes[bad]})
        log.notes.append(
            f"ignored {tables.count(int(bad.sum()), 'row')} with an infinite loss "
            f"(runs {tables.shown_names(diverged)}: diverged?)"
        )
        logged &= ~bad
    if not logged.any():
        raise InputError(f"{log.table.source}: no row logs a loss (column {log.roles['loss']!r})")
    return logged


def _check_steps(log: _Log, step: _Floats | None) -> None:
    if step is None:
        return
    bad_step = ~np.isnan(step) & ~(np.isfinite(step) & (step >= 0))
    if bad_step.any():
        row = int(np.argmax(bad_step))
        raise InputError(
            f"{log.where(row)}: column {log.roles['step']!r}: {tables.show(step[row])} is not "
            "a step (a whole number >= 0)"
        )


def _tokens(
    log: _Log, params: _Floats, step: _Floats | None, batch_tokens: float | None
) -> tuple[_Floats, str | None, _Floats | None]:
    """D of every row: a tokens column, else C / (6 N), else steps x tokens per step;
    with the header it came from and the tokens per step of each run (if used)."""
    roles, src = log.roles, log.table.source
    if "tokens" in roles:
        if batch_tokens is not None:
            raise InputError(
                f"the log has a tokens column ({roles['tokens']!r}); `batch_tokens` applies "
                "only to logs without one",
                field="batch_tokens",
            )
        return log.num["tokens"], roles["tokens"], None
    if "flops" in roles and "params" in roles:
        with np.errstate(all="ignore"):
            tokens = log.num["flops"] / (FLOPS_PER_PARAM_TOKEN * params[log.codes])
        return tokens, f"C / (6 N) from {roles['flops']!r}", None
    if step is None:
        raise InputError(
            f"{src}: no tokens (D) column and no step column to count them; accepted "
            f"names: {', '.join(ALIASES['tokens'])}; or a step column "
            f"({', '.join(LOG_ALIASES['step'])}) with `batch_tokens`"
        )
    if batch_tokens is not None:
        per_step = np.full(log.n_runs, float(batch_tokens))
        how = f"{batch_tokens:,.0f} tokens per step (`batch_tokens`)"
    elif "batch_tokens" in roles:
        per_step = log.per_run("batch_tokens")
        how = f"column {roles['batch_tokens']!r}"
    else:
        raise InputError(
            f"{src}: no tokens (D) column; D = steps x tokens per step needs "
            "`batch_tokens` (batch size x sequence length) or a column such as "
            f"{LOG_ALIASES['batch_tokens'][1]!r}",
            field="batch_tokens",
        )
    log.notes.append(f"tokens D = {roles['step']!r} x {how} (no tokens column)")
    return step * per_step[log.codes], f"{roles['step']} x tokens per step", per_step


def _with_tokens(
    log: _Log, logged: NDArray[np.bool_], tokens: _Floats, min_tokens: float | None
) -> NDArray[np.bool_]:
    """The logged rows with a D, and at least `min_tokens` of it (warm-up dropped)."""
    bad_tokens = logged & ~np.isnan(tokens) & ~(np.isfinite(tokens) & (tokens > 0))
    if bad_tokens.any():
        row = int(np.argmax(bad_tokens))
        what = f"column {log.roles['tokens']!r}: " if "tokens" in log.roles else "tokens D "
        raise InputError(f"{log.where(row)}: {what}{tables.show(tokens[row])} is not positive")
    no_tokens = logged & np.isnan(tokens)
    if no_tokens.any():
        log.notes.append(
            f"ignored {tables.count(int(no_tokens.sum()), 'row')} with a loss but no tokens "
            f"(first: {log.where(int(np.argmax(no_tokens)))})"
        )
        logged = logged & ~no_tokens
        if not logged.any():
            raise InputError(f"{log.table.source}: no row logs both a loss and its tokens (D)")
    if min_tokens is None:
        return logged
    warm = logged & (tokens < min_tokens)
    if warm.any():
        before = set(np.unique(log.codes[logged]).tolist())
        logged = logged & ~warm
        gone = before - set(np.unique(log.codes[logged]).tolist())
        left = tables.shown_names([log.run_names[c] for c in sorted(gone)])
        log.notes.append(
            f"dropped {tables.count(int(warm.sum()), 'logged row')} with D < "
            f"{sci(min_tokens)} (`min_tokens`)" + (f"; no row left of runs {left}" if gone else "")
        )
    if not logged.any():
        raise InputError(
            f"{log.table.source}: no logged row has D >= {sci(min_tokens)}", field="min_tokens"
        )
    return logged


def _segments(log: _Log, logged: NDArray[np.bool_], key: _Floats) -> _Segments:
    """Each run's rows in training order (`key`: step, else D), the later of a repeated
    step kept."""
    codes = log.codes
    rows = np.flatnonzero(logged)
    c, k = codes[rows], key[rows]
    if (
        len(rows) > 1
        and not np.all(  # already in order, as most logs are: no sort
            (c[1:] > c[:-1]) | ((c[1:] == c[:-1]) & (k[1:] > k[:-1]))
        )
    ):
        rows = rows[np.lexsort((rows, k, c))]
        c, k = codes[rows], key[rows]
    if len(rows) > 1:
        again = (c[1:] == c[:-1]) & (k[1:] == k[:-1])
        if again.any():
            log.notes.append(
                f"{tables.count(int(again.sum()), 'row')} repeat a step of their run "
                "(resumed?): the later one is kept"
            )
            rows = rows[np.concatenate([~again, [True]])]
            c = codes[rows]
    starts = np.concatenate([[0], np.flatnonzero(c[1:] != c[:-1]) + 1])
    ends = np.concatenate([starts[1:], [len(rows)]])
    return _Segments(rows, c, starts, ends)


def _points(
    log: _Log, seg: _Segments, reduce: Reduce, grouped: bool
) -> tuple[_Ints, _Floats, _Ints]:
    """The rows that are the fit's points, their losses, and their runs."""
    loss, rows, starts, ends = log.num["loss"], seg.rows, seg.starts, seg.ends
    if reduce.how == "none":
        if not grouped:
            raise InputError(
                "keeps every row of each run: the log needs a run column (`run_col`)",
                field="reduce",
            )
        return rows, loss[rows], seg.c
    if reduce.how == "min":
        segment = np.repeat(np.arange(len(starts)), ends - starts)
        best = np.lexsort((np.arange(len(rows)), loss[rows], segment))
        first = np.concatenate([[True], segment[best][1:] != segment[best][:-1]])
        point_rows = rows[best[first]]
        return point_rows, loss[point_rows], seg.run_of_segment
    point_rows = rows[ends - 1]
    if reduce.how != "mean-last":
        return point_rows, loss[point_rows], seg.run_of_segment
    cum = np.concatenate([[0.0], np.cumsum(loss[rows])])
    lo = np.maximum(starts, ends - reduce.k)
    short = int(np.count_nonzero(ends - starts < reduce.k))
    if short:
        log.notes.append(
            f"{tables.count(short, 'run')} logged fewer than {reduce.k} losses: the mean "
            "is over the ones logged"
        )
    return point_rows, (cum[ends] - cum[lo]) / (ends - lo), seg.run_of_segment


def _wide_windows(log: _Log, seg: _Segments, reduce: Reduce, tokens: _Floats) -> None:
    """A mean-last window reaching back over more than WIDE_WINDOW of a run's tokens
    averages losses from well before its end: it biases the fit (higher loss at the
    run's last D), so the runs are named in a warning."""
    first = seg.rows[np.maximum(seg.starts, seg.ends - reduce.k)]
    last = seg.rows[seg.ends - 1]
    with np.errstate(all="ignore"):
        span = 1.0 - tokens[first] / tokens[last]
    wide = np.flatnonzero(span > WIDE_WINDOW)
    if not wide.size:
        return
    names = [log.run_names[seg.run_of_segment[j]] for j in wide]
    shown = ", ".join(f"{n!r} ({span[j]:.0%})" for n, j in zip(names[:5], wide[:5], strict=False))
    more = f" and {len(names) - 5} more" if len(names) > 5 else ""
    log.warnings.append(
        f"`reduce` {reduce}: the window spans more than {WIDE_WINDOW:.0%} of the tokens of "
        f"{tables.count(len(names), 'run')}: {shown}{more}; the mean takes in losses from "
        "well before the end and overstates the final loss: use a smaller K, or last"
    )


def _incomplete(log: _Log, planned: _Floats | None, tokens: _Floats, seg: _Segments) -> list[str]:
    """The runs whose log stops short of their schedule, named in a warning: a log that
    stops short overstates the loss (Chinchilla's caveat)."""
    if planned is None:
        return []
    last_tokens = tokens[seg.rows[seg.ends - 1]]
    plan = planned[seg.run_of_segment]
    short = np.isfinite(plan) & (last_tokens < INCOMPLETE_BELOW * plan)
    incomplete = [log.run_names[seg.run_of_segment[j]] for j in np.flatnonzero(short)]
    if incomplete:
        shown = ", ".join(
            f"{name!r} (at {last_tokens[j] / plan[j]:.0%} of {sci(plan[j])} tokens)"
            for name, j in zip(incomplete[:5], np.flatnonzero(short)[:5], strict=False)
        )
        more = f" and {len(incomplete) - 5} more" if len(incomplete) > 5 else ""
        said = (
            "1 run's last loss is logged before its schedule ends"
            if len(incomplete) == 1
            else f"{len(incomplete):,} runs' last losses are logged before their schedules end"
        )
        log.warnings.append(
            f"{said}: {shown}{more}; an intermediate checkpoint of a cosine schedule "
            "overstates the loss of a run planned to end there: let them finish (or log "
            "their final loss), or leave them out"
        )
    return incomplete


def _point_columns(
    log: _Log,
    columns: dict[str, _Floats],
    headers: dict[str, str],
    params: _Floats,
    key: _Floats,
    point_rows: _Ints,
    point_run: _Ints,
    reduce: Reduce,
) -> None:
    """Add the points' metric (reduced as the loss was), N and C to `columns`, with the
    headers they came from."""
    roles, num = log.roles, log.num
    if "metric" in num:  # a task metric, reduced as the loss was (metrics.py)
        metric, percent = metrics.check_metric(num["metric"], roles["metric"], log.where)
        log.notes += [percent] if percent else []
        columns["metric"] = metrics.reduce_log_metric(
            metric, log.codes, key, point_rows, point_run, reduce.how, reduce.k
        )
        headers["metric"] = roles["metric"]
    if "params" in roles:
        columns["params"] = params[log.codes[point_rows]]
        headers["params"] = roles["params"]
    if "flops" in roles:
        columns["flops"] = num["flops"][point_rows]
        headers["flops"] = roles["flops"]


def _planned(
    log: _Log,
    schedule_tokens: float | Mapping[str, float] | None,
    per_step: _Floats | None,
    tokens: _Floats,
    seg: _Segments,
) -> _Floats | None:
    """Each run's planned D (NaN: unknown), or None when nothing tells the plan."""
    if isinstance(schedule_tokens, Mapping):  # each run its own (missing: unknown)
        given = {str(k).strip(): float(v) for k, v in schedule_tokens.items()}
        unknown = sorted(set(given) - set(log.run_names))
        if unknown:
            log.warnings.append(
                f"`schedule_tokens` names {tables.count(len(unknown), 'run')} the log does "
                f"not have: {tables.shown_names(unknown)}"
            )
        return np.array([given.get(name, np.nan) for name in log.run_names])
    if schedule_tokens is not None:
        return np.full(log.n_runs, float(schedule_tokens))
    if "schedule_tokens" in log.roles:
        return log.per_run("schedule_tokens")
    if "schedule_steps" not in log.roles:
        return None
    steps = log.per_run("schedule_steps")
    if per_step is None:
        if "step" not in log.num:
            return None
        # tokens per step from the run's last logged row
        per_step = np.full(log.n_runs, np.nan)
        last = seg.rows[seg.ends - 1]
        with np.errstate(all="ignore"):
            per_step[log.codes[last]] = tokens[last] / log.num["step"][last]
    return steps * per_step
