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

This module is light (no numpy at import) so that a plan, which only evaluates the
sigmoid, starts fast; the fit imports numpy when it runs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chinchilla_cli.errors import FitError, InputError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

    from chinchilla_cli.laws import ParametricLaw
    from chinchilla_cli.runs import Runs

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
FORM = "a / (1 + exp(-k (L - L0))) + b"
PARAMETERS = ("a", "k", "L0", "b")
MIN_POINTS = 6  # four parameters, and two points to spare
PLAN_LEVEL = 95.0  # the plan's intervals, as planning.uncertainty gives them

Sample = tuple[float, float, float, float]  # (a, k, L0, b)

_SEPARATORS = re.compile(r"[\s_\-.]+")


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
                f"no column {metric_col!r} in {source}; columns: {_listing(header)}",
                field="metric_col",
            )
        if len(hits) > 1:
            shown = " and ".join(f"{header[i]!r} (column {i + 1})" for i in hits)
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
    reduced as the loss was (`how`, logs.Reduce): "last" the run's last logged value,
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


def _listing(cells: Sequence[str], limit: int = 20) -> str:
    shown = ", ".join(" ".join(str(c).split()) for c in cells[:limit])
    return shown + (f", ... ({len(cells) - limit} more)" if len(cells) > limit else "")


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
            f"{where(row)}: column {name!r}: {_show(float(values[row]))} is not an accuracy; "
            "expected a fraction from 0 to 1 (or a percent from 0 to 100)"
        )
    if given.any() and float(values[given].max()) > 1:
        top = float(values[given].max())
        note = f"column {name!r} holds percents (up to {top:g}): read as fractions (divided by 100)"
        return values / 100.0, note
    return values, None


def _show(value: float) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


# ------------------------------------------------------------------ the sigmoid


def _logistic(x: float) -> float:
    """1 / (1 + exp(-x)) without overflow."""
    return 0.5 * (1.0 + math.tanh(0.5 * x))


def sigmoid(loss: float, a: float, k: float, L0: float, b: float) -> float:
    """a / (1 + exp(-k (loss - L0))) + b."""
    return a * _logistic(k * (loss - L0)) + b


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


# ------------------------------------------------------------------ the fit


def _unpack(theta: Sequence[float]) -> Sample:
    """(u, v, k, L0) -> (a, k, L0, b): b = s(u), a = (1 - b) s(v), so a > 0, b >= 0 and
    a + b <= 1 hold whatever the optimiser does."""
    u, v, k, L0 = (float(x) for x in theta)
    b = _logistic(u)
    return (1.0 - b) * _logistic(v), k, L0, b


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


def _pack(a: float, k: float, L0: float, b: float) -> list[float]:
    b = min(max(b, 1e-6), 1 - 1e-6)
    return [_logit(b), _logit(a / (1 - b)), k, L0]


def _residuals(theta: _Floats, loss: _Floats, y: _Floats, sw: _Floats) -> tuple[_Floats, _Floats]:
    """Weighted residuals (prediction - y) and their Jacobian in (u, v, k, L0)."""
    import numpy as np

    u, v, k, L0 = theta
    b = 0.5 * (1 + np.tanh(0.5 * u))
    sv = 0.5 * (1 + np.tanh(0.5 * v))
    a = (1 - b) * sv
    s = 0.5 * (1 + np.tanh(0.5 * k * (loss - L0)))
    ds = s * (1 - s)
    r = (a * s + b - y) * sw
    jac = np.column_stack(
        [
            b * (1 - b) * (1 - s * sv),
            (1 - b) * sv * (1 - sv) * s,
            a * ds * (loss - L0),
            -a * ds * k,
        ]
    )
    return r, jac * sw[:, None]


@dataclass(frozen=True)
class _Solution:
    theta: list[float]
    sse: float
    converged: bool
    iterations: int
    why: str


