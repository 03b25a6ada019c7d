"""`chinchilla compare`: training configurations side by side under a law."""

from __future__ import annotations

from typing import Annotated

import typer

from chinchilla_cli.cli._options import (
    ForceOpt,
    JsonOpt,
    LawOpt,
    PlotOpt,
    refuse_idle_outputs,
    text,
)


def compare(
    configs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="CONFIGS",
            parser=text("NAME|N@D|LABEL=N@D"),
            help="Runs to compare: model presets (e.g. gopher chinchilla; see `chinchilla "
            "presets models`) and/or N@D or label=N@D, N parameters trained on D tokens "
            "(e.g. mine=13B@2.6T).",
            show_default=False,
        ),
    ] = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            metavar="FILE",
            help="YAML file with a list of runs, each with name, params "
            "(parameters), tokens (training tokens) and optionally reported_flops "
            "(FLOPs) and architecture.",
            show_default=False,
        ),
    ] = None,
    law: LawOpt = None,
    all_laws: Annotated[
        bool,
        typer.Option(
            "--all-laws",
            help="Add one predicted-loss column per law that predicts "
            "loss (every preset, plus --law).",
        ),
    ] = False,
    plot: PlotOpt = None,
    force: ForceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Training runs side by side under a law: loss, compute-optimal split, C*/C, data ceiling."""
    from chinchilla_cli import comparison, views
    from chinchilla_cli.cli.output import show

    refuse_idle_outputs(force, plot=plot)
    if plot is not None:
        from chinchilla_cli.plots import check_plot_path

        check_plot_path(plot, "plot", force)  # before any work: refuse early
    result = comparison.compare(*(configs or []), law=law, file=file, all_laws=all_laws)
    if plot is not None:
        from chinchilla_cli.plots.compare import compare_plot

        compare_plot(result, plot, "plot", force)
    if json_out:  # the file the command wrote follows the comparison's own keys
        views.print_json({**result.to_dict(), "plot": plot})
        return
    show(views.render(result))
    for line in views.written_lines((("plot", plot),)):
        show(line)
