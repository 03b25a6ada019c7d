"""The tables of every view: a rich `Table` that lays itself out in one pass when it can.

A plan prints nine tables; rich's general layout (which measures and pads every cell
through several renderables, then renders each cell as its own little document) was a
fifth of `chinchilla plan`'s start-up. The tables the views build are simple: plain
one-line text in SIMPLE_HEAD boxes, at most one column that wraps. For those this draws
the same characters in the same styles directly; anything else (markup, a rich object
in a cell, several columns to shrink, a title wider than the table, an ASCII-only
terminal...) goes to rich's own layout, so the output is rich's in every case.
tests/test_views_table.py compares the two character by character, with styles.
"""

from __future__ import annotations

import re
from math import ceil
from typing import Any

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from rich.table import Column, Table
from rich.text import Text

_EMOJI_CODE = re.compile(r":[^\s:]+:")


class OnePassTable(Table):
    """A rich Table; see the module's docstring for when it draws itself directly."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        layout = self._layout(console, options) if self._simple(options) else None
        if layout is None:
            yield from super().__rich_console__(console, options)
        else:
            yield from self._draw(console, options, *layout)

    # -- when ------------------------------------------------------------------------------

    def _simple(self, options: ConsoleOptions) -> bool:
        plain = self.box is box.SIMPLE_HEAD and not (options.ascii_only or options.legacy_windows)
        table = (
            self.width is None,
            not self.expand,
            isinstance(self.caption, (str, type(None))),
            not self.show_footer,
            not self.show_lines,
            not self.leading,
            not self.row_styles,
            self.style in (None, "", "none"),
            not self.border_style,
            tuple(self.padding) == (0, 1, 0, 1),
            self.title_justify == "left",
            isinstance(self.title, (str, type(None))),
            all(
                isinstance(row.style, (str, type(None))) and not row.end_section
                for row in self.rows
            ),
        )
        return plain and all(table) and all(_simple_column(c) for c in self.columns)

    def _texts(self) -> list[list[str]] | None:
        """Each column's cells (the header first when shown), or None if any is not plain
        one-line text whose every character takes one cell."""
        columns: list[list[str]] = []
        for column in self.columns:
            cells = [column.header, *column.cells] if self.show_header else list(column.cells)
            texts = [c for c in cells if isinstance(c, str) and _plain(c)]
            if len(texts) < len(cells):
                return None
            columns.append(texts)
        return columns

    def _paddings(self) -> list[tuple[int, int]]:
        """(left, right) padding of each column, as rich's Table pads its cells."""
        last = len(self.columns) - 1
        pads = []
        for i in range(len(self.columns)):
            left = 0 if (self.collapse_padding and i > 0) else 1
            right = 1
            if not self.pad_edge:
                left, right = (0 if i == 0 else left), (0 if i == last else right)
            pads.append((left, right))
        return pads

    def _layout(
        self, console: Console, options: ConsoleOptions
    ) -> tuple[list[list[str]], list[tuple[int, int]], list[int]] | None:
        """The cells, paddings and content widths, or None where rich must lay it out."""
        title, caption = self.title or "", self.caption or ""
        plain = isinstance(title, str) and isinstance(caption, str) and _plain(title + caption)
        texts = self._texts() if self.rows and plain else None
        if not texts or not texts[0]:
            return None
        pads = self._paddings()
        extra = self._extra_width
        room = options.max_width - extra
        natural = [max(map(len, cells)) for cells in texts]
        widths = [w + sum(pad) for w, pad in zip(natural, pads, strict=True)]
        if min(natural) < 1 or max(widths) > room:
            return None  # an empty column (rich draws it unstyled), or one wider than all
        shrunk = _shrink(widths, [not c.no_wrap for c in self.columns], room)
        if shrunk is None:
            return None
        widths = shrunk
        if self.min_width is not None and sum(widths) < self.min_width - extra:
            widths = _widen(widths, min(self.min_width - extra, room) - sum(widths))
        content = [w - sum(pad) for w, pad in zip(widths, pads, strict=True)]
        for cells, width in zip(texts, content, strict=True):
            header = cells[0] if self.show_header else ""
            if len(header) > width or any(len(w) > width for c in cells for w in c.split(" ")):
                return None  # a header that would wrap, or a word rich would fold
        if len(self.title or "") > sum(widths) + extra:
            return None  # rich wraps the title
        return texts, pads, content

    # -- how -------------------------------------------------------------------------------

    def _draw(
        self,
        console: Console,
        options: ConsoleOptions,
        texts: list[list[str]],
        pads: list[tuple[int, int]],
        content: list[int],
    ) -> RenderResult:
        widths = [w + sum(pad) for w, pad in zip(content, pads, strict=True)]
        edge = self.show_edge
        total = sum(widths) + self._extra_width
        new_line = Segment.line()
        blank = Style.null()
        if self.title:
            style = "table.title" if self.title_style is None else self.title_style
            yield Segment(str(self.title).ljust(total), console.get_style(style))
            yield new_line
        if edge:
            yield Segment(" " * total, blank)
            yield new_line
        header = console.get_style(self.header_style or "")
        styles = [console.get_style(c.style or "") for c in self.columns]
        rows = list(zip(*texts, strict=True))
        row_styles = [console.get_style(row.style or "") for row in self.rows]
        if self.show_header:
            row_styles.insert(0, blank)
        for index, (row, row_style) in enumerate(zip(rows, row_styles, strict=True)):
            is_header = self.show_header and index == 0
            divider = Segment(" ", row_style.background_style)
            cells = [
                _cell_lines(console, text, width, pad, column)
                for text, width, pad, column in zip(row, content, pads, self.columns, strict=True)
            ]
            height = max(map(len, cells))
            for line in range(height):
                if edge:
                    yield Segment(" ", blank)
                for i, (lines, style) in enumerate(zip(cells, styles, strict=True)):
                    if i:
                        yield divider
                    text = lines[line] if line < len(lines) else ""
                    cell_style = header if is_header else style + row_style
                    yield Segment(text or " " * widths[i], cell_style)
                if edge:
                    yield Segment(" ", blank)
                yield new_line
            if is_header:
                rule = "─".join("─" * w for w in widths)
                yield Segment(f" {rule} " if edge else rule, blank)
                yield new_line
        if edge:
            yield Segment(" " * total, blank)
            yield new_line
        if self.caption:  # as rich writes it: wrapped to the table's width
            style = "table.caption" if self.caption_style is None else self.caption_style
            caption = console.render_str(str(self.caption), style=style, highlight=False)
            width = options.update(width=total, highlight=self.highlight, height=None)
            yield from console.render(caption, width.update(justify=self.caption_justify))


