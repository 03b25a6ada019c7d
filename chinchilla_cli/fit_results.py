"""What a fit returns: the `FitReport` of one set of runs and, when groups of runs are
compared (`vs`, `group`), the `Intervention` the baseline's report carries, with each
variant's own report. Results only: the fitting is fit_engine.py and interventions.py,
and the files a command writes are the command's, not the report's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from chinchilla_cli._display import Drawn
from chinchilla_cli.approach3 import ParametricFit
from chinchilla_cli.files import Staged, write_text_atomic
from chinchilla_cli.fit_defaults import FLOPS_TOLERANCE
from chinchilla_cli.isoflop import IsoflopFit
from chinchilla_cli.laws import (
    FitRange,
    FormLaw,
    ParametricLaw,
    frontier_exponents,
    frontier_params,
    frontier_scale,
    tokens_for,
)
from chinchilla_cli.prediction import RunNoise, residual_noise
from chinchilla_cli.presets import dump_yaml
from chinchilla_cli.quantity import sci
from chinchilla_cli.runs import Runs
from chinchilla_cli.shared_e import SharedFit

if TYPE_CHECKING:
    from chinchilla_cli.accuracy import AccuracyFit
    from chinchilla_cli.audit import Audit
    from chinchilla_cli.calibration import Coverage
    from chinchilla_cli.form_compare import FormComparison
    from chinchilla_cli.forms import FormFit
    from chinchilla_cli.heldout import ApproachComparison
    from chinchilla_cli.logs import TrainingLog

UNBOUNDED = "the baseline never reaches the variant's loss: it is at or below the baseline's E"

REPORT_BUDGETS = (1e21, 5.76e23, 1e25)  # tokens per parameter is reported at these C


def budget_key(flops: float) -> str:
    """A budget as the report's keys name it: 5.76e23 -> '5.76e23'."""
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
class FitReport(Drawn):
    """A scaling law fitted to a set of runs, with what the fit knows of its quality.

    `approach` says which fit: "parametric" (`parametric`, Approach 3's law), "isoflop"
    (`isoflop`, Approach 2's parabolas and power laws) or "both" (both, and each one's
    error on the largest budget fitted without it: `comparison`). `runs` are the runs
    fitted; `samples` the bootstrap refits (rows (E, A, B, alpha, beta), or (a, b, k,
    k_tokens) for isoflop), drawn with `seed`, from which `intervals` takes the central
    `ci_level` percent; `extrapolation` the law's error on the largest budget when fitted
    without it; `warnings` what the user should know. `law` is the fitted law to plan
    with, `save` writes it as YAML, and `to_dict` is the command's JSON. `audit` holds
    every budget out in turn and the ordered cuts (chinchilla_cli.audit); `form_fit` is
    a kaplan or coupled law's fit in place of `parametric` (chinchilla_cli.forms), and
    `forms` every form ranked by its ordered-cut error (`form` compare).
    """

    approach: str
    runs: Runs
    parametric: ParametricFit | None
    isoflop: IsoflopFit | None
    samples: np.ndarray | None  # bootstrap rows: (E, A, B, alpha, beta) or (a, b, k, k_tokens)
    ci_level: float
    seed: int
    extrapolation: Extrapolation | None
    warnings: tuple[str, ...]
    flops_tolerance: float = FLOPS_TOLERANCE
    # the training log the runs were reduced from (None: a table of runs)
    log: TrainingLog | None = None
    # approach "both": each approach's error on the largest budget, fitted without it
    comparison: ApproachComparison | None = None
    # a task metric as a sigmoid of the loss (accuracy.py), saved with the law
    accuracy: AccuracyFit | None = None
    # `vs` or `group`: this is the baseline's fit; the variants against it
    intervention: Intervention | None = None
    # every budget held out in turn, and ordered cuts (audit.py); None: not audited
    audit: Audit | None = None
    # `form` kaplan or coupled (forms.py): that form's fit, in place of `parametric`
    form_fit: FormFit | None = None
    # `form` compare: every form fitted and ranked by its ordered-cut error
    forms: FormComparison | None = None

    @property
    def form(self) -> str | None:
        """The law's functional form: chinchilla, kaplan or coupled (None: Approach 2)."""
        if self.form_fit is not None:
            return self.form_fit.form
        return "chinchilla" if self.parametric is not None else None

    @property
    def law(self) -> ParametricLaw | FormLaw | None:
        """The fitted law as `save` writes it: its source, the span of its runs (plans
        beyond it say so), its bootstrap samples (plans give intervals) and its accuracy
        forecast, so that planning with it equals planning with the saved file. A kaplan
        or coupled form's law carries the span of its runs."""
        if self.form_fit is not None:
            return replace(self.form_fit.law, fit_range=self.fit_range)
        if self.parametric is None:
            return None
        samples = self.law_samples()
        return replace(
            self.parametric.law,
            source=self.law_source(),
            fit_range=self.fit_range,
            accuracy=self.accuracy,
            samples=samples,
            samples_source=self.samples_source() if samples else "",
            noise=self.noise,
        )

    def law_source(self) -> str:
        """How the law was obtained, as its `source` says."""
        r = self.runs
        return f"fitted by `chinchilla fit` ({self.approach}) to {r.n_kept} runs from {r.source}"

    def law_samples(self) -> tuple[tuple[float, float, float, float, float], ...]:
        """The bootstrap refits of the parametric law, rows (E, A, B, alpha, beta)."""
        if self.parametric is None or self.samples is None or len(self.samples) == 0:
            return ()
        return tuple(tuple(float(x) for x in row) for row in self.samples)  # type: ignore[misc]

    def samples_source(self) -> str:
        assert self.samples is not None
        return (
            f"{len(self.samples)} bootstrap resamples of the runs (seed {self.seed}), each refitted"
        )

    @property
    def noise(self) -> RunNoise | None:
        """Run-to-run noise of log loss around the parametric law, from its residuals
        (degrees of freedom: the runs less the parameters fitted, not fixed or tied)."""
        p = self.parametric
        if p is None:
            return None
        free = 5 - len(p.constraints.fixed) - len(p.constraints.tied)
        return residual_noise(p.rmse_log_loss, p.n_runs, free)

    @property
    def fit_range(self) -> FitRange:
        """The span of N, D, C and D/N of the runs fitted."""
        r = self.runs
        ratio = r.tokens / r.params

        def span(x: Any) -> tuple[float | None, float | None]:
            return (float(x.min()), float(x.max()))

        return FitRange(span(r.params), span(r.tokens), span(r.flops), span(ratio))

    def heldout_coverage(self, level: float | None = None) -> Coverage | None:
        """How often a `level`% (default: the report's) new-run interval covers a run of
        a budget the law was refitted without, each budget in turn (calibration.py);
        None for an IsoFLOP fit."""
        if self.parametric is None:
            return None
        from chinchilla_cli.calibration import heldout_coverage

        return heldout_coverage(
            self.runs,
            self.ci_level if level is None else level,
            tolerance=self.flops_tolerance,
            fit=self.parametric,
        )

    def coverage_summary(self) -> dict[str, Any] | None:
        """`heldout_coverage` at the report's level as JSON; None when no budget has
        enough runs to hold out (a grid design), the fit is IsoFLOP's, or a run gives
        several points (a training log's checkpoints)."""
        if self.log is not None and self.log.n_points > self.log.n_runs:
            return None  # a budget's checkpoints would be held out while their runs stay
        found = self.heldout_coverage()
        return found.to_dict() if found is not None and found.budgets else None

    def frontier(self) -> dict[str, float]:
        if self.form_fit is not None:  # no closed form: the slope of N_opt across the budgets
            form = self.form_fit.law
            lo, hi = REPORT_BUDGETS[0], REPORT_BUDGETS[-1]
            a = math.log(form.optimal_params(hi) / form.optimal_params(lo)) / math.log(hi / lo)
            return {"a": a, "b": 1.0 - a}
        if self.parametric:
            law = self.parametric.law
            return {"a": law.a, "b": law.b, "G": law.G}
        assert self.isoflop is not None
        f = self.isoflop
        return {"a": f.a, "b": f.b, "k": f.k, "k_tokens": f.k_tokens}

    def tokens_per_param(self) -> dict[str, float]:
        out = {}
        for c in REPORT_BUDGETS:
            if self.form_fit is not None:
                n = self.form_fit.law.optimal_params(c)
            elif self.parametric:
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
            "objective": self._fitted("objective"),
            "converged": self._fitted("converged", True),
            "rmse_log_loss": self._fitted("rmse_log_loss"),
            "noise": self.noise.to_dict() if self.noise else None,
            "coverage": self.coverage_summary(),
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
            "form": self.form,
            "audit": self.audit.to_dict() if self.audit else None,
            "forms": self.forms.to_dict() if self.forms else None,
        }
        if self.form_fit is not None:
            d["optimizer"] = self.form_fit.to_dict()
        if self.parametric:
            d["optimizer"] = self.parametric.to_dict()
        if self.isoflop:
            d["minima"] = [m.to_dict() for m in self.isoflop.minima]
        return d

    def __repr__(self) -> str:
        if self.law is not None:
            fitted = ", ".join(f"{k} {v:.4g}" for k, v in self.law.parameters().items())
        else:
            f = self.frontier()
            fitted = f"N_opt ~ C^{f['a']:.3f}, D_opt ~ C^{f['b']:.3f}"
        extra = ""
        if self.samples is not None:
            extra += f"; {len(self.samples)} bootstrap resamples"
        if self.intervention is not None:
            extra += f"; {self.intervention.headline()}"
        if self.warnings:
            n = len(self.warnings)
            extra += f"; {n} warning{'s' if n > 1 else ''}"
        return f"FitReport({self.approach} on {self.runs.n_kept} runs: {fitted}{extra})"

    def _fitted(self, key: str, default: Any = None) -> Any:
        """objective, converged or rmse_log_loss of the law's fit (either engine's)."""
        fitted = self.form_fit if self.form_fit is not None else self.parametric
        return default if fitted is None else getattr(fitted, key)

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
        how = self.law_source()
        ci = self.intervals()
        if self.form_fit is not None:
            form_doc: dict[str, Any] = _plain(self._form_document(name, how))
            return form_doc
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
            if self.noise is not None:
                doc["noise"] = self.noise.to_dict()
        if ci is not None and self.samples is not None:
            doc["ci"] = {"level": self.ci_level, **{k: list(v) for k, v in ci.items()}}
            if self.parametric is not None:
                doc["samples_source"] = self.samples_source()
                doc["samples"] = [[float(x) for x in row] for row in self.samples]
        if self.accuracy is not None and self.parametric is not None:
            doc["accuracy"] = self.accuracy.law_block(self.ci_level)
        plain: dict[str, Any] = _plain(doc)
        return plain

    def _form_document(self, name: str, how: str) -> dict[str, Any]:
        """A kaplan or coupled law (`form:` names it; laws.py loads it)."""
        f = self.form_fit
        assert f is not None
        return {
            "name": name,
            "kind": "parametric",
            "form": f.form,
            **f.law.parameters(),
            "source": how,
            "fit_range": self.fit_range.to_dict(),
            "fit": {
                "objective": f.objective,
                "converged": f.converged,
                "huber_delta": f.huber_delta,
                "n_runs": f.n_runs,
                "rmse_log_loss": f.rmse_log_loss,
            },
        }


