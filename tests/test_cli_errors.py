"""How the command line names what the library calls arguments, without global state.

The library's errors and views say `chips`; the command line says --chips, and only while
a command runs: importing the CLI, or running a command, changes nothing for the library.
Also the names a user types for the presets: case-insensitive, with "did you mean".
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from chinchilla_cli import plan, presets, views
from chinchilla_cli.cli import app, command_option_names, error_line
from chinchilla_cli.errors import InputError
from chinchilla_cli.names import did_you_mean
from chinchilla_cli.presets import KINDS, load_presets, lookup, preset_kind, preset_name
from chinchilla_cli.views.presets import brief_source, clip

PACKAGE = Path(__file__).resolve().parent.parent / "chinchilla_cli"


def _two_budgets_error() -> InputError:
    with pytest.raises(InputError) as e:
        plan(flops=1e23, params=7e10)
    return e.value


def _price_line(text: str) -> str:
    return next(line for line in text.splitlines() if "no price in the preset" in line)


# -- no global state ----------------------------------------------------------------------


def test_importing_the_cli_renames_nothing():
    code = (
        "import chinchilla_cli.cli\n"
        "from chinchilla_cli import plan\n"
        "from chinchilla_cli.errors import InputError\n"
        "try:\n"
        "    plan(chips=-1, days=30)\n"
        "except InputError as e:\n"
        "    print(e)\n"
        "try:\n"
        "    plan(flops=1e23, params=7e10)\n"
        "except InputError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("chips: ")
    assert "(`flops`, `params`)" in out.stdout
    assert "--" not in out.stdout


def test_the_library_names_arguments_after_a_command_ran(run):
    r = run("plan", "--flops", "1e23", "--params", "7B")
    assert r.exit_code == 2
    assert "(--flops, --params); give exactly one" in r.stderr
    error = _two_budgets_error()
    assert "(`flops`, `params`)" in str(error)
    assert "--flops" not in str(error)
    with pytest.raises(InputError) as e:
        plan(chips=-1, days=30)
    assert str(e.value).startswith("chips: ") and e.value.field == "chips"


def test_chips_in_the_library_and_on_the_command_line(run):
    r = run("plan", "--flops", "1e23", "--accelerator", "h100-sxm")
    assert r.exit_code == 2
    assert r.stderr.startswith("chinchilla plan: error: --accelerator: ")
    assert "give --chips or --deadline-days" in r.stderr
    with pytest.raises(InputError) as e:
        plan(flops=1e23, accelerator="h100-sxm")
    assert str(e.value).startswith("accelerator: ")
    assert "give `chips` or `deadline_days`" in str(e.value)


def test_the_cli_names_the_option_of_a_library_error(run):
    r = run("plan", "--chips", "8", "--days", "3", "--accelerator", "h9000")
    assert r.exit_code == 2
    assert r.stderr.startswith("chinchilla plan: error: --accelerator: unknown accelerator")
    assert r.stderr.count("\n") == 1


def test_views_name_options_only_while_the_cli_renders(run):
    r = run("plan", "--chips", "8", "--days", "3", "--accelerator", "h100-pcie")
    assert r.exit_code == 0, r.output
    assert "pass --price-per-hour" in _price_line(r.stdout)
    bundle = views.mimebundle(plan(chips=8, days=3, accelerator="h100-pcie"))
    assert "pass `price_per_hour`" in _price_line(bundle["text/plain"])


def _text(renderable) -> str:
    console = views.console()
    with console.capture() as captured:
        console.print(renderable)
    return captured.get()


def test_words_and_warnings_in_a_scope_and_out_of_it():
    warning = "lower `huber_delta` or raise `max_loss`"
    assert views.words(warning) == warning
    with views.option_names({"max_loss": "MAX"}):
        assert views.words(warning) == "lower --huber-delta or raise MAX"
        assert "--huber-delta" in _text(views.warnings_block([warning]))
        with views.option_names({}):  # an inner scope, then the outer one again
            assert views.words(warning) == "lower --huber-delta or raise --max-loss"
        assert views.words(warning) == "lower --huber-delta or raise MAX"
    assert views.words(warning) == warning
    assert "`huber_delta`" in _text(views.warnings_block([warning]))


def test_a_scope_is_left_on_an_error():
    with pytest.raises(RuntimeError), views.option_names({}):
        raise RuntimeError("boom")
    assert views.words("`chips`") == "`chips`"


def test_option_names_come_from_the_running_command():
    group = typer.main.get_command(app)
    fit_names = command_option_names(group.commands["fit"])  # type: ignore[attr-defined]
    assert fit_names["json_out"] == "--json"
    assert fit_names["huber_delta"] == "--huber-delta"
    assert fit_names["runs_file"] == fit_names["runs"] == "RUNS"
    assert command_option_names(group.commands["compare"])["configs"] == "CONFIGS"  # type: ignore[attr-defined]
    assert command_option_names(group.commands["presets"])["kind"] == "KIND"  # type: ignore[attr-defined]


def test_error_line_maps_the_field_and_the_backticked_names():
    names = {"json_out": "--json", "configs": "CONFIGS"}
    e = InputError("goes with `configs`, not with `huber_delta`", field="json_out")
    assert error_line(e, names) == "--json: goes with CONFIGS, not with --huber-delta"
    assert error_line(InputError("no `max_loss`")) == "no --max-loss"  # the rule alone
    assert str(e) == "json_out: goes with `configs`, not with `huber_delta`"


# -- the presets: names a user types ------------------------------------------------------


def test_presets_kind_did_you_mean(run):
    r = run("presets", "modles")
    assert r.exit_code == 2
    assert (
        r.stderr
        == "chinchilla presets: error: KIND: unknown preset kind 'modles'; did you mean models?\n"
    )


@pytest.mark.parametrize("typed", ["Models", "MODELS", " models "])
def test_presets_kind_any_case(run, typed):
    import json

    r = run("presets", typed, "--json")
    assert r.exit_code == 0, r.output
    assert list(json.loads(r.stdout)) == ["models"]


def test_preset_kind_and_load_presets_read_any_case():
    assert preset_kind("Hardware") == "hardware"
    assert load_presets("LAWS") is load_presets("laws")
    with pytest.raises(InputError, match="did you mean hardware") as e:
        preset_kind("hardwre")
    assert e.value.field == "kind"


def test_lookup_reads_case_and_separators():
    entry = load_presets("hardware")["h100-sxm"]
    assert lookup("hardware", "H100_SXM", "accelerator") is entry
    assert lookup("hardware", " h100 sxm ", "accelerator") is entry
    assert preset_name("models", "DeepSeek_V3", "configs") == "deepseek-v3"


def test_lookup_miss_is_one_short_line_with_the_nearest():
    with pytest.raises(InputError) as e:
        lookup("hardware", "h100", "accelerator")
    assert e.value.field == "accelerator"
    assert "did you mean h100-sxm" in e.value.message
    assert len(e.value.message) < 120
    with pytest.raises(InputError) as e:
        lookup("models", "zzzzzzzz", "configs")
    assert "known: gpt-3" in e.value.message and len(e.value.message) < 160


def test_describe_unknown_is_names_did_you_mean():
    assert presets.describe_unknown("tokns", ["params", "tokens"]) == did_you_mean(
        "tokns", ["params", "tokens"]
    )
    assert presets.describe_unknown("tokns", ["params", "tokens"]) == (
        "'tokns' (did you mean 'tokens'?)"
    )


# -- the presets command ------------------------------------------------------------------


def test_presets_help_lists_every_kind_and_no_str_metavar(run):
    r = run("presets", "--help")
    assert r.exit_code == 0
    text = " ".join(r.stdout.split())
    for kind in KINDS:
        assert kind in text
    assert "KIND" in text
    assert "<str>" not in r.stdout


@pytest.mark.parametrize("command", ["presets", "plan", "fit", "compare", "sweep"])
def test_no_argument_shows_a_str_metavar(run, command):
    """An argument's help names it (KIND, CONFIGS, RUNS); typer's `<str>` adds nothing."""
    lines = run(command, "--help").stdout.splitlines()
    start = next((i for i, line in enumerate(lines) if "Arguments" in line), None)
    if start is None:
        return  # a command without arguments
    end = next(i for i in range(start, len(lines)) if lines[i].lstrip().startswith("╰"))
    assert not any("<str>" in line for line in lines[start:end])


def test_no_str_metavar_at_the_top(run):
    r = run("--help")
    assert r.exit_code == 0 and "<str>" not in r.stdout


def _rows(stdout: str, kind: str) -> list[str]:
    """The body lines of one kind's table (after its header rule, up to a blank line)."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{kind} ("))
    body = []
    for line in lines[start + 3 :]:
        if not line.strip():
            break
        body.append(line)
    return body


