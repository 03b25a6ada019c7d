"""The loss of one run, with two intervals: the law's and a new run's.

The law's interval says how well the runs pin the law down at (N, D): the spread of the
loss over the law's bootstrap samples. A new run scatters around the law as the fitted
runs did, so its interval adds that run-to-run noise: the standard deviation of log loss
around the law, estimated from the fit's residuals (`RunNoise`, saved in the law file
as `noise`). With samples, the new run's interval is the central `level`% of their
mixture (each sample's log loss plus normal noise); without, the noise alone about the
law's point prediction.

Pure Python (math and statistics only): `plan` loads it and must start fast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chinchilla_cli.errors import InputError

# bisection steps of the mixture's quantile in log loss: 2^-60 of a bracket of ~1 is
# far below any printed digit
QUANTILE_STEPS = 60


@dataclass(frozen=True)
class RunNoise:
    """Run-to-run noise: the standard deviation of a run's log loss around the law,
    sqrt(sum of squared residuals / (n_runs - free parameters)) of the fit."""

    log_loss_sd: float
    n_runs: int

    def to_dict(self) -> dict[str, Any]:
        return {"log_loss_sd": self.log_loss_sd, "n_runs": self.n_runs}


def residual_noise(rmse_log_loss: float, n_runs: int, n_free: int) -> RunNoise | None:
    """The noise of a fit with this RMSE of log loss over `n_runs` runs and `n_free` fitted
    parameters (None when the runs leave no degree of freedom)."""
    if n_runs <= n_free or not math.isfinite(rmse_log_loss):
        return None
    return RunNoise(rmse_log_loss * math.sqrt(n_runs / (n_runs - n_free)), n_runs)


def noise_from_mapping(raw: Any, where: str, what: str) -> RunNoise | None:
    """The `noise:` block of a law file: {log_loss_sd: >= 0, n_runs: >= 1}."""
    if raw is None:
        return None
    expected = "noise must map log_loss_sd (a number >= 0) and n_runs (an integer >= 1)"
    if not isinstance(raw, dict) or set(map(str, raw)) != {"log_loss_sd", "n_runs"}:
        raise InputError(f"{where}: {expected}; got {raw!r}", field=what)
    sd, n = raw["log_loss_sd"], raw["n_runs"]
    ok_sd = isinstance(sd, (int, float)) and not isinstance(sd, bool) and math.isfinite(sd)
    ok_n = isinstance(n, int) and not isinstance(n, bool) and n >= 1
    if not (ok_sd and sd >= 0 and ok_n):
        raise InputError(f"{where}: {expected}; got {raw!r}", field=what)
    return RunNoise(float(sd), int(n))


def percentile_interval(values: Sequence[float], level: float) -> tuple[float, float]:
    """The central `level`% of `values`, interpolated as numpy.percentile's default."""
    ordered = sorted(values)
    tail = (100.0 - level) / 200.0

    def q(p: float) -> float:
        x = p * (len(ordered) - 1)
        i = int(x)
        j = min(i + 1, len(ordered) - 1)
        return ordered[i] + (ordered[j] - ordered[i]) * (x - i)

    return q(tail), q(1.0 - tail)


def new_run_interval(
    loss: float, sample_losses: Sequence[float], log_loss_sd: float, level: float
) -> tuple[float, float]:
    """The central `level`% of a new run's loss: log loss normal about each sample's (an
    equal mixture), or about `loss` when there are no samples."""
    from statistics import NormalDist  # only when a law carries noise: plan starts fast

    centres = [math.log(x) for x in sample_losses] or [math.log(loss)]
    tail = (100.0 - level) / 200.0
    if log_loss_sd <= 0:
        lo, hi = percentile_interval(centres, level)
        return math.exp(lo), math.exp(hi)
    unit = NormalDist()
    if len(centres) == 1:
        z = unit.inv_cdf(1.0 - tail) * log_loss_sd
        return math.exp(centres[0] - z), math.exp(centres[0] + z)

    def share_below(x: float) -> float:
        return sum(unit.cdf((x - c) / log_loss_sd) for c in centres) / len(centres)

    # every mixture quantile lies within the extreme centres' own quantiles
    reach = unit.inv_cdf(1.0 - tail / 2) * log_loss_sd

    def quantile(p: float) -> float:
        lo, hi = min(centres) - reach, max(centres) + reach
        for _ in range(QUANTILE_STEPS):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if share_below(mid) < p else (lo, mid)
        return 0.5 * (lo + hi)

    return math.exp(quantile(tail)), math.exp(quantile(1.0 - tail))


def check_run(params: float, tokens: float, level: float) -> None:
    """Refuse a run or level no prediction can be made for."""
    for name, value in (("params", params), ("tokens", tokens)):
        bad = isinstance(value, bool) or not isinstance(value, (int, float))
        if bad or not (math.isfinite(value) and value > 0):
            raise InputError(f"`{name}` must be a positive number, got {value!r}", field=name)
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 100:
        raise InputError(
            f"`level` must be a percentage between 0 and 100, got {level!r}", field="level"
        )


@dataclass(frozen=True)
class Prediction:
    """The loss a law predicts for a run of `params` trained on `tokens`, with the law's
    `level`% interval (`interval`: over its bootstrap samples; None without them) and a
    new run's (`new_run`: adds the run-to-run `noise`; None when the law carries none)."""

    params: float
    tokens: float
    loss: float
    level: float
    interval: tuple[float, float] | None
    new_run: tuple[float, float] | None
    samples: int  # bootstrap samples behind `interval` (0: none)
    noise: RunNoise | None

    @property
    def flops(self) -> float:
        return 6.0 * self.params * self.tokens

    def to_dict(self) -> dict[str, Any]:
        return {
            "params": self.params,
            "tokens": self.tokens,
            "flops": self.flops,
            "loss": self.loss,
            "level": self.level,
            "loss_ci": None if self.interval is None else list(self.interval),
            "loss_new_run": None if self.new_run is None else list(self.new_run),
            "samples": self.samples,
            "noise": None if self.noise is None else self.noise.to_dict(),
        }


def predict_loss(
    params: float,
    tokens: float,
    loss: float,
    sample_losses: Sequence[float],
    noise: RunNoise | None,
    level: float,
) -> Prediction:
    """A `Prediction` from the law's loss at (N, D), each bootstrap sample's loss there,
    and the law's run-to-run noise."""
    check_run(params, tokens, level)
    interval = percentile_interval(sample_losses, level) if sample_losses else None
    new_run = (
        None if noise is None else new_run_interval(loss, sample_losses, noise.log_loss_sd, level)
    )
    return Prediction(params, tokens, loss, level, interval, new_run, len(sample_losses), noise)
