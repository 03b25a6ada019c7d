"""The figure of `chinchilla sweep --plot`: the planned runs on the law's loss landscape
over (N, D), each budget's IsoFLOP line and the compute-optimal frontier; beside it, when
the law predicts loss, the IsoFLOP profiles the sweep should find (loss against N)."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chinchilla_cli.files import Staged
from chinchilla_cli.laws import FLOPS_PER_PARAM_TOKEN as K
from chinchilla_cli.plots import draw_frontier, span, write_figure
from chinchilla_cli.sweeps import Sweep

MAX_LEGEND_BUDGETS = 10  # more budgets than this: a colour bar instead of legend entries


def sweep_plot(
    sweep: Sweep, path: str, option: str, force: bool, staged: Staged | None = None
) -> Path:
    """Write the figure atomically (format from the extension); returns the path written."""
    return write_figure(
        lambda plt: sweep_figure(plt, sweep), path, option, force, "this sweep", staged
    )


def _losses(law: Any, n: Any, d: Any) -> Any:
    """law.loss over arrays, element by element if the law does not take arrays."""
    import numpy as np

    try:
        z = np.asarray(law.loss(n, d).total, dtype=float)
        if z.shape == np.shape(n):
            return z
    except (TypeError, ValueError, AttributeError):
        pass
    pairs = zip(np.ravel(n), np.ravel(d), strict=True)
    flat = [law.loss(float(a), float(b)).total for a, b in pairs]
    return np.asarray(flat, dtype=float).reshape(np.shape(n))


def _human_log_axis(axis: Any, lo: float, hi: float) -> None:
    """Ticks labelled 20M, 500M, 1B (minor ticks unlabelled): at 1, 2 and 5 per decade
    over a short range, fewer over a long one so the labels never touch."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    from chinchilla_cli.quantity import human

    decades = math.log10(hi / lo)
    subs = (1.0, 2.0, 5.0) if decades <= 2.6 else (1.0, 3.0) if decades <= 4 else (1.0,)
    axis.set_major_locator(LogLocator(base=10, subs=subs))

    def label(x: float, _: Any) -> str:
        return human(x, 2).replace(".0", "") if x > 0 else ""  # 1.0B -> 1B, 2.5B stays

    axis.set_major_formatter(FuncFormatter(label))
    axis.set_minor_formatter(NullFormatter())


def _budget_label(flops: float) -> str:
    mant, exp = f"{flops:.2e}".split("e")
    return f"C = {mant.rstrip('0').rstrip('.')}e{int(exp)} FLOPs"


STAR = {"marker": "*", "color": "gold", "edgecolors": "black", "linewidths": 0.8}
RUN = {"edgecolors": "black", "linewidths": 0.7}
N_LABEL = "parameters N (count, log scale; M = 1e6, B = 1e9)"


