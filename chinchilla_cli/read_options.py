"""How training runs are read (`chinchilla fit`'s reading options), as one frozen,
validated value that the fit, the comparison of interventions, the command and every
reader (runs.read_runs, runs.runs_from_columns, logs.read_log, logs.read_table) share.
Every reading option is checked here, once, when the value is made: the bounds, the
filters that contradict each other, the form of `reduce` (`parse_reduce`).

Light on purpose (no numpy): the command line builds it before the fitting code loads.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from dataclasses import field as dataclass_field
from pathlib import PurePath
from typing import Any

from chinchilla_cli.errors import InputError
from chinchilla_cli.quantity import require, sci

COLUMN_ROLES = ("run", "params", "tokens", "flops", "loss", "metric")
REDUCTIONS = ("last", "min", "mean-last", "none")
_MEAN_LAST = re.compile(r"^mean[\s_-]*last(?:[\s:=_-]*(\d+))?$")
LOG_SETTINGS = ("reduce", "batch_tokens", "schedule_tokens")  # only a training log takes


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


@dataclass(frozen=True)
class ReadOptions:
    """Which columns hold what, which points to keep, and how a training log becomes one
    point per run. Every field is optional: None means "find it by name" for a column,
    "no filter" for a bound, and the documented default for a log setting.

    Columns: `params_col`, `tokens_col`, `flops_col`, `loss_col`, `metric_col` (a task
    metric), `run_col` (groups a log's rows into runs). Filters: `min_params`,
    `min_tokens` (for a log, drops warm-up rows first), `max_loss`, `min_flops`,
    `max_flops`. Logs: `reduce` ("last", "min", "mean-last:K", "none", or a Reduce;
    checked when made, see `reduction`), `batch_tokens` (D = steps x this),
    `schedule_tokens` (the planned D of every run, or a mapping of run name to its
    own, to flag short logs), `run_table` (W&B's runs
    table joined to the log on the run name: N, planned steps or tokens, batch tokens and
    group labels per run).
    """

    params_col: str | None = None
    tokens_col: str | None = None
    flops_col: str | None = None
    loss_col: str | None = None
    metric_col: str | None = None
    run_col: str | None = None
    reduce: str | Reduce | None = None
    batch_tokens: float | None = None
    schedule_tokens: float | Mapping[str, float] | None = None
    min_tokens: float | None = None
    min_params: float | None = None
    max_loss: float | None = None
    min_flops: float | None = None
    max_flops: float | None = None
    # W&B's runs table (one row per run: its config and summary), joined to a training
    # log on the run name: a path, a table of columns or records (run_tables.py)
    run_table: Any = dataclass_field(default=None, compare=False)

    def __post_init__(self) -> None:
        if isinstance(self.schedule_tokens, Mapping):  # per run: run name -> planned D
            for value in self.schedule_tokens.values():
                require(value, "schedule_tokens")
        else:
            require(self.schedule_tokens, "schedule_tokens")
        for field in (
            "batch_tokens",
            "min_tokens",
            "min_params",
            "max_loss",
            "min_flops",
            "max_flops",
        ):
            require(getattr(self, field), field)
        low, high = self.min_flops, self.max_flops
        if low is not None and high is not None and low > high:
            raise InputError(
                f"{sci(low)} is above `max_flops` ({sci(high)}): no run can pass both",
                field="min_flops",
            )
        parse_reduce(self.reduce)  # its form, checked here once

    @property
    def reduction(self) -> Reduce:
        """`reduce` parsed (the default: "last")."""
        return parse_reduce(self.reduce)

    def refuse_log_settings(self) -> None:
        """The log settings given for a plain table of runs: refused, not ignored."""
        given = {
            "reduce": self.reduction != Reduce(),
            "batch_tokens": self.batch_tokens is not None,
            "schedule_tokens": self.schedule_tokens is not None,
        }
        for field in LOG_SETTINGS:
            if given[field]:
                raise InputError(
                    "applies to training logs (many rows per run); this is a table of "
                    "runs: name its run column with `run_col`",
                    field=field,
                )

    @property
    def column_names(self) -> dict[str, str | None]:
        """Role -> the column the user named for it (None: found by name)."""
        return {role: getattr(self, f"{role}_col") for role in COLUMN_ROLES}

    def to_dict(self) -> dict[str, Any]:
        table = self.run_table
        out = asdict(replace(self, run_table=None))
        if table is not None:
            out["run_table"] = str(table) if isinstance(table, (str, PurePath)) else "<columns>"
        if isinstance(self.reduce, Reduce):
            out["reduce"] = str(self.reduce)
        return out


DEFAULT_READ = ReadOptions()  # every column found by name, no filter, logs reduced by "last"
