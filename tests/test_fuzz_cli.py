"""Fuzzing the command line: every subcommand with random arguments.

Whatever a user types, the tool exits 0 or 2 (1 only for `fit`, when a fit fails), never
shows a traceback, writes one line to stderr on error, and prints only JSON with --json.

The options that write files (--plot, --save, --csv) are left out here: they have their
own tests (tests/test_output_files.py). Run more examples by hand with
CHINCHILLA_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz_cli.py
"""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chinchilla_cli.law_files import preset_law_names
from chinchilla_cli.presets import load_presets

EXAMPLES = int(os.environ.get("CHINCHILLA_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text a shell can pass: no NUL (argv cannot hold one); surrogates stand for undecodable
# bytes in argv, which the tool handles too, but they are not worth the shrinking time.
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=24,
)
ODD_NUMBERS = [  # typed by hand, pasted from spreadsheets
    "",
    " ",
    "0",
    "-0",
    "1",
    "1e400",
    "-1",
    "1,000",
    "1_000",
    "nan",
    "inf",
    "-inf",
    "1e",
    "70BB",
    ".5",
    "1.4T",
    "5.76e23",
    "0x10",
    "١٢",
    "1e-400",
    "2k",
    "  3  ",
    "1e30",
    "1e15",
    "1e31",
    "1e300",
    "1e-300",
    "5e-324",
    "1e308",
    "1e-10",
]
FLOATS = st.floats(allow_nan=True, allow_infinity=True)
NUMBERS = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    FLOATS.map(repr),
    FLOATS.map(lambda x: f"{x:g}"),
    st.tuples(st.floats(0, 2000, allow_nan=False), st.sampled_from("kKmMbBgGtTpP")).map(
        lambda t: f"{t[0]:g}{t[1]}"
    ),
    st.sampled_from(ODD_NUMBERS),
)
SMALL = st.integers(-3, 40).map(str) | st.sampled_from(["", "x", "1.5", "2k", "1e2", "nan"])
VALUES = NUMBERS | TEXT
BUDGETS = st.one_of(
    NUMBERS,
    st.lists(NUMBERS, min_size=1, max_size=4).map(":".join),
    st.lists(NUMBERS, min_size=1, max_size=4).map(",".join),
    st.tuples(
        st.sampled_from(["1e15", "1e18", "6e18", "1e20", "1e30", "1e31", "0", "-1e18"]),
        st.sampled_from(["1e15", "1e19", "1e22", "1e30", "1e31", "x"]),
        st.sampled_from(["0", "1", "2", "3", "5", "100", "101", "2.5", "-2", ""]),
    ).map(":".join),
)
LAWS = st.sampled_from(preset_law_names() + ["nope", "", "missing.yaml", "/"]) | TEXT
ACCELERATORS = st.sampled_from(list(load_presets("hardware")) + ["h900", ""]) | TEXT
CONFIGS = st.one_of(
    st.sampled_from(list(load_presets("models")) + ["gopherr", "", "@", "="]),
    st.tuples(NUMBERS, NUMBERS).map("@".join),
    st.tuples(TEXT, NUMBERS, NUMBERS).map(lambda t: f"{t[0]}={t[1]}@{t[2]}"),
    TEXT,
)


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """Input files of every sort, good and bad, for the options that read one."""
    d = tmp_path_factory.mktemp("fuzz")
    good_rows = "params,tokens,loss\n" + "".join(
        f"{1e8 * (i + 1):g},{2e9 * (i + 1):g},{4.0 - 0.1 * i:g}\n" for i in range(12)
    )
    contents: dict[str, str | bytes] = {
        "runs.csv": good_rows,
        "garbage.csv": bytes(range(256)) * 4,
        "empty.csv": b"",
        "header.csv": "params,tokens,loss\n",
        "ragged.csv": "params,tokens,loss\n1e9,2e10\n",
        "utf16.csv": good_rows.encode("utf-16"),
        "law.yaml": "name: mine\nE: 1.7\nA: 400\nB: 400\nalpha: 0.3\nbeta: 0.3\n",
        "python.yaml": "!!python/object/apply:os.system ['echo hacked']\n",
        "notalaw.yaml": "hello: world\n",
        "negative.yaml": "E: 1.7\nA: 400\nB: 400\nalpha: -0.3\nbeta: 0.3\n",
        "runs.yaml": "- {name: a, params: 1B, tokens: 20B}\n- {name: b, params: 2B, tokens: 5B}\n",
        "badruns.yaml": "- {name: a, params: [1], tokens: {}}\n",
    }
    out = {}
    for name, text in contents.items():
        p = d / name
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text, encoding="utf-8")
        out[name] = str(p)
    out["missing"] = str(d / "missing.csv")
    out["folder"] = str(d)
    return out