def sweep_figure(plt: Any, sw: Sweep) -> Any:
    """The landscape panel, and beside it the IsoFLOP profiles when the law predicts loss."""
    law = sw.law
    predicts = law.predicts_loss and any(r.loss is not None for r in sw.runs)
    ns = [r.params for r in sw.runs] + [b.centre_params for b in sw.budgets]
    ds = [r.tokens for r in sw.runs] + [b.centre_tokens for b in sw.budgets]
    n_range = span(min(ns), max(ns), margin=3.0)
    d_range = span(min(ds), max(ds), margin=3.0)
    if predicts:
        fig, (ax, ax2) = plt.subplots(
            1, 2, figsize=(15, 7), layout="constrained", gridspec_kw={"width_ratios": [1.25, 1]}
        )
    else:
        fig, ax = plt.subplots(figsize=(10, 7.5), layout="constrained")
        ax2 = None
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(*n_range)
    ax.set_ylim(*d_range)
    if predicts:
        _landscape(fig, ax, sw, n_range, d_range)
    draw_frontier(ax, law, n_range, d_range, color="crimson", lw=2.0, zorder=3)
    colours = plt.get_cmap("viridis")
    count = len(sw.budgets)

    def colour(i: int) -> Any:
        return colours(0.05 + 0.85 * (i / (count - 1) if count > 1 else 0.5))

    legend_each = count <= MAX_LEGEND_BUDGETS
    _runs_panel(ax, sw, n_range, colour, legend_each)
    if not legend_each:
        ax.scatter([], [], s=42, color="0.6", **RUN, label="planned run (colour: budget)")
        sm = plt.cm.ScalarMappable(
            cmap=colours,
            norm=plt.Normalize(math.log10(sw.budgets[0].flops), math.log10(sw.budgets[-1].flops)),
        )
        fig.colorbar(
            sm,
            ax=ax2 if ax2 is not None else ax,
            pad=0.01,
            shrink=0.9,
            label="budget, log10 C (FLOPs)",
        )
    what = "loss landscape" if predicts else "allocation (this law predicts no loss)"
    ax.set_title(f"Planned runs on the {law.name} {what}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncols=2, fontsize=8, frameon=False)
    if ax2 is not None:
        _profiles_panel(ax2, sw, colour, legend_each)
    spanning = f", spanning {sw.span:g}x in N" if sw.sizes > 1 else ""
    fig.suptitle(
        f"IsoFLOP sweep: {count} budget{'s' if count != 1 else ''} x "
        f"{sw.sizes} size{'s' if sw.sizes != 1 else ''}{spanning}",
        fontsize=13,
    )
    return fig


def _landscape(
    fig: Any, ax: Any, sw: Sweep, n_range: tuple[float, float], d_range: tuple[float, float]
) -> None:
    """Filled contours of the predicted loss, shaded over the losses the runs see."""
    import numpy as np

    nn, dd = np.meshgrid(np.geomspace(*n_range, 240), np.geomspace(*d_range, 240))
    z = _losses(sw.law, nn, dd)
    seen = [r.loss for r in sw.runs if r.loss is not None]
    z_lo = float(np.nanmin(z))
    # shade the losses the runs see, and a margin above them; beyond that, one colour
    margin = max(0.5 * (max(seen) - min(seen)), 0.25 * (max(seen) - z_lo))
    z_hi = min(float(np.nanmax(z)), max(seen) + margin)
    if not (np.isfinite(z_lo) and np.isfinite(z_hi) and z_hi > z_lo * (1 + 1e-9)):
        return
    levels = np.linspace(z_lo, z_hi, 16)
    filled = ax.contourf(nn, dd, z, levels=levels, cmap="Greys", extend="max", alpha=0.4)
    lines = ax.contour(nn, dd, z, levels=levels[::3], colors="0.35", linewidths=0.5)
    ax.clabel(lines, fmt="%.2f", fontsize=7, inline=True)
    bar = fig.colorbar(filled, ax=ax, pad=0.01, shrink=0.9)
    bar.set_ticks(levels[::3])
    bar.ax.yaxis.set_major_formatter("{x:.2f}")
    bar.set_label(f"predicted loss L(N, D) under {sw.law.name} (nats per token)")


def _runs_panel(
    ax: Any,
    sw: Sweep,
    n_range: tuple[float, float],
    colour: Callable[[int], Any],
    legend_each: bool,
) -> None:
    """Each budget's IsoFLOP line, its planned runs and its centre; axes and legend."""
    import numpy as np

    n_line = np.geomspace(*n_range, 200)
    for i, b in enumerate(sw.budgets):
        col = colour(i)
        label = _budget_label(b.flops) if legend_each else "_nolegend_"
        ax.plot(n_line, b.flops / (K * n_line), color=col, lw=1.0, ls=(0, (4, 3)), zorder=2)
        runs_n, runs_d = [r.params for r in b.runs], [r.tokens for r in b.runs]
        ax.scatter(runs_n, runs_d, s=42, color=col, **RUN, zorder=5, label=label)
        ax.scatter([b.centre_params], [b.centre_tokens], s=170, **STAR, zorder=6)
    # legend proxies for what every budget shares
    ax.plot([], [], color="0.3", lw=1.0, ls=(0, (4, 3)), label="IsoFLOP line of a budget, C = 6ND")
    centre = f"{sw.law.name} optimum N*(C): the centre of each budget's sizes"
    ax.scatter([], [], s=170, **STAR, label=centre)
    _human_log_axis(ax.xaxis, *n_range)
    _human_log_axis(ax.yaxis, *ax.get_ylim())
    ax.set_xlabel(N_LABEL)
    ax.set_ylabel("training tokens D (count, log scale; B = 1e9, T = 1e12)")
    ax.grid(True, which="major", color="0.5", alpha=0.25, lw=0.5)


def _profiles_panel(ax2: Any, sw: Sweep, colour: Callable[[int], Any], legend_each: bool) -> None:
    """The IsoFLOP profiles the sweep should trace: loss against N along each budget."""
    import numpy as np

    law = sw.law
    x_lo, x_hi = math.inf, 0.0
    for i, b in enumerate(sw.budgets):
        col = colour(i)
        half = math.sqrt(sw.span) * 1.6  # a little beyond the sweep on either side
        lo = min([r.params for r in b.runs] + [b.centre_params / half])
        hi = max([r.params for r in b.runs] + [b.centre_params * half])
        x_lo, x_hi = min(x_lo, lo), max(x_hi, hi)
        n = np.geomspace(lo, hi, 200)
        label = _budget_label(b.flops) if legend_each else "_nolegend_"
        ax2.plot(n, _losses(law, n, b.flops / (K * n)), color=col, lw=1.3, zorder=2, label=label)
        runs_n, runs_loss = [r.params for r in b.runs], [r.loss for r in b.runs]
        ax2.scatter(runs_n, runs_loss, s=36, color=col, **RUN, zorder=4)
        if b.centre_loss is not None:
            ax2.scatter([b.centre_params], [b.centre_loss], s=150, **STAR, zorder=5)
    ax2.scatter([], [], s=36, color="0.6", **RUN, label="planned run")
    ax2.scatter([], [], s=150, **STAR, label="optimum N*(C)")
    ax2.set_xscale("log")
    _human_log_axis(ax2.xaxis, x_lo, x_hi)
    ax2.set_xlabel(N_LABEL)
    ax2.set_ylabel(f"predicted loss under {law.name} (nats per token)")
    ax2.set_title("IsoFLOP profiles the sweep should trace (D = C / 6N)")
    ax2.grid(True, which="both", color="0.5", alpha=0.25, lw=0.5)
    ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.09), ncols=3, fontsize=8, frameon=False)