def _plain(x: Any) -> Any:
    """numpy scalars to Python floats, for YAML and JSON."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


# ---- groups of runs compared ----------------------------------------------------------


@dataclass(frozen=True)
class MultiplierPoint:
    """The multiplier at one budget."""

    flops: float
    baseline_loss: float  # L* of the baseline's law at this C
    variant_loss: float
    multiplier: float | None  # None: unbounded (the baseline never reaches the loss)
    interval: tuple[float | None, float | None] | None  # None inside: unbounded that side
    within_data: bool  # inside the C span both groups' runs cover
    beyond_data: float  # C / the largest run's C (of either group)

    def to_dict(self) -> dict[str, Any]:
        return {
            "flops": self.flops,
            "baseline_loss": self.baseline_loss,
            "variant_loss": self.variant_loss,
            "multiplier": self.multiplier,
            "ci": None if self.interval is None else list(self.interval),
            "within_data": self.within_data,
            "beyond_data": self.beyond_data,
            "note": None if self.multiplier is not None else UNBOUNDED,
        }


@dataclass(frozen=True)
class Crossover:
    """Where the variant's advantage changes sign: the frontiers meet."""

    flops: float
    within_data: bool
    ahead_above: str  # "baseline" or "variant": which is ahead at more compute

    def to_dict(self) -> dict[str, Any]:
        return {
            "flops": self.flops,
            "within_data": self.within_data,
            "ahead_above": self.ahead_above,
        }