def _options(spec: dict[str, st.SearchStrategy | None], draw) -> list[str]:
    """Some of the options in `spec` in random order, each with a drawn value (None:
    a flag), maybe an unknown option, maybe a last option missing its value."""
    names = draw(st.lists(st.sampled_from(sorted(spec)), max_size=6))
    args: list[str] = []
    for name in names:
        args.append(name)
        if spec[name] is not None:
            args.append(draw(spec[name]))
    if draw(st.integers(0, 9)) == 0:
        args.insert(draw(st.integers(0, len(args))), draw(st.sampled_from(["--bogus", "-x"])))
    if draw(st.integers(0, 9)) == 0:
        valued = [n for n in sorted(spec) if spec[n] is not None]
        args.append(draw(st.sampled_from(valued)))
    return args


def _no_constants(name: str):
    raise AssertionError(f"{name} in the JSON output")


def check(result, args: list[str], allowed: tuple[int, ...] = (0, 2)) -> None:
    output = result.stdout + result.stderr
    where = f"args: {args!r}\nstdout: {result.stdout[-2000:]}\nstderr: {result.stderr}"
    assert "Traceback" not in output, where
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{result.exception!r}\n{where}"
    )
    assert result.exit_code in allowed, where
    if result.exit_code == 0:
        if "--json" in args:
            json.loads(result.stdout, parse_constant=_no_constants)  # strict: no NaN, Infinity
        return
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and ": error: " in lines[0], where
    assert result.stdout == "", where


def _plan_spec(files) -> dict:
    law = LAWS | st.sampled_from([files["law.yaml"], files["python.yaml"], files["negative.yaml"]])
    return {
        "--flops": NUMBERS, "--chips": NUMBERS, "--days": NUMBERS, "--hours": NUMBERS,
        "--params": NUMBERS, "--tokens": NUMBERS, "--target-loss": NUMBERS,
        "--budget-range": BUDGETS, "--accelerator": ACCELERATORS, "--peak-flops": NUMBERS,
        "--mfu": NUMBERS, "--goodput": NUMBERS, "--deadline-days": NUMBERS,
        "--price-per-hour": NUMBERS, "--tdp-watts": NUMBERS, "--pue": NUMBERS,
        "--grid-intensity": NUMBERS, "--law": law, "--unique-tokens": NUMBERS,
        "--inference-tokens": NUMBERS, "--arch": st.sampled_from(["chinchilla", "llama", "gpt",
        "moe", ""]), "--kv-heads": NUMBERS, "--aspect-ratio": NUMBERS, "--vocab": NUMBERS,
        "--seq-len": NUMBERS, "--force": None, "--json": None,
    }  # fmt: skip


@FUZZ
@given(data=st.data())
def test_plan(run, files, data):
    spec = _plan_spec(files)
    # most plans need a budget: give one often, so the fuzz goes past the first check
    budget = data.draw(st.sampled_from([[], ["--flops", "1e22"], ["--chips", "64", "--days", "7"]]))
    args = budget + _options(spec, data.draw)
    check(run("plan", *args), args)


@FUZZ
@given(data=st.data())
def test_sweep(run, files, data):
    spec = {
        "--budgets": BUDGETS, "--sizes": NUMBERS, "--span": NUMBERS, "--law": LAWS,
        "--chips": NUMBERS, "--accelerator": ACCELERATORS, "--peak-flops": NUMBERS,
        "--mfu": NUMBERS, "--vocab": NUMBERS, "--seq-len": NUMBERS, "--aspect-ratio": NUMBERS,
        "--force": None, "--json": None,
    }  # fmt: skip
    budget = data.draw(st.sampled_from([[], ["--budgets", "1e18:1e20:3"]]))
    args = budget + _options(spec, data.draw)
    check(run("sweep", *args), args)


