"""One set of resolved runs fitted: the engine under `fitting.fit` and under the
comparison of interventions (which fits each group with it).

`fit_runs` takes runs already read and filtered (runs.Runs), fits them as `FitOptions`
say (Approach 3, Approach 2 or both; the bootstrap; the accuracy forecast of a task
metric), checks the law by holding out its largest budget, and gathers the warnings a
user should read (a narrow sweep, an optimum on the grid's edge, E above the lowest
loss, too few resamples, budgets far beyond the runs) into a `FitReport`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from chinchilla_cli import refits
from chinchilla_cli.accuracy_fit import fit_runs_accuracy
from chinchilla_cli.approach3 import ParametricFit, bootstrap_parametric, fit_parametric
from chinchilla_cli.audit import Audit, audit_fit, spread_subset
from chinchilla_cli.errors import FitError, InputError
from chinchilla_cli.fit_options import DEFAULT_FIT, FitOptions
from chinchilla_cli.fit_results import REPORT_BUDGETS, Extrapolation, FitReport
from chinchilla_cli.form_compare import FormComparison, compare_forms
from chinchilla_cli.forms import REFIT_WORDS as FORM_REFIT_WORDS
from chinchilla_cli.forms import FormFit, fit_form
from chinchilla_cli.forms import refitter as form_refitter
from chinchilla_cli.heldout import ApproachComparison, compare_approaches
from chinchilla_cli.isoflop import IsoflopFit, bootstrap_isoflop, fit_isoflop, group_budgets
from chinchilla_cli.laws import EXTRAPOLATION_FACTOR
from chinchilla_cli.objective import LogRuns, law_from_theta
from chinchilla_cli.quantity import human, sci, times
from chinchilla_cli.resampling import bootstrap_parametric_by_run, run_groups
from chinchilla_cli.runs import Runs

if TYPE_CHECKING:
    from chinchilla_cli.logs import TrainingLog


def fit_runs(
    runs: Runs,
    options: FitOptions = DEFAULT_FIT,
    *,
    progress: Callable[[int], None] | None = None,
    log: TrainingLog | None = None,
) -> FitReport:
    """Fit resolved runs as `options` say (see `fitting.fit` for the entry point that
    reads them). `log` is the training log they were reduced from: its warnings join the
    report's, and when a run gives several points (`reduce` none) the bootstrap resamples
    runs, not rows. A task metric in the runs (runs.metric) gets its accuracy forecast
    (accuracy.fit_runs_accuracy); `options.metric_col`, the column the caller named,
    makes a metric that cannot be fitted an error rather than a warning. `progress(done)`
    is called as resamples finish."""
    groups = None
    if log is not None and log.n_points > log.n_runs:  # several points per run
        kept = log.run_index if runs.rows_kept is None else log.run_index[runs.rows_kept]
        groups = run_groups(kept)
    if options.approach == "isoflop":
        return _isoflop_report(runs, options, progress, log, groups)
    if options.form in ("kaplan", "coupled"):
        return form_report(runs, options, log, groups)
    fit = fit_parametric(
        runs.params,
        runs.tokens,
        runs.loss,
        delta=options.huber_delta,
        exhaustive=options.exhaustive,
        constraints=options.constraints,
    )
    if not fit.converged:  # before the bootstrap: resampling a failed fit is wasted time
        raise FitError(
            f"the fit did not converge ({fit.message}); check the runs "
            "for outliers or try another `huber_delta`"
        )
    named = options.metric_col is not None
    # before the law's bootstrap: a named metric that cannot be fitted fails fast
    accuracy, more = fit_runs_accuracy(
        runs, fit.law, named=named, bootstrap=options.bootstrap, seed=options.seed, groups=groups
    )
    samples = _parametric_samples(runs, fit, options, groups, progress)
    warnings = [*(log.warnings if log is not None else ()), *runs.warnings]
    warnings += diagnostics(runs, fit)
    warnings += _sampling_warnings(runs, options.bootstrap, options.ci_level)
    warnings += more
    extrap = extrapolation_error(runs, fit, options.flops_tolerance, groups)
    beside: IsoflopFit | None = None
    comparison: ApproachComparison | None = None
    if options.approach == "both":
        beside, comparison, more = _both(runs, fit, options.flops_tolerance, groups is not None)
        warnings += more
    found = _audit(runs, fit, options, groups)
    if options.form == "compare":
        forms, chosen, found, more = compare_forms(
            runs, fit, REPORT_BUDGETS, options.flops_tolerance, groups, options.ci_level
        )
        warnings += more
        if chosen is not None:  # another form extrapolates better: it is the report's law
            return form_report(runs, options, log, groups, chosen, found, forms)
    else:
        forms = None
    return FitReport(
        options.approach,
        runs,
        fit,
        beside,
        samples,
        options.ci_level,
        options.seed,
        extrap,
        tuple(warnings),
        options.flops_tolerance,
        log=log,
        comparison=comparison,
        accuracy=accuracy,
        audit=found,
        forms=forms,
    )


def _audit(
    runs: Runs, fit: ParametricFit, options: FitOptions, groups: np.ndarray | None
) -> Audit | None:
    """Chinchilla's law audited (every budget held out, ordered cuts), if asked and able."""
    if not options.audit or options.form == "compare":  # compare audits every form itself
        return None
    log_runs, flops, groups = audit_points(runs, groups)
    refit = refits.refitter(fit, log_runs)
    found = audit_fit(
        "chinchilla",
        flops,
        log_runs.log_loss,
        refit,
        options.flops_tolerance,
        groups,
        refits.REFIT_WORDS,
        coverage=refit.coverage(options.ci_level, groups),
        coverage_level=options.ci_level,
    )
    return found if isinstance(found, Audit) else None


