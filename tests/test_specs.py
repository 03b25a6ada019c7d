"""The cluster and shape settings have one home (specs.py): plan and sweep check and
default them alike, take them as spec objects too, and their commands share one
declaration of each option. Results carry no CLI concerns; names typed by a user
match without regard to case, and a miss says "did you mean" in one short line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from chinchilla_cli import architecture, moe
from chinchilla_cli.cli import build_app
from chinchilla_cli.errors import InputError
from chinchilla_cli.planning import FrontierRow, frontier_table, plan
from chinchilla_cli.specs import ClusterSpec, ShapeSpec
from chinchilla_cli.sweeps import sweep

# ---------------------------------------------------------------- one home for the options


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--aspect-ratio", "2000"),
        ("--aspect-ratio", "2"),
        ("--mfu", "1.5"),
        ("--arch", "gpt"),
        ("--experts", "8"),
        ("--accelerator", "h100"),
        ("--precision", "fp16"),
    ],
)
def test_plan_and_sweep_refuse_a_setting_identically(run, option, value):
    planned = run("plan", "--chips", "8", "--days", "1", option, value)
    swept = run("sweep", "--budgets", "1e20", option, value)
    assert planned.exit_code == swept.exit_code == 2
    # the same message, after the program name (typer's own checks name the command)
    assert planned.stderr.split("error: ", 1)[1] == swept.stderr.split("error: ", 1)[1]
    assert option in planned.stderr
    assert len(planned.stderr.strip().splitlines()) == 1


def test_aspect_ratio_2000_is_refused_by_both_commands(run):
    for args in (("plan", "--flops", "1e22"), ("sweep", "--budgets", "1e20")):
        r = run(*args, "--aspect-ratio", "2000")
        assert r.exit_code == 2
        assert "--aspect-ratio: 2000 is out of range" in r.stderr


def test_specs_validate_once_naming_the_argument():
    with pytest.raises(InputError) as e:
        ShapeSpec(aspect_ratio=2000)
    assert e.value.field == "aspect_ratio"
    with pytest.raises(InputError) as e:
        ShapeSpec(family="moe", experts=4, top_k=8)
    assert e.value.field == "top_k"
    with pytest.raises(InputError) as e:
        ClusterSpec(mfu=1.5)
    assert e.value.field == "mfu"
    with pytest.raises(InputError) as e:
        ClusterSpec(pue=0.5)
    assert e.value.field == "pue"
    with pytest.raises(InputError) as e:
        ShapeSpec.of(arch="chinchilla", kv_heads=4)
    assert e.value.field == "kv_heads"


def test_specs_default_once_and_say_what_was_defaulted():
    shape = ShapeSpec.of(arch="LLaMA")
    assert shape.family == "llama"
    assert shape.vocab_size == architecture.DEFAULT_VOCAB["llama"]
    assert shape.aspect_ratio == architecture.DEFAULT_ASPECT_RATIO
    assert "aspect_ratio" in shape.defaulted and "family" not in shape.defaulted
    cluster = ClusterSpec.of(accelerator="H100_SXM", precision="FP8")
    assert cluster.accelerator == "h100-sxm" and cluster.precision == "fp8"
    assert cluster.given == ("accelerator", "precision")
    assert cluster.peak_flops_per_second == cluster.hardware.fp8_flops_per_second


def test_plan_and_sweep_take_spec_objects_as_the_flat_arguments():
    flat = plan(chips=64, days=2, arch="llama", aspect_ratio=64, accelerator="a100-80gb", mfu=0.5)
    specs = plan(
        chips=64,
        days=2,
        shape=ShapeSpec(family="llama", aspect_ratio=64),
        cluster=ClusterSpec(accelerator="a100-80gb", mfu=0.5),
    )
    assert specs.optimal == flat.optimal
    assert specs.architecture == flat.architecture
    assert specs.budget.flops == pytest.approx(flat.budget.flops, rel=1e-12)
    swept = sweep("1e19,1e20", shape=ShapeSpec(family="llama"), cluster=ClusterSpec(mfu=0.5))
    assert swept.to_dict() == sweep("1e19,1e20", arch="llama", mfu=0.5).to_dict()


def test_a_cluster_spec_needs_a_plan_with_a_cluster():
    with pytest.raises(InputError) as e:
        plan(flops=1e22, cluster=ClusterSpec())
    assert e.value.field == "cluster"
    assert plan(flops=1e22, deadline_days=30, cluster=ClusterSpec()).budget.cluster is not None


def test_a_spec_and_its_flat_settings_are_not_both_given():
    with pytest.raises(InputError) as e:
        plan(flops=1e22, shape=ShapeSpec(), aspect_ratio=50)
    assert e.value.field == "aspect_ratio"
    with pytest.raises(InputError) as e:
        sweep("1e20", cluster=ClusterSpec(), mfu=0.5)
    assert e.value.field == "mfu"


SHARED = (
    "--accelerator",
    "--peak-flops",
    "--mfu",
    "--precision",
    "--arch",
    "--kv-heads",
    "--aspect-ratio",
    "--vocab",
    "--seq-len",
    "--experts",
    "--top-k",
    "--shared-experts",
    "--expert-ffw",
    "--law",
    "--plot",
)


def _params(command: str) -> dict[str, object]:
    import typer.main

    click_cmd = typer.main.get_command(build_app([command])).commands[command]  # type: ignore[attr-defined]
    return {max(p.opts, key=len): p for p in click_cmd.params}


def test_plan_and_sweep_declare_the_shared_options_once():
    planned, swept = _params("plan"), _params("sweep")
    for option in SHARED:
        a, b = planned[option], swept[option]
        assert (a.help, a.metavar, a.show_default) == (b.help, b.metavar, b.show_default), option


@pytest.mark.parametrize("command", ["plan", "sweep", "compare"])
def test_no_option_shows_str_as_its_metavar(run, command):
    r = run(command, "--help")
    assert r.exit_code == 0
    assert "<str>" not in r.stdout and "TEXT" not in r.stdout


# ---------------------------------------------------------------- one home for the formulas


@pytest.mark.parametrize("d_model", [256, 1024, 1152, 4096, 7168])
@pytest.mark.parametrize("kv_heads", [1, 8, 12])
def test_moe_shape_follows_the_llama_rules(d_model, kv_heads):
    dense = architecture.shape(4, d_model, 1000, 2048, "llama", kv_heads)
    mixture = moe.moe_shape(4, d_model, 1000, 2048, 16, 2, 0, None, 0, kv_heads)
    assert (mixture.n_heads, mixture.head_dim, mixture.ffw_size, mixture.n_kv_heads) == (
        dense.n_heads,
        dense.head_dim,
        dense.ffw_size,
        dense.n_kv_heads,
    )


def test_moe_sketch_lands_on_its_target_like_the_dense_sketch():
    for target in (3e9, 2e10, 7e10):
        a = moe.moe_sketch(target, 64, 8, 1)
        assert a.active_params == pytest.approx(target, rel=0.1)
        d = architecture.sketch(target, family="llama")
        assert d.params == pytest.approx(target, rel=0.1)


def test_architecture_is_below_the_laws():
    code = (
        "import sys, chinchilla_cli.architecture, chinchilla_cli.moe;"
        "print('chinchilla_cli.laws' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    from chinchilla_cli.laws import FLOPS_PER_PARAM_TOKEN

    assert FLOPS_PER_PARAM_TOKEN == architecture.FLOPS_PER_PARAM_TOKEN == 6.0


# ---------------------------------------------------------------- results free of CLI concerns


def test_results_carry_no_files_and_the_cli_adds_them(run, tmp_path):
    from chinchilla_cli.comparison import compare

    assert "plot" not in plan(flops=1e22).to_dict()
    assert not {"plot", "csv"} & set(sweep("1e20").to_dict())
    assert "plot" not in compare("gopher").to_dict()
    assert json.loads(run("plan", "--flops", "1e22", "--json").stdout)["plot"] is None
    printed = json.loads(run("sweep", "--budgets", "1e20", "--json").stdout)
    assert printed["csv"] is None and printed["plot"] is None
    csv = tmp_path / "grid.csv"
    r = run("sweep", "--budgets", "1e20", "--csv", str(csv))
    assert r.exit_code == 0 and f"wrote {csv}" in r.stdout and csv.exists()


def test_frontier_rows_are_typed():
    f = frontier_table([1e20, 1e21], "hoffmann2022")
    assert all(isinstance(r, FrontierRow) for r in f.rows)
    assert f.rows[0].run.params < f.rows[1].run.params
    row = f.to_dict()["frontier"][0]
    assert set(row) == {"params", "tokens", "tokens_per_param", "flops", "loss", "uncertainty"}
    assert set(frontier_table([1e20], "kaplan2020").to_dict()["frontier"][0]) == {
        "params",
        "tokens",
        "tokens_per_param",
        "flops",
        "loss",
    }


def test_one_word_for_one_thing_in_the_json(run_json):
    swept = run_json("sweep", "--budgets", "1e20", "--arch", "llama")
    assert swept["family"] == "llama" and "arch" not in swept
    row = run_json("compare", "gopher")["models"][0]
    assert {"compute_optimal_params", "compute_optimal_tokens", "compute_optimal_loss"} <= set(row)
    assert "least_flops_for_loss" in row
    assert not [k for k in row if k.startswith("optimal")]


# ---------------------------------------------------------------- a user who mistypes


@pytest.mark.parametrize(
    ("args", "near"),
    [
        (("plan", "--chips", "8", "--days", "1", "--accelerator", "h100"), "h100-sxm"),
        (("plan", "--flops", "1e22", "--law", "besiroglu"), "besiroglu2024"),
        (("sweep", "--budgets", "1e20", "--law", "hofman2022"), "hoffmann2022"),
        (("compare", "deepsek-v3"), "deepseek-v3"),
        (("compare", "gopher", "--law", "besiroglu"), "besiroglu2024"),
        (("plan", "--flops", "1e22", "--arch", "lama"), "llama"),
    ],
)
def test_a_close_miss_says_did_you_mean_in_one_short_line(run, args, near):
    r = run(*args)
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) < 160, lines
    assert "did you mean" in lines[0] and near in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ("plan", "--flops", "1e22", "--arch", "MoE", "--experts", "8", "--top-k", "2"),
        ("plan", "--flops", "1e22", "--law", "Besiroglu2024"),
        ("plan", "--chips", "8", "--days", "1", "--precision", "FP8"),
        ("plan", "--chips", "8", "--days", "1", "--accelerator", "H100-SXM"),
        ("sweep", "--budgets", "1e20", "--arch", "Llama"),
        ("compare", "Gopher", "CHINCHILLA"),
    ],
)
def test_names_match_without_regard_to_case(run, args):
    r = run(*args, "--json")
    assert r.exit_code == 0, r.stderr
    d = json.loads(r.stdout)
    if args[0] == "compare":
        assert [m["name"] for m in d["models"]] == ["gopher", "chinchilla"]
    elif "--law" in args:
        assert d["law"]["name"] == "besiroglu2024"


def test_plan_refuses_brief_json_before_writing_the_plot(run, tmp_path):
    figure = tmp_path / "t.png"
    r = run("plan", "--flops", "1e22", "--plot", str(figure), "--brief", "--json")
    assert r.exit_code == 2
    assert "--brief" in r.stderr
    assert not figure.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--flops", "1e22"],
        ["plan", "--chips", "64", "--days", "3", "--arch", "moe", "--experts", "8", "--top-k", "2"],
        ["sweep", "--budgets", "1e19:1e21:3"],
    ],
)
def test_plain_plan_and_sweep_load_no_numpy(args):
    code = (
        "import sys\n"
        "from chinchilla_cli.cli import main\n"
        f"sys.argv = ['chinchilla', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numpy', 'scipy') if m in sys.modules), file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "[]"
