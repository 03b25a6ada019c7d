"""Printing for every command: a result as JSON or as its view, and a view as plain text
when piped. The commands import it from here (not from the package) so that the package,
which builds the commands, is imported by none of them."""

from __future__ import annotations

import sys
from typing import Any


def output(result: Any, json_out: bool) -> None:
    """Print a result: its `to_dict()` as JSON, or the view of it."""
    from chinchilla_cli import views

    if json_out:
        views.print_json(result.to_dict())
    else:
        show(views.render(result))


def show(renderable: Any) -> None:
    """Print a view; piped, as plain text without the spaces that pad table cells."""
    from chinchilla_cli import views

    console = views.console()
    if console.is_terminal:
        console.print(renderable, crop=False)
        return
    with console.capture() as captured:
        console.print(renderable, crop=False)
    text = captured.get()
    sys.stdout.write("".join(line.rstrip() + "\n" for line in text.splitlines()))
