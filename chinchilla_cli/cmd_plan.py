"""`chinchilla plan`: the compute-optimal model for a budget, and what the run takes."""

from __future__ import annotations

import math
from collections.abc import Callable
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
from chinchilla_cli.errors import InputError

BUDGET = "Budget (give exactly one)"
HARDWARE = "Hardware, time and cost"
BEYOND = "Beyond the paper"
SHAPE = "Architecture sketch"


def plan(
    flops: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            help="Compute budget C in FLOPs, e.g. 5.76e23.",
            show_default=False,
            rich_help_panel=BUDGET,
        ),
    ] = None,
    chips: Annotated[
        int | None,
        typer.Option(
            parser=POSITIVE_INT,
            help="Number of accelerators. With --days/--hours: the budget; otherwise the "
            "cluster the run uses.",
            show_default=False,
            rich_help_panel=BUDGET,
        ),
    ] = None,
    days: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            help="Wall-clock days of training on --chips.",
            show_default=False,
            rich_help_panel=BUDGET,
        ),
    ] = None,
    hours: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            help="Wall-clock hours of training on --chips.",
            show_default=False,
            rich_help_panel=BUDGET,
        ),
    ] = None,
    params: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            help="Model size N in parameters, e.g. 70B: the optimal tokens and compute for it.",
            show_default=False,
            rich_help_panel=BUDGET,
        ),
    ] = None,
    tokens: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            help="Training tokens D, e.g. 1.4T: the optimal size and compute for them.",
            show_default=False,
            rich_help_panel=BUDGET,
        ),
    ] = None,
    target_loss: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            help="Predicted loss to reach (nats/token): the least compute that reaches it.",
            show_default=False,
            rich_help_panel=BUDGET,
        ),
    ] = None,
    budget_range: Annotated[
        str | None,
        typer.Option(
            help="Budgets START:STOP:COUNT (log-spaced) or a comma list, FLOPs: one frontier "
            "row each.",
            show_default=False,
            rich_help_panel=BUDGET,
        ),
    ] = None,
    accelerator: Annotated[
        str,
        typer.Option(
            help="Accelerator preset (see `chinchilla presets hardware`).", rich_help_panel=HARDWARE
        ),
    ] = "h100-sxm",
    peak_flops: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            help="Override the accelerator's dense bf16 peak, FLOP/s per chip.",
            show_default=False,
            rich_help_panel=HARDWARE,
        ),
    ] = None,
    mfu: Annotated[
        float,
        typer.Option(
            parser=FRACTION,
            help="Model FLOPs utilisation, a fraction in (0, 1].",
            rich_help_panel=HARDWARE,
        ),
    ] = 0.40,
    goodput: Annotated[
        float,
        typer.Option(
            parser=FRACTION,
            help="Fraction of wall-clock that trains (the rest: failures, restarts, "
            "checkpoints), in (0, 1].",
            rich_help_panel=HARDWARE,
        ),
    ] = 1.0,
    deadline_days: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            help="Finish within this many days: the chips needed (with --flops, --params, "
            "--tokens or --target-loss).",
            show_default=False,
            rich_help_panel=HARDWARE,
        ),
    ] = None,
    price_per_hour: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            help="USD per chip-hour (default: the preset's approximate on-demand price).",
            show_default=False,
            rich_help_panel=HARDWARE,
        ),
    ] = None,
    tdp_watts: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            help="Power per chip in watts (default: the preset's TDP).",
            show_default=False,
            rich_help_panel=HARDWARE,
        ),
    ] = None,
    pue: Annotated[
        float,
        typer.Option(
            parser=quantity(minimum=1.0, inclusive=True),
            help="Data-centre power usage effectiveness, >= 1.",
            rich_help_panel=HARDWARE,
        ),
    ] = 1.1,
    grid_intensity: Annotated[
        float,
        typer.Option(
            parser=quantity(minimum=0.0, inclusive=True),
            help="Grid carbon intensity, gCO2e/kWh (475: IEA 2019 world average).",
            rich_help_panel=HARDWARE,
        ),
    ] = 475.0,
    law: LawOpt = "besiroglu2024",
    unique_tokens: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            help="Unique tokens available (Muennighoff et al. 2023): plan with repeated data.",
            show_default=False,
            rich_help_panel=BEYOND,
        ),
    ] = None,
    inference_tokens: Annotated[
        float | None,
        typer.Option(
            parser=POSITIVE,
            help="Tokens the model will serve (Sardana et al. 2024): minimise lifetime compute.",
            show_default=False,
            rich_help_panel=BEYOND,
        ),
    ] = None,
    arch: Annotated[
        str,
        typer.Option(
            help="Architecture family of the sketch: chinchilla (the paper's shapes) or llama "
            "(SwiGLU, GQA).",
            rich_help_panel=SHAPE,
        ),
    ] = "chinchilla",
    kv_heads: Annotated[
        int,
        typer.Option(
            parser=POSITIVE_INT,
            help="Key/value heads for --arch llama (grouped-query attention).",
            rich_help_panel=SHAPE,
        ),
    ] = 8,
    aspect_ratio: Annotated[
        float,
        typer.Option(
            parser=POSITIVE,
            help="Target d_model / layers (Table A9 spans 43-109).",
            rich_help_panel=SHAPE,
        ),
    ] = 100.0,
    vocab: Annotated[
        int | None,
        typer.Option(
            parser=POSITIVE_INT,
            help="Vocabulary size, tokens [default: 32,000; 128,256 with --arch llama].",
            show_default=False,
            rich_help_panel=SHAPE,
        ),
    ] = None,
    seq_len: Annotated[
        int,
        typer.Option(parser=POSITIVE_INT, help="Sequence length, tokens.", rich_help_panel=SHAPE),
    ] = 2048,
    plot: Annotated[
        str | None,
        typer.Option(
            help="Write a figure (.png/.svg/.pdf; needs the plot extra): the landscape, each "
            "law's frontier, the plan.",
            show_default=False,
        ),
    ] = None,
    force: ForceOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """The compute-optimal model size and tokens for a budget, with loss, shape, feasibility
    and cost."""
    from chinchilla_cli import hardware as hw
    from chinchilla_cli.architecture import SKETCH_FAMILIES
    from chinchilla_cli.costs import run_costs
    from chinchilla_cli.frontier import Allocation, flops_for_loss
    from chinchilla_cli.laws import DEFAULT_LAW, ParametricLaw, load_law
    from chinchilla_cli.plan import Budget, Shape, frontier_rows, make_plan
    from chinchilla_cli.quantity import parse_budgets

    hardware_budget = chips if (days or hours) else None
    given = {
        "--flops": flops,
        "--params": params,
        "--tokens": tokens,
        "--target-loss": target_loss,
        "--budget-range": budget_range,
        "--chips with --days/--hours": hardware_budget,
    }
    ways = [k for k, v in given.items() if v is not None]
    if len(ways) > 1:
        raise InputError(
            f"plan: the budget is given {len(ways)} ways ({', '.join(ways)}); give exactly one"
        )
    if days is not None and hours is not None:
        raise InputError("plan: give --days or --hours, not both")
    if (days or hours) and chips is None:
        raise InputError("plan: --days/--hours need --chips (how many accelerators)")
    if not ways:
        raise InputError(
            "plan: no budget; give one of --flops C, --chips N with --days or --hours, "
            "--params N, --tokens D, --target-loss L or --budget-range"
        )
    if deadline_days is not None and (chips is not None or budget_range is not None):
        raise InputError(
            "--deadline-days: gives the chips needed; do not combine it with "
            + ("--chips" if chips is not None else "--budget-range")
        )
    if arch not in SKETCH_FAMILIES:
        raise InputError(
            f"--arch: unknown family {arch!r}; expected one of {', '.join(SKETCH_FAMILIES)}"
        )
    if plot is not None:
        from chinchilla_cli.plotting import check_plot_path

        check_plot_path(plot, "--plot", force)

    the_law = load_law(law)
    parametric = isinstance(the_law, ParametricLaw)
    for option, value in (
        ("--unique-tokens", unique_tokens),
        ("--inference-tokens", inference_tokens),
    ):
        if value is not None and not parametric:
            raise InputError(
                f"{option}: needs a law that predicts loss from N and D (parametric); "
                f"{the_law.name} is {the_law.kind}"
            )
    if target_loss is not None and not the_law.predicts_loss:
        raise InputError(
            f"--target-loss: {the_law.name} predicts no loss; use a parametric law "
            "such as besiroglu2024 or hoffmann2022"
        )
    acc = hw.load_accelerator(accelerator)
    peak = peak_flops or acc.bf16_flops_per_second
    shape = Shape(arch, vocab, seq_len, aspect_ratio, kv_heads)
    from chinchilla_cli import render

    if budget_range is not None:
        budgets = parse_budgets(budget_range, "--budget-range")
        rows = frontier_rows(the_law, budgets)
        if json_out:
            render.print_json(
                {
                    "law": {"name": the_law.name, "kind": the_law.kind, "source": the_law.source},
                    "frontier": rows,
                }
            )
        else:
            render.console().print(render.frontier_view(the_law, rows))
        return

    allocation = None
    if flops is not None:
        total, source = flops, "flops"
    elif params is not None:
        total = _budget(the_law.flops_for_params, params, f"--params: {params:g} parameters")
        allocation, source = Allocation(params, total / (6 * params)), "params"
    elif tokens is not None:
        total = _budget(the_law.flops_for_tokens, tokens, f"--tokens: {tokens:g} tokens")
        allocation, source = Allocation(total / (6 * tokens), tokens), "tokens"
    elif target_loss is not None:
        c_star = flops_for_loss(the_law, target_loss)
        if c_star is None:
            floor = getattr(the_law, "E", 0.0)
            raise InputError(
                f"--target-loss: {target_loss:g} is unreachable under {the_law.name}: "
                f"at or below its irreducible loss {floor:g}; accepted: a loss above it"
            )
        total = _budget(lambda _: c_star, target_loss, f"--target-loss: a loss of {target_loss:g}")
        source = "target-loss"
    else:
        total, source = 0.0, "hardware"

    cluster = None
    if chips is not None:
        cluster = hw.Cluster(acc, chips, peak, mfu, goodput)
    elif deadline_days is not None:
        needed = hw.Cluster(acc, 1, peak, mfu, goodput).chips_for(
            total, deadline_days * hw.SECONDS_PER_DAY
        )
        cluster = hw.Cluster(acc, needed, peak, mfu, goodput)
    if source == "hardware":
        assert cluster is not None
        seconds = days * hw.SECONDS_PER_DAY if days else (hours or 0.0) * hw.SECONDS_PER_HOUR
        total = _budget(cluster.flops_in, seconds, f"--chips {chips:,} for {seconds:g} s")
    budget = Budget(total, source, cluster, cluster.seconds_for(total) if cluster else None)

    costs = None
    if cluster is not None and budget.seconds is not None:
        price = price_per_hour if price_per_hour is not None else acc.price_usd_per_hour
        price_source = (
            "--price-per-hour"
            if price_per_hour is not None
            else acc.price_note or "no price in the preset: pass --price-per-hour"
        )
        costs = run_costs(
            cluster.chips,
            budget.seconds,
            tdp_watts or acc.tdp_watts,
            price,
            price_source,
            pue,
            grid_intensity,
        )

    assumptions = [
        f"law {the_law.name}" + (" (default)" if law == DEFAULT_LAW else ""),
        "C = 6·N·D",
    ]
    if cluster is not None:
        assumptions.append(
            f"{acc.name} at {peak / 1e12:,.1f} TFLOP/s dense bf16 peak"
            + (" (--peak-flops)" if peak_flops else " (preset)")
        )
        assumptions.append(f"MFU {mfu:.0%}" + (" (default)" if mfu == 0.40 else ""))
        assumptions.append(f"goodput {goodput:.0%}" + (" (default)" if goodput == 1.0 else ""))
        if costs is not None:
            assumptions.append(
                f"PUE {pue:g}, grid {grid_intensity:g} gCO2e/kWh"
                + (
                    " (defaults: hyperscale PUE; IEA 2019 world average)"
                    if (pue, grid_intensity) == (1.1, 475.0)
                    else ""
                )
            )
    assumptions.append(
        f"{arch} shapes, vocabulary {shape_vocab(arch, vocab):,}, sequence {seq_len:,}, "
        f"d_model/layers ≈ {aspect_ratio:g}"
    )
    result = make_plan(
        the_law,
        budget,
        allocation,
        shape=shape,
        unique_tokens=unique_tokens,
        inference_tokens=inference_tokens,
        target_loss=target_loss,
        costs=costs,
        assumptions=tuple(assumptions),
    )

    if plot is not None:
        from chinchilla_cli.plotting import plan_plot

        plan_plot(result, plot, "--plot", force)
    if json_out:
        d = result.to_dict()
        d["plot"] = plot
        render.print_json(d)
    else:
        render.console().print(render.plan_view(result))
        if plot is not None:
            render.console().print(f"Wrote the figure to {plot}")


def _budget(compute: Callable[[float], float], value: float, asked: str) -> float:
    """The budget `compute(value)` that the user's option implies, if the laws and
    sketches describe it (at most MAX_BUDGET_FLOPS); else one InputError."""
    from chinchilla_cli.quantity import MAX_BUDGET_FLOPS, sci

    try:
        total = compute(value)
    except OverflowError:
        total = math.inf
    if not 0 < total <= MAX_BUDGET_FLOPS:  # NaN fails too
        size = sci(total) if math.isfinite(total) else "more than 1e308"
        raise InputError(
            f"{asked} needs a budget of {size} FLOPs; the laws and the architecture sketch "
            f"describe budgets up to {sci(MAX_BUDGET_FLOPS, 1)}"
        )
    return total


def shape_vocab(arch: str, vocab: int | None) -> int:
    from chinchilla_cli.architecture import DEFAULT_VOCAB

    return vocab if vocab is not None else DEFAULT_VOCAB[arch]
