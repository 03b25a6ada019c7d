"""Results display as people work with them: HTML tables in Jupyter (the terminal view's
tables, row for row, with its warnings) with nothing printed on the way, rich's protocol
in a terminal, a one-line repr naming the answer, and `plot()` returning the figure
`--plot` writes without writing anything unless asked."""

from __future__ import annotations

import io
import subprocess
import sys
from html import escape
from pathlib import Path

import pytest
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from chinchilla_cli import InputError, compare, fit, frontier_table, plan, sweep
from chinchilla_cli.views import render

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def results():
    report = fit(str(EXAMPLES / "ladder_runs.csv"), bootstrap=20)
    arms = fit(
        str(EXAMPLES / "intervention_baseline.csv"),
        vs=str(EXAMPLES / "intervention_variant.csv"),
    )
    return {
        "plan": plan(chips=1024, days=30, accelerator="h100-sxm", mfu=0.4),
        "frontier": frontier_table("1e18:1e22:5"),
        "compare": compare("gopher", "chinchilla"),
        "sweep": sweep("1e18:1e20:3"),
        "fit": report,
        "isoflop": fit(str(ROOT / "tests/data/llama3_isoflops_points.csv"), approach="isoflop"),
        "intervention report": arms,
        "intervention": arms.intervention,
    }


KINDS = ["plan", "frontier", "compare", "sweep", "fit", "isoflop"]
KINDS += ["intervention report", "intervention"]


def _tables(renderable):
    if isinstance(renderable, Group):
        for child in renderable.renderables:
            yield from _tables(child)
    elif isinstance(renderable, Table):
        yield renderable


def _plain(cell) -> str:
    return cell.plain if isinstance(cell, Text) else Text.from_markup(str(cell)).plain


@pytest.mark.parametrize("kind", KINDS)
def test_html_has_the_terminal_views_tables_row_for_row(results, kind):
    result = results[kind]
    html = result._repr_html_()
    assert html == result._repr_mimebundle_()["text/html"]
    tables = list(_tables(render(result)))
    assert tables and html.count("<table") == len(tables)
    assert html.count("<tr") == sum(len(t.rows) + t.show_header for t in tables)
    for t in tables:
        assert escape(_plain(t.title)) in html
        for column in t.columns:
            for cell in column.cells:
                assert escape(_plain(cell)) in html


def test_warnings_are_visible_in_html(results):
    report = results["fit"]
    assert report.warnings
    html = report._repr_html_()
    assert "warning: " in html
    for w in report.warnings:
        assert escape(w[:40]) in html


@pytest.mark.parametrize("kind", ["plan", "fit", "intervention"])
def test_nothing_is_printed_even_inside_jupyter(results, kind, monkeypatch, capsys):
    import rich.console

    # a console that believes it is in a notebook displays as it prints: the old bug
    monkeypatch.setattr(rich.console, "_is_jupyter", lambda: True)
    bundle = results[kind]._repr_mimebundle_()
    html = results[kind]._repr_html_()
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    assert "<table" in html and "<table" in bundle["text/html"]
    assert bundle["text/plain"].strip()


@pytest.mark.parametrize("kind", KINDS)
def test_rich_print_shows_the_same_tables(results, kind):
    result = results[kind]
    console = Console(record=True, width=110, file=io.StringIO(), highlight=False)
    console.print(result)  # through __rich__
    assert console.export_text() == result._repr_mimebundle_()["text/plain"]


@pytest.mark.parametrize("kind", KINDS)
def test_repr_is_one_short_line(results, kind):
    text = repr(results[kind])
    assert "\n" not in text and len(text) < 300
    assert text.startswith(type(results[kind]).__name__ + "(")


def test_repr_names_the_answer(results):
    assert repr(results["plan"]) == (
        "Plan(98.3B params, 1.78T tokens, 1.05e24 FLOPs, loss 1.9585, law besiroglu2024, 1 warning)"
    )
    assert "gopher C*/C" in repr(results["compare"])
    assert "48 runs" in repr(results["fit"]) and "20 bootstrap" in repr(results["fit"])
    assert "x at " in repr(results["intervention"])


FIGURES = ["plan", "compare", "sweep", "fit", "isoflop", "intervention report", "intervention"]


@pytest.mark.parametrize("kind", FIGURES)
def test_plot_returns_a_figure_and_writes_nothing(results, kind, tmp_path, monkeypatch):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    monkeypatch.chdir(tmp_path)
    open_before = plt.get_fignums()
    fig = results[kind].plot()
    assert isinstance(fig, Figure) and fig.axes
    assert list(tmp_path.iterdir()) == []
    assert plt.get_fignums() == open_before  # pyplot does not hold it: shown once
    assert fig._repr_png_()[:4] == b"\x89PNG"  # so Jupyter shows it without pyplot


@pytest.mark.parametrize(
    ("kind", "module", "function"),
    [
        ("plan", "plan", "plan_figure"),
        ("fit", "fit", "fit_figure"),
        ("compare", "compare", "compare_figure"),
        ("sweep", "sweep", "sweep_figure"),
        ("intervention report", "interventions", "intervention_figure"),
    ],
)
def test_plot_is_the_figure_the_command_writes(results, kind, module, function):
    import importlib

    from chinchilla_cli.plots import pyplot

    plt = pyplot()
    draw = getattr(importlib.import_module(f"chinchilla_cli.plots.{module}"), function)
    written = draw(plt, results[kind])
    try:
        shown = results[kind].plot()
        assert [a.get_title() for a in shown.axes] == [a.get_title() for a in written.axes]
        assert [a.get_xlabel() for a in shown.axes] == [a.get_xlabel() for a in written.axes]
    finally:
        plt.close(written)


def test_plot_writes_only_when_given_a_path(results, tmp_path):
    path = tmp_path / "plan.png"
    results["plan"].plot(path)
    assert path.read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(InputError):
        results["plan"].plot(path)  # exists: only with force
    results["plan"].plot(path, force=True)
    with pytest.raises(InputError) as e:
        results["plan"].plot(tmp_path / "plan.txt")
    assert e.value.field == "path"


def test_a_frontier_has_no_plot(results):
    assert not hasattr(results["frontier"], "plot")


def test_display_loads_no_matplotlib_and_repr_no_rich():
    code = (
        "import sys\n"
        "from chinchilla_cli import plan\n"
        "p = plan(1e23)\n"
        "repr(p)\n"
        "assert 'rich' not in sys.modules, 'repr loaded rich'\n"
        "p._repr_html_()\n"
        "assert 'matplotlib' not in sys.modules, 'display loaded matplotlib'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
