"""The batched trust-region Newton solver of the Approach 3 fit.

Every start is a row of a few arrays, each iteration is one numpy pass over starts x
runs (value, analytic gradient and Hessian: objective.py), and converged starts leave
the batch. Newton on the 5-parameter problem needs no scipy, and on the objective
divided by delta (same minimiser, scale-free) it converges to the bottom: its gradient
test is absolute. The descent runs in float32 (a third of the cost of float64's
exponentials and logarithms) and converges in float64; float64 also carries a start
across the plateaus whose progress float32 cannot see, and hands it back once it can
(`minimise`).

A problem is one or several `Part`s, each a group of runs in its own standardised frame
and the affine map from the free parameters psi to its theta': constraints (fit_constraints)
and a shared E (shared_e) are the same iteration on a subspace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from chinchilla_cli.objective import Frame, scaled_derivatives, scaled_value

CHUNK_CELLS = 32_768  # starts x runs per Newton pass (see `_chunk`)
GTOL = 1e-9  # converged: every gradient component of objective/delta below this
MAX_ITER = 500  # Newton iterations per start, precision and round; slower: not converged


@dataclass(frozen=True)
class Part:
    """A frame and where its theta' sits in the free parameters psi: theta' = Q psi + c."""

    frame: Frame
    q: np.ndarray  # (5, P)
    c: np.ndarray  # (5,)

    @property
    def plain(self) -> bool:
        """psi is theta' itself (no constraints): the derivatives need no mapping."""
        return self.q.shape == (5, 5) and bool(np.array_equal(self.q, np.eye(5)))


def _chunk(fr: Frame) -> int:
    """Starts per chunk: enough that numpy's per-call cost is small beside the work, few
    enough that a chunk's arrays stay in the processor's cache."""
    return max(1, CHUNK_CELLS // max(len(fr.log_loss), 1))


def _evaluate(
    psi: np.ndarray,
    parts: Sequence[Part],
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
            fv, cache = scaled_value(th[rows], fr, delta, w)
            f[rows] += fv
            if g is not None and hess is not None:
                gt, ht = scaled_derivatives(cache, fr, delta, w)
                if not part.plain:
                    gt, ht = gt @ part.q, part.q.T @ ht @ part.q
                g[rows] += gt
                hess[rows] += ht
    return f, g, hess


def _trial(
    psi: np.ndarray,
    part: Part,
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
        fv, cache = scaled_value(th[rows], fr, delta, w)
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
        gt, ht = scaled_derivatives(cache, fr, delta, w)
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
class Minima:
    """Where each start of a batch ended: its free parameters, objective / delta, whether
    it converged, its iterations and trust radius, and whether it left float64 for
    float32 again (`resume`)."""

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


def minimise(
    psi0: np.ndarray,
    parts: Sequence[Part],
    delta: float,
    row_weights: np.ndarray | None = None,
    max_iter: int = MAX_ITER,
) -> Minima:
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
    return Minima(psi, f, converged, iterations, radius, resume)


def _newton(
    psi0: np.ndarray,
    parts: Sequence[Part],
    delta: float,
    row_weights: np.ndarray | None,
    max_iter: int,
    stop: _Stop,
    radius0: np.ndarray | None = None,
    resume: float = 0.0,
) -> Minima:
    """The iteration of `minimise` in the precision of the parts' arrays.

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
    return Minima(psi, f, converged, iterations, radius, back)
