"""The library behind the commands: the same functions, the same result objects, and
`to_dict()` exactly the command's --json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import chinchilla_cli
from chinchilla_cli import compare, fit, load_law, plan, sweep
from chinchilla_cli.errors import ChinchillaError, FitError, InputError

DATA = Path(__file__).parent / "data"
RUNS = DATA / "svg_extracted_data.csv"


def test_public_names():
    for name in ("plan", "fit", "compare", "sweep", "load_law"):
        assert name in chinchilla_cli.__all__
        assert callable(getattr(chinchilla_cli, name))
        assert getattr(chinchilla_cli, name).__doc__
    for name in chinchilla_cli.__all__:
        assert getattr(chinchilla_cli, name) is not None


def test_import_is_cheap():
    """`import chinchilla_cli` loads no numpy, rich or typer (names load on first use)."""
    code = (
        "import sys, chinchilla_cli; "
        "print(sorted(m for m in ('numpy', 'rich', 'typer') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_plan_library_does_not_import_rich_typer_scipy():
    code = (
        "import sys; from chinchilla_cli import plan; p = plan(chips=1024, days=30); "
        "print(sorted(m for m in ('rich', 'typer', 'scipy', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_dense_plan_loads_nothing_only_other_plans_need():
    """What `chinchilla plan` loads decides how fast it starts: a dense plan under a dense
    law loads no MoE law, named model, constrained or inference solution, noise model."""
    lazy = (
        "moe_laws", "moe_plan", "named_models", "constrained", "inference", "prediction",
        "utilisation", "numpy",
    )  # fmt: skip
    code = (
        "import sys; from chinchilla_cli import plan; p = plan(chips=1024, days=30); "
        f"print(sorted(m for m in {lazy!r} if m in sys.modules or 'chinchilla_cli.' + m in "
        "sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    moe = "from chinchilla_cli import plan; plan(1e21, arch='moe', experts=8, top_k=2)"
    subprocess.run([sys.executable, "-c", moe], check=True)  # and an MoE plan still works


@pytest.mark.parametrize(
    ("kwargs", "argv"),
    [
        ({"chips": 1024, "days": 30}, ["--chips", "1024", "--days", "30"]),
        (
            {"flops": 5.76e23, "law": "hoffmann2022"},
            ["--flops", "5.76e23", "--law", "hoffmann2022"],
        ),
        ({"params": 70e9}, ["--params", "70B"]),
        (
            {"flops": 1e23, "inference_tokens": 2e13, "chips": 512, "mfu": 0.5},
            ["--flops", "1e23", "--inference-tokens", "2e13", "--chips", "512", "--mfu", "0.5"],
        ),
        ({"flops": 1e23, "unique_tokens": 1e11}, ["--flops", "1e23", "--unique-tokens", "1e11"]),
    ],
)
def test_plan_to_dict_is_the_json(run_json, kwargs, argv):
    assert plan(**kwargs).to_dict() == _api_keys(run_json("plan", *argv))


def _api_keys(printed: dict) -> dict:
    """The command's JSON less the files it wrote (the CLI adds them; results carry none)."""
    return {k: v for k, v in printed.items() if k not in ("plot", "csv", "saved")}


def test_hardware_arguments():
    p = plan(chips=1024, days=30, accelerator="h100-sxm", mfu=0.4)
    assert p.budget.cluster is not None and p.budget.cluster.chips == 1024
    assert p.budget.flops == pytest.approx(1024 * 989.4e12 * 0.4 * 30 * 86400, rel=1e-3)


def test_default_means_not_given(run_json):
    """(default) marks what the caller left out, not a value that happens to equal it."""
    given = run_json("plan", "--chips", "8", "--days", "1", "--mfu", "0.4")["assumptions"]
    omitted = run_json("plan", "--chips", "8", "--days", "1")["assumptions"]
    assert "MFU 40%" in given
    assert any(a.startswith("MFU 40% (default)") for a in omitted)
    assert "law besiroglu2024 (default)" in omitted
    assert (
        "law besiroglu2024"
        in run_json("plan", "--chips", "8", "--days", "1", "--law", "besiroglu2024")["assumptions"]
    )
    assert "MFU 40%" in plan(chips=8, days=1, mfu=0.4).assumptions


def test_inference_aware_plan_describes_the_recommended_model():
    p = plan(flops=1e23, inference_tokens=2e13, chips=512)
    assert p.recommendation == "inference-aware"
    assert p.inference is not None
    assert p.optimal.params == pytest.approx(p.inference.params)
    assert p.optimal.params < p.compute_optimal.params
    assert p.architecture.params == pytest.approx(p.optimal.params, rel=0.1)
    assert p.feasibility.train_memory_bytes == 16 * p.optimal.params
    assert p.feasibility.seconds == pytest.approx(p.budget.cluster.seconds_for(p.optimal.flops))
    assert p.cost is not None
    assert p.cost.chip_hours == pytest.approx(512 * p.feasibility.seconds / 3600)
    d = p.to_dict()
    assert d["optimal"]["params"] == p.optimal.params
    assert d["compute_optimal"]["params"] == p.compute_optimal.params


