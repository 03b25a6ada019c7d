"""examples/planning.ipynb runs, so it cannot go stale: its code cells are executed in one
namespace from examples/ (where Jupyter starts it), each cell's last expression shown as
Jupyter would (HTML of a result, PNG of a figure), on the headless Agg backend. The
repository keeps the notebook with its outputs stripped. No Jupyter needed."""

from __future__ import annotations

import ast
import io
import json
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOTEBOOK = EXAMPLES / "planning.ipynb"


def _cells(kind: str) -> list[dict[str, Any]]:
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    return [c for c in notebook["cells"] if c["cell_type"] == kind]


def _source(cell: dict[str, Any]) -> str:
    source = cell["source"]
    return source if isinstance(source, str) else "".join(source)


def test_the_notebook_is_stored_with_outputs_stripped():
    notebook = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4
    for cell in _cells("code"):
        assert cell["outputs"] == [], _source(cell)
        assert cell["execution_count"] is None, _source(cell)
    assert "widgets" not in notebook["metadata"]


def _show(value: Any) -> str:
    """What Jupyter would render for a cell's value: a figure's PNG, a result's HTML."""
    from matplotlib.figure import Figure

    if isinstance(value, Figure):
        png = io.BytesIO()
        value.savefig(png, format="png")
        assert png.getvalue()[:4] == b"\x89PNG"
        return "image/png"
    if hasattr(value, "_repr_mimebundle_"):
        bundle = value._repr_mimebundle_()
        assert "<table" in bundle["text/html"]
        assert len(repr(value)) < 300
        return "text/html"
    return "text/plain" if value is not None else ""


def test_the_notebook_runs(monkeypatch, capsys):
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(EXAMPLES)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    shown = []
    for cell in _cells("code"):
        tree = ast.parse(_source(cell))
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, str(NOTEBOOK), "exec"), namespace)
        if last is not None:
            value = eval(compile(ast.Expression(last.value), str(NOTEBOOK), "eval"), namespace)
            shown.append(_show(value))
    # the plan, the fit, the plan with the fitted law, the comparison and the
    # intervention as tables; the figures of the plan, the fit and the intervention
    assert shown.count("text/html") == 5
    assert shown.count("image/png") == 3
    mine = namespace["mine"]
    assert mine.uncertainty is not None and mine.uncertainty.samples == 300
    assert "Plan(" in capsys.readouterr().out


@pytest.mark.parametrize("cell", _cells("code"), ids=lambda c: c["id"])
def test_each_cell_parses(cell):
    ast.parse(_source(cell))
