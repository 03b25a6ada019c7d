"""Interventions compared: a baseline's runs and a variant's (a new architecture, data
mix, optimiser...), each fitted with Approach 3, and what the change is worth in compute.

The effective compute multiplier at a budget C is C_base(L*_variant(C)) / C: the least
compute the baseline needs to reach the loss the variant reaches compute-optimally with
C, over C. Above 1 the variant is worth that many times its compute; below 1 it costs.
Along a parametric law's frontier L*(C) = E + K (C/6)^-g (g = alpha beta / (alpha +
beta); see laws.ParametricLaw.flops_for_loss), so both the multiplier and the crossover
compute (where the multiplier crosses 1: the frontiers meet) are closed forms evaluated
for every bootstrap resample at once. A variant loss at or below the baseline's E is
out of the baseline's reach at any compute: the multiplier is unbounded (None).

One E shared by the groups (`shared` "E": a change to the model should not move the
entropy of text) fits them jointly (shared_e.shared_e_from); the multipliers then come
from the shared-E laws, and the report says what sharing costs: the joint objective
against the separate fits', and each group's held-out error (its largest budget, as the
fit's extrapolation check holds out) under both.

Prior art: the OLMo model ladder's laws (effective compute multiplier, crossover compute,
a fit with E shared across ladders).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from chinchilla_cli.errors import FitError, InputError
from chinchilla_cli.fit_engine import fit_runs, held_out_points
from chinchilla_cli.fit_options import FitOptions
from chinchilla_cli.fit_results import (
    Crossover,
    FitReport,
    HeldOutPair,
    MultiplierPoint,
    SharedE,
    VariantComparison,
)
from chinchilla_cli.fit_results import Intervention as Intervention
from chinchilla_cli.groups import Group, Sources, read_files, read_groups
from chinchilla_cli.laws import FLOPS_PER_PARAM_TOKEN, ParametricLaw, frontier_scale
from chinchilla_cli.names import match
from chinchilla_cli.objective import LogRuns
from chinchilla_cli.quantity import parse_budgets, require, sci
from chinchilla_cli.read_options import ReadOptions
from chinchilla_cli.resampling import run_groups
from chinchilla_cli.shared_e import bootstrap_shared_e, refit_shared_e, shared_e_from

if TYPE_CHECKING:
    from chinchilla_cli.runs import Runs

SHARED_PARAMETERS = ("E",)  # what `shared` accepts
SEARCH_FLOPS = (1e15, 1e30)  # the crossover is searched here (widened to the data)
BEYOND = (10.0, 100.0)  # default budgets: the data's span, then these times its largest run
SEARCH_POINTS_PER_DECADE = 40
EDGE = 0.005  # a budget within this (relative) of the data's end is in the data


# ---- the arithmetic: frontiers, multipliers, crossovers, for many laws at once ----------


def _frontier_terms(params: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(E, K, g) of rows (E, A, B, alpha, beta): L*(C) = E + K (C/6)^-g."""
    p = np.asarray(params, dtype=float)
    E, A, B, alpha, beta = (p[..., i] for i in range(5))
    g = alpha * beta / (alpha + beta)
    G = frontier_scale(A, B, alpha, beta)
    K = A * G**-alpha + B * G**beta
    return E, K, g


def _as_rows(law: ParametricLaw | Any) -> np.ndarray:
    if isinstance(law, ParametricLaw):
        return np.array([law.E, law.A, law.B, law.alpha, law.beta])
    return np.asarray(law, dtype=float)


def frontier_losses(law: ParametricLaw | Any, flops: Any) -> np.ndarray:
    """L*(C) at each of `flops` for a law, or for rows (E, A, B, alpha, beta) of any
    leading shape (the result gains a last axis over `flops`)."""
    E, K, g = _frontier_terms(_as_rows(law))
    x = np.asarray(flops, dtype=float) / FLOPS_PER_PARAM_TOKEN
    with np.errstate(over="ignore", under="ignore"):
        return np.asarray(E[..., None] + K[..., None] * x ** -g[..., None])


