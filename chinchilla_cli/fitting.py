"""`chinchilla fit` as a function: runs in, a report out (fit, intervals, diagnostics),
and the fitted law in the schema of presets/laws.yaml."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from chinchilla_cli._display import display_bundle
from chinchilla_cli.approach3 import (
    LogRuns,
    ParametricFit,
    fit_parametric,
    law_from_theta,
    polish,
)
from chinchilla_cli.errors import FitError, InputError
from chinchilla_cli.files import Staged, write_text_atomic
from chinchilla_cli.fit_defaults import APPROACHES, MAX_BOOTSTRAP, MAX_FLOPS_TOLERANCE
from chinchilla_cli.fit_defaults import CI_LEVEL as DEFAULT_CI_LEVEL
from chinchilla_cli.fit_defaults import HUBER_DELTA as DEFAULT_HUBER_DELTA
from chinchilla_cli.isoflop import DEFAULT_FLOPS_TOLERANCE, IsoflopFit, fit_isoflop, group_budgets
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
from chinchilla_cli.runs import Runs, read_runs

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

    def to_dict(self) -> dict[str, float]:
        return {
            "held_out_flops": self.held_out_flops,
            "n_held_out": self.n_held_out,
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

    @property
    def law(self) -> ParametricLaw | None:
        """The fitted law, carrying the span of its runs (plans beyond it say so)."""
        if self.parametric is None:
            return None
        return replace(self.parametric.law, fit_range=self.fit_range)

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
            c = GOPHER_BUDGET
            n = s[:, 2] * c ** s[:, 0]
            return {
                "a": s[:, 0],
                "b": s[:, 1],
                "k": s[:, 2],
                f"tokens_per_param@{budget_key(c)}": tokens_for(c, n) / n,
            }
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
        if self.isoflop is not None:
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
        return _plain(doc)


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
            out.append(
                f"{label} spans only {span:.1f}x (less than a decade): {exponent} is poorly "
                "determined and alpha and beta are not separable; widen the sweep"
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
            )
    return out


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


def extrapolation_error(runs: Runs, fit: ParametricFit, tolerance: float) -> Extrapolation | None:
    """Hold out the largest budget (grouped as IsoFLOP budgets are, with at least
    HOLD_OUT_MIN_RUNS runs, and every larger run with it), refit, predict it."""
    labels = group_budgets(runs.flops, tolerance)
    counts = np.bincount(labels)
    big = np.flatnonzero(counts >= HOLD_OUT_MIN_RUNS)
    if len(big) < 3:
        return None
    top = labels >= big[-1]
    if (~top).sum() < 10:
        return None
    train = LogRuns.of(runs.params[~top], runs.tokens[~top], runs.loss[~top])
    law = law_from_theta(polish(fit.theta, train, fit.huber_delta).theta)
    pred = np.array(
        [law.loss(n, d).total for n, d in zip(runs.params[top], runs.tokens[top], strict=True)]
    )
    err = np.log(pred) - np.log(runs.loss[top])
    return Extrapolation(
        float(np.exp(np.mean(np.log(runs.flops[top])))),
        int(top.sum()),
        float(np.sqrt(np.mean(err**2))),
        float(np.mean(np.abs(pred - runs.loss[top]))),
    )


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
) -> FitReport:
    """Fit resolved runs (see `fit` for the entry point that reads them)."""
    from chinchilla_cli.approach3 import bootstrap_parametric
    from chinchilla_cli.isoflop import bootstrap_isoflop

    samples = None
    if approach == "isoflop":
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
            tuple(diagnostics(runs, None) + _sampling_warnings(runs, bootstrap, ci_level))
            + iso.warnings,
            flops_tolerance,
        )
    fit = fit_parametric(runs.params, runs.tokens, runs.loss, delta=huber_delta)
    if not fit.converged:  # before the bootstrap: resampling a failed fit is wasted time
        raise FitError(
            f"the fit did not converge (L-BFGS-B: {fit.message}); check the runs "
            "for outliers or try another `huber_delta`"
        )
    if bootstrap:
        samples = bootstrap_parametric(
            fit, runs.params, runs.tokens, runs.loss, bootstrap, seed, progress
        )
    warnings = diagnostics(runs, fit) + _sampling_warnings(runs, bootstrap, ci_level)
    extrap = extrapolation_error(runs, fit, flops_tolerance)
    return FitReport(
        approach, runs, fit, None, samples, ci_level, seed, extrap, tuple(warnings), flops_tolerance
    )


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
) -> FitReport:
    """Fit a scaling law to training runs.

    The runs come as a CSV/TSV path ("-" for stdin), a mapping of column names to arrays
    (a pandas DataFrame works; columns are found by the same names as in a file: N,
    params, tokens, D, loss...), or as arrays `params`, `tokens` (or `flops`) and `loss`.
    `approach` is "parametric" (Approach 3: E + A/N^alpha + B/D^beta by Huber loss and
    L-BFGS from the paper's grid of starts) or "isoflop" (Approach 2: a parabola per
    budget). `bootstrap` resamples give `ci`% intervals; `progress(done)` is called as they
    finish. Raises InputError for bad runs or arguments, FitError when the fit fails.
    """
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
    columns = dict(params_col=params_col, tokens_col=tokens_col, flops_col=flops_col)
    filters = dict(max_loss=max_loss, min_flops=min_flops, max_flops=max_flops)
    arrays = {"params": params, "tokens": tokens, "flops": flops, "loss": loss}
    given = {k: v for k, v in arrays.items() if v is not None}
    if given and runs is not None:
        raise InputError("give the runs as `runs` or as arrays, not both", field="runs")
    if isinstance(runs, (str, Path)):
        table = read_runs(str(runs), **columns, loss_col=loss_col, **filters)
    else:
        from chinchilla_cli.runs import runs_from_columns

        if runs is None and not given:
            raise InputError(
                "no runs; give a file, a table of columns, or `params`, `tokens` and `loss`",
                field="runs",
            )
        source = "<columns>" if runs is not None else "<arrays>"
        table = runs_from_columns(
            runs if runs is not None else given,
            **columns,
            loss_col=loss_col,
            **filters,
            source=source,
        )
    return fit_runs(
        table,
        approach=approach,
        huber_delta=huber_delta,
        bootstrap=int(bootstrap),
        seed=int(seed),
        ci_level=ci,
        flops_tolerance=flops_tolerance,
        progress=progress,
    )
