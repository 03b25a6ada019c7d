"""`chinchilla sweep`: an IsoFLOP experiment centred on a law's optimum.

The round trip at the end is the point of the command: design a sweep, fill its CSV with
losses from a known law (Hoffmann et al. 2022 eq. 10: E 1.69, A 406.4, B 410.7, alpha 0.34,
beta 0.28, so a = beta / (alpha + beta) = 0.4516), fit it, and get the law back.
"""

import csv
import json
import math
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chinchilla_cli.errors import InputError
from chinchilla_cli.frontier import optimal_allocation
from chinchilla_cli.law_files import load_law
from chinchilla_cli.laws import ParametricLaw
from chinchilla_cli.quantity import parse_budgets
from chinchilla_cli.runs import read_runs
from chinchilla_cli.sweeps import CSV_COLUMNS, target_sizes

ROOT = Path(__file__).resolve().parent.parent
TRUTH = ParametricLaw("truth", 1.69, 406.4, 410.7, 0.34, 0.28)
H100_FLOPS = 989.4e12  # presets/hardware.yaml, dense bf16


# ---------------------------------------------------------------- the design


def test_json_shape_and_numbers(run_json):
    d = run_json("sweep", "--budgets", "1e18:1e20:5", "--sizes", "9")
    assert {
        "budgets",
        "total_flops",
        "total_hours",
        "law",
        "hardware",
        "assumptions",
        "warnings",
        "csv",
        "plot",
    } <= set(d)
    assert d["law"]["name"] == "besiroglu2024"
    law = load_law("besiroglu2024")
    budgets = [b["flops"] for b in d["budgets"]]
    assert budgets[0] == 1e18 and budgets[-1] == 1e20
    assert budgets == pytest.approx([1e18, 10**18.5, 1e19, 10**19.5, 1e20], rel=1e-12)
    delivered = 8 * H100_FLOPS * 0.40
    for b in d["budgets"]:
        c = b["flops"]
        assert b["centre_params"] == pytest.approx(optimal_allocation(law, c).params, rel=1e-12)
        runs = b["runs"]
        assert len(runs) == 9
        targets = [r["target_params"] for r in runs]
        # evenly spaced in log N, centred (in log) on the optimum, largest / smallest = 16
        steps = np.diff(np.log(targets))
        assert np.allclose(steps, steps[0], rtol=1e-9)
        assert targets[4] == pytest.approx(b["centre_params"], rel=1e-12)
        assert math.exp(np.mean(np.log(targets))) == pytest.approx(b["centre_params"], rel=1e-9)
        assert targets[-1] / targets[0] == pytest.approx(16.0, rel=1e-12)
        for r in runs:
            assert {"params", "tokens", "architecture", "hours"} <= set(r)
            assert r["architecture"]["params"] == r["params"]  # N is the sketch's exact count
            assert r["params"] == pytest.approx(r["target_params"], rel=0.05)
            assert 6 * r["params"] * r["tokens"] == pytest.approx(c, rel=1e-12)
            assert r["flops"] == c
            assert r["hours"] == pytest.approx(c / delivered / 3600, rel=1e-12)
            assert r["predicted_loss"] == pytest.approx(
                law.loss(r["params"], r["tokens"]).total, rel=1e-12
            )
        assert b["total_flops"] == pytest.approx(9 * c, rel=1e-12)
        # the centre is the minimum of the predicted IsoFLOP profile
        losses = [r["predicted_loss"] for r in runs]
        assert losses.index(min(losses)) == 4
    assert d["total_flops"] == pytest.approx(sum(b["total_flops"] for b in d["budgets"]))
    assert d["total_hours"] == pytest.approx(d["total_flops"] / delivered / 3600, rel=1e-12)
    assert d["csv"] is None and d["plot"] is None


