"""`chinchilla fit` as a function: runs in, a report out (fit, intervals, diagnostics),
and the fitted law in the schema of presets/laws.yaml."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from chinchilla_cli._display import display_bundle
from chinchilla_cli.approach3 import (
    Constraints,
    LogRuns,
    ParametricFit,
    constraints_from,
    fit_parametric,
    law_from_theta,
)
from chinchilla_cli.errors import FitError, InputError
from chinchilla_cli.files import Staged, write_text_atomic
from chinchilla_cli.fit_defaults import APPROACHES, MAX_BOOTSTRAP, MAX_FLOPS_TOLERANCE
from chinchilla_cli.fit_defaults import CI_LEVEL as DEFAULT_CI_LEVEL
from chinchilla_cli.fit_defaults import FLOPS_TOLERANCE as DEFAULT_FLOPS_TOLERANCE
from chinchilla_cli.fit_defaults import HUBER_DELTA as DEFAULT_HUBER_DELTA
from chinchilla_cli.isoflop import IsoflopFit, fit_isoflop, group_budgets
from chinchilla_cli.laws import (
    EXTRAPOLATION_FACTOR,
    FitRange,
    ParametricLaw,
    frontier_exponents,
    frontier_params,
    frontier_scale,
    tokens_for,
)
from chinchilla_cli.presets import dump_yaml
from chinchilla_cli.read_options import ReadOptions
from chinchilla_cli.runs import Runs

if TYPE_CHECKING:
    from chinchilla_cli.accuracy import AccuracyFit
    from chinchilla_cli.heldout import ApproachComparison
    from chinchilla_cli.interventions import Intervention
    from chinchilla_cli.logs import TrainingLog

REPORT_BUDGETS = (1e21, 5.76e23, 1e25)  # tokens per parameter is reported at these C
GOPHER_BUDGET = 5.76e23


def budget_key(flops: float) -> str:
    return f"{flops:.3g}".replace("+", "")


@dataclass(frozen=True)
class Extrapolation:
    """Fit without the largest budget, predict it: how well the law extrapolates."""

    held_out_flops: float
    n_held_out: int
    rmse_log_loss: float
    mean_abs_error: float
    # which runs were held out, in words: the largest budget, or on a grid design (no two
    # runs share a budget) the runs with the most compute
    held_out: str = ""
    by_budget: bool = True

    def to_dict(self) -> dict[str, float | str]:
        return {
            "held_out_flops": self.held_out_flops,
            "n_held_out": self.n_held_out,
            "held_out": self.held_out,
            "rmse_log_loss": self.rmse_log_loss,
            "mean_abs_loss_error": self.mean_abs_error,
        }


@dataclass(frozen=True)
class FitReport:
    approach: str
    runs: Runs
    parametric: ParametricFit | None
    isoflop: IsoflopFit | None
    samples: np.ndarray | None  # bootstrap rows: (E, A, B, alpha, beta) or (a, b, k, k_tokens)
    ci_level: float
    seed: int
    extrapolation: Extrapolation | None
    warnings: tuple[str, ...]
    flops_tolerance: float = DEFAULT_FLOPS_TOLERANCE
    # files the command wrote: (key, path)
    written: tuple[tuple[str, str | None], ...] = (("saved", None), ("plot", None))
    # the training log the runs were reduced from (None: a table of runs)
    log: TrainingLog | None = None
    # approach "both": each approach's error on the largest budget, fitted without it
    comparison: ApproachComparison | None = None
    # a task metric as a sigmoid of the loss (accuracy.py), saved with the law
    accuracy: AccuracyFit | None = None
    # `vs` or `group`: this is the baseline's fit; the variants against it
    intervention: Intervention | None = None

    @property
    def law(self) -> ParametricLaw | None:
        """The fitted law, carrying the span of its runs (plans beyond it say so)."""
        if self.parametric is None:
            return None
        return replace(self.parametric.law, fit_range=self.fit_range, accuracy=self.accuracy)

    @property
    def fit_range(self) -> FitRange:
        """The span of N, D, C and D/N of the runs fitted."""
        r = self.runs
        ratio = r.tokens / r.params

        def span(x: Any) -> tuple[float | None, float | None]:
            return (float(x.min()), float(x.max()))

        return FitRange(span(r.params), span(r.tokens), span(r.flops), span(ratio))

    def frontier(self) -> dict[str, float]:
        if self.parametric:
            law = self.parametric.law
            return {"a": law.a, "b": law.b, "G": law.G}
        assert self.isoflop is not None
        f = self.isoflop
        return {"a": f.a, "b": f.b, "k": f.k, "k_tokens": f.k_tokens}

    def tokens_per_param(self) -> dict[str, float]:
        out = {}
        for c in REPORT_BUDGETS:
            if self.parametric:
                n = self.parametric.law.optimal_params(c)
            else:
                assert self.isoflop is not None
                n = self.isoflop.optimal_params(c)
            out[budget_key(c)] = tokens_for(c, n) / n
        return out

    def derived_samples(self) -> dict[str, np.ndarray]:
        """Each bootstrap quantity as a column, by name."""
        s = self.samples
        if s is None or len(s) == 0:
            return {}
        if self.approach == "isoflop":
            # every number the report prints gets its interval: k' and each budget too
            iso = {"a": s[:, 0], "b": s[:, 1], "k": s[:, 2], "k_tokens": s[:, 3]}
            for c in REPORT_BUDGETS:
                n = s[:, 2] * c ** s[:, 0]
                iso[f"tokens_per_param@{budget_key(c)}"] = tokens_for(c, n) / n
            return iso
        E, A, B, alpha, beta = s.T
        a, b = frontier_exponents(alpha, beta)
        G = frontier_scale(A, B, alpha, beta)
        cols = {"E": E, "A": A, "B": B, "alpha": alpha, "beta": beta, "a": a, "b": b, "G": G}
        for c in REPORT_BUDGETS:
            n = frontier_params(G, a, c)
            cols[f"tokens_per_param@{budget_key(c)}"] = tokens_for(c, n) / n
        return cols

    def intervals(self) -> dict[str, tuple[float, float]] | None:
        cols = self.derived_samples()
        if not cols:
            return None
        tail = (100 - self.ci_level) / 2
        return {
            k: (float(np.percentile(v, tail)), float(np.percentile(v, 100 - tail)))
            for k, v in cols.items()
        }

    def to_dict(self) -> dict[str, Any]:
        r = self.runs
        ci = self.intervals()
        d: dict[str, Any] = {
            "approach": self.approach,
            "n_runs": r.n_kept,
            "runs": {
                "source": r.source,
                "read": r.n_read,
                "dropped": r.n_dropped,
                "kept": r.n_kept,
                "columns": r.columns,
                "derived": list(r.derived),
                "log": self.log.to_dict() if self.log is not None else None,
            },
            "params": self.law.parameters() if self.law else None,
            "frontier": self.frontier(),
            "tokens_per_param": self.tokens_per_param(),
            "objective": self.parametric.objective if self.parametric else None,
            "converged": self.parametric.converged if self.parametric else True,
            "rmse_log_loss": self.parametric.rmse_log_loss if self.parametric else None,
            "ci_level": self.ci_level if ci else None,
            "bootstrap": None
            if self.samples is None
            else {"resamples": len(self.samples), "seed": self.seed},
            "ci": None if ci is None else {k: list(v) for k, v in ci.items()},
            "extrapolation": self.extrapolation.to_dict() if self.extrapolation else None,
            "warnings": list(self.warnings),
            "comparison": self.comparison.to_dict() if self.comparison else None,
            "accuracy": self.accuracy.to_dict(self.ci_level) if self.accuracy else None,
            "intervention": self.intervention.to_dict() if self.intervention else None,
        }
        if self.parametric:
            d["optimizer"] = self.parametric.to_dict()
        if self.isoflop:
            d["minima"] = [m.to_dict() for m in self.isoflop.minima]
        d.update(self.written)
        return d

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return display_bundle(self)

    def save(
        self,
        path: str | Path,
        name: str | None = None,
        force: bool = False,
        staged: Staged | None = None,
    ) -> Path:
        """Write the fitted law as YAML (usable as a `law`), atomically; an existing file
        only with `force`. The law is named `name`, else the file's name without its
        suffixes (`my.law.yaml` -> `my`). With `staged`, it appears at its commit."""
        law_name = name or Path(path).name.split(".")[0] or "fit"
        text = dump_yaml(self.law_document(law_name))
        if staged is not None:
            return staged.write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), "save")
        return write_text_atomic(path, text, "save", force)

    def law_document(self, name: str) -> dict[str, Any]:
        """The fitted law in the schema of presets/laws.yaml (plus name, fit and samples)."""
        r = self.runs
        how = f"fitted by `chinchilla fit` ({self.approach}) to {r.n_kept} runs from {r.source}"
        ci = self.intervals()
        if self.parametric is None:  # approach "both" saves its parametric law
            assert self.isoflop is not None
            f = self.isoflop
            doc: dict[str, Any] = {
                "name": name,
                "kind": "allocation",
                "k": f.k,
                "a": f.a,
                "source": how,
                "fit_range": self.fit_range.to_dict(),
            }
        else:
            assert self.parametric is not None
            p = self.parametric
            doc = {
                "name": name,
                "kind": "parametric",
                **p.law.parameters(),
                "source": how,
                "fit_range": self.fit_range.to_dict(),
                "fit": {
                    "objective": p.objective,
                    "converged": p.converged,
                    "huber_delta": p.huber_delta,
                    "n_runs": p.n_runs,
                    "rmse_log_loss": p.rmse_log_loss,
                },
            }
        if ci is not None and self.samples is not None:
            doc["ci"] = {"level": self.ci_level, **{k: list(v) for k, v in ci.items()}}
            if self.parametric is not None:
                doc["samples_source"] = (
                    f"{len(self.samples)} bootstrap resamples of the runs "
                    f"(seed {self.seed}), each refitted"
                )
                doc["samples"] = [[float(x) for x in row] for row in self.samples]
        if self.accuracy is not None and self.parametric is not None:
            doc["accuracy"] = self.accuracy.law_block(self.ci_level)
        plain: dict[str, Any] = _plain(doc)
        return plain


def _plain(x: Any) -> Any:
    """numpy scalars to Python floats, for YAML and JSON."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


