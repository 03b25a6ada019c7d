"""Runs from a table (N, D, C, final loss) for `chinchilla fit`: the one place where
named columns become `Runs`.

`read_runs` reads a CSV/TSV/semicolon/pipe file (UTF-8 with or without BOM, or UTF-16/32
with BOM; read by formats.py); `runs_from_columns` takes a mapping of column names to
arrays (a pandas DataFrame works); a training log reduced per run (logs.py) arrives as
such a mapping. Both find the columns by header name, derive the third of N, D and C
from the other two through C = 6 N D, check every value and apply the filters of the
`ReadOptions`. `read_grouped_runs` and `grouped_runs_from_columns` also read a group
column (`fit`'s `group`) in the same pass: each row's group, by row. Every problem is one
InputError naming the file and, where it applies, the line, the column and the value.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from chinchilla_cli import formats, metrics, tables
from chinchilla_cli.errors import InputError
from chinchilla_cli.laws import FLOPS_PER_PARAM_TOKEN
from chinchilla_cli.quantity import MAX_MAGNITUDE, sci
from chinchilla_cli.read_options import DEFAULT_READ, ReadOptions

__all__ = [
    "ALIASES",
    "MIN_RUNS",
    "ROLES",
    "ColumnTable",
    "GroupedRuns",
    "Runs",
    "grouped_runs_from_columns",
    "read_grouped_runs",
    "read_runs",
    "runs_from_columns",
]

ROLES = ("params", "tokens", "flops", "loss")
ALIASES: dict[str, tuple[str, ...]] = {
    "params": ("params", "n", "parameters", "model size", "n_params", "num params", "model params"),
    "tokens": ("tokens", "d", "t", "training tokens", "n_tokens", "num tokens"),
    "flops": ("flops", "flop", "c", "compute", "training flop", "training flops", "compute budget"),
    "loss": ("loss", "l", "final loss", "val loss", "validation loss", "eval loss", "train loss"),
}
MIN_RUNS = 10  # the fewest runs a fit takes (of a table, or of each group compared)

_Floats = NDArray[np.float64]
_Where = formats.Where
_SYMBOLS = {"params": "N", "tokens": "D", "flops": "C", "loss": "loss"}
_NUMBERS = (*ROLES, "metric")  # the numeric columns, in the order a row's cells are checked


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
    # a task metric of each run (metrics.py: `metric_col`, or a column named as a task),
    # NaN where a run has none; the task columns seen when several were and none was named
    metric: _Floats | None = None
    metric_col: str | None = None
    metric_candidates: tuple[str, ...] = ()
    # said about the runs as read, for the fit's warnings (a W&B runs table's unfinished runs)
    warnings: tuple[str, ...] = ()

    @property
    def n_kept(self) -> int:
        return int(self.loss.shape[0])


@dataclass(frozen=True)
class GroupedRuns:
    """Runs read with their group column in the same pass: `groups` holds each data
    row's group (all `runs.n_read` rows, in row order, kept or not); `runs.rows_kept`
    says which rows the filters kept."""

    runs: Runs
    group_col: str  # the header of the group column
    groups: tuple[str, ...]


class ColumnTable(typing.Protocol):
    """What `runs_from_columns` needs: a dict of arrays or lists, or a pandas DataFrame."""

    def keys(self) -> Iterable[typing.Any]: ...

    def __getitem__(self, key: typing.Any, /) -> typing.Any: ...


def read_runs(
    path: str,
    options: ReadOptions = DEFAULT_READ,
    *,
    min_rows: int = MIN_RUNS,
    stdin: typing.TextIO | None = None,
) -> Runs:
    """Read the runs in `path` ("-" for `stdin`, default sys.stdin) and apply the filters.

    `options` (ReadOptions): `*_col` name a column (matched like the built-in names:
    case, spaces, "_" and "-" ignored) instead of finding it by its header; `max_loss`
    keeps loss <= max_loss, `min_flops`/`max_flops` bound C, `min_params` N and
    `min_tokens` D; `metric_col` names a task metric column (else one named as a task
    is found; see metrics.py), read into `Runs.metric` (empty cells: NaN). The log
    settings (`reduce`, `batch_tokens`, `schedule_tokens`) are refused: a table of runs
    has one row per run. At least `min_rows` runs must be left. Raises InputError for
    anything wrong with the input, naming the file and, where it applies, the line, the
    column and the value.
    """
    return _read(path, options, min_rows, stdin, None).runs


def read_grouped_runs(
    path: str,
    options: ReadOptions,
    group_col: str,
    *,
    stdin: typing.TextIO | None = None,
) -> GroupedRuns:
    """`read_runs`, with the column `group_col` read as each row's group in the same
    pass; an empty group cell is an InputError at its line (field `group`)."""
    return _read(path, options, MIN_RUNS, stdin, group_col)


def _read(
    path: str,
    options: ReadOptions,
    min_rows: int,
    stdin: typing.TextIO | None,
    group_col: str | None,
) -> GroupedRuns:
    options.refuse_log_settings()
    filters = _Filters.of(options, min_rows)
    source = tables.source_name(path)
    overrides = options.column_names
    candidates: tuple[str, ...] = ()
    names: dict[str, str] = {}  # role -> header, once the header is read

    def locate(cells: list[str]) -> formats.Layout:
        nonlocal candidates
        found = _find_columns(cells, source, overrides)
        candidates = metrics.find_metric(cells, found, options.metric_col, source)
        label = None if group_col is None else _group_index(cells, group_col, source)
        numbers = {role: found[role] for role in _NUMBERS if role in found}
        names.update({role: cells[i] for role, i in numbers.items()})
        return formats.Layout(numbers, label, frozenset({"loss", "metric"}))

    def use(table: formats.Numbers) -> GroupedRuns:
        named = options.loss_col is not None
        runs = _finish(source, names, table.values, table.where, filters, candidates, named)
        if table.labels is None or table.layout.label is None:
            return GroupedRuns(runs, "", ())
        column = table.cells[table.layout.label]
        _check_groups(table.labels, column, table.where)
        return GroupedRuns(runs, column, tuple(table.labels))

    def check(values: dict[str, _Floats], where: _Where) -> None:
        _check_values(values, names, where, ~np.isnan(values["loss"]))

    result: GroupedRuns = formats.read_numbers(path, source, stdin, locate, use, check)
    return result


def runs_from_columns(
    columns: Mapping[str, typing.Any] | ColumnTable,
    options: ReadOptions = DEFAULT_READ,
    *,
    min_rows: int = MIN_RUNS,
    source: str = "<columns>",
) -> Runs:
    """The runs in a mapping of column names to arrays, as `read_runs` reads a file.

    `columns` is a dict of lists or arrays, or anything with `keys()` and `[name]` such
    as a pandas DataFrame. Columns are found by the same names as in a file (N, params,
    D, tokens, C, flops, loss, ...) or named in `options`; the others are ignored. Cells
    may be numbers or strings such as "70B". `source` names the table in messages, whose
    rows are given by their 0-based position. Raises InputError as `read_runs` does.
    """
    return _from_columns(columns, options, min_rows, source, None).runs


def grouped_runs_from_columns(
    columns: Mapping[str, typing.Any] | ColumnTable,
    options: ReadOptions,
    group_col: str,
    *,
    source: str = "<columns>",
) -> GroupedRuns:
    """`runs_from_columns`, with the column `group_col` read as each row's group; an
    empty (or NaN) group cell is an InputError naming its row (field `group`)."""
    return _from_columns(columns, options, MIN_RUNS, source, group_col)


def _from_columns(
    columns: Mapping[str, typing.Any] | ColumnTable,
    options: ReadOptions,
    min_rows: int,
    source: str,
    group_col: str | None,
) -> GroupedRuns:
    options.refuse_log_settings()
    filters = _Filters.of(options, min_rows)
    keys = list(columns.keys())
    header = [str(key) for key in keys]
    found = _find_columns(header, source, options.column_names)
    candidates = metrics.find_metric(header, found, options.metric_col, source)
    label = None if group_col is None else _group_index(header, group_col, source)
    names = {role: header[i] for role, i in found.items()}
    values = {
        role: formats.column_numbers(columns[keys[i]], header[i], source)
        for role, i in found.items()
    }
    lengths = {names[role]: v.shape[0] for role, v in values.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name!r} has {n}" for name, n in lengths.items())
        raise InputError(f"{source}: the columns differ in length: {shown}")
    if not values["loss"].size:
        raise InputError(f"{source}: no runs; the columns are empty")

    where = tables.row_of(source)
    named = options.loss_col is not None
    runs = _finish(source, names, values, where, filters, candidates, named)
    if label is None:
        return GroupedRuns(runs, "", ())
    cells = ["" if cell is None else str(cell).strip() for cell in columns[keys[label]]]
    blank = ["" if cell == "nan" else cell for cell in cells]
    _check_groups(blank, header[label], where)
    return GroupedRuns(runs, header[label], tuple(cells))


# ---------------------------------------------------------------------------- columns


def _group_index(header: list[str], column: str, source: str) -> int:
    """The group column's index; none or several is an InputError (field `group`)."""
    hits = tables.find_named(header, column)
    if not hits:
        raise InputError(
            f"no column {column!r} in {source}; columns: {tables.listing(header)}", field="group"
        )
    if len(hits) > 1:
        raise InputError(
            f"{column!r} matches {len(hits)} columns of {source} "
            f"({tables.positions(header, hits)}); rename all but one",
            field="group",
        )
    return hits[0]