def test_comma_list_and_even_sizes(run_json):
    d = run_json("sweep", "--budgets", "3e19,6e18,1e19", "--sizes", "4", "--span", "8")
    assert [b["flops"] for b in d["budgets"]] == [6e18, 1e19, 3e19]  # sorted
    for b in d["budgets"]:
        targets = [r["target_params"] for r in b["runs"]]
        assert len(targets) == 4
        assert targets[-1] / targets[0] == pytest.approx(8.0)
        assert math.sqrt(targets[1] * targets[2]) == pytest.approx(b["centre_params"])


def test_hardware_options(run_json):
    d = run_json(
        "sweep", "--budgets", "1e20", "--chips", "64", "--accelerator", "a100-80gb", "--mfu", "0.5"
    )
    assert d["hardware"]["accelerator"] == "a100-80gb" and d["hardware"]["chips"] == 64
    run = d["budgets"][0]["runs"][0]
    assert run["hours"] == pytest.approx(1e20 / (64 * 312e12 * 0.5) / 3600)
    over = run_json("sweep", "--budgets", "1e20", "--peak-flops", "1e15")
    assert over["budgets"][0]["runs"][0]["hours"] == pytest.approx(1e20 / (8e15 * 0.4) / 3600)


def test_architecture_options(run_json):
    d = run_json(
        "sweep",
        "--budgets",
        "1e21",
        "--vocab",
        "50000",
        "--seq-len",
        "4096",
        "--aspect-ratio",
        "64",
    )
    for r in d["budgets"][0]["runs"]:
        a = r["architecture"]
        assert a["vocab_size"] == 50000 and a["seq_len"] == 4096
        assert r["params"] == pytest.approx(r["target_params"], rel=0.02)


@pytest.mark.parametrize("law", ["hoffmann2022-approach2", "kaplan2020", "hoffmann2022"])
def test_other_laws_centre_on_their_optimum(run_json, law):
    d = run_json("sweep", "--budgets", "1e19,1e21", "--sizes", "5", "--law", law)
    the_law = load_law(law)
    for b in d["budgets"]:
        assert b["centre_params"] == pytest.approx(the_law.optimal_params(b["flops"]), rel=1e-12)
        if not the_law.predicts_loss:
            assert all(r["predicted_loss"] is None for r in b["runs"])
            assert b["centre_loss"] is None


def test_human_output(run):
    r = run("sweep", "--budgets", "1e18:1e20:5", "--sizes", "9")
    assert r.exit_code == 0, r.output
    for text in (
        "besiroglu2024",
        "h100-sxm",
        "MFU 40%",
        "8 x h100-sxm",
        "C = 6·N·D",
        "Total: 45 runs",
        "1.31e21 FLOPs",
        "Per budget",
        "N/N*",
        "target",
    ):
        assert text in r.stdout, text
    assert "\x1b[" not in r.stdout
    assert r.stderr == ""


def test_human_output_allocation_law(run):
    r = run("sweep", "--budgets", "1e19,1e20", "--law", "hoffmann2022-approach1")
    assert r.exit_code == 0, r.output
    assert "predicts no loss" in r.stdout
    assert "loss spread" not in r.stdout


# ---------------------------------------------------------------- warnings


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--budgets", "1e19,1e20", "--sizes", "2"], "a parabola"),
        (["--budgets", "1e19"], "one budget"),
        (["--budgets", "1e19,1.05e19"], "within 10%"),
        (["--budgets", "1e15,1e16"], "miss their target"),
        (["--budgets", "1e24", "--chips", "1"], "accelerator memory"),
        (["--budgets", "1e18,1e19"], "appendix F"),
        (["--budgets", "1e19,1e20", "--law", "kaplan2020"], "without embeddings"),
    ],
)
def test_warnings(run_json, args, needle):
    d = run_json("sweep", *args)
    assert any(needle in w for w in d["warnings"]), d["warnings"]


def test_no_spurious_warnings_at_large_budgets(run_json):
    d = run_json("sweep", "--budgets", "1e22:1e24:3", "--chips", "1024")
    assert d["warnings"] == []