@dataclass(frozen=True)
class VariantComparison:
    """One variant against the baseline."""

    label: str
    report: FitReport  # the variant's own fit
    law: ParametricLaw  # the law the multipliers use: its own, or its shared-E law
    data_flops: tuple[float, float] | None  # the C span both groups' runs cover
    points: tuple[MultiplierPoint, ...]
    crossovers: tuple[Crossover, ...]
    crossover_interval: tuple[float | None, float | None] | None
    crossover_share: float | None  # resamples whose frontiers meet in the searched span
    # the laws of each resample, rows (E, A, B, alpha, beta): baseline's and this variant's
    samples: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @property
    def ahead(self) -> str:
        """Who is ahead at the smallest budget: "variant" (multiplier above 1), "baseline",
        or "neither" (the same frontier, to rounding)."""
        m = self.points[0].multiplier
        if m is not None and abs(m - 1.0) < 1e-9:
            return "neither"
        return "variant" if m is None or m > 1 else "baseline"

    def to_dict(self) -> dict[str, Any]:
        fit = {k: v for k, v in self.report.to_dict().items() if k != "intervention"}
        return {
            "label": self.label,
            "params": self.law.parameters(),
            "data_flops": None if self.data_flops is None else list(self.data_flops),
            "budgets": [p.to_dict() for p in self.points],
            "crossovers": [c.to_dict() for c in self.crossovers],
            "crossover_ci": None
            if self.crossover_interval is None
            else list(self.crossover_interval),
            "crossover_share": self.crossover_share,
            "fit": fit,
        }