def _simple_column(column: Column) -> bool:
    return (
        column.width is None
        and column.min_width is None
        and column.max_width is None
        and column.ratio is None
        and not column.header_style
        and not column.highlight
        and column.vertical == "top"
        and column.justify in ("left", "right", "center")
        and column.overflow in ("fold", "ellipsis", "crop")
        and column.footer == ""
    )


def _plain(text: str) -> bool:
    """One line, one cell per character, no markup or emoji code rich would interpret."""
    return (
        cell_len(text) == len(text)
        and not text.endswith(" ")
        and not any(ch in text for ch in "[\n\t\r")
        and not (":" in text and _EMOJI_CODE.search(text))
    )


def _shrink(widths: list[int], wrapable: list[bool], room: int) -> list[int] | None:
    """Column widths within `room`, as rich's Table shrinks them: the widest wrapping
    column gives up the excess if that keeps it the widest (None: rich's many-step case)."""
    excess = sum(widths) - room
    if excess <= 0:
        return widths
    candidates = [w for w, wraps in zip(widths, wrapable, strict=True) if wraps]
    if not candidates:
        return None
    widest = max(candidates)
    if candidates.count(widest) > 1:
        return None
    second = max((w for w in candidates if w != widest), default=0)
    if excess > widest - second:
        return None
    i = next(
        i
        for i, (w, wraps) in enumerate(zip(widths, wrapable, strict=True))
        if wraps and w == widest
    )
    return [w - excess if j == i else w for j, w in enumerate(widths)]


def _widen(widths: list[int], extra: int) -> list[int]:
    """Widths grown by `extra` cells in proportion to each, as rich's Table widens a table
    to its `min_width` (rich._ratio.ratio_distribute, step by step)."""
    grown, ratio, remaining = [], sum(widths), extra
    for width in widths:
        share = ceil(width * remaining / ratio) if ratio > 0 else remaining
        grown.append(width + share)
        ratio -= width
        remaining -= share
    return grown


def _cell_lines(
    console: Console, text: str, width: int, pad: tuple[int, int], column: Column
) -> list[str]:
    """The drawn lines of one cell: its text justified (wrapped if it must) and padded."""
    left, right = " " * pad[0], " " * pad[1]
    if len(text) <= width:
        lines = [_justify(text, width, column.justify)]
    else:
        wrapped = Text(text).wrap(console, width, justify=column.justify, overflow="fold")
        lines = [line.plain.ljust(width) for line in wrapped]
    return [left + line + right for line in lines]


def _justify(text: str, width: int, how: Any) -> str:
    if how == "right":
        return text.rjust(width)
    if how == "center":
        gap = width - len(text)
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return text.ljust(width)
