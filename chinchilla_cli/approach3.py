"""Approach 3 of Hoffmann et al. 2022: fit L(N, D) = E + A/N^alpha + B/D^beta.

The paper's recipe (appendix D.2): over theta = (a, b, e, alpha, beta) with A = e^a,
B = e^b, E = e^e, minimise the SUM over runs of Huber_delta(LSE(a - alpha log N,
b - beta log D, e) - log L) with delta = 1e-3, by L-BFGS from every start of a 4,500-point
grid, and keep the best. (A mean instead of the sum lets L-BFGS stop at once; Besiroglu
et al. 2024.)

The local optimiser here is a trust-region Newton method run on many starts at once:
every start is a row of a few arrays, each iteration is one numpy pass over
starts x runs (value, analytic gradient and Hessian), and converged starts leave the batch.
Newton on the 5-parameter problem needs no scipy, and on the objective divided by delta
(same minimiser, scale-free) it converges to the bottom: its gradient test is absolute.
The descent runs in float32 (a third of the cost of float64's exponentials and
logarithms) and converges in float64; float64 also carries a start across the plateaus
whose progress float32 cannot see, and hands it back once it can (`_minimise`).

Two ways to use the grid:
- screened (the default): evaluate the objective at every start in one vectorised pass
  and polish only the promising starts -- the best few overall plus the best of each
  of the most promising (alpha, beta) pairs, so no region of exponent space is skipped;
- exhaustive: every start run to convergence, as the recipe reads, with a census of the
  distinct optima the grid reached (a multi-modality diagnostic).
Because each polish converges fully, a bootstrap refit warm-started from the full fit's
optimum lands where a full 4,500-start refit does (tests check both).

Constrained forms: some parameters fixed (E = 1.69), exponents tied (alpha = beta) --
the fit over the rest, for runs that cannot separate them -- and one E shared by
several groups of runs (`fit_shared_e`). All are the same Newton iteration on an affine
subspace of the parameters.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from chinchilla_cli.errors import FitError, InputError
from chinchilla_cli.fit_defaults import HUBER_DELTA  # noqa: E402
from chinchilla_cli.laws import ParametricLaw

GRID_AXES = {  # Hoffmann et al. 2022, appendix D.2
    "a": tuple(np.arange(0.0, 25.1, 5.0)),
    "b": tuple(np.arange(0.0, 25.1, 5.0)),
    "e": tuple(np.arange(-1.0, 1.01, 0.5)),
    "alpha": tuple(np.arange(0.0, 2.01, 0.5)),
    "beta": tuple(np.arange(0.0, 2.01, 0.5)),
}
THETA = ("a", "b", "e", "alpha", "beta")  # the optimiser's coordinates, in this order
PARAMS = ("E", "A", "B", "alpha", "beta")  # the law's parameters, as users name them
THETA_OF = {"E": 2, "A": 0, "B": 1, "alpha": 3, "beta": 4}  # each parameter's theta index
LOG_PARAMS = ("E", "A", "B")  # fitted through their logarithm
SCREEN_ROWS = 4096  # rank starts on at most this many runs; polish on all of them
SCREEN_CELLS = 50_000_000 // 8  # starts x runs evaluated at once (~50 MB per array)
CHUNK_CELLS = 32_768  # starts x runs per Newton pass (see `_chunk`)
GTOL = 1e-9  # converged: every gradient component of objective/delta below this
MAX_ITER = 500  # Newton iterations per start, precision and round; slower: not converged
MIN_EXPONENT = 1e-6  # alpha or beta below this: the term is a constant, the law degenerate
SAME_OPTIMUM = 1e-7  # optima whose objectives agree to this (relative) are one
N_BEST, N_PAIRS = 4, 12  # screened starts: best overall, best of the best (alpha, beta) pairs


def paper_grid() -> np.ndarray:
    """The 4,500 starts, columns (a, b, e, alpha, beta)."""
    ax = GRID_AXES
    return np.array(list(itertools.product(ax["a"], ax["b"], ax["e"], ax["alpha"], ax["beta"])))


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


# ---- the batched Newton iteration ----------------------------------------------------


@dataclass(frozen=True)
class _Frame:
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
    def of(cls, runs: LogRuns) -> _Frame:
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

    def astype(self, dtype: type[np.floating[Any]]) -> _Frame:
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


@dataclass(frozen=True)
class _Part:
    """A frame and where its theta' sits in the free parameters psi: theta' = Q psi + c."""

    frame: _Frame
    q: np.ndarray  # (5, P)
    c: np.ndarray  # (5,)

    @property
    def plain(self) -> bool:
        """psi is theta' itself (no constraints): the derivatives need no mapping."""
        return self.q.shape == (5, 5) and bool(np.array_equal(self.q, np.eye(5)))


