"""`chinchilla compare`: training configurations side by side under a law."""

from __future__ import annotations

from typing import Annotated

import typer

from chinchilla_cli._options import JsonOpt, LawOpt


def compare(
    configs: Annotated[list[str] | None, typer.Argument(help="Model presets or N@D configurations.", show_default=False)] = None,
    law: LawOpt = "besiroglu2024",
    json_out: JsonOpt = False,
) -> None:
    """Training configurations side by side under a law (placeholder)."""
    raise typer.Exit(0)
