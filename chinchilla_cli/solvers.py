"""The 1-D solvers every module uses, in pure Python (plan must not import scipy: start-up
time). One bisection and one golden-section search; the rest are ways to call them."""

from __future__ import annotations

import math
from collections.abc import Callable

GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def boundary(pred: Callable[[float], bool], lo: float, hi: float, iterations: int = 200) -> float:
    """Where `pred` turns from true (at lo) to false (at hi), by bisection to float
    resolution. If it never turns, the end it runs towards."""
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if pred(mid):
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def bisect(f: Callable[[float], float], lo: float, hi: float) -> float:
    """A root of f in [lo, hi], where f(lo) and f(hi) differ in sign."""
    positive_at_lo = f(lo) > 0
    return boundary(lambda x: (f(x) > 0) == positive_at_lo, lo, hi)


def solve_increasing(
    f: Callable[[float], float], target: float, lo: float = 1.0, hi: float = 1e40
) -> float:
    """x in [lo, hi] with f(x) = target for an increasing f, bisecting in log x (the
    quantities span tens of decades)."""
    return math.exp(boundary(lambda u: f(math.exp(u)) < target, math.log(lo), math.log(hi)))


def golden_min(f: Callable[[float], float], lo: float, hi: float, tol: float = 1e-10) -> float:
    """The minimiser of a unimodal f on [lo, hi] by golden-section search."""
    a, b = lo, hi
    c, d = b - GOLDEN * (b - a), a + GOLDEN * (b - a)
    fc, fd = f(c), f(d)
    while b - a > tol * max(1.0, abs(a) + abs(b)):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - GOLDEN * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + GOLDEN * (b - a)
            fd = f(d)
    return 0.5 * (a + b)
