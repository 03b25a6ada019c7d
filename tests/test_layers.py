"""The architecture as import rules: a numeric core that knows nothing of the command line,
rich or matplotlib; views that only present; figures that only draw; no import cycles; no
module reaching into another's private names; modules and functions of a readable size.

Imports are found wherever they are written: at the top, inside functions, under
`if TYPE_CHECKING:`, as relative imports, and as module paths given to
`importlib.import_module` (or written as a "chinchilla_cli.x" string for it). The one way
up that stays allowed is the display bridge (`_display.py`), through which a result shows
or draws itself: it may load views/ and plots/ lazily.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "chinchilla_cli"
LAYERS = ("cli", "views", "plots")
BRIDGE = "_display"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
MODULE_PATH = re.compile(r"^chinchilla_cli(\.[A-Za-z_]\w*)*\.?$")
MAX_MODULE_LINES = 1000
MAX_FUNCTION_LINES = 100


# ---------------------------------------------------------------- the import graph


@dataclass(frozen=True)
class Package:
    """The modules of a package on disk (dotted name -> file) and their parsed trees."""

    name: str
    files: dict[str, Path]

    @classmethod
    def at(cls, root: Path) -> Package:
        files = {}
        for path in sorted(root.rglob("*.py")):
            parts = [root.name, *path.relative_to(root).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            files[".".join(parts)] = path
        return cls(root.name, files)

    def tree(self, module: str) -> ast.Module:
        return ast.parse(self.files[module].read_text(encoding="utf-8"))

    def owner(self, target: str) -> str | None:
        """The module of the package that `target` (a module or a name in one) lives in."""
        parts = target.rstrip(".").split(".")
        while parts:
            if ".".join(parts) in self.files:
                return ".".join(parts)
            parts.pop()
        return None

    def resolve(self, module: str, node: ast.ImportFrom) -> str:
        """The absolute module of a (possibly relative) `from ... import`."""
        if node.level == 0:
            return node.module or ""
        base = module.split(".")
        if self.files[module].name != "__init__.py":
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        return ".".join(base + ([node.module] if node.module else []))


def _string_prefix(node: ast.expr) -> str | None:
    """The constant text of a string argument, or the literal head of an f-string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        head = node.values[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str):
            return head.value
    return None


def targets(pkg: Package, module: str) -> Iterator[str]:
    """Every module path that `module` imports, at any depth and in any of the forms."""
    for node in ast.walk(pkg.tree(module)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = pkg.resolve(module, node)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call):
            func = node.func
            name = getattr(func, "attr", getattr(func, "id", ""))
            if name in ("import_module", "__import__") and node.args:
                text = _string_prefix(node.args[0])
                if text is not None:
                    yield pkg.name + text if text.startswith(".") else text
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if MODULE_PATH.match(node.value) and node.value.startswith(pkg.name + "."):
                yield node.value  # a module path kept for importlib (a table of commands)


def graph(pkg: Package) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (the package's own __init__ aside: it
    is the public API, which imports everything and is imported by nothing inside)."""
    out = {}
    for module in pkg.files:
        found = {pkg.owner(t) for t in targets(pkg, module) if t.startswith(pkg.name)}
        out[module] = {t for t in found if t is not None} - {module, pkg.name}
    return out


def layer(module: str) -> str:
    parts = module.split(".")
    if parts[-1] == "__main__":  # `python -m chinchilla_cli` is the command line
        return "cli"
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else "core"


def is_bridge(module: str) -> bool:
    return module.split(".")[-1].startswith(BRIDGE)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan), without the display
    bridge's edges up to views/ and plots/."""
    edges = {
        m: {t for t in ts if not (is_bridge(m) and layer(t) != "core")} for m, ts in edges.items()
    }
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(m: str) -> None:
        index[m] = low[m] = len(index)
        stack.append(m)
        for t in sorted(edges.get(m, ())):
            if t not in index:
                visit(t)
                low[m] = min(low[m], low[t])
            elif t in stack:
                low[m] = min(low[m], index[t])
        if low[m] == index[m]:
            group = []
            while True:
                t = stack.pop()
                group.append(t)
                if t == m:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for m in sorted(edges):
        if m not in index:
            visit(m)
    return found


