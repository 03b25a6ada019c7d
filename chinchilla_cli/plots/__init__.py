"""Figures (the `plot` extra). matplotlib is imported only here, and only when asked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from chinchilla_cli.errors import InputError
from chinchilla_cli.files import Staged

INSTALL_HINT = (
    "plotting needs matplotlib: pip install 'chinchilla-cli[plot]' (or pip install matplotlib)"
)


def pyplot() -> Any:
    """matplotlib.pyplot on the headless Agg backend, or a one-line InputError."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError(INSTALL_HINT) from None
    return plt


PLOT_FORMATS = ("png", "svg", "pdf")


def plot_format(path: str, option: str) -> str:
    """The file format from the name's extension, or a one-line InputError."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in PLOT_FORMATS:
        raise InputError(
            f"{path!r} has no known image extension; expected a file name "
            f"ending in {', '.join('.' + f for f in PLOT_FORMATS)}",
            field=option,
        )
    return suffix


def check_plot_path(path: str, option: str, force: bool) -> None:
    """Fail before any work: bad extension, existing file without --force, no matplotlib."""
    from chinchilla_cli.files import check_writable

    plot_format(path, option)
    check_writable(path, option, force)
    pyplot()


_OFFSETS = (
    (6, 5),
    (6, -14),
    (-6, 5),
    (-6, -14),
    (0, 12),
    (0, -22),
    (14, 16),
    (14, -26),
    (-14, 16),
    (-14, -26),
    (24, -4),
    (-24, -4),
)


def spread_labels(fig: Any, labels: list[Any]) -> None:
    """Move each point label to the first of a few offsets where it overlaps no earlier label."""
    fig.canvas.draw()  # lay out the figure, so text extents are final
    renderer = fig.canvas.get_renderer()
    placed: list[Any] = []
    for text in labels:
        for dx, dy in _OFFSETS:
            text.set_position((dx, dy))
            text.set_horizontalalignment("left" if dx >= 0 else "right")
            box = text.get_window_extent(renderer).expanded(1.08, 1.15)
            if not any(box.overlaps(other) for other in placed):
                break
        else:
            text.set_position(_OFFSETS[0])
            text.set_horizontalalignment("left")
            box = text.get_window_extent(renderer).expanded(1.08, 1.15)
        placed.append(box)


def span(
    lo: float, hi: float, margin: float = 4.0, min_decades: float = 1.5
) -> tuple[float, float]:
    """A log-scale axis range around [lo, hi] with `margin` each side and at least
    `min_decades` decades in all."""
    import math

    lo, hi = lo / margin, hi * margin
    short = min_decades - math.log10(hi / lo)
    if short > 0:
        f = 10 ** (short / 2)
        lo, hi = lo / f, hi * f
    return lo, hi


def draw_landscape(
    fig: Any,
    ax: Any,
    law: Any,
    n_range: tuple[float, float],
    d_range: tuple[float, float],
    seen: list[float],
) -> bool:
    """Log axes over (N, D), filled contours of the law's loss (up to 3x the spread of
    the `seen` losses above the minimum), and an IsoFLOP line per decade of C = 6ND.
    Returns True when the landscape is flat to float precision (nothing drawn)."""
    import numpy as np

    from chinchilla_cli.laws import FLOPS_PER_PARAM_TOKEN as K

    (n_lo, n_hi), (d_lo, d_hi) = n_range, d_range
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(n_lo, n_hi)
    ax.set_ylim(d_lo, d_hi)
    flat = True
    if law.predicts_loss:
        nn, dd = np.meshgrid(np.geomspace(n_lo, n_hi, 300), np.geomspace(d_lo, d_hi, 300))
        z = np.asarray(law.loss(nn, dd).total, dtype=float)
        z_lo = float(np.nanmin(z))
        z_hi = float(np.nanmax(z))
        if seen:
            z_hi = min(z_hi, z_lo + 3.0 * (max(seen) - z_lo))
        flat = not (np.isfinite(z_lo) and np.isfinite(z_hi) and z_hi > z_lo * (1 + 1e-9))
        if not flat:
            levels = np.linspace(z_lo, z_hi, 16)
            filled = ax.contourf(
                nn, dd, z, levels=levels, cmap="viridis_r", extend="max", alpha=0.85
            )
            lines = ax.contour(
                nn, dd, z, levels=levels[::3], colors="white", linewidths=0.6, alpha=0.8
            )
            ax.clabel(lines, fmt="%.2f", fontsize=7, inline=True)
            bar = fig.colorbar(filled, ax=ax, pad=0.01)
            bar.set_ticks(levels[::3])
            bar.ax.yaxis.set_major_formatter("{x:.2f}")
            bar.set_label(f"predicted loss L(N, D) under {law.name} (nats per token)")

    # IsoFLOP lines: one per decade of C (every other decade when there are many)
    c_lo = int(np.floor(np.log10(K * n_lo * d_lo)))
    c_hi = int(np.ceil(np.log10(K * n_hi * d_hi)))
    step = 1 if c_hi - c_lo <= 12 else 2
    n_line = np.geomspace(n_lo, n_hi, 200)
    iso_label = "IsoFLOP line, C = 6ND (FLOPs)"
    for e in range(c_lo, c_hi + 1, step):
        d_line = 10.0**e / (K * n_line)
        inside = (d_line >= d_lo) & (d_line <= d_hi)
        if inside.sum() < 2:
            continue
        ax.plot(n_line, d_line, color="0.25", lw=0.7, ls=(0, (4, 3)), label=iso_label)
        iso_label = "_nolegend_"
        k = np.flatnonzero(inside)[int(inside.sum() * 0.12)]
        ax.annotate(
            f"1e{e}",
            (n_line[k], d_line[k]),
            fontsize=7,
            color="0.15",
            rotation=-35,
            rotation_mode="anchor",
            ha="left",
            va="bottom",
        )
    ax.grid(True, which="major", color="0.5", alpha=0.25, lw=0.5)
    return flat


def draw_frontier(
    ax: Any, law: Any, n_range: tuple[float, float], d_range: tuple[float, float], **style: Any
) -> None:
    """The law's compute-optimal frontier across the visible compute range."""
    import numpy as np

    from chinchilla_cli.frontier import optimal_allocation
    from chinchilla_cli.laws import FLOPS_PER_PARAM_TOKEN as K

    cs = np.geomspace(K * n_range[0] * d_range[0] / 100, K * n_range[1] * d_range[1] * 100, 400)
    fr = [optimal_allocation(law, float(c)) for c in cs]
    style.setdefault("label", f"compute-optimal frontier ({law.name})")
    ax.plot([a.params for a in fr], [a.tokens for a in fr], **style)


def write_figure(
    draw: Callable[[Any], Any],
    path: str,
    option: str,
    force: bool,
    what: str,
    staged: Staged | None = None,
) -> Path:
    """Draw with `draw(pyplot)` and write the figure atomically in the format its
    extension names; a figure that cannot be drawn is one InputError."""
    from chinchilla_cli.files import write_atomic

    fmt = plot_format(path, option)
    plt = pyplot()
    try:
        fig = draw(plt)
    except (ValueError, OverflowError, FloatingPointError) as e:
        plt.close("all")
        raise InputError(f"cannot draw {what} ({e})", field=option) from None
    try:

        def save(tmp: Path) -> None:
            fig.savefig(tmp, format=fmt, dpi=150)

        if staged is not None:  # appears with the command's other outputs
            return staged.write(path, save, option)
        return write_atomic(path, save, option, force)
    finally:
        plt.close(fig)
