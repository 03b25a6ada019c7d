"""Accuracy forecasts: a downstream metric (HellaSwag, ARC, MMLU...) predicted from the
loss, the second stage of the two-stage forecast of Llama 3 (arXiv 2407.21783, section
3.2.1) and Bhagia et al. 2024 ("Establishing Task Scaling Laws via Compute-Efficient
Model Ladders", arXiv 2412.04403).

Stage 1 is the scaling law, L(N, D). Stage 2 is a sigmoid of the loss:

    acc(L) = a / (1 + exp(-k (L - L0))) + b

b is the floor the metric approaches as the loss grows (chance level: 0.25 for four
choices), a + b the ceiling it approaches as the loss falls, L0 the loss halfway between
and k the steepness. Accuracy falls as loss rises, so with this sign convention (the
issue's, and Bhagia et al.'s) k is NEGATIVE. The fit keeps 0 < a, 0 <= b and
a + b <= 1: a metric here is a fraction (a percent column is read as one, divided by
100, and said so in the notes).

Which loss stage 2 is fitted to: the runs' OBSERVED losses, paired with the metric
measured on the same runs, as both papers fit their second step to measured losses
(Llama 3 correlates the measured negative log-likelihood of its scaling-law models, and
of Llama 2 models, with accuracy; Bhagia et al. fit step 2 on (loss, accuracy) points of
the ladder models' checkpoints). The forecast then CHAINS the stages: the metric of a
planned (N, D) is the sigmoid of the loss the law predicts there. `rmse_chained` scores
that chain on the fitted runs (the law's predicted loss through the sigmoid, against
the measured metric). Both papers use a task-specific loss (the negative log-likelihood
of the correct answer) as the intermediate; here it is the loss the law models, the only
one a table of runs carries.

This module is the model: the sigmoid, the fit's result (`AccuracyFit`, as a law file
holds it: `from_mapping`) and the forecast of a plan. It imports neither the laws nor the
runs and no numpy, so that a plan, which only evaluates the sigmoid, starts fast. The
fit is accuracy_fit.py's; the metric columns are metrics.py's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chinchilla_cli.errors import InputError

FORM = "a / (1 + exp(-k (L - L0))) + b"
PARAMETERS = ("a", "k", "L0", "b")
PLAN_LEVEL = 95.0  # the plan's intervals, as planning.uncertainty gives them

Sample = tuple[float, float, float, float]  # (a, k, L0, b)


# ------------------------------------------------------------------ the sigmoid


def logistic(x: float) -> float:
    """1 / (1 + exp(-x)) without overflow."""
    return 0.5 * (1.0 + math.tanh(0.5 * x))


def sigmoid(loss: float, a: float, k: float, L0: float, b: float) -> float:
    """a / (1 + exp(-k (loss - L0))) + b."""
    return a * logistic(k * (loss - L0)) + b


@dataclass(frozen=True)
class AccuracyFit:
    """Stage 2 of the forecast: `metric` = a / (1 + exp(-k (L - L0))) + b (k < 0 when the
    metric falls as the loss rises), fitted to `n_runs` runs' observed loss and metric
    (`n_skipped` runs had no value). `rmse` is the sigmoid's error on them, `rmse_chained`
    the forecast's: the law's predicted loss through the sigmoid. `samples` are bootstrap
    refits (a, k, L0, b), row i paired with row i of the law's samples."""

    metric: str
    a: float
    k: float
    L0: float
    b: float
    n_runs: int = 0
    rmse: float | None = None
    rmse_chained: float | None = None
    converged: bool = True
    message: str = ""
    n_skipped: int = 0
    samples: tuple[Sample, ...] = field(default=(), repr=False)

    def predict(self, loss: float) -> float:
        """The metric at a loss."""
        return sigmoid(loss, self.a, self.k, self.L0, self.b)

    def parameters(self) -> dict[str, float]:
        return {"a": self.a, "k": self.k, "L0": self.L0, "b": self.b}

    def intervals(self, level: float) -> dict[str, tuple[float, float]] | None:
        """Percentile intervals of a, k, L0 and b over the samples (None without)."""
        if not self.samples:
            return None
        columns = list(zip(*self.samples, strict=True))
        return {
            name: percentile_interval(list(column), level)
            for name, column in zip(PARAMETERS, columns, strict=True)
        }

    def to_dict(self, level: float | None = None) -> dict[str, Any]:
        """The fit for JSON; `ci` ([low, high] of a, k, L0, b at `level`) with samples."""
        ci = self.intervals(level) if level is not None else None
        return {
            "metric": self.metric,
            "form": FORM,
            **self.parameters(),
            "n_runs": self.n_runs,
            "n_skipped": self.n_skipped,
            "rmse": self.rmse,
            "rmse_chained": self.rmse_chained,
            "converged": self.converged,
            "message": self.message,
            "ci": None if ci is None else {k: list(v) for k, v in ci.items()},
        }

    def law_block(self, level: float | None = None) -> dict[str, Any]:
        """The `accuracy:` block of a law file (`from_mapping` reads it back)."""
        block: dict[str, Any] = {
            "metric": self.metric,
            **self.parameters(),
            "form": FORM,
            "fit": {
                "n_runs": self.n_runs,
                "n_skipped": self.n_skipped,
                "rmse": self.rmse,
                "rmse_chained": self.rmse_chained,
                "converged": self.converged,
            },
        }
        ci = self.intervals(level) if level is not None else None
        if ci is not None:
            block["ci"] = {"level": level, **{k: list(v) for k, v in ci.items()}}
        if self.samples:
            block["samples"] = [list(row) for row in self.samples]
        return block


