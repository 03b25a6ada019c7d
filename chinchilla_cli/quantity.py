"""Parse and print the numbers users type: 5.76e23, 70B, 1.4T, 400M, 2k."""

from __future__ import annotations

import functools
import inspect
import math
import numbers
import re
import typing
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from chinchilla_cli.errors import InputError

_SUFFIXES = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12, "p": 1e15}
_NUMBER = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)([kmbgtp]?)$", re.IGNORECASE)
ACCEPTED = "a number such as 5.76e23, 1e24, 70B, 400M, 1.4T or 2k"
# Every quantity the tool models (FLOPs, parameters, tokens, chips, seconds, watts...) lies
# far inside this window; outside it float64 arithmetic overflows or underflows to 0.
MIN_MAGNITUDE, MAX_MAGNITUDE = 1e-9, 1e30


def parse_quantity(text: str, what: str = "value") -> float:
    """Parse `text` as a finite number with an optional k/M/B/G/T/P suffix.

    Raises InputError naming `what` (an argument such as "flops") when it is not one.
    """
    s = str(text).strip().replace("_", "").replace(",", "")
    m = _NUMBER.match(s)
    if not m:
        raise InputError(f"{text!r} is not a number; expected {ACCEPTED}", field=what)
    value = float(m.group(1)) * _SUFFIXES.get(m.group(2).lower(), 1.0)
    if not math.isfinite(value):
        raise InputError(f"{text!r} is not finite; expected {ACCEPTED}", field=what)
    return value


def check_magnitude(value: float, text: str, what: str) -> float:
    """`value` if it is 0 or its magnitude lies in [MIN_MAGNITUDE, MAX_MAGNITUDE]."""
    if value != 0 and not MIN_MAGNITUDE <= abs(value) <= MAX_MAGNITUDE:
        raise InputError(
            f"{str(text).strip()!r} is out of range; expected a magnitude from "
            f"{sci(MIN_MAGNITUDE, 1)} to {sci(MAX_MAGNITUDE, 1)}",
            field=what,
        )
    return value


def require(
    value: float | None,
    field: str,
    *,
    minimum: float | None = 0.0,
    inclusive: bool = False,
    maximum: float | None = None,
    integer: bool = False,
    text: str | None = None,
) -> None:
    """Check an argument's bounds (None: not given, nothing to check). Defaults to
    strictly positive: sizes, budgets and durations are never zero. `text` is the value
    as the user typed it, for the message."""
    if value is None:
        return
    number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    shown = repr(text) if text is not None else f"{value:g}" if number else repr(value)
    if not number or math.isnan(value):
        raise InputError(f"{shown} is not a number; expected {ACCEPTED}", field=field)
    if minimum is not None and (value < minimum or (value == minimum and not inclusive)):
        op = ">=" if inclusive else ">"
        raise InputError(
            f"{shown} is out of range; expected a number {op} {minimum:g}", field=field
        )
    if maximum is not None and value > maximum:
        # a fraction given as a percent (--mfu 40): say what was probably meant
        hint = (
            f" (a fraction: {value / 100:g} for {value:g}%)"
            if maximum == 1 and 2 <= value <= 100
            else ""
        )
        raise InputError(
            f"{shown} is out of range; expected a number <= {maximum:g}{hint}", field=field
        )
    check_magnitude(value, text if text is not None else shown, field)
    if integer and value != math.floor(value):
        raise InputError(f"{shown} is not a whole number", field=field)


def human(value: float | None, digits: int = 3) -> str:
    """70e9 -> '70.0B', 1.4e12 -> '1.40T', 413e6 -> '413M'; beyond 1e15 scientific."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return str(value)
    a = abs(value)
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if a >= scale:
            if a / scale >= 1000 and suffix == "T":
                return sci(value, digits)
            return _sig(value / scale, digits) + suffix
    return _sig(value, digits)


def sci(value: float | None, digits: int = 3) -> str:
    """5.76e23 -> '5.76e23' (no '+' or leading zeros in the exponent)."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return str(value)
    mant, exp = f"{value:.{digits - 1}e}".split("e")
    return f"{mant}e{int(exp)}"


def times(ratio: float) -> str:
    """A ratio as a reader takes it in: '44.5x', '7,690x' (never '7.69e+03x')."""
    return f"{ratio:,.0f}x" if ratio >= 1000 else f"{ratio:.3g}x"


def _sig(x: float, digits: int) -> str:
    if x == 0:
        return "0"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(x)))))
    out = f"{x:.{decimals}f}"
    # rounding can carry into a new digit (999.6 -> 1000): keep the width honest
    if len(out.replace("-", "").replace(".", "")) > digits + 1 and "." in out:
        out = f"{x:.{max(0, decimals - 1)}f}"
    return out


MAX_BUDGETS = 100
MAX_BUDGET_FLOPS = 1e30  # ~1e5 x the largest runs of 2024; beyond, the sketches break down
BUDGET_FORMS = (
    "start:stop:count (count budgets spaced evenly in log C from start to stop, "
    "both included; e.g. 1e18:1e20:5) or a comma list (e.g. 6e18,1e19,3e19)"
)


