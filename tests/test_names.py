"""names: a typed name matched without regard to case, and the short line for a miss."""

from __future__ import annotations

from chinchilla_cli.names import closest, did_you_mean, match, unknown

HARDWARE = ["h100-sxm", "h100-pcie", "h200", "a100-80gb", "tpu-v5p"]


def test_match_ignores_case_and_separators():
    assert match("H100_SXM", HARDWARE) == "h100-sxm"
    assert match("TPU-V5P", HARDWARE) == "tpu-v5p"
    assert match("h100", HARDWARE) is None  # a prefix is a suggestion, not a match


def test_closest_puts_names_that_start_with_the_text_first():
    assert closest("h100", HARDWARE)[:2] == ["h100-sxm", "h100-pcie"]
    assert closest("zzz", HARDWARE) == []


def test_unknown_is_one_short_line():
    assert unknown("law", "besiroglu", ["besiroglu2024", "hoffmann2022"]) == (
        "unknown law 'besiroglu'; did you mean besiroglu2024?"
    )
    many = [f"model-{i}" for i in range(40)]
    line = unknown("model", "zzz", many, "see `chinchilla presets models`")
    assert line.endswith("(see `chinchilla presets models`)") and len(line) < 160
    assert unknown("kind", "zzz", ["a", "b"]) == "unknown kind 'zzz'; expected one of a, b"


def test_did_you_mean():
    assert did_you_mean("tokns", ["tokens", "params"]) == "'tokns' (did you mean 'tokens'?)"
    assert did_you_mean("qqq", ["tokens"]) == "'qqq'"
