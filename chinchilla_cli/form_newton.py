"""A batched damped Newton solver for the forms of forms.py: every start (and every
subset of runs, as row weights) is a row, each iteration one numpy pass over rows x runs
with the analytic gradient and Hessian of the sum of Huber losses / delta.

For r = LSE(e, v) - log L with v = k LSE(u1, u2), u1 = a - alpha log N, u2 = b - beta
log D, p = softmax(u1, u2) and q = the share of v in the outer LSE:
  dr  = (1 - q) e_e + q grad v,     grad v = (k p1, k p2, 0, -k p1 x, -k p2 y, s),
  d2r = q (1 - q) z z^T + q d2v,    z = grad v - e_e,
  d2v = k p1 p2 w w^T over (a, b, alpha, beta), w = (1, -1, -x, y), plus d2v/dk dtheta =
        d s / d theta = (p1, p2, -p1 x, -p2 y);
and the objective's Hessian is sum Huber''(r) dr dr^T + Huber'(r) d2r. The step solves
(H + lambda diag(H)) s = -g on the free parameters (Levenberg-Marquardt damping, which
scales with each coordinate's curvature: a and alpha differ by orders of magnitude).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GTOL = 1e-8  # converged: every free gradient component of objective/delta below this
FTOL = 1e-12  # or a relative gain below this over STALL iterations in a row
STALL = 15
MAX_ITER = 400
ROW_CELLS = 200_000  # rows x runs per pass


@dataclass(frozen=True)
class Found:
    phi: np.ndarray  # rows x 6
    f: np.ndarray  # sum of Huber losses / delta
    converged: np.ndarray
    iterations: np.ndarray


def _value(
    phi: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    ll: np.ndarray,
    w: np.ndarray | None,
    delta: float,
) -> np.ndarray:
    u1 = phi[:, 0:1] - phi[:, 3:4] * x
    u2 = phi[:, 1:2] - phi[:, 4:5] * y
    with np.errstate(over="ignore", invalid="ignore"):
        r = np.logaddexp(phi[:, 2:3], phi[:, 5:6] * np.logaddexp(u1, u2)) - ll
        c = np.clip(r, -delta, delta)
        h = c * (r - 0.5 * c) / delta
        if w is not None:
            h = h * w
        f = h.sum(axis=1)
    f[~np.isfinite(f)] = np.inf
    out: np.ndarray = f
    return out


def _derivatives(
    phi: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    ll: np.ndarray,
    w: np.ndarray | None,
    delta: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Objective / delta, gradient (rows x 6) and Hessian (rows x 6 x 6) at rows phi."""
    m, n = len(phi), ll.shape[-1]
    a, b, e, alpha, beta, k = (phi[:, i : i + 1] for i in range(6))
    u1, u2 = a - alpha * x, b - beta * y
    s = np.logaddexp(u1, u2)
    p1 = np.exp(u1 - s)
    p2 = 1.0 - p1
    v = k * s
    lse = np.logaddexp(e, v)
    q = np.exp(v - lse)
    r = lse - ll
    c = np.clip(r, -delta, delta)
    h = c * (r - 0.5 * c) / delta
    h1 = c / delta  # Huber'(r) / delta
    h2 = (np.abs(r) <= delta) / delta  # Huber''(r) / delta
    if w is not None:
        h, h1, h2 = h * w, h1 * w, h2 * w
    xb, yb = np.broadcast_to(x, (m, n)), np.broadcast_to(y, (m, n))
    gv = np.stack([k * p1, k * p2, np.zeros_like(s), -k * p1 * xb, -k * p2 * yb, s], axis=1)
    dr = q[:, None, :] * gv
    dr[:, 2, :] += 1.0 - q
    z = gv.copy()
    z[:, 2, :] -= 1.0
    g = np.einsum("mn,min->mi", h1, dr)
    hess = np.matmul(dr * h2[:, None, :], dr.transpose(0, 2, 1))
    hq = h1 * q
    hess += np.matmul(z * (hq * (1.0 - q))[:, None, :], z.transpose(0, 2, 1))
    wv = np.stack([np.ones_like(s), -np.ones_like(s), np.zeros_like(s), -xb, yb], axis=1)
    wv4 = wv[:, [0, 1, 3, 4], :]
    inner = np.matmul(wv4 * (hq * k * p1 * p2)[:, None, :], wv4.transpose(0, 2, 1))
    idx = np.array([0, 1, 3, 4])
    hess[:, idx[:, None], idx[None, :]] += inner
    ds = np.stack([p1, p2, -p1 * xb, -p2 * yb], axis=1)  # d s / d (a, b, alpha, beta)
    cross = np.einsum("mn,min->mi", hq, ds)
    hess[:, idx, 5] += cross
    hess[:, 5, idx] += cross
    return h.sum(axis=1), g, hess