def diagnostics(runs: Runs, fit: ParametricFit | None) -> list[str]:
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
    from chinchilla_cli.quantity import human, sci

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
            + ", ".join(f"{c:.3g}" for c in far)
            + f" FLOPs extrapolate {far[0] / largest:.3g}x or more beyond the largest run "
            f"({largest:.3g} FLOPs)"
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
    from chinchilla_cli.quantity import sci

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


def fit_runs(
    runs: Runs,
    *,
    approach: str = "parametric",
    huber_delta: float = DEFAULT_HUBER_DELTA,
    bootstrap: int = 0,
    seed: int = 0,
    ci_level: float = DEFAULT_CI_LEVEL,
    flops_tolerance: float = DEFAULT_FLOPS_TOLERANCE,
    progress: Callable[[int], None] | None = None,
    log: TrainingLog | None = None,
    exhaustive: bool = False,
    constraints: Constraints | None = None,
    metric_col: str | None = None,
) -> FitReport:
    """Fit resolved runs (see `fit` for the entry point that reads them). `log` is the
    training log they were reduced from: its warnings join the report's, and when a run
    gives several points (`reduce` none) the bootstrap resamples runs, not rows.
    `exhaustive` and `constraints` shape the parametric fit (see `fit`). A task metric in
    the runs (runs.metric) gets its accuracy forecast (accuracy.fit_runs_accuracy);
    `metric_col`, the column the caller named, makes a metric that cannot be fitted an
    error rather than a warning."""
    from chinchilla_cli.accuracy_fit import fit_runs_accuracy
    from chinchilla_cli.approach3 import bootstrap_parametric
    from chinchilla_cli.isoflop import bootstrap_isoflop
    from chinchilla_cli.resampling import bootstrap_parametric_by_run, run_groups

    samples = None
    groups = None
    if log is not None and log.n_points > log.n_runs:  # several points per run
        kept = log.run_index if runs.rows_kept is None else log.run_index[runs.rows_kept]
        groups = run_groups(kept)
    log_warnings = log.warnings if log is not None else ()
    cons = constraints or Constraints()
    if approach == "isoflop" and (exhaustive or cons):
        raise InputError(
            "`exhaustive`, `fix` and `tie` shape the parametric fit; use them with "
            "`approach` parametric or both",
            field="fix" if cons.fixed else "tie" if cons.tied else "exhaustive",
        )
    if approach == "isoflop":
        if groups is not None:
            raise InputError(
                "keeps several points per run; the IsoFLOP fit needs one per run (the "
                "default, last, or min, or mean-last K)",
                field="reduce",
            )
        # no loss law to chain a metric to: refused if named, before the work
        no_forecast = fit_runs_accuracy(runs, None, named=metric_col is not None)[1]
        iso = fit_isoflop(runs.params, runs.flops, runs.loss, flops_tolerance)
        if bootstrap:
            samples = bootstrap_isoflop(
                runs.params, runs.flops, runs.loss, bootstrap, flops_tolerance, seed, progress
            )
        return FitReport(
            approach,
            runs,
            None,
            iso,
            samples,
            ci_level,
            seed,
            None,
            log_warnings
            + tuple(diagnostics(runs, None) + _sampling_warnings(runs, bootstrap, ci_level))
            + iso.warnings
            + tuple(no_forecast),
            flops_tolerance,
            log=log,
        )
    fit = fit_parametric(
        runs.params,
        runs.tokens,
        runs.loss,
        delta=huber_delta,
        exhaustive=exhaustive,
        constraints=cons,
    )
    if not fit.converged:  # before the bootstrap: resampling a failed fit is wasted time
        raise FitError(
            f"the fit did not converge ({fit.message}); check the runs "
            "for outliers or try another `huber_delta`"
        )
    # before the law's bootstrap: a named metric that cannot be fitted fails fast
    accuracy, more = fit_runs_accuracy(
        runs, fit.law, named=metric_col is not None, bootstrap=bootstrap, seed=seed, groups=groups
    )
    if bootstrap and groups is not None:
        samples = bootstrap_parametric_by_run(
            fit, runs.params, runs.tokens, runs.loss, groups, bootstrap, seed, progress
        )
    elif bootstrap:
        samples = bootstrap_parametric(
            fit, runs.params, runs.tokens, runs.loss, bootstrap, seed, progress
        )
    warnings = [*log_warnings, *diagnostics(runs, fit)]
    warnings += _sampling_warnings(runs, bootstrap, ci_level)
    warnings += more
    extrap = extrapolation_error(runs, fit, flops_tolerance, groups)
    beside: IsoflopFit | None = None
    comparison: ApproachComparison | None = None
    if approach == "both":
        beside, comparison, more = _both(runs, fit, flops_tolerance, groups is not None)
        warnings += more
    return FitReport(
        approach,
        runs,
        fit,
        beside,
        samples,
        ci_level,
        seed,
        extrap,
        tuple(warnings),
        flops_tolerance,
        log=log,
        comparison=comparison,
        accuracy=accuracy,
    )


