"""views.kv draws a key-value table exactly as rich's Table does, at every width."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console, Group

from chinchilla_cli.views import kv_table, rich_kv_table
from chinchilla_cli.views.kv import KeyValueTable

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.,()+·—%$", min_size=1, max_size=14)
CELL = st.lists(WORD, min_size=0, max_size=12).map(" ".join)
ROW = st.tuples(
    st.lists(WORD, min_size=1, max_size=3).map(" ".join),
    st.lists(WORD, min_size=1, max_size=2).map(" ".join),
    CELL,
)


def drawn(renderable: object, width: int) -> str:
    console = Console(file=io.StringIO(), width=width, highlight=False)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None)
@given(
    title=st.lists(WORD, min_size=1, max_size=6).map(" ".join),
    rows=st.lists(ROW, min_size=1, max_size=6),
    width=st.integers(10, 160),
)
def test_the_one_pass_layout_is_rich_tables(title: str, rows: list, width: int) -> None:
    assert drawn(kv_table(title, rows), width) == drawn(rich_kv_table(title, rows), width)


def styled_cells(renderable: object, width: int) -> list[tuple[str, str]]:
    """Each character drawn with its style: what a terminal shows, whatever the segments."""
    console = Console(file=io.StringIO(), width=width, highlight=False)
    lines = console.render_lines(renderable, pad=False, new_lines=True)  # type: ignore[arg-type]
    return [(ch, str(seg.style or "")) for line in lines for seg in line for ch in seg.text]


def test_styles_match_in_a_terminal() -> None:
    rows = [
        ("compute", "1.05e24 FLOPs", "chips x peak x MFU x goodput x time " * 3),
        ("hardware", "1,024 x h100", ""),
    ]
    for width in (40, 60, 120):
        ours = styled_cells(Group(kv_table("Budget", rows)), width)
        assert ours == styled_cells(Group(rich_kv_table("Budget", rows)), width)


def test_markup_wide_characters_and_line_breaks_go_to_rich() -> None:
    for note in ["[bold]x[/bold] y", "two\nlines", "wide 日本語"]:
        table = kv_table("T", [("k", "v", note)])
        assert isinstance(table, KeyValueTable)
        assert drawn(table, 40) == drawn(rich_kv_table("T", [("k", "v", note)]), 40)
