"""The figure of `chinchilla compare --plot`: the runs on one loss landscape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chinchilla_cli.plots import draw_frontier, draw_landscape, span, spread_labels, write_figure


def compare_plot(comparison: Any, path: str, option: str, force: bool) -> Path:
    """Write the `chinchilla compare` figure atomically; returns the path written."""
    return write_figure(
        lambda plt: compare_figure(plt, comparison),
        path,
        option,
        force,
        "these runs on one landscape",
    )


def compare_figure(plt: Any, comparison: Any) -> Any:
    """The runs as points on the law's loss landscape over (N, D), with IsoFLOP lines
    (C = 6ND) and the compute-optimal frontier; each run is joined to the optimum of its
    compute along its IsoFLOP line."""

    law, rows = comparison.law, comparison.rows
    ns = [r.config.params for r in rows] + [r.compute_optimal.params for r in rows]
    ds = [r.config.tokens for r in rows] + [r.compute_optimal.tokens for r in rows]
    n_lo, n_hi = span(min(ns), max(ns))
    d_lo, d_hi = span(min(ds), max(ds))

    seen = [r.loss.total for r in rows if r.loss is not None]
    seen += [r.compute_optimal_loss for r in rows if r.compute_optimal_loss is not None]
    fig, ax = plt.subplots(figsize=(10, 7.5), layout="constrained")
    flat = draw_landscape(fig, ax, law, (n_lo, n_hi), (d_lo, d_hi), seen)
    draw_frontier(ax, law, (n_lo, n_hi), (d_lo, d_hi), color="crimson", lw=2.2)

    colours = plt.get_cmap("tab10" if len(rows) <= 10 else "tab20")
    labels = []
    for i, r in enumerate(rows):
        col = colours(i % colours.N)
        n, d = r.config.params, r.config.tokens
        on, od = r.compute_optimal.params, r.compute_optimal.tokens
        ax.plot([n, on], [d, od], color=col, lw=1.2, ls=":", zorder=3)
        ax.scatter([on], [od], s=45, facecolors="white", edgecolors=col, linewidths=1.6, zorder=4)
        ax.scatter([n], [d], s=70, color=col, edgecolors="black", linewidths=0.8, zorder=5)
        labels.append(
            ax.annotate(
                r.config.name,
                (n, d),
                xytext=(6, 5),
                textcoords="offset points",
                fontsize=9,
                fontweight="bold",
                color="black",
                zorder=6,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": col, "alpha": 0.85},
            )
        )
    # legend proxies in neutral colours (the runs' own colours only tell them apart)
    ax.scatter([], [], s=70, color="0.6", edgecolors="black", linewidths=0.8, label="run (N, D)")
    ax.scatter(
        [],
        [],
        s=45,
        facecolors="white",
        edgecolors="0.3",
        linewidths=1.6,
        label="optimum of the same compute (dotted: along its IsoFLOP line)",
    )

    without = f"; {law.name} reads N without embeddings" if law.kind == "kaplan" else ""
    ax.set_xlabel(f"parameters N (log scale{without})")
    ax.set_ylabel("training tokens D (log scale)")
    if not law.predicts_loss:
        what = "allocation (this law predicts no loss)"
    else:
        what = "loss landscape" + (" (flat to float precision here)" if flat else "")
    ax.set_title(f"Training runs on the {law.name} {what}")
    ax.grid(True, which="major", color="0.5", alpha=0.25, lw=0.5)
    fig.legend(loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    spread_labels(fig, labels)
    return fig
