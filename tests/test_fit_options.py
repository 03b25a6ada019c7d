"""The fit's structure: one frozen, validated FitOptions; each default in one home; layers
without cycles; results free of the command's files; modules and functions of a size a
reader can hold; the command's help and names forgiving of case and typos."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
from pathlib import Path

import numpy as np
import pytest

from chinchilla_cli import fit, fit_defaults
from chinchilla_cli.errors import InputError
from chinchilla_cli.fit_constraints import Constraints
from chinchilla_cli.fit_engine import fit_runs
from chinchilla_cli.fit_options import DEFAULT_FIT, FitOptions
from chinchilla_cli.read_options import ReadOptions  # noqa: E402
from chinchilla_cli.runs import read_runs

PACKAGE = Path(__file__).resolve().parent.parent / "chinchilla_cli"
SVG = str(Path(__file__).parent / "data" / "svg_extracted_data.csv")
BASE = "examples/intervention_baseline.csv"
VARIANT = "examples/intervention_variant.csv"
# the modules of the fit (helper "fit"'s part of the tree)
FIT_MODULES = (
    "objective",
    "newton",
    "fit_constraints",
    "grid_search",
    "approach3",
    "shared_e",
    "fit_defaults",
    "fit_options",
    "fit_results",
    "fit_engine",
    "fitting",
    "interventions",
    "heldout",
    "resampling",
    "isoflop",
    "constrained",
    "cli/fit",
    "views/fit",
    "views/interventions",
    "views/accuracy",
    "plots/fit",
    "plots/interventions",
)


def _source(module: str) -> str:
    return (PACKAGE / f"{module}.py").read_text(encoding="utf-8")


# ---- FitOptions ------------------------------------------------------------------------


def test_options_are_frozen_and_default_from_one_home():
    o = FitOptions()
    assert o == DEFAULT_FIT
    assert (o.huber_delta, o.ci_level, o.seed, o.flops_tolerance) == (
        fit_defaults.HUBER_DELTA,
        fit_defaults.CI_LEVEL,
        fit_defaults.SEED,
        fit_defaults.FLOPS_TOLERANCE,
    )
    assert o.constraints == Constraints() and o.bootstrap == 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.seed = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "field", "text"),
    [
        ({"bootstrap": 1}, "bootstrap", "at least 2 resamples"),
        ({"bootstrap": -2}, "bootstrap", "out of range"),
        ({"ci_level": 0.9}, "ci", "did you mean 90"),
        ({"ci_level": 120.0}, "ci", "out of range"),
        ({"huber_delta": 0.0}, "huber_delta", "out of range"),
        ({"flops_tolerance": 0.9}, "flops_tolerance", "merge distinct budgets"),
        ({"seed": 1.5}, "seed", "whole number"),
        ({"approach": "magic"}, "approach", "unknown approach 'magic'"),
        (
            {"approach": "isoflop", "constraints": Constraints(tied=(("alpha", "beta"),))},
            "tie",
            "shape the parametric fit",
        ),
        ({"approach": "isoflop", "exhaustive": True}, "exhaustive", "shape the parametric"),
    ],
)
def test_options_refuse_bad_values_where_they_are_made(kwargs, field, text):
    with pytest.raises(InputError, match=text) as e:
        FitOptions(**kwargs)
    assert e.value.field == field


def test_options_of_refuses_what_the_fit_would_not_use():
    with pytest.raises(InputError, match="give `bootstrap`") as e:
        FitOptions.of(seed=3)
    assert e.value.field == "seed"
    with pytest.raises(InputError, match="give `bootstrap`") as e:
        FitOptions.of(ci=90)
    assert e.value.field == "ci"
    with pytest.raises(InputError, match="isoflop") as e:
        FitOptions.of(approach="isoflop", huber_delta=0.01)
    assert e.value.field == "huber_delta"
    o = FitOptions.of(bootstrap=10, ci=90, seed=4, tie=["alpha=beta"])
    assert (o.bootstrap, o.ci_level, o.seed) == (10, 90.0, 4)
    assert o.constraints.tied == (("alpha", "beta"),)


def test_approach_is_matched_without_regard_to_case(run):
    assert FitOptions(approach="Parametric").approach == "parametric"
    assert FitOptions.of(approach="ISOFLOP").approach == "isoflop"
    report = fit(SVG, max_loss=3.42, approach="Both")
    assert report.approach == "both"
    d = json.loads(
        run("fit", SVG, "--max-loss", "3.42", "--approach", "PARAMETRIC", "--json").stdout
    )
    assert d["approach"] == "parametric"


def test_a_mistyped_approach_gets_a_short_did_you_mean(run):
    r = run("fit", SVG, "--approach", "parametirc")
    assert r.exit_code == 2
    line = r.stderr.strip()
    assert line.count("\n") == 0 and "--approach" in line
    assert "did you mean parametric?" in line and len(line) < 100


def test_fit_runs_and_the_comparison_take_typed_options():
    runs = read_runs(SVG, ReadOptions(max_loss=3.42))
    report = fit_runs(runs, FitOptions(bootstrap=10, seed=3, ci_level=90.0))
    assert report.seed == 3 and report.ci_level == 90.0
    assert report.samples is not None and len(report.samples) == 10
    with_vs = fit(BASE, vs=[VARIANT], bootstrap=10, seed=2, ci=80)
    iv = with_vs.intervention
    assert iv is not None and (iv.ci_level, iv.seed, iv.resamples) == (80.0, 2, 10)
    assert with_vs.seed == 2 and iv.variants[0].report.seed == 3  # a seed per group


def test_shared_is_matched_without_regard_to_case():
    report = fit(BASE, vs=[VARIANT], shared="e", budgets="1e20")
    assert report.intervention is not None and report.intervention.shared is not None


def test_a_mistyped_parameter_gets_a_did_you_mean(run):
    r = run("fit", SVG, "--fix", "Alpah=0.3")
    assert r.exit_code == 2
    assert "--fix: unknown parameter 'Alpah'; did you mean alpha?" in r.stderr


# ---- one home, one word ---------------------------------------------------------------------


@pytest.mark.parametrize("module", FIT_MODULES)
def test_the_level_and_the_seed_have_one_home(module):
    """The 95% level and seed 0 are written in fit_defaults only; the others import them."""
    if module == "fit_defaults":
        return
    tree = ast.parse(_source(module))
    numbers = [
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and type(n.value) in (int, float) and n.value in (95, 95.0)
    ]
    assert not numbers, f"{module} writes the level itself"
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.arg == "seed":
            continue
        if isinstance(node, ast.keyword) and node.arg == "seed":
            assert not (isinstance(node.value, ast.Constant) and node.value.value == 0), module
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args.args + node.args.kwonlyargs
            defaults = [None] * (len(node.args.args) - len(node.args.defaults))
            defaults += node.args.defaults + node.args.kw_defaults
            for a, d in zip(args, defaults, strict=True):
                if a.arg == "seed" and isinstance(d, ast.Constant) and d.value is not None:
                    raise AssertionError(f"{module}.{node.name}: seed defaults to {d.value}")


def test_interventions_take_g_from_laws(monkeypatch):
    """The frontier's scale G is laws.frontier_scale's, not a copy of its formula."""
    import chinchilla_cli.interventions as interventions
    from chinchilla_cli.laws import ParametricLaw, frontier_scale

    calls = []
    monkeypatch.setattr(
        interventions, "frontier_scale", lambda *a: calls.append(a) or frontier_scale(*a)
    )
    interventions.frontier_losses(ParametricLaw("x", 1.7, 400.0, 410.0, 0.34, 0.28), [1e21])
    assert calls
    assert "** (1.0 / (alpha + beta))" not in _source("interventions")


def test_one_name_for_the_interval_level():
    from chinchilla_cli.fit_results import FitReport, Intervention

    for cls in (FitOptions, FitReport, Intervention):
        names = {f.name for f in dataclasses.fields(cls)}
        assert "ci_level" in names and not names & {"level", "ci", "confidence"}, cls


# ---- layers, sizes, docstrings ------------------------------------------------------------


def _imports(module: str) -> set[str]:
    """The chinchilla_cli modules `module` imports, at any depth (inside functions and
    under TYPE_CHECKING too)."""
    out = set()
    for node in ast.walk(ast.parse(_source(module))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            rel = name.removeprefix("chinchilla_cli.").replace(".", "/")
            if name.startswith("chinchilla_cli.") and (PACKAGE / f"{rel}.py").is_file():
                out.add(rel)
    return out


def _reach(module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        for m in _imports(todo.pop()):
            if m not in seen:
                seen.add(m)
                todo.append(m)
    return seen


@pytest.mark.parametrize("module", [m for m in FIT_MODULES if "/" not in m])
def test_no_fit_module_reaches_back_to_itself(module):
    assert module not in _reach(module)


def test_the_engine_and_results_sit_below_the_comparison_and_the_entry():
    for low in ("fit_engine", "fit_results", "fit_options", "approach3", "shared_e"):
        assert not _reach(low) & {"interventions", "fitting"}, low
    assert "fitting" not in _reach("interventions")


@pytest.mark.parametrize("module", FIT_MODULES)
def test_modules_and_functions_stay_small(module):
    text = _source(module)
    assert text.count("\n") < 1000, f"{module} has {text.count(chr(10))} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                body = body[1:] or body
            lines = node.end_lineno - body[0].lineno + 1  # type: ignore[operator]
            assert lines <= 100, f"{module}.{node.name}: {lines} lines"


@pytest.mark.parametrize("module", [m for m in FIT_MODULES if "/" not in m])
def test_modules_and_public_types_say_what_they_are(module):
    import importlib

    mod = importlib.import_module(f"chinchilla_cli.{module}")
    assert mod.__doc__ and len(mod.__doc__) > 40
    for name, obj in vars(mod).items():
        if inspect.isclass(obj) and obj.__module__ == mod.__name__ and not name.startswith("_"):
            doc = obj.__doc__ or ""
            assert doc and not doc.startswith(f"{name}("), f"{module}.{name} has no docstring"


# ---- results free of the command's files; the command's help ---------------------------------


def test_the_report_carries_no_files_the_command_wrote(run, tmp_path):
    report = fit(SVG, max_loss=3.42)
    d = report.to_dict()
    assert not {"saved", "plot", "written"} & set(d)
    assert not any(f.name == "written" for f in dataclasses.fields(report))
    law = tmp_path / "mine.yaml"
    r = run("fit", SVG, "--max-loss", "3.42", "--save", str(law), "--json")
    got = json.loads(r.stdout)
    assert got["saved"] == str(law) and got["plot"] is None
    assert {k: v for k, v in got.items() if k not in ("saved", "plot")} == json.loads(json.dumps(d))
    text = run("fit", SVG, "--max-loss", "3.42", "--save", str(tmp_path / "b.yaml")).stdout
    assert "Saved the law to" in " ".join(text.split())


def test_no_option_of_fit_shows_a_bare_type(run):
    out = run("fit", "--help", input=None).stdout
    options = [line for line in out.splitlines() if line.lstrip("│ ").startswith("--")]
    assert len(options) > 20
    assert not [line for line in options if "<str>" in line]
    for option, metavar in (("--save", "FILE"), ("--plot", "PATH"), ("--loss-col", "COLUMN")):
        row = next(line for line in options if option in line.split())
        assert metavar in row, row


def test_tied_samples_are_one_number():
    from chinchilla_cli.approach3 import bootstrap_parametric, fit_parametric
    from chinchilla_cli.fit_constraints import constraints_from

    runs = read_runs(SVG, ReadOptions(max_loss=3.42))
    cons = constraints_from(None, ["alpha=beta"])
    f = fit_parametric(runs.params, runs.tokens, runs.loss, constraints=cons)
    s = bootstrap_parametric(f, runs.params, runs.tokens, runs.loss, 6, seed=1)
    assert np.array_equal(s[:, 3], s[:, 4])
