"""Typer option parsers: numbers with units, bounds, and one-line messages naming the option."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated

import typer

from chinchilla_cli.errors import InputError
from chinchilla_cli.quantity import check_magnitude, parse_quantity


def quantity(
    *,
    minimum: float | None = 0.0,
    inclusive: bool = False,
    maximum: float | None = None,
    integer: bool = False,
) -> Callable[[str], float]:
    """A parser for numbers like 5.76e23, 70B or 2k, bounded as asked.

    Defaults to strictly positive: sizes, budgets and durations are never zero.
    """

    def parse(text: str) -> float:
        if isinstance(text, (int, float)):  # a default value, already a number
            return text
        try:
            value = parse_quantity(text, "value")
        except InputError as e:
            raise typer.BadParameter(str(e).removeprefix("value: ")) from None
        if minimum is not None and (value < minimum or (value == minimum and not inclusive)):
            op = ">=" if inclusive else ">"
            raise typer.BadParameter(
                f"{text!r} is out of range; expected a number {op} {minimum:g}"
            )
        if maximum is not None and value > maximum:
            raise typer.BadParameter(f"{text!r} is out of range; expected a number <= {maximum:g}")
        try:
            check_magnitude(value, text, "value")
        except InputError as e:
            raise typer.BadParameter(str(e).removeprefix("value: ")) from None
        if integer:
            if value != math.floor(value):
                raise typer.BadParameter(f"{text!r} is not a whole number")
            return int(value)
        return value

    return parse


POSITIVE = quantity()
POSITIVE_INT = quantity(integer=True)
FRACTION = quantity(maximum=1.0)


JsonOpt = Annotated[bool, typer.Option("--json", help="Print only JSON (stable keys) for scripts.")]
LawOpt = Annotated[
    str,
    typer.Option(
        "--law",
        help="Scaling law: a preset name (see `chinchilla presets laws`) or a law YAML file.",
    ),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Overwrite output files that already exist.")
]
