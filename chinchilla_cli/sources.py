"""Where `fit` reads runs from: a path ("-": stdin), a table of columns (a mapping, a
pandas DataFrame) or records (records.py). A training log (a run column and a step
column, or `run_col` given) is reduced per run exactly as the same data in a file is
(logs.py); anything else is a table of runs. The InputError raised carries the argument
it is about (`field`): the table's (`runs`, `vs`, `run_table`), or, for runs given as
arrays, the array's own name (`loss`, `params`...).
"""

from __future__ import annotations

import re
from pathlib import Path

from chinchilla_cli import logs
from chinchilla_cli.errors import InputError
from chinchilla_cli.read_options import ReadOptions
from chinchilla_cli.records import as_columns
from chinchilla_cli.runs import Runs

__all__ = ["ARRAYS_SOURCE", "blamed", "read_source"]

ARRAYS_SOURCE = "<arrays>"
_COLUMN = re.compile(r"column '(params|tokens|flops|loss)'")
_LENGTH = re.compile(r"'(params|tokens|flops|loss)' has (\d+)")


def read_source(
    runs: object, options: ReadOptions, *, field: str = "runs", source: str | None = None
) -> tuple[Runs, logs.TrainingLog | None]:
    """The runs in a path ("-": stdin), a table of columns or records, read as `fit`
    reads them (logs.read_table, logs.table_from_columns); an InputError names `field`
    (or, for runs given as arrays, the array a message is about)."""
    try:
        if isinstance(runs, (str, Path)):
            return logs.read_table(str(runs), options)
        name = source or ("<columns>" if field == "runs" else f"<{field}>")
        return logs.table_from_columns(as_columns(runs, field), options, source=name)
    except InputError as e:
        raise blamed(e, field, source == ARRAYS_SOURCE) from None


def blamed(error: InputError, field: str, arrays: bool = False) -> InputError:
    """`error` with its `field` set when it has none: the table's argument, or for runs
    given as arrays the array its message names. A message that names its own place (a
    file and line) keeps it: `located` tells a front end not to name the argument again."""
    if error.field is not None:
        return error
    blame = field
    if arrays:
        named = _COLUMN.search(error.message)
        lengths = dict(_LENGTH.findall(error.message))
        if len(set(lengths.values())) > 1:  # the array whose length differs from the loss's
            odd = [k for k, n in lengths.items() if n != lengths.get("loss", n)]
            blame = odd[0] if odd else "loss"
        else:
            blame = named.group(1) if named else "loss"
    return InputError(error.message, field=blame, located=True)