def _levenberg_marquardt(
    theta0: Sequence[float], loss: _Floats, y: _Floats, sw: _Floats, max_iter: int = 400
) -> _Solution:
    """Least squares by Levenberg-Marquardt with Marquardt's diagonal scaling."""
    import numpy as np

    theta = np.asarray(theta0, dtype=np.float64)
    r, jac = _residuals(theta, loss, y, sw)
    sse = float(r @ r)
    lam = 1e-3
    for it in range(1, max_iter + 1):
        grad = jac.T @ r
        hess = jac.T @ jac
        scale = np.maximum(np.diag(hess), 1e-12)
        while True:
            try:
                step = -np.linalg.solve(hess + lam * np.diag(scale), grad)
            except np.linalg.LinAlgError:
                step = np.full(4, np.nan)
            trial = theta + step
            if np.all(np.isfinite(trial)):
                r2, jac2 = _residuals(trial, loss, y, sw)
                sse2 = float(r2 @ r2)
                if math.isfinite(sse2) and sse2 < sse:
                    lam = max(lam / 3.0, 1e-12)
                    break
            lam *= 4.0
            if lam > 1e12:  # no step lowers the error: a minimum (or a flat valley)
                return _Solution(theta.tolist(), sse, True, it, "no step lowers the error")
        gain = (sse - sse2) / max(sse, 1e-300)
        theta, r, jac, sse = trial, r2, jac2, sse2
        if gain < 1e-12 or float(np.abs(step).max()) < 1e-10 * (1 + float(np.abs(theta).max())):
            return _Solution(theta.tolist(), sse, True, it, "the error stopped falling")
        if sse < 1e-30:
            return _Solution(theta.tolist(), sse, True, it, "an exact fit")
    return _Solution(
        theta.tolist(), sse, False, max_iter, f"no convergence in {max_iter} iterations"
    )


def _starts(loss: _Floats, y: _Floats, w: _Floats, keep: int = 4) -> list[list[float]]:
    """A grid of (k, L0), with a and b for each by weighted linear least squares (the
    sigmoid is linear in them), clipped to the bounds; the `keep` best as starts."""
    import numpy as np

    lo, hi = float(loss.min()), float(loss.max())
    spread = max(hi - lo, 1e-3)
    scored: list[tuple[float, list[float]]] = []
    for L0 in lo + spread * np.array([-0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.5]):
        for c in (1.0, 3.0, 10.0, 30.0):
            k = -c / spread
            s = 0.5 * (1 + np.tanh(0.5 * k * (loss - L0)))
            design = np.column_stack([s, np.ones_like(s)]) * np.sqrt(w)[:, None]
            (a, b), *_ = np.linalg.lstsq(design, y * np.sqrt(w), rcond=None)
            b = min(max(float(b), 0.0), 0.98)
            a = min(max(float(a), 0.01), 0.999 - b)
            sse = float(w @ (a * s + b - y) ** 2)
            scored.append((sse, _pack(a, k, float(L0), b)))
    scored.sort(key=lambda t: t[0])
    return [theta for _, theta in scored[:keep]]


def _solve(
    loss: _Floats, y: _Floats, w: _Floats, start: Sequence[float] | None = None
) -> _Solution:
    """The best of Levenberg-Marquardt from `start` (a warm start) and, if that does not
    converge, or with no start, from the grid's best starts."""
    import numpy as np

    sw = np.sqrt(w)
    if start is not None:
        warm = _levenberg_marquardt(start, loss, y, sw)
        if warm.converged:
            return warm
    best: _Solution | None = None
    for theta in _starts(loss, y, w):
        found = _levenberg_marquardt(theta, loss, y, sw)
        if best is None or (found.converged, -found.sse) > (best.converged, -best.sse):
            best = found
    assert best is not None
    return best


def fit_accuracy(
    loss: Any, values: Any, metric: str = "accuracy", weights: Any = None
) -> AccuracyFit:
    """Fit `values` (a metric, fractions 0 to 1) = a / (1 + exp(-k (loss - L0))) + b by
    least squares (Levenberg-Marquardt in numpy from a grid of starts), with 0 < a,
    0 <= b, a + b <= 1; k comes out negative for a metric that falls as the loss rises.
    `weights` (optional) weigh the points. Raises InputError for unusable input."""
    import numpy as np

    L = np.asarray(loss, dtype=np.float64).reshape(-1)
    y = np.asarray(values, dtype=np.float64).reshape(-1)
    w = np.ones_like(L) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if not L.shape == y.shape == w.shape:
        raise InputError(
            f"the losses ({L.size}), values ({y.size}) and weights ({w.size}) differ in length",
            field="values",
        )
    if not (np.all(np.isfinite(L)) and np.all(L > 0)):
        raise InputError("every loss must be a finite positive number", field="loss")
    if not (np.all(np.isfinite(y)) and np.all((y >= 0) & (y <= 1))):
        raise InputError("every value must be a fraction from 0 to 1", field="values")
    if not (np.all(np.isfinite(w)) and np.all(w >= 0)):
        raise InputError("every weight must be a finite number >= 0", field="weights")
    if L.size < MIN_POINTS:
        raise InputError(
            f"{L.size} points; the sigmoid's four parameters need at least {MIN_POINTS}",
            field="values",
        )
    found = _solve(L, y, w)
    return _finish(found, L, y, metric)


def _finish(found: _Solution, L: _Floats, y: _Floats, metric: str) -> AccuracyFit:
    import numpy as np

    a, k, L0, b = _unpack(found.theta)
    pred = a * 0.5 * (1 + np.tanh(0.5 * k * (L - L0))) + b
    rmse = float(np.sqrt(np.mean((pred - y) ** 2)))
    message = f"{found.why} after {found.iterations} iterations"
    return AccuracyFit(metric, a, k, L0, b, int(L.size), rmse, None, found.converged, message)


