"""The installed package: entry point, wheel contents, import-time cost."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _entry_point() -> str | None:
    beside = Path(sys.executable).parent / "chinchilla"
    return str(beside) if beside.exists() else shutil.which("chinchilla")


def test_installed_entry_point_runs(tmp_path):
    exe = _entry_point()
    if exe is None:
        pytest.skip("the chinchilla entry point is not installed (pip install '.[test]')")
    r = subprocess.run(
        [exe, "plan", "--chips", "1024", "--days", "30", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["budget"]["source"] == "hardware"
    bad = subprocess.run(
        [exe, "plan", "--mfu", "1.5", "--flops", "1e23"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr


def test_wheel_carries_presets(tmp_path):
    """Build the wheel, install it (no deps) into a bare folder, run from outside the checkout."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    wheel = next((tmp_path / "dist").glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for kind in ("hardware", "laws", "models"):
        assert f"chinchilla_cli/presets/{kind}.yaml" in names
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    r = subprocess.run(
        [sys.executable, "-m", "chinchilla_cli", "presets", "--json"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "h100-sxm" in json.loads(r.stdout)["hardware"]
    where = subprocess.run(
        [sys.executable, "-c", "import chinchilla_cli; print(chinchilla_cli.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert str(target) in where.stdout


def test_plan_does_not_import_scipy_or_matplotlib(tmp_path):
    r = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-m",
            "chinchilla_cli",
            "plan",
            "--chips",
            "1024",
            "--days",
            "30",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    imported = {line.split("|")[-1].strip() for line in r.stderr.splitlines() if "|" in line}
    assert not any(m.split(".")[0] in ("scipy", "matplotlib") for m in imported)
    assert "chinchilla_cli.planning" in imported  # the check sees real imports
