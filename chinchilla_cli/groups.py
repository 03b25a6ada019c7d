"""The groups of runs an intervention compares (`fit`'s `vs` and `group`), as read: one
table split by its group column (the column read in the same pass as the runs; of a
training log, each run's label, logged or joined from the runs table), or one table (or
training log) per group. interventions.py fits and compares them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from chinchilla_cli import logs
from chinchilla_cli.errors import InputError
from chinchilla_cli.read_options import ReadOptions
from chinchilla_cli.records import as_columns
from chinchilla_cli.runs import MIN_RUNS, GroupedRuns, Runs
from chinchilla_cli.sources import blamed, read_source

__all__ = ["Group", "Sources", "read_files", "read_groups"]

# a file ("-": stdin), a mapping of columns, or records (one mapping per row)
Sources = str | Path | Mapping[str, Any] | Iterable[Mapping[str, Any]]


@dataclass(frozen=True)
class Group:
    """One group's runs as read, and its label."""

    label: str
    runs: Runs
    log: logs.TrainingLog | None


def read_groups(
    runs: Sources, column: str, baseline: str | None, options: ReadOptions
) -> list[Group]:
    """One table split by the values of `column`: the baseline first (`baseline`, else
    the first value in row order), then the others in order of appearance. Each group
    needs MIN_RUNS runs after the filters."""
    try:
        if isinstance(runs, (str, Path)):
            grouped, log = logs.read_grouped_table(str(runs), options, column)
        else:
            columns = as_columns(runs)
            grouped, log = logs.grouped_from_columns(columns, options, column, source="<columns>")
    except InputError as e:
        raise blamed(e, "runs") from None
    if log is not None:
        return _split_log(grouped, log, column, baseline)
    return _split(grouped, column, baseline)


def _split(grouped: GroupedRuns, column: str, baseline: str | None) -> list[Group]:
    table = grouped.runs
    labels = np.array(grouped.groups, dtype=object)
    kept = labels if table.rows_kept is None else labels[table.rows_kept]
    order = list(dict.fromkeys(grouped.groups))
    if baseline is not None:
        if baseline not in order:
            raise InputError(
                f"no run has {column} = {baseline!r}; its values: {', '.join(order[:20])}",
                field="baseline",
            )
        order.remove(baseline)
        order.insert(0, baseline)
    if len(order) < 2:
        raise InputError(
            f"every run of {table.source} has {column} = {order[0]!r}; comparing needs two groups",
            field="group",
        )
    groups = []
    for value in order:
        keep = kept == value
        n = int(keep.sum())
        if n < MIN_RUNS:
            raise InputError(
                f"{column} = {value!r} has {n} run{'s' if n != 1 else ''} after the "
                f"filters; each group needs at least {MIN_RUNS} to fit",
                field="group",
            )
        n_read = int(np.count_nonzero(labels == value))
        source = f"{table.source} [{column} = {value}]"
        groups.append(Group(value, _subset(table, keep, source, n_read), None))
    return groups


def _split_log(
    grouped: GroupedRuns, log: logs.TrainingLog, column: str, baseline: str | None
) -> list[Group]:
    """`_split` of a training log's points: each group keeps the log of its own runs,
    the baseline's also what the log says of every run (notes, warnings, runs dropped),
    so that nothing the reading found is lost."""
    out = []
    labels = np.array(grouped.groups, dtype=object)
    kept = np.zeros(len(labels), dtype=bool)
    kept[grouped.runs.rows_kept if grouped.runs.rows_kept is not None else slice(None)] = True
    for i, group in enumerate(_split(grouped, column, baseline)):
        mine = labels == group.label
        runs_of = np.unique(log.run_index[mine])
        remap = np.full(log.n_runs, -1, dtype=np.intp)
        remap[runs_of] = np.arange(len(runs_of))
        sub = replace(
            log,
            columns={k: v[mine] for k, v in log.columns.items()},
            run_names=tuple(log.run_names[r] for r in runs_of),
            run_index=remap[log.run_index[mine]],
            run_groups=tuple(log.run_groups[r] for r in runs_of) if log.run_groups else (),
            incomplete=tuple(
                n for n in log.incomplete if n in set(log.run_names[r] for r in runs_of)
            ),
            notes=log.notes if i == 0 else (),
            warnings=log.warnings if i == 0 else (),
            dropped_runs=log.dropped_runs if i == 0 else (),
        )
        within = np.flatnonzero(kept[mine])
        rows_kept = None if len(within) == int(mine.sum()) else within
        runs = replace(group.runs, rows_kept=rows_kept)
        if i == 0 and log.dropped_runs:  # counted once, where they are named
            extra = len(log.dropped_runs)
            runs = replace(runs, n_read=runs.n_read + extra, n_dropped=runs.n_dropped + extra)
        out.append(replace(group, runs=runs, log=sub))
    return out


def _subset(runs: Runs, keep: np.ndarray, source: str, n_read: int) -> Runs:
    """The kept runs where `keep`, as a table of its own (every per-run array cut)."""
    n = runs.n_kept
    cut = {
        f.name: value[keep]
        for f in fields(runs)
        if isinstance(value := getattr(runs, f.name), np.ndarray) and value.shape[:1] == (n,)
    }
    kept = int(keep.sum())
    return replace(runs, **cut, source=source, n_read=n_read, n_dropped=n_read - kept)


def read_files(first: Sources, others: Sequence[Sources], options: ReadOptions) -> list[Group]:
    """One group per source (a file, stdin once, or a mapping of columns), labelled by
    its source (numbered when two are the same)."""
    out = []
    sources = [first, *others]
    if sum(1 for s in sources if isinstance(s, (str, Path)) and str(s) == "-") > 1:
        raise InputError("stdin (-) can be read once; give the other runs as files", field="vs")
    for i, src in enumerate(sources):
        name = None if isinstance(src, (str, Path)) else ("<columns>" if i == 0 else f"<vs {i}>")
        table, log = read_source(src, options, field="runs" if i == 0 else "vs", source=name)
        out.append(Group(table.source, table, log))
    labels = [g.label for g in out]
    for i, label in enumerate(labels):
        if label in labels[:i]:
            out[i] = replace(out[i], label=f"{label} ({i + 1})")
    return out