def resample_weights(
    n_points: int, resamples: int, seed: int, groups: _Floats | None = None
) -> _Floats:
    """The bootstrap's resamples as integer weights per point, drawn exactly as the law's
    bootstrap draws them (approach3.bootstrap_parametric; resampling.
    bootstrap_parametric_by_run when `groups` gives each point's run), so row i here is
    the resample of the law's sample i."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = np.empty((resamples, n_points))
    if groups is None:
        for i in range(resamples):
            out[i] = np.bincount(rng.integers(0, n_points, n_points), minlength=n_points)
        return out
    group = np.unique(np.asarray(groups), return_inverse=True)[1].reshape(-1)
    n_runs = int(group.max()) + 1
    for i in range(resamples):
        drawn = np.bincount(rng.integers(0, n_runs, n_runs), minlength=n_runs)
        out[i] = drawn[group]
    return out


def fit_runs_accuracy(
    runs: Runs,
    law: ParametricLaw | None,
    *,
    named: bool,
    bootstrap: int = 0,
    seed: int = 0,
    groups: _Floats | None = None,
) -> tuple[AccuracyFit | None, list[str]]:
    """Stage 2 for `fit`: the sigmoid of the runs' metric column (runs.metric) on their
    observed loss, with `bootstrap` refits on the law bootstrap's resamples (same `seed`
    and `groups`, so sample i pairs with the law's sample i), and warnings.

    Runs without a value are left out of this stage only. A column the caller `named`
    (`metric_col`) that cannot be fitted is an error; a column found by name is dropped
    with a warning. `law` None (an IsoFLOP fit): no forecast, no loss to chain."""
    import numpy as np

    warnings: list[str] = []
    if runs.metric_candidates:
        warnings.append(several_columns_warning(runs.metric_candidates))
    if runs.metric is None or runs.metric_col is None:
        return None, warnings
    name = runs.metric_col
    problem: str | None = None
    if law is None:
        problem = (
            f"the accuracy forecast of column {name!r} chains it to the law's loss; "
            "it needs `approach` parametric or both"
        )
        if named:
            raise InputError(problem, field="metric_col")
        return None, [*warnings, problem]
    have = ~np.isnan(runs.metric)
    n = int(have.sum())
    if n < MIN_POINTS:
        problem = (
            f"only {n} of the {runs.n_kept} runs have a value in column {name!r}; "
            f"the accuracy fit needs at least {MIN_POINTS}"
        )
    elif float(np.ptp(runs.metric[have])) == 0:
        problem = (
            f"column {name!r} is {float(runs.metric[have][0]):g} in every run: "
            "no accuracy forecast to fit"
        )
    if problem is not None:
        if named:
            raise InputError(problem, field="metric_col")
        return None, [*warnings, f"no accuracy forecast: {problem}"]
    L, y = runs.loss[have], runs.metric[have]
    point = _finish(_solve(L, y, np.ones_like(L)), L, y, name)
    if not point.converged:
        problem = (
            f"the accuracy fit of column {name!r} did not converge ({point.message}); "
            "check the column for outliers"
        )
        if named:
            raise FitError(problem)
        return None, [*warnings, problem]
    N, D = runs.params[have], runs.tokens[have]
    chained = law.E + law.A / N**law.alpha + law.B / D**law.beta
    pred = point.a * 0.5 * (1 + np.tanh(0.5 * point.k * (chained - point.L0))) + point.b
    rmse_chained = float(np.sqrt(np.mean((pred - y) ** 2)))
    samples: tuple[Sample, ...] = ()
    if bootstrap:
        start = _pack(point.a, point.k, point.L0, point.b)
        weights = resample_weights(runs.n_kept, bootstrap, seed, groups)[:, have]
        rows = []
        for w in weights:
            if np.count_nonzero(w) < 2:  # too few distinct runs to move the fit
                rows.append((point.a, point.k, point.L0, point.b))
                continue
            rows.append(_unpack(_solve(L, y, w, start).theta))
        samples = tuple(rows)
    if point.k > 0:
        warnings.append(
            f"column {name!r} rises with the loss (k = {point.k:.3g} > 0): an error rate "
            "rather than an accuracy? The forecast assumes a metric that falls as loss rises"
        )
    return (
        AccuracyFit(
            name,
            point.a,
            point.k,
            point.L0,
            point.b,
            n,
            point.rmse,
            rmse_chained,
            True,
            point.message,
            runs.n_kept - n,
            samples,
        ),
        warnings,
    )
