"""How far to trust a fitted law: every budget held out in turn, and ordered cuts.

A law is used to extrapolate: fitted on small runs, it picks the size of a large one.
Holding out only the largest budget gives one number; this module gives two views:

- every budget held out in turn (leave one budget out): the law refitted on the other
  runs predicts the held-out runs' losses; RMSE and bias of log loss, with how far the
  budget lies outside the compute span of the runs fitted (in decades; 0 inside it);
- ordered cuts, the way a lab uses a law: fitted on the smallest budgets only, it
  predicts every larger one, for each cut point; error against decades extrapolated.

Budgets are groups of runs whose C agree within the fit's tolerance (as IsoFLOP budgets
are); a budget of fewer than MIN_BUDGET_RUNS runs joins its nearest neighbour in log C.
A grid design (sizes x token counts: few runs share a budget), or runs whose C scatter
into more than MAX_BUDGETS budgets, is cut into compute bands of about equal count
instead. More than AUDIT_POINTS points are audited on that many, evenly spread. The
refits themselves are the form's (`Refit`): this module only decides which runs each
fit sees and scores what it predicts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chinchilla_cli.isoflop import group_budgets

MIN_BUDGET_RUNS = 3  # a budget scored alone has at least this many runs
MIN_FIT_RUNS = 10  # a refit sees at least this many runs
MIN_FIT_BUDGETS = 2  # an ordered cut fits at least this many budgets
BAND_RUNS = 8  # compute bands: about this many runs each
MAX_BANDS = 8
MAX_BUDGETS = 40  # more budgets of 3+ runs than this (scattered C): compute bands instead
AUDIT_POINTS = 4096  # the audit refits at most this many points, evenly spread
DECADE_BIN = 0.5  # the ordered cuts' errors are shown in bins this many decades wide

# train masks (folds x points, True: fitted) -> predicted log loss (folds x points),
# a row of NaN where that refit failed
Refit = Callable[[np.ndarray], np.ndarray]
# (a refit's index among the masks given to the Refit, its train mask, the held-out mask)
# -> the share of held-out points inside a new run's prediction interval (None: unknown)
Coverage = Callable[[int, np.ndarray, np.ndarray], float | None]


@dataclass(frozen=True)
class BudgetError:
    """One budget's runs predicted by a law fitted without them.

    `decades` is how far the budget lies outside the compute span of the runs fitted:
    log10 of its C over the largest fitted C (positive: an extrapolation upwards), or of
    the smallest fitted C over it (negative: downwards); 0 inside the span. `bias` is
    the mean of log(predicted / observed): positive, the law predicts too high a loss.
    `coverage` is the share of its runs inside a new run's prediction interval, when
    that is computed (None otherwise)."""

    flops: float  # the budget's C (geometric mean of its runs')
    n_runs: int
    decades: float
    rmse_log_loss: float | None  # None: the refit failed
    bias_log_loss: float | None
    coverage: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "flops": self.flops,
            "n_runs": self.n_runs,
            "decades": self.decades,
            "rmse_log_loss": self.rmse_log_loss,
            "bias_log_loss": self.bias_log_loss,
            "coverage": self.coverage,
        }


@dataclass(frozen=True)
class OrderedCut:
    """A law fitted on the budgets up to `fitted_flops` and scored on each larger one."""

    fitted_flops: float  # the largest fitted budget's C
    n_fitted_budgets: int
    n_fitted_runs: int
    predicted: tuple[BudgetError, ...]  # each larger budget; decades beyond the cut
    rmse_log_loss: float | None  # over every predicted run
    bias_log_loss: float | None

    @property
    def max_decades(self) -> float:
        return max(p.decades for p in self.predicted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fitted_flops": self.fitted_flops,
            "n_fitted_budgets": self.n_fitted_budgets,
            "n_fitted_runs": self.n_fitted_runs,
            "max_decades": self.max_decades,
            "rmse_log_loss": self.rmse_log_loss,
            "bias_log_loss": self.bias_log_loss,
            "predicted": [p.to_dict() for p in self.predicted],
        }


@dataclass(frozen=True)
class DecadeBin:
    """The ordered cuts' predictions that reach between `low` and `high` decades beyond
    the runs fitted: how many (cut, budget) pairs and runs, their RMSE and bias."""

    low: float
    high: float
    n_pairs: int
    n_runs: int
    rmse_log_loss: float
    bias_log_loss: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "decades": [self.low, self.high],
            "n_pairs": self.n_pairs,
            "n_runs": self.n_runs,
            "rmse_log_loss": self.rmse_log_loss,
            "bias_log_loss": self.bias_log_loss,
        }


@dataclass(frozen=True)
class Audit:
    """Every budget held out in turn, and ordered cuts: how far to trust the law.

    `grouping` says what a budget is here ("budgets": runs sharing C within the fit's
    tolerance; "compute bands": a grid design cut into bands of about equal count);
    `held_out` each budget's error when fitted without it; `cuts` the ordered cuts;
    `refits` how each refit was started, in words."""

    form: str
    grouping: str
    held_out: tuple[BudgetError, ...]
    cuts: tuple[OrderedCut, ...]
    refits: str = ""
    notes: tuple[str, ...] = field(default=())
    coverage_level: float | None = None  # the new-run interval scored, when it was

    def coverage(self) -> float | None:
        """The share of every held-out budget's runs inside their new-run interval
        (`coverage_level`%), each budget weighted by its runs; None when not scored."""
        scored = [b for b in self.held_out if b.coverage is not None]
        n = sum(b.n_runs for b in scored)
        return sum(b.n_runs * (b.coverage or 0.0) for b in scored) / n if n else None

    @property
    def worst(self) -> BudgetError | None:
        """The held-out budget predicted worst (highest RMSE of log loss)."""
        scored = [b for b in self.held_out if b.rmse_log_loss is not None]
        return max(scored, key=lambda b: b.rmse_log_loss or 0.0) if scored else None

    @property
    def largest(self) -> BudgetError | None:
        return self.held_out[-1] if self.held_out else None

    def cut_rmse(self) -> float | None:
        """RMSE of log loss over every (cut, predicted budget) pair, each budget weighted
        by its runs: the one number `form` compare ranks the forms by."""
        sq, n = 0.0, 0
        for cut in self.cuts:
            for p in cut.predicted:
                if p.rmse_log_loss is None:
                    return None
                sq += p.n_runs * p.rmse_log_loss**2
                n += p.n_runs
        return math.sqrt(sq / n) if n else None

    def by_decades(self, width: float = DECADE_BIN) -> tuple[DecadeBin, ...]:
        """The ordered cuts' (cut, predicted budget) pairs binned by decades extrapolated:
        how the error grows with the distance a law is asked to reach."""
        pairs = [p for c in self.cuts for p in c.predicted if p.rmse_log_loss is not None]
        if not pairs:
            return ()
        top = max(p.decades for p in pairs)
        out = []
        for i in range(int(math.floor(top / width)) + 1):
            lo, hi = i * width, (i + 1) * width
            inside = [p for p in pairs if lo <= p.decades < hi or (i == 0 and p.decades < lo)]
            if not inside:
                continue
            n = sum(p.n_runs for p in inside)
            sq = sum(p.n_runs * (p.rmse_log_loss or 0.0) ** 2 for p in inside)
            bias = sum(p.n_runs * (p.bias_log_loss or 0.0) for p in inside) / n
            out.append(DecadeBin(lo, hi, len(inside), n, math.sqrt(sq / n), bias))
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        worst = self.worst
        return {
            "form": self.form,
            "grouping": self.grouping,
            "refits": self.refits,
            "worst": None if worst is None else worst.to_dict(),
            "held_out": [b.to_dict() for b in self.held_out],
            "ordered_cuts": [c.to_dict() for c in self.cuts],
            "ordered_cut_rmse_log_loss": self.cut_rmse(),
            "by_decades": [b.to_dict() for b in self.by_decades()],
            "notes": list(self.notes),
            "coverage_level": self.coverage_level,
            "coverage": self.coverage(),
        }


def budget_groups(
    flops: np.ndarray, tolerance: float, groups: np.ndarray | None = None
) -> tuple[np.ndarray, str] | None:
    """A group label per point, ordered by C, and what a group is ("budgets" or
    "compute bands"); None when there are too few runs for three groups. `groups` gives
    the run of each point when a run gives several: a run stays in one group, by its
    largest C."""
    unit = np.arange(len(flops)) if groups is None else np.asarray(groups)
    unit_flops = np.zeros(int(unit.max()) + 1)
    np.maximum.at(unit_flops, unit, flops)
    labels = group_budgets(unit_flops, tolerance)
    counts = np.bincount(labels)
    big = np.flatnonzero(counts >= MIN_BUDGET_RUNS)
    if 3 <= len(big) <= MAX_BUDGETS:
        centre = np.array([np.mean(np.log(unit_flops[labels == g])) for g in big])
        log_c = np.log(unit_flops)
        # each run joins the nearest (in log C) budget of MIN_BUDGET_RUNS runs or more
        nearest = np.argmin(np.abs(log_c[:, None] - centre[None, :]), axis=1)
        own = np.searchsorted(big, labels)
        is_big = np.isin(labels, big)
        return np.where(is_big, own, nearest)[unit], "budgets"
    n_bands = min(MAX_BANDS, len(unit_flops) // BAND_RUNS)
    if n_bands < 3:
        return None
    order = np.argsort(unit_flops, kind="stable")
    bands = np.empty(len(unit_flops), dtype=int)
    bands[order] = np.arange(len(unit_flops)) * n_bands // len(unit_flops)
    return bands[unit], "compute bands"


def spread_subset(n: int, limit: int = AUDIT_POINTS) -> np.ndarray | None:
    """Indices of at most `limit` of n points, evenly spread through them (None: all)."""
    if n <= limit:
        return None
    out: np.ndarray = np.linspace(0, n - 1, limit).round().astype(int)
    return out


def _score(
    pred: np.ndarray, log_loss: np.ndarray, pick: np.ndarray
) -> tuple[float | None, float | None]:
    err = pred[pick] - log_loss[pick]
    if not np.all(np.isfinite(err)):
        return None, None
    return float(np.sqrt(np.mean(err**2))), float(np.mean(err))


def _decades(c: float, fitted: np.ndarray) -> float:
    hi, lo = float(fitted.max()), float(fitted.min())
    if c > hi:
        return math.log10(c / hi)
    if c < lo:
        return -math.log10(lo / c)
    return 0.0


def audit_fit(
    form: str,
    flops: np.ndarray,
    log_loss: np.ndarray,
    refit: Refit,
    tolerance: float,
    groups: np.ndarray | None = None,
    refits: str = "",
    coverage: Coverage | None = None,
    coverage_level: float | None = None,
) -> Audit | str:
    """Hold every budget out in turn and make every ordered cut, refitting with `refit`
    (all folds in one call, so a batched engine fits them together); or, as a string,
    why the runs cannot be audited. `coverage`, when given, scores each held-out
    budget's runs against a new run's `coverage_level`% interval (`BudgetError.coverage`)."""
    found = budget_groups(flops, tolerance, groups)
    if found is None:
        return f"the runs make fewer than 3 budgets of {MIN_BUDGET_RUNS}+ runs to hold out"
    label, grouping = found
    unit = np.arange(len(flops)) if groups is None else np.asarray(groups)
    n_groups = int(label.max()) + 1
    centre = [float(np.exp(np.mean(np.log(flops[label == g])))) for g in range(n_groups)]
    runs_in = [len(np.unique(unit[label == g])) for g in range(n_groups)]
    masks, kinds = [], []
    for g in range(n_groups):  # leave one budget out
        if len(np.unique(unit[label != g])) >= MIN_FIT_RUNS:
            masks.append(label != g)
            kinds.append(("out", g))
    for k in range(MIN_FIT_BUDGETS, n_groups):  # fit on budgets 0..k-1, predict k..
        if len(np.unique(unit[label < k])) >= MIN_FIT_RUNS:
            masks.append(label < k)
            kinds.append(("cut", k))
    if not masks:
        return f"holding out a budget leaves fewer than {MIN_FIT_RUNS} runs to fit"
    pred = refit(np.array(masks))
    held: list[BudgetError] = []
    cuts: list[OrderedCut] = []
    for fold, (row, (kind, g)) in enumerate(zip(pred, kinds, strict=True)):
        if kind == "out":
            pick = label == g
            rmse, bias = _score(row, log_loss, pick)
            d = _decades(centre[g], flops[~pick])
            share = None
            if coverage is not None and rmse is not None:
                share = coverage(fold, ~pick, pick)
            held.append(BudgetError(centre[g], runs_in[g], d, rmse, bias, share))
            continue
        fitted = flops[label < g]
        predicted = []
        for j in range(g, n_groups):
            rmse, bias = _score(row, log_loss, label == j)
            predicted.append(
                BudgetError(centre[j], runs_in[j], _decades(centre[j], fitted), rmse, bias)
            )
        rmse, bias = _score(row, log_loss, label >= g)
        cuts.append(
            OrderedCut(
                centre[g - 1], g, len(np.unique(unit[label < g])), tuple(predicted), rmse, bias
            )
        )
    level = coverage_level if coverage is not None else None
    return Audit(form, grouping, tuple(held), tuple(cuts), refits, coverage_level=level)
