"""The README shows real output: its Python API example runs and prints what the README
says, and every `$ chinchilla ...` block is what the command prints today.

A block containing a line `...` is shortened: its other lines must appear in the real
output in order. Regenerate every block after a change of output with

    python tests/test_readme.py --update
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
CONSOLE = re.compile(r"```console\n\$ chinchilla (.*?)\n(.*?)```", re.S)
ELISION = "..."


def _api_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Python API")
    return text[start : text.index("\n## ", start + 1)]


def test_python_api_example_prints_what_the_readme_shows():
    section = _api_section()
    code = re.search(r"```python\n(.*?)```", section, re.S)
    shown = re.search(r"prints\n\n```text\n(.*?)```", section, re.S)
    assert code and shown
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.group(1), "README.md", "exec"), {})
    assert out.getvalue() == shown.group(1)


def _run(args: str) -> str:
    """What `chinchilla <args>` prints, piped (plain text, 80 columns), from the repo root."""
    from typer.testing import CliRunner

    from chinchilla_cli.cli import app

    with contextlib.chdir(ROOT):
        result = CliRunner().invoke(app, shlex.split(args), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.stdout


def _blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in CONSOLE.finditer(README.read_text("utf-8"))]


@pytest.mark.parametrize(("args", "shown"), _blocks(), ids=[a for a, _ in _blocks()])
def test_console_block_is_real_output(args, shown):
    actual = _run(args)
    lines = shown.rstrip("\n").splitlines()
    if ELISION not in (line.strip() for line in lines):
        assert actual.rstrip("\n") == shown.rstrip("\n")
        return
    remaining = actual.splitlines()
    for line in lines:
        if line.strip() == ELISION:
            continue
        assert line in remaining, f"README line not in the output (in order): {line!r}"
        remaining = remaining[remaining.index(line) + 1 :]


def _in_order(lines: list[str], actual: list[str]) -> bool:
    """Whether the shown lines (elisions aside) appear in the output in order."""
    remaining = actual
    for line in lines:
        if line.strip() == ELISION:
            continue
        if line not in remaining:
            return False
        remaining = remaining[remaining.index(line) + 1 :]
    return True


def _update() -> None:
    """Rewrite each block from the command's output. A shortened block is kept as it is
    while its lines still appear in order; else its head (the lines before its first
    `...`) is taken afresh from the output."""
    text = README.read_text(encoding="utf-8")

    def replace(m: re.Match[str]) -> str:
        args, shown = m.group(1), m.group(2)
        actual = _run(args).rstrip("\n").splitlines()
        lines = shown.rstrip("\n").splitlines()
        if ELISION in (line.strip() for line in lines) and _in_order(lines, actual):
            return m.group(0)
        if ELISION in (line.strip() for line in lines):
            head = lines[: [line.strip() for line in lines].index(ELISION)]
            keep = actual[: len(head)] + [ELISION]
            actual = keep
        return f"```console\n$ chinchilla {args}\n" + "\n".join(actual) + "\n```"

    README.write_text(CONSOLE.sub(replace, text), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--update"]:
        _update()
    else:
        print(__doc__)
