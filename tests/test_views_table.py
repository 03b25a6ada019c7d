"""views.table.OnePassTable draws exactly what rich's Table draws: the same characters in
the same styles, at every width, for the tables the views build and for any other."""

from __future__ import annotations

import io
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console, Group
from rich.table import Table

from chinchilla_cli import plan, views
from chinchilla_cli.views import kv_table, titled_table
from chinchilla_cli.views.table import OnePassTable

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.,()+·—%$:", min_size=1, max_size=12)
TEXT = st.lists(WORD, min_size=0, max_size=10).map(" ".join)
COLUMN = st.fixed_dictionaries(
    {
        "header": st.lists(WORD, min_size=0, max_size=2).map(" ".join),
        "justify": st.sampled_from(["left", "right", "center"]),
        "no_wrap": st.booleans(),
        "style": st.sampled_from([None, "cyan", "dim"]),
    }
)


def styled_cells(renderable: object, width: int) -> list[tuple[str, str]]:
    """Each character drawn with its style: what a terminal shows, whatever the segments."""
    console = Console(file=io.StringIO(), width=width, highlight=False)
    lines = console.render_lines(renderable, pad=False, new_lines=True)  # type: ignore[arg-type]
    return [(ch, str(seg.style or "")) for line in lines for seg in line for ch in seg.text]


def build(cls: type[Table], spec: dict[str, Any]) -> Table:
    options = dict(spec["options"])
    if options.pop("compact"):
        options.update(show_edge=False, collapse_padding=True, pad_edge=False)
    t = cls(title=spec["title"], title_justify="left", title_style="bold", **options)
    for column in spec["columns"]:
        t.add_column(**column)
    for row in spec["rows"]:
        t.add_row(*row[: len(spec["columns"])])
    return t


@st.composite
def tables(draw: Any) -> dict[str, Any]:
    from rich import box

    columns = draw(st.lists(COLUMN, min_size=1, max_size=5))
    rows = draw(st.lists(st.lists(TEXT, min_size=5, max_size=5), min_size=0, max_size=6))
    options = draw(
        st.fixed_dictionaries(
            {
                "compact": st.booleans(),
                "show_header": st.booleans(),
                "pad_edge": st.booleans(),
                "min_width": st.one_of(st.none(), st.integers(1, 60)),
            }
        )
    )
    options["box"] = box.SIMPLE_HEAD
    title = draw(st.lists(WORD, min_size=0, max_size=6).map(" ".join))
    return {"columns": columns, "rows": rows, "options": options, "title": title}


@settings(max_examples=400, deadline=None)
@given(spec=tables(), width=st.integers(8, 140))
def test_any_table_is_drawn_as_rich_draws_it(spec: dict[str, Any], width: int) -> None:
    ours, theirs = build(OnePassTable, spec), build(Table, spec)
    assert styled_cells(ours, width) == styled_cells(theirs, width)


@settings(max_examples=200, deadline=None)
@given(
    title=st.lists(WORD, min_size=1, max_size=6).map(" ".join),
    rows=st.lists(st.tuples(WORD, WORD, TEXT), min_size=1, max_size=6),
    width=st.integers(10, 160),
)
def test_key_value_tables_as_rich_draws_them(title: str, rows: list, width: int) -> None:
    ours = kv_table(title, rows)
    theirs = Table(**{k: getattr(ours, k) for k in ("title", "title_justify", "title_style")})
    theirs.box, theirs.show_header, theirs.pad_edge, theirs.min_width = (
        ours.box,
        False,
        False,
        ours.min_width,
    )
    for column in ours.columns:
        theirs.add_column(style=column.style, justify=column.justify, no_wrap=column.no_wrap)
    for row in rows:
        theirs.add_row(*row)
    assert styled_cells(ours, width) == styled_cells(theirs, width)


def test_a_whole_plan_is_drawn_as_rich_draws_it(monkeypatch: Any) -> None:
    """Every table of a plan, drawn both ways, at a terminal's common widths."""
    view = views.render(plan(chips=1024, days=30))
    drawn = {width: styled_cells(view, width) for width in (60, 80, 120)}
    monkeypatch.setattr(OnePassTable, "__rich_console__", Table.__rich_console__)
    for width, ours in drawn.items():
        assert ours == styled_cells(views.render(plan(chips=1024, days=30)), width)


def test_a_plan_draws_every_table_in_one_pass(monkeypatch: Any) -> None:
    """The point of OnePassTable: a plan never needs rich's general layout."""

    def general_layout(*args: Any) -> Any:
        raise AssertionError("rich's layout was used")

    monkeypatch.setattr(Table, "__rich_console__", general_layout)
    for width in (80, 120):
        styled_cells(views.render(plan(chips=1024, days=30)), width)


def test_markup_wide_characters_and_rich_objects_go_to_rich() -> None:
    for cell in ["[bold]x[/bold] y", "two\nlines", "wide 日本語", "smile :smile:"]:
        t = titled_table("T")
        t.add_column("a")
        t.add_row(cell)
        reference = Table(title="T", title_justify="left", title_style="bold", box=t.box)
        reference.add_column("a")
        reference.add_row(cell)
        assert styled_cells(Group(t), 40) == styled_cells(Group(reference), 40)