@pytest.mark.parametrize("columns", [80, 100])
def test_presets_tables_one_line_a_preset_within_the_width(columns):
    r = CliRunner().invoke(app, ["presets"], env={"COLUMNS": str(columns)})
    assert r.exit_code == 0, r.output
    assert max(len(line) for line in r.stdout.splitlines()) <= columns
    for kind in KINDS:
        entries = load_presets(kind)
        rows = _rows(r.stdout, kind)
        assert [row.split()[0] for row in rows] == list(entries)  # one line each
        for row, entry in zip(rows, entries.values(), strict=True):
            full = brief_source(str(entry.get("source", "")))
            shown = row[row.index(full[:6]) :] if full else ""
            if shown.endswith("…"):  # cut after a whole word
                kept = shown[:-1]
                assert full.startswith(kept)
                assert full[len(kept)] in " ,;:", (kept, full)
            else:
                assert shown == full


def test_presets_table_two_rows_take_a_few_lines(run):
    r = run("presets", "hyperparameters")
    assert r.exit_code == 0
    assert len(r.stdout.splitlines()) <= 6


def test_models_table_shows_active_parameters_of_a_mixture(run):
    r = run("presets", "models")
    header = next(line for line in r.stdout.splitlines() if line.startswith("name"))
    assert "active" in header.split()
    rows = {row.split()[0]: row for row in _rows(r.stdout, "models")}
    assert re.search(r"671B\s+37\.0B\s+14\.8T", rows["deepseek-v3"])
    assert re.search(r"175B\s+300B", rows["gpt-3"])  # dense: no active count of its own


