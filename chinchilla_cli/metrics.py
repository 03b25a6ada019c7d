"""The task-metric columns of a table of runs or a training log: which columns hold a
downstream metric (HellaSwag, ARC, MMLU... accuracy) by their names, the column a user
names (`metric_col`), its values read as fractions, and a log's metric reduced per run
as the loss was. The accuracy forecast fitted to them is accuracy.py's (the model) and
accuracy_fit.py's (the fit).

Light (no numpy at import): the command line lists TASKS in its help.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING

from chinchilla_cli import tables
from chinchilla_cli.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    _Floats = NDArray[np.float64]

# The task metrics found by column name when `metric_col` is not given (as the column's
# last path segment: "hellaswag", "eval/downstream/hellaswag_acc", "hellaswag/acc_norm";
# case, spaces, "_", "-" and "." ignored). One place: the command line's help lists them.
TASKS = (
    "hellaswag",
    "arc_easy",
    "arc_challenge",
    "piqa",
    "winogrande",
    "mmlu",
    "boolq",
    "openbookqa",
)
TASK_SUFFIXES = ("acc", "accuracy", "acc_norm", "len_norm")

_SEPARATORS = re.compile(r"[\s_\-.]+")  # within one path segment: "/" splits segments


def _normal(text: str) -> str:
    return _SEPARATORS.sub("", str(text).replace("\ufeff", "").lower())


_TASK_NAMES = frozenset(_normal(t) + _normal(s) for t in TASKS for s in ("", *TASK_SUFFIXES))
_SUFFIX_NAMES = frozenset(_normal(s) for s in TASK_SUFFIXES)


def is_task_column(name: str) -> bool:
    """Whether a column's name says it holds one of TASKS' accuracy: its last path
    segment is the task, alone or with a suffix (hellaswag, arc_easy_acc,
    eval/downstream/piqa_len_norm), or the segment before an accuracy suffix
    (hellaswag/acc_norm). Task losses and standard errors (hellaswag_loss,
    hellaswag_acc_stderr) are not."""
    parts = [p for p in str(name).lower().split("/") if p.strip()]
    if not parts:
        return False
    last = _normal(parts[-1])
    if last in _SUFFIX_NAMES and len(parts) > 1:
        last = _normal(parts[-2]) + last
    return last in _TASK_NAMES


# ------------------------------------------------------------------ finding the column


def find_metric(
    header: Sequence[str], found: dict[str, int], metric_col: str | None, source: str
) -> tuple[str, ...]:
    """Add the metric's column to `found` (role -> column index) for a table of runs: the
    column `metric_col` names (an InputError if there is none, or several, or it is a
    column `found` already holds), else the one column named as a task (`TASKS`).

    Returns the task columns seen when there are several and none was named: no column
    is chosen then (the caller warns, naming them)."""
    taken = set(found.values())
    if metric_col is not None:
        name = metric_col.strip()
        hits = [i for i, h in enumerate(header) if h == name]
        if len(hits) != 1:
            hits = [i for i, h in enumerate(header) if _normal(h) == _normal(name)]
        if not hits:
            raise InputError(
                f"no column {metric_col!r} in {source}; columns: {tables.listing(header)}",
                field="metric_col",
            )
        if len(hits) > 1:
            shown = tables.positions(header, hits)
            raise InputError(
                f"{metric_col!r} matches {len(hits)} columns of {source} ({shown}); "
                "rename all but one",
                field="metric_col",
            )
        if hits[0] in taken:
            role = next(r for r, i in found.items() if i == hits[0])
            raise InputError(
                f"column {header[hits[0]]!r} of {source} is read as the {role}; name the "
                "column of a task metric (an accuracy)",
                field="metric_col",
            )
        found["metric"] = hits[0]
        return ()
    hits = [i for i, h in enumerate(header) if i not in taken and is_task_column(h)]
    if len(hits) == 1:
        found["metric"] = hits[0]
        return ()
    return tuple(header[i] for i in hits)


def find_metric_name(
    names: Sequence[str], taken: Collection[str]
) -> tuple[str | None, tuple[str, ...]]:
    """For a training log: the one column named as a task (not in `taken`), or None and
    the task columns seen when there are several."""
    hits = [n for n in names if n not in taken and is_task_column(n)]
    if len(hits) == 1:
        return hits[0], ()
    return None, tuple(hits)


def add_log_metric(roles: dict[str, str], names: Sequence[str]) -> tuple[str, ...]:
    """For a training log whose columns `names` have `roles` (role -> column): add the
    metric's column when none was named and one column is named as a task; returns the
    task columns seen when there are several (none is chosen)."""
    if "metric" in roles:
        return ()
    found, candidates = find_metric_name(names, set(roles.values()))
    if found is not None:
        roles["metric"] = found
    return candidates


def reduce_log_metric(
    values: _Floats,
    runs: NDArray[np.intp],
    order: _Floats,
    point_rows: NDArray[np.intp],
    point_run: NDArray[np.intp],
    how: str,
    k: int = 1,
) -> _Floats:
    """A training log's metric (one value per logged row, NaN where a row logs none)
    reduced as the loss was (`how`, read_options.Reduce): "last" the run's last logged value,
    "mean-last" the mean of its last `k` (rows in training order, by `order`: the step,
    else D), "min" and "none" the value on the point's own row (NaN when that row logs
    none: evaluations are often logged on fewer rows than the loss)."""
    import numpy as np

    if how in ("min", "none"):
        return np.asarray(values[point_rows], dtype=np.float64)
    out = np.full(len(point_run), np.nan)
    rows = np.flatnonzero(~np.isnan(values))
    if rows.size == 0:
        return out
    rows = rows[np.lexsort((rows, order[rows], runs[rows]))]
    run = runs[rows]
    starts = np.flatnonzero(np.concatenate([[True], run[1:] != run[:-1]]))
    ends = np.concatenate([starts[1:], [len(rows)]])
    span = k if how == "mean-last" else 1
    by_run = {
        int(run[s]): float(values[rows[max(s, e - span) : e]].mean())
        for s, e in zip(starts, ends, strict=True)
    }
    for i, r in enumerate(point_run):
        out[i] = by_run.get(int(r), np.nan)
    return out


def several_columns_warning(candidates: Sequence[str]) -> str:
    shown = ", ".join(repr(c) for c in candidates)
    return (
        f"columns {shown} all look like task metrics: no accuracy forecast was fitted; "
        "choose one with `metric_col`"
    )


def check_metric(
    values: _Floats, name: str, where: Callable[[int], str]
) -> tuple[_Floats, str | None]:
    """A metric column's values as fractions (NaN: not given): each a fraction from 0 to
    1, or all percents (some above 1, none above 100), which are divided by 100 and
    named in the note returned. Anything else is an InputError at `where(row)`."""
    import numpy as np

    values = np.asarray(values, dtype=np.float64)
    given = ~np.isnan(values)
    with np.errstate(invalid="ignore"):
        bad = given & ~(np.isfinite(values) & (values >= 0) & (values <= 100))
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(
            f"{where(row)}: column {name!r}: {tables.show(float(values[row]))} is not an accuracy; "
            "expected a fraction from 0 to 1 (or a percent from 0 to 100)"
        )
    if given.any() and float(values[given].max()) > 1:
        top = float(values[given].max())
        note = f"column {name!r} holds percents (up to {top:g}): read as fractions (divided by 100)"
        return values / 100.0, note
    return values, None