def minimise(
    phi0: np.ndarray,
    free: tuple[int, ...],
    x: np.ndarray,
    y: np.ndarray,
    ll: np.ndarray,
    delta: float,
    row_weights: np.ndarray | None = None,
    lower: np.ndarray | None = None,
    upper: np.ndarray | None = None,
) -> Found:
    """Damped Newton from every row of phi0 at once, over the coordinates `free`."""
    phi = np.array(phi0, dtype=float)
    m = len(phi)
    fr = np.array(free)
    lam = np.full(m, 1e-3)
    done = np.zeros(m, dtype=bool)
    iters = np.zeros(m, dtype=int)
    stall = np.zeros(m, dtype=int)
    f = np.full(m, np.inf)
    lo = np.full(6, -np.inf) if lower is None else lower
    hi = np.full(6, np.inf) if upper is None else upper
    for _ in range(MAX_ITER):
        act = np.flatnonzero(~done)
        if len(act) == 0:
            break
        w = None if row_weights is None else row_weights[act]
        fa, g, hess = _derivatives(phi[act], x, y, ll, w, delta)
        f[act] = fa
        gf = g[:, fr]
        # at a bound, a gradient pushing outwards is no reason to go on (projected gradient)
        at_lo = phi[act][:, fr] <= lo[fr] + 1e-12
        at_hi = phi[act][:, fr] >= hi[fr] - 1e-12
        pinned = (at_lo & (gf > 0)) | (at_hi & (gf < 0))
        gf = np.where(pinned, 0.0, gf)
        conv = np.max(np.abs(gf), axis=1) < GTOL
        hf = hess[:, fr[:, None], fr[None, :]]
        # a pinned coordinate stays where it is: its row and column of the Hessian go
        hf = np.where(pinned[:, :, None] | pinned[:, None, :], 0.0, hf)
        diag = np.abs(np.diagonal(hf, axis1=1, axis2=2))
        # a coordinate without curvature of its own (k, when every residual sits on the
        # Huber's linear part and there is no E) still gets damped
        diag = np.maximum(diag, 1e-6 * diag.max(axis=1, keepdims=True)) + 1e-12
        step = np.zeros_like(gf)
        trial_f = np.full(len(act), np.inf)
        trial = phi[act].copy()
        for _attempt in range(8):  # raise the damping of rows whose step is rejected
            pending = ~conv & ~np.isfinite(trial_f)
            if not pending.any():
                break
            rows = np.flatnonzero(pending)
            mat = hf[rows] + lam[act[rows], None, None] * np.eye(len(fr)) * diag[rows, None, :]
            try:
                s = -np.linalg.solve(mat, gf[rows][..., None])[..., 0]
            except np.linalg.LinAlgError:
                s = -gf[rows] / diag[rows]
            cand = phi[act[rows]].copy()
            cand[:, fr] = np.clip(cand[:, fr] + s, lo[fr], hi[fr])
            wr = None if row_weights is None else row_weights[act[rows]]
            fc = _value(cand, x, y, ll, wr, delta)
            better = fc < fa[rows]
            trial_f[rows[better]] = fc[better]
            trial[rows[better]] = cand[better]
            step[rows] = s
            lam[act[rows[~better]]] *= 10.0
            lam[act[rows[better]]] = np.maximum(lam[act[rows[better]]] / 3.0, 1e-9)
        moved = np.isfinite(trial_f)
        gain = np.where(moved, (fa - trial_f) / np.maximum(np.abs(fa), 1e-300), 0.0)
        phi[act[moved]] = trial[moved]
        f[act[moved]] = trial_f[moved]
        stall[act] = np.where(gain < FTOL, stall[act] + 1, 0)
        iters[act] += 1
        newly = conv | (stall[act] >= STALL) | (lam[act] > 1e12)
        done[act[newly]] = True
    return Found(phi, f, done, iters)  # done: a test above passed; else MAX_ITER ran out
