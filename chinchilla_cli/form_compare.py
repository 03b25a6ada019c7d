"""`fit` with `form` compare: every form fitted to the same runs by the same robust objective,
ranked by how it extrapolates (the ordered cuts of audit.py), not by how it fits.

In-sample fit favours the form with more parameters; a law is used to extrapolate, so
the ranking is by the RMSE of log loss over every ordered cut (fitted on the smallest
budgets, predicting every larger one). With it, the allocation each form implies at the
planning budgets and how much the forms disagree there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chinchilla_cli import refits
from chinchilla_cli.approach3 import ParametricFit
from chinchilla_cli.audit import Audit, Refit, audit_fit, spread_subset
from chinchilla_cli.errors import FitError
from chinchilla_cli.fit_defaults import CI_LEVEL
from chinchilla_cli.forms import REFIT_WORDS, FormFit, fit_form, refitter
from chinchilla_cli.objective import LogRuns
from chinchilla_cli.runs import Runs

COMPARED = ("chinchilla", "kaplan", "coupled")


@dataclass(frozen=True)
class FormResult:
    """One form on the runs: its law, in-sample fit, audit, and allocation."""

    form: str
    params: dict[str, float]
    objective: float | None  # the sum of Huber losses (None: the fit failed)
    rmse_log_loss: float | None  # in sample
    audit: Audit | None
    optimal_params: tuple[float, ...]  # N_opt at each planning budget
    note: str = ""  # why a number is missing

    @property
    def cut_rmse(self) -> float | None:
        return None if self.audit is None else self.audit.cut_rmse()

    def to_dict(self, budgets: Sequence[float]) -> dict[str, Any]:
        worst = None if self.audit is None else self.audit.worst
        largest = None if self.audit is None else self.audit.largest
        return {
            "form": self.form,
            "params": self.params,
            "objective": self.objective,
            "rmse_log_loss": self.rmse_log_loss,
            "ordered_cut_rmse_log_loss": self.cut_rmse,
            "worst_budget_rmse_log_loss": None if worst is None else worst.rmse_log_loss,
            "largest_budget_rmse_log_loss": None if largest is None else largest.rmse_log_loss,
            "optimal_params": {
                f"{c:.3g}".replace("+", ""): n
                for c, n in zip(budgets, self.optimal_params, strict=True)
            },
            "note": self.note or None,
        }


@dataclass(frozen=True)
class FormComparison:
    """Every form, best (lowest ordered-cut error) first; `chosen` is the first one."""

    results: tuple[FormResult, ...]
    budgets: tuple[float, ...]

    @property
    def chosen(self) -> str:
        return self.results[0].form

    def spread(self) -> tuple[float | None, ...]:
        """At each budget, the largest N_opt of the fitted forms over the smallest."""
        out: list[float | None] = []
        for i in range(len(self.budgets)):
            ns = [r.optimal_params[i] for r in self.results if r.optimal_params]
            out.append(max(ns) / min(ns) if len(ns) >= 2 else None)
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ranked_by": "ordered_cut_rmse_log_loss",
            "chosen": self.chosen,
            "budgets": list(self.budgets),
            "params_spread": list(self.spread()),
            "forms": [r.to_dict(self.budgets) for r in self.results],
        }


def _rank(r: FormResult) -> tuple[int, float]:
    err = r.cut_rmse
    return (0, err) if err is not None and math.isfinite(err) else (1, math.inf)


def compare_forms(
    runs: Runs,
    chinchilla: ParametricFit,
    budgets: Sequence[float],
    tolerance: float,
    groups: np.ndarray | None = None,
    level: float = CI_LEVEL,
) -> tuple[FormComparison, FormFit | None, Audit | None, list[str]]:
    """Fit every form, audit each, rank them: (the comparison, the chosen form's fit if
    not Chinchilla's, the chosen form's audit, warnings). Chinchilla's audit scores the
    `level`% new-run interval too, as `fit`'s own audit does."""
    log_runs = LogRuns.of(runs.params, runs.tokens, runs.loss)
    flops = runs.flops
    idx = spread_subset(len(flops))
    if idx is not None:  # the audit refits an even spread of the points
        log_runs, flops = log_runs.subset(idx), flops[idx]
        groups = None if groups is None else groups[idx]
    results: list[FormResult] = []
    fits: dict[str, FormFit] = {}
    warnings: list[str] = []
    for form in COMPARED:
        if form == "chinchilla":
            law: Any = chinchilla.law
            objective, rmse = chinchilla.objective, chinchilla.rmse_log_loss
            chinchilla_refit = refits.refitter(chinchilla, log_runs)
            refit: Refit = chinchilla_refit
            words = refits.REFIT_WORDS
            coverage = chinchilla_refit.coverage(level, groups)
        else:
            try:
                f = fit_form(form, runs.params, runs.tokens, runs.loss, chinchilla.huber_delta)
            except FitError as e:
                results.append(FormResult(form, {}, None, None, None, (), e.message))
                warnings.append(f"`form` compare: {form}: {e.message}")
                continue
            fits[form] = f
            law, objective, rmse = f.law, f.objective, f.rmse_log_loss
            refit, words, coverage = refitter(f, log_runs), REFIT_WORDS, None
        found = audit_fit(
            form, flops, log_runs.log_loss, refit, tolerance, groups, words, coverage, level
        )
        audit = found if isinstance(found, Audit) else None
        note = found if isinstance(found, str) else ""
        n_opt = tuple(float(law.optimal_params(c)) for c in budgets)
        results.append(FormResult(form, law.parameters(), objective, rmse, audit, n_opt, note))
    results.sort(key=_rank)
    comparison = FormComparison(tuple(results), tuple(budgets))
    best = results[0]
    return comparison, fits.get(best.form), best.audit, warnings
