"""The figure of `chinchilla fit --plot`: observed against predicted loss, IsoFLOP slices
with the fitted law, the compute-optimal frontier it implies, and (when the runs carry a
task metric) the accuracy forecast's sigmoid against the runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chinchilla_cli.accuracy import sigmoid
from chinchilla_cli.files import Staged
from chinchilla_cli.fit_results import FitReport
from chinchilla_cli.isoflop import IsoflopFit, group_budgets
from chinchilla_cli.laws import frontier_params, tokens_for
from chinchilla_cli.plots import write_figure


def fit_plot(
    report: FitReport, path: str, option: str, force: bool, staged: Staged | None = None
) -> Path:
    """Write the `chinchilla fit` figure atomically in the format the suffix names."""
    if report.intervention is not None:  # `vs` or `group`: the groups compared
        from chinchilla_cli.plots.interventions import intervention_figure

        draw = lambda plt: intervention_figure(plt, report)  # noqa: E731
        return write_figure(draw, path, option, force, "this comparison", staged)
    return write_figure(
        lambda plt: fit_figure(plt, report), path, option, force, "this fit", staged
    )


def fit_figure(plt: Any, report: FitReport) -> Any:
    """The figure's three panels (four with a task metric), side by side."""
    runs = report.runs
    panels = 3 + (report.accuracy is not None) + (report.audit is not None)
    fig, axes = plt.subplots(1, panels, figsize=(5.4 * panels, 5.2), constrained_layout=True)
    logc = np.log10(runs.flops)
    high = logc.max() if logc.max() > logc.min() else logc.min() + 1
    colors = _Colors(plt.get_cmap("viridis"), plt.Normalize(logc.min(), high), logc)
    sc = _observed_panel(axes[0], report, colors)
    fig.colorbar(sc, ax=axes[0], label="log10 training FLOPs")
    _slices_panel(axes[1], report, colors)
    _frontier_panel(axes[2], report, colors)
    if report.accuracy is not None:
        _accuracy_panel(axes[3], report)
    if report.audit is not None:
        from chinchilla_cli.plots.audit import audit_panel

        audit_panel(axes[-1], report.audit)
    for ax in axes:
        ax.grid(True, which="major", alpha=0.3)
    return fig


@dataclass(frozen=True)
class _Colors:
    """The runs coloured by log10 C, the same in every panel."""

    cmap: Any
    norm: Any
    logc: np.ndarray

    def at(self, flops: float) -> Any:
        return self.cmap(self.norm(np.log10(flops)))


def _observed_panel(ax: Any, report: FitReport, colors: _Colors) -> Any:
    """1. observed against predicted loss (the runs alone for Approach 2)."""
    runs, law = report.runs, report.law
    style = {"c": colors.logc, "cmap": colors.cmap, "norm": colors.norm, "s": 14}
    if law is None:
        sc = ax.scatter(runs.params, runs.loss, **style)
        ax.set_xscale("log")
        ax.set_xlabel("parameters N")
        ax.set_title("Runs (Approach 2 predicts no loss)")
        ax.set_ylabel("observed loss (nats/token)")
        return sc
    pred = np.array([law.loss(n, d).total for n, d in zip(runs.params, runs.tokens, strict=True)])
    sc = ax.scatter(pred, runs.loss, **style)
    lo, hi = min(pred.min(), runs.loss.min()), max(pred.max(), runs.loss.max())
    ax.plot([lo, hi], [lo, hi], color="0.4", lw=1, ls="--", label="observed = predicted")
    ax.set_xlabel("predicted loss (nats/token)")
    ax.set_title(
        f"Observed vs predicted (RMSE of log loss {report.parametric.rmse_log_loss:.4f})"
        if report.parametric
        else "Observed vs predicted"
    )
    ax.set_ylabel("observed loss (nats/token)")
    ax.legend(loc="upper left", fontsize=8)
    return sc


def _slices_panel(ax: Any, report: FitReport, colors: _Colors) -> None:
    """2. IsoFLOP slices: runs grouped by budget, with the law's curve at each budget,
    and Approach 2's parabolas and their minima."""
    runs, law, tolerance = report.runs, report.law, report.flops_tolerance
    labels = group_budgets(runs.flops, tolerance)
    shown = 0
    for g in range(labels.max() + 1):
        m = labels == g
        if m.sum() < 3:
            continue
        budget = float(np.exp(np.mean(np.log(runs.flops[m]))))
        color = colors.at(budget)
        ax.scatter(runs.params[m], runs.loss[m], color=color, s=14)
        if law is not None:
            n = np.geomspace(runs.params[m].min() / 2, runs.params[m].max() * 2, 100)
            ax.plot(
                n,
                [law.loss(x, tokens_for(budget, x)).total for x in n],
                color=color,
                lw=1.2,
                label=f"{budget:.1e} FLOPs" if shown < 8 else None,
            )
        shown += 1
    if report.isoflop is not None:
        _parabolas(ax, report.isoflop, colors)
    if shown == 0:  # a grid design: no budget holds three runs
        ax.text(
            0.5,
            0.5,
            f"no budget holds 3 or more runs\n(runs within {tolerance:.0%} in C share one)",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="0.4",
        )
    ax.set_xscale("log")
    ax.set_xlabel("parameters N")
    ax.set_ylabel("loss (nats/token)")
    ax.set_title("IsoFLOP slices" + (" with the fitted law" if law is not None else ""))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper right")


