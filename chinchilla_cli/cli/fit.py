"""`chinchilla fit`: fit a scaling law to a table of training runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from chinchilla_cli.cli._options import (
    LOSS,
    POSITIVE,
    ForceOpt,
    JsonOpt,
    quantity,
    refuse_idle_outputs,
)
from chinchilla_cli.fit_defaults import (
    APPROACHES,
    CI_LEVEL,
    FLOPS_TOLERANCE,
    FORMS,
    HUBER_DELTA,
    MAX_CI_LEVEL,
    SEED,
)
from chinchilla_cli.metrics import TASKS

if TYPE_CHECKING:
    from chinchilla_cli.fit_results import FitReport


def fit(
    runs_file: Annotated[
        str,
        typer.Argument(
            metavar="RUNS",
            help="CSV/TSV of training runs (one row per run), a training log (W&B history "
            "CSV, JSON Lines, TensorBoard event files or their directory), or - for stdin.",
        ),
    ],
    approach: Annotated[
        str,
        typer.Option(
            metavar="|".join(APPROACHES),
            help="parametric (Approach 3: L = E + A/N^alpha + B/D^beta), isoflop (Approach "
            "2: parabolas per FLOP budget), or both: side by side, with each one's error on "
            "the largest budget when fitted without it.",
        ),
    ] = "parametric",
    form: Annotated[
        str,
        typer.Option(
            metavar="|".join(FORMS),
            help="The law's form: chinchilla (E + A/N^alpha + B/D^beta), kaplan (Kaplan et "
            "al. 2020 eq. 1.5 plus E; --fix E=0 without), coupled (E + (A/N^alpha + "
            "B/D^beta)^k), or compare: each fitted, ranked by how it extrapolates (ordered "
            "cuts); the best is the law.",
        ),
    ] = "chinchilla",
    audit: Annotated[
        bool,
        typer.Option(
            "--audit",
            help="Show the audit: every budget held out in turn (RMSE and bias of log "
            "loss) and the ordered cuts' error against decades extrapolated.",
        ),
    ] = False,
    huber_delta: Annotated[
        float | None,
        typer.Option(
            metavar="DELTA",
            parser=POSITIVE,
            help="Huber loss threshold on log-loss residuals (the paper's 1e-3).",
            show_default=f"{HUBER_DELTA:g}",
        ),
    ] = None,
    bootstrap: Annotated[
        int,
        typer.Option(
            metavar="N",
            parser=quantity(minimum=0, inclusive=True, integer=True),
            help="Bootstrap resamples for confidence intervals (0: none).",
        ),
    ] = 0,
    seed: Annotated[
        int | None,
        typer.Option(
            metavar="INT",
            parser=quantity(minimum=0, inclusive=True, integer=True),
            help="Random seed of the bootstrap.",
            show_default=f"{SEED}",
        ),
    ] = None,
    ci: Annotated[
        float | None,
        typer.Option(
            metavar="PERCENT",
            parser=quantity(minimum=0, maximum=MAX_CI_LEVEL),
            help="Confidence level of the intervals, percent.",
            show_default=f"{CI_LEVEL:g}",
        ),
    ] = None,
    params_col: Annotated[
        str | None,
        typer.Option(
            metavar="COLUMN",
            help="Column of parameter counts N (default: found by header).",
            show_default=False,
        ),
    ] = None,
    tokens_col: Annotated[
        str | None,
        typer.Option(
            metavar="COLUMN",
            help="Column of training tokens D (default: found by header; else C/(6N)).",
            show_default=False,
        ),
    ] = None,
    flops_col: Annotated[
        str | None,
        typer.Option(
            metavar="COLUMN",
            help="Column of training FLOPs C (default: found by header; else 6ND).",
            show_default=False,
        ),
    ] = None,
    loss_col: Annotated[
        str | None,
        typer.Option(
            metavar="COLUMN",
            help="Column of losses (default: found by header; in a log, else the one ending in "
            "'loss').",
            show_default=False,
        ),
    ] = None,
    metric_col: Annotated[
        str | None,
        typer.Option(
            metavar="COLUMN",
            help="Column of a task metric (accuracy, 0-1 or percent) to forecast as a sigmoid "
            "of the loss, saved with the law for plan (default: a column named "
            f"{', '.join(TASKS)}, if exactly one).",
            show_default=False,
        ),
    ] = None,
    max_loss: Annotated[
        float | None,
        typer.Option(
            metavar="LOSS",
            parser=LOSS,
            help="Drop runs with loss above this.",
            show_default=False,
        ),
    ] = None,
    min_flops: Annotated[
        float | None,
        typer.Option(
            metavar="FLOPS",
            parser=POSITIVE,
            help="Drop runs below this many FLOPs.",
            show_default=False,
        ),
    ] = None,
    max_flops: Annotated[
        float | None,
        typer.Option(
            metavar="FLOPS",
            parser=POSITIVE,
            help="Drop runs above this many FLOPs.",
            show_default=False,
        ),
    ] = None,
    min_params: Annotated[
        float | None,
        typer.Option(
            metavar="N",
            parser=POSITIVE,
            help="Drop runs with fewer parameters than this (the smallest models often "
            "bend the fit).",
            show_default=False,
        ),
    ] = None,
    min_tokens: Annotated[
        float | None,
        typer.Option(
            metavar="TOKENS",
            parser=POSITIVE,
            help="Drop runs trained on fewer tokens than this; in a training log, the "
            "logged rows below it (warm-up).",
            show_default=False,
        ),
    ] = None,
    run_col: Annotated[
        str | None,
        typer.Option(
            metavar="COLUMN",
            help="Column grouping a training log's rows into runs (default: found by "
            "header: run, name, run_id).",
            show_default=False,
        ),
    ] = None,
    reduce: Annotated[
        str | None,
        typer.Option(
            metavar="HOW",
            help="A training log's point per run: last, min, mean-last:K (the mean of "
            "the last K logged losses; also 'mean-last K', quoted) or none (every logged "
            "row; the bootstrap resamples runs).",
            show_default="last",
        ),
    ] = None,
    batch_tokens: Annotated[
        float | None,
        typer.Option(
            metavar="TOKENS",
            parser=POSITIVE,
            help="Tokens per step (batch x sequence length): D = step x this, for a "
            "training log without a tokens column.",
            show_default=False,
        ),
    ] = None,
    schedule_tokens: Annotated[
        float | None,
        typer.Option(
            metavar="TOKENS",
            parser=POSITIVE,
            help="Planned tokens of every run of a training log: runs whose log stops "
            "short of it are named in a warning.",
            show_default=False,
        ),
    ] = None,
    run_table: Annotated[
        str | None,
        typer.Option(
            metavar="FILE",
            help="W&B's runs table (CSV or JSON Lines, one row per run) joined to the "
            "training log on the run name (its Name column, or --run-col): N, planned "
            "steps or tokens, tokens per step and --group labels may come from it.",
            show_default=False,
        ),
    ] = None,
    flops_tolerance: Annotated[
        float,
        typer.Option(
            metavar="FRACTION",
            parser=POSITIVE,
            help="Runs whose FLOPs agree within this fraction share a budget (isoflop; "
            "extrapolation check).",
        ),
    ] = FLOPS_TOLERANCE,
    exhaustive: Annotated[
        bool,
        typer.Option(
            "--exhaustive",
            help="Run every one of the paper's 4,500 starts to convergence (not only the "
            "screened best) and report the distinct optima they reach.",
        ),
    ] = False,
    fix: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME=VALUE",
            help="Hold a parameter (E, A, B, alpha, beta) at a value and fit the rest, "
            "e.g. E=1.69; repeatable.",
            show_default=False,
        ),
    ] = None,
    tie: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME=NAME",
            help="Fit two parameters as one: alpha=beta (for runs spanning less than a "
            "decade in N or D) or A=B.",
            show_default=False,
        ),
    ] = None,
    vs: Annotated[
        list[str] | None,
        typer.Option(
            "--vs",
            metavar="FILE",
            help="A variant's runs (repeatable): fit each file and report the effective "
            "compute multiplier against RUNS, the baseline (see --budgets, --shared).",
            show_default=False,
        ),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(
            metavar="COLUMN",
            help="Compare groups of one file: this column's values split the runs; the "
            "first value (or --baseline) is the baseline.",
            show_default=False,
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            metavar="VALUE",
            help="With --group: the value of the baseline group (default: the first in the file).",
            show_default=False,
        ),
    ] = None,
    shared: Annotated[
        str | None,
        typer.Option(
            metavar="E",
            help="With --vs or --group: fit every group with one irreducible loss E, take "
            "the multipliers from those laws, and report what sharing costs.",
            show_default=False,
        ),
    ] = None,
    budgets: Annotated[
        str | None,
        typer.Option(
            metavar="FLOPS",
            help="With --vs or --group: the budgets of the multiplier, a comma list or "
            "START:STOP:COUNT (default: the data's span, then 10x and 100x beyond).",
            show_default=False,
        ),
    ] = None,
    save: Annotated[
        str | None,
        typer.Option(
            metavar="FILE.yaml",
            help="Write the fitted law to this YAML file (usable as --law).",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Name of the saved law (default: the file name before its first dot).",
            show_default=False,
        ),
    ] = None,
    plot: Annotated[
        str | None,
        typer.Option(
            metavar="PATH.png",
            help="Write a figure (.png/.svg/.pdf; needs the plot extra): observed vs "
            "predicted, IsoFLOP slices, frontier, and the accuracy sigmoid when a task "
            "metric is fitted.",
            show_default=False,
        ),
    ] = None,
    force: ForceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Fit a scaling law to training runs or logs: intervals, interventions, accuracy."""
    from chinchilla_cli import fitting
    from chinchilla_cli.cli.output import show
    from chinchilla_cli.views import print_json
    from chinchilla_cli.views.fit import fit_view, progress_bar

    _refuse_outputs(save, name, plot, force, comparing=bool(vs) or group is not None)
    if audit and json_out:
        from chinchilla_cli.errors import InputError

        raise InputError(
            "shows the audit's tables; the JSON's audit key always holds them", field="audit"
        )
    with progress_bar(bootstrap, quiet=json_out or not bootstrap) as advance:
        report = fitting.fit(
            runs_file,
            approach=approach,
            huber_delta=huber_delta,
            bootstrap=bootstrap,
            seed=seed,
            ci=ci,
            flops_tolerance=flops_tolerance,
            exhaustive=exhaustive,
            fix=fix,
            tie=tie,
            params_col=params_col,
            tokens_col=tokens_col,
            flops_col=flops_col,
            loss_col=loss_col,
            metric_col=metric_col,
            run_col=run_col,
            reduce=reduce,
            batch_tokens=batch_tokens,
            schedule_tokens=schedule_tokens,
            run_table=run_table,
            min_tokens=min_tokens,
            min_params=min_params,
            max_loss=max_loss,
            min_flops=min_flops,
            max_flops=max_flops,
            vs=vs or None,
            group=group,
            baseline=baseline,
            shared=shared,
            budgets=budgets,
            progress=advance,
            form=form,
        )
    from chinchilla_cli.errors import InputError
    from chinchilla_cli.moe_fit import MoEFitReport

    if isinstance(report, MoEFitReport):  # runs with an experts column: the Joint MoE law
        from chinchilla_cli.views.moe_fit import moe_fit_view

        if plot is not None:
            raise InputError("--plot: no figure for a Joint MoE fit yet; fit without it")
        moe_saved = None if save is None else str(report.save(save, name=name, force=force))
        if json_out:
            print_json({**report.to_dict(), "saved": moe_saved, "plot": None})
        else:
            show(moe_fit_view(report, saved=moe_saved))
        return
    saved = _write_outputs(report, save, name, plot, force)
    if json_out:  # the files written are the command's, added to the report's JSON
        print_json({**report.to_dict(), "saved": saved, "plot": plot})
    else:
        show(fit_view(report, saved=saved, plot=plot, audit=audit))


def _refuse_outputs(
    save: str | None, name: str | None, plot: str | None, force: bool, comparing: bool
) -> None:
    """Refuse an output file that cannot be written before spending time on the fit."""
    from chinchilla_cli import files

    refuse_idle_outputs(force, name, save=save, plot=plot)
    if save is not None and comparing:
        from chinchilla_cli.errors import InputError

        raise InputError(
            "--save: writes one law, and --vs/--group fit several; fit each file alone "
            "to save its law"
        )
    if save is not None:
        files.check_writable(save, "save", force)
    if plot is not None:
        from chinchilla_cli.plots import check_plot_path

        check_plot_path(plot, "plot", force)


def _write_outputs(
    report: FitReport, save: str | None, name: str | None, plot: str | None, force: bool
) -> str | None:
    """Write the law (`save`) and the figure (`plot`), both at the end or neither; the
    path of the saved law."""
    from chinchilla_cli import files

    saved = None
    with files.together(force) as staged:
        if save is not None:
            saved = str(report.save(save, name=name, staged=staged))
        if plot is not None:
            from chinchilla_cli.plots.fit import fit_plot

            fit_plot(report, plot, "plot", force, staged)
    return saved