def audit_points(
    runs: Runs, groups: np.ndarray | None
) -> tuple[LogRuns, np.ndarray, np.ndarray | None]:
    """The points the audit refits: every one, or AUDIT_POINTS evenly spread."""
    log_runs = LogRuns.of(runs.params, runs.tokens, runs.loss)
    idx = spread_subset(len(runs.loss))
    if idx is None:
        return log_runs, runs.flops, groups
    return log_runs.subset(idx), runs.flops[idx], None if groups is None else groups[idx]


def form_report(
    runs: Runs,
    options: FitOptions,
    log: TrainingLog | None,
    groups: np.ndarray | None,
    fitted: FormFit | None = None,
    found: Audit | None = None,
    forms: FormComparison | None = None,
) -> FitReport:
    """A kaplan or coupled law (forms.py) in place of Chinchilla's: fitted (unless
    `fitted`), audited (unless `found`), with its error on the largest budget."""
    f = fitted or fit_form(
        options.form, runs.params, runs.tokens, runs.loss, options.huber_delta, options.irreducible
    )
    log_runs = LogRuns.of(runs.params, runs.tokens, runs.loss)
    refit = form_refitter(f, log_runs)
    if found is None and options.audit:
        sub, flops, sub_groups = audit_points(runs, groups)
        audited = audit_fit(
            f.form,
            flops,
            sub.log_loss,
            form_refitter(f, sub),
            options.flops_tolerance,
            sub_groups,
            FORM_REFIT_WORDS,
        )
        found = audited if isinstance(audited, Audit) else None
    named = options.metric_col is not None
    accuracy, more = fit_runs_accuracy(runs, None, named=named)
    warnings = [*(log.warnings if log is not None else ()), *diagnostics(runs, None)]
    warnings += _sampling_warnings(runs, 0, options.ci_level) + more
    if not f.converged:
        warnings.append(f"the {f.form} form's fit did not converge; its law may not be the optimum")
    extrap = None
    held = held_out_points(runs, options.flops_tolerance, groups)
    if held is not None:
        top, words, by_budget = held
        log_pred = refit(np.array([~top]))[0][top]
        err = log_pred - log_runs.log_loss[top]
        if np.all(np.isfinite(err)):
            pred = np.exp(log_pred)
            extrap = Extrapolation(
                float(np.exp(np.mean(np.log(runs.flops[top])))),
                int(top.sum()),
                float(np.sqrt(np.mean(err**2))),
                float(np.mean(np.abs(pred - runs.loss[top]))),
                words,
                by_budget,
            )
    return FitReport(
        "parametric",
        runs,
        None,
        None,
        None,
        options.ci_level,
        options.seed,
        extrap,
        tuple(warnings),
        options.flops_tolerance,
        log=log,
        accuracy=accuracy,
        audit=found,
        form_fit=f,
        forms=forms,
    )


def _parametric_samples(
    runs: Runs,
    fit: ParametricFit,
    options: FitOptions,
    groups: np.ndarray | None,
    progress: Callable[[int], None] | None,
) -> np.ndarray | None:
    """The law's bootstrap refits: runs drawn whole when a run gives several points."""
    n, seed = options.bootstrap, options.seed
    if not n:
        return None
    if groups is not None:
        return bootstrap_parametric_by_run(
            fit, runs.params, runs.tokens, runs.loss, groups, n, seed, progress
        )
    return bootstrap_parametric(fit, runs.params, runs.tokens, runs.loss, n, seed, progress)