def test_target_loss_with_inference_is_the_same_mechanism():
    p = plan(target_loss=2.0, inference_tokens=1e13)
    assert p.recommendation == "inference-aware"
    assert p.loss is not None and p.loss.total == pytest.approx(2.0, abs=1e-6)


def test_data_constrained_plan_uses_the_same_fields():
    p = plan(flops=1e23, unique_tokens=1e11)
    assert p.recommendation == "data-constrained"
    assert p.constrained is not None and p.optimal.params == p.constrained.params


def test_errors_carry_the_argument():
    with pytest.raises(InputError) as e:
        plan(flops=-1.0)
    assert e.value.field == "flops"
    with pytest.raises(InputError) as e:
        plan(flops=1e23, law="no-such-law")
    assert e.value.field == "law"
    assert isinstance(e.value, ValueError) and isinstance(e.value, ChinchillaError)


def test_cli_names_the_option(run):
    r = run("plan", "--flops", "1e23", "--law", "no-such-law")
    assert r.exit_code == 2
    assert r.stderr.startswith("chinchilla plan: error: --law: unknown law 'no-such-law'")
    r = run("plan", "--flops", "1e23", "--params", "7B")
    assert "(--flops, --params); give exactly one" in r.stderr


def test_fit_path_equals_the_command(run_json):
    # the command adds the files it wrote (none here) to the report's JSON
    assert {**fit(str(RUNS)).to_dict(), "saved": None, "plot": None} == run_json("fit", str(RUNS))


def test_fit_arrays_and_columns():
    base = fit(str(RUNS))
    rows = base.runs
    by_arrays = fit(params=rows.params, tokens=rows.tokens, loss=rows.loss)
    assert by_arrays.law is not None and base.law is not None
    assert by_arrays.law.parameters() == pytest.approx(base.law.parameters(), rel=1e-6)
    by_mapping = fit({"N": list(rows.params), "D": list(rows.tokens), "Loss": list(rows.loss)})
    assert by_mapping.law.parameters() == pytest.approx(base.law.parameters(), rel=1e-6)


class _FrameLike:
    """What fit needs of a pandas DataFrame: keys() and [column]."""

    def __init__(self, columns):
        self._columns = columns

    def keys(self):
        return list(self._columns)

    def __getitem__(self, name):
        return self._columns[name]

    def __iter__(self):
        return iter(self._columns)

    def __len__(self):
        return len(self._columns)


def test_fit_dataframe_like():
    rows = fit(str(RUNS)).runs
    frame = _FrameLike({"params": rows.params, "tokens": rows.tokens, "loss": rows.loss})
    assert fit(frame).runs.n_kept == len(rows.loss)


def test_fit_save_names_the_law_before_the_first_dot(tmp_path):
    report = fit(str(RUNS))
    path = report.save(tmp_path / "mine.law.yaml")
    law = load_law(str(path))
    assert law.name == "mine"
    with pytest.raises(InputError, match="already exists"):
        report.save(path)


def test_fit_checks_convergence_before_bootstrapping(monkeypatch):
    from chinchilla_cli import approach3, fit_engine

    real = approach3.fit_parametric

    def unconverged(*args, **kwargs):
        from dataclasses import replace

        return replace(real(*args, **kwargs), converged=False, message="test")

    def no_bootstrap(*args, **kwargs):
        raise AssertionError("bootstrapped a fit that did not converge")

    monkeypatch.setattr(fit_engine, "fit_parametric", unconverged)
    monkeypatch.setattr(fit_engine, "bootstrap_parametric", no_bootstrap)
    with pytest.raises(FitError, match="did not converge"):
        fit(str(RUNS), bootstrap=10)


def test_compare_to_dict_is_the_json(run_json):
    printed = run_json("compare", "gopher", "chinchilla")
    assert compare("gopher", "chinchilla").to_dict() == _api_keys(printed)
    c = compare("gopher", "mine=13B@2.6T", law=load_law("hoffmann2022"))
    assert [r.config.name for r in c.rows] == ["gopher", "mine"]


def test_sweep_to_dict_is_the_json(run_json):
    printed = run_json("sweep", "--budgets", "1e18:1e20:3")
    assert sweep("1e18:1e20:3").to_dict() == _api_keys(printed)
    assert len(sweep([1e18, 1e19], sizes=5).runs) == 10


def test_results_display_in_jupyter():
    for result in (plan(flops=5.76e23), compare("gopher"), sweep([1e19], sizes=3)):
        bundle = result._repr_mimebundle_()
        assert set(bundle) == {"text/plain", "text/html"}
        assert bundle["text/plain"].strip()
    assert "Compute-optimal allocation" in plan(flops=5.76e23)._repr_mimebundle_()["text/plain"]


def test_json_is_plain(run):
    out = run("plan", "--flops", "1e23", "--json")
    json.loads(out.stdout)