def multipliers(
    baseline: ParametricLaw | Any, variant: ParametricLaw | Any, flops: Any
) -> np.ndarray:
    """The effective compute multiplier C_base(L*_variant(C)) / C at each of `flops`, for
    two laws or for matching rows (E, A, B, alpha, beta) of bootstrap samples; inf where
    the variant's loss is at or below the baseline's E (no compute of the baseline
    reaches it)."""
    b, v = _as_rows(baseline), _as_rows(variant)
    Eb, Kb, gb = _frontier_terms(b)
    lv = frontier_losses(v, flops)
    gap = lv - Eb[..., None]
    c = np.asarray(flops, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_m = (
            math.log(FLOPS_PER_PARAM_TOKEN)
            + (np.log(Kb)[..., None] - np.log(gap)) / gb[..., None]
            - np.log(c)
        )
        m = np.exp(log_m)
    return np.asarray(np.where(gap > 0, m, np.inf))


def _gap(base: np.ndarray, variant: np.ndarray, log_c: np.ndarray) -> np.ndarray:
    """log L*_variant - log L*_baseline at log C (> 0: the baseline ahead), for rows of
    laws (S, 5) and log C of shape (S, m) or (1, m)."""
    Eb, Kb, gb = (x[:, None] for x in _frontier_terms(base))
    Ev, Kv, gv = (x[:, None] for x in _frontier_terms(variant))
    lx = log_c - math.log(FLOPS_PER_PARAM_TOKEN)
    with np.errstate(over="ignore", under="ignore"):
        return np.asarray(np.log(Ev + Kv * np.exp(-gv * lx)) - np.log(Eb + Kb * np.exp(-gb * lx)))


def _grid(search: tuple[float, float]) -> np.ndarray:
    lo, hi = math.log(search[0]), math.log(search[1])
    n = max(2, int(SEARCH_POINTS_PER_DECADE * (hi - lo) / math.log(10.0)) + 1)
    return np.linspace(lo, hi, n)


def _refine(base: np.ndarray, variant: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Bisection in log C, row by row, of brackets [lo, hi] where the gap changes sign."""
    f_lo = _gap(base, variant, lo[:, None])[:, 0]
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        f_mid = _gap(base, variant, mid[:, None])[:, 0]
        same = np.sign(f_mid) == np.sign(f_lo)
        lo, f_lo, hi = np.where(same, mid, lo), np.where(same, f_mid, f_lo), np.where(same, hi, mid)
    return np.asarray(np.exp(0.5 * (lo + hi)))


def crossover_flops(
    baseline: ParametricLaw | Any, variant: ParametricLaw | Any, search: tuple[float, float]
) -> list[tuple[float, str]]:
    """Every C in `search` where the two frontiers meet (the multiplier crosses 1), with
    the group ahead just above it ("baseline" or "variant"), ascending."""
    b, v = _as_rows(baseline)[None, :], _as_rows(variant)[None, :]
    grid = _grid(search)
    gap = _gap(b, v, grid[None, :])[0]
    found = np.flatnonzero(np.sign(gap[:-1]) * np.sign(gap[1:]) < 0)
    if not len(found):
        return []
    rows = np.repeat(b, len(found), axis=0), np.repeat(v, len(found), axis=0)
    at = _refine(*rows, grid[found], grid[found + 1])
    return [
        (float(c), "baseline" if gap[i + 1] > 0 else "variant")
        for c, i in zip(at, found, strict=True)
    ]


def sample_crossovers(
    baseline: np.ndarray, variant: np.ndarray, search: tuple[float, float], near: float | None
) -> np.ndarray:
    """Each resample's crossover in `search` (the one nearest `near` in log C when there
    are several, else the first), NaN where its frontiers do not meet there."""
    grid = _grid(search)
    gap = _gap(baseline, variant, grid[None, :])
    change = np.sign(gap[:, :-1]) * np.sign(gap[:, 1:]) < 0
    out = np.full(len(baseline), np.nan)
    has = change.any(axis=1)
    if not has.any():
        return out
    if near is None:
        pick = np.argmax(change, axis=1)
    else:
        distance = np.where(change, np.abs(grid[:-1] - math.log(near))[None, :], np.inf)
        pick = np.argmin(distance, axis=1)
    rows = np.flatnonzero(has)
    out[rows] = _refine(baseline[rows], variant[rows], grid[pick[rows]], grid[pick[rows] + 1])
    return out


def _percentile(values: np.ndarray, q: float) -> float | None:
    """numpy's linear percentile, None when it reaches an unbounded (inf) value."""
    v = np.sort(np.where(np.isnan(values), np.inf, values))
    pos = (len(v) - 1) * q / 100.0
    i, j = math.floor(pos), math.ceil(pos)
    if not math.isfinite(v[j]):
        return None
    return float(v[i] + (v[j] - v[i]) * (pos - i))


def _interval(values: np.ndarray, ci_level: float) -> tuple[float | None, float | None]:
    tail = (100.0 - ci_level) / 2
    return _percentile(values, tail), _percentile(values, 100.0 - tail)


def default_budgets(spans: Sequence[tuple[float, float]]) -> tuple[float, ...]:
    """The data's smallest and largest C (over every group), their geometric midpoint,
    and BEYOND times the largest, each to three significant figures."""
    lo = min(s[0] for s in spans)
    hi = max(s[1] for s in spans)
    raw = (lo, math.sqrt(lo * hi), hi, *(hi * f for f in BEYOND))
    return tuple(sorted({float(f"{c:.3g}") for c in raw}))


# ---- reading the groups ----------------------------------------------------------------


# ---- the comparison ----------------------------------------------------------------------


def _stage(
    progress: Callable[[int], None] | None, index: int, stages: int, total: int
) -> Callable[[int], None] | None:
    """Stage `index` of `stages` bootstraps of `total` resamples, reported on one scale."""
    if progress is None:
        return None
    report = progress

    def advance(done: int) -> None:
        report((index * total + done) // stages)

    return advance


def _units(group: Group) -> np.ndarray | None:
    """The run of each point when a training log keeps several per run (else None)."""
    log, runs = group.log, group.runs
    if log is None or log.n_points <= log.n_runs:
        return None
    kept = log.run_index if runs.rows_kept is None else log.run_index[runs.rows_kept]
    return run_groups(kept)


def _span(runs: Runs) -> tuple[float, float]:
    return float(runs.flops.min()), float(runs.flops.max())


def _budgets(budgets: str | Sequence[float] | None) -> tuple[float, ...] | None:
    if budgets is None:
        return None
    if isinstance(budgets, str):
        return parse_budgets(budgets, "budgets")
    try:
        values = [float(b) for b in budgets]
    except (TypeError, ValueError):
        raise InputError(
            f"{budgets!r} is not a list of FLOP budgets; give numbers or a string such as "
            "1e20:1e24:5",
            field="budgets",
        ) from None
    if not values:
        raise InputError("no budgets; give at least one", field="budgets")
    for v in values:
        require(v, "budgets")
    return tuple(sorted(set(values)))


def check_arguments(
    *,
    vs: Any,
    group: str | None,
    baseline: str | None,
    shared: str | None,
    budgets: Any,
    approach: str,
    constrained: bool,
    exhaustive: bool,
) -> None:
    """Refuse the comparison's arguments where they make no sense, in one line each."""
    comparing = vs is not None or group is not None
    if vs is not None and group is not None:
        raise InputError(
            "give the variant's runs as `vs` or as groups of one table with `group`, not both",
            field="group",
        )
    if baseline is not None and group is None:
        raise InputError(
            "names the baseline among the values of `group`; give `group`", field="baseline"
        )
    for name, value in (("shared", shared), ("budgets", budgets)):
        if value is not None and not comparing:
            raise InputError(
                "applies when comparing groups of runs; give `vs` or `group`", field=name
            )
    if not comparing:
        return
    if approach == "isoflop":
        raise InputError(
            "the compute multiplier needs the loss Approach 3 predicts; use `approach` "
            "parametric or both with `vs` or `group`",
            field="approach",
        )
    if shared is not None:
        if match(str(shared).strip(), SHARED_PARAMETERS) is None:
            raise InputError(
                f"cannot share {shared!r}; accepted: {', '.join(SHARED_PARAMETERS)} (the "
                "irreducible loss, which a change to the model should not move)",
                field="shared",
            )
        if constrained or exhaustive:
            raise InputError(
                "the shared-E fit takes no `fix`, `tie` or `exhaustive`; drop them or `shared`",
                field="shared",
            )
    if group is not None and not str(group).strip():
        raise InputError("empty; name the column that holds each run's group", field="group")


def compare_groups(
    runs: Sources,
    *,
    vs: Sources | Sequence[Sources] | None,
    group: str | None,
    baseline: str | None,
    shared: str | None,
    budgets: str | Sequence[float] | None,
    read_options: ReadOptions,
    fit_options: FitOptions,
    progress: Callable[[int], None] | None = None,
) -> FitReport:
    """Read and fit each group, then compare every variant with the baseline; the
    baseline's FitReport carrying the `intervention`. See `fitting.fit`."""

    planned = _budgets(budgets)
    if group is not None:
        groups = read_groups(runs, group, baseline, read_options)
    else:
        assert vs is not None
        single = isinstance(vs, (str, Path, Mapping)) or hasattr(vs, "keys")
        if not single and not isinstance(vs, (list, tuple)):
            raise InputError(
                f"the variant runs are a path, a table or records, or a list of them; got "
                f"{type(vs).__name__}",
                field="vs",
            )
        others: list[Sources] = [vs] if single else list(vs)  # type: ignore[list-item,arg-type]
        if not others:
            raise InputError("no variant runs; give at least one", field="vs")
        groups = read_files(runs, others, read_options)
    return _compare_groups(groups, group, planned, shared, fit_options, progress)


def _compare_groups(
    groups: Sequence[Group],
    group: str | None,
    planned: tuple[float, ...] | None,
    shared: str | None,
    fit_options: FitOptions,
    progress: Callable[[int], None] | None,
) -> FitReport:
    """Fit every group read (each with its own seed), then compare each variant with
    the baseline, the first group."""
    resamples, seed = fit_options.bootstrap, fit_options.seed
    stages = len(groups) + (1 if shared is not None and resamples else 0)
    reports = []
    for i, g in enumerate(groups):
        options = replace(fit_options, seed=seed + i)
        reports.append(
            fit_runs(g.runs, options, log=g.log, progress=_stage(progress, i, stages, resamples))
        )
    labels = tuple(g.label for g in groups)
    ci_level = fit_options.ci_level
    shared_e = None
    if shared is not None:
        shared_e, shared_samples = _shared(
            groups,
            reports,
            labels,
            fit_options,
            _stage(progress, stages - 1, stages, resamples),
        )
        laws, samples = list(shared_e.fit.laws), shared_samples
    else:
        laws, samples = _own_laws(reports)
    spans = [_span(g.runs) for g in groups]
    points = planned if planned is not None else default_budgets(spans)
    largest = max(s[1] for s in spans)
    search = (
        min(SEARCH_FLOPS[0], min(s[0] for s in spans) / 10),
        max(SEARCH_FLOPS[1], max(points) * 10),
    )
    warnings: list[str] = []
    variants = []
    for i in range(1, len(groups)):
        both = (max(spans[0][0], spans[i][0]), min(spans[0][1], spans[i][1]))
        covered = both if both[0] <= both[1] else None
        variants.append(
            _compare(
                labels[i],
                reports[i],
                laws[0],
                laws[i],
                None if samples is None else samples[:, 0],
                None if samples is None else samples[:, i],
                points,
                covered,
                largest,
                search,
                ci_level,
            )
        )
        warnings += _variant_warnings(variants[-1], reports[0], laws[0])
    if shared_e is not None and not shared_e.fit.converged:
        warnings.append("the shared-E fit did not converge; its numbers are unreliable")
    intervention = Intervention(
        labels[0],
        group,
        laws[0],
        tuple(variants),
        planned is not None,
        search,
        shared_e,
        ci_level,
        resamples,
        seed,
        tuple(warnings),
        baseline_report=reports[0],
    )
    return replace(reports[0], intervention=intervention)


def _own_laws(reports: Sequence[FitReport]) -> tuple[list[ParametricLaw], np.ndarray | None]:
    """Each group's own law, and the resamples of all as (resamples, groups, 5)."""
    laws = []
    for r in reports:
        assert r.parametric is not None
        laws.append(r.parametric.law)
    if reports[0].samples is None:
        return laws, None
    return laws, np.stack([np.asarray(r.samples) for r in reports], axis=1)


def _variant_warnings(
    variant: VariantComparison, baseline: FitReport, base_law: ParametricLaw
) -> list[str]:
    """The variant's own fit's warnings the baseline's report does not say already, and
    the budgets where its multiplier is unbounded."""
    label = variant.label
    out = [f"{label}: {w}" for w in variant.report.warnings if w not in baseline.warnings]
    unbounded = [p.flops for p in variant.points if p.multiplier is None]
    if unbounded:
        out.append(
            f"{label}: at {', '.join(sci(c) for c in unbounded)} FLOPs the variant's "
            f"loss is at or below the baseline's E ({base_law.E:.4f}): no compute of the "
            "baseline reaches it (the multiplier is unbounded)"
        )
    return out


def _compare(
    label: str,
    report: FitReport,
    base_law: ParametricLaw,
    law: ParametricLaw,
    base_samples: np.ndarray | None,
    samples: np.ndarray | None,
    budgets: Sequence[float],
    covered: tuple[float, float] | None,
    largest: float,
    search: tuple[float, float],
    ci_level: float,
) -> VariantComparison:
    c = np.asarray(budgets, dtype=float)
    m = multipliers(base_law, law, c)
    lb = frontier_losses(base_law, c)
    lv = frontier_losses(law, c)
    ms = None if samples is None or base_samples is None else multipliers(base_samples, samples, c)

    def inside(x: float) -> bool:
        return covered is not None and covered[0] * (1 - EDGE) <= x <= covered[1] * (1 + EDGE)

    points = tuple(
        MultiplierPoint(
            float(c[j]),
            float(lb[j]),
            float(lv[j]),
            float(m[j]) if math.isfinite(m[j]) else None,
            None if ms is None else _interval(ms[:, j], ci_level),
            inside(float(c[j])),
            float(c[j]) / largest,
        )
        for j in range(len(c))
    )
    found = crossover_flops(base_law, law, search)
    crossovers = tuple(Crossover(x, inside(x), ahead) for x, ahead in found)
    interval = share = None
    if samples is not None and base_samples is not None:
        at = sample_crossovers(base_samples, samples, search, found[0][0] if found else None)
        share = float(np.mean(np.isfinite(at)))
        if share > 0:
            interval = _interval(at[np.isfinite(at)], ci_level)
    both = None if samples is None or base_samples is None else (base_samples, samples)
    return VariantComparison(label, report, law, covered, points, crossovers, interval, share, both)


def _shared(
    groups: Sequence[Group],
    reports: Sequence[FitReport],
    labels: tuple[str, ...],
    fit_options: FitOptions,
    progress: Callable[[int], None] | None,
) -> tuple[SharedE, np.ndarray | None]:
    """One E for every group: the joint fit, its bootstrap, and each group's held-out
    error alone and shared (the runs the fit's extrapolation check holds out)."""
    resamples = fit_options.bootstrap
    fits = []
    for r in reports:
        assert r.parametric is not None
        fits.append(r.parametric)
    runs = [g.runs for g in groups]
    units = [_units(g) for g in groups]
    joint = shared_e_from(fits, runs, names=labels)
    samples = None
    e_interval = None
    if resamples:
        samples = bootstrap_shared_e(joint, runs, resamples, fit_options.seed, progress, units)
        e_interval = _interval(samples[:, 0, 0], fit_options.ci_level)
    tolerance = fit_options.flops_tolerance
    held = [held_out_points(r, tolerance, u) for r, u in zip(runs, units, strict=True)]
    pairs: list[HeldOutPair] = []
    note = ""
    missing = [
        labels[i] for i, h in enumerate(held) if h is None or reports[i].extrapolation is None
    ]
    if missing:
        note = (
            f"no held-out comparison: {', '.join(missing)} would keep fewer than 10 runs "
            "to fit without its largest"
        )
    else:
        trains = []
        for table, h in zip(runs, held, strict=True):
            assert h is not None
            top = h[0]
            trains.append(LogRuns.of(table.params[~top], table.tokens[~top], table.loss[~top]))
        try:
            refitted = refit_shared_e(joint, trains)
        except FitError as e:
            note = f"no held-out comparison: {e.message}"
        else:
            for i, (table, h, law) in enumerate(zip(runs, held, refitted, strict=True)):
                assert h is not None
                top, words, _ = h
                n, d = table.params[top], table.tokens[top]
                pred = np.log(law.E + law.A / n**law.alpha + law.B / d**law.beta)
                err = pred - np.log(table.loss[top])
                ext = reports[i].extrapolation
                assert ext is not None
                pairs.append(
                    HeldOutPair(
                        labels[i],
                        words,
                        int(top.sum()),
                        ext.rmse_log_loss,
                        float(np.sqrt(np.mean(err**2))),
                    )
                )
    return SharedE(joint, labels, tuple(pairs), note, e_interval), samples