def _isoflop_report(
    runs: Runs,
    options: FitOptions,
    progress: Callable[[int], None] | None,
    log: TrainingLog | None,
    groups: np.ndarray | None,
) -> FitReport:
    """Approach 2 alone: parabolas per budget, the power laws through their minima."""
    if groups is not None:
        raise InputError(
            "keeps several points per run; the IsoFLOP fit needs one per run (the "
            "default, last, or min, or mean-last K)",
            field="reduce",
        )
    # no loss law to chain a metric to: refused if named, before the work
    no_forecast = fit_runs_accuracy(runs, None, named=options.metric_col is not None)[1]
    tolerance = options.flops_tolerance
    iso = fit_isoflop(runs.params, runs.flops, runs.loss, tolerance)
    samples = None
    if options.bootstrap:
        samples = bootstrap_isoflop(
            runs.params,
            runs.flops,
            runs.loss,
            options.bootstrap,
            tolerance,
            options.seed,
            progress,
        )
    warnings = (
        *(log.warnings if log is not None else ()),
        *runs.warnings,
        *diagnostics(runs, None),
        *_sampling_warnings(runs, options.bootstrap, options.ci_level),
        *iso.warnings,
        *no_forecast,
    )
    return FitReport(
        "isoflop",
        runs,
        None,
        iso,
        samples,
        options.ci_level,
        options.seed,
        None,
        tuple(warnings),
        tolerance,
        log=log,
    )


def diagnostics(runs: Runs, fit: ParametricFit | None) -> list[str]:
    """What the runs and the fit say of the law's trustworthiness: a sweep spanning
    less than a decade, an optimum on the grid's edge, E above the lowest loss."""
    out = []
    for label, values, exponent in (("N", runs.params, "alpha"), ("D", runs.tokens, "beta")):
        span = float(values.max() / values.min())
        if span < 10:
            tied = fit is not None and ("alpha", "beta") in fit.constraints.tied
            out.append(
                f"{label} spans only {span:.1f}x (less than a decade): {exponent} is poorly "
                "determined and alpha and beta are not separable; widen the sweep"
                + ("" if tied else ", or fit them as one exponent with `tie` alpha=beta")
            )
    if fit is not None:
        edge = fit.beyond_grid()
        if edge:
            out.append(
                "the optimum lies on or beyond the boundary of the paper's initialisation "
                f"grid ({'; '.join(edge)}); the fit may be degenerate or need a wider grid"
            )
        if fit.law.E > float(runs.loss.min()):
            out.append(
                f"the fitted E = {fit.law.E:.4f} exceeds the lowest observed loss "
                f"{float(runs.loss.min()):.4f}: the irreducible loss is overestimated"
                + _drop_smallest(runs)
            )
    return out


def _drop_smallest(runs: Runs) -> str:
    """What to try when E comes out too high: the smallest models often bend the fit
    (they sit off the power law), so suggest the `min_params` that drops them."""
    sizes = np.unique(runs.params)
    above = sizes[sizes >= 2 * sizes[0]]  # the next size up, or the first one 2x larger
    if len(above) < 3:  # fewer than three sizes would be left
        return ""
    cut = float(above[0])
    dropped = int(np.count_nonzero(runs.params < cut))
    return (
        f"; try dropping the smallest models with `min_params` {sci(cut)} "
        f"({dropped} run{'s' if dropped != 1 else ''} below {human(cut)})"
    )


def _sampling_warnings(runs: Runs, bootstrap: int, ci_level: float) -> list[str]:
    """Intervals from too few resamples, and reported budgets far beyond the runs."""
    out = []
    needed = math.ceil(2 / (1 - ci_level / 100))  # one resample in each tail, at least
    if 0 < bootstrap < needed:
        out.append(
            f"{bootstrap} resamples leave the {ci_level:g}% interval's tails with less than "
            f"one resample each; use `bootstrap` {needed} or more"
        )
    largest = float(runs.flops.max())
    far = [c for c in REPORT_BUDGETS if c > largest * EXTRAPOLATION_FACTOR]
    if far:
        out.append(
            "the tokens per parameter at "
            + ", ".join(sci(c) for c in far)
            + f" FLOPs extrapolate {times(far[0] / largest)} or more beyond the largest run "
            f"({sci(largest)} FLOPs)"
        )
    return out


