"""`chinchilla sweep`: design an IsoFLOP experiment around a law's predicted optimum."""

from __future__ import annotations

from typing import Annotated

import typer

from chinchilla_cli.cli._options import (
    POSITIVE,
    POSITIVE_INT,
    AcceleratorOpt,
    ArchOpt,
    AspectRatioOpt,
    ExpertFfwOpt,
    ExpertsOpt,
    ForceOpt,
    JsonOpt,
    KvHeadsOpt,
    LawOpt,
    MfuOpt,
    PeakFlopsOpt,
    PlotOpt,
    PrecisionOpt,
    SeqLenOpt,
    SharedExpertsOpt,
    TopKOpt,
    VocabOpt,
    quantity,
    refuse_idle_outputs,
)
from chinchilla_cli.sweeps import (
    DEFAULT_CHIPS,
    DEFAULT_NARROW,
    DEFAULT_SIZES,
    DEFAULT_SPAN,
    DEFAULT_SUGGESTED_RUNS,
    NARROW,
)

NEXT = "The next runs to train"
# what --from uses; every other option given with it is refused
# (named as the library names them: runs, target_flops, n_runs; errors then name the option)
FROM_USES = ("runs", "target_flops", "n_runs", "max_flops", "narrow", "max_loss", "json_out")


