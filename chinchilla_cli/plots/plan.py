"""The figure of `chinchilla plan --plot`: the plan on the law's landscape, each law's frontier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chinchilla_cli.plots import draw_frontier, draw_landscape, span, write_figure


def plan_plot(plan: Any, path: str, option: str, force: bool) -> Path:
    """Write the `chinchilla plan` figure atomically; returns the path written."""
    return write_figure(lambda plt: plan_figure(plt, plan), path, option, force, "this plan")


def plan_figure(plt: Any, plan: Any) -> Any:
    """The plan on the chosen law's landscape, every cross-check law's frontier, and the
    plan's N_opt and D_opt intervals where the law carries bootstrap samples."""
    from chinchilla_cli.law_files import load_law
    from chinchilla_cli.laws import tokens_for

    o = plan.optimal
    # the chosen law may be a file (a fitted law): take it from the plan, the rest by name
    laws = [plan.law if c.law == plan.law.name else load_law(c.law) for c in plan.crosscheck]
    n_lo, n_hi = span(
        min(o.params, *(c.params for c in plan.crosscheck)),
        max(o.params, *(c.params for c in plan.crosscheck)),
    )
    d_lo, d_hi = span(
        min(o.tokens, *(c.tokens for c in plan.crosscheck)),
        max(o.tokens, *(c.tokens for c in plan.crosscheck)),
    )
    fig, ax = plt.subplots(figsize=(10, 7.5), layout="constrained")
    seen = [plan.loss.total] if plan.loss is not None else []
    draw_landscape(fig, ax, plan.law, (n_lo, n_hi), (d_lo, d_hi), seen)
    # tab10 without its red, which marks the chosen law
    colours = [plt.get_cmap("tab10")(i) for i in (0, 1, 2, 4, 5, 6, 7, 8, 9)]
    for i, law in enumerate(laws):
        chosen = law.name == plan.law.name
        draw_frontier(
            ax,
            law,
            (n_lo, n_hi),
            (d_lo, d_hi),
            color="crimson" if chosen else colours[i % len(colours)],
            lw=2.4 if chosen else 1.2,
            ls="-" if chosen else "--",
            label=f"frontier: {law.name}" + (" (chosen)" if chosen else ""),
        )
    import numpy as np

    n = np.geomspace(n_lo, n_hi, 200)
    for flops, label, style in (
        (plan.budget.flops, f"this budget: C = {plan.budget.flops:.3g} FLOPs", "-"),
        (o.flops, f"the recommended run's C = {o.flops:.3g} FLOPs", ":"),
    ):
        if style == ":" and abs(flops / plan.budget.flops - 1) < 1e-6:
            continue  # the run spends the budget: one line says it
        ax.plot(n, tokens_for(flops, n), color="black", lw=1.6, ls=style, label=label, zorder=5)
    u, co = plan.uncertainty, plan.compute_optimal
    if u is not None:  # the interval is of N_opt and D_opt: about the law's split of C
        ax.errorbar(
            [co.params],
            [co.tokens],
            xerr=[[co.params - u.params.low], [u.params.high - co.params]],
            yerr=[[co.tokens - u.tokens.low], [u.tokens.high - co.tokens]],
            fmt="none",
            ecolor="black",
            elinewidth=1.2,
            capsize=4,
            zorder=6,
            label=f"{u.level:g}% interval of N_opt, D_opt ({u.samples} bootstrap fits)",
        )
    ax.scatter(
        [o.params],
        [o.tokens],
        marker="*",
        s=260,
        color="gold",
        edgecolors="black",
        zorder=7,
        label=f"the plan: {o.params / 1e9:.3g}B parameters, {o.tokens / 1e12:.3g}T tokens",
    )
    ax.set_xlabel("parameters N (log scale)")
    ax.set_ylabel("training tokens D (log scale)")
    ax.set_title(f"Plan for {plan.budget.flops:.3g} FLOPs on the {plan.law.name} landscape")
    fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    return fig