HOLD_OUT_MIN_RUNS = 3
HOLD_OUT_FRACTION = 0.2  # on a grid design: the runs with the most compute, this share


def extrapolation_error(
    runs: Runs, fit: ParametricFit, tolerance: float, groups: np.ndarray | None = None
) -> Extrapolation | None:
    """Hold out the largest budget (grouped as IsoFLOP budgets are, with at least
    HOLD_OUT_MIN_RUNS runs, and every larger run with it), refit, predict it.

    A grid design (sizes x token counts) gives few runs the same budget: then the runs
    with the most compute are held out instead (the top HOLD_OUT_FRACTION by C, at least
    HOLD_OUT_MIN_RUNS). `groups` gives the run of each point when a run gives several
    (a training log's checkpoints): whole runs are held out, by their largest C."""
    found = held_out_points(runs, tolerance, groups)
    if found is None:
        return None
    top, words, by_budget = found
    train = LogRuns.of(runs.params[~top], runs.tokens[~top], runs.loss[~top])
    law = law_from_theta(fit.refit(train).theta)  # same constraints, warm-started
    pred = np.array(
        [law.loss(n, d).total for n, d in zip(runs.params[top], runs.tokens[top], strict=True)]
    )
    err = np.log(pred) - np.log(runs.loss[top])
    return Extrapolation(
        float(np.exp(np.mean(np.log(runs.flops[top])))),
        int(top.sum()),
        float(np.sqrt(np.mean(err**2))),
        float(np.mean(np.abs(pred - runs.loss[top]))),
        words,
        by_budget,
    )


def held_out_points(
    runs: Runs, tolerance: float, groups: np.ndarray | None = None
) -> tuple[np.ndarray, str, bool] | None:
    """The points `extrapolation_error` holds out (a mask), which they are in words, and
    whether they are the largest budget (else the runs with the most compute); None when
    fewer than 10 runs would be left to fit."""
    unit = np.arange(len(runs.loss)) if groups is None else np.asarray(groups)
    unit_flops = np.zeros(int(unit.max()) + 1)
    np.maximum.at(unit_flops, unit, runs.flops)
    labels = group_budgets(unit_flops, tolerance)
    big = np.flatnonzero(np.bincount(labels) >= HOLD_OUT_MIN_RUNS)
    choices: list[tuple[bool, np.ndarray]] = []
    if len(big) >= 3:
        choices.append((True, labels >= big[-1]))
    k = max(HOLD_OUT_MIN_RUNS, math.ceil(HOLD_OUT_FRACTION * len(unit_flops)))
    most = np.zeros(len(unit_flops), dtype=bool)
    most[np.argsort(unit_flops, kind="stable")[-k:]] = True
    choices.append((False, most))
    usable = [(b, h) for b, h in choices if (~h[unit]).sum() >= 10]  # 10 runs left to fit
    if not usable:
        return None
    by_budget, held = usable[0]
    top = held[unit]
    n_runs = int(held.sum())
    if by_budget:
        c = float(np.exp(np.mean(np.log(runs.flops[top]))))
        words = f"the largest budget ({sci(c)} FLOPs, {n_runs} runs)"
    else:
        low, high = float(unit_flops[held].min()), float(unit_flops[held].max())
        words = (
            f"the {n_runs} runs with the most compute (the top {HOLD_OUT_FRACTION:.0%} by C: "
            f"{sci(low)} to {sci(high)} FLOPs)"
        )
    return top, words, by_budget


def _both(
    runs: Runs, fit: ParametricFit, tolerance: float, several_per_run: bool
) -> tuple[IsoflopFit | None, ApproachComparison | None, list[str]]:
    """Approach `both`: the IsoFLOP fit beside the parametric one, and each one's error
    on the largest budget when fitted without it; warnings say what could not be done."""
    if several_per_run:
        return None, None, ["`approach` both: the IsoFLOP fit needs one point per run"]
    try:
        iso = fit_isoflop(runs.params, runs.flops, runs.loss, tolerance)
    except FitError as e:
        return None, None, [f"`approach` both: no IsoFLOP fit: {e.message}"]
    found = compare_approaches(runs, fit, tolerance)
    if isinstance(found, str):
        return iso, None, [*iso.warnings, f"`approach` both: no held-out comparison: {found}"]
    return iso, found, list(iso.warnings)
