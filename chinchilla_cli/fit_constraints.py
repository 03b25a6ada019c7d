"""Constrained forms of the Approach 3 fit: parameters held fixed (E = 1.69) and pairs
tied equal (alpha = beta, A = B), for runs that cannot separate them.

A constrained fit is the same Newton iteration on an affine subspace of theta: theta =
basis @ free + offset, where each column of `basis` is one free parameter (two ones for
a tied pair) and `offset` holds the fixed values. The optimum is mapped back through that
map exactly, so tied parameters come out equal to the last bit and fixed ones as given.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from chinchilla_cli.errors import InputError
from chinchilla_cli.names import unknown
from chinchilla_cli.newton import Part
from chinchilla_cli.objective import LOG_PARAMS, PARAMS, THETA_OF, Frame, LogRuns


@dataclass(frozen=True)
class Constraints:
    """Parameters held fixed (by the law's names: E, A, B, alpha, beta) and pairs tied
    equal (alpha = beta, or A = B). Empty: the full five-parameter fit."""

    fixed: tuple[tuple[str, float], ...] = ()
    tied: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.fixed or self.tied)

    def affine(self) -> tuple[np.ndarray, np.ndarray]:
        """(basis, offset): theta = basis @ free + offset over the free parameters."""
        value = {THETA_OF[k]: (math.log(v) if k in LOG_PARAMS else v) for k, v in self.fixed}
        groups: list[list[int]] = []
        for x, y in self.tied:
            groups.append([THETA_OF[x], THETA_OF[y]])
        tied = {i for grp in groups for i in grp}
        groups += [[i] for i in range(5) if i not in tied and i not in value]
        basis = np.zeros((5, len(groups)))
        for j, grp in enumerate(groups):
            basis[grp, j] = 1.0
        offset = np.zeros(5)
        for i, v in value.items():
            offset[i] = v
        return basis, offset

    def apply(self, theta: np.ndarray) -> np.ndarray:
        """Rows of theta moved onto the constraints: fixed values set, tied pairs averaged."""
        th = np.array(theta, dtype=float, ndmin=2)
        for x, y in self.tied:
            i, j = THETA_OF[x], THETA_OF[y]
            th[:, i] = th[:, j] = 0.5 * (th[:, i] + th[:, j])
        for k, v in self.fixed:
            th[:, THETA_OF[k]] = math.log(v) if k in LOG_PARAMS else v
        return th

    def to_dict(self) -> dict[str, Any]:
        return {"fixed": dict(self.fixed), "tied": [list(t) for t in self.tied]}


TIES = (("alpha", "beta"), ("A", "B"))  # ties that mean something: like with like


def _name(text: str, what: str) -> str:
    """The parameter `text` names, without regard to case; `what` is the argument."""
    key = text.strip()
    for p in PARAMS:
        if key.lower() == p.lower():
            return p
    raise InputError(unknown("parameter", key, PARAMS), field=what)


def constraints_from(
    fix: Mapping[str, float] | Iterable[str] | None = None,
    tie: Iterable[tuple[str, str] | str] | None = None,
) -> Constraints:
    """Constraints from `fix` ({"E": 1.69} or ["E=1.69", "alpha=0.34"]) and `tie`
    ([("alpha", "beta")] or ["alpha=beta"]); InputError (field fix or tie) for unknown
    names, values that are not positive numbers, a parameter both fixed and tied, or
    nothing left to fit."""
    fixed: dict[str, float] = {}
    items: Iterable[tuple[str, Any]]
    if fix is None:
        items = ()
    elif isinstance(fix, Mapping):
        items = fix.items()
    else:
        pairs = []
        for text in fix:
            if not isinstance(text, str) or text.count("=") != 1:
                raise InputError(
                    f"{text!r} is not NAME=VALUE (for example E=1.69 or alpha=0.34)", field="fix"
                )
            key, text_value = text.split("=")
            pairs.append((key, text_value))
        items = pairs
    for k, v in items:
        name = _name(str(k), "fix")
        try:
            number = float(v)
        except (TypeError, ValueError):
            raise InputError(f"{name}={v!r}: the value is not a number", field="fix") from None
        if not (math.isfinite(number) and number > 0):
            raise InputError(f"{name}={v}: the value must be a positive number", field="fix")
        if name in fixed and fixed[name] != number:
            raise InputError(f"{name} is fixed twice, to {fixed[name]:g} and {number:g}", "fix")
        fixed[name] = number
    tied: list[tuple[str, str]] = []
    for item in tie or ():
        if isinstance(item, str):
            if item.count("=") != 1:
                raise InputError(f"{item!r} is not NAME=NAME (for example alpha=beta)", "tie")
            x, y = item.split("=")
        else:
            x, y = item
        pair = (_name(x, "tie"), _name(y, "tie"))
        canon = next((t for t in TIES if set(t) == set(pair)), None)
        if canon is None:
            raise InputError(
                f"cannot tie {pair[0]} to {pair[1]}; accepted: "
                + ", ".join("=".join(t) for t in TIES),
                field="tie",
            )
        if canon not in tied:
            tied.append(canon)
    for pair in tied:
        both = [p for p in pair if p in fixed]
        if both:
            raise InputError(
                f"{both[0]} is both fixed (`fix`) and tied (`tie` {'='.join(pair)}); "
                "fix both or tie them",
                field="tie",
            )
    free = 5 - len(fixed) - len(tied)
    if free < 1:
        raise InputError("every parameter is fixed: nothing left to fit", field="fix")
    return Constraints(tuple((k, fixed[k]) for k in PARAMS if k in fixed), tuple(tied))


@dataclass(frozen=True)
class Subspace:
    """The one-group problem on the constraints' subspace, for the Newton solver.

    theta = basis @ free + offset (`Constraints.affine`); in the solver's coordinates
    theta' = to_std @ theta = Q psi + c with Q of orthonormal columns (the trust region
    is as round in psi as in theta') and psi = `tri` @ free. The optimum goes back
    through `free`, never through the frame's inverse: a tied pair is one number and a
    fixed value is the one given."""

    part: Part
    basis: np.ndarray  # (5, P): ones only
    offset: np.ndarray  # (5,)
    tri: np.ndarray  # (P, P) upper triangular: psi = tri @ free

    def to_psi(self, thetas: np.ndarray) -> np.ndarray:
        """Free coordinates of rows of theta (projected onto the constraints' subspace)."""
        part = self.part
        th = np.atleast_2d(thetas) @ part.frame.to_std.T - part.c
        psi: np.ndarray = th @ part.q  # orthonormal columns: the transpose is the pseudo-inverse
        return psi

    def to_theta(self, psi: np.ndarray) -> np.ndarray:
        """Rows of theta at rows of psi, on the subspace exactly."""
        free = np.linalg.solve(self.tri, np.atleast_2d(psi).T).T
        theta: np.ndarray = free @ self.basis.T + self.offset
        return theta


def subspace(runs: LogRuns, constraints: Constraints | None = None) -> Subspace:
    """The one-group problem of `runs` under `constraints` (none: the full fit)."""
    fr = Frame.of(runs)
    basis, offset = (constraints or Constraints()).affine()
    q, c = fr.to_std @ basis, fr.to_std @ offset
    q_orth, tri = np.linalg.qr(q)
    # signs so that without constraints (q upper triangular) psi is theta' itself
    sign = np.where(np.diagonal(tri) < 0, -1.0, 1.0)
    q_orth *= sign
    return Subspace(Part(fr, q_orth, c), basis, offset, tri * sign[:, None])
