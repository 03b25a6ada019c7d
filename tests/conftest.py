from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from chinchilla_cli.cli import app

# As the `chinchilla` entry point does: one BLAS thread, so fits do not slow to a crawl when
# another process holds a core (none of the imports above loads numpy).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


SLOW = ("exhaustive", "million")  # every start of the grid; a million-row file


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests of --exhaustive and of million-row reads are `slow`: CI runs them, a plain
    `pytest` skips them (pyproject's addopts)."""
    for item in items:
        if any(word in item.nodeid.lower() for word in SLOW):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Keep the run-time presets cache of a source checkout out of the user's home."""
    os.environ["CHINCHILLA_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture
def run():
    """Invoke the CLI in-process; returns the Result (stdout and stderr kept apart)."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input, prog_name="chinchilla")

    return invoke


@pytest.fixture
def run_json(run):
    def invoke(*args: str):
        result = run(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return invoke