def _parabolas(ax: Any, iso: IsoflopFit, colors: _Colors) -> None:
    """Approach 2's parabola of each budget over its sampled sizes, and its minimum."""
    mins = iso.minima
    for k, m in enumerate(mins):
        c2, c1, c0 = m.parabola
        x = np.log(np.geomspace(m.sampled_params[0], m.sampled_params[1], 100))
        ax.plot(
            np.exp(x),
            c2 * x**2 + c1 * x + c0,
            color=colors.at(m.flops),
            lw=1.2,
            ls="--",
            label="fitted parabolas" if k == 0 else None,
        )
    ax.scatter(
        [m.params for m in mins],
        [m.loss for m in mins],
        marker="x",
        color="crimson",
        s=40,
        label="parabola minima",
        zorder=5,
    )


def _frontier_panel(ax: Any, report: FitReport, colors: _Colors) -> None:
    """3. the frontier N_opt(C), with the bootstrap band where there is one, the runs,
    Chinchilla itself and the end of the data."""
    runs, law = report.runs, report.law
    c = np.geomspace(min(runs.flops.min(), 1e18), max(runs.flops.max() * 1e4, 1e25), 200)
    if law is not None:
        ax.plot(
            c,
            [law.optimal_params(x) for x in c],
            color="black",
            label=f"fitted: N_opt ∝ C^{report.frontier()['a']:.3f}",
        )
        cols = report.derived_samples()
        if cols:
            curves = frontier_params(cols["G"][:, None], cols["a"][:, None], c[None, :])
            lo, hi = _band(curves, report.ci_level)
            label = f"{report.ci_level:g}% bootstrap band"
            ax.fill_between(c, lo, hi, color="0.6", alpha=0.35, label=label)
    if report.isoflop is not None:
        iso = report.isoflop
        ax.plot(
            c, iso.k * c**iso.a, color="black", label=f"fitted: N_opt = {iso.k:.3g} C^{iso.a:.3f}"
        )
        ax.scatter(
            [m.flops for m in iso.minima],
            [m.params for m in iso.minima],
            color="crimson",
            marker="x",
            label="IsoFLOP minima",
            zorder=5,
        )
    ax.scatter(
        runs.flops,
        runs.params,
        c=colors.logc,
        cmap=colors.cmap,
        norm=colors.norm,
        s=8,
        alpha=0.5,
        label="runs (their own N)",
    )
    ax.scatter(
        [5.76e23],
        [70e9],
        marker="*",
        s=160,
        color="gold",
        edgecolor="black",
        label="Chinchilla (70B at 5.76e23)",
        zorder=6,
    )
    ax.axvline(
        float(runs.flops.max()), color="0.3", lw=1, ls=":", label="largest run: the data end"
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training compute C (FLOPs)")
    ax.set_ylabel("compute-optimal parameters N_opt")
    ax.set_title("Compute-optimal frontier")
    ax.legend(fontsize=8, loc="upper left")


def _band(curves: np.ndarray, ci_level: float) -> tuple[np.ndarray, np.ndarray]:
    """The central `ci_level` percent of bootstrap curves (rows), at each point."""
    tail = (100 - ci_level) / 2
    lo, hi = np.percentile(curves, [tail, 100 - tail], axis=0)
    return lo, hi


def _accuracy_panel(ax: Any, report: FitReport) -> None:
    """4. the task metric against each run's observed loss, the fitted sigmoid through
    them, and the band of its bootstrap refits."""
    fit, runs = report.accuracy, report.runs
    assert fit is not None and runs.metric is not None
    has = np.isfinite(runs.metric)
    loss, metric = runs.loss[has], runs.metric[has]
    ax.scatter(loss, 100 * metric, color="tab:blue", s=14, label=f"runs ({len(loss)})")
    grid = np.linspace(loss.min() - 0.1 * np.ptp(loss), loss.max() + 0.1 * np.ptp(loss), 120)
    ax.plot(grid, [100 * fit.predict(x) for x in grid], color="black", label="fitted sigmoid")
    if fit.samples:
        curves = np.array([[sigmoid(x, *s) for x in grid] for s in fit.samples])
        lo, hi = _band(100 * curves, report.ci_level)
        ax.fill_between(
            grid, lo, hi, color="0.6", alpha=0.35, label=f"{report.ci_level:g}% bootstrap band"
        )
    ax.set_xlabel("observed loss (nats/token)")
    ax.set_ylabel(f"{fit.metric} (%)")
    rmse = f" (RMSE {fit.rmse:.4f})" if fit.rmse is not None else ""
    ax.set_title(f"Accuracy forecast: {fit.metric}{rmse}")
    ax.legend(fontsize=8, loc="best")
