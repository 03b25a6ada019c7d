"""Rich view of the presets: one table per kind, one line per preset.

A preset's source is a paragraph. Wrapped in a table cell it took dozens of lines per row
and split file names mid-token, so each source is one line here, cut at a word to the
width the other columns leave; the JSON output holds every field whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.measure import Measurement
from rich.text import Text

from chinchilla_cli.quantity import human, sci
from chinchilla_cli.views import DASH, titled_table

# (header, key) of the columns between the name and the source, per kind
_PRESET_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "hardware": (
        ("bf16 TFLOP/s", "bf16_tflops"),
        ("fp8", "fp8_tflops"),
        ("GB", "memory_gb"),
        ("TDP W", "tdp_watts"),
    ),
    "hyperparameters": (("lr", "lr_formula"), ("batch, tokens", "batch_formula")),
    "laws": (("kind", "kind"),),
    # active: what one token uses, for a mixture of experts (a dense model uses all)
    "models": (
        ("params", "params"),
        ("active", "active_params"),
        ("tokens", "tokens"),
        ("reported C", "reported_flops"),
    ),
}
_WORDS = {"lr_formula", "batch_formula", "kind"}  # read from the left; numbers align right
MIN_SOURCE_WIDTH = 12  # a source column narrower than this says nothing


def presets_view(data: dict[str, dict[str, dict[str, Any]]]) -> RenderableType:
    """One table per kind in `data` (kind -> name -> entry): name, key figures, source."""
    tables: list[RenderableType] = []
    for kind, entries in data.items():
        t = titled_table(f"{kind} ({len(entries)})", compact=True)
        t.add_column("name", style="cyan", no_wrap=True)
        for label, key in _PRESET_COLUMNS.get(kind, ()):
            t.add_column(label, justify="left" if key in _WORDS else "right", no_wrap=True)
        t.add_column("source")
        for name, e in entries.items():
            cells = [_cell(e.get(key), key) for _, key in _PRESET_COLUMNS.get(kind, ())]
            t.add_row(name, *cells, Clipped(brief_source(str(e.get("source", "")))))
        tables += [t, Text("")]
    return Group(*tables[:-1])


# a paper's title after its authors and year: `Brown et al. 2020, "Language Models are ..."`
_TITLE = re.compile(r'^([^"]*?\b(?:19|20)\d\d), "[^"]*"')
_WORD = re.compile(r"arXiv \S+|\S+")  # an arXiv number is cut with its label or not at all


def brief_source(source: str) -> str:
    """The source on one line without the title after its authors and year, so a narrow
    column still shows who, when and where (`Brown et al. 2020, arXiv 2005.14165, ...`)."""
    return _TITLE.sub(r"\1", " ".join(source.split()), count=1)


class Clipped:
    """One line of text that fits the width it is given: cut after the last whole word
    that fits, with an ellipsis, never wrapped and never split inside a word (unless its
    first word alone is too wide)."""

    def __init__(self, text: str, style: str = "") -> None:
        self.text = text
        self.style = style

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = cell_len(self.text)
        return Measurement(min(width, MIN_SOURCE_WIDTH), width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        yield Text(clip(self.text, options.max_width), style=self.style, no_wrap=True)


def clip(text: str, width: int) -> str:
    """`text` if it fits in `width` cells, else its longest run of whole words that fits
    with an ellipsis (its first characters when even the first word is too wide)."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    kept = ""
    for word in _WORD.findall(text):
        candidate = f"{kept} {word}" if kept else word
        if cell_len(candidate.rstrip(",;:")) + 1 > width:
            break
        kept = candidate
    if not kept:  # one long token: cut it, but say so
        kept = text
        while cell_len(kept) + 1 > width:
            kept = kept[:-1]
    return kept.rstrip(",;:") + "…"


def _cell(value: Any, key: str) -> str:
    if value is None:
        return "" if key == "active_params" else DASH  # a dense model: every parameter
    if key in ("params", "active_params", "tokens"):
        return human(float(value))
    if key == "reported_flops":
        return sci(float(value))
    return str(value)
