"""The command line: parse options, call the library, hand the result to a view.

Commands decide no physics, defaults or wording: those live in the library, which names
arguments (`huber_delta`) where the command line shows options (--huber-delta).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated, Any, NoReturn

import typer

# typer vendors click (no separate package): its types live in typer._click
from typer._click.exceptions import BadParameter
from typer._click.types import StringParamType
from typer.core import TyperArgument, TyperCommand, TyperGroup

from chinchilla_cli import __version__
from chinchilla_cli.cli._options import JsonOpt
from chinchilla_cli.cli.output import show
from chinchilla_cli.errors import ChinchillaError
from chinchilla_cli.presets import KINDS


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
                message = _click_message(e)
                if message.startswith("Got unexpected extra argument"):
                    # most often the second word of a value, as in --reduce mean-last 3
                    message += "; an option's value with a space needs quotes"
                _fail(f"{prog}: error: {message}", getattr(e, "exit_code", 2))
        except CommandError as e:
            _fail(f"{e.prog}: error: {e.line}", e.exit_code)
        except ChinchillaError as e:  # raised outside a command: the names of the rule
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


def _click_message(e: Exception) -> str:
    """Click's message, a bad value worded as the library's errors are: `--flops: 'abc'
    is not a number; ...` (click says "Invalid value for '--flops': ...")."""
    if isinstance(e, BadParameter) and e.param is not None:
        param = e.param
        option = param.param_type_name == "option" and param.opts
        return f"{max(param.opts, key=len) if option else param.human_readable_name}: {e.message}"
    return e.format_message() if hasattr(e, "format_message") else str(e)


class CommandError(Exception):
    """A library error as the command line words it (`--chips: ...`), the command it
    came from (`chinchilla plan`, as click's errors name it) and its exit code."""

    def __init__(self, line: str, exit_code: int, prog: str = "chinchilla") -> None:
        super().__init__(line)
        self.line = line
        self.exit_code = exit_code
        self.prog = prog


class NamedText(StringParamType):
    """Text whose --help shows only the argument's metavar (KIND), not typer's `<str>`:
    typer prints a type for an argument unless the type names its own metavar."""

    def get_metavar(self, param: Any, ctx: Any) -> str | None:
        return ""


class _Command(TyperCommand):
    """A subcommand that speaks in its own option names while it parses and runs: views
    render inside `views.option_names`, and a library error leaves as a CommandError whose
    line names the options (`chips` -> --chips), as click's BadParameter names its param.
    Outside a command (the library, a notebook) nothing is renamed.

    An argument's --help shows its name (KIND, CONFIGS), which says what goes there,
    without typer's `<str>` beside it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperArgument) and type(param.type) is StringParamType:
                param.type = NamedText()

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        with self._named(ctx):
            return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        with self._named(ctx):
            return super().invoke(ctx)

    @contextmanager
    def _named(self, ctx: Any) -> Iterator[None]:
        from chinchilla_cli import views

        names = command_option_names(self)
        with views.option_names(names):
            try:
                yield
            except ChinchillaError as e:
                line = error_line(e, names)
                raise CommandError(line, e.exit_code, ctx.command_path) from e


# Library arguments whose command-line name is not `--kebab-case`, for an error that no
# command's parameters can name (one raised outside a command); inside a command its
# parameters say, on top of these.
OPTION_NAMES = {
    "configs": "CONFIGS",
    "runs": "RUNS",
    "value": "value",
}


def command_option_names(command: Any) -> dict[str, str]:
    """Python name -> command-line name for each parameter of the click `command`: an
    option's longest flag (`json_out` -> --json), an argument's metavar or its name in
    capitals (`configs` -> CONFIGS), on top of OPTION_NAMES. An argument is found by its
    metavar too: fit's `runs_file` shows as RUNS, and the library calls it `runs`."""
    names = dict(OPTION_NAMES)
    for param in command.params:
        if not param.name:
            continue
        if isinstance(param, TyperArgument):
            shown = (param.metavar or param.name).strip(".[]").upper()
            names[param.name] = shown
            if shown.lower().isidentifier():
                names.setdefault(shown.lower(), shown)
        elif param.opts:
            names[param.name] = max(param.opts, key=len)
    return names


def error_line(e: ChinchillaError, names: Mapping[str, str] | None = None) -> str:
    """The one line for a library error: the option it is about, then what was wrong, each
    backticked argument named as an option. `names` maps Python names to the command's
    (see `command_option_names`); by default OPTION_NAMES, else `--kebab-case`."""
    from chinchilla_cli.views import name_arguments, option_name

    names = OPTION_NAMES if names is None else names
    text = name_arguments(e.message, names)
    return f"{option_name(e.field, names)}: {text}" if e.field and not e.located else text


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
        typer.Argument(
            metavar="KIND",
            help=f"Which presets: {', '.join(KINDS)} (any case); all when omitted.",
            show_default=False,
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """List the presets (accelerators, hyperparameter and scaling laws, famous models).

    One line each, its source cut to the terminal's width; --json prints every field."""
    from chinchilla_cli import views
    from chinchilla_cli.presets import load_presets, preset_kind
    from chinchilla_cli.views.presets import presets_view

    kinds = list(KINDS) if kind is None else [preset_kind(kind)]
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
    app.command(cls=_Command)(presets)
    for name in COMMANDS if names is None else names:
        function = getattr(importlib.import_module(COMMANDS[name]), name)
        app.command(name=name, cls=_Command)(function)
    return app


def __getattr__(name: str) -> Any:
    if name == "app":  # every command, for --help and the tests
        value = globals()["app"] = build_app()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """The `chinchilla` entry point."""
    # One BLAS thread (set before numpy loads): the fit's 5-parameter problems gain nothing
    # from more, and OpenBLAS's spinning threads slow it 2-15x when another process is busy.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    first = sys.argv[1] if len(sys.argv) > 1 else None
    build_app([first] if first in COMMANDS else None)()
