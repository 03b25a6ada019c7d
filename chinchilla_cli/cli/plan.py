"""`chinchilla plan`: the compute-optimal model for a budget, and what the run takes."""

from __future__ import annotations

from typing import Annotated

import typer

from chinchilla_cli.architecture import (
    DEFAULT_ASPECT_RATIO,
    DEFAULT_FAMILY,
    DEFAULT_KV_HEADS,
    DEFAULT_SEQ_LEN,
)
from chinchilla_cli.cli._options import (
    FRACTION,
    HARDWARE,
    POSITIVE,
    POSITIVE_INT,
    ExpertFfwOpt,
    ExpertsOpt,
    ForceOpt,
    JsonOpt,
    LawOpt,
    PrecisionOpt,
    SharedExpertsOpt,
    TopKOpt,
    quantity,
    refuse_idle_outputs,
    refuse_unused,
)
from chinchilla_cli.costs import DEFAULT_GRID_G_PER_KWH, DEFAULT_PUE
from chinchilla_cli.hardware import (
    DEFAULT_ACCELERATOR,
    DEFAULT_GOODPUT,
    DEFAULT_MFU,
)

# what --budget-range uses; every other option given with it is refused
RANGE_USES = ("budget_range", "law", "json_out")
BUDGET = "Budget (give exactly one)"
BEYOND = "Beyond the paper"
SHAPE = "Architecture sketch"


