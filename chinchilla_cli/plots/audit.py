"""The audit's panel of the `chinchilla fit` figure: the error of a law fitted without
some budgets, against how far (in decades of C) it was asked to extrapolate."""

from __future__ import annotations

from typing import Any

from chinchilla_cli.audit import Audit


def audit_panel(ax: Any, audit: Audit) -> None:
    """Each ordered cut's prediction of each larger budget (dots), their RMSE per bin
    of decades (line), and every budget held out in turn (crosses, at its distance
    outside the runs fitted: 0 inside them)."""
    pairs = [
        (p.decades, p.rmse_log_loss)
        for c in audit.cuts
        for p in c.predicted
        if p.rmse_log_loss is not None
    ]
    if pairs:
        ax.scatter(
            *zip(*pairs, strict=True),
            s=8,
            alpha=0.35,
            color="tab:blue",
            label="ordered cuts: one larger budget",
        )
    bins = audit.by_decades()
    if bins:
        ax.plot(
            [0.5 * (b.low + b.high) for b in bins],
            [b.rmse_log_loss for b in bins],
            color="tab:blue",
            marker="o",
            label="ordered cuts: RMSE per half decade",
        )
    held = [(b.decades, b.rmse_log_loss) for b in audit.held_out if b.rmse_log_loss is not None]
    if held:
        ax.scatter(
            *zip(*held, strict=True),
            marker="x",
            color="crimson",
            s=30,
            label="each budget held out in turn",
        )
    ax.set_xlabel("decades of C beyond the runs fitted")
    ax.set_ylabel("RMSE of log loss")
    ax.set_title(f"How far to trust it ({audit.form})")
    ax.legend(fontsize=8, loc="upper left")
