"""The README's Python API example runs and prints what the README says it prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


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
