"""A view as HTML for Jupyter: each rich Table an HTML table (its title a caption, its
header, its rows with the same cells the terminal shows), each line of text a paragraph
keeping its colours. Presentation only: it walks the renderables a view built.
"""

from __future__ import annotations

import io
from html import escape
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.errors import MarkupError
from rich.style import Style
from rich.table import Table
from rich.terminal_theme import DEFAULT_TERMINAL_THEME
from rich.text import Text

FONT = "font-family: var(--jp-code-font-family, monospace); font-size: 0.92em"
CELL = "padding: 1px 10px; border: none"


def to_html(renderable: RenderableType) -> str:
    """The renderable as one HTML fragment (a div), with nothing printed."""
    return f'<div class="chinchilla" style="{FONT}">' + "".join(_parts(renderable)) + "</div>"


def _parts(r: Any) -> list[str]:
    if isinstance(r, Group):
        return [html for child in r.renderables for html in _parts(child)]
    if isinstance(r, Table):
        return [_table(r)]
    if isinstance(r, (Text, str)):
        text = _text(r)
        if not text.plain.strip():
            return []
        return [f'<p style="margin: 0.3em 0; white-space: pre-wrap">{_spans(text)}</p>']
    return [_fallback(r)]


def _text(cell: Any) -> Text:
    """A cell or line as rich shows it: strings are rich markup."""
    if isinstance(cell, Text):
        return cell
    try:
        return Text.from_markup(str(cell))
    except MarkupError:
        return Text(str(cell))


def _css(style: str | Style | None) -> str:
    if not style:
        return ""
    parsed = style if isinstance(style, Style) else Style.parse(style)
    css = parsed.get_html_style(DEFAULT_TERMINAL_THEME).split("; ")
    return "; ".join(c for c in css if c and not c.startswith("text-decoration-color"))


def _spans(text: Text) -> str:
    """The text with each styled stretch as a span."""
    out = []
    base = _css(text.style)
    for segment in text.render(Console(width=10_000, file=io.StringIO()), end=""):
        css = _css(segment.style)
        piece = escape(segment.text)
        out.append(f'<span style="{css}">{piece}</span>' if css else piece)
    body = "".join(out)
    return f'<span style="{base}">{body}</span>' if base else body


def _cell(value: Any, tag: str, align: str, style: str) -> str:
    if isinstance(value, (Text, str)):
        inner = _spans(_text(value))
    else:
        inner = "".join(_parts(value))
    css = f"{CELL}; text-align: {align}; {style}".rstrip("; ")
    return f'<{tag} style="{css}">{inner}</{tag}>'


def _table(t: Table) -> str:
    """The table with its title as caption, its header (if shown) and every row."""
    html = ['<table style="border-collapse: collapse; margin: 0.4em 0 0.8em 0">']
    if t.title:
        title = _spans(_text(t.title))
        html.append(
            '<caption style="text-align: left; font-weight: bold; '
            f'caption-side: top; padding: 2px 0">{title}</caption>'
        )
    columns = t.columns
    aligns = [("left" if c.justify in ("default", "left", "full") else c.justify) for c in columns]
    if t.show_header:
        head = [
            _cell(c.header, "th", align, "font-weight: bold; border-bottom: 1px solid #999")
            for c, align in zip(columns, aligns, strict=True)
        ]
        html.append("<thead><tr>" + "".join(head) + "</tr></thead>")
    cells = [list(c.cells) for c in columns]
    html.append("<tbody>")
    for i, row in enumerate(t.rows):
        border = "; border-bottom: 1px solid #ccc" if row.end_section else ""
        tds = [
            _cell(cells[j][i], "td", aligns[j], _css(columns[j].style) + border)
            for j in range(len(columns))
        ]
        css = _css(row.style)
        html.append((f'<tr style="{css}">' if css else "<tr>") + "".join(tds) + "</tr>")
    html.append("</tbody></table>")
    return "".join(html)


def _fallback(r: RenderableType) -> str:
    """Anything else as rich draws it, in a preformatted block."""
    c = Console(record=True, width=110, file=io.StringIO(), force_jupyter=False)
    c.print(r)
    return c.export_html(inline_styles=True, code_format="<pre style='margin: 0'>{code}</pre>")
