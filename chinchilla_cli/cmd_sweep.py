"""`chinchilla sweep`: design an IsoFLOP experiment around a law's predicted optimum."""

from __future__ import annotations

from typing import Annotated

import typer

from chinchilla_cli._options import (
    FRACTION,
    POSITIVE,
    POSITIVE_INT,
    ForceOpt,
    JsonOpt,
    LawOpt,
    quantity,
)


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
            parser=quantity(minimum=1, inclusive=True, integer=True),
            help="Model sizes per budget, 1 to 100 (3 or more: the IsoFLOP fit is a parabola "
            "in log N).",
        ),
    ] = 9,
    span: Annotated[
        float,
        typer.Option(
            parser=quantity(minimum=1.0),
            help="Largest over smallest model size of each budget, a factor > 1; the sizes are "
            "spread evenly in log N and centred on the law's optimum.",
        ),
    ] = 16.0,
    law: LawOpt = "besiroglu2024",
    chips: Annotated[
        int,
        typer.Option(
            parser=POSITIVE_INT,
            help="Number of accelerators each run trains on (the runs go one after another).",
        ),
    ] = 8,
    accelerator: Annotated[
        str, typer.Option(help="Accelerator preset (see `chinchilla presets hardware`).")
    ] = "h100-sxm",
    peak_flops: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            show_default=False,
            help="Override the accelerator's dense bf16 peak, FLOP/s per chip.",
        ),
    ] = None,
    mfu: Annotated[
        float, typer.Option(parser=FRACTION, help="Model FLOPs utilisation, a fraction in (0, 1].")
    ] = 0.40,
    vocab: Annotated[
        int,
        typer.Option(
            parser=POSITIVE_INT, help="Vocabulary size of the architecture sketches, tokens."
        ),
    ] = 32000,
    seq_len: Annotated[
        int, typer.Option(parser=POSITIVE_INT, help="Sequence length, tokens.")
    ] = 2048,
    aspect_ratio: Annotated[
        float,
        typer.Option(
            parser=POSITIVE, help="Target d_model / layers of the sketches (Table A9 spans 43-109)."
        ),
    ] = 100.0,
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
    from pathlib import Path

    from chinchilla_cli import files
    from chinchilla_cli import hardware as hw
    from chinchilla_cli import sweep as core
    from chinchilla_cli.errors import InputError
    from chinchilla_cli.laws import DEFAULT_LAW, load_law
    from chinchilla_cli.quantity import BUDGET_FORMS, parse_budgets

    if budgets is None:
        raise InputError(f"sweep: no budgets; give --budgets as {BUDGET_FORMS}")
    planned = parse_budgets(budgets)
    if sizes > core.MAX_SIZES:
        raise InputError(
            f"--sizes: {sizes} is out of range; expected a whole number from 1 to "
            f"{core.MAX_SIZES} (3 or more for a parabola)"
        )
    the_law = load_law(law)
    acc = hw.load_accelerator(accelerator)
    cluster = hw.Cluster(acc, chips, peak_flops or acc.bf16_flops_per_second, mfu)

    # refuse an output file before doing the work
    if csv is not None and plot is not None and Path(csv).resolve() == Path(plot).resolve():
        raise InputError(f"--csv and --plot both name {csv!r}; give two different files")
    if csv is not None:
        files.check_writable(csv, "--csv", force)
    if plot is not None:
        from chinchilla_cli import plotting

        plotting.check_plot_path(plot, "--plot", force)

    assumptions = [
        f"law {the_law.name}" + (" (default)" if law == DEFAULT_LAW else ""),
        "C = 6·N·D",
        f"{chips:,} x {acc.name} at {cluster.peak_flops_per_second / 1e12:,.1f} TFLOP/s dense "
        "bf16 peak" + ("" if peak_flops else " (preset)"),
        f"MFU {mfu:.0%}" + (" (default)" if mfu == hw.DEFAULT_MFU else ""),
        "runs one after another on the whole cluster",
        f"vocabulary {vocab:,}, sequence {seq_len:,}, d_model/layers ≈ {aspect_ratio:g}",
    ]
    result = core.make_sweep(
        the_law,
        planned,
        cluster,
        sizes=sizes,
        span=span,
        vocab_size=vocab,
        seq_len=seq_len,
        aspect_ratio=aspect_ratio,
        assumptions=tuple(assumptions),
    )

    if csv is not None:
        files.write_text_atomic(csv, result.csv_text(), "--csv", force)
    if plot is not None:
        from chinchilla_cli.plot_sweep import sweep_plot

        sweep_plot(result, plot, "--plot", force)

    from chinchilla_cli import render

    if json_out:
        d = result.to_dict()
        d["csv"] = csv
        d["plot"] = plot
        render.print_json(d)
    else:
        from chinchilla_cli.render_sweep import sweep_view

        render.console().print(sweep_view(result, csv=csv, plot=plot))