_Cache = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _value(
    th: np.ndarray, fr: _Frame, delta: float, w: np.ndarray | None
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


# where each of the Hessian's 25 entries sits among the 15 distinct ones `_derivatives`
# computes, in the order (0,0) (0,1) (0,2) (0,3) (0,4) (1,1) (1,2) ... (4,4)
_UPPER = [(i, j) for i in range(5) for j in range(i, 5)]
_SYMMETRIC = np.array([_UPPER.index((min(i, j), max(i, j))) for i in range(5) for j in range(5)])


def _derivatives(
    cache: _Cache, fr: _Frame, delta: float, w: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Gradient and Hessian of objective / delta in standardised theta, from `_value`
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


def _chunk(fr: _Frame) -> int:
    """Starts per chunk: enough that numpy's per-call cost is small beside the work, few
    enough that a chunk's arrays stay in the processor's cache."""
    return max(1, CHUNK_CELLS // max(len(fr.log_loss), 1))


def _evaluate(
    psi: np.ndarray,
    parts: Sequence[_Part],
    delta: float,
    row_weights: np.ndarray | None,
    derivatives: bool,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Objective / delta (and gradient, Hessian in psi) at rows psi, over every part,
    in chunks of starts."""
    n_starts, n_free = psi.shape
    f = np.zeros(n_starts)
    g = np.zeros((n_starts, n_free)) if derivatives else None
    hess = np.zeros((n_starts, n_free, n_free)) if derivatives else None
    for part in parts:
        fr = part.frame
        th = psi @ part.q.T + part.c
        step = _chunk(fr)
        for i in range(0, n_starts, step):
            rows = slice(i, i + step)
            w = fr.weights if row_weights is None else row_weights[rows]
            if row_weights is not None and fr.weights is not None:  # a part picks its runs
                w = w * fr.weights
            fv, cache = _value(th[rows], fr, delta, w)
            f[rows] += fv
            if g is not None and hess is not None:
                gt, ht = _derivatives(cache, fr, delta, w)
                if not part.plain:
                    gt, ht = gt @ part.q, part.q.T @ ht @ part.q
                g[rows] += gt
                hess[rows] += ht
    return f, g, hess


def _trial(
    psi: np.ndarray,
    part: _Part,
    delta: float,
    row_weights: np.ndarray | None,
    f_now: np.ndarray,
    predicted: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Trial points of one part: objective, whether each step is accepted (the decrease
    is more than 1e-4 of the predicted one), and gradient and Hessian of the accepted
    rows, in their order. Deciding within each chunk lets the derivatives reuse its
    exponentials, copied out for the accepted rows unless all are (a copy costs a tenth
    of the derivatives of a row)."""
    n_starts, n_free = psi.shape
    f = np.empty(n_starts)
    ok = np.zeros(n_starts, dtype=bool)
    gs: list[np.ndarray] = []
    hs: list[np.ndarray] = []
    fr = part.frame
    th = psi @ part.q.T + part.c
    step = _chunk(fr)
    for i in range(0, n_starts, step):
        rows = slice(i, i + step)
        w = fr.weights if row_weights is None else row_weights[rows]
        fv, cache = _value(th[rows], fr, delta, w)
        f[rows] = fv
        good = ((f_now[rows] - fv) > 1e-4 * predicted[rows]) & np.isfinite(fv)
        ok[rows] = good
        n_good = int(np.count_nonzero(good))
        if n_good == 0:
            continue
        if n_good < len(good):
            cache = (cache[0][good], cache[1][good], cache[2][good], cache[3][good])
            if row_weights is not None and w is not None:
                w = w[good]
        gt, ht = _derivatives(cache, fr, delta, w)
        gs.append(gt)
        hs.append(ht)
    if not gs:
        return f, ok, np.empty((0, n_free)), np.empty((0, n_free, n_free))
    g, hess = np.concatenate(gs), np.concatenate(hs)
    if not part.plain:
        g, hess = g @ part.q, part.q.T @ hess @ part.q
    return f, ok, g, hess


def _trust_step(
    g: np.ndarray, lam: np.ndarray, vec: np.ndarray, radius: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Step, predicted decrease, step length and Newton decrement g^T |H|^-1 g (about
    twice what an unbounded step could still gain) of a saddle-free trust-region step.

    In the Hessian's eigenbasis the step is -g_i / (|lambda_i| + mu), the smallest mu >= 0
    keeping it within the radius (Newton's method on the secular equation, as Moré and
    Sorensen). |lambda| rather than lambda turns negative curvature into descent instead
    of attraction to a saddle; the predicted decrease uses the true Hessian, whose
    eigen-decomposition (lam, vec) the caller keeps while the point stays."""
    ones = np.ones(lam.shape[1])  # row sums as matrix-vector products: numpy's reductions
    gv = np.einsum("si,sij->sj", g, vec)  # along a short axis cost several times more
    alam = np.abs(lam)
    curv = alam + 1e-12 * (1.0 + alam.max(axis=1, keepdims=True))
    mu = np.zeros(len(g))
    s0 = gv / curv
    length = np.sqrt((s0 * s0) @ ones)
    over = np.flatnonzero(length > radius)
    # |s(mu)| >= |g| / (max curvature + mu): a lower bound on mu to start from, as
    # Newton's steps on 1/|s(mu)| = 1/radius rise monotonically to the root from below
    gvo, co, ro = gv[over], curv[over], radius[over]
    m = np.maximum(np.sqrt((gvo * gvo) @ ones) / ro - co.max(axis=1), 0.0)
    for _ in range(8):  # 1/|s(mu)| is nearly linear in mu: a few steps suffice
        if len(over) == 0:
            break
        inv = 1.0 / (co + m[:, None])
        s2 = gvo * inv
        s2 *= s2
        sq = s2 @ ones
        off = np.sqrt(sq) / ro - 1.0
        m = np.maximum(m + off * sq / ((s2 * inv) @ ones), 0.0)
        mu[over] = m
        going = np.abs(off) > 1e-9  # the rest are at the radius: they stop here
        if not going.all():
            over, gvo, co, ro, m = over[going], gvo[going], co[going], ro[going], m[going]
    sv = -gv / (curv + mu[:, None])
    step = np.einsum("sij,sj->si", vec, sv)
    svgv = sv * gv
    predicted = -(svgv @ ones) - 0.5 * ((lam * sv * sv) @ ones)
    decrement = (gv * s0) @ ones  # g^T |H|^-1 g
    return step, predicted, np.sqrt((sv * sv) @ ones), decrement


@dataclass(frozen=True)
class _Minima:
    psi: np.ndarray  # (S, P)
    f: np.ndarray  # objective / delta
    converged: np.ndarray  # bool
    iterations: np.ndarray  # int
    radius: np.ndarray  # the trust radius each start ended with
    resume: np.ndarray  # bool: progress float32 can show again (`_newton`'s `resume`)


@dataclass(frozen=True)
class _Stop:
    """When a start is finished: its gradient below `gtol`; or the gain a Newton step
    promises below `decrement` (relative to the objective); or the objective improving
    by less than `stall` (relative) over STALL_WINDOW iterations -- a degenerate optimum
    at infinity, such as E -> 0 with a flat A/N^alpha taking its place, whose parameters
    drift for thousands of iterations while the objective has long stopped changing.
    A radius below `radius` means the start is stuck (not converged)."""

    gtol: float
    decrement: float
    stall: float
    radius: float


STALL_WINDOW = 30
PRECISE = _Stop(GTOL, 1e-14, 1e-12, 1e-14)
# float32 runs until its rounding (~1e-7) hides further progress, then float64 takes over
COARSE = _Stop(0.0, 1e-6, 1e-6, 1e-7)
# a float64 step gaining this much (relative) is progress float32 shows: back to float32
RESUME = 1e-4
ROUNDS = 4  # float32 -> float64 hand-overs per start at most; the last runs to the end


def _minimise(
    psi0: np.ndarray,
    parts: Sequence[_Part],
    delta: float,
    row_weights: np.ndarray | None = None,
    max_iter: int = MAX_ITER,
) -> _Minima:
    """Trust-region Newton from every row of psi0 at once, each row to convergence.

    Most iterations are spent far from any optimum, where float32 is as good as float64
    and its exponentials and logarithms cost a third: the starts descend in float32
    until rounding hides further progress, then go on in float64 -- to convergence (a few
    Newton steps from there), so the optima and objectives are float64's; or, for a start
    that float32 left on a plateau (an exponentially small term growing by a factor e per
    iteration, its gain invisible in float32), until its steps gain enough for float32
    to show, and back to float32 with its trust radius."""
    single = [replace(p, frame=p.frame.astype(np.float32)) for p in parts]
    rw32 = None if row_weights is None else row_weights.astype(np.float32)
    n = len(psi0)
    psi, f = np.array(psi0, dtype=float), np.full(n, np.inf)
    converged, resume = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    iterations, radius = np.zeros(n, dtype=int), np.ones(n)
    todo = np.arange(n)
    for k in range(ROUNDS):
        w32 = None if rw32 is None else rw32[todo]
        w64 = None if row_weights is None else row_weights[todo]
        coarse = _newton(psi[todo], single, delta, w32, max_iter, COARSE, radius[todo])
        last = k == ROUNDS - 1
        # float64 starts afresh: float32 may have shrunk the radius to nothing in rounding
        up = 0.0 if last else RESUME
        fine = _newton(coarse.psi, parts, delta, w64, max_iter, PRECISE, None, up)
        psi[todo], f[todo], converged[todo] = fine.psi, fine.f, fine.converged
        iterations[todo] += coarse.iterations + fine.iterations
        radius[todo], resume[todo] = fine.radius, fine.resume
        todo = todo[fine.resume]
        if len(todo) == 0:
            break
    return _Minima(psi, f, converged, iterations, radius, resume)


def _newton(
    psi0: np.ndarray,
    parts: Sequence[_Part],
    delta: float,
    row_weights: np.ndarray | None,
    max_iter: int,
    stop: _Stop,
    radius0: np.ndarray | None = None,
    resume: float = 0.0,
) -> _Minima:
    """The iteration of `_minimise` in the precision of the parts' arrays.

    Each iteration evaluates every unfinished start at its trial point (objective only;
    gradient and Hessian only where the step is accepted), and finished starts -- the
    gradient below `stop.gtol`, or a Newton step's gain too small for the precision to
    show -- leave the batch; so do (with `resume` > 0) starts whose accepted step gained
    more than `resume` (relative), flagged in the result's `resume`.

    The unfinished starts' state lives in arrays of their own, compacted only once a
    good part of them has finished: copying every start's eigenvectors each iteration
    cost as much as the trust-region steps."""
    psi = np.array(psi0, dtype=float)
    n = len(psi)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        f, g, hess = _evaluate(psi, parts, delta, row_weights, True)
    assert g is not None and hess is not None
    radius = np.ones(n) if radius0 is None else np.array(radius0, dtype=float)
    iterations = np.zeros(n, dtype=int)
    converged = np.abs(g).max(axis=1) <= stop.gtol
    back = np.zeros(n, dtype=bool)
    rows: np.ndarray = np.flatnonzero(~converged & np.isfinite(f))  # each compact row's start
    x, fx, gx, rx = psi[rows], f[rows], g[rows], radius[rows]
    its, f_ref = np.zeros(len(rows), dtype=int), fx.copy()  # f_ref: STALL_WINDOW ago
    wx = None if row_weights is None else row_weights[rows]
    lam, vec = np.linalg.eigh(hess[rows])
    live = np.ones(len(rows), dtype=bool)
    for _ in range(max_iter):
        if not live.any():
            break
        if 4 * np.count_nonzero(live) < 3 * len(live):  # a quarter finished: compact
            rows, x, fx, gx, rx, its, f_ref = (a[live] for a in (rows, x, fx, gx, rx, its, f_ref))
            lam, vec = lam[live], vec[live]
            wx = None if wx is None else wx[live]
            live = np.ones(len(rows), dtype=bool)
        sel = np.flatnonzero(live)
        step, predicted, length, decrement = (a[sel] for a in _trust_step(gx, lam, vec, rx))
        trial, f_now = x[sel] + step, fx[sel]
        rw = None if wx is None else wx[sel]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if len(parts) == 1:
                ft, ok, gt, ht = _trial(trial, parts[0], delta, rw, f_now, predicted)
            else:  # the objective sums the parts: accept only once all are evaluated
                ft, _, _ = _evaluate(trial, parts, delta, rw, False)
                ok = ((f_now - ft) > 1e-4 * predicted) & np.isfinite(ft)
                rw = None if rw is None else rw[ok]
                _, g_ok, h_ok = _evaluate(trial[ok], parts, delta, rw, True)
                assert g_ok is not None and h_ok is not None
                gt, ht = g_ok, h_ok
        rho = (f_now - ft) / np.maximum(predicted, 1e-300)
        acc = sel[ok]
        if len(acc):
            x[acc], fx[acc], gx[acc] = trial[ok], ft[ok], gt
            lam[acc], vec[acc] = np.linalg.eigh(ht)
        # radius: a quarter of a poor step; three times one that was good and hit it
        r = rx[sel]
        grow = (rho > 0.75) & (length > 0.99 * r)
        rx[sel] = np.minimum(np.where(rho < 0.25, 0.25 * length, np.where(grow, 3 * r, r)), 1e3)
        its[sel] += 1
        small = np.abs(gx[sel]).max(axis=1) <= stop.gtol
        flat = ~ok & (decrement <= stop.decrement * np.maximum(f_now, 1.0))
        stuck = rx[sel] < stop.radius
        due = its[sel] % STALL_WINDOW == 0
        f_new = fx[sel]
        stalled = due & (f_ref[sel] - f_new <= stop.stall * np.maximum(np.abs(f_new), 1.0))
        f_ref[sel[due]] = f_new[due]
        done = small | flat | stalled | stuck
        if resume > 0.0:
            up = ok & ~done & (f_now - ft > resume * np.maximum(f_now, 1.0))
            back[rows[sel[up]]] = True
            done |= up
        if done.any():
            fin = sel[done]
            live[fin] = False
            at = rows[fin]
            converged[at] = (small | flat | stalled)[done]
            psi[at], f[at], radius[at], iterations[at] = x[fin], fx[fin], rx[fin], its[fin]
    at = rows[live]  # still running after max_iter: not converged
    psi[at], f[at], radius[at], iterations[at] = x[live], fx[live], rx[live], its[live]
    return _Minima(psi, f, converged, iterations, radius, back)


def _single(runs: LogRuns, constraints: Constraints | None = None) -> _Part:
    """The one-group problem: theta' = Q psi + c on the constraints' subspace."""
    fr = _Frame.of(runs)
    basis, offset = (constraints or Constraints()).affine()
    q, c = fr.to_std @ basis, fr.to_std @ offset
    # orthonormal columns: the trust region is as round in psi as in theta'; signs so
    # that without constraints (q upper triangular) psi is theta' itself
    q_orth, tri = np.linalg.qr(q)
    q_orth *= np.where(np.diagonal(tri) < 0, -1.0, 1.0)
    return _Part(fr, q_orth, c)


def _to_psi(thetas: np.ndarray, part: _Part) -> np.ndarray:
    """Free coordinates of rows of theta (projected onto the constraints' subspace)."""
    th = np.atleast_2d(thetas) @ part.frame.to_std.T - part.c
    psi: np.ndarray = th @ part.q  # q has orthonormal columns: its transpose is its pseudo-inverse
    return psi


def _to_theta(psi: np.ndarray, part: _Part) -> np.ndarray:
    th = psi @ part.q.T + part.c
    theta: np.ndarray = np.linalg.solve(part.frame.to_std, th.T).T
    return theta


# ---- constraints ---------------------------------------------------------------------


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
    key = text.strip()
    for p in PARAMS:
        if key.lower() == p.lower():
            return p
    raise InputError(
        f"unknown parameter {key!r}; expected one of {', '.join(PARAMS)}",
        field=what.split()[0].strip("`"),
    )


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
        name = _name(str(k), "`fix`")
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
        pair = (_name(x, "`tie`"), _name(y, "`tie`"))
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


# ---- fits --------------------------------------------------------------------------


@dataclass(frozen=True)
class Polished:
    theta: np.ndarray
    objective: float
    converged: bool
    message: str
    iterations: int


METHOD = "trust-region Newton"


def _message(converged: bool, iterations: int) -> str:
    if converged:
        return f"{METHOD}: converged in {iterations} iterations"
    return f"{METHOD}: stopped after {iterations} iterations without converging"


def polish_many(
    thetas: np.ndarray,
    runs: LogRuns,
    delta: float = HUBER_DELTA,
    constraints: Constraints | None = None,
    row_weights: np.ndarray | None = None,
) -> list[Polished]:
    """Newton to convergence from every row of thetas at once (one batch, no scipy).
    `row_weights` (starts x runs) gives each start its own weights of the runs."""
    part = _single(runs, constraints)
    found = _minimise(_to_psi(thetas, part), [part], delta, row_weights)
    th = _to_theta(found.psi, part)
    return [
        Polished(
            th[i],
            float(found.f[i]) * delta,
            bool(found.converged[i]),
            _message(bool(found.converged[i]), int(found.iterations[i])),
            int(found.iterations[i]),
        )
        for i in range(len(th))
    ]


def polish(
    theta0: np.ndarray,
    runs: LogRuns,
    delta: float = HUBER_DELTA,
    plain: bool = False,
    constraints: Constraints | None = None,
) -> Polished:
    """Newton from one start to convergence; or (plain) scipy's L-BFGS-B with its
    defaults on the raw sum, as the unaccelerated recipe runs it."""
    if plain:
        from scipy.optimize import minimize

        r = minimize(objective, theta0, args=(runs, delta), jac=True, method="L-BFGS-B")
        return Polished(np.asarray(r.x), float(r.fun), bool(r.success), str(r.message), int(r.nit))
    return polish_many(np.atleast_2d(theta0), runs, delta, constraints)[0]


def select_starts(
    grid: np.ndarray, values: np.ndarray, n_best: int = N_BEST, n_pairs: int = N_PAIRS
) -> np.ndarray:
    """Indices of the starts worth polishing: the best overall, and the best start of
    each of the `n_pairs` most promising (alpha, beta) pairs of the grid, so the polish
    covers several regions of exponent space rather than one basin."""
    order = np.argsort(values, kind="stable")
    chosen = [int(i) for i in order[:n_best]]
    pairs: set[tuple[float, float]] = set()
    for i in order:
        key = (float(grid[i, 3]), float(grid[i, 4]))
        if key not in pairs:
            pairs.add(key)
            chosen.append(int(i))
            if len(pairs) == n_pairs:
                break
    return np.array(sorted(set(chosen)))


def screen_runs(runs: LogRuns, limit: int = SCREEN_ROWS) -> LogRuns:
    """At most `limit` runs, evenly spread through the data, for ranking and first polish."""
    n = len(runs.log_loss)
    if n <= limit:
        return runs
    return runs.subset(np.linspace(0, n - 1, limit).round().astype(int))


def _best(results: Sequence[Polished]) -> int:
    return int(np.argmin([p.objective if math.isfinite(p.objective) else np.inf for p in results]))


def best_of_grid(
    runs: LogRuns,
    delta: float = HUBER_DELTA,
    grid: np.ndarray | None = None,
    extra_starts: np.ndarray | None = None,
    constraints: Constraints | None = None,
) -> tuple[Polished, np.ndarray, int]:
    """Screen the grid, polish the promising starts, return (best, its start, polished)."""
    cons = constraints or Constraints()
    grid = cons.apply(paper_grid() if grid is None else grid)
    if cons:  # the constrained grid repeats points: screen each once
        grid = np.unique(grid, axis=0)
    small = screen_runs(runs)
    values = objective_many(grid, small, delta)
    starts = grid[select_starts(grid, values)]
    if extra_starts is not None:
        starts = np.vstack([cons.apply(extra_starts), starts])
    results = polish_many(starts, small, delta, cons)
    if small is not runs:  # large data: refine the few best on every run
        order = np.argsort([p.objective for p in results])[:4]
        refined = polish_many(np.array([results[i].theta for i in order]), runs, delta, cons)
        k = _best(refined)
        return refined[k], starts[order[k]], len(results) + len(refined)
    k = _best(results)
    return results[k], starts[k], len(results)


@dataclass(frozen=True)
class Optimum:
    """One distinct local optimum that starts of the grid converged to."""

    theta: np.ndarray
    objective: float
    starts: int  # how many starts converged here

    def to_dict(self) -> dict[str, Any]:
        return {
            "objective": self.objective,
            "starts": self.starts,
            "params": law_from_theta(self.theta).parameters(),
        }


@dataclass(frozen=True)
class GridCensus:
    """Where every start of the grid went: a multi-modality diagnostic.

    Optima are distinct when their objectives differ by more than SAME_OPTIMUM (relative);
    `optima` lists them best first (at most `SHOWN_OPTIMA`). Starts that did not converge
    within MAX_ITER iterations are counted apart."""

    n_starts: int
    n_converged: int
    n_optima: int
    optima: tuple[Optimum, ...]

    @property
    def starts_at_best(self) -> int:
        return self.optima[0].starts if self.optima else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "starts": self.n_starts,
            "converged": self.n_converged,
            "distinct_optima": self.n_optima,
            "starts_at_best": self.starts_at_best,
            "optima": [o.to_dict() for o in self.optima],
        }


SHOWN_OPTIMA = 5


def _groups(results: Sequence[Polished]) -> list[list[int]]:
    """Indices of the converged results grouped by objective into distinct optima, best
    group first and each group's best first."""
    done = [i for i, p in enumerate(results) if p.converged and math.isfinite(p.objective)]
    done.sort(key=lambda i: results[i].objective)
    groups: list[list[int]] = []
    for i in done:
        if groups and results[i].objective <= results[groups[-1][0]].objective * (1 + SAME_OPTIMUM):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def census(
    results: Sequence[Polished], counts: Sequence[int] | None = None, n_starts: int | None = None
) -> GridCensus:
    """The distinct optima among results (each standing for `counts[i]` starts)."""
    counts = [1] * len(results) if counts is None else list(counts)
    groups = _groups(results)
    optima = [
        Optimum(results[g[0]].theta, results[g[0]].objective, sum(counts[i] for i in g))
        for g in groups
    ]
    converged = sum(o.starts for o in optima)
    total = sum(counts) if n_starts is None else n_starts
    return GridCensus(total, converged, len(optima), tuple(optima[:SHOWN_OPTIMA]))


def _fastest(results: Sequence[Polished], group: Sequence[int]) -> int:
    """The start of `group` that converged in the fewest iterations: the most direct
    route to their optimum (the lowest objective among starts that agree to rounding
    says nothing about the route, and another optimiser from it may end elsewhere)."""
    return min(group, key=lambda i: (results[i].iterations, i))


def exhaustive_grid(
    runs: LogRuns,
    delta: float = HUBER_DELTA,
    constraints: Constraints | None = None,
) -> tuple[Polished, np.ndarray, GridCensus]:
    """Every start of the grid run to convergence: (best, a start that reached it,
    census). The start is the one that got there in the fewest iterations.

    On more than SCREEN_ROWS runs every start converges on an evenly spread subset of
    SCREEN_ROWS runs, and each distinct optimum found there is then polished on all."""
    cons = constraints or Constraints()
    grid = cons.apply(paper_grid())
    if cons:  # the constrained grid repeats points: run each once
        grid = np.unique(grid, axis=0)
    small = screen_runs(runs)
    results = polish_many(grid, small, delta, cons)
    groups = _groups(results)
    if small is runs:
        if not groups:  # nothing converged: the lowest objective, as the census says
            k = _best(results)
            return results[k], grid[k], census(results)
        return results[groups[0][0]], grid[_fastest(results, groups[0])], census(results)
    if not groups:
        raise FitError("no start of the grid converged")
    reps = [g[0] for g in groups]
    refined = polish_many(np.array([results[i].theta for i in reps]), runs, delta, cons)
    k = _best(refined)
    found = census(refined, [len(g) for g in groups], len(grid))
    return refined[k], grid[_fastest(results, groups[k])], found


@dataclass(frozen=True)
class ParametricFit:
    """The result of an Approach 3 fit, in the manner of scipy.optimize.OptimizeResult."""

    law: ParametricLaw
    theta: np.ndarray  # (a, b, e, alpha, beta)
    objective: float
    converged: bool
    message: str
    iterations: int
    n_runs: int
    rmse_log_loss: float
    start: np.ndarray
    starts_polished: int
    huber_delta: float
    constraints: Constraints = field(default_factory=Constraints)
    census: GridCensus | None = None  # the exhaustive fit's: every start's optimum

    def beyond_grid(self) -> list[str]:
        """The coordinates of the optimum at or beyond the edge of the initialisation grid:
        there the grid did not bracket the answer and a wider one might find a better fit.
        (Most grid starts lie on some edge, so the start itself says little.) Fixed
        parameters are the user's, not the fit's, and are not reported."""
        held = {THETA_OF[k] for k, _ in self.constraints.fixed}
        out = []
        for i, (name, value) in enumerate(zip(THETA, self.theta, strict=True)):
            lo, hi = GRID_AXES[name][0], GRID_AXES[name][-1]
            if i not in held and (value <= lo + 1e-6 or value >= hi - 1e-6):
                out.append(f"{name} = {value:.4g} (grid {lo:g} to {hi:g})")
        return out

    def refit(self, runs: LogRuns) -> Polished:
        """The same fit (delta, constraints) on other runs, warm-started at this optimum."""
        return polish(self.theta, runs, self.huber_delta, constraints=self.constraints)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": METHOD,
            "objective": self.objective,
            "converged": self.converged,
            "message": self.message,
            "iterations": self.iterations,
            "rmse_log_loss": self.rmse_log_loss,
            "huber_delta": self.huber_delta,
            "starts_polished": self.starts_polished,
            "start": dict(zip(THETA, map(float, self.start), strict=True)),
            "fixed": dict(self.constraints.fixed),
            "tied": [list(t) for t in self.constraints.tied],
            "exhaustive": None if self.census is None else self.census.to_dict(),
        }


def law_from_theta(theta: np.ndarray, name: str = "fit", source: str = "") -> ParametricLaw:
    a, b, e, alpha, beta = map(float, theta)
    return ParametricLaw(name, math.exp(e), math.exp(a), math.exp(b), alpha, beta, source)


def fit_parametric(
    params: np.ndarray,
    tokens: np.ndarray,
    loss: np.ndarray,
    *,
    delta: float = HUBER_DELTA,
    name: str = "fit",
    source: str = "",
    exhaustive: bool = False,
    constraints: Constraints | None = None,
) -> ParametricFit:
    """Hoffmann et al.'s Approach 3 on these runs: the grid screened and its promising
    starts polished, or (`exhaustive`) every start run to convergence with a census of
    the optima reached. `constraints` fix or tie parameters. Raises FitError when no
    start finds a law with positive exponents."""
    runs = LogRuns.of(params, tokens, loss)
    cons = constraints or Constraints()
    if exhaustive:
        best, start, found = exhaustive_grid(runs, delta, cons)
        return _result(best, start, found.n_starts, runs, delta, name, source, cons, found)
    best, start, polished = best_of_grid(runs, delta, constraints=cons)
    return _result(best, start, polished, runs, delta, name, source, cons)


def _result(
    best: Polished,
    start: np.ndarray,
    polished: int,
    runs: LogRuns,
    delta: float,
    name: str,
    source: str,
    constraints: Constraints | None = None,
    found: GridCensus | None = None,
) -> ParametricFit:
    theta = best.theta
    # an exponent of ~0 makes its term a constant beside E: a degenerate law, not a fit
    if not np.all(np.isfinite(theta)) or min(theta[3], theta[4]) < MIN_EXPONENT:
        raise FitError(
            "the fit did not find a law with positive exponents (alpha, beta) "
            f"[{best.message}]; the runs may not span enough model sizes and token counts"
        )
    law = law_from_theta(theta, name, source)
    pred = np.log(
        law.E
        + law.A * np.exp(-law.alpha * runs.log_params)
        + law.B * np.exp(-law.beta * runs.log_tokens)
    )
    rmse = float(np.sqrt(np.mean((pred - runs.log_loss) ** 2)))
    return ParametricFit(
        law,
        theta,
        best.objective,
        best.converged,
        best.message,
        best.iterations,
        len(runs.log_loss),
        rmse,
        start,
        polished,
        delta,
        constraints or Constraints(),
        found,
    )


def fit_plain_loop(
    params: np.ndarray, tokens: np.ndarray, loss: np.ndarray, delta: float = HUBER_DELTA
) -> ParametricFit:
    """The unaccelerated recipe: L-BFGS-B from all 4,500 starts. For benchmarks."""
    runs = LogRuns.of(params, tokens, loss)
    grid = paper_grid()
    results = [polish(s, runs, delta, plain=True) for s in grid]
    i = int(np.argmin([p.objective for p in results]))
    return _result(results[i], grid[i], len(grid), runs, delta, "plain-loop", "")


def bootstrap_parametric(
    fit: ParametricFit,
    params: np.ndarray,
    tokens: np.ndarray,
    loss: np.ndarray,
    resamples: int,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Refit on `resamples` bootstrap resamples of the runs; rows of (E, A, B, alpha, beta).

    A resample is the runs drawn with replacement, i.e. the same runs with integer
    weights (how often each was drawn), so the objective is a weighted sum. Each refit
    is warm-started from the full fit's optimum, keeps its constraints, and is polished
    to convergence, which matches a full 4,500-start refit (tests check this) at a
    fraction of the cost. The refits run as one batch per chunk of resamples."""
    runs = LogRuns.of(params, tokens, loss)
    n = len(loss)
    rng = np.random.default_rng(seed)
    weights = np.empty((resamples, n))
    for k in range(resamples):  # drawn one by one: the same resamples whatever the chunking
        weights[k] = np.bincount(rng.integers(0, n, n), minlength=n)
    out = np.empty((resamples, 5))
    chunk = max(1, min(64, SCREEN_CELLS // max(n, 1)))
    for i in range(0, resamples, chunk):
        w = weights[i : i + chunk]
        starts = np.repeat(fit.theta[None, :], len(w), axis=0)
        found = polish_many(starts, runs, fit.huber_delta, fit.constraints, row_weights=w)
        for k, p in enumerate(found):
            a, b, e, alpha, beta = p.theta
            out[i + k] = (math.exp(e), math.exp(a), math.exp(b), alpha, beta)
        if progress is not None:
            progress(i + len(w))
    return out


# ---- one E shared by several groups of runs -----------------------------------------


@dataclass(frozen=True)
class SharedFit:
    """A joint fit of several groups of runs sharing one irreducible loss E.

    `laws[i]` is group i's law (E the same in all); `objective` the summed Huber
    objective over every group's runs at the joint optimum, `objectives[i]` each group's
    part of it; `separate` the sum of the groups' own unconstrained optima, so
    `objective - separate` >= 0 is what sharing E costs."""

    laws: tuple[ParametricLaw, ...]
    thetas: tuple[np.ndarray, ...]
    objective: float
    objectives: tuple[float, ...]
    separate: float
    converged: bool
    huber_delta: float

    @property
    def E(self) -> float:
        return self.laws[0].E

    def to_dict(self) -> dict[str, Any]:
        return {
            "E": self.E,
            "laws": [law.parameters() for law in self.laws],
            "objective": self.objective,
            "objectives": list(self.objectives),
            "separate_objective": self.separate,
            "converged": self.converged,
            "huber_delta": self.huber_delta,
        }


def fit_shared_e(
    groups: Sequence[LogRuns | RunsLike],
    *,
    delta: float = HUBER_DELTA,
    names: Sequence[str] | None = None,
) -> SharedFit:
    """Fit E + A_i/N^alpha_i + B_i/D^beta_i to each group i of runs, with one E for all.

    `groups` are LogRuns or tables with `params`, `tokens` and `loss` arrays (`runs.Runs`);
    at least two. Minimises the sum of every group's Huber objective over the 4k + 1
    parameters by the same trust-region Newton method, started from each group's own
    fit with E fixed, for E at each group's own optimum and at their geometric mean, and
    keeps the best. Raises InputError for fewer than two groups, FitError when no start
    gives every group positive exponents."""
    logs = [as_log_runs(g) for g in groups]
    if len(logs) < 2:
        raise InputError("a shared E needs at least two groups of runs", field="groups")
    k = len(logs)
    labels = list(names) if names is not None else [f"group{i + 1}" for i in range(k)]
    own = [best_of_grid(lr, delta)[0] for lr in logs]
    separate = sum(p.objective for p in own)
    es = [p.theta[2] for p in own]
    candidates = sorted({*map(float, es), float(np.mean(es))})
    parts, starts = _shared_parts(logs), []
    for e in candidates:
        cons = Constraints(fixed=(("E", math.exp(e)),))
        psi = np.empty(4 * k + 1)
        for i, lr in enumerate(logs):
            th = best_of_grid(lr, delta, constraints=cons)[0].theta
            std = parts[i].frame.to_std @ th
            psi[4 * i : 4 * i + 4] = std[[0, 1, 3, 4]]
        psi[-1] = e
        starts.append(psi)
    found = _minimise(np.array(starts), parts, delta)
    return _shared_result(found, parts, labels, separate, delta)


def _shared_result(
    found: _Minima, parts: Sequence[_Part], labels: Sequence[str], separate: float, delta: float
) -> SharedFit:
    """The best of the joint starts `found` as a SharedFit, each group's law and objective."""
    j = int(np.argmin(np.where(np.isfinite(found.f), found.f, np.inf)))
    psi = found.psi[j]
    thetas = tuple(_shared_thetas(psi, parts))
    if any(t[3] <= 0 or t[4] <= 0 or not np.all(np.isfinite(t)) for t in thetas):
        raise FitError("the shared-E fit did not find positive exponents for every group")
    per_group = tuple(
        float(_value((p.q @ psi)[None, :], p.frame, delta, p.frame.weights)[0][0]) * delta
        for p in parts
    )
    laws = tuple(law_from_theta(t, name) for t, name in zip(thetas, labels, strict=True))
    return SharedFit(
        laws,
        thetas,
        float(found.f[j]) * delta,
        per_group,
        separate,
        bool(found.converged[j]),
        delta,
    )


def _shared_parts(logs: Sequence[LogRuns]) -> list[_Part]:
    """The joint problem of `fit_shared_e`: psi = (a', b', alpha', beta') per group, then e."""
    k = len(logs)
    parts = []
    for i, lr in enumerate(logs):
        q = np.zeros((5, 4 * k + 1))
        for j, row in enumerate((0, 1, 3, 4)):
            q[row, 4 * i + j] = 1.0
        q[2, 4 * k] = 1.0
        parts.append(_Part(_Frame.of(lr), q, np.zeros(5)))
    return parts


def _shared_start(fit: SharedFit, parts: Sequence[_Part]) -> np.ndarray:
    """The joint optimum of `fit` in the coordinates of `parts` (their own frames)."""
    psi = np.empty(4 * len(parts) + 1)
    for i, (theta, part) in enumerate(zip(fit.thetas, parts, strict=True)):
        psi[4 * i : 4 * i + 4] = (part.frame.to_std @ theta)[[0, 1, 3, 4]]
    psi[-1] = fit.thetas[0][2]
    return psi


def _shared_thetas(psi: np.ndarray, parts: Sequence[_Part]) -> list[np.ndarray]:
    return [np.linalg.solve(p.frame.to_std, p.q @ psi + p.c) for p in parts]


def shared_e_from(
    fits: Sequence[ParametricFit],
    groups: Sequence[LogRuns | RunsLike],
    *,
    names: Sequence[str] | None = None,
) -> SharedFit:
    """`fit_shared_e` for groups already fitted on their own (`fits[i]` is group i's
    unconstrained fit): the joint Newton iteration started from each group's own optimum
    with E moved to each group's own E, their geometric mean and a little beyond both
    ends, instead of a constrained grid search per group and E. The same optimum as
    `fit_shared_e` on the tests' groups, at a small fraction of the cost. Raises
    InputError for fewer than two groups or constrained fits, FitError as
    `fit_shared_e` does."""
    logs = [as_log_runs(g) for g in groups]
    if len(logs) < 2 or len(fits) != len(logs):
        raise InputError("a shared E needs at least two groups of runs", field="groups")
    if any(f.constraints for f in fits):
        raise InputError("the shared-E fit takes no `fix` or `tie`", field="groups")
    delta = fits[0].huber_delta
    labels = list(names) if names is not None else [f"group{i + 1}" for i in range(len(logs))]
    parts = _shared_parts(logs)
    es = [float(f.theta[2]) for f in fits]
    spread = max(es) - min(es)
    candidates = sorted({*es, float(np.mean(es)), min(es) - 0.5 * spread - 0.01, max(es) + 0.01})
    starts = []
    for e in candidates:
        psi = np.empty(4 * len(logs) + 1)
        for i, (f, part) in enumerate(zip(fits, parts, strict=True)):
            psi[4 * i : 4 * i + 4] = (part.frame.to_std @ f.theta)[[0, 1, 3, 4]]
        psi[-1] = e
        starts.append(psi)
    found = _minimise(np.array(starts), parts, delta)
    return _shared_result(found, parts, labels, float(sum(f.objective for f in fits)), delta)


def refit_shared_e(
    fit: SharedFit, groups: Sequence[LogRuns | RunsLike]
) -> tuple[ParametricLaw, ...]:
    """The shared-E fit on other runs of the same groups (a subset, or LogRuns carrying
    weights), warm-started at `fit`'s optimum; each group's law. Raises FitError when a
    group's exponents do not stay positive."""
    parts = _shared_parts([as_log_runs(g) for g in groups])
    found = _minimise(_shared_start(fit, parts)[None, :], parts, fit.huber_delta)
    thetas = _shared_thetas(found.psi[0], parts)
    if any(t[3] <= 0 or t[4] <= 0 or not np.all(np.isfinite(t)) for t in thetas):
        raise FitError("the shared-E refit did not find positive exponents for every group")
    return tuple(law_from_theta(t, law.name) for t, law in zip(thetas, fit.laws, strict=True))


def bootstrap_shared_e(
    fit: SharedFit,
    groups: Sequence[LogRuns | RunsLike],
    resamples: int,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
    units: Sequence[np.ndarray | None] | None = None,
) -> np.ndarray:
    """The shared-E fit refitted on `resamples` bootstrap resamples; an array of shape
    (resamples, groups, 5), rows (E, A, B, alpha, beta) (E the same across a resample's
    groups). Each group's runs are drawn with replacement on their own (groups are
    independent samples), as integer weights; `units[i]` gives the run of each point of
    group i when a run gives several (whole runs are drawn). Each refit is warm-started
    at the full fit's optimum and polished to convergence, the resamples in batches: every
    part holds all groups' runs, its own weighted 1 and the others 0, so that one row of
    weights per resample serves every part."""
    logs = [as_log_runs(g) for g in groups]
    sizes = [len(lr.log_loss) for lr in logs]
    edges = np.concatenate([[0], np.cumsum(sizes)])
    every = LogRuns(
        *(
            np.concatenate([getattr(lr, k) for lr in logs])
            for k in ("log_params", "log_tokens", "log_loss")
        )
    )
    parts = []
    for i, part in enumerate(_shared_parts(logs)):
        mine = np.zeros(int(edges[-1]))
        mine[edges[i] : edges[i + 1]] = 1.0
        parts.append(replace(part, frame=_Frame.of(every.reweighted(mine))))
    start = _shared_start(fit, parts)
    unit = [
        np.arange(n) if units is None or units[i] is None else np.asarray(units[i])
        for i, n in enumerate(sizes)
    ]
    rng = np.random.default_rng(seed)
    weights = np.empty((resamples, int(edges[-1])))
    for k in range(resamples):  # drawn one by one: the same resamples whatever the chunking
        for i, u in enumerate(unit):
            n = int(u.max()) + 1
            weights[k, edges[i] : edges[i + 1]] = np.bincount(rng.integers(0, n, n), minlength=n)[u]
    out = np.empty((resamples, len(logs), 5))
    chunk = max(1, min(64, SCREEN_CELLS // max(int(edges[-1]) * len(logs), 1)))
    for lo in range(0, resamples, chunk):
        w = weights[lo : lo + chunk]
        found = _minimise(np.repeat(start[None, :], len(w), axis=0), parts, fit.huber_delta, w)
        for k, psi in enumerate(found.psi):
            for i, theta in enumerate(_shared_thetas(psi, parts)):
                a, b, e, alpha, beta = theta
                out[lo + k, i] = (math.exp(e), math.exp(a), math.exp(b), alpha, beta)
        if progress is not None:
            progress(lo + len(w))
    return out
