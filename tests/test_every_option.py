"""Every option of every command is either used (the JSON answer changes) or refused in
one line naming it: never silently ignored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer.main

from chinchilla_cli.cli import build_app

DATA = Path(__file__).parent / "data"
SVG = str(DATA / "svg_extracted_data.csv")

# command -> (baseline arguments, the baseline with a cluster for hardware options)
BASELINES = {
    "plan": ["--flops", "1e22"],
    "fit": [SVG, "--max-loss", "3.42"],
    "compare": ["gopher", "chinchilla"],
    "sweep": ["--budgets", "1e18:1e20:3"],
}
# option -> a value to give it (None: a flag); "{tmp}" becomes a fresh file path
SAMPLES: dict[str, dict[str, str | None]] = {
    "plan": {
        "--flops": "1e23",
        "--chips": "64",
        "--days": "1",
        "--hours": "5",
        "--params": "7B",
        "--tokens": "1T",
        "--target-loss": "2.1",
        "--budget-range": "1e20:1e22:3",
        "--accelerator": "a100-80gb",
        "--peak-flops": "5e14",
        "--mfu": "0.5",
        "--goodput": "0.9",
        "--deadline-days": "30",
        "--price-per-hour": "3",
        "--tdp-watts": "500",
        "--pue": "1.3",
        "--grid-intensity": "100",
        "--law": "hoffmann2022",
        "--unique-tokens": "1e10",
        "--inference-tokens": "1e13",
        "--arch": "llama",
        "--kv-heads": "4",
        "--aspect-ratio": "64",
        "--vocab": "50000",
        "--seq-len": "4096",
        "--precision": "fp8",
        "--experts": "64",
        "--top-k": "8",
        "--shared-experts": "1",
        "--expert-ffw": "1024",
        "--model": "chinchilla",
        "--layers": "20",
        "--d-model": "2048",
        "--granularity": "4",
        "--max-total-params": "5B",
        "--plot": "{tmp}.png",
        "--brief": None,
        "--force": None,
    },
    "fit": {
        "--approach": "isoflop",
        "--huber-delta": "0.01",
        "--bootstrap": "20",
        "--seed": "3",
        "--ci": "90",
        "--params-col": "nope",
        "--tokens-col": "nope",
        "--flops-col": "nope",
        "--loss-col": "nope",
        "--max-loss": "3.0",
        "--min-flops": "1e19",
        "--max-flops": "1e21",
        "--flops-tolerance": "0.5",
        "--min-params": "1e8",
        "--min-tokens": "5e9",
        "--metric-col": "nope",
        "--run-col": "nope",
        "--run-table": "nope.csv",
        "--reduce": "min",
        "--batch-tokens": "1M",
        "--schedule-tokens": "1e12",
        "--exhaustive": None,
        "--form": "coupled",
        "--audit": None,
        "--fix": "E=1.8",
        "--tie": "alpha=beta",
        "--vs": SVG,
        "--group": "color",
        "--baseline": "x",
        "--shared": "E",
        "--budgets": "1e20",
        "--save": "{tmp}.yaml",
        "--name": "mine",
        "--plot": "{tmp}.png",
        "--force": None,
    },
    "compare": {
        "--file": "{missing}",
        "--law": "hoffmann2022",
        "--all-laws": None,
        "--plot": "{tmp}.png",
        "--force": None,
    },
    "sweep": {
        "--budgets": "1e19,1e20",
        "--sizes": "5",
        "--span": "4",
        "--law": "hoffmann2022",
        "--chips": "64",
        "--accelerator": "a100-80gb",
        "--peak-flops": "5e14",
        "--mfu": "0.5",
        "--vocab": "50000",
        "--seq-len": "4096",
        "--aspect-ratio": "64",
        "--arch": "moe",
        "--kv-heads": "4",
        "--experts": "64",
        "--top-k": "8",
        "--shared-experts": "1",
        "--expert-ffw": "1024",
        "--precision": "fp8",
        "--csv": "{tmp}.csv",
        "--plot": "{tmp}.png",
        "--from": SVG,
        "--target": "1e23",
        "--runs": "3",
        "--max-flops": "1e21",
        "--narrow": "loss",
        "--max-loss": "3.42",
        "--force": None,
    },
}
NOT_WALKED = {"--json", "--help"}


def _options(command: str) -> list[str]:
    click_cmd = typer.main.get_command(build_app([command])).commands[command]  # type: ignore[attr-defined]
    out = []
    for param in click_cmd.params:
        if param.param_type_name == "option":
            name = max(param.opts, key=len)
            if name not in NOT_WALKED:
                out.append(name)
    return out


CASES = [(c, o) for c in BASELINES for o in _options(c)]


def test_every_option_has_a_sample():
    missing = [f"{c} {o}" for c, o in CASES if o not in SAMPLES[c]]
    assert not missing, f"add a sample value to SAMPLES for: {missing}"


_BASELINE_JSON: dict[str, object] = {}


def _baseline(run, command: str) -> object:
    """The command's answer without the option: the same for every option, so run once."""
    if command not in _BASELINE_JSON:
        base = run(command, *BASELINES[command], "--json")
        assert base.exit_code == 0, base.stderr
        _BASELINE_JSON[command] = json.loads(base.stdout)
    return _BASELINE_JSON[command]


@pytest.mark.parametrize(("command", "option"), CASES, ids=[f"{c}{o}" for c, o in CASES])
def test_option_is_used_or_refused(run, tmp_path, command, option):
    if option in ("--plot",):
        pytest.importorskip("matplotlib")
    if option not in SAMPLES[command]:
        pytest.skip("no sample (see test_every_option_has_a_sample)")
    base = _baseline(run, command)
    value = SAMPLES[command][option]
    extra = [option]
    if value is not None:
        extra.append(
            value.replace("{tmp}", str(tmp_path / "out")).replace(
                "{missing}", str(tmp_path / "missing.yaml")
            )
        )
    r = run(command, *BASELINES[command], *extra, "--json")
    if r.exit_code == 0:
        assert json.loads(r.stdout) != base, f"{command} {option} was accepted but changed nothing"
    else:
        assert r.exit_code == 2, r.stderr
        line = r.stderr.strip()
        assert "\n" not in line and option in line, line