def test_clip_cuts_at_a_word():
    text = "Hoffmann et al. 2022, arXiv 2203.15556, Table 4"
    assert clip(text, 100) == text
    assert clip(text, 24) == "Hoffmann et al. 2022…"
    assert clip(text, 30) == "Hoffmann et al. 2022…"  # the arXiv number goes whole or not
    assert clip(text, 39) == "Hoffmann et al. 2022, arXiv 2203.15556…"
    assert clip("data/1004_fitted_lr_bs_scaling.csv", 10) == "data/1004…"


def test_brief_source_drops_the_title():
    source = 'Brown et al. 2020, "Language Models are\n Few-Shot Learners", arXiv 2005.14165'
    assert brief_source(source) == "Brown et al. 2020, arXiv 2005.14165"
    assert brief_source("NVIDIA A100 datasheet") == "NVIDIA A100 datasheet"


# -- every InputError of these modules names its argument -----------------------------------


@pytest.mark.parametrize("module", ["quantity.py", "files.py", "presets.py"])
def test_input_errors_carry_a_field(module):
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "InputError"
    ]
    assert calls
    for call in calls:
        assert any(k.arg == "field" for k in call.keywords), f"{module}:{call.lineno}"


# -- names: the one home of "did you mean" ------------------------------------------------


def test_names_match_ignores_case_and_separators():
    from chinchilla_cli import names

    models = list(load_presets("models"))
    assert names.match("deepseekv3", models) == "deepseek-v3"
    assert names.match("DeepSeek_V3", models) == "deepseek-v3"
    assert names.match("deepseek", models) is None
    assert names.match("", models) is None
    assert names.match("a-b", ["ab", "a_b"]) is None  # two fold alike: no guess


@pytest.mark.parametrize(
    ("kind", "typed", "nearest"),
    [("hardware", "h100", "h100-sxm"), ("laws", "besiroglu", "besiroglu2024")],
)
def test_names_unknown_offers_the_nearest_in_one_short_line(kind, typed, nearest):
    from chinchilla_cli import names

    message = names.unknown(kind, typed, load_presets(kind))
    assert f"did you mean {nearest}" in message
    assert len(message) < 100 and "\n" not in message


def test_names_unknown_lists_a_few_when_none_is_close():
    from chinchilla_cli import names

    models = list(load_presets("models"))
    message = names.unknown("model", "zzzz", models)
    assert message.startswith("unknown model 'zzzz'; known: gpt-3, gopher")
    assert f"({len(models) - names.MAX_LISTED} more)" in message
    assert len(message) < 120
    assert names.unknown("kind", "x", ["a", "b"]) == "unknown kind 'x'; expected one of a, b"
    listing = names.unknown("model", "zzzz", models, listing="see the models presets")
    assert listing.endswith("(see the models presets)")


def test_names_did_you_mean():
    from chinchilla_cli import names

    assert names.did_you_mean("tokns", ["params", "tokens"]) == "'tokns' (did you mean 'tokens'?)"
    assert names.did_you_mean("zzz", ["params", "tokens"]) == "'zzz'"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (("plan", "--flops", "abc"), "chinchilla plan: error: --flops: 'abc' is not a number"),
        (("plan", "--flops", "1e22", "--mfu", "0.1"), "chinchilla plan: error: --mfu: "),
        (("compare", "x=1B@abc"), "chinchilla compare: error: CONFIGS: 'x=1B@abc': tokens: "),
        (("compare",), "chinchilla compare: error: CONFIGS: no configuration given"),
    ],
)
def test_every_error_line_names_its_command_then_its_option(run, args, line):
    """Click's parse errors and the library's are worded alike: `chinchilla CMD: error:
    OPTION: what was wrong`, the option named once."""
    r = run(*args)
    assert r.exit_code == 2 and r.stderr.startswith(line), r.stderr
    assert "Invalid value for" not in r.stderr and r.stderr.count("CONFIGS") <= 1


def test_a_fraction_given_as_a_percent_says_what_was_meant(run):
    r = run("plan", "--flops", "1e22", "--chips", "8", "--mfu", "40")
    assert r.exit_code == 2 and r.stderr.rstrip().endswith("(a fraction: 0.4 for 40%)")
    r = run("plan", "--flops", "1e22", "--chips", "8", "--goodput", "1.5")
    assert r.exit_code == 2 and "fraction" not in r.stderr


def test_a_plain_number_is_not_offered_size_suffixes(run):
    r = run("fit", "runs.csv", "--max-loss", "abc")
    assert r.stderr.rstrip().endswith("expected a number such as 2.1 (nats per token)")
    r = run("plan", "--flops", "1e22", "--chips", "8", "--mfu", "abc")
    assert r.stderr.rstrip().endswith("expected a number such as 0.4")