def sweep(
    ctx: typer.Context,
    budgets: Annotated[
        str | None,
        typer.Option(
            "--budgets",
            metavar="START:STOP:COUNT|LIST",
            show_default=False,
            help="FLOP budgets: start:stop:count (count budgets spaced evenly in log C, both ends "
            "included; e.g. 1e18:1e20:5) or a comma list (e.g. 6e18,1e19,3e19).",
        ),
    ] = None,
    sizes: Annotated[
        int,
        typer.Option(
            metavar="N",
            parser=quantity(minimum=1, inclusive=True, integer=True),
            help="Model sizes per budget, 1 to 100 (3 or more: the IsoFLOP fit is a parabola "
            "in log N).",
        ),
    ] = DEFAULT_SIZES,
    span: Annotated[
        float,
        typer.Option(
            metavar="FACTOR",
            parser=quantity(minimum=1.0),
            help="Largest over smallest model size of each budget, a factor > 1; the sizes are "
            "spread evenly in log N and centred on the law's optimum.",
        ),
    ] = DEFAULT_SPAN,
    law: LawOpt = None,
    chips: Annotated[
        int,
        typer.Option(
            metavar="N",
            parser=POSITIVE_INT,
            help="Number of accelerators each run trains on (the runs go one after another).",
        ),
    ] = DEFAULT_CHIPS,
    accelerator: AcceleratorOpt = None,
    peak_flops: PeakFlopsOpt = None,
    mfu: MfuOpt = None,
    vocab: VocabOpt = None,
    seq_len: SeqLenOpt = None,
    aspect_ratio: AspectRatioOpt = None,
    arch: ArchOpt = None,
    kv_heads: KvHeadsOpt = None,
    experts: ExpertsOpt = None,
    top_k: TopKOpt = None,
    shared_experts: SharedExpertsOpt = None,
    expert_ffw: ExpertFfwOpt = None,
    precision: PrecisionOpt = None,
    csv: Annotated[
        str | None,
        typer.Option(
            "--csv",
            metavar="FILE",
            show_default=False,
            help="Write the grid as CSV (budget_flops, params, tokens, flops, n_layers, d_model, "
            "n_heads, hours, and an empty loss column): fill in the losses, then run "
            "`chinchilla fit` on it.",
        ),
    ] = None,
    plot: PlotOpt = None,
    runs: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="RUNS",
            show_default=False,
            help="Runs already trained (a CSV as `fit` reads it): suggest the next runs to "
            "train, those that most narrow the interval at --target per FLOP.",
            rich_help_panel=NEXT,
        ),
    ] = None,
    target_flops: Annotated[
        float | None,
        typer.Option(
            "--target",
            parser=POSITIVE,
            metavar="FLOPS",
            show_default=False,
            help="With --from: the budget whose N_opt (or loss) the runs should pin down.",
            rich_help_panel=NEXT,
        ),
    ] = None,
    n_runs: Annotated[
        int,
        typer.Option(
            "--runs",
            metavar="K",
            parser=quantity(minimum=1, inclusive=True, integer=True),
            help="With --from: how many runs to suggest.",
            rich_help_panel=NEXT,
        ),
    ] = DEFAULT_SUGGESTED_RUNS,
    max_flops: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            metavar="FLOPS",
            show_default=False,
            help="With --from: the most compute one new run may take (default: 10x the "
            "largest run given).",
            rich_help_panel=NEXT,
        ),
    ] = None,
    narrow: Annotated[
        str,
        typer.Option(
            metavar="|".join(NARROW),
            help="With --from: narrow the interval of N_opt (nopt) or of the compute-optimal "
            "loss (loss) at --target.",
            rich_help_panel=NEXT,
        ),
    ] = DEFAULT_NARROW,
    max_loss: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            metavar="LOSS",
            show_default=False,
            help="With --from: drop runs with a higher loss before fitting (as `fit`).",
            rich_help_panel=NEXT,
        ),
    ] = None,
    force: ForceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Design an IsoFLOP experiment: model sizes per budget centred on the law's optimum;
    or, with --from, the next runs to train."""
    from pathlib import Path

    from chinchilla_cli import files, sweeps, views
    from chinchilla_cli.cli.output import show
    from chinchilla_cli.errors import InputError
    from chinchilla_cli.quantity import BUDGET_FORMS

    if runs is not None:
        from chinchilla_cli.cli._options import refuse_unused
        from chinchilla_cli.design import suggest_runs

        refuse_unused(ctx, FROM_USES, "--from suggests runs to add to a fit")
        if target_flops is None:
            raise InputError("--from: give --target, the budget to narrow the interval at")
        found = suggest_runs(
            runs,
            target_flops=target_flops,
            n_runs=int(n_runs),
            max_flops=max_flops,
            narrow=narrow,
            max_loss=max_loss,
        )
        if json_out:
            views.print_json(found.to_dict())
        else:
            show(views.render(found))
        return
    for param in ctx.command.params:
        source = ctx.get_parameter_source(param.name or "")
        if param.name in FROM_USES[1:-1] and source is not None and source.name == "COMMANDLINE":
            option = max(param.opts, key=len)
            raise InputError(f"{option}: used only with --from RUNS (the next runs to train)")
    refuse_idle_outputs(force, csv=csv, plot=plot)
    if budgets is None:
        raise InputError(f"sweep: no budgets; give `budgets` as {BUDGET_FORMS}")
    # refuse an output file before doing the work
    if csv is not None and plot is not None and Path(csv).resolve() == Path(plot).resolve():
        raise InputError(f"`csv` and `plot` both name {csv!r}; give two different files")
    if csv is not None:
        files.check_writable(csv, "csv", force)
    if plot is not None:
        from chinchilla_cli.plots import check_plot_path

        check_plot_path(plot, "plot", force)
    result = sweeps.sweep(
        budgets,
        sizes=sizes,
        span=span,
        law=law,
        chips=chips,
        accelerator=accelerator,
        peak_flops=peak_flops,
        mfu=mfu,
        vocab=vocab,
        seq_len=seq_len,
        aspect_ratio=aspect_ratio,
        arch=arch,
        kv_heads=kv_heads,
        experts=experts,
        top_k=top_k,
        shared_experts=shared_experts,
        expert_ffw=expert_ffw,
        precision=precision,
    )
    with files.together(force) as staged:  # both files appear at the end, or neither
        if csv is not None:
            text = result.csv_text()
            staged.write(csv, lambda tmp: tmp.write_text(text, encoding="utf-8"), "csv")
        if plot is not None:
            from chinchilla_cli.plots.sweep import sweep_plot

            sweep_plot(result, plot, "plot", force, staged)
    if json_out:  # the files the command wrote follow the sweep's own keys
        views.print_json({**result.to_dict(), "csv": csv, "plot": plot})
        return
    from chinchilla_cli.views.sweep import written_view

    show(views.render(result))
    show(written_view(csv, plot))
