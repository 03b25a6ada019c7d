"""The command line helps someone who mistypes: every help names what goes in an option,
every misspelt name gets the nearest names in one short line, and names are matched
without regard to case where the names themselves are."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from chinchilla_cli.cli import app
from chinchilla_cli.presets import KINDS

COMMANDS = ("plan", "fit", "compare", "sweep", "presets")
SHORT = 160  # characters: one line of a terminal or two, never a list of every preset


def _run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "100"})


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_what_goes_in_each_option(command):
    result = _run(command, "--help")
    assert result.exit_code == 0, result.output
    assert "<str>" not in result.stdout


def test_presets_help_lists_every_kind():
    text = " ".join(_run("presets", "--help").stdout.split())
    for kind in KINDS:
        assert kind in text


@pytest.mark.parametrize(
    ("args", "nearest"),
    [
        (("plan", "--chips", "8", "--days", "1", "--accelerator", "h100"), "h100-sxm"),
        (("plan", "--flops", "1e22", "--law", "besiroglu"), "besiroglu2024"),
        (("compare", "deepsek-v3", "gopher"), "deepseek-v3"),
        (("sweep", "--budgets", "1e20", "--law", "hofmann2022"), "hoffmann2022"),
        (("presets", "modles"), "models"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else v,
)
def test_a_close_miss_gets_the_nearest_names_in_one_short_line(args, nearest):
    result = _run(*args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= SHORT, lines
    assert "did you mean" in lines[0] and nearest in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "--flops", "1e22", "--arch", "MoE", "--experts", "8", "--top-k", "2"),
        ("plan", "--flops", "1e22", "--law", "Besiroglu2024"),
        ("plan", "--chips", "8", "--days", "1", "--accelerator", "H100-SXM"),
        ("compare", "Gopher", "Chinchilla"),
        ("presets", "Models"),
    ],
    ids=" ".join,
)
def test_names_match_without_regard_to_case(args):
    result = _run(*args)
    assert result.exit_code == 0, result.stderr