_BLOCK_KEYS = ("metric", "a", "k", "L0", "b", "form", "fit", "ci", "samples")
_FIT_KEYS = ("n_runs", "n_skipped", "rmse", "rmse_chained", "converged")


def from_mapping(raw: Any, where: str, law_samples: int = 0, what: str = "law") -> AccuracyFit:
    """The `accuracy:` block of a law file; a malformed one is an InputError naming
    `where` (the file) and the key. Its samples, when the law has samples too, must pair
    with them row by row (`law_samples` rows)."""

    def bad(key: str, expected: str, got: Any) -> InputError:
        return InputError(f"{where}: accuracy.{key} must be {expected}, got {got!r}", field=what)

    if not isinstance(raw, dict):
        raise InputError(
            f"{where}: accuracy must be a mapping with metric, a, k, L0 and b "
            f"(acc = {FORM}), got {raw!r}",
            field=what,
        )
    unknown = sorted(set(map(str, raw)) - set(_BLOCK_KEYS))
    if unknown:
        raise InputError(
            f"{where}: accuracy.{unknown[0]}: unknown key; expected {', '.join(_BLOCK_KEYS)}",
            field=what,
        )
    missing = [k for k in ("metric", *PARAMETERS) if k not in raw]
    if missing:
        raise InputError(
            f"{where}: accuracy: missing {', '.join(missing)} (acc = {FORM})", field=what
        )
    metric = raw["metric"]
    if not isinstance(metric, str) or not metric.strip():
        raise bad("metric", "the metric's name", metric)

    def number(key: str, value: Any) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise bad(key, "a finite number", value)
        return float(value)

    a, k, L0, b = (number(key, raw[key]) for key in PARAMETERS)
    if not 0 < a <= 1:
        raise bad("a", "in (0, 1] (the metric's span, a fraction)", raw["a"])
    if not 0 <= b < 1:
        raise bad("b", "in [0, 1) (the metric's floor, a fraction)", raw["b"])
    fit = raw.get("fit")
    if fit is not None and (not isinstance(fit, dict) or not set(map(str, fit)) <= set(_FIT_KEYS)):
        raise bad("fit", f"a mapping of {', '.join(_FIT_KEYS)}", fit)
    fit = fit or {}
    if raw.get("ci") is not None and not isinstance(raw["ci"], dict):
        raise bad("ci", "a mapping of intervals", raw["ci"])
    samples = _samples(raw.get("samples"), bad, number)
    if samples and law_samples and len(samples) != law_samples:
        raise bad(
            "samples",
            f"{law_samples} rows, one per row of the law's samples (they are paired)",
            f"{len(samples)} rows",
        )

    def optional(key: str) -> float | None:
        return None if fit.get(key) is None else number(f"fit.{key}", fit[key])

    converged = fit.get("converged", True)
    if not isinstance(converged, bool):
        raise bad("fit.converged", "true or false", converged)
    return AccuracyFit(
        metric.strip(),
        a,
        k,
        L0,
        b,
        n_runs=int(optional("n_runs") or 0),
        rmse=optional("rmse"),
        rmse_chained=optional("rmse_chained"),
        converged=converged,
        n_skipped=int(optional("n_skipped") or 0),
        samples=samples,
    )


