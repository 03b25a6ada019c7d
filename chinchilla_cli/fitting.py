"""`chinchilla fit` as a function: runs in, a report out (fit, intervals, diagnostics),
and the fitted law in the schema of presets/laws.yaml.

The entry point on top of the fitting: it turns `fit`'s arguments into `ReadOptions` and
`FitOptions` (each validated where it is defined), reads the runs (logs.py), and hands
them to the single-fit engine (fit_engine.fit_runs) or, for compared groups, to
interventions.compare_groups. The report types live in fit_results.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from chinchilla_cli.errors import InputError
from chinchilla_cli.fit_defaults import FLOPS_TOLERANCE
from chinchilla_cli.fit_engine import fit_runs
from chinchilla_cli.fit_options import FitOptions
from chinchilla_cli.fit_results import FitReport as FitReport
from chinchilla_cli.groups import Sources
from chinchilla_cli.interventions import check_arguments, compare_groups
from chinchilla_cli.moe_fit import MoEFitReport, moe_fit_if_experts
from chinchilla_cli.quantity import accepts_quantities
from chinchilla_cli.read_options import ReadOptions
from chinchilla_cli.sources import ARRAYS_SOURCE, read_source


@accepts_quantities
def fit(
    runs: Sources | None = None,
    *,
    params: Any = None,
    tokens: Any = None,
    flops: Any = None,
    loss: Any = None,
    approach: str = "parametric",
    huber_delta: float | None = None,
    bootstrap: int = 0,
    seed: int | None = None,
    ci: float | None = None,
    params_col: str | None = None,
    tokens_col: str | None = None,
    flops_col: str | None = None,
    loss_col: str | None = None,
    max_loss: float | None = None,
    min_flops: float | None = None,
    max_flops: float | None = None,
    flops_tolerance: float = FLOPS_TOLERANCE,
    progress: Callable[[int], None] | None = None,
    run_col: str | None = None,
    reduce: str | None = None,
    batch_tokens: float | None = None,
    schedule_tokens: float | Mapping[str, float] | None = None,
    min_tokens: float | None = None,
    min_params: float | None = None,
    exhaustive: bool = False,
    fix: Mapping[str, float] | Sequence[str] | None = None,
    tie: Sequence[tuple[str, str] | str] | None = None,
    metric_col: str | None = None,
    vs: str | Path | Mapping[str, Any] | Sequence[str | Path | Mapping[str, Any]] | None = None,
    group: str | None = None,
    baseline: str | None = None,
    shared: str | None = None,
    budgets: str | Sequence[float] | None = None,
    form: str = "chinchilla",
    audit: bool = True,
    run_table: Any = None,
) -> FitReport | MoEFitReport:
    """Fit a scaling law to training runs.

    The runs come as a CSV/TSV path ("-" for stdin), a mapping of column names to arrays
    (a pandas DataFrame works; columns are found by the same names as in a file: N,
    params, tokens, D, loss...), or as arrays `params`, `tokens` (or `flops`) and `loss`.
    `approach` is "parametric" (Approach 3: E + A/N^alpha + B/D^beta by Huber loss and
    Newton's method from the paper's grid of starts), "isoflop" (Approach 2: a parabola
    per budget) or "both". `bootstrap` resamples give `ci`% intervals; `progress(done)` is
    called as they finish. Raises InputError for bad runs or arguments, FitError when the fit fails.

    Training logs (many rows per run: a W&B history CSV, JSON Lines, TensorBoard event
    files; see chinchilla_cli.logs) are reduced to one point per run first: `run_col`
    names the column grouping the rows (found by name otherwise: run, name, run_id);
    `reduce` is "last" (default), "min", "mean-last K" or "none" (every row a point; the
    bootstrap then resamples runs); D is a tokens column or steps x `batch_tokens`;
    `schedule_tokens` is the planned D of every run (or a mapping of each run's name to
    its own), to flag logs that stop short;
    `min_tokens` drops warm-up rows before reducing (and, for a table of runs, runs with
    less D). `min_params` drops runs with fewer parameters. `run_table` is W&B's runs
    table (a path, DataFrame or records; one row per run) joined to the log on the run
    name (its `Name` column, or `run_col`): N, the planned steps or tokens, the tokens per
    step and the `group` labels may come from it (chinchilla_cli.run_tables). Runs may
    also come as records (a list of dicts, such as W&B's `scan_history()` rows).

    The parametric fit screens the paper's 4,500 starts and polishes the promising ones;
    `exhaustive` runs every start to convergence and reports the distinct optima they
    reached. `fix` holds parameters at given values ({"E": 1.69} or ["E=1.69"]) and `tie`
    fits pairs as one ([("alpha", "beta")] or ["alpha=beta"]; also A=B): the fit over the
    rest, for runs spanning too little N or D to separate alpha and beta. `approach`
    "both" adds the IsoFLOP fit and each approach's error on the largest budget when
    fitted without it (`comparison`).

    A task metric column (`metric_col`, else one named as a task such as hellaswag or
    arc_easy; see chinchilla_cli.accuracy) adds the accuracy forecast (`accuracy`): the
    metric as a sigmoid of the loss, saved with the law, so that a plan predicts it.

    Interventions compared (chinchilla_cli.interventions): `vs` gives a variant's runs
    (a path or table of columns, or a list of them), read and fitted as `runs` is; or
    `group` names a column of `runs` splitting it into groups, the baseline being the
    first value in row order (or `baseline`). The report is the baseline's fit, and its
    `intervention` holds each variant's fit and its effective compute multiplier (the
    compute the baseline needs to reach the variant's compute-optimal loss, over the
    variant's compute) at `budgets` (a list, or "start:stop:count"; default: the data's
    span and 10x and 100x beyond it), with `bootstrap` intervals, and the crossover
    compute where the multiplier crosses 1. `shared` "E" fits every group with one
    irreducible loss, takes the multipliers from those laws, and reports what sharing
    costs (objective, held-out error).

    Runs with an `experts` column (a file or a table of columns) fit the Joint MoE law
    (Ludziejewski et al. 2025, all eleven constants; moe_fit.py): the report is a
    MoEFitReport, whose saved law `plan` uses with `arch` moe and `experts`.
    `form` is the law's functional form (chinchilla_cli.forms): "chinchilla" (the paper's),
    "kaplan" (Kaplan et al. 2020 eq. 1.5 with an irreducible term), "coupled" (E +
    (A/N^alpha + B/D^beta)^k), or "compare": each fitted, ranked by ordered-cut error
    (`forms`), the best one the report's law. `audit` (default on) holds every budget
    out in turn and makes every ordered cut (`audit`; chinchilla_cli.audit); compared
    groups (`vs`, `group`) are not audited.
    """
    options = FitOptions.of(
        approach=approach,
        huber_delta=huber_delta,
        bootstrap=bootstrap,
        seed=seed,
        ci=ci,
        flops_tolerance=flops_tolerance,
        exhaustive=exhaustive,
        fix=fix,
        tie=tie,
        metric_col=metric_col,
        form=form,
        audit=audit,
    )
    read = ReadOptions(
        params_col=params_col,
        tokens_col=tokens_col,
        flops_col=flops_col,
        loss_col=loss_col,
        metric_col=metric_col,
        run_col=run_col,
        reduce=reduce,
        batch_tokens=batch_tokens,
        schedule_tokens=schedule_tokens,
        min_tokens=min_tokens,
        min_params=min_params,
        max_loss=max_loss,
        min_flops=min_flops,
        max_flops=max_flops,
        run_table=run_table,
    )
    arrays = {"params": params, "tokens": tokens, "flops": flops, "loss": loss}
    given = {k: v for k, v in arrays.items() if v is not None}
    if given and runs is not None:
        raise InputError("give the runs as `runs` or as arrays, not both", field="runs")
    return fit_with(
        runs if runs is not None or not given else given,
        read,
        options,
        vs=vs,
        group=group,
        baseline=baseline,
        shared=shared,
        budgets=budgets,
        progress=progress,
        arrays=runs is None,
    )


def fit_with(
    runs: Sources | None,
    read: ReadOptions,
    options: FitOptions,
    *,
    vs: Sources | Sequence[Sources] | None = None,
    group: str | None = None,
    baseline: str | None = None,
    shared: str | None = None,
    budgets: str | Sequence[float] | None = None,
    progress: Callable[[int], None] | None = None,
    arrays: bool = False,
) -> FitReport | MoEFitReport:
    """`fit` with its options made: read `runs` (a path, "-" for stdin, or a table of
    columns; `arrays`: the columns came as `params`, `tokens`... arrays) as `read` says,
    and fit them as `options` say, or compare the groups `vs` or `group` make."""
    if options.form != "chinchilla" and (vs is not None or group is not None):
        raise InputError(
            "compares groups with Chinchilla's form; give `form` chinchilla", field="form"
        )
    check_arguments(
        vs=vs,
        group=group,
        baseline=baseline,
        shared=shared,
        budgets=budgets,
        approach=options.approach,
        constrained=bool(options.constraints),
        exhaustive=options.exhaustive,
    )
    if vs is not None or group is not None:
        if runs is None or (group is not None and arrays):
            raise InputError(
                "no runs; give a file or a table of columns"
                + (" holding the `group` column" if group is not None else ""),
                field="runs",
            )
        return compare_groups(
            runs,
            vs=vs,
            group=group,
            baseline=baseline,
            shared=shared,
            budgets=budgets,
            read_options=read,
            # each group's fit unaudited: the comparison is the multipliers, and the
            # audit's refits would multiply its time by the number of groups
            fit_options=replace(options, audit=False),
            progress=progress,
        )
    if runs is None:
        raise InputError(
            "no runs; give a file, a table of columns, or `params`, `tokens` and `loss`",
            field="runs",
        )
    table, log = read_source(runs, read, source=ARRAYS_SOURCE if arrays else None)
    moe = moe_fit_if_experts(runs, table, read, options)
    if moe is not None:
        return moe
    return fit_runs(table, options, progress=progress, log=log)
