"""A training log's runs: each row's run as a code, a value logged once per run, a run's
label (its group). The pieces of logs.py's reduction that see runs, not rows."""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from chinchilla_cli import tables
from chinchilla_cli.errors import InputError
from chinchilla_cli.formats import Where

__all__ = ["per_run", "run_codes", "run_labels"]

Floats = NDArray[np.float64]
Ints = NDArray[np.intp]


def run_codes(cells: Sequence[typing.Any], name: str, where: Where) -> tuple[Ints, list[str]]:
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


def per_run(
    num: Mapping[str, Floats],
    role: str,
    codes: Ints,
    n_runs: int,
    roles: Mapping[str, str],
    where: Where,
    word: str,
) -> Floats:
    """One value per run of a column logged on any of the run's rows (NaN: none); `word`
    names the role in a message ("params (N)")."""
    out = np.full(n_runs, np.nan)
    if role not in num:
        return out
    values = num[role]
    given = ~np.isnan(values)
    if not given.any() and not (role == "params" and "flops" not in roles):
        return out
    bad = given & ~(np.isfinite(values) & (values > 0))
    if bad.any():
        row = int(np.argmax(bad))
        raise InputError(
            f"{where(row)}: column {roles[role]!r}: {tables.show(values[row])} is not positive"
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
            f"{where(int(other))}: column {roles[role]!r}: {tables.show(values[other])} differs "
            f"from {tables.show(first)} ({where(int(rows[0]))}) in the same run; "
            f"{word} must be one value per run"
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


def run_labels(
    cells: Sequence[typing.Any],
    column: str,
    codes: Ints,
    run_names: Sequence[str],
    used: Ints,
    where: Where,
) -> tuple[str, ...]:
    """Each used run's label (its group): one per run, logged on any of its rows."""
    labels: dict[int, str] = {}
    for row, (code, cell) in enumerate(zip(codes, cells, strict=True)):
        if cell is None or (isinstance(cell, float) and cell != cell):
            continue
        text = str(cell).strip()
        if not text:
            continue
        had = labels.setdefault(int(code), text)
        if had != text:
            raise InputError(
                f"{where(row)}: column {column!r}: {text!r} differs from {had!r} in the same "
                f"run {run_names[code]!r}; a run belongs to one group",
                field="group",
            )
    for code in used:
        if int(code) not in labels:
            row = int(np.argmax(codes == code))
            raise InputError(
                f"{where(row)}: run {run_names[code]!r} has no {column!r}; every run "
                "needs its group",
                field="group",
            )
    return tuple(labels[int(c)] for c in used)