def _check_groups(groups: Sequence[str], column: str, where: _Where) -> None:
    for row, group in enumerate(groups):
        if not group:
            raise InputError(
                f"{where(row)}: the {column!r} cell is empty; every run needs its group",
                field="group",
            )


def _find_columns(
    header: list[str], source: str, overrides: dict[str, str | None]
) -> dict[str, int]:
    """Role -> column index, for loss and at least two of params, tokens and flops."""
    normal = [tables.normalise(h) for h in header]
    found: dict[str, int] = {}
    for role in ROLES:  # named columns first: they take their column out of the guessing
        name = overrides[role]
        if name is None:
            continue
        hits = tables.find_named(header, name)
        if not hits:
            raise InputError(
                f"no column {name!r} in {source}; columns: {tables.listing(header)}",
                field=f"{role}_col",
            )
        if len(hits) > 1:
            raise InputError(
                f"{name!r} matches {len(hits)} columns of {source} "
                f"({tables.positions(header, hits)}); rename all but one",
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
        accepted = {tables.normalise(a) for a in ALIASES[role]}
        hits = [i for i, h in enumerate(normal) if h in accepted and i not in taken]
        if len(hits) > 1:
            what = "the loss" if role == "loss" else f"{role} ({_SYMBOLS[role]})"
            fix = (
                "rename all but one"
                if len({header[i] for i in hits}) == 1
                else f"choose one with `{role}_col`"
            )
            raise InputError(
                f"{source}: columns {tables.positions(header, hits)} "
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
                f"columns: {tables.listing(header)}"
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
            f"columns: {tables.listing(header)}"
        )
    return found


def ends_in_loss(name: str) -> bool:
    """Whether a header may be a loss named by its metric (a loss scale is not)."""
    return tables.normalise_path(name).endswith("loss")


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


def _check_values(
    values: dict[str, _Floats],
    names: dict[str, str],
    where: _Where,
    checked: NDArray[np.bool_] | None = None,
) -> None:
    """N, D, C and loss must be finite and positive; name the first cell that is not
    (the earliest row; in it, the first column in ROLES order). Rows outside `checked`
    (with no loss, left out) are not checked."""
    bad: list[tuple[int, int]] = []  # (first bad row, column) of each column with one
    for order, role in enumerate(ROLES):
        if role in values:
            good = np.isfinite(values[role]) & (values[role] > 0)
            if role in ("params", "tokens"):  # beyond any model: 6 N D would overflow
                good &= values[role] <= MAX_MAGNITUDE
            if checked is not None:
                good |= ~checked
            if not good.all():
                bad.append((int(np.argmin(good)), order))
    if not bad:
        return
    row, order = min(bad)
    role = ROLES[order]
    value = float(values[role][row])
    at = f"{where(row)}: column {names[role]!r}: {tables.show(value)!r}"
    if not math.isfinite(value):
        raise InputError(f"{at} is not finite; N, D, C and loss must be finite numbers")
    if value > MAX_MAGNITUDE:
        raise InputError(f"{at} is out of range; N and D must be at most {sci(MAX_MAGNITUDE, 1)}")
    raise InputError(f"{at} is not positive; N, D, C and loss must all be > 0")


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
    `loss_named`: the loss column was named (`loss_col`), not found by its header. A row
    with no loss (an empty cell, null or NaN: a run not trained yet, or one that crashed)
    is left out, named in a note and a warning."""
    has_loss = ~np.isnan(values["loss"])
    _check_values(values, names, where, has_loss)
    cols = dict(values)
    columns = {role: names.get(role, "derived") for role in ROLES}
    notes: list[str] = []
    if not loss_named and tables.normalise(names["loss"]) not in {
        tables.normalise(a) for a in ALIASES["loss"]
    }:
        notes.append(loss_note(names["loss"]))
    if "metric" in cols:  # fractions, or percents read as fractions (said in a note)
        cols["metric"], percent = metrics.check_metric(cols["metric"], names["metric"], where)
        notes += [percent] if percent else []
    derived = _derive(cols, names, notes)
    if derived:
        _check_derived(derived[0], cols, columns, where, has_loss)

    n_read = int(cols["loss"].shape[0])
    keep = _kept(cols, filters, notes, source, has_loss)
    n_kept = int(np.count_nonzero(keep))
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
        warnings=_without_loss(has_loss, where),
    )


def _without_loss(has_loss: NDArray[np.bool_], where: _Where) -> tuple[str, ...]:
    """The warning naming the rows with no loss (the first few), if any."""
    missing = np.flatnonzero(~has_loss)
    if not len(missing):
        return ()
    named = tables.shown_names([where(int(i)) for i in missing]).replace("'", "")
    return (f"{_rows(len(missing))} with no loss left out of the fit: {named}",)


def _derive(cols: dict[str, _Floats], names: dict[str, str], notes: list[str]) -> list[str]:
    """Derive the missing one of N, D and C through C = 6 N D (in `cols`), saying how;
    with all three, note how far C is from 6 N D."""
    derived: list[str] = []
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
    return derived


def _kept(
    cols: dict[str, _Floats],
    filters: _Filters,
    notes: list[str],
    source: str,
    has_loss: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    """The rows with a loss that the filters keep, each drop noted; too few is an
    InputError."""
    if not has_loss.any():
        raise InputError(
            f"{source}: no row has a loss (the loss column is empty); fill it in with each "
            "run's final loss"
        )
    keep: NDArray[np.bool_] = has_loss.copy()
    drops = (
        []
        if has_loss.all()
        else [f"dropped {_rows(int(np.count_nonzero(~has_loss)))} with no loss"]
    )
    masks = filters.masks(cols["loss"], cols["flops"], cols["params"], cols["tokens"])
    for label, mask in masks:
        dropped = int(np.count_nonzero(keep & ~mask))
        keep &= mask
        drops.append(
            f"dropped {_rows(dropped)} with {label}" if dropped else f"no rows with {label}"
        )
    notes += drops
    n_kept = int(np.count_nonzero(keep))
    if n_kept < filters.min_rows:
        left = " left after filtering" if drops else ""
        raise InputError(
            f"{source}: only {n_kept} run{'s' if n_kept != 1 else ''}{left}; "
            f"at least {filters.min_rows} are needed to fit"
            + (f" ({'; '.join(drops)})" if drops else "")
        )
    return keep


def _check_derived(
    sentence: str,
    cols: dict[str, _Floats],
    columns: dict[str, str],
    where: _Where,
    checked: NDArray[np.bool_],
) -> None:
    """A derived N, D or C can overflow or underflow even when the inputs are fine."""
    role = next(r for r in ("params", "tokens", "flops") if columns[r] == "derived")
    values = cols[role]
    good = (np.isfinite(values) & (values > 0)) | ~checked
    if good.all():
        return
    row = int(np.argmin(good))
    given = ", ".join(
        f"{_SYMBOLS[r]} = {tables.show(float(cols[r][row]))}"
        for r in ("params", "tokens", "flops")
        if r != role
    )
    formula = sentence.split(" (no ")[0]
    raise InputError(
        f"{where(row)}: {formula} comes out as {tables.show(float(values[row]))} "
        f"from {given}; N, D and C must be finite and positive"
    )


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


@dataclass(frozen=True)
class _Filters:
    """The filters on the rows (checked by ReadOptions) and the fewest runs to keep."""

    max_loss: float | None
    min_flops: float | None
    max_flops: float | None
    min_rows: int
    min_params: float | None = None
    min_tokens: float | None = None

    @classmethod
    def of(cls, options: ReadOptions, min_rows: int) -> _Filters:
        o = options
        return cls(o.max_loss, o.min_flops, o.max_flops, min_rows, o.min_params, o.min_tokens)

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