def plan(
    ctx: typer.Context,
    flops: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            metavar="FLOPS",
            help="Compute budget C in FLOPs, e.g. 5.76e23.",
            show_default=False,
            rich_help_panel=BUDGET,
        ),
    ] = None,
    chips: Annotated[
        int | None,
        typer.Option(
            parser=POSITIVE_INT,
            metavar="N",
            help="Number of accelerators. With --days/--hours: the budget; otherwise the "
            "cluster the run uses.",
            show_default=False,
            rich_help_panel=BUDGET,
        ),
    ] = None,
    days: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            metavar="DAYS",
            help="Wall-clock days of training on --chips.",
            show_default=False,
            rich_help_panel=BUDGET,
        ),
    ] = None,
    hours: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            metavar="HOURS",
            help="Wall-clock hours of training on --chips.",
            show_default=False,
            rich_help_panel=BUDGET,
        ),
    ] = None,
    params: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            metavar="N",
            help="Model size N in parameters, e.g. 70B: the optimal tokens and compute for it.",
            show_default=False,
            rich_help_panel=BUDGET,
        ),
    ] = None,
    tokens: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            metavar="D",
            help="Training tokens D, e.g. 1.4T: the optimal size and compute for them.",
            show_default=False,
            rich_help_panel=BUDGET,
        ),
    ] = None,
    target_loss: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            metavar="LOSS",
            help="Predicted loss to reach (nats/token): the least compute that reaches it.",
            show_default=False,
            rich_help_panel=BUDGET,
        ),
    ] = None,
    budget_range: Annotated[
        str | None,
        typer.Option(
            metavar="START:STOP:COUNT",
            help="Budgets START:STOP:COUNT (log-spaced) or a comma list, FLOPs: one frontier "
            "row each.",
            show_default=False,
            rich_help_panel=BUDGET,
        ),
    ] = None,
    accelerator: Annotated[
        str | None,
        typer.Option(
            help="Accelerator preset (see `chinchilla presets hardware`).",
            show_default=DEFAULT_ACCELERATOR,
            rich_help_panel=HARDWARE,
        ),
    ] = None,
    peak_flops: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            metavar="FLOP/S",
            help="Override the accelerator's dense peak (at --precision), FLOP/s per chip.",
            show_default=False,
            rich_help_panel=HARDWARE,
        ),
    ] = None,
    precision: PrecisionOpt = None,
    mfu: Annotated[
        float | None,
        typer.Option(
            parser=FRACTION,
            metavar="FRACTION",
            help="Model FLOPs utilisation, a fraction in (0, 1].",
            show_default=f"{DEFAULT_MFU:g}",
            rich_help_panel=HARDWARE,
        ),
    ] = None,
    goodput: Annotated[
        float | None,
        typer.Option(
            parser=FRACTION,
            metavar="FRACTION",
            help="Fraction of wall-clock that trains (the rest: failures, restarts, "
            "checkpoints), in (0, 1].",
            show_default=f"{DEFAULT_GOODPUT:g}",
            rich_help_panel=HARDWARE,
        ),
    ] = None,
    deadline_days: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            metavar="DAYS",
            help="Finish within this many days: the chips needed (with --flops, --params, "
            "--tokens or --target-loss).",
            show_default=False,
            rich_help_panel=HARDWARE,
        ),
    ] = None,
    price_per_hour: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            metavar="USD",
            help="USD per chip-hour (default: the preset's approximate on-demand price).",
            show_default=False,
            rich_help_panel=HARDWARE,
        ),
    ] = None,
    tdp_watts: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            metavar="WATTS",
            help="Power per chip in watts (default: the preset's TDP).",
            show_default=False,
            rich_help_panel=HARDWARE,
        ),
    ] = None,
    pue: Annotated[
        float | None,
        typer.Option(
            parser=quantity(minimum=1.0, inclusive=True),
            metavar="RATIO",
            help="Data-centre power usage effectiveness, >= 1.",
            show_default=f"{DEFAULT_PUE:g}",
            rich_help_panel=HARDWARE,
        ),
    ] = None,
    grid_intensity: Annotated[
        float | None,
        typer.Option(
            parser=quantity(minimum=0.0, inclusive=True),
            metavar="G/KWH",
            help="Grid carbon intensity, gCO2e/kWh (default: IEA 2019 world average).",
            show_default=f"{DEFAULT_GRID_G_PER_KWH:g}",
            rich_help_panel=HARDWARE,
        ),
    ] = None,
    law: LawOpt = None,
    unique_tokens: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            metavar="D",
            help="Unique tokens available (Muennighoff et al. 2023): plan with repeated data.",
            show_default=False,
            rich_help_panel=BEYOND,
        ),
    ] = None,
    inference_tokens: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            metavar="D",
            help="Tokens the model will serve (Sardana et al. 2024): minimise lifetime compute.",
            show_default=False,
            rich_help_panel=BEYOND,
        ),
    ] = None,
    arch: Annotated[
        str | None,
        typer.Option(
            help="Architecture family of the sketch: chinchilla (the paper's shapes), llama "
            "(SwiGLU, GQA) or moe (a mixture of experts: N is the active parameters).",
            show_default=DEFAULT_FAMILY,
            rich_help_panel=SHAPE,
        ),
    ] = None,
    kv_heads: Annotated[
        int | None,
        typer.Option(
            parser=POSITIVE_INT,
            metavar="N",
            help="Key/value heads for --arch llama or moe (grouped-query attention).",
            show_default=str(DEFAULT_KV_HEADS),
            rich_help_panel=SHAPE,
        ),
    ] = None,
    aspect_ratio: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            metavar="RATIO",
            help="Target d_model / layers (Table A9 spans 43-109).",
            show_default=f"{DEFAULT_ASPECT_RATIO:g}",
            rich_help_panel=SHAPE,
        ),
    ] = None,
    vocab: Annotated[
        int | None,
        typer.Option(
            parser=POSITIVE_INT,
            metavar="TOKENS",
            help="Vocabulary size, tokens [default: 32,000; 128,256 with --arch llama].",
            show_default=False,
            rich_help_panel=SHAPE,
        ),
    ] = None,
    seq_len: Annotated[
        int | None,
        typer.Option(
            parser=POSITIVE_INT,
            metavar="TOKENS",
            help="Sequence length, tokens.",
            show_default=str(DEFAULT_SEQ_LEN),
            rich_help_panel=SHAPE,
        ),
    ] = None,
    experts: ExpertsOpt = None,
    top_k: TopKOpt = None,
    shared_experts: SharedExpertsOpt = None,
    expert_ffw: ExpertFfwOpt = None,
    plot: Annotated[
        str | None,
        typer.Option(
            metavar="FILE",
            help="Write a figure (.png/.svg/.pdf; needs the plot extra): the landscape, each "
            "law's frontier, the plan.",
            show_default=False,
        ),
    ] = None,
    brief: Annotated[
        bool, typer.Option("--brief", help="One screen: the answer and its key numbers.")
    ] = False,
    force: ForceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """The compute-optimal model size and tokens for a budget: loss, shape, feasibility, cost."""
    from dataclasses import replace

    from chinchilla_cli import planning
    from chinchilla_cli.cli import output

    if budget_range is not None:
        others = {"flops": flops, "params": params, "tokens": tokens, "target_loss": target_loss}
        planning.check_one_budget({**others, "budget_range": budget_range})
        refuse_unused(ctx, RANGE_USES, "--budget-range prints the law's frontier")
        output(planning.frontier_table(budget_range, law), json_out)
        return
    refuse_idle_outputs(force, plot=plot)
    if plot is not None:
        from chinchilla_cli.plots import check_plot_path

        check_plot_path(plot, "plot", force)  # before any work

    result = planning.plan(
        flops,
        chips=chips,
        days=days,
        hours=hours,
        params=params,
        tokens=tokens,
        target_loss=target_loss,
        law=law,
        accelerator=accelerator,
        peak_flops=peak_flops,
        mfu=mfu,
        goodput=goodput,
        deadline_days=deadline_days,
        price_per_hour=price_per_hour,
        tdp_watts=tdp_watts,
        pue=pue,
        grid_intensity=grid_intensity,
        unique_tokens=unique_tokens,
        inference_tokens=inference_tokens,
        arch=arch,
        kv_heads=kv_heads,
        aspect_ratio=aspect_ratio,
        vocab=vocab,
        seq_len=seq_len,
        experts=experts,
        top_k=top_k,
        shared_experts=shared_experts,
        expert_ffw=expert_ffw,
        precision=precision,
    )
    if plot is not None:
        from chinchilla_cli.plots.plan import plan_plot

        plan_plot(result, plot, "plot", force)
    result = replace(result, written=(("plot", plot),))
    if brief and json_out:
        from chinchilla_cli.errors import InputError

        raise InputError("--brief: shortens the tables; --json always holds the whole plan")
    if brief:
        from chinchilla_cli.cli import show
        from chinchilla_cli.views.plan import brief_view

        show(brief_view(result))
    else:
        output(result, json_out)