def borrowed(pkg: Package) -> list[str]:
    """`from x import _name` and `x._name` where x is another module of the package."""
    out = []
    for module in pkg.files:
        aliases: dict[str, str] = {}
        tree = pkg.tree(module)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and pkg.owner(pkg.resolve(module, node)):
                base = pkg.resolve(module, node)
                for alias in node.names:
                    if f"{base}.{alias.name}" in pkg.files:
                        aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
                    elif _private(alias.name) and pkg.owner(base) != module:
                        out.append(f"{module}: from {base} import {alias.name}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if pkg.owner(alias.name) and alias.asname:
                        aliases[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and aliases[node.value.id] != module
                and _private(node.attr)
            ):
                out.append(f"{module}: {node.value.id}.{node.attr}")
    return sorted(set(out))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


# ---------------------------------------------------------------- the rules, on the package

PKG = Package.at(PACKAGE)
GRAPH = graph(PKG)

FORBIDDEN = {
    "core": ("typer", "rich", "matplotlib", "click"),
    "views": ("typer", "matplotlib", "click"),
    "plots": ("typer", "rich", "click"),
    "cli": ("matplotlib",),  # figures are drawn by plots/, which imports it lazily
}
FORBIDDEN_LAYERS = {"core": LAYERS, "views": ("cli", "plots"), "plots": ("cli", "views")}


@pytest.mark.parametrize("module", sorted(PKG.files), ids=str)
def test_layer_imports(module):
    here = layer(module)
    named = set(targets(PKG, module))
    bad = sorted(
        name
        for name in named
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[here])
    )
    if not is_bridge(module):
        bad += sorted(t for t in GRAPH[module] if layer(t) in FORBIDDEN_LAYERS.get(here, ()))
    assert not bad, f"{module} ({here}) imports {bad}"


def test_no_import_cycles():
    assert cycles(GRAPH) == []


def test_no_module_borrows_private_names():
    assert borrowed(PKG) == []


def test_every_layer_has_its_folder():
    for name in LAYERS:
        assert (PACKAGE / name / "__init__.py").is_file()


def test_modules_and_functions_are_of_a_readable_size():
    too_long = []
    for module, path in PKG.files.items():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            too_long.append(f"{module}: {lines} lines")
        for node in ast.walk(PKG.tree(module)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = node.body
                if len(body) > 1 and _is_docstring(body[0]):
                    body = body[1:]
                size = (node.end_lineno or node.lineno) - body[0].lineno + 1
                if size > MAX_FUNCTION_LINES:
                    too_long.append(f"{module}.{node.name}: a body of {size} lines")
    assert not too_long


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(getattr(node, "value", None), ast.Constant)


def _strings(path: Path) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            out.append(node.value)
    return out


@pytest.mark.parametrize(
    "module", [m for m in sorted(PKG.files) if layer(m) == "core"], ids=lambda m: m
)
def test_core_names_arguments_not_options(module):
    """The core says `huber_delta`; only the command line turns it into --huber-delta."""
    flags = sorted({m for s in _strings(PKG.files[module]) for m in FLAG.findall(s)})
    assert not flags, f"{module} mentions command-line options {flags}"


def test_matplotlib_only_in_functions_of_plots():
    """plots/ imports matplotlib inside functions only: importing a figure module is free."""
    for path in (PACKAGE / "plots").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                assert not any(n.startswith("matplotlib") for n in names), path.name


# ---------------------------------------------------------------- the checker sees every form


def _package(tmp_path: Path, files: dict[str, str]) -> Package:
    root = tmp_path / "chinchilla_cli"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return Package.at(root)


@pytest.mark.parametrize(
    "back",
    [
        "def f():\n    from chinchilla_cli import a\n",  # inside a function
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from chinchilla_cli.a import X\n",
        "from . import a\n",  # relative
        "from .a import X\n",
        "import importlib\ndef f():\n    return importlib.import_module('chinchilla_cli.a')\n",
        "import importlib\ndef f(m):\n    return importlib.import_module(f'chinchilla_cli.a{m}')\n",
        "MODULES = {'a': 'chinchilla_cli.a'}\n",  # a path kept for importlib
    ],
)
def test_a_cycle_is_found_in_any_form_of_import(tmp_path, back):
    pkg = _package(tmp_path, {"a.py": "from chinchilla_cli.b import Y\nX = 1\n", "b.py": back})
    assert cycles(graph(pkg)) == [["chinchilla_cli.a", "chinchilla_cli.b"]]


def test_the_bridge_alone_may_reach_up(tmp_path):
    files = {
        "_display.py": "import importlib\ndef show(r):\n"
        "    return importlib.import_module('chinchilla_cli.views')\n",
        "result.py": "from chinchilla_cli._display import show\n",
        "views/__init__.py": "from chinchilla_cli.result import show\n",
    }
    pkg = _package(tmp_path, files)
    assert cycles(graph(pkg)) == []
    files["result.py"] += "def f():\n    import chinchilla_cli.views\n"
    assert cycles(graph(_package(tmp_path, files))) != []


def test_borrowed_private_names_are_found(tmp_path):
    pkg = _package(
        tmp_path,
        {
            "a.py": "_helper = 1\n",
            "b.py": "from chinchilla_cli.a import _helper\n",
            "c.py": "from chinchilla_cli import a as _a\nx = _a._helper\n",
            "d.py": "def f():\n    from .a import _helper\n",
        },
    )
    assert borrowed(pkg) == [
        "chinchilla_cli.b: from chinchilla_cli.a import _helper",
        "chinchilla_cli.c: _a._helper",
        "chinchilla_cli.d: from chinchilla_cli.a import _helper",
    ]
