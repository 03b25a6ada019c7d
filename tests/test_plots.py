"""Figures: valid images of sensible size, refused over existing files, and a one-line
message when matplotlib is missing."""

import sys
from pathlib import Path

import pytest

from chinchilla_cli.errors import InputError

SVG = str(Path(__file__).parent / "data" / "svg_extracted_data.csv")
LLAMA3 = str(Path(__file__).parent / "data" / "llama3_isoflops_points.csv")
LADDER = str(Path(__file__).parent.parent / "examples" / "ladder_runs.csv")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    "args",
    [
        ["fit", SVG, "--max-loss", "3.42", "--bootstrap", "10"],
        ["fit", LLAMA3, "--approach", "isoflop"],
        ["fit", LADDER, "--metric-col", "hellaswag", "--bootstrap", "10"],
    ],
)
def test_fit_plot(run, tmp_path, args):
    pytest.importorskip("matplotlib")
    out = tmp_path / "fit.png"
    r = run(*args, "--plot", str(out))
    assert r.exit_code == 0, r.stderr
    data = out.read_bytes()
    assert data.startswith(PNG) and len(data) > 50_000
    again = run(*args, "--plot", str(out))
    assert again.exit_code == 2 and "--force" in again.stderr
    assert out.read_bytes() == data
    assert run(*args, "--plot", str(out), "--force").exit_code == 0


def test_plot_into_a_missing_folder(run, tmp_path):
    r = run("plan", "--flops", "1e23", "--plot", str(tmp_path / "nowhere" / "p.png"))
    assert r.exit_code == 2 and "does not exist" in r.stderr


def test_without_matplotlib_says_how_to_install(run, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    from chinchilla_cli.plots import pyplot

    with pytest.raises(InputError, match="pip install"):
        pyplot()
    for args in (
        ["plan", "--flops", "1e23"],
        ["fit", SVG],
        ["compare", "gopher"],
        ["sweep", "--budgets", "1e18:1e19:2"],
    ):
        r = run(*args, "--plot", str(tmp_path / "x.png"))
        assert r.exit_code == 2, (args, r.output)
        assert "pip install" in r.stderr and len(r.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("suffix", ["jpg", "txt", ""])
def test_fit_plot_refuses_an_unknown_suffix(run, tmp_path, suffix):
    """Every --plot goes through one writer: fit refuses what plan, compare and sweep do."""
    pytest.importorskip("matplotlib")
    out = tmp_path / (f"fit.{suffix}" if suffix else "fit")
    r = run("fit", SVG, "--plot", str(out))
    assert r.exit_code == 2 and r.stderr.startswith("chinchilla fit: error: --plot: ")
    assert "expected a file name ending in .png, .svg, .pdf" in r.stderr
    assert not out.exists()


@pytest.mark.parametrize(("suffix", "magic"), [("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_fit_plot_writes_the_format_its_suffix_names(run, tmp_path, suffix, magic):
    pytest.importorskip("matplotlib")
    out = tmp_path / f"fit.{suffix}"
    r = run("fit", SVG, "--plot", str(out))
    assert r.exit_code == 0, r.stderr
    assert out.read_bytes().startswith(magic)


def test_a_fitted_metric_adds_the_sigmoid_panel():
    """Runs with a task metric get a fourth panel: the metric against the loss, with the
    fitted sigmoid and its bootstrap band."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from chinchilla_cli import fit
    from chinchilla_cli.plots.fit import fit_figure

    report = fit(LADDER, metric_col="hellaswag", bootstrap=10)
    fig = fit_figure(plt, report)
    # four panels, the audit's (when the runs could be audited), the first one's colour bar
    assert len(fig.axes) == 4 + (report.audit is not None) + 1
    panel = fig.axes[3]
    assert "hellaswag" in panel.get_title() and "bootstrap band" in str(
        [t.get_text() for t in panel.get_legend().get_texts()]
    )
    plain_report = fit(SVG, max_loss=3.42)
    plain = fit_figure(plt, plain_report)
    assert len(plain.axes) == 3 + 1 + (plain_report.audit is not None)
    plt.close("all")