@FUZZ
@given(data=st.data())
def test_compare(run, files, data):
    spec = {
        "--file": st.sampled_from([files["runs.yaml"], files["badruns.yaml"], files["python.yaml"],
                                   files["missing"], files["folder"], files["garbage.csv"]]) | TEXT,
        "--law": LAWS | st.sampled_from([files["law.yaml"], files["notalaw.yaml"]]),
        "--all-laws": None, "--force": None, "--json": None,
    }  # fmt: skip
    configs = data.draw(st.lists(CONFIGS, max_size=3))
    args = ["--", *configs] if any(c.startswith("-") for c in configs) else configs
    options = _options(spec, data.draw)
    args = options + args if args[:1] == ["--"] else args + options
    check(run("compare", *args), args)


@FUZZ
@given(data=st.data())
def test_fit(run, files, data):
    spec = {
        "--approach": st.sampled_from(["parametric", "isoflop", "magic", ""]),
        "--huber-delta": NUMBERS, "--bootstrap": SMALL, "--seed": NUMBERS, "--ci": NUMBERS,
        "--params-col": TEXT | st.just("params"), "--tokens-col": TEXT | st.just("tokens"),
        "--flops-col": TEXT | st.just("flops"), "--loss-col": TEXT | st.just("loss"),
        "--max-loss": NUMBERS, "--min-flops": NUMBERS, "--max-flops": NUMBERS,
        "--flops-tolerance": NUMBERS, "--name": TEXT, "--force": None, "--json": None,
    }  # fmt: skip
    runs = data.draw(
        st.sampled_from(
            [files[k] for k in ("runs.csv", "garbage.csv", "empty.csv", "header.csv",
                                "ragged.csv", "utf16.csv", "missing", "folder", "law.yaml")]
            + ["-"]
        )
        | TEXT
    )  # fmt: skip
    args = ["--", runs] if runs.startswith("-") and runs != "-" else [runs]
    options = _options(spec, data.draw)
    args = options + args if args[0] == "--" else args + options
    check(run("fit", *args), args, allowed=(0, 1, 2))


@FUZZ
@given(kind=TEXT | st.sampled_from(["hardware", "laws", "models"]), json_out=st.booleans())
def test_presets(run, kind, json_out):
    args = ["--", kind] if kind.startswith("-") else [kind]
    args = (["--json"] if json_out else []) + args
    check(run("presets", *args), args)


@FUZZ
@given(args=st.lists(VALUES | st.sampled_from(["plan", "fit", "--version", "--help"]), max_size=4))
def test_top_level(run, args):
    """Anything at all after `chinchilla`: a usage error or help, never a crash."""
    if args[:1] in (["fit"], ["compare"]) and len(args) == 1:
        args = args + ["--help"]  # stdin and an empty list have their own tests
    check(run(*args), args)


def test_a_bug_is_still_one_line_without_a_traceback(run, monkeypatch):
    """Should a bug raise, the user gets one line and exit 70, not typer's traceback."""
    from chinchilla_cli import planning as plan

    def broken(*args, **kwargs):
        raise ZeroDivisionError("float division by zero")

    monkeypatch.setattr(plan, "make_plan", broken)
    r = run("plan", "--flops", "1e22")
    assert r.exit_code == 70 and "Traceback" not in r.output
    assert r.stderr.splitlines() == [
        "chinchilla: internal error (a bug; please report it): "
        "ZeroDivisionError: float division by zero"
    ]


@pytest.mark.parametrize(
    "args, needle",
    [
        (["plan", "--flops", "1e22", "--arch", "gpt"], "expected one of chinchilla, llama"),
        (["plan", "--tokens", "6e150"], "is out of range"),
        (["plan", "--tokens", "1e29"], "needs a budget of"),
        (["plan", "--params", "1e-300"], "is out of range"),
        (["plan", "--chips", "1e9", "--days", "1e6"], "needs a budget of"),
        (["plan", "--target-loss", "1.8172000001"], "needs a budget of"),
        (["plan", "--flops", "1e22", "--mfu", "5e-324"], "is out of range"),
        (["compare", "1e300@1e300"], "is out of range"),
        (["compare", "1e-300@1e-300"], "is out of range"),
        (["sweep", "--budgets", "1e12:1e-300:3"], "is below 1e-9 FLOPs"),
    ],
)
def test_numbers_beyond_what_the_tool_models_are_refused(run, args, needle):
    """Found by the fuzz: each of these used to crash (overflow, division by zero, a
    KeyError) instead of printing one line."""
    r = run(*args)
    check(r, args)
    assert r.exit_code == 2 and needle in r.stderr, r.stderr
