"""A result's figure as a matplotlib Figure (`result.plot()`): the figure `--plot` writes,
drawn by the same functions, but off pyplot. The figure is not registered with pyplot, so
a notebook shows it once (as the cell's value) and its backend is left as the user set it;
it is written only when a path is given.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chinchilla_cli.errors import InputError
from chinchilla_cli.plots import INSTALL_HINT, plot_format


class Canvas:
    """What the drawing functions ask of pyplot, making figures pyplot does not manage."""

    def __init__(self) -> None:
        try:
            import matplotlib
            import matplotlib.colors
        except ImportError:
            raise InputError(INSTALL_HINT) from None
        self._matplotlib = matplotlib
        self.Normalize = matplotlib.colors.Normalize
        import matplotlib.cm

        self.cm = matplotlib.cm

    def get_cmap(self, name: str) -> Any:
        return self._matplotlib.colormaps[name]

    def subplots(
        self,
        nrows: int = 1,
        ncols: int = 1,
        *,
        gridspec_kw: dict[str, Any] | None = None,
        **figure_kw: Any,
    ) -> tuple[Any, Any]:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig = figure_class()(**figure_kw)
        FigureCanvasAgg(fig)  # a canvas to lay out text on and to save with
        return fig, fig.subplots(nrows, ncols, gridspec_kw=gridspec_kw)


@functools.cache
def figure_class() -> Any:
    """matplotlib's Figure, showing itself in Jupyter as a PNG: off pyplot, no backend
    registers a display for it."""
    from matplotlib.figure import Figure as Base

    class Figure(Base):
        """A matplotlib Figure that Jupyter shows as PNG without pyplot."""

        def _repr_png_(self) -> bytes:
            png = io.BytesIO()
            self.savefig(png, format="png", bbox_inches="tight")
            return png.getvalue()

    return Figure


def _drawer(result: Any) -> Callable[[Any], Any]:
    """The function drawing `result`'s figure on a Canvas."""
    kind = type(result).__name__
    if kind == "Intervention":
        result = result.report
        kind = "FitReport"
    if kind == "FitReport":
        if result.intervention is not None:
            from chinchilla_cli.plots.interventions import intervention_figure

            return lambda plt: intervention_figure(plt, result)
        from chinchilla_cli.plots.fit import fit_figure

        return lambda plt: fit_figure(plt, result)
    if kind == "Plan":
        from chinchilla_cli.plots.plan import plan_figure

        return lambda plt: plan_figure(plt, result)
    if kind == "Comparison":
        from chinchilla_cli.plots.compare import compare_figure

        return lambda plt: compare_figure(plt, result)
    if kind == "Sweep":
        from chinchilla_cli.plots.sweep import sweep_figure

        return lambda plt: sweep_figure(plt, result)
    raise InputError(f"a {kind} has no figure", field="plot")


def figure(result: Any, path: str | Path | None = None, force: bool = False) -> Any:
    """`result`'s figure; with `path`, also written there atomically (the format from its
    extension; an existing file only with `force`)."""
    draw = _drawer(result)
    if path is not None:  # refuse a bad name or an existing file before drawing
        from chinchilla_cli.files import check_writable

        plot_format(str(path), "path")
        check_writable(str(path), "path", force)
    try:
        fig = draw(Canvas())
    except (ValueError, OverflowError, FloatingPointError) as e:
        raise InputError(f"cannot draw this {type(result).__name__} ({e})", field="plot") from None
    if path is not None:
        from chinchilla_cli.files import write_atomic

        fmt = plot_format(str(path), "path")
        write_atomic(path, lambda tmp: fig.savefig(tmp, format=fmt, dpi=150), "path", force)
    return fig
