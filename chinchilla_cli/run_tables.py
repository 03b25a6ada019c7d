"""W&B's two exports joined: the history (one row per logged step of each run, usually
without the model size) and the runs table (one row per run: its config and summary,
W&B's `Name` column naming it). The runs table's per-run values the log lacks -- N, the
planned steps or tokens, the tokens per step, a group label -- are joined onto every
logged row of the run with the same name, so that the log is then reduced as if it had
logged them itself (logs.py). Nothing is lost silently: a run of the runs table with no
logged row, a logged run the runs table does not list, and a run whose W&B state is not
"finished" are each named in a note or a warning.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from chinchilla_cli import formats, tables
from chinchilla_cli.errors import InputError
from chinchilla_cli.records import as_columns

__all__ = ["STATE_COLUMN", "join", "read_run_table", "unfinished_warning"]

STATE_COLUMN = "state"  # W&B's run state: finished, crashed, failed, killed, running
_FINISHED = {"finished", ""}
_Match = Callable[[str], bool]


def read_run_table(run_table: object) -> formats.Table:
    """The runs table as raw columns (every column kept): a CSV/TSV or JSON Lines path,
    a table of columns (a DataFrame) or records."""
    if isinstance(run_table, (str, Path)):
        path = str(run_table)
        source = tables.source_name(path)
        with tables.opened(path, source, None) as (data, unit):
            encoding = tables.check_text(data, source, unit)
            head = formats.peek(data, encoding)
            if path.lower().endswith((".jsonl", ".ndjson", ".json")) or head[:1] in "{[":
                return formats.read_json(data, encoding, source, lambda name: True)
            table = formats.read_csv_table(data, encoding, source, _all, _all)
            assert table is not None  # every header is taken as a table
            return table
    columns = as_columns(run_table, "run_table")
    keys = list(columns.keys())
    cells = {str(k): _cells(columns[k]) for k in keys}
    lengths = {len(v) for v in cells.values()}
    if len(lengths) != 1:
        raise InputError("the columns differ in length", field="run_table")
    return formats.Table("<run_table>", "columns", list(cells), cells, lengths.pop(), _row)


def join(
    log: formats.Table,
    runs: formats.Table,
    run_col: str | None,
    is_run: _Match,
    joinable: _Match,
) -> formats.Table:
    """`log` with the columns of `runs` that `joinable` accepts and the log lacks, each
    logged row given its run's value (matched by name: `run_col`, else the column
    `is_run` accepts, in each table); notes and warnings say what was joined and what
    was not."""
    log_run = _run_column(log, run_col, is_run, "the log")
    table_run = _run_column(runs, run_col, is_run, "the runs table")
    names = [_name(v) for v in runs.cells[table_run]]
    seen: dict[str, int] = {}
    for row, name in enumerate(names):
        if name in seen:
            raise InputError(
                f"{runs.where(row)}: run {name!r} is listed twice (also {runs.where(seen[name])}); "
                "the runs table needs one row per run",
                field="run_table",
            )
        seen[name] = row
    cells = log.cells[log_run]
    logged = {v: _name(v) for v in dict.fromkeys(cells)}
    position = {v: seen.get(name, -1) for v, name in logged.items()}
    row_of = np.fromiter(map(position.__getitem__, cells), np.intp, log.n_rows)
    have = {tables.normalise_path(n) for n in log.names}
    added = [
        c
        for c in runs.names
        if c in runs.cells and c != table_run and joinable(c)
        and tables.normalise_path(c) not in have
    ]  # fmt: skip
    joined: dict[str, typing.Any] = dict(log.cells)
    for column in added:
        joined[column] = _spread(runs.cells[column], row_of, column, runs.where)
    out = formats.Table(
        log.source, log.format, [*log.names, *added], joined, log.n_rows, log.where,
        log.implicit_run, [*log.notes], [*log.warnings], [*log.unlogged],
    )  # fmt: skip
    in_log = {name for name in logged.values()}
    unlogged = [name for name in names if name not in in_log]
    out.unlogged += unlogged
    missing = sorted({name for v, name in logged.items() if position[v] < 0})
    listed = tables.count(len(names), "run")
    out.notes.append(
        f"runs table {runs.source} joined on {table_run!r} = {log_run!r}: {listed}, "
        + (f"columns {', '.join(repr(c) for c in added)} added" if added else "no column added")
    )
    out.notes += _label_notes(runs, [table_run, *added])
    if missing:
        out.warnings.append(
            f"{tables.count(len(missing), 'logged run')} not in the runs table {runs.source}: "
            f"{_names(missing)}; the runs table gives them nothing"
        )
    _states(runs, names, set(unlogged), out.warnings)
    return out


MAX_LABELS = 8  # a text column of the runs table with 2 to this many values may be arms


def _label_notes(runs: formats.Table, used: list[str]) -> list[str]:
    """A note for each text column of the runs table (not joined, not W&B's state) whose
    few values could be the arms of an experiment: pooled, they fit one law to runs of
    several; `group` fits each apart."""
    out = []
    for column in runs.names:
        if column in used or column not in runs.cells or tables.normalise(column) == "state":
            continue
        values = sorted({str(v).strip() for v in runs.cells[column] if v is not None})
        values = [v for v in values if v and v.lower() != "nan"]
        if 2 <= len(values) <= MAX_LABELS and not any(tables.is_number(v) for v in values):
            out.append(
                f"the runs table's column {column!r} labels its runs "
                f"{', '.join(repr(v) for v in values)}: all were fitted as one law; "
                f"`group` {column} fits each apart"
            )
    return out


def unfinished_warning(runs: formats.Table, is_run: _Match) -> str | None:
    """For a table of runs fitted as it is (W&B's runs table: final losses from each
    run's summary): the runs whose `State` is not finished, whose summary loss is the
    last one logged, not a final loss. None when all finished or there is no state."""
    present = [n for n in runs.names if n in runs.cells]
    names = [n for n in present if is_run(n)]
    if not names:
        return None
    warnings: list[str] = []
    run_names = [_name(v) for v in runs.cells[names[0]]]
    _states(runs, run_names, set(), warnings)
    return warnings[0] if warnings else None


def _states(
    runs: formats.Table, names: Sequence[str], unlogged: set[str], warnings: list[str]
) -> None:
    """W&B's state column: the logged runs that did not finish are named (their last
    logged loss is not a final loss); the unlogged ones are named as dropped (logs.py)."""
    state = next((c for c in runs.cells if tables.normalise(c) == STATE_COLUMN), None)
    if state is None:
        return
    unfinished = [
        f"{name!r} ({_name(s)})"
        for name, s in zip(names, runs.cells[state], strict=True)
        if _name(s).lower() not in _FINISHED and name not in unlogged
    ]
    if unfinished:
        warnings.append(
            f"{tables.count(len(unfinished), 'run')} of the runs table did not finish "
            f"(column {state!r}): {_names(unfinished, quoted=False)}; a run cut short logs "
            "no final loss: let it finish, or leave it out"
        )


def _run_column(table: formats.Table, run_col: str | None, is_run: _Match, what: str) -> str:
    present = [n for n in table.names if n in table.cells]
    if run_col is not None:
        hits = [n for n in present if n.strip() == run_col.strip()] or [
            n for n in present if tables.normalise_path(n) == tables.normalise_path(run_col)
        ]
        if len(hits) == 1:
            return hits[0]
    hits = [n for n in present if is_run(n)]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1 and any(n == "Name" for n in hits):  # W&B's own column
        return "Name"
    found = "no column naming the runs" if not hits else f"columns {', '.join(hits)}"
    raise InputError(
        f"{table.source}: {found} in {what} to join the two on; name it with `run_col` "
        f"(W&B's runs table calls it Name); columns: {tables.listing(table.names)}",
        field="run_col" if run_col is not None else "run_table",
    )


def _spread(
    values: Sequence[typing.Any], row_of: np.ndarray, column: str, where: formats.Where
) -> np.ndarray:
    """A runs-table column over the log's rows: each row its run's value (NaN or None
    for a run the runs table does not list)."""
    try:
        numbers = formats.numbers(values, column, where)
    except InputError:  # text (a group label): kept as text
        text = np.array([None if v is None else str(v) for v in values] + [None], dtype=object)
        spread: np.ndarray = text[row_of]  # row -1 is the None appended
        return spread
    out: np.ndarray = np.append(numbers, np.nan)[row_of]
    return out


def _name(value: object) -> str:
    return "" if value is None else str(value).strip()


def _names(names: Sequence[str], limit: int = 5, quoted: bool = True) -> str:
    shown = ", ".join(repr(n) if quoted else n for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _all(_: object) -> bool:
    return True


def _row(row: int) -> str:
    return f"<run_table>: row {row}"


def _cells(column: typing.Any) -> list[typing.Any]:
    return list(np.asarray(column)) if hasattr(column, "dtype") else list(column)
