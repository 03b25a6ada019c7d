"""The figure of `chinchilla fit --vs` (or `--group`): every group's runs and
compute-optimal frontier, and each variant's effective compute multiplier against C."""

from __future__ import annotations

from typing import Any

import numpy as np

from chinchilla_cli.fit_results import FitReport
from chinchilla_cli.interventions import frontier_losses, multipliers


def intervention_figure(plt: Any, report: FitReport) -> Any:
    iv = report.intervention
    assert iv is not None
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(14, 5.4), constrained_layout=True)
    colors = plt.get_cmap("tab10")
    groups = [(iv.baseline, report, iv.baseline_law)] + [
        (v.label, v.report, v.law) for v in iv.variants
    ]
    lo = min(float(r.runs.flops.min()) for _, r, _ in groups)
    hi = max(float(r.runs.flops.max()) for _, r, _ in groups)
    top = max(hi * 100, max(p.flops for v in iv.variants for p in v.points))
    c = np.geomspace(lo / 3, top * 3, 300)
    inside = c <= hi

    # 1. the runs and each group's frontier L*(C), dotted beyond the data
    for i, (label, r, law) in enumerate(groups):
        color = colors(i % 10)
        role = "baseline" if i == 0 else "variant"
        ax0.scatter(r.runs.flops, r.runs.loss, s=10, alpha=0.5, color=color)
        curve = frontier_losses(law, c)
        ax0.plot(c[inside], curve[inside], color=color, lw=1.6, label=f"{role}: {label}")
        ax0.plot(c[~inside], curve[~inside], color=color, lw=1.2, ls=":")
    ax0.axvline(hi, color="0.3", lw=1, ls=":", label="largest run: the data end")
    ax0.set_xscale("log")
    ax0.set_yscale("log")
    ax0.set_xlabel("training compute C (FLOPs)")
    ax0.set_ylabel("loss (nats/token)")
    shared = " (one E shared)" if iv.shared is not None else ""
    ax0.set_title(f"Runs and compute-optimal frontiers L*(C){shared}")
    ax0.legend(fontsize=8, loc="upper right")

    # 2. the multiplier against C, with the bootstrap band, the budgets and crossovers
    for i, v in enumerate(iv.variants, start=1):
        color = colors(i % 10)
        m = multipliers(iv.baseline_law, v.law, c)
        ax1.plot(c, np.where(np.isfinite(m), m, np.nan), color=color, lw=1.6, label=v.label)
        if v.samples is not None:
            curves = multipliers(v.samples[0], v.samples[1], c)
            curves = np.where(np.isfinite(curves), curves, np.nan)
            tail = (100 - iv.ci_level) / 2
            with np.errstate(all="ignore"):
                band = np.nanpercentile(curves, [tail, 100 - tail], axis=0)
            ax1.fill_between(
                c,
                band[0],
                band[1],
                color=color,
                alpha=0.2,
                label=f"{iv.ci_level:g}% bootstrap band",
            )
        shown = [p for p in v.points if p.multiplier is not None]
        ax1.scatter(
            [p.flops for p in shown], [p.multiplier for p in shown], color=color, s=24, zorder=5
        )
        for x in v.crossovers:
            ax1.axvline(x.flops, color=color, lw=1, ls="--")
            ax1.annotate(
                f"crossover {x.flops:.3g}",
                (x.flops, 1.0),
                xytext=(4, 6),
                textcoords="offset points",
                fontsize=8,
                color=color,
            )
    ax1.axhline(1.0, color="black", lw=1)
    ax1.axvspan(lo, hi, color="0.85", alpha=0.5, label="the data's span")
    ax1.set_xscale("log")
    ax1.set_yscale("log")
    ax1.set_xlabel("variant's training compute C (FLOPs)")
    ax1.set_ylabel("effective compute multiplier")
    ax1.set_title("C the baseline needs for the variant's L*(C), over C")
    ax1.legend(fontsize=8, loc="best")
    for ax in (ax0, ax1):
        ax.grid(True, which="major", alpha=0.3)
        ax.yaxis.set_major_formatter("{x:.3g}")  # 2.5, not 2.5 x 10^0
        ax.yaxis.set_minor_formatter("{x:.3g}")
    return fig
