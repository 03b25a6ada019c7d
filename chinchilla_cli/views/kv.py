"""The key-value table (quantity, value, note) that most sections of a plan are drawn in.

It draws exactly what a rich `Table` with `titled_table`'s style draws, but lays itself
out in one pass: a plan prints six of them, and rich's general table (which measures and
pads every cell through several renderables) was a fifth of `chinchilla plan`'s start-up.
Anything beyond the one-pass layout (markup, a cell with a line break, a title wider than
the table, a terminal too narrow for the values) is handed to rich's `Table`, so the
output is rich's in every case; tests/test_views_kv.py compares the two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

Row = tuple[str, str, str]

# The column styles of titled_table's key-value layout (views.kv_table's columns).
TITLE_STYLE = "bold"
KEY_STYLE = "cyan"
NOTE_STYLE = "dim"
# SIMPLE_HEAD with its edge: one space at either side and between columns
EXTRA_WIDTH = 4
# cell padding: key 0+1, value 1+1, note 1+0 (none at the table's edge)
PADDING = 4


class KeyValueTable:
    """Rows of (quantity, value right-aligned, note wrapped) under a bold title."""

    def __init__(self, title: str, rows: Iterable[Row], fallback: Callable[[], Table]) -> None:
        self.title = title
        self.rows = [tuple(row) for row in rows]
        self._fallback = fallback

    def as_table(self) -> Table:
        """The rich Table this draws like."""
        return self._fallback()

    def _plain(self) -> bool:
        cells = [self.title, *(cell for row in self.rows for cell in row)]
        # one cell per character (no wide or combining characters), no markup, one line
        return bool(self.rows) and all(
            cell_len(c) == len(c) and not any(ch in c for ch in "[\n\t") for c in cells
        )

    def _widths(self, max_width: int) -> tuple[int, int, int] | None:
        """Content widths of the three columns within `max_width` cells, or None where
        rich's own layout is needed (a word or a value that does not fit, a wide title)."""
        key = max(len(r[0]) for r in self.rows)
        value = max(len(r[1]) for r in self.rows)
        note = max(len(r[2]) for r in self.rows)
        room = max_width - EXTRA_WIDTH - PADDING - key - value
        if note > room:  # rich shortens only the wrapping column, to what is left
            longest_word = max((len(w) for r in self.rows for w in r[2].split(" ")), default=0)
            if room < max(longest_word, 1):
                return None
            note = room
        if key + value + note + EXTRA_WIDTH + PADDING < len(self.title) + 1:
            return None  # rich widens the columns to the title
        return key, value, note

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement.get(console, options, self.as_table())

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        widths = self._widths(options.max_width) if self._plain() else None
        if widths is None:
            yield from console.render(self.as_table(), options)
            return
        key_w, value_w, note_w = widths
        total = key_w + value_w + note_w + EXTRA_WIDTH + PADDING
        key_s, note_s = Style.parse(KEY_STYLE), Style.parse(NOTE_STYLE)
        newline = Segment.line()
        yield Segment(self.title.ljust(total), Style.parse(TITLE_STYLE))
        yield newline
        yield Segment(" " * total)
        yield newline
        for key, value, note in self.rows:
            lines = _wrap(console, note, note_w)
            for i, line in enumerate(lines):
                left = key.ljust(key_w) if i == 0 else " " * key_w
                right = value.rjust(value_w) if i == 0 else " " * value_w
                yield Segment(" ")
                yield Segment(left + " ", key_s)
                yield Segment("  " + right + "  ")
                yield Segment(" " + line.ljust(note_w), note_s)
                yield Segment(" ")
                yield newline
        yield Segment(" " * total)
        yield newline


def _wrap(console: Console, note: str, width: int) -> list[str]:
    if len(note) <= width:
        return [note]
    lines = Text(note).wrap(console, width, justify="left", overflow="fold")
    return [line.plain.rstrip() for line in lines] or [""]
