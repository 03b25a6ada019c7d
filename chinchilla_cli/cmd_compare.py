"""`chinchilla compare`: training configurations side by side under a law."""

from __future__ import annotations

from typing import Annotated

import typer

from chinchilla_cli._options import ForceOpt, JsonOpt, LawOpt


def compare(
    configs: Annotated[
        list[str] | None,
        typer.Argument(
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
            help="YAML file with a list of runs, each with name, params "
            "(parameters), tokens (training tokens) and optionally reported_flops "
            "(FLOPs) and architecture.",
            show_default=False,
        ),
    ] = None,
    law: LawOpt = "besiroglu2024",
    all_laws: Annotated[
        bool,
        typer.Option(
            "--all-laws",
            help="Add one predicted-loss column per law that predicts "
            "loss (every preset, plus --law).",
        ),
    ] = False,
    plot: Annotated[
        str | None,
        typer.Option(
            "--plot",
            help="Write a PNG (or .svg/.pdf) of the runs on the law's loss "
            "landscape over N and D with IsoFLOP lines and the compute-optimal "
            "frontier; needs matplotlib (the plot extra).",
            show_default=False,
        ),
    ] = None,
    force: ForceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Training runs side by side under a law: loss, compute-optimal split, C*/C, data ceiling."""
    from chinchilla_cli import compare as core
    from chinchilla_cli.errors import InputError
    from chinchilla_cli.laws import load_law

    runs = [core.parse_config(text) for text in configs or []]
    file_notes: list[str] = []
    if file is not None:
        runs += core.configs_from_file(file, notes=file_notes)
    if not runs:
        raise InputError(
            "compare: no configuration given; name model presets (e.g. gopher chinchilla), "
            f"write {core.CONFIG_SYNTAX}, or pass --file runs.yaml"
        )
    the_law = load_law(law)
    if plot is not None:
        from chinchilla_cli import plotting

        plotting.check_plot_path(plot, "--plot", force)  # before any work: refuse early
    result = core.compare(runs, the_law, all_laws=all_laws, input_notes=tuple(file_notes))
    if plot is not None:
        plotting.compare_plot(result, plot, "--plot", force)

    from chinchilla_cli import render

    if json_out:
        render.print_json(result.to_dict())
    else:
        from chinchilla_cli.render_compare import compare_view

        render.console().print(compare_view(result, all_laws=all_laws, plot=plot))
