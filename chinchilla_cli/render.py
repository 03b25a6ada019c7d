"""Rich views of the core's result objects. Presentation only: no numbers are computed
here that the result objects do not already hold (beyond unit conversions)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from chinchilla_cli.plan import Plan
from chinchilla_cli.quantity import human, sci


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, allow_nan=False) + "\n")


def kv_table(title: str, rows: Iterable[tuple[str, str, str]]) -> Table:
    """A two- or three-column table: quantity, value, how it was obtained."""
    t = Table(title=title, title_justify="left", title_style="bold", box=box.SIMPLE_HEAD,
              show_header=False, pad_edge=False, min_width=len(title) + 1)
    t.add_column("quantity", style="cyan", no_wrap=True)
    t.add_column("value", justify="right", no_wrap=True)
    t.add_column("note", style="dim")
    for row in rows:
        t.add_row(*row)
    return t


def warnings_block(warnings: Iterable[str], heading: str = "warning") -> RenderableType:
    lines = [Text.assemble((f"{heading}: ", "bold yellow"), w) for w in warnings]
    return Group(*lines)


def days(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds / 86400:,.1f} days"


def plan_view(plan: Plan) -> RenderableType:
    b, o, a, f = plan.budget, plan.optimal, plan.architecture, plan.feasibility
    parts: list[RenderableType] = []

    budget_rows = [("compute", f"{sci(b.flops)} FLOPs", f"from {b.source}")]
    if b.cluster is not None:
        c = b.cluster
        budget_rows += [
            ("hardware", f"{c.chips:,} x {c.accelerator.name}",
             f"{c.peak_flops_per_second / 1e12:,.1f} TFLOP/s bf16 dense peak each"),
            ("utilisation (MFU)", f"{c.mfu:.0%}", f"{c.flops_per_second:.3g} FLOP/s delivered"),
            ("wall-clock", days(b.seconds), "given" if b.source == "hardware" else "to spend the budget"),
        ]
    parts.append(kv_table("Budget", budget_rows))

    parts.append(kv_table(f"Compute-optimal allocation ({plan.law.name})", [
        ("parameters N", human(o.params), f"{o.params:,.0f}"),
        ("training tokens D", human(o.tokens), f"{o.tokens:,.0f}"),
        ("tokens per parameter", f"{o.tokens_per_param:.1f}", "D / N"),
        ("compute C = 6ND", f"{sci(o.flops)} FLOPs", ""),
    ]))

    if plan.loss is None:
        parts.append(Text(f"Predicted loss: {plan.law.name} is an allocation-only law and "
                          "predicts no loss.", style="dim"))
    elif plan.loss.irreducible is None:
        parts.append(kv_table("Predicted loss", [("loss L(N, D)", f"{plan.loss.total:.4f}",
                                                  "no additive split for this law")]))
    else:
        lt = plan.loss
        parts.append(kv_table("Predicted loss", [
            ("loss L(N, D)", f"{lt.total:.4f}", "E + A/N^alpha + B/D^beta"),
            ("irreducible E", f"{lt.irreducible:.4f}", "entropy of text"),
            ("params term A/N^alpha", f"{lt.params_term:.4f}", "finite model"),
            ("data term B/D^beta", f"{lt.data_term:.4f}", "finite data"),
        ]))

    parts.append(kv_table("Architecture sketch", [
        ("layers", f"{a.n_layers}", f"d_model / layers = {a.d_model / a.n_layers:.0f}"),
        ("d_model", f"{a.d_model:,}", ""),
        ("heads x head size", f"{a.n_heads} x {a.head_dim}",
         "" if a.n_kv_heads == a.n_heads else f"{a.n_kv_heads} key/value heads"),
        ("feed-forward", f"{a.ffw_size:,}", "4 x d_model" if a.family == "chinchilla" else "SwiGLU"),
        ("vocabulary / sequence", f"{a.vocab_size:,} / {a.seq_len:,}", ""),
        ("parameters", f"{a.params:,}", _params_formula(a.family)),
        ("training FLOPs / token", f"{sci(a.flops_per_token)}",
         f"appendix F; 6N = {sci(6 * a.params)} ({a.flops_per_token / (6 * a.params):.2f}x)"),
    ]))

    feas_rows = [("training memory", f"{f.train_memory_bytes / 1e12:,.2f} TB",
                  f"{f.bytes_per_param} bytes/param: weights, grads, Adam (activations excluded)")]
    if f.fits is not None:
        assert f.cluster_memory_bytes is not None
        feas_rows.append(("cluster memory", f"{f.cluster_memory_bytes / 1e12:,.2f} TB",
                          "fits, fully sharded" if f.fits else "DOES NOT FIT"))
        feas_rows.append(("min chips for memory", f"{f.min_chips_for_memory:,}", ""))
    if f.tokens_per_second is not None:
        assert f.tokens_per_second_per_chip is not None
        feas_rows.append(("throughput needed", f"{human(f.tokens_per_second)} tokens/s",
                          f"{f.tokens_per_second_per_chip:,.0f} tokens/s per chip"))
    parts.append(kv_table("Feasibility", feas_rows))

    parts.append(crosscheck_table(plan))
    if plan.assumptions:
        parts.append(Text("Assumptions: " + "; ".join(plan.assumptions), style="dim"))
    if plan.warnings:
        parts.append(warnings_block(plan.warnings))
    return Group(*parts)


def _params_formula(family: str) -> str:
    if family == "llama":
        return "2·vocab·d + layers·(attention + 3·d·ffw + 2d) + d"
    return "vocab·d + layers·(5·d·heads·head_size + 2·d·ffw)"


def crosscheck_table(plan: Plan) -> Table:
    t = Table(title=f"Other laws at {sci(plan.budget.flops)} FLOPs", title_justify="left",
              title_style="bold", box=box.SIMPLE_HEAD)
    for col, justify in (("law", "left"), ("N", "right"), ("D", "right"),
                         ("D/N", "right"), ("loss", "right")):
        t.add_column(col, justify=justify)  # type: ignore[arg-type]
    for c in plan.crosscheck:
        style = "bold" if c.law == plan.law.name else None
        loss = "—" if c.loss is None else f"{c.loss:.4f}" + (" *" if c.kind == "kaplan" else "")
        t.add_row(c.law, human(c.params), human(c.tokens), f"{c.tokens / c.params:.1f}", loss,
                  style=style)
    return t


_PRESET_COLUMNS = {
    "hardware": (("bf16 TFLOP/s", "bf16_tflops"), ("fp8", "fp8_tflops"), ("GB", "memory_gb"),
                 ("TDP W", "tdp_watts")),
    "models": (("params", "params"), ("tokens", "tokens"), ("reported C", "reported_flops")),
    "laws": (("kind", "kind"),),
}


def presets_view(data: dict[str, dict[str, dict[str, Any]]]) -> RenderableType:
    tables = []
    for kind, entries in data.items():
        t = Table(title=f"{kind} ({len(entries)})", title_justify="left", title_style="bold",
                  box=box.SIMPLE_HEAD)
        t.add_column("name", style="cyan", no_wrap=True)
        for label, _ in _PRESET_COLUMNS[kind]:
            t.add_column(label, justify="right", no_wrap=True)
        t.add_column("source", overflow="fold")
        for name, e in entries.items():
            cells = [_cell(e.get(key), key) for _, key in _PRESET_COLUMNS[kind]]
            t.add_row(name, *cells, " ".join(str(e.get("source", "")).split()))
        tables.append(t)
    return Group(*tables)


def _cell(value: Any, key: str) -> str:
    if value is None:
        return "—"
    if key in ("params", "tokens"):
        return human(float(value))
    if key == "reported_flops":
        return sci(float(value))
    return str(value)
