"""The objective of Approach 3 and its derivatives (Hoffmann et al. 2022, appendix D.2).

Over theta = (a, b, e, alpha, beta) with A = e^a, B = e^b, E = e^e, the objective is the
SUM over runs of Huber_delta(LSE(a - alpha log N, b - beta log D, e) - log L), delta =
1e-3 (a mean instead of the sum lets L-BFGS stop at once; Besiroglu et al. 2024). Here
it is written twice: plainly (`objective`, `objective_many`: the reference and the
screen of the grid), and for the Newton solver as objective / delta in standardised
coordinates (`Frame`), with its analytic gradient and Hessian for many starts at once
(`scaled_value`, `scaled_derivatives`), in float32 or float64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from chinchilla_cli.fit_defaults import HUBER_DELTA
from chinchilla_cli.laws import ParametricLaw

THETA = ("a", "b", "e", "alpha", "beta")  # the optimiser's coordinates, in this order
PARAMS = ("E", "A", "B", "alpha", "beta")  # the law's parameters, as users name them
THETA_OF = {"E": 2, "A": 0, "B": 1, "alpha": 3, "beta": 4}  # each parameter's theta index
LOG_PARAMS = ("E", "A", "B")  # fitted through their logarithm
SCREEN_CELLS = 8_000_000 // 8  # starts x runs evaluated at once (~8 MB per array)


@dataclass(frozen=True)
class LogRuns:
    """Runs in the log space the objective works in, with optional bootstrap weights."""

    log_params: np.ndarray
    log_tokens: np.ndarray
    log_loss: np.ndarray
    weights: np.ndarray | None = None

    @classmethod
    def of(cls, params: np.ndarray, tokens: np.ndarray, loss: np.ndarray) -> LogRuns:
        return cls(np.log(params), np.log(tokens), np.log(loss))

    def subset(self, idx: np.ndarray) -> LogRuns:
        w = None if self.weights is None else self.weights[idx]
        return LogRuns(self.log_params[idx], self.log_tokens[idx], self.log_loss[idx], w)

    def reweighted(self, weights: np.ndarray) -> LogRuns:
        return LogRuns(self.log_params, self.log_tokens, self.log_loss, weights)


class RunsLike(Protocol):
    """Anything with arrays of parameters, tokens and final losses (`runs.Runs`)."""

    @property
    def params(self) -> np.ndarray: ...
    @property
    def tokens(self) -> np.ndarray: ...
    @property
    def loss(self) -> np.ndarray: ...


def as_log_runs(runs: LogRuns | RunsLike) -> LogRuns:
    """LogRuns as they are; a table of runs (`runs.Runs` or alike) in log space."""
    if isinstance(runs, LogRuns):
        return runs
    return LogRuns.of(
        np.asarray(runs.params, float), np.asarray(runs.tokens, float), np.asarray(runs.loss, float)
    )


def objective(
    theta: np.ndarray, runs: LogRuns, delta: float = HUBER_DELTA
) -> tuple[float, np.ndarray]:
    """Sum of Huber losses of log-loss residuals, and its gradient in theta."""
    a, b, e, alpha, beta = theta
    t1 = a - alpha * runs.log_params
    t2 = b - beta * runs.log_tokens
    m = np.maximum(np.maximum(t1, t2), e)
    x1, x2, x3 = np.exp(t1 - m), np.exp(t2 - m), np.exp(e - m)
    s = x1 + x2 + x3
    r = m + np.log(s) - runs.log_loss
    c = np.clip(r, -delta, delta)  # Huber'(r)
    h = c * (r - 0.5 * c)  # 0.5 r^2 inside, delta (|r| - delta/2) outside
    g = c / s
    if runs.weights is not None:
        h = h * runs.weights
        g = g * runs.weights
    g1, g2 = g * x1, g * x2
    grad = np.array(
        [g1.sum(), g2.sum(), (g * x3).sum(), -(g1 @ runs.log_params), -(g2 @ runs.log_tokens)]
    )
    return float(h.sum()), grad


def objective_many(thetas: np.ndarray, runs: LogRuns, delta: float = HUBER_DELTA) -> np.ndarray:
    """The objective at many points at once (no gradient), in memory-bounded chunks."""
    out = np.empty(len(thetas))
    n = len(runs.log_loss)
    step = max(1, SCREEN_CELLS // max(n, 1))
    lp, lt, ll = runs.log_params[None, :], runs.log_tokens[None, :], runs.log_loss[None, :]
    for i in range(0, len(thetas), step):
        th = thetas[i : i + step]
        t1 = th[:, 0:1] - th[:, 3:4] * lp
        t2 = th[:, 1:2] - th[:, 4:5] * lt
        t3 = th[:, 2:3]
        m = np.maximum(np.maximum(t1, t2), t3)  # shifted log-sum-exp: 3 exps, 1 log
        r = m + np.log(np.exp(t1 - m) + np.exp(t2 - m) + np.exp(t3 - m)) - ll
        c = np.clip(r, -delta, delta)
        h = c * (r - 0.5 * c)
        out[i : i + step] = (h if runs.weights is None else h * runs.weights).sum(axis=1)
    return out


def law_from_theta(theta: np.ndarray, name: str = "fit", source: str = "") -> ParametricLaw:
    """The law at a point theta = (a, b, e, alpha, beta)."""
    a, b, e, alpha, beta = map(float, theta)
    return ParametricLaw(name, math.exp(e), math.exp(a), math.exp(b), alpha, beta, source)


# ---- the objective / delta in standardised coordinates, for the Newton solver ----------


@dataclass(frozen=True)
class Frame:
    """One group of runs in standardised coordinates, where Newton's trust region is round.

    With z = (log N - mean) / sd, t1 = a - alpha log N = a' - alpha' z for a' = a - alpha
    mean and alpha' = alpha sd (likewise b, beta with log D): the same objective, but a
    and alpha no longer move together along a thin valley, so a step of 1 means about
    as much in every coordinate.
    """

    zp: np.ndarray
    zt: np.ndarray
    log_loss: np.ndarray
    weights: np.ndarray | None
    to_std: np.ndarray  # theta' = to_std @ theta (5 x 5)
    # (4, 2n): [t1 | t2] = (a', b', alpha', beta') @ exponents, both terms in one product
    exponents: np.ndarray
    cols_p: np.ndarray  # (n, 3): 1, zp, zp^2 -- the row sums the N term's entries need
    cols_t: np.ndarray  # (n, 3): 1, zt, zt^2
    cols_pt: np.ndarray  # (n, 4): 1, zp, zt, zp zt -- the cross terms'

    @classmethod
    def of(cls, runs: LogRuns) -> Frame:
        lp, lt = runs.log_params, runs.log_tokens
        mp, mt = float(lp.mean()), float(lt.mean())
        sp, st = float(lp.std()) or 1.0, float(lt.std()) or 1.0
        zp, zt = (lp - mp) / sp, (lt - mt) / st
        m = np.eye(5)
        m[0, 3], m[1, 4], m[3, 3], m[4, 4] = -mp, -mt, sp, st
        n = len(zp)
        ex = np.zeros((4, 2 * n))
        ex[0, :n], ex[1, n:], ex[2, :n], ex[3, n:] = 1.0, 1.0, -zp, -zt
        one = np.ones_like(zp)
        return cls(
            zp,
            zt,
            runs.log_loss,
            runs.weights,
            m,
            ex,
            np.column_stack([one, zp, zp * zp]),
            np.column_stack([one, zt, zt * zt]),
            np.column_stack([one, zp, zt, zp * zt]),
        )

    def astype(self, dtype: type[np.floating[Any]]) -> Frame:
        """The runs' arrays in another precision (the coordinates' map stays float64)."""
        w = None if self.weights is None else self.weights.astype(dtype)
        return replace(
            self,
            zp=self.zp.astype(dtype),
            zt=self.zt.astype(dtype),
            log_loss=self.log_loss.astype(dtype),
            weights=w,
            exponents=self.exponents.astype(dtype),
            cols_p=self.cols_p.astype(dtype),
            cols_t=self.cols_t.astype(dtype),
            cols_pt=self.cols_pt.astype(dtype),
        )


_Cache = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def scaled_value(
    th: np.ndarray, fr: Frame, delta: float, w: np.ndarray | None
) -> tuple[np.ndarray, _Cache]:
    """Objective / delta at rows th (standardised theta), and what its derivatives reuse.

    L = e^t1 + e^t2 + E needs two exponentials per cell, not the three of a shifted
    log-sum-exp: E is one number per start; t1 and t2 come from one matrix product and
    go through one call of exp. Overflow (a wild trial step) gives an infinite objective,
    which the trust region rejects. Computed in the frame's precision."""
    n = len(fr.log_loss)
    th = th.astype(fr.zp.dtype, copy=False)
    x = th[:, [0, 1, 3, 4]] @ fr.exponents  # t1 | t2
    np.exp(x, out=x)
    s = np.add(x[:, :n], x[:, n:])
    s += np.exp(th[:, 2:3])
    r = np.log(s)
    r -= fr.log_loss
    c = np.clip(r, -delta, delta)  # Huber'(r)
    wc = c if w is None else c * w
    # sum Huber(r) = sum c (r - c / 2): two fused multiply-sums instead of four passes
    f = (np.einsum("ij,ij->i", wc, r) - 0.5 * np.einsum("ij,ij->i", wc, c)).astype(float)
    f /= delta
    f[~np.isfinite(f)] = np.inf
    return f, (x, s, r, c)


