"""Typer option parsers: numbers with units and bounds; messages name the option."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from chinchilla_cli.errors import InputError
from chinchilla_cli.laws import DEFAULT_LAW
from chinchilla_cli.quantity import parse_quantity, require


def quantity(
    *,
    minimum: float | None = 0.0,
    inclusive: bool = False,
    maximum: float | None = None,
    integer: bool = False,
) -> Callable[[str], float]:
    """A parser for numbers like 5.76e23, 70B or 2k, bounded as `quantity.require` checks."""

    def parse(text: str) -> float:
        if isinstance(text, (int, float)):  # a default value, already a number
            return text
        try:
            value = parse_quantity(text, "value")
            require(
                value,
                "value",
                minimum=minimum,
                inclusive=inclusive,
                maximum=maximum,
                integer=integer,
                text=text,
            )
        except InputError as e:
            raise typer.BadParameter(e.message) from None
        return int(value) if integer else value

    return parse


POSITIVE = quantity()
POSITIVE_INT = quantity(integer=True)
FRACTION = quantity(maximum=1.0)


JsonOpt = Annotated[bool, typer.Option("--json", help="Print only JSON (stable keys) for scripts.")]
LawOpt = Annotated[
    str | None,
    typer.Option(
        "--law",
        help="Scaling law: a preset name (see `chinchilla presets laws`) or a law YAML file.",
        show_default=DEFAULT_LAW,
    ),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Overwrite output files that already exist.")
]

# the number format and the mixture-of-experts shape: `plan` and `sweep` alike
MOE = "Mixture of experts (--arch moe)"
HARDWARE = "Hardware, time and cost"
PrecisionOpt = Annotated[
    str | None,
    typer.Option(
        metavar="bf16|fp8",
        help="Number format of the matrix multiplies: picks the accelerator's dense peak "
        "(the memory recipe is in the assumptions).",
        show_default="bf16",
        rich_help_panel=HARDWARE,
    ),
]
ExpertsOpt = Annotated[
    int | None,
    typer.Option(
        parser=POSITIVE_INT,
        metavar="E",
        help="Routed experts per MoE layer (needed with --arch moe).",
        show_default=False,
        rich_help_panel=MOE,
    ),
]
TopKOpt = Annotated[
    int | None,
    typer.Option(
        parser=POSITIVE_INT,
        metavar="K",
        help="Routed experts each token uses, at most --experts (needed with --arch moe).",
        show_default=False,
        rich_help_panel=MOE,
    ),
]
SharedExpertsOpt = Annotated[
    int | None,
    typer.Option(
        parser=quantity(minimum=0, inclusive=True, integer=True),
        metavar="S",
        help="Experts every token uses besides its top-k.",
        show_default="0",
        rich_help_panel=MOE,
    ),
]
ExpertFfwOpt = Annotated[
    int | None,
    typer.Option(
        parser=POSITIVE_INT,
        metavar="WIDTH",
        help="Feed-forward width of each expert (default: the dense SwiGLU width over "
        "top-k + shared experts, the dense model's compute per token).",
        show_default=False,
        rich_help_panel=MOE,
    ),
]


def refuse_idle_outputs(force: bool, name: str | None = None, **outputs: str | None) -> None:
    """--force (and --name) only mean something with an output file to write."""
    from chinchilla_cli.errors import InputError

    given = [k for k, v in outputs.items() if v is not None]
    files = ", ".join("--" + k for k in outputs)
    if force and not given:
        raise InputError(f"--force: nothing to overwrite; it goes with {files}")
    if name is not None and "save" in outputs and outputs["save"] is None:
        raise InputError("--name: names the saved law; it goes with --save")


def refuse_unused(ctx: typer.Context, uses: tuple[str, ...], why: str) -> None:
    """Refuse, in one line, any option the user gave that this mode does not use."""
    for param in ctx.command.params:
        name = param.name or ""
        source = ctx.get_parameter_source(name)
        if name in uses or source is None or source.name != "COMMANDLINE":
            continue
        option = max(param.opts, key=len)
        accepted = ", ".join("--" + u.removesuffix("_out").replace("_", "-") for u in uses)
        raise InputError(f"{option}: not used: {why}; accepted with it: {accepted}")
