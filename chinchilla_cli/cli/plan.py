"""`chinchilla plan`: the compute-optimal model for a budget, and what the run takes."""

from __future__ import annotations

from typing import Annotated

import typer

from chinchilla_cli.cli._options import (
    HARDWARE,
    LOSS,
    POSITIVE,
    POSITIVE_INT,
    AcceleratorOpt,
    ArchOpt,
    AspectRatioOpt,
    DModelOpt,
    ExpertFfwOpt,
    ExpertsOpt,
    ForceOpt,
    GoodputOpt,
    GranularityOpt,
    GridIntensityOpt,
    JsonOpt,
    KvHeadsOpt,
    LawOpt,
    LayersOpt,
    MaxTotalParamsOpt,
    MfuOpt,
    PeakFlopsOpt,
    PlotOpt,
    PrecisionOpt,
    PricePerHourOpt,
    PueOpt,
    SeqLenOpt,
    SharedExpertsOpt,
    TdpWattsOpt,
    TopKOpt,
    VocabOpt,
    refuse_idle_outputs,
    refuse_unused,
)

# what --budget-range uses; every other option given with it is refused
RANGE_USES = ("budget_range", "law", "json_out")
BUDGET = "Budget (give exactly one)"
BEYOND = "Beyond the paper"


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
            parser=LOSS,
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
    accelerator: AcceleratorOpt = None,
    peak_flops: PeakFlopsOpt = None,
    precision: PrecisionOpt = None,
    mfu: MfuOpt = None,
    goodput: GoodputOpt = None,
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
    price_per_hour: PricePerHourOpt = None,
    tdp_watts: TdpWattsOpt = None,
    pue: PueOpt = None,
    grid_intensity: GridIntensityOpt = None,
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
    model: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="A famous model as built (see `chinchilla presets models`): its exact shape "
            "and active parameters on its published tokens (or --tokens); with --chips, its "
            "cost.",
            show_default=False,
            rich_help_panel=BUDGET,
        ),
    ] = None,
    arch: ArchOpt = None,
    kv_heads: KvHeadsOpt = None,
    aspect_ratio: AspectRatioOpt = None,
    layers: LayersOpt = None,
    d_model: DModelOpt = None,
    vocab: VocabOpt = None,
    seq_len: SeqLenOpt = None,
    experts: ExpertsOpt = None,
    top_k: TopKOpt = None,
    shared_experts: SharedExpertsOpt = None,
    expert_ffw: ExpertFfwOpt = None,
    granularity: GranularityOpt = None,
    max_total_params: MaxTotalParamsOpt = None,
    plot: PlotOpt = None,
    brief: Annotated[
        bool, typer.Option("--brief", help="One screen: the answer and its key numbers.")
    ] = False,
    force: ForceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """The compute-optimal model size and tokens for a budget: loss, shape, feasibility, cost."""
    from chinchilla_cli import planning, views
    from chinchilla_cli.budgets import check_one_budget
    from chinchilla_cli.cli.output import output, show
    from chinchilla_cli.errors import InputError

    if budget_range is not None:
        others = {"flops": flops, "params": params, "tokens": tokens, "target_loss": target_loss}
        check_one_budget({**others, "budget_range": budget_range})
        refuse_unused(ctx, RANGE_USES, "--budget-range prints the law's frontier")
        output(planning.frontier_table(budget_range, law), json_out)
        return
    refuse_idle_outputs(force, plot=plot)
    if brief and json_out:  # before any work or file
        raise InputError("--brief: shortens the tables; --json always holds the whole plan")
    if plot is not None:
        from chinchilla_cli.plots import check_plot_path

        check_plot_path(plot, "plot", force)  # before any work

    result = planning.plan(
        flops, chips=chips, days=days, hours=hours, params=params, tokens=tokens,
        target_loss=target_loss, law=law, accelerator=accelerator, peak_flops=peak_flops,
        mfu=mfu, goodput=goodput, deadline_days=deadline_days, price_per_hour=price_per_hour,
        tdp_watts=tdp_watts, pue=pue, grid_intensity=grid_intensity,
        unique_tokens=unique_tokens, inference_tokens=inference_tokens, arch=arch,
        kv_heads=kv_heads, aspect_ratio=aspect_ratio, vocab=vocab, seq_len=seq_len,
        experts=experts, top_k=top_k, shared_experts=shared_experts, expert_ffw=expert_ffw,
        granularity=granularity, max_total_params=max_total_params, precision=precision,
        model=model, layers=layers, d_model=d_model,
    )  # fmt: skip
    if plot is not None:
        from chinchilla_cli.plots.plan import plan_plot

        plan_plot(result, plot, "plot", force)
    if json_out:  # the files the command wrote follow the plan's own keys
        views.print_json({**result.to_dict(), "plot": plot})
        return
    if brief:
        from chinchilla_cli.views.plan import brief_view

        show(brief_view(result))
    else:
        show(views.render(result))
    for line in views.written_lines((("plot", plot),)):
        show(line)
