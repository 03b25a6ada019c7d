import math

import pytest

from chinchilla_cli.errors import InputError
from chinchilla_cli.quantity import human, parse_quantity, sci


@pytest.mark.parametrize(
    "text, value",
    [
        ("5.76e23", 5.76e23),
        ("1e24", 1e24),
        ("70B", 70e9),
        ("400M", 400e6),
        ("1.4T", 1.4e12),
        ("2k", 2000),
        ("2K", 2000),
        (" 1_000 ", 1000),
        ("1,024", 1024),
        (".5", 0.5),
        ("3G", 3e9),
    ],
)
def test_parse(text, value):
    assert parse_quantity(text) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("text", ["lots", "", "nan", "inf", "-inf", "1e999", "70BB", "B", "1e"])
def test_parse_rejects(text):
    with pytest.raises(InputError, match="--flops"):
        parse_quantity(text, "--flops")


def test_human_and_sci():
    assert human(70e9) == "70.0B"
    assert human(1.4e12) == "1.40T"
    assert human(413e6) == "413M"
    assert sci(5.76e23) == "5.76e23"
    assert sci(1e21) == "1.00e21"
    for v in (70e9, 1.4e12, 32.2e9, 999.7e9, 5.76e23):
        back = parse_quantity(human(v))
        assert math.isclose(back, v, rel_tol=5e-3)


# ---------------------------------------------------------------- the API takes text too


def test_plan_takes_its_numbers_as_text_as_the_command_line_does():
    from chinchilla_cli import plan

    assert plan("1e23").to_dict() == plan(1e23).to_dict()
    assert plan(params="70B").to_dict() == plan(params=70e9).to_dict()
    assert plan(chips="1k", days="30").to_dict() == plan(chips=1000, days=30).to_dict()


def test_sweep_and_frontier_take_text_budgets():
    from chinchilla_cli import frontier_table, sweep

    assert sweep(["1e18", "1e19"]).to_dict() == sweep([1e18, 1e19]).to_dict()
    assert sweep("1e18:1e19:2", chips="64").to_dict() == sweep([1e18, 1e19], chips=64).to_dict()
    assert frontier_table(["1e20"]).to_dict() == frontier_table([1e20]).to_dict()


@pytest.mark.parametrize(
    "call, field",
    [
        (lambda plan: plan(params="70Q"), "params"),
        (lambda plan: plan("lots"), "flops"),
        (lambda plan: plan(1e23, params=1e9), "flops"),
        (lambda plan: plan(), "flops"),
        (lambda plan: plan(chips=8, days=1, hours=2), "hours"),
        (lambda plan: plan(days=3), "chips"),
    ],
)
def test_plan_text_that_is_not_a_number_names_its_argument(call, field):
    from chinchilla_cli import plan

    with pytest.raises(InputError) as e:
        call(plan)
    assert e.value.field == field


def test_compare_without_configurations_names_them():
    from chinchilla_cli import compare

    with pytest.raises(InputError) as e:
        compare()
    assert e.value.field == "configs"