@dataclass(frozen=True)
class HeldOutPair:
    """One group's error on its held-out runs, fitted without them: alone and with E shared."""

    label: str
    held_out: str  # which runs, in words
    n_held_out: int
    rmse_separate: float
    rmse_shared: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.label,
            "held_out": self.held_out,
            "n_held_out": self.n_held_out,
            "rmse_log_loss_separate": self.rmse_separate,
            "rmse_log_loss_shared": self.rmse_shared,
        }


@dataclass(frozen=True)
class SharedE:
    """The groups fitted with one E, and what that costs against separate fits."""

    fit: SharedFit
    labels: tuple[str, ...]
    held_out: tuple[HeldOutPair, ...]  # empty when a group has too few runs to hold out
    held_out_note: str
    e_interval: tuple[float | None, float | None] | None

    @property
    def extra_objective(self) -> float:
        """What sharing E adds to the summed objective (>= 0 up to rounding)."""
        return self.fit.objective - self.fit.separate

    @property
    def extra_fraction(self) -> float:
        return self.extra_objective / self.fit.separate if self.fit.separate > 0 else 0.0

    def pooled(self, shared: bool) -> float | None:
        """RMSE of log loss over every group's held-out runs."""
        if not self.held_out:
            return None
        n = sum(h.n_held_out for h in self.held_out)
        sq = sum(
            h.n_held_out * (h.rmse_shared if shared else h.rmse_separate) ** 2
            for h in self.held_out
        )
        return math.sqrt(sq / n)

    def to_dict(self) -> dict[str, Any]:
        return {
            "E": self.fit.E,
            "E_ci": None if self.e_interval is None else list(self.e_interval),
            "objective": self.fit.objective,
            "separate_objective": self.fit.separate,
            "extra_objective": self.extra_objective,
            "extra_objective_fraction": self.extra_fraction,
            "converged": self.fit.converged,
            "laws": {
                label: law.parameters()
                for label, law in zip(self.labels, self.fit.laws, strict=True)
            },
            "held_out": [h.to_dict() for h in self.held_out],
            "held_out_note": self.held_out_note or None,
            "rmse_log_loss_separate": self.pooled(False),
            "rmse_log_loss_shared": self.pooled(True),
        }


@dataclass(frozen=True)
class Intervention(Drawn):
    """Every variant against the baseline: multipliers at the budgets, crossovers, and
    (with `shared` E) what one E for all groups costs."""

    baseline: str  # the baseline's label: its file, or its value of the group column
    group_col: str | None  # the column that split one table into groups (None: files)
    baseline_law: ParametricLaw  # the law the multipliers use for the baseline
    variants: tuple[VariantComparison, ...]
    budgets_given: bool  # False: the default budgets (the data's span and beyond)
    search_flops: tuple[float, float]  # where crossovers were searched
    shared: SharedE | None
    ci_level: float
    resamples: int
    seed: int
    warnings: tuple[str, ...]
    # the baseline's own fit (without this comparison): shown and drawn beside it
    baseline_report: FitReport | None = field(default=None, repr=False, compare=False)

    @property
    def report(self) -> FitReport:
        """The baseline's FitReport carrying this comparison, as `fit` returned it."""
        if self.baseline_report is None:
            raise ValueError("this Intervention was built without its baseline's report")
        return replace(self.baseline_report, intervention=self)

    def headline(self) -> str:
        """Each variant's multiplier at the first and last budget, in a line."""
        parts = []
        for v in self.variants[:3]:
            ends = [v.points[0], v.points[-1]] if len(v.points) > 1 else list(v.points)
            at = ", ".join(
                ("unbounded" if p.multiplier is None else f"{p.multiplier:.3g}x")
                + f" at {sci(p.flops)}"
                for p in ends
            )
            parts.append(f"{v.label} vs {self.baseline}: {at}")
        more = f"; {len(self.variants) - 3} more" if len(self.variants) > 3 else ""
        return "; ".join(parts) + more

    def __repr__(self) -> str:
        return f"Intervention({self.headline()}; {self.multipliers_from})"

    @property
    def multipliers_from(self) -> str:
        return "shared E" if self.shared is not None else "separate fits"

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "group_col": self.group_col,
            "multipliers_from": self.multipliers_from,
            "baseline_params": self.baseline_law.parameters(),
            "budgets_source": "given" if self.budgets_given else "default",
            "crossover_search_flops": list(self.search_flops),
            "ci_level": self.ci_level if self.resamples else None,
            "bootstrap": {"resamples": self.resamples, "seed": self.seed}
            if self.resamples
            else None,
            "variants": [v.to_dict() for v in self.variants],
            "shared_e": None if self.shared is None else self.shared.to_dict(),
            "warnings": list(self.warnings),
        }
