"""W&B's panel CSV: what a line plot's "Download CSV" writes. It is wide: a step column,
then for each run and metric plotted a column `RUN - METRIC`, with `RUN - METRIC__MIN`
and `RUN - METRIC__MAX` beside it (the band of a smoothed or sampled line). It is read
as the long log it shows -- one row per run and step, the metric's values as columns --
so that logs.py reduces it like a history export; the bands are left out (they are not
losses). A panel holds no model size: N comes from the runs table (`run_table`) or is
refused with what to export instead.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Sequence

import numpy as np

from chinchilla_cli import formats, tables
from chinchilla_cli.errors import InputError

__all__ = ["PANEL_HINT", "is_panel", "panel_columns", "unpanel"]

_COLUMN = re.compile(r"^(?P<run>.+?) - (?P<metric>.+?)(?P<band>__MIN|__MAX)?$")
PANEL_HINT = (
    "export the runs' history instead (the run page's Export, or `run.history()` / "
    "`run.scan_history()` in Python), with the runs table for N"
)


def panel_columns(header: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Column -> (run, metric) for the `RUN - METRIC` columns of a panel's header (the
    __MIN and __MAX bands left out); empty unless every other column is one, or a step."""
    found: dict[str, tuple[str, str]] = {}
    others = 0
    for name in header:
        m = _COLUMN.match(name)
        if m is None:
            others += 1
        elif m.group("band") is None:
            found[name] = (m.group("run").strip(), m.group("metric").strip())
    return found if found and others <= 1 else {}


def is_panel(header: Sequence[str]) -> bool:
    """Whether the header is a W&B panel's: `RUN - METRIC` columns and a step column."""
    return bool(panel_columns(header))


def unpanel(table: formats.Table, step_aliases: set[str]) -> formats.Table:
    """The panel in `table` (read with every column) as a long log: `run`, `Step` and
    one column per metric, one row per run and step that logs something."""
    columns = panel_columns(table.names)
    step = next(
        (n for n in table.names if tables.normalise_path(n) in step_aliases and n not in columns),
        None,
    )
    if step is None:
        raise InputError(
            f"{table.source}: a W&B panel CSV without a step column; {PANEL_HINT}", field="runs"
        )
    metrics = list(dict.fromkeys(metric for _, metric in columns.values()))
    runs = list(dict.fromkeys(run for run, _ in columns.values()))
    by_run: dict[str, dict[str, str]] = {run: {} for run in runs}
    for name, (run, metric) in columns.items():
        by_run[run][metric] = name
    steps = np.asarray(table.cells[step], dtype=object)
    run_col: list[str] = []
    step_parts: list[np.ndarray] = []
    metric_parts: dict[str, list[np.ndarray]] = {m: [] for m in metrics}
    rows_of: list[np.ndarray] = []
    for run in runs:
        cells = {m: np.asarray(table.cells[c], dtype=object) for m, c in by_run[run].items()}
        logged = np.zeros(table.n_rows, dtype=bool)
        for values in cells.values():
            logged |= np.array([v is not None and v != "" for v in values], dtype=bool)
        rows = np.flatnonzero(logged)
        run_col += [run] * len(rows)
        step_parts.append(steps[rows])
        rows_of.append(rows)
        for m in metrics:
            metric_parts[m].append(
                cells[m][rows] if m in cells else np.full(len(rows), None, dtype=object)
            )
    cells_out: dict[str, typing.Any] = {"run": run_col, step: _joined(step_parts)}
    for m in metrics:
        cells_out[m] = _joined(metric_parts[m])
    source_rows = _joined(rows_of)
    n = len(run_col)
    if not n:
        raise InputError(f"{table.source}: the panel logs no values", field="runs")

    def where(row: int) -> str:
        return f"{table.where(int(source_rows[row]))} (run {run_col[row]!r})"

    out = formats.Table(table.source, "wandb-panel", ["run", step, *metrics], cells_out, n, where)
    out.notes.append(
        f"a W&B panel CSV: {tables.count(len(runs), 'run')} of {', '.join(map(repr, metrics))} "
        "read from its 'RUN - METRIC' columns (the __MIN/__MAX bands left out)"
    )
    return out


def _joined(parts: list[np.ndarray]) -> list[typing.Any]:
    return list(np.concatenate(parts)) if parts else []
