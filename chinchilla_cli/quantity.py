"""Parse and print the numbers users type: 5.76e23, 70B, 1.4T, 400M, 2k."""

from __future__ import annotations

import math
import re

from chinchilla_cli.errors import InputError

_SUFFIXES = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12, "p": 1e15}
_NUMBER = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)([kmbgtp]?)$", re.IGNORECASE)
ACCEPTED = "a number such as 5.76e23, 1e24, 70B, 400M, 1.4T or 2k"


def parse_quantity(text: str, what: str = "value") -> float:
    """Parse `text` as a finite number with an optional k/M/B/G/T/P suffix.

    Raises InputError naming `what` (an option such as "--flops") when it is not one.
    """
    s = str(text).strip().replace("_", "").replace(",", "")
    m = _NUMBER.match(s)
    if not m:
        raise InputError(f"{what}: {text!r} is not a number; expected {ACCEPTED}")
    value = float(m.group(1)) * _SUFFIXES.get(m.group(2).lower(), 1.0)
    if not math.isfinite(value):
        raise InputError(f"{what}: {text!r} is not finite; expected {ACCEPTED}")
    return value


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
    mant, exp = f"{value:.{digits - 1}e}".split("e")
    return f"{mant}e{int(exp)}"


def _sig(x: float, digits: int) -> str:
    if x == 0:
        return "0"
    decimals = max(0, digits - 1 - int(math.floor(math.log10(abs(x)))))
    out = f"{x:.{decimals}f}"
    # rounding can carry into a new digit (999.6 -> 1000): keep the width honest
    if len(out.replace("-", "").replace(".", "")) > digits + 1 and "." in out:
        out = f"{x:.{max(0, decimals - 1)}f}"
    return out


def parse_budgets(text: str, what: str) -> list[float]:
    """`START:STOP:COUNT` (COUNT values spaced evenly in log, both ends included) or a
    comma-separated list of values."""
    accepted = "START:STOP:COUNT (e.g. 1e21:1e26:6) or a comma list (e.g. 6e18,1e19,3e19)"
    s = str(text).strip()
    if ":" in s:
        parts = s.split(":")
        if len(parts) != 3:
            raise InputError(f"{what}: {text!r} is not a range; expected {accepted}")
        start, stop = (parse_quantity(p, what) for p in parts[:2])
        try:
            count = int(parts[2])
        except ValueError:
            raise InputError(f"{what}: count {parts[2]!r} is not a whole number; expected {accepted}") from None
        if count < 1 or count > 10_000:
            raise InputError(f"{what}: count {count} is out of range; expected 1 to 10000")
        if start <= 0 or stop <= 0:
            raise InputError(f"{what}: budgets must be positive; expected {accepted}")
        if count == 1:
            return [start]
        step = (math.log(stop) - math.log(start)) / (count - 1)
        return [math.exp(math.log(start) + i * step) for i in range(count - 1)] + [stop]
    values = [parse_quantity(p, what) for p in s.split(",") if p.strip()] if s else []
    if not values:
        raise InputError(f"{what}: no budgets in {text!r}; expected {accepted}")
    if any(v <= 0 for v in values):
        raise InputError(f"{what}: budgets must be positive; expected {accepted}")
    return values