def _samples(
    raw: Any, bad: Callable[[str, str, Any], InputError], number: Callable[[str, Any], float]
) -> tuple[Sample, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise bad("samples", "a list of [a, k, L0, b] rows", raw)
    for i, r in enumerate(raw):
        if not isinstance(r, list) or len(r) != 4:
            raise bad(f"samples[{i}]", "a row [a, k, L0, b]", r)
    rows = []
    for i, r in enumerate(raw):
        a, k, L0, b = (number(f"samples[{i}]", x) for x in r)
        rows.append((a, k, L0, b))
    return tuple(rows)


# ------------------------------------------------------------------ the forecast


def percentile_interval(values: Sequence[float], level: float) -> tuple[float, float]:
    """The central `level`% interval, by linear interpolation (numpy.percentile's
    default), in plain Python."""
    ordered = sorted(values)
    tail = (100.0 - level) / 200.0

    def q(p: float) -> float:
        x = p * (len(ordered) - 1)
        i = int(x)
        j = min(i + 1, len(ordered) - 1)
        return ordered[i] + (ordered[j] - ordered[i]) * (x - i)

    return q(tail), q(1.0 - tail)


@dataclass(frozen=True)
class AccuracyForecast:
    """The metric a plan predicts: the law's loss at the run's (N, D) through the
    sigmoid. `interval` (at `level`%) over `samples` rows: each row's loss from that
    sample of the law, its metric from the paired sample of the sigmoid (or, where only
    one of them carries samples, the other's point fit)."""

    metric: str
    value: float
    loss: float
    interval: tuple[float, float] | None = None
    level: float | None = None
    samples: int = 0
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "loss": self.loss,
            "level": self.level,
            "interval": None if self.interval is None else list(self.interval),
            "samples": self.samples,
            "source": self.source,
        }


def forecast(
    law: Any, params: float, tokens: float, level: float = PLAN_LEVEL
) -> AccuracyForecast | None:
    """The metric the law's accuracy forecast gives at (N, D); None when it has none."""
    fit: AccuracyFit | None = getattr(law, "accuracy", None)
    if fit is None:
        return None
    loss = float(law.loss(params, tokens).total)
    value = fit.predict(loss)
    rows: Sequence[tuple[float, float, float, float, float]] = getattr(law, "samples", ())
    curves = fit.samples
    n = min(len(rows), len(curves)) if rows and curves else max(len(rows), len(curves))
    if n < 2:
        return AccuracyForecast(fit.metric, value, loss)
    point = (fit.a, fit.k, fit.L0, fit.b)
    values = []
    for i in range(n):
        if rows:
            E, A, B, alpha, beta = rows[i]
            sample_loss = E + A / params**alpha + B / tokens**beta
        else:
            sample_loss = loss
        values.append(sigmoid(sample_loss, *(curves[i] if curves else point)))
    if rows and curves:
        source = f"{n} bootstrap fits of the law and the sigmoid, paired"
    elif rows:
        source = f"{n} bootstrap fits of the law; the sigmoid at its fit"
    else:
        source = f"{n} bootstrap fits of the sigmoid at the law's loss"
    return AccuracyForecast(
        fit.metric, value, loss, percentile_interval(values, level), level, n, source
    )


def plan_accuracy(law: Any, alloc: Any, constrained: Any = None) -> AccuracyForecast | None:
    """The forecast for a plan's run `alloc` (N, D); with repeated data (`constrained`)
    at its effective N' and D', where the plan's loss is."""
    if getattr(law, "accuracy", None) is None:
        return None
    if constrained is not None:
        return forecast(law, constrained.effective_params, constrained.effective_tokens)
    return forecast(law, alloc.params, alloc.tokens)
