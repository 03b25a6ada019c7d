"""Typer option parsers (numbers with units and bounds; messages name the option) and
the option declarations commands share: the cluster (specs.ClusterSpec) and the sketch's
shape (specs.ShapeSpec) for `plan` and `sweep`, the law, the figure, --json, --force."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

from chinchilla_cli.architecture import (
    DEFAULT_ASPECT_RATIO,
    DEFAULT_FAMILY,
    DEFAULT_KV_HEADS,
    DEFAULT_SEQ_LEN,
)
from chinchilla_cli.costs import DEFAULT_GRID_G_PER_KWH, DEFAULT_PUE
from chinchilla_cli.errors import InputError
from chinchilla_cli.hardware import DEFAULT_ACCELERATOR, DEFAULT_GOODPUT, DEFAULT_MFU_BY_PRECISION
from chinchilla_cli.laws import DEFAULT_LAW
from chinchilla_cli.quantity import ACCEPTED, parse_quantity, require
from chinchilla_cli.specs import MAX_ASPECT_RATIO, MIN_ASPECT_RATIO


def quantity(
    *,
    minimum: float | None = 0.0,
    inclusive: bool = False,
    maximum: float | None = None,
    integer: bool = False,
    example: str | None = None,
) -> Callable[[str], float]:
    """A parser for numbers like 5.76e23, 70B or 2k, bounded as `quantity.require` checks.
    `example` is what an error shows for a plain number (a loss: 3.42), not a size."""

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
            message = e.message
            if example is not None:
                message = message.replace(ACCEPTED, f"a number such as {example}")
            raise typer.BadParameter(message) from None
        return int(value) if integer else value

    return parse


def text(what: str) -> Callable[[str], str]:
    """A parser that keeps the string; typer shows its name, `what`, where an argument's
    help would otherwise say `<str>`."""

    def parse(value: str) -> str:
        return value

    parse.__name__ = what
    return parse


POSITIVE = quantity()
POSITIVE_INT = quantity(integer=True)
FRACTION = quantity(maximum=1.0, example="0.4")
LOSS = quantity(example="2.1 (nats per token)")


JsonOpt = Annotated[bool, typer.Option("--json", help="Print only JSON (stable keys) for scripts.")]
LawOpt = Annotated[
    str | None,
    typer.Option(
        "--law",
        metavar="NAME|FILE",
        help="Scaling law: a preset name (see `chinchilla presets laws`) or a law YAML file.",
        show_default=DEFAULT_LAW,
    ),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Overwrite output files that already exist.")
]

# the cluster (specs.ClusterSpec) and the sketch's shape (specs.ShapeSpec): `plan` and
# `sweep` alike
MOE = "Mixture of experts (--arch moe)"
HARDWARE = "Hardware, time and cost"
SHAPE = "Architecture sketch"
PlotOpt = Annotated[
    str | None,
    typer.Option(
        "--plot",
        metavar="PATH.png",
        help="Write a figure (.png/.svg/.pdf; needs the plot extra): the law's loss landscape "
        "over N and D with IsoFLOP lines, the compute-optimal frontier and the runs.",
        show_default=False,
    ),
]
AcceleratorOpt = Annotated[
    str | None,
    typer.Option(
        metavar="NAME",
        help="Accelerator preset (see `chinchilla presets hardware`).",
        show_default=DEFAULT_ACCELERATOR,
        rich_help_panel=HARDWARE,
    ),
]
PeakFlopsOpt = Annotated[
    float | None,
    typer.Option(
        parser=POSITIVE,
        metavar="FLOP/S",
        help="Override the accelerator's dense peak (at --precision), FLOP/s per chip.",
        show_default=False,
        rich_help_panel=HARDWARE,
    ),
]
MfuOpt = Annotated[
    float | None,
    typer.Option(
        parser=FRACTION,
        metavar="FRACTION",
        help="Model FLOPs utilisation, a fraction in (0, 1] (the default follows --precision, "
        "from published runs).",
        show_default=", ".join(f"{v:g} at {k}" for k, v in DEFAULT_MFU_BY_PRECISION.items()),
        rich_help_panel=HARDWARE,
    ),
]
GoodputOpt = Annotated[
    float | None,
    typer.Option(
        parser=FRACTION,
        metavar="FRACTION",
        help="Fraction of wall-clock that trains (the rest: failures, restarts, "
        "checkpoints), in (0, 1].",
        show_default=f"{DEFAULT_GOODPUT:g}",
        rich_help_panel=HARDWARE,
    ),
]
PricePerHourOpt = Annotated[
    float | None,
    typer.Option(
        parser=POSITIVE,
        metavar="USD",
        help="USD per chip-hour (default: the preset's approximate on-demand price).",
        show_default=False,
        rich_help_panel=HARDWARE,
    ),
]
TdpWattsOpt = Annotated[
    float | None,
    typer.Option(
        parser=POSITIVE,
        metavar="WATTS",
        help="Power per chip in watts (default: the preset's TDP).",
        show_default=False,
        rich_help_panel=HARDWARE,
    ),
]
PueOpt = Annotated[
    float | None,
    typer.Option(
        parser=quantity(minimum=1.0, inclusive=True),
        metavar="RATIO",
        help="Data-centre power usage effectiveness, >= 1.",
        show_default=f"{DEFAULT_PUE:g}",
        rich_help_panel=HARDWARE,
    ),
]
GridIntensityOpt = Annotated[
    float | None,
    typer.Option(
        parser=quantity(minimum=0.0, inclusive=True),
        metavar="G/KWH",
        help="Grid carbon intensity, gCO2e/kWh (default: IEA 2019 world average).",
        show_default=f"{DEFAULT_GRID_G_PER_KWH:g}",
        rich_help_panel=HARDWARE,
    ),
]
ArchOpt = Annotated[
    str | None,
    typer.Option(
        metavar="chinchilla|llama|moe",
        help="Architecture family of the sketch: chinchilla (the paper's shapes), llama "
        "(SwiGLU, GQA) or moe (a mixture of experts: N is the active parameters).",
        show_default=DEFAULT_FAMILY,
        rich_help_panel=SHAPE,
    ),
]
KvHeadsOpt = Annotated[
    int | None,
    typer.Option(
        parser=POSITIVE_INT,
        metavar="N",
        help="Key/value heads for --arch llama or moe (grouped-query attention).",
        show_default=str(DEFAULT_KV_HEADS),
        rich_help_panel=SHAPE,
    ),
]
AspectRatioOpt = Annotated[
    float | None,
    typer.Option(
        parser=POSITIVE,
        metavar="RATIO",
        help=f"Target d_model / layers, {MIN_ASPECT_RATIO:g} to {MAX_ASPECT_RATIO:g} "
        "(Table A9 spans 43-109).",
        show_default=f"{DEFAULT_ASPECT_RATIO:g}",
        rich_help_panel=SHAPE,
    ),
]
VocabOpt = Annotated[
    int | None,
    typer.Option(
        parser=POSITIVE_INT,
        metavar="TOKENS",
        help="Vocabulary size, tokens [default: 32,000; 128,256 with --arch llama or moe].",
        show_default=False,
        rich_help_panel=SHAPE,
    ),
]
SeqLenOpt = Annotated[
    int | None,
    typer.Option(
        parser=POSITIVE_INT,
        metavar="TOKENS",
        help="Sequence length, tokens.",
        show_default=str(DEFAULT_SEQ_LEN),
        rich_help_panel=SHAPE,
    ),
]
LayersOpt = Annotated[
    int | None,
    typer.Option(
        parser=POSITIVE_INT,
        metavar="N",
        help="Pin the sketch's depth (the width then fits the size; with --d-model, the "
        "shape and its size are fixed).",
        show_default=False,
        rich_help_panel=SHAPE,
    ),
]
DModelOpt = Annotated[
    int | None,
    typer.Option(
        parser=POSITIVE_INT,
        metavar="WIDTH",
        help="Pin the sketch's width, whole heads: a multiple of 64 up to 1,024, of 128 above "
        "(the depth then fits the size).",
        show_default=False,
        rich_help_panel=SHAPE,
    ),
]
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


def experts_text(text: str) -> str:
    """--experts: a count, `auto`, or a comma list of counts (checked as POSITIVE_INT)."""
    if not isinstance(text, str) or text.strip().lower() == "auto":
        return text
    for part in text.split(","):
        POSITIVE_INT(part.strip())
    return text.strip()


experts_text.__name__ = "E"
ExpertsOpt = Annotated[
    str | None,
    typer.Option(
        parser=experts_text,
        metavar="E|auto|E,E,...",
        help="Routed experts per MoE layer (needed with --arch moe). Under ludziejewski2025: "
        "auto (the count of lowest predicted loss in its fitted range) or a comma list of "
        "counts to compare (plan: the best of them; sweep: one set of runs each).",
        show_default=False,
        rich_help_panel=MOE,
    ),
]
GranularityOpt = Annotated[
    str | None,
    typer.Option(
        metavar="G|auto",
        parser=text("G"),
        help="Granularity under krajewski2024 (each token to G experts of 1/G the FFN "
        "width): a number, or auto for the best under its FLOP model.",
        show_default=False,
        rich_help_panel=MOE,
    ),
]
MaxTotalParamsOpt = Annotated[
    float | None,
    typer.Option(
        parser=POSITIVE,
        metavar="N",
        help="Memory limit for an MoE law's choice: the most total parameters (every "
        "expert held), e.g. 5B.",
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
