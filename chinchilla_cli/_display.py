"""How a result shows itself, without the core importing rich or matplotlib.

The one bridge from the core up to views/ and plots/: a result class mixes in `Displayed`
(Jupyter's HTML tables, rich's `__rich__` for `rich.print`) or `Drawn` (also `plot()`, a
matplotlib Figure), and these load the views (and rich) or the figures (and matplotlib)
only when asked. Each result writes its own one-line `__repr__`.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any


def display_bundle(result: Any) -> dict[str, str]:
    """The tables the command prints for `result`, as text and as HTML tables."""
    views = importlib.import_module("chinchilla_cli.views")
    bundle: dict[str, str] = views.mimebundle(result)
    return bundle


def display_html(result: Any) -> str:
    """The tables the command prints for `result`, as HTML."""
    views = importlib.import_module("chinchilla_cli.views")
    html: str = views.render_html(result)
    return html


def rich_view(result: Any) -> Any:
    """The rich renderable the command prints for `result`."""
    return importlib.import_module("chinchilla_cli.views").render(result)


def draw(result: Any, path: str | Path | None = None, force: bool = False) -> Any:
    """The figure the command's `plot` writes for `result` (a matplotlib Figure)."""
    return importlib.import_module("chinchilla_cli.plots.figures").figure(result, path, force)


class Displayed:
    """Shows as the command's tables: HTML in Jupyter, rich in a terminal
    (`rich.print(result)`), text in IPython's terminal. Nothing is printed meanwhile."""

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return display_bundle(self)

    def _repr_html_(self) -> str:
        return display_html(self)

    def __rich__(self) -> Any:
        return rich_view(self)


class Drawn(Displayed):
    """Displayed, and drawn as the command's `plot` draws it."""

    def plot(self, path: str | Path | None = None, *, force: bool = False) -> Any:
        """The figure (a matplotlib Figure; needs matplotlib). With `path` (.png, .svg or
        .pdf) it is also written there, an existing file only with `force`."""
        return draw(self, path, force)