def parse_budgets(text: str, what: str = "budgets") -> tuple[float, ...]:
    """The budgets in `text`, ascending: start:stop:count (log-spaced, inclusive) or a
    comma list. Every problem is one InputError naming `what` and the accepted forms."""
    s = str(text).strip()
    if not s:
        raise InputError(f"empty; expected {BUDGET_FORMS}", field=what)
    if ":" in s:
        parts = [p.strip() for p in s.split(":")]
        if len(parts) != 3 or not all(parts):
            raise InputError(f"{text!r} is not a range; expected {BUDGET_FORMS}", field=what)
        start, stop = (_budget(p, text, what) for p in parts[:2])
        count = _count(parts[2], text, what)
        if count == 1:
            if start != stop:
                raise InputError(
                    f"{text!r} asks for 1 budget between two different values; give "
                    f"a count of 2 or more, or a single budget such as {parts[0]}",
                    field=what,
                )
            return (start,)
        if start == stop:
            raise InputError(f"{text!r} has start = stop; expected {BUDGET_FORMS}", field=what)
        lo, hi = min(start, stop), max(start, stop)
        ratio = math.log(hi / lo)
        values = [lo * math.exp(ratio * i / (count - 1)) for i in range(count)]
        values[0], values[-1] = lo, hi  # the endpoints exactly as typed
        return tuple(values)
    parts = [p.strip() for p in s.split(",")]
    if not all(parts):
        raise InputError(f"{text!r} has an empty item; expected {BUDGET_FORMS}", field=what)
    values = [_budget(p, text, what) for p in parts]
    if len(values) > MAX_BUDGETS:
        raise InputError(f"{len(values)} budgets; at most {MAX_BUDGETS} are allowed", field=what)
    seen: dict[float, str] = {}
    for p, v in zip(parts, values, strict=True):
        if v in seen:
            raise InputError(
                f"{text!r} lists the budget {sci(v)} twice "
                f"({seen[v]!r} and {p!r}); list each budget once",
                field=what,
            )
        seen[v] = p
    return tuple(sorted(values))


def _budget(part: str, text: str, what: str) -> float:
    try:
        value = parse_quantity(part, what)
    except InputError:
        raise InputError(
            f"{_quote(part, text)} is not a number of FLOPs (e.g. 1e18 or 6e18); "
            f"expected {BUDGET_FORMS}",
            field=what,
        ) from None
    if value <= 0:
        raise InputError(f"{_quote(part, text)} is not positive; a FLOP budget is > 0", field=what)
    if value < MIN_MAGNITUDE:
        raise InputError(f"{_quote(part, text)} is below {sci(MIN_MAGNITUDE, 1)} FLOPs", field=what)
    if value > MAX_BUDGET_FLOPS:
        raise InputError(
            f"{_quote(part, text)} is above {sci(MAX_BUDGET_FLOPS, 1)} "
            "FLOPs, beyond any run the laws or the architecture sketch describe",
            field=what,
        )
    return value


def _quote(part: str, text: str) -> str:
    return repr(part) if part.strip() == str(text).strip() else f"{part!r} in {text!r}"


def _count(part: str, text: str, what: str) -> int:
    try:
        value = parse_quantity(part, what)
    except InputError:
        value = math.nan
    if not (1 <= value <= MAX_BUDGETS and value == int(value)):  # NaN fails the first test
        raise InputError(
            f"the count {_quote(part, text)} is not a whole number from 1 to "
            f"{MAX_BUDGETS}; expected {BUDGET_FORMS}",
            field=what,
        )
    return int(value)


_P = ParamSpec("_P")
_R = TypeVar("_R")


def accepts_quantities(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """Let `function` take its numeric arguments as the command line does, as text
    ("1e23", "70B", "1.4T"): each str given for a parameter annotated int or float (not
    str) is parsed by `parse_quantity`, an InputError naming the argument if it is not a
    number; a whole number given for an int becomes an int. A list or tuple of such
    texts (e.g. budgets) is parsed item by item when the annotation holds Sequence[float]."""
    numeric: dict[str, bool] = {}  # name -> whether it is an int
    sequences: set[str] = set()
    for name, param in inspect.signature(function).parameters.items():
        note = str(param.annotation)
        kinds = {t.strip() for t in note.split("|")}
        if "str" not in kinds and kinds & {"int", "float"}:
            numeric[name] = "float" not in kinds
        elif "Sequence[float]" in kinds:
            sequences.add(name)
    names = list(inspect.signature(function).parameters)

    @functools.wraps(function)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        given = dict(zip(names, args, strict=False))
        loose: list[object] = [_coerced(n, v, numeric, sequences) for n, v in given.items()]
        loose += args[len(given) :]
        named = {n: _coerced(n, v, numeric, sequences) for n, v in kwargs.items()}
        call = typing.cast(Callable[..., _R], function)
        return call(*loose, **named)

    return wrapper


def _coerced(name: str, value: object, numeric: dict[str, bool], sequences: set[str]) -> object:
    if name in sequences:  # text ("1e19,1e20", "1e18:1e20:3") is the function's to parse
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            value = [value]  # one budget is a list of one
        if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
            return [_one(v, name, False) for v in _items(value)]
        return value
    if name in numeric:
        return _one(value, name, numeric[name])
    return value


def _items(value: Any) -> list[object]:
    return list(value.tolist() if hasattr(value, "tolist") else value)


def _one(value: object, name: str, integer: bool) -> object:
    """One number as the API takes it: text parsed as the command line parses it, a numpy
    scalar (a DataFrame's cell) as the Python number it is; a list or array refused."""
    if isinstance(value, str):
        number = parse_quantity(value, name)
        return int(number) if integer and number == int(number) else number
    if isinstance(value, bool) or value is None:
        return value  # None: not given; a bool: refused by the checks, by its own name
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, (list, tuple)) or bool(getattr(value, "ndim", False)):
        raise InputError(
            f"takes one number, got {type(value).__name__} of {len(_items(value))}; "
            "call once for each",
            field=name,
        )
    return value
