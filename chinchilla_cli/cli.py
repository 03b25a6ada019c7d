"""The command line: parse and validate, call the core, hand the result to a renderer."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from chinchilla_cli import __version__
from chinchilla_cli._options import JsonOpt
from chinchilla_cli.errors import ChinchillaError, InputError


class _OneLineErrors(TyperGroup):
    """Every error is one line on stderr: usage errors exit 2, failed fits exit 1.

    Typer would draw a multi-line panel; scripts and humans both want `prog: error: ...`.
    """

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            rv = super().main(*args, **kwargs)
        except typer.TyperException as e:  # Click's usage errors
            ctx = getattr(e, "ctx", None)
            if type(e).__name__ == "NoArgsIsHelpError" and ctx is not None:  # bare `chinchilla`
                typer.echo(ctx.get_help())
                rv = 0
            else:
                prog = ctx.command_path if ctx is not None else "chinchilla"
                message = e.format_message() if hasattr(e, "format_message") else str(e)
                _fail(f"{prog}: error: {message}", getattr(e, "exit_code", 2))
        except ChinchillaError as e:
            _fail(f"chinchilla: error: {e}", e.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            _fail("chinchilla: interrupted", 130)
        except Exception as e:  # a bug: still one line (typer would print a long traceback)
            _fail(
                f"chinchilla: internal error (a bug; please report it): {type(e).__name__}: {e}", 70
            )
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # typer would make it a silent exit 130
            raise typer.Abort() from None


def _fail(message: str, code: int) -> NoReturn:
    sys.stderr.write(" ".join(message.split()) + "\n")
    sys.exit(code)


app = typer.Typer(
    cls=_OneLineErrors,
    no_args_is_help=True,
    add_completion=False,
    help="Plan compute-optimal language-model training (Hoffmann et al. 2022, 'Chinchilla').",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chinchilla {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Plan compute-optimal language-model training (Hoffmann et al. 2022, 'Chinchilla')."""


@app.command()
def presets(
    kind: Annotated[
        str | None,
        typer.Argument(help="hardware, models or laws; all when omitted.", show_default=False),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """List the presets (accelerators, famous models, scaling laws) with their sources."""
    from chinchilla_cli import render
    from chinchilla_cli.presets import KINDS, load_presets

    if kind is not None and kind not in KINDS:
        raise InputError(f"presets: unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    kinds = [kind] if kind else list(KINDS)
    data = {k: load_presets(k) for k in kinds}
    if json_out:
        render.print_json(data)
    else:
        render.console().print(render.presets_view(data))


# Subcommands live in their own modules (each imports only typer at module level).
COMMANDS = {
    "plan": "chinchilla_cli.cmd_plan",
    "fit": "chinchilla_cli.cmd_fit",
    "compare": "chinchilla_cli.cmd_compare",
    "sweep": "chinchilla_cli.cmd_sweep",
}


def _register(target: typer.Typer, names: list[str]) -> typer.Typer:
    import importlib

    for name in names:
        target.command(name=name)(getattr(importlib.import_module(COMMANDS[name]), name))
    return target


_register(app, list(COMMANDS))


def main() -> None:
    # One BLAS thread (set before numpy loads): the fit's 5-parameter problems gain nothing
    # from more, and OpenBLAS's spinning threads slow it 2-15x when another process is busy.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    # Typer turns every command's signature into Click parameters before it parses
    # anything (~10 ms a command); when argv names one command, build only that one.
    first = sys.argv[1] if len(sys.argv) > 1 else None
    if first in COMMANDS:
        only = typer.Typer(cls=_OneLineErrors, add_completion=False, help=app.info.help)
        only.callback()(_root)
        _register(only, [first])
        only()
    else:
        app()
