"""How training runs are read (`chinchilla fit`'s reading options), as one frozen,
validated value that the fit, the comparison of interventions and the command share.

Light on purpose (no numpy): the command line builds it before the fitting code loads.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from chinchilla_cli.quantity import require

COLUMN_ROLES = ("run", "params", "tokens", "flops", "loss", "metric")


@dataclass(frozen=True)
class ReadOptions:
    """Which columns hold what, which points to keep, and how a training log becomes one
    point per run. Every field is optional: None means "find it by name" for a column,
    "no filter" for a bound, and the documented default for a log setting.

    Columns: `params_col`, `tokens_col`, `flops_col`, `loss_col`, `metric_col` (a task
    metric), `run_col` (groups a log's rows into runs). Filters: `min_params`,
    `min_tokens` (for a log, drops warm-up rows first), `max_loss`, `min_flops`,
    `max_flops`. Logs: `reduce` ("last", "min", "mean-last:K", "none"), `batch_tokens`
    (D = steps x this), `schedule_tokens` (each run's planned D, to flag short logs).
    """

    params_col: str | None = None
    tokens_col: str | None = None
    flops_col: str | None = None
    loss_col: str | None = None
    metric_col: str | None = None
    run_col: str | None = None
    reduce: str | None = None
    batch_tokens: float | None = None
    schedule_tokens: float | None = None
    min_tokens: float | None = None
    min_params: float | None = None
    max_loss: float | None = None
    min_flops: float | None = None
    max_flops: float | None = None

    def __post_init__(self) -> None:
        for field in (
            "batch_tokens",
            "schedule_tokens",
            "min_tokens",
            "min_params",
            "max_loss",
            "min_flops",
            "max_flops",
        ):
            require(getattr(self, field), field)

    @property
    def column_names(self) -> dict[str, str | None]:
        """Role -> the column the user named for it (None: found by name)."""
        return {role: getattr(self, f"{role}_col") for role in COLUMN_ROLES}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_READ = ReadOptions()  # every column found by name, no filter, logs reduced by "last"
