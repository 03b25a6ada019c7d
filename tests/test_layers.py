"""The architecture as import rules: a numeric core that knows nothing of the command line,
rich or matplotlib; views that only present; figures that only draw."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "chinchilla_cli"
LAYERS = ("cli", "views", "plots")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    if rel.name == "__main__.py":  # `python -m chinchilla_cli` is the command line
        return "cli"
    return rel.parts[0] if len(rel.parts) > 1 else "core"


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module an import statement names, at any depth of the file."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            # `from chinchilla_cli import views` names a layer too
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


FORBIDDEN = {
    "core": (
        "typer",
        "rich",
        "matplotlib",
        "chinchilla_cli.cli",
        "chinchilla_cli.views",
        "chinchilla_cli.plots",
        "click",
    ),
    "views": ("typer", "matplotlib", "chinchilla_cli.cli", "chinchilla_cli.plots", "click"),
    "plots": ("typer", "rich", "chinchilla_cli.cli", "chinchilla_cli.views", "click"),
    "cli": ("matplotlib",),  # figures are drawn by plots/, which imports it lazily
}


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_layer_imports(path):
    layer = _layer(path)
    bad = sorted(
        name
        for name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[layer])
    )
    assert not bad, f"{path.name} ({layer}) imports {bad}"


def test_every_layer_has_its_folder():
    for layer in LAYERS:
        assert (PACKAGE / layer / "__init__.py").is_file()


def _strings(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append(node.value)
    return out


@pytest.mark.parametrize(
    "path", [p for p in _modules() if _layer(p) == "core"], ids=lambda p: p.name
)
def test_core_names_arguments_not_options(path):
    """The core says `huber_delta`; only the command line turns it into --huber-delta."""
    flags = sorted({m for s in _strings(path) for m in FLAG.findall(s)})
    assert not flags, f"{path.name} mentions command-line options {flags}"


def test_matplotlib_only_in_functions_of_plots():
    """plots/ imports matplotlib inside functions only: importing a figure module is free."""
    for path in (PACKAGE / "plots").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                assert not any(n.startswith("matplotlib") for n in names), path.name
