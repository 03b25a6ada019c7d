"""Rich view of a `chinchilla sweep` design. Presentation only: every number shown is held
by the Sweep (beyond formatting and unit conversion)."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from chinchilla_cli.quantity import human, sci
from chinchilla_cli.sweeps import Sweep
from chinchilla_cli.views import titled_table, unbroken, warnings_block, words

DASH = "—"


def duration(hours: float) -> str:
    """Wall-clock in the unit that reads best: 42 s, 5.3 min, 7.1 h, 3.2 d."""
    seconds = hours * 3600
    if seconds < 90:
        return f"{seconds:.0f} s"
    if hours < 1.5:
        return f"{seconds / 60:.1f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:,.1f} d"


def _ratio(x: float) -> str:
    return f"{x:.1f}" if x < 10 else f"{x:,.0f}"


def _budget(b: Any) -> str:
    """The budget, with its expert count in a sweep over experts."""
    return sci(b.flops) + ("" if b.experts is None else f" E={b.experts}")


def _table(title: str) -> Table:
    return titled_table(title, compact=True)


def runs_table(sw: Sweep) -> Table:
    predicts = sw.law.predicts_loss
    t = _table(
        f"IsoFLOP sweep: {sw.sizes} size{'s' if sw.sizes != 1 else ''} per budget "
        f"over {sw.span:g}x in N, centred on the {sw.law.name} optimum N*"
    )
    moe = sw.shape.family == "moe"
    t.add_column("C FLOPs", style="cyan", no_wrap=True)
    sizes = ("N active", "total") if moe else ("N params",)
    for h in ("N/N*", "target", *sizes, "layers × d", "heads", "D tokens", "D/N"):
        t.add_column(h, justify="right", no_wrap=True)
    if predicts:
        t.add_column("loss", justify="right", no_wrap=True)
    for b in sw.budgets:
        for i, r in enumerate(b.runs):
            a = r.architecture
            cells = [
                _budget(b) if i == 0 else "",
                f"{r.relative_size:.2f}",
                human(r.target_params),
                human(r.params),
                *([human(r.total_params)] if moe else []),
                f"{a.n_layers} × {a.d_model}",
                str(a.n_heads),
                human(r.tokens),
                _ratio(r.tokens_per_param),
            ]
            if predicts:
                cells.append(DASH if r.loss is None else f"{r.loss:.4f}")
            t.add_row(*cells, end_section=i == len(b.runs) - 1)
    return t


def budgets_table(sw: Sweep) -> Table:
    predicts = sw.law.predicts_loss
    t = _table("Per budget")
    t.add_column("C FLOPs", style="cyan", no_wrap=True)
    for h in (
        ("N*", "D*")
        + (("L*", "loss spread") if predicts else ())
        + ("runs", "each", "compute", "time")
    ):
        t.add_column(h, justify="right", no_wrap=True)
    for b in sw.budgets:
        cells = [_budget(b), human(b.centre_params), human(b.centre_tokens)]
        if predicts:
            spread = b.loss_spread
            cells += [
                DASH if b.centre_loss is None else f"{b.centre_loss:.4f}",
                DASH if spread is None else f"{spread:.4f}",
            ]
        each = b.runs[0].hours if b.runs else 0.0
        cells += [
            str(len(b.runs)),
            duration(each),
            sci(b.total_flops),
            duration(b.total_hours),
        ]
        t.add_row(*cells)
    return t


KEY = (
    "N/N*: size over the law's optimum for the budget; target: the log-even size "
    "sketched; N params: the sketch's exact count; D = C / (6 N)"
)
LOSS_KEY = "; loss: the law's prediction"
MOE_KEY = "; N active: the parameters each token uses (the law's N), total: every expert's"
BUDGETS_KEY = "N*, D*: the law's compute-optimal split of C"
LOSSES_KEY = ", L* its loss; loss spread: worst minus best predicted loss of the runs"
TIME_KEY = "; each: wall-clock of one run; time: of all"


def sweep_view(sw: Sweep) -> RenderableType:
    c = sw.cluster
    total = Text.assemble(
        ("Total: ", "bold"),
        f"{len(sw.runs)} runs, {sci(sw.total_flops)} FLOPs, {duration(sw.total_hours)} "
        f"({sw.total_hours:,.1f} hours) on {c.chips:,} x {c.accelerator.name} at MFU "
        f"{c.mfu:.0%}, one run after another",
    )
    predicts = sw.law.predicts_loss
    key = KEY + (MOE_KEY if sw.shape.family == "moe" else "") + (LOSS_KEY if predicts else "")
    budgets_key = BUDGETS_KEY + (LOSSES_KEY if predicts else "") + TIME_KEY
    parts: list[RenderableType] = [
        runs_table(sw),
        Text(key, style="dim"),
        Text(""),
        budgets_table(sw),
        Text(budgets_key, style="dim"),
        Text(""),
        total,
    ]
    if sw.assumptions:
        parts.append(Text(words("Assumptions: " + "; ".join(sw.assumptions)), style="dim"))
    if sw.warnings:
        parts.append(warnings_block(sw.warnings))
    return Group(*parts)


def written_view(csv: str | None, plot: str | None) -> RenderableType:
    """The files `chinchilla sweep` wrote, and what to do with the grid."""
    lines = []
    if csv:
        lines.append(
            unbroken(
                f"wrote {csv}: fill in the loss column, then run `chinchilla fit {csv}`",
                style="green",
            )
        )
    if plot:
        lines.append(unbroken(f"wrote {plot}", style="green"))
    return Group(*lines)