# ---------------------------------------------------------------- budgets


def test_parse_budgets():
    assert parse_budgets("1e18:1e20:3") == (1e18, pytest.approx(1e19, rel=1e-12), 1e20)
    assert parse_budgets("1e20:1e18:3") == parse_budgets("1e18:1e20:3")
    assert parse_budgets("1e19:1e19:1") == (1e19,)
    assert parse_budgets("6e18, 1e19 ,3e19") == (6e18, 1e19, 3e19)
    assert parse_budgets("1e19") == (1e19,)
    assert parse_budgets("10P:100P:2") == (1e16, 1e17)


@given(start=st.floats(1e10, 1e23), ratio=st.floats(1.5, 1e6), count=st.integers(2, 100))
@settings(max_examples=200, deadline=None)
def test_parse_budgets_log_spaced_inclusive(start, ratio, count):
    stop = start * ratio
    values = parse_budgets(f"{start!r}:{stop!r}:{count}")
    assert len(values) == count and values[0] == start and values[-1] == stop
    steps = np.diff(np.log(values))
    assert np.allclose(steps, steps[0], rtol=1e-6)


@given(centre=st.floats(1e5, 1e13), sizes=st.integers(1, 100), span=st.floats(1.01, 1e4))
@settings(max_examples=200, deadline=None)
def test_target_sizes_centred(centre, sizes, span):
    t = target_sizes(centre, sizes, span)
    assert len(t) == sizes
    assert math.exp(np.mean(np.log(t))) == pytest.approx(centre, rel=1e-9)
    if sizes > 1:
        assert t[-1] / t[0] == pytest.approx(span, rel=1e-9)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1e18:1e20",
        "1e18:1e20:0",
        "1e18:1e20:2.5",
        "1e18:1e20:101",
        "a:1e20:3",
        "1e18:1e20:x",
        "1e18::3",
        "1e18:1e20:3:4",
        "1e18,,1e19",
        "1e18,x",
        "-1e18",
        "0",
        "1e18,1e18",
        "1e18:1e20:1",
        "1e18:1e18:3",
        "1e400",
        "1e18:1e31:3",
        "2e30",
    ],
)
def test_parse_budgets_rejects(text):
    with pytest.raises(InputError, match="^budgets: "):
        parse_budgets(text)


# ---------------------------------------------------------------- the CSV and the round trip