# where each of the Hessian's 25 entries sits among the 15 distinct ones `scaled_derivatives`
# computes, in the order (0,0) (0,1) (0,2) (0,3) (0,4) (1,1) (1,2) ... (4,4)
_UPPER = [(i, j) for i in range(5) for j in range(i, 5)]
_SYMMETRIC = np.array([_UPPER.index((min(i, j), max(i, j))) for i in range(5) for j in range(5)])


def scaled_derivatives(
    cache: _Cache, fr: Frame, delta: float, w: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian of objective / delta in standardised theta, from `scaled_value`
    (whose arrays it overwrites).

    With p = softmax(t1, t2, e) and dr/dtheta' = (p1, p2, p3, -zp p1, -zt p2), the Hessian
    is sum Huber''(r) dr dr^T + Huber'(r) d2r, where d2r is diag(p) - p p^T in (t1, t2, e).
    Every entry is a row sum of a product of p1, p2 (p3 = 1 - p1 - p2 needs no array of
    its own) with 1, zp, zt and their products: four matrix products in all, each over
    a stack of the arrays that share its columns."""
    x, s, r, c = cache
    k, n = r.shape
    p = x.reshape(k, 2, n)
    p *= np.reciprocal(s, out=s)[:, None, :]  # p1, p2
    # Huber'(r) / delta and Huber''(r) / delta - Huber'(r) / delta, side by side
    cdd = np.empty((2, k, n), dtype=r.dtype)
    cd, dd = cdd
    np.multiply(c, 1.0 / delta, out=cd)
    np.multiply(c == r, 1.0 / delta, out=dd)  # inside the Huber's quadratic part
    if w is not None:
        cd *= w
        dd *= w
    dd -= cd
    stack = np.empty((2, 3, k, n), dtype=r.dtype)  # per term: cd p, dd p, dd p^2
    pt = p.transpose(1, 0, 2)
    np.multiply(pt, cd, out=stack[:, 0])
    np.multiply(pt, dd, out=stack[:, 1])
    np.multiply(stack[:, 1], pt, out=stack[:, 2])
    s12 = (np.multiply(stack[0, 1], p[:, 1]) @ fr.cols_pt).astype(float)  # dd p1 p2
    m1 = (stack[0].reshape(3 * k, n) @ fr.cols_p).astype(float).reshape(3, k, 3)
    m2 = (stack[1].reshape(3 * k, n) @ fr.cols_t).astype(float).reshape(3, k, 3)
    scd, sd = (cdd.reshape(2 * k, n) @ fr.cols_p[:, 0]).astype(float).reshape(2, k)
    (u1, sd1, s11), (u2, sd2, s22) = m1, m2  # against 1, z, z^2
    su3 = scd - u1[:, 0] - u2[:, 0]  # sum cd p3
    s13 = sd1[:, :2] - s11[:, :2] - s12[:, :2]  # dd p1 p3 against 1, zp
    s23 = sd2[:, :2] - s22[:, :2] - s12[:, [0, 2]]  # dd p2 p3 against 1, zt
    s33 = sd - sd1[:, 0] - sd2[:, 0] - s13[:, 0] - s23[:, 0]  # dd p3^2
    g = np.column_stack([u1[:, 0], u2[:, 0], su3, -u1[:, 1], -u2[:, 1]])
    upper = np.column_stack(  # the entries (i, j), i <= j, in the order of _UPPER
        [
            s11[:, 0] + u1[:, 0],
            s12[:, 0],
            s13[:, 0],
            -(s11[:, 1] + u1[:, 1]),
            -s12[:, 2],
            s22[:, 0] + u2[:, 0],
            s23[:, 0],
            -s12[:, 1],
            -(s22[:, 1] + u2[:, 1]),
            s33 + su3,
            -s13[:, 1],
            -s23[:, 1],
            s11[:, 2] + u1[:, 2],
            s12[:, 3],
            s22[:, 2] + u2[:, 2],
        ]
    )
    return g, upper[:, _SYMMETRIC].reshape(k, 5, 5)
