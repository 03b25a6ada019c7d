"""The README shows real output: its Python API example runs and prints what the README
says, and every `$ chinchilla ...` block is what the command prints today.

A block containing a line `...` is shortened: its other lines must appear in the real
output in order. Within such a block, `...` inside a line stands for any text: that is
how the README shows what differs between machines (a solver's iteration count, a census
of float32 solves) without pinning it. Regenerate every block after a change of output with

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
    if ELISION not in (line.strip() for line in lines):  # the whole output, line by line
        output = actual.rstrip("\n").splitlines()
        if all(ELISION not in line for line in lines):
            assert output == lines
        assert len(output) == len(lines), "the output has other lines than the README"
        for line, out in zip(lines, output, strict=True):
            assert _matches(line, out), f"README line {line!r} is {out!r} in the output"
        return
    assert _in_order(lines, actual.splitlines()), _first_missing(lines, actual.splitlines())


def _matches(shown: str, line: str) -> bool:
    """Whether an output line is the README's line (`...` inside it matching any text)."""
    if ELISION not in shown:
        return shown == line
    parts = shown.split(ELISION)  # the spaces beside `...` pad a number of any width
    parts = [parts[0].rstrip(), *(p.strip() for p in parts[1:-1]), parts[-1].lstrip()]
    pattern = ".*".join(re.escape(part) for part in parts)
    return re.fullmatch(pattern, line) is not None


def _find(shown: str, remaining: list[str]) -> int | None:
    return next((i for i, line in enumerate(remaining) if _matches(shown, line)), None)


def _in_order(lines: list[str], actual: list[str]) -> bool:
    """Whether the shown lines (elisions aside) appear in the output in order."""
    return _first_missing(lines, actual) is None


def _first_missing(lines: list[str], actual: list[str]) -> str | None:
    remaining = actual
    for line in lines:
        if line.strip() == ELISION:
            continue
        at = _find(line, remaining)
        if at is None:
            return f"README line not in the output (in order): {line!r}"
        remaining = remaining[at + 1 :]
    return None


def _update() -> None:
    """Rewrite each whole block from the command's output, keeping the lines with a `...`
    wildcard that still match theirs. A shortened block is the author's choice of lines:
    it is kept, and named with its first missing line when it no longer holds."""
    text = README.read_text(encoding="utf-8")

    def replace(m: re.Match[str]) -> str:
        args, shown = m.group(1), m.group(2)
        actual = _run(args).rstrip("\n").splitlines()
        lines = shown.rstrip("\n").splitlines()
        if ELISION in (line.strip() for line in lines):
            missing = _first_missing(lines, actual)
            if missing is not None:
                print(f"edit by hand: `chinchilla {args}`: {missing}", file=sys.stderr)
            return m.group(0)
        wild = [line for line in lines if ELISION in line]
        actual = [next((w for w in wild if _matches(w, out)), out) for out in actual]
        return f"```console\n$ chinchilla {args}\n" + "\n".join(actual) + "\n```"

    README.write_text(CONSOLE.sub(replace, text), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--update"]:
        _update()
    else:
        print(__doc__)