def _fill_losses(src: Path, dst: Path, law: ParametricLaw, noise: float, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    with src.open(newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        clean = law.loss(float(r["params"]), float(r["tokens"])).total
        r["loss"] = repr(clean * math.exp(rng.normal(0.0, noise)))
    with dst.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_csv_columns(run, tmp_path):
    out = tmp_path / "grid.csv"
    r = run("sweep", "--budgets", "1e18:1e20:5", "--sizes", "9", "--csv", str(out))
    assert r.exit_code == 0, r.output
    assert "wrote" in r.stdout and "chinchilla fit" in r.stdout
    with out.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    assert tuple(header) == CSV_COLUMNS
    assert len(rows) == 45
    for row in rows:
        cell = dict(zip(header, row, strict=True))
        assert cell["loss"] == ""
        c, n, d = float(cell["budget_flops"]), int(cell["params"]), float(cell["tokens"])
        assert float(cell["flops"]) == c
        assert 6 * n * d == pytest.approx(c, rel=1e-9)
        assert int(cell["n_layers"]) >= 1 and int(cell["d_model"]) % 64 == 0
        assert float(cell["hours"]) == pytest.approx(c / (8 * H100_FLOPS * 0.4) / 3600, rel=1e-5)
    # a grid not filled in yet cannot be fitted, and says what to do
    with pytest.raises(InputError, match=r"grid.csv: no row has a loss .* fill it in"):
        read_runs(str(out))


def test_csv_json_names_the_file(run_json, tmp_path):
    out = tmp_path / "grid.csv"
    d = run_json("sweep", "--budgets", "1e19,1e20", "--csv", str(out))
    assert d["csv"] == str(out) and out.exists()


def test_round_trip_sweep_losses_fit(run, tmp_path):
    """sweep -> losses from a known law (0.1% noise) -> fit -> the law again."""
    grid, filled = tmp_path / "grid.csv", tmp_path / "filled.csv"
    r = run("sweep", "--budgets", "1e18:1e20:5", "--sizes", "9", "--csv", str(grid))
    assert r.exit_code == 0, r.output
    _fill_losses(grid, filled, TRUTH, noise=1e-3)
    runs = read_runs(str(filled))  # the extra columns are ignored
    assert runs.n_kept == 45 and runs.columns["params"] == "params"
    assert runs.columns["flops"] == "flops" and not runs.notes

    fit = run("fit", str(filled), "--json")
    assert fit.exit_code == 0, fit.output
    p = json.loads(fit.stdout)["params"]
    assert p["E"] == pytest.approx(TRUTH.E, rel=0.03)
    assert p["alpha"] == pytest.approx(TRUTH.alpha, rel=0.03)
    assert p["beta"] == pytest.approx(TRUTH.beta, rel=0.03)

    iso = run("fit", str(filled), "--approach", "isoflop", "--json")
    assert iso.exit_code == 0, iso.output
    d = json.loads(iso.stdout)
    assert d["frontier"]["a"] == pytest.approx(TRUTH.a, abs=0.03)
    assert len(d["minima"]) == 5
    assert all(m["inside_sampled_range"] for m in d["minima"])


def test_round_trip_noiseless_is_exact(run, tmp_path):
    grid, filled = tmp_path / "grid.csv", tmp_path / "filled.csv"
    assert run("sweep", "--budgets", "1e18:1e20:5", "--csv", str(grid)).exit_code == 0
    _fill_losses(grid, filled, TRUTH, noise=0.0)
    p = json.loads(run("fit", str(filled), "--json").stdout)["params"]
    for k, v in TRUTH.parameters().items():
        assert p[k] == pytest.approx(v, rel=1e-4), k


# ---------------------------------------------------------------- output files


def test_existing_csv_refused_without_force(run, tmp_path):
    out = tmp_path / "grid.csv"
    out.write_text("keep me\n")
    r = run("sweep", "--budgets", "1e19,1e20", "--csv", str(out))
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--csv" in lines[0] and "--force" in lines[0]
    assert r.stdout == "" and "Traceback" not in r.output
    assert out.read_text() == "keep me\n"
    forced = run("sweep", "--budgets", "1e19,1e20", "--csv", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    assert out.read_text().startswith("budget_flops,params,tokens")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize(
    "args",
    [
        ["--budgets", "1e18:1e20:5", "--sizes", "9"],
        ["--budgets", "1e19:1e22:14", "--sizes", "7", "--law", "kaplan2020"],  # colour bar
        ["--budgets", "6e18,1e19,3e19", "--law", "hoffmann2022-approach2"],  # no loss: one panel
        ["--budgets", "1e20", "--sizes", "1"],
    ],
)
def test_plot_is_a_sensible_png(run, tmp_path, args):
    pytest.importorskip("matplotlib")
    out = tmp_path / "sweep.png"
    r = run("sweep", *args, "--plot", str(out))
    assert r.exit_code == 0, r.output
    data = out.read_bytes()
    width, height = _png_size(data)
    assert 1000 <= width <= 4000 and 700 <= height <= 3000
    assert len(data) > 50_000
    assert f"wrote {out}" in r.stdout


def test_plot_refuses_existing_file_before_any_work(run, tmp_path):
    pytest.importorskip("matplotlib")
    out, grid = tmp_path / "sweep.png", tmp_path / "grid.csv"
    out.write_bytes(b"old")
    r = run("sweep", "--budgets", "1e19,1e20", "--plot", str(out), "--csv", str(grid))
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--plot" in lines[0] and "--force" in lines[0]
    assert out.read_bytes() == b"old" and not grid.exists()
    forced = run("sweep", "--budgets", "1e19,1e20", "--plot", str(out), "--force", "--json")
    assert forced.exit_code == 0, forced.output
    assert json.loads(forced.stdout)["plot"] == str(out)
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_plot_without_matplotlib(run, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    out, grid = tmp_path / "sweep.png", tmp_path / "grid.csv"
    r = run("sweep", "--budgets", "1e19,1e20", "--plot", str(out), "--csv", str(grid))
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install" in lines[0] and "matplotlib" in lines[0]
    assert not out.exists() and not grid.exists()


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "args, needle",
    [
        ([], "--budgets"),
        (["--budgets", "1e18:1e20"], "--budgets"),
        (["--budgets", "1e18:1e20:0"], "start:stop:count"),
        (["--budgets", "lots"], "comma list"),
        (["--budgets", "1e18,,1e19"], "--budgets"),
        (["--budgets", "-1e18"], "--budgets"),
        (["--budgets", "1e18,1e18"], "twice"),
        (["--budgets", "1e19", "--sizes", "0"], "--sizes"),
        (["--budgets", "1e19", "--sizes", "2.5"], "--sizes"),
        (["--budgets", "1e19", "--sizes", "101"], "--sizes"),
        (["--budgets", "1e19", "--span", "1"], "--span"),
        (["--budgets", "1e19", "--span", "0.5"], "--span"),
        (["--budgets", "1e19", "--law", "nope"], "--law"),
        (["--budgets", "1e19", "--accelerator", "nope"], "--accelerator"),
        (["--budgets", "1e19", "--mfu", "0"], "--mfu"),
        (["--budgets", "1e19", "--mfu", "1.5"], "--mfu"),
        (["--budgets", "1e19", "--chips", "0"], "--chips"),
        (["--budgets", "1e19", "--plot", "sweep.jpg"], ".png"),
        (["--budgets", "1e19", "--csv", "x.out", "--plot", "x.out"], "--csv and --plot"),
        (["--budgets", "1e19", "--csv", "no/such/dir/g.csv"], "does not exist"),
        (["--budgets", "1e19", "--bogus"], "--bogus"),
    ],
)
def test_bad_input_one_line_exit_2(run, args, needle):
    r = run("sweep", *args)
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert needle in lines[0]
    assert "Traceback" not in r.output
    assert r.stdout == ""


def test_help_documents_every_option(run):
    r = run("sweep", "--help")
    assert r.exit_code == 0
    for opt in (
        "--budgets",
        "--sizes",
        "--span",
        "--law",
        "--chips",
        "--accelerator",
        "--mfu",
        "--peak-flops",
        "--vocab",
        "--seq-len",
        "--aspect-ratio",
        "--csv",
        "--plot",
        "--force",
        "--json",
    ):
        assert opt in r.stdout, opt


# ---------------------------------------------------------------- start-up


def _imported(*args: str) -> set[str]:
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "chinchilla_cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    return {line.split("|")[-1].strip() for line in r.stderr.splitlines() if "|" in line}


def test_sweep_without_plot_imports_neither_scipy_nor_matplotlib():
    imported = _imported("sweep", "--budgets", "1e18:1e20:5")
    assert "chinchilla_cli.sweeps" in imported
    assert not any(m.split(".")[0] in ("scipy", "matplotlib", "numpy") for m in imported)


def test_plan_does_not_import_sweep():
    imported = _imported("plan", "--flops", "1e23")
    assert (
        not {"chinchilla_cli.sweeps", "chinchilla_cli.views.sweep", "chinchilla_cli.plots.sweep"}
        & imported
    )