def _both(
    runs: Runs, fit: ParametricFit, tolerance: float, several_per_run: bool
) -> tuple[IsoflopFit | None, ApproachComparison | None, list[str]]:
    """Approach `both`: the IsoFLOP fit beside the parametric one, and each one's error
    on the largest budget when fitted without it; warnings say what could not be done."""
    from chinchilla_cli.heldout import compare_approaches

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


def fit(
    runs: str | Path | Mapping[str, Any] | None = None,
    *,
    params: Any = None,
    tokens: Any = None,
    flops: Any = None,
    loss: Any = None,
    approach: str = "parametric",
    huber_delta: float | None = None,
    bootstrap: int = 0,
    seed: int | None = None,
    ci: float | None = None,
    params_col: str | None = None,
    tokens_col: str | None = None,
    flops_col: str | None = None,
    loss_col: str | None = None,
    max_loss: float | None = None,
    min_flops: float | None = None,
    max_flops: float | None = None,
    flops_tolerance: float = DEFAULT_FLOPS_TOLERANCE,
    progress: Callable[[int], None] | None = None,
    run_col: str | None = None,
    reduce: str | None = None,
    batch_tokens: float | None = None,
    schedule_tokens: float | None = None,
    min_tokens: float | None = None,
    min_params: float | None = None,
    exhaustive: bool = False,
    fix: Mapping[str, float] | Sequence[str] | None = None,
    tie: Sequence[tuple[str, str] | str] | None = None,
    metric_col: str | None = None,
    vs: str | Path | Mapping[str, Any] | Sequence[str | Path | Mapping[str, Any]] | None = None,
    group: str | None = None,
    baseline: str | None = None,
    shared: str | None = None,
    budgets: str | Sequence[float] | None = None,
) -> FitReport:
    """Fit a scaling law to training runs.

    The runs come as a CSV/TSV path ("-" for stdin), a mapping of column names to arrays
    (a pandas DataFrame works; columns are found by the same names as in a file: N,
    params, tokens, D, loss...), or as arrays `params`, `tokens` (or `flops`) and `loss`.
    `approach` is "parametric" (Approach 3: E + A/N^alpha + B/D^beta by Huber loss and
    Newton's method from the paper's grid of starts), "isoflop" (Approach 2: a parabola
    per budget) or "both". `bootstrap` resamples give `ci`% intervals; `progress(done)` is
    called as they finish. Raises InputError for bad runs or arguments, FitError when the fit fails.

    Training logs (many rows per run: a W&B history CSV, JSON Lines, TensorBoard event
    files; see chinchilla_cli.logs) are reduced to one point per run first: `run_col`
    names the column grouping the rows (found by name otherwise: run, name, run_id);
    `reduce` is "last" (default), "min", "mean-last K" or "none" (every row a point; the
    bootstrap then resamples runs); D is a tokens column or steps x `batch_tokens`;
    `schedule_tokens` is the planned D of every run, to flag logs that stop short;
    `min_tokens` drops warm-up rows before reducing (and, for a table of runs, runs with
    less D). `min_params` drops runs with fewer parameters.

    The parametric fit screens the paper's 4,500 starts and polishes the promising ones;
    `exhaustive` runs every start to convergence and reports the distinct optima they
    reached. `fix` holds parameters at given values ({"E": 1.69} or ["E=1.69"]) and `tie`
    fits pairs as one ([("alpha", "beta")] or ["alpha=beta"]; also A=B): the fit over the
    rest, for runs spanning too little N or D to separate alpha and beta. `approach`
    "both" adds the IsoFLOP fit and each approach's error on the largest budget when
    fitted without it (`comparison`).

    A task metric column (`metric_col`, else one named as a task such as hellaswag or
    arc_easy; see chinchilla_cli.accuracy) adds the accuracy forecast (`accuracy`): the
    metric as a sigmoid of the loss, saved with the law, so that a plan predicts it.

    Interventions compared (chinchilla_cli.interventions): `vs` gives a variant's runs
    (a path or table of columns, or a list of them), read and fitted as `runs` is; or
    `group` names a column of `runs` splitting it into groups, the baseline being the
    first value in row order (or `baseline`). The report is the baseline's fit, and its
    `intervention` holds each variant's fit and its effective compute multiplier (the
    compute the baseline needs to reach the variant's compute-optimal loss, over the
    variant's compute) at `budgets` (a list, or "start:stop:count"; default: the data's
    span and 10x and 100x beyond it), with `bootstrap` intervals, and the crossover
    compute where the multiplier crosses 1. `shared` "E" fits every group with one
    irreducible loss, takes the multipliers from those laws, and reports what sharing
    costs (objective, held-out error).
    """
    from chinchilla_cli.interventions import check_arguments
    from chinchilla_cli.quantity import require

    if approach not in APPROACHES:
        raise InputError(
            f"unknown approach {approach!r}; expected one of {', '.join(APPROACHES)}",
            field="approach",
        )
    # an argument the fit would not use is refused, not silently ignored
    if approach == "isoflop" and huber_delta is not None:
        raise InputError(
            "applies to the parametric fit, not `approach` isoflop", field="huber_delta"
        )
    if not bootstrap:
        for field, value in (("seed", seed), ("ci", ci)):
            if value is not None:
                raise InputError(
                    "applies to the bootstrap intervals; give `bootstrap`", field=field
                )
    huber_delta = DEFAULT_HUBER_DELTA if huber_delta is None else huber_delta
    seed = 0 if seed is None else seed
    ci = DEFAULT_CI_LEVEL if ci is None else ci
    require(huber_delta, "huber_delta")
    require(bootstrap, "bootstrap", inclusive=True, integer=True, maximum=MAX_BOOTSTRAP)
    if bootstrap == 1:
        raise InputError(
            f"an interval needs at least 2 resamples; accepted: 0 or 2 to {MAX_BOOTSTRAP:,}",
            field="bootstrap",
        )
    require(seed, "seed", inclusive=True, integer=True)
    require(ci, "ci", maximum=99.99)
    if ci < 1:
        raise InputError(
            f"{ci:g} reads as {ci:g}%; the level is a percent: did you mean {ci * 100:g}?",
            field="ci",
        )
    require(flops_tolerance, "flops_tolerance")
    if flops_tolerance > MAX_FLOPS_TOLERANCE:
        raise InputError(
            f"{flops_tolerance:g} would merge distinct budgets (IsoFLOP grids space them about "
            f"1.7x apart, e.g. 6e18 and 1e19); accepted: up to {MAX_FLOPS_TOLERANCE:g}",
            field="flops_tolerance",
        )
    constraints = constraints_from(fix, tie)
    check_arguments(
        vs=vs,
        group=group,
        baseline=baseline,
        shared=shared,
        budgets=budgets,
        approach=approach,
        constrained=bool(constraints),
        exhaustive=bool(exhaustive),
    )
    read = ReadOptions(
        params_col=params_col,
        tokens_col=tokens_col,
        flops_col=flops_col,
        loss_col=loss_col,
        metric_col=metric_col,
        run_col=run_col,
        reduce=reduce,
        batch_tokens=batch_tokens,
        schedule_tokens=schedule_tokens,
        min_tokens=min_tokens,
        min_params=min_params,
        max_loss=max_loss,
        min_flops=min_flops,
        max_flops=max_flops,
    )
    fit_options: dict[str, Any] = dict(  # how each set of runs is fitted (`fit_runs`)
        approach=approach,
        huber_delta=huber_delta,
        bootstrap=int(bootstrap),
        seed=int(seed),
        ci_level=ci,
        flops_tolerance=flops_tolerance,
        exhaustive=bool(exhaustive),
        constraints=constraints,
        metric_col=metric_col,
    )
    arrays = {"params": params, "tokens": tokens, "flops": flops, "loss": loss}
    given = {k: v for k, v in arrays.items() if v is not None}
    if given and runs is not None:
        raise InputError("give the runs as `runs` or as arrays, not both", field="runs")
    if vs is not None or group is not None:
        from chinchilla_cli.interventions import compare_groups

        if runs is None and (group is not None or not given):
            raise InputError(
                "no runs; give a file or a table of columns"
                + (" holding the `group` column" if group is not None else ""),
                field="runs",
            )
        return compare_groups(
            runs if runs is not None else given,
            vs=vs,
            group=group,
            baseline=baseline,
            shared=shared,
            budgets=budgets,
            read_options=read,
            fit_options=fit_options,
            progress=progress,
        )
    from chinchilla_cli import logs

    if isinstance(runs, (str, Path)):
        table, log = logs.read_table(str(runs), read)
    else:
        if runs is None and not given:
            raise InputError(
                "no runs; give a file, a table of columns, or `params`, `tokens` and `loss`",
                field="runs",
            )
        source = "<columns>" if runs is not None else "<arrays>"
        table, log = logs.table_from_columns(
            runs if runs is not None else given, read, source=source
        )
    return fit_runs(table, **fit_options, progress=progress, log=log)
