"""The command line: parse options, call the library, hand the result to a view.

Commands decide no physics, defaults or wording: those live in the library, which names
arguments (`huber_delta`) where the command line shows options (--huber-delta).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from chinchilla_cli import __version__
from chinchilla_cli.cli._options import JsonOpt
from chinchilla_cli.errors import ChinchillaError, InputError
from chinchilla_cli.views import use_option_names


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
                pass  # typer has printed the help already
                rv = 0
            else:
                prog = ctx.command_path if ctx is not None else "chinchilla"
                message = e.format_message() if hasattr(e, "format_message") else str(e)
                if message.startswith("Got unexpected extra argument"):
                    # most often the second word of a value, as in --reduce mean-last 3
                    message += "; an option's value with a space needs quotes"
                _fail(f"{prog}: error: {message}", getattr(e, "exit_code", 2))
        except ChinchillaError as e:
            _fail(f"chinchilla: error: {error_line(e)}", e.exit_code)
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


# Arguments whose command-line name is not `--kebab-case` of the Python name.
OPTION_NAMES = {
    "configs": "CONFIGS",
    "runs": "RUNS",
    "value": "value",
}


def error_line(e: ChinchillaError) -> str:
    """The one line for a library error: the option it is about, then what was wrong."""
    from chinchilla_cli.views import option_name, words

    text = words(e.message)
    return f"{option_name(e.field)}: {text}" if e.field else text


def _fail(message: str, code: int) -> NoReturn:
    sys.stderr.write(" ".join(message.split()) + "\n")
    sys.exit(code)


HELP = "Plan compute-optimal language-model training (Hoffmann et al. 2022, 'Chinchilla')."


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chinchilla {__version__}")
        raise typer.Exit()


def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Plan compute-optimal language-model training (Hoffmann et al. 2022, 'Chinchilla')."""


def presets(
    kind: Annotated[
        str | None,
        typer.Argument(help="hardware, models or laws; all when omitted.", show_default=False),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """List the presets (accelerators, famous models, scaling laws) with their sources."""
    from chinchilla_cli import views
    from chinchilla_cli.presets import KINDS, load_presets
    from chinchilla_cli.views.presets import presets_view

    if kind is not None and kind not in KINDS:
        raise InputError(f"presets: unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    kinds = [kind] if kind else list(KINDS)
    data = {k: load_presets(k) for k in kinds}
    if json_out:
        views.print_json(data)
    else:
        show(presets_view(data))


# Subcommands live in their own modules, imported only when the command is built.
COMMANDS = {
    "plan": "chinchilla_cli.cli.plan",
    "fit": "chinchilla_cli.cli.fit",
    "compare": "chinchilla_cli.cli.compare",
    "sweep": "chinchilla_cli.cli.sweep",
}


def build_app(names: list[str] | None = None) -> typer.Typer:
    """The typer application with the commands `names` (all when None).

    Typer turns every command's signature into Click parameters before it parses anything,
    and each command module imports the library it wraps: build only what is asked for."""
    import importlib

    app = typer.Typer(cls=_OneLineErrors, no_args_is_help=True, add_completion=False, help=HELP)
    app.callback()(_root)
    app.command()(presets)
    for name in COMMANDS if names is None else names:
        app.command(name=name)(getattr(importlib.import_module(COMMANDS[name]), name))
    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # every command, for --help and the tests
        value = globals()["app"] = build_app()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# typer has loaded rich already, so the views' module costs nothing more at start-up
use_option_names(OPTION_NAMES)


def output(result: Any, json_out: bool) -> None:
    """Print a result: its `to_dict()` as JSON, or the view of it."""
    from chinchilla_cli import views

    if json_out:
        views.print_json(result.to_dict())
    else:
        show(views.render(result))


def show(renderable: Any) -> None:
    """Print a view; piped, as plain text without the spaces that pad table cells."""
    from chinchilla_cli import views

    console = views.console()
    if console.is_terminal:
        console.print(renderable)
        return
    with console.capture() as captured:
        console.print(renderable)
    text = captured.get()
    sys.stdout.write("".join(line.rstrip() + "\n" for line in text.splitlines()))


def main() -> None:
    """The `chinchilla` entry point."""
    # One BLAS thread (set before numpy loads): the fit's 5-parameter problems gain nothing
    # from more, and OpenBLAS's spinning threads slow it 2-15x when another process is busy.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    first = sys.argv[1] if len(sys.argv) > 1 else None
    build_app([first] if first in COMMANDS else None)()
