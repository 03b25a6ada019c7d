"""`chinchilla sweep`: design an IsoFLOP experiment around a law's predicted optimum."""

from __future__ import annotations

from typing import Annotated

import typer

from chinchilla_cli.architecture import (
    DEFAULT_ASPECT_RATIO,
    DEFAULT_FAMILY,
    DEFAULT_SEQ_LEN,
    DEFAULT_VOCAB,
)
from chinchilla_cli.cli._options import (
    FRACTION,
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
)
from chinchilla_cli.hardware import DEFAULT_ACCELERATOR, DEFAULT_MFU
from chinchilla_cli.sweeps import DEFAULT_CHIPS, DEFAULT_SIZES, DEFAULT_SPAN


def sweep(
    budgets: Annotated[
        str | None,
        typer.Option(
            "--budgets",
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
    accelerator: Annotated[
        str | None,
        typer.Option(
            help="Accelerator preset (see `chinchilla presets hardware`).",
            show_default=DEFAULT_ACCELERATOR,
        ),
    ] = None,
    peak_flops: Annotated[
        float | None,
        typer.Option(
            metavar="FLOP/S",
            parser=POSITIVE,
            show_default=False,
            help="Override the accelerator's dense peak (at --precision), FLOP/s per chip.",
        ),
    ] = None,
    mfu: Annotated[
        float | None,
        typer.Option(
            parser=FRACTION,
            metavar="FRACTION",
            help="Model FLOPs utilisation, a fraction in (0, 1].",
            show_default=f"{DEFAULT_MFU:g}",
        ),
    ] = None,
    vocab: Annotated[
        int | None,
        typer.Option(
            parser=POSITIVE_INT,
            metavar="TOKENS",
            help="Vocabulary size of the architecture sketches, tokens.",
            show_default=f"{DEFAULT_VOCAB[DEFAULT_FAMILY]:,}",
        ),
    ] = None,
    seq_len: Annotated[
        int | None,
        typer.Option(
            parser=POSITIVE_INT,
            metavar="TOKENS",
            help="Sequence length, tokens.",
            show_default=str(DEFAULT_SEQ_LEN),
        ),
    ] = None,
    aspect_ratio: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            metavar="RATIO",
            help="Target d_model / layers of the sketches (Table A9 spans 43-109).",
            show_default=f"{DEFAULT_ASPECT_RATIO:g}",
        ),
    ] = None,
    arch: Annotated[
        str | None,
        typer.Option(
            help="Architecture family of the sketches: chinchilla (the paper's shapes), llama "
            "(SwiGLU, GQA) or moe (a mixture of experts: N is the active parameters).",
            show_default=DEFAULT_FAMILY,
        ),
    ] = None,
    experts: ExpertsOpt = None,
    top_k: TopKOpt = None,
    shared_experts: SharedExpertsOpt = None,
    expert_ffw: ExpertFfwOpt = None,
    precision: PrecisionOpt = None,
    csv: Annotated[
        str | None,
        typer.Option(
            "--csv",
            show_default=False,
            help="Write the grid as CSV (budget_flops, params, tokens, flops, n_layers, d_model, "
            "n_heads, hours, and an empty loss column): fill in the losses, then run "
            "`chinchilla fit` on it.",
        ),
    ] = None,
    plot: Annotated[
        str | None,
        typer.Option(
            "--plot",
            show_default=False,
            help="Write a PNG (or .svg/.pdf) of the planned runs on the law's loss landscape over "
            "N and D, with each budget's IsoFLOP line and the compute-optimal frontier; needs "
            "matplotlib (the plot extra).",
        ),
    ] = None,
    force: ForceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Design an IsoFLOP experiment: model sizes per budget centred on the law's optimum."""
    from dataclasses import replace
    from pathlib import Path

    from chinchilla_cli import files, sweeps
    from chinchilla_cli.cli import output
    from chinchilla_cli.errors import InputError
    from chinchilla_cli.quantity import BUDGET_FORMS

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
    output(replace(result, written=(("csv", csv), ("plot", plot))), json_out)
