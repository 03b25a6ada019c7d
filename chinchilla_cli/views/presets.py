"""Rich view of the presets: one table per kind, with each entry's source."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType

from chinchilla_cli.quantity import human, sci
from chinchilla_cli.views import titled_table

_PRESET_COLUMNS = {
    "hardware": (
        ("bf16 TFLOP/s", "bf16_tflops"),
        ("fp8", "fp8_tflops"),
        ("GB", "memory_gb"),
        ("TDP W", "tdp_watts"),
    ),
    "models": (("params", "params"), ("tokens", "tokens"), ("reported C", "reported_flops")),
    "laws": (("kind", "kind"),),
    "hyperparameters": (("lr", "lr_formula"), ("batch, tokens", "batch_formula")),
}


def presets_view(data: dict[str, dict[str, dict[str, Any]]]) -> RenderableType:
    tables = []
    for kind, entries in data.items():
        t = titled_table(f"{kind} ({len(entries)})")
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
