"""The command line: parse and validate, call the core, hand the result to a renderer."""

from __future__ import annotations

import sys
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from chinchilla_cli import __version__
from chinchilla_cli._options import FRACTION, POSITIVE, POSITIVE_INT, JsonOpt, LawOpt
from chinchilla_cli.errors import ChinchillaError, InputError


class _OneLineErrors(TyperGroup):
    """Every error is one line on stderr: usage errors exit 2, failed fits exit 1.

    Typer would draw a multi-line panel; scripts and humans both want `prog: error: ...`.
    """

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)
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
        if not standalone_mode:
            return rv
        sys.exit(rv if isinstance(rv, int) else 0)


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
def plan(
    flops: Annotated[float | None, typer.Option(parser=POSITIVE, help="Compute budget C in FLOPs, e.g. 5.76e23.", show_default=False)] = None,
    chips: Annotated[int | None, typer.Option(parser=POSITIVE_INT, help="Number of accelerators (with --days/--hours: the budget; with --flops: the cluster it runs on).", show_default=False)] = None,
    days: Annotated[float | None, typer.Option(parser=POSITIVE, help="Wall-clock days of training on --chips.", show_default=False)] = None,
    hours: Annotated[float | None, typer.Option(parser=POSITIVE, help="Wall-clock hours of training on --chips.", show_default=False)] = None,
    accelerator: Annotated[str, typer.Option(help="Accelerator preset (see `chinchilla presets hardware`).")] = "h100-sxm",
    peak_flops: Annotated[float | None, typer.Option(parser=POSITIVE, help="Override the accelerator's dense bf16 peak, FLOP/s per chip.", show_default=False)] = None,
    mfu: Annotated[float, typer.Option(parser=FRACTION, help="Model FLOPs utilisation, a fraction in (0, 1].")] = 0.40,
    params: Annotated[float | None, typer.Option(parser=POSITIVE, help="Model size N in parameters, e.g. 70B: plan the optimal tokens and compute for it.", show_default=False)] = None,
    tokens: Annotated[float | None, typer.Option(parser=POSITIVE, help="Training tokens D, e.g. 1.4T: plan the optimal size and compute for them.", show_default=False)] = None,
    law: LawOpt = "besiroglu2024",
    aspect_ratio: Annotated[float, typer.Option(parser=POSITIVE, help="Target d_model / layers of the architecture sketch (Table A9 spans 43-109).")] = 100.0,
    vocab: Annotated[int, typer.Option(parser=POSITIVE_INT, help="Vocabulary size, tokens.")] = 32000,
    seq_len: Annotated[int, typer.Option(parser=POSITIVE_INT, help="Sequence length, tokens.")] = 2048,
    json_out: JsonOpt = False,
) -> None:
    """The compute-optimal model size and tokens for a budget, with loss, shape and feasibility."""
    from chinchilla_cli import hardware as hw
    from chinchilla_cli.laws import load_law
    from chinchilla_cli.plan import Allocation, Budget, make_plan

    given = {"--flops": flops, "--params": params, "--tokens": tokens,
             "--chips with --days/--hours": chips if (days or hours) else None}
    ways = [k for k, v in given.items() if v is not None]
    if len(ways) > 1:
        raise InputError(f"plan: the budget is given {len(ways)} ways ({', '.join(ways)}); give exactly one")
    if days is not None and hours is not None:
        raise InputError("plan: give --days or --hours, not both")
    if (days or hours) and chips is None:
        raise InputError("plan: --days/--hours need --chips (how many accelerators)")
    if not ways:
        raise InputError(
            "plan: no budget; give one of --flops C, --chips N with --days or --hours, --params N, --tokens D"
        )

    the_law = load_law(law)
    cluster = None
    if chips is not None:
        acc = hw.load_accelerator(accelerator)
        cluster = hw.Cluster(acc, chips, peak_flops or acc.bf16_flops_per_second, mfu)
    elif accelerator != hw.DEFAULT_ACCELERATOR or peak_flops is not None:
        hw.load_accelerator(accelerator)  # still reject an unknown name

    allocation = None
    if flops is not None:
        total, source = flops, "flops"
    elif params is not None:
        total, source = the_law.flops_for_params(params), "params"
        allocation = Allocation(params, total / (6 * params))
    elif tokens is not None:
        total, source = the_law.flops_for_tokens(tokens), "tokens"
        allocation = Allocation(total / (6 * tokens), tokens)
    else:
        assert cluster is not None
        seconds = days * hw.SECONDS_PER_DAY if days else (hours or 0) * hw.SECONDS_PER_HOUR
        total, source = cluster.flops_in(seconds), "hardware"
    seconds_on_cluster = cluster.seconds_for(total) if cluster else None
    budget = Budget(total, source, cluster, seconds_on_cluster)

    assumptions = [f"law {the_law.name}" + (" (default)" if law == "besiroglu2024" else ""), "C = 6·N·D"]
    if cluster is not None:
        assumptions.append(f"{cluster.accelerator.name} at {cluster.peak_flops_per_second / 1e12:,.1f} "
                           f"TFLOP/s dense bf16 peak" + ("" if peak_flops else " (preset)"))
        assumptions.append(f"MFU {mfu:.0%}" + (" (default)" if mfu == 0.40 else ""))
    assumptions.append(f"vocabulary {vocab:,}, sequence {seq_len:,}, d_model/layers ≈ {aspect_ratio:g}")
    result = make_plan(the_law, budget, allocation, vocab_size=vocab, seq_len=seq_len,
                       aspect_ratio=aspect_ratio, assumptions=tuple(assumptions))

    from chinchilla_cli import render

    if json_out:
        render.print_json(result.to_dict())
    else:
        render.console().print(render.plan_view(result))


@app.command()
def presets(
    kind: Annotated[str | None, typer.Argument(help="hardware, models or laws; all when omitted.", show_default=False)] = None,
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


# Subcommands that live in their own modules (each imports only typer at module level).
from chinchilla_cli import cmd_compare, cmd_fit  # noqa: E402

app.command(name="fit")(cmd_fit.fit)
app.command(name="compare")(cmd_compare.compare)


def main() -> None:
    app()
