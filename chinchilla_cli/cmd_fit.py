"""`chinchilla fit`: fit a scaling law to a table of training runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chinchilla_cli._options import POSITIVE, ForceOpt, JsonOpt, quantity
from chinchilla_cli.errors import InputError


def fit(
    runs_file: Annotated[
        str,
        typer.Argument(
            metavar="RUNS", help="CSV/TSV of training runs (one row per run), or - for stdin."
        ),
    ],
    approach: Annotated[
        str,
        typer.Option(
            help="parametric (Approach 3: L = E + A/N^alpha + B/D^beta) or isoflop (Approach "
            "2: parabolas per FLOP budget)."
        ),
    ] = "parametric",
    huber_delta: Annotated[
        float,
        typer.Option(
            parser=POSITIVE, help="Huber loss threshold on log-loss residuals (the paper's 1e-3)."
        ),
    ] = 1e-3,
    bootstrap: Annotated[
        int,
        typer.Option(
            parser=quantity(minimum=0, inclusive=True, integer=True),
            help="Bootstrap resamples for confidence intervals (0: none).",
        ),
    ] = 0,
    seed: Annotated[
        int,
        typer.Option(
            parser=quantity(minimum=0, inclusive=True, integer=True),
            help="Random seed of the bootstrap.",
        ),
    ] = 0,
    ci: Annotated[
        float,
        typer.Option(
            parser=quantity(minimum=0, maximum=99.99),
            help="Confidence level of the intervals, percent.",
        ),
    ] = 95.0,
    params_col: Annotated[
        str | None,
        typer.Option(
            help="Column of parameter counts N (default: found by header).", show_default=False
        ),
    ] = None,
    tokens_col: Annotated[
        str | None,
        typer.Option(
            help="Column of training tokens D (default: found by header; else C/(6N)).",
            show_default=False,
        ),
    ] = None,
    flops_col: Annotated[
        str | None,
        typer.Option(
            help="Column of training FLOPs C (default: found by header; else 6ND).",
            show_default=False,
        ),
    ] = None,
    loss_col: Annotated[
        str | None,
        typer.Option(help="Column of final losses (default: found by header).", show_default=False),
    ] = None,
    max_loss: Annotated[
        float | None,
        typer.Option(parser=POSITIVE, help="Drop runs with loss above this.", show_default=False),
    ] = None,
    min_flops: Annotated[
        float | None,
        typer.Option(parser=POSITIVE, help="Drop runs below this many FLOPs.", show_default=False),
    ] = None,
    max_flops: Annotated[
        float | None,
        typer.Option(parser=POSITIVE, help="Drop runs above this many FLOPs.", show_default=False),
    ] = None,
    flops_tolerance: Annotated[
        float,
        typer.Option(
            parser=POSITIVE,
            help="Runs whose FLOPs agree within this fraction share a budget (isoflop; "
            "extrapolation check).",
        ),
    ] = 0.10,
    save: Annotated[
        str | None,
        typer.Option(
            help="Write the fitted law to this YAML file (usable as --law).", show_default=False
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="Name of the saved law (default: the file's stem).", show_default=False),
    ] = None,
    plot: Annotated[
        str | None,
        typer.Option(
            help="Write a PNG: observed vs predicted, IsoFLOP slices, frontier (needs the "
            "plot extra).",
            show_default=False,
        ),
    ] = None,
    force: ForceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Fit a scaling law to your training runs, with bootstrap confidence intervals."""
    from chinchilla_cli import files
    from chinchilla_cli.fitting import APPROACHES, fit_runs
    from chinchilla_cli.runs import read_runs

    if approach not in APPROACHES:
        raise InputError(
            f"--approach: unknown approach {approach!r}; expected one of {', '.join(APPROACHES)}"
        )
    # refuse an output file before spending time on the fit
    if save is not None:
        files.check_writable(save, "--save", force)
    if plot is not None:
        from chinchilla_cli.plotting import pyplot

        pyplot()  # fail now, with the install hint, if matplotlib is missing
        files.check_writable(plot, "--plot", force)

    runs = read_runs(
        runs_file,
        params_col=params_col,
        tokens_col=tokens_col,
        flops_col=flops_col,
        loss_col=loss_col,
        max_loss=max_loss,
        min_flops=min_flops,
        max_flops=max_flops,
    )
    from chinchilla_cli import render, render_fit

    if bootstrap:
        with render_fit.progress_bar(bootstrap, quiet=json_out) as advance:
            report = fit_runs(
                runs,
                approach=approach,
                huber_delta=huber_delta,
                bootstrap=bootstrap,
                seed=seed,
                ci_level=ci,
                flops_tolerance=flops_tolerance,
                progress=advance,
            )
    else:
        report = fit_runs(
            runs,
            approach=approach,
            huber_delta=huber_delta,
            ci_level=ci,
            flops_tolerance=flops_tolerance,
        )

    saved = None
    if save is not None:
        from chinchilla_cli.presets import dump_yaml

        law_name = name or Path(save).stem
        saved = files.write_text_atomic(
            save, dump_yaml(report.law_document(law_name)), "--save", force
        )
    if plot is not None:
        from chinchilla_cli.plot_fit import plot_fit

        files.write_atomic(
            plot, lambda tmp: plot_fit(report, tmp, flops_tolerance), "--plot", force
        )

    if json_out:
        d = report.to_dict()
        d["saved"] = None if saved is None else str(saved)
        d["plot"] = plot
        render.print_json(d)
    else:
        render.console().print(render_fit.fit_view(report, saved=saved, plot=plot))
