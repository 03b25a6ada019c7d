"""Rich views of the core's result objects: presentation only.

Every number a view prints is held by a result object; a view formats it (units,
significant figures) and chooses the words around it. Shared builders live here so the
tables of every command look alike.
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from chinchilla_cli.views.table import OnePassTable

DASH = "—"

# How argument names written in backticks by the core (`huber_delta`) are shown: as
# Python arguments (a notebook, a script) unless a front end renders inside
# `option_names(...)`, which names them as its options (--huber-delta) for that scope only.
# A context variable, not a module setting: importing the command line changes nothing,
# and a view rendered for the library after a command has run still says `huber_delta`.
_ARGUMENT = re.compile(r"`([a-z][a-z0-9_]*)`")
_OPTION_NAMES: ContextVar[Mapping[str, str] | None] = ContextVar(
    "chinchilla_option_names", default=None
)


@contextmanager
def option_names(names: Mapping[str, str]) -> Iterator[None]:
    """Within the block, `words` shows backticked arguments as command-line options:
    `names` maps a Python argument to its option (`json_out` -> `--json`); any other is
    `--kebab-case`. The previous naming is restored on leaving, even on an error."""
    token = _OPTION_NAMES.set(dict(names))
    try:
        yield
    finally:
        _OPTION_NAMES.reset(token)


def option_name(field: str, names: Mapping[str, str] | None = None) -> str:
    """The command line's name for argument `field`: its entry in `names` (by default
    those of the enclosing `option_names` block), else `--field-name`."""
    if names is None:
        names = _OPTION_NAMES.get() or {}
    return names.get(field, "--" + field.replace("_", "-"))


def name_arguments(text: str, names: Mapping[str, str]) -> str:
    """`text` with each backticked argument written as its option (see `option_name`)."""
    return _ARGUMENT.sub(lambda m: option_name(m.group(1), names), text)


def words(text: str) -> str:
    """`text` with each backticked argument named as the current front end names it:
    unchanged for the library, as options inside an `option_names` block."""
    names = _OPTION_NAMES.get()
    return text if names is None else name_arguments(text, names)


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=False, emoji=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, allow_nan=False) + "\n")


def titled_table(title: str, *, compact: bool = False, **options: Any) -> Table:
    """The one table style: bold title on the left, a rule under the header.

    `compact` drops the outer edge and padding (wide tables of many columns)."""
    if compact:
        options = {"show_edge": False, "collapse_padding": True, "pad_edge": False, **options}
    return OnePassTable(
        title=title,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        **options,
    )


def kv_table(title: str, rows: Iterable[tuple[str, str, str]]) -> Table:
    """A three-column table: quantity, value, how it was obtained."""
    t = titled_table(title, show_header=False, pad_edge=False, min_width=len(title) + 1)
    t.add_column("quantity", style="cyan", no_wrap=True)
    t.add_column("value", justify="right", no_wrap=True)
    t.add_column("note", style="dim")
    for row in rows:
        t.add_row(*row)
    return t


def warnings_block(warnings: Iterable[str], heading: str = "warning") -> RenderableType:
    lines = [Text.assemble((f"{heading}: ", "bold yellow"), words(w)) for w in warnings]
    return Group(*lines)


_WRITTEN = {"plot": "the figure", "saved": "the law", "csv": "the grid"}


def unbroken(text: str, style: str = "") -> RenderableType:
    """A line never wrapped (nor cropped, as `cli.output.show` prints): a path in it stays
    whole, to be copied from the terminal or found in a log. In a Group: `Console.print`
    joins bare Text objects into a new one, which wraps."""
    return Group(Text(text, style=style, no_wrap=True, overflow="ignore"))


def written_lines(written: Iterable[tuple[str, str | None]]) -> list[RenderableType]:
    """One line per file a command wrote."""
    return [unbroken(f"Wrote {_WRITTEN.get(k, k)} to {path}") for k, path in written if path]


def days(seconds: float | None) -> str:
    return DASH if seconds is None else f"{seconds / 86400:,.1f} days"


def render(result: Any) -> RenderableType:
    """The view of any result object, as its command prints it."""
    from importlib import import_module

    module, function = _VIEWS[type(result).__name__]
    return getattr(import_module(f"chinchilla_cli.views.{module}"), function)(result)  # type: ignore[no-any-return]


def mimebundle(result: Any) -> dict[str, str]:
    """Jupyter's rich display of a result: the command's tables as text and as HTML
    tables, with nothing printed (a console in a notebook would display as it prints)."""
    return {"text/plain": plain_text(result), "text/html": render_html(result)}


def plain_text(result: Any, width: int = 110) -> str:
    """The result's view as the terminal shows it, without colour."""
    c = Console(record=True, width=width, file=io.StringIO(), highlight=False, force_jupyter=False)
    c.print(render(result))
    return c.export_text()


def render_html(result: Any) -> str:
    """The result's view as HTML: a table for each of its tables, its lines and warnings."""
    from chinchilla_cli.views.html import to_html

    return to_html(render(result))


_VIEWS = {
    "Intervention": ("interventions", "comparison_view"),
    "Plan": ("plan", "plan_view"),
    "Frontier": ("plan", "frontier_view"),
    "FitReport": ("fit", "fit_view"),
    "MoEFitReport": ("moe_fit", "moe_fit_view"),
    "Comparison": ("compare", "compare_view"),
    "Sweep": ("sweep", "sweep_view"),
    "Suggestion": ("design", "suggestion_view"),
}
