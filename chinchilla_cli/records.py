"""Runs as people hold them in Python, as the columns the readers take: a mapping of
column names to arrays or lists, a pandas DataFrame (read by duck typing: pandas is never
imported here), or a list (or any iterable) of records, one mapping per row, such as W&B's
`run.scan_history()` rows or `pd.DataFrame.to_dict("records")`.

sources.py reads them as `fit` does.
"""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping
from pathlib import Path

from chinchilla_cli.errors import InputError
from chinchilla_cli.runs import ColumnTable

__all__ = ["as_columns", "is_table"]


def is_table(value: object) -> bool:
    """Whether `value` is a table of columns: a mapping, or a DataFrame-like object."""
    return isinstance(value, Mapping) or (hasattr(value, "keys") and hasattr(value, "__getitem__"))


def as_columns(value: object, field: str = "runs") -> Mapping[str, typing.Any] | ColumnTable:
    """`value` as a table of columns: a mapping or DataFrame as it is; records (an
    iterable of mappings, one per row) as a dict of lists, a key a row lacks read as None
    (nothing logged), in the order the keys first appear."""
    if is_table(value):
        return typing.cast(Mapping[str, typing.Any], value)
    if isinstance(value, (str, bytes, Path)) or not isinstance(value, Iterable):
        raise InputError(
            f"{type(value).__name__} is not runs; give a file path, a table of columns (a "
            "dict of lists or a DataFrame) or a list of records (one dict per row)",
            field=field,
        )
    rows = list(value)
    if not rows:
        raise InputError("no records; expected one mapping per run or logged step", field=field)
    columns: dict[str, list[typing.Any]] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise InputError(
                f"record {i} is a {type(row).__name__}; expected a mapping of column names "
                "to values (one per run or logged step)",
                field=field,
            )
        for key in row:
            if key not in columns:
                columns[key] = [None] * i
        for key, column in columns.items():
            column.append(row.get(key))
    return {str(k): v for k, v in columns.items()}
