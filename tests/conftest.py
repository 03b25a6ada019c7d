from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from chinchilla_cli.cli import app


@pytest.fixture
def run():
    """Invoke the CLI in-process; returns the Result (stdout and stderr kept apart)."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input)

    return invoke


@pytest.fixture
def run_json(run):
    def invoke(*args: str):
        result = run(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return invoke
