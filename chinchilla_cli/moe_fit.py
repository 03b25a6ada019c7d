"""`fit` on runs with an experts column: the Joint MoE law (Ludziejewski et al. 2025,
eq. 6) with all eleven of its constants, fitted as its Appendix B says: a Huber loss
(delta 0.01) on the log of the loss, a, b and c optimised in log, L-BFGS from several
starts (here the published Table 3 fit and perturbations of it). E_start >= 1 and
E_max > E_start are kept by fitting log(E_start - 1) and log(E_max - E_start).

`experts_of` finds the column (a header named experts) among the runs fitting.fit_with
read; `fit_joint_moe` fits and bootstraps; the report saves a law file of kind
`joint_moe` that `plan` uses with `arch` moe and `experts` E, with its bootstrap rows for
intervals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from chinchilla_cli._display import display_bundle
from chinchilla_cli.errors import FitError, InputError
from chinchilla_cli.files import Staged, write_text_atomic
from chinchilla_cli.fit_defaults import CI_LEVEL, HUBER_DELTA, SEED
from chinchilla_cli.fit_options import FitOptions
from chinchilla_cli.law_files import load_law
from chinchilla_cli.moe_scaling import JointMoE
from chinchilla_cli.presets import dump_yaml
from chinchilla_cli.read_options import ReadOptions
from chinchilla_cli.runs import Runs

EXPERTS_COLUMN = "experts"
MOE_HUBER_DELTA = 0.01  # Appendix B
MIN_MOE_RUNS = 12  # eleven constants
_Floats = NDArray[np.float64]


def experts_of(source: Any, runs: Runs, read: ReadOptions) -> _Floats | None:
    """Each kept run's expert count when the runs (a file path or a table of columns)
    have an `experts` column; None when they have none."""
    from chinchilla_cli import tables

    if isinstance(source, (str, Path)):
        path = str(source)
        if path == "-" or not Path(path).is_file():
            return None
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            first = f.readline()
        if EXPERTS_COLUMN not in first.lower():
            return None
        from chinchilla_cli.logs import read_grouped_table

        grouped, log = read_grouped_table(path, read, EXPERTS_COLUMN)
        if log is not None:  # a training log: its points are not the runs
            return None
        cells = grouped.groups
    elif isinstance(source, Mapping):
        header = [str(k) for k in source.keys()]
        hits = tables.find_named(header, EXPERTS_COLUMN)
        if len(hits) != 1:
            return None
        cells = tuple(str(x) for x in source[list(source.keys())[hits[0]]])
    else:
        return None
    rows = range(len(cells)) if runs.rows_kept is None else runs.rows_kept
    try:
        values = np.array([float(cells[int(i)]) for i in rows], dtype=float)
    except ValueError:
        raise InputError(
            f"{runs.source}: the experts column must hold whole numbers of experts",
            field="runs",
        ) from None
    if values.shape[0] != runs.n_kept or not np.all(values >= 1):
        raise InputError(
            f"{runs.source}: the experts column must hold counts of at least 1", field="runs"
        )
    return values


# ---------------------------------------------------------------- the objective


def _unpack(x: _Floats) -> JointMoE:
    la, alpha, delta, gamma, lb, beta, omega, zeta, us, um, lc = (float(v) for v in x)
    e_start = 1.0 + math.exp(us)
    return JointMoE(
        math.exp(la), alpha, delta, gamma, math.exp(lb), beta, omega, zeta,
        e_start, e_start + math.exp(um), math.exp(lc),
    )  # fmt: skip


def _pack(m: JointMoE) -> _Floats:
    return np.array(
        [
            math.log(m.a), m.alpha, m.delta, m.gamma, math.log(m.b), m.beta, m.omega,
            m.zeta, math.log(m.E_start - 1.0), math.log(m.E_max - m.E_start), math.log(m.c),
        ]
    )  # fmt: skip


def _predict(x: _Floats, n: _Floats, d: _Floats, e: _Floats) -> _Floats:
    la, alpha, delta, gamma, lb, beta, omega, zeta, us, um, lc = x
    e_start = 1.0 + np.exp(us)
    e_max = e_start + np.exp(um)
    e_hat = 1.0 / (1.0 / (e - 1.0 + 1.0 / (1.0 / e_start - 1.0 / e_max)) + 1.0 / e_max)
    log_e = np.log(e_hat)
    n_term = np.exp(la + delta * log_e + (alpha + gamma * log_e) * np.log(n))
    d_term = np.exp(lb + omega * log_e + (beta + zeta * log_e) * np.log(d))
    out: _Floats = n_term + d_term + np.exp(lc)
    return out


def _objective(x: _Floats, data: tuple[_Floats, ...], delta: float) -> float:
    n, d, e, log_loss = data
    with np.errstate(all="ignore"):
        r = np.log(_predict(x, n, d, e)) - log_loss
    if not np.all(np.isfinite(r)):
        return 1e30
    a = np.abs(r)
    huber = np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))
    return float(np.sum(huber))


def _starts() -> list[_Floats]:
    law = load_law("ludziejewski2025")
    moe = getattr(law, "moe", None)
    assert isinstance(moe, JointMoE)
    base = _pack(moe)
    out = [base]
    for da, db in ((0.05, 0.0), (-0.05, 0.0), (0.0, 0.05), (0.0, -0.05)):
        x = base.copy()
        x[1] -= da  # alpha (the N exponent, negative)
        x[5] -= db  # beta
        out.append(x)
    flat = base.copy()
    flat[2] = flat[3] = flat[6] = flat[7] = 0.0  # no expert effect at all
    out.append(flat)
    return out


def _minimise(data: tuple[_Floats, ...], delta: float, starts: list[_Floats]) -> Any:
    from scipy.optimize import minimize

    best = None
    for x0 in starts:
        res = minimize(_objective, x0, args=(data, delta), method="L-BFGS-B")
        if best is None or res.fun < best.fun:
            best = res
    return best


# ---------------------------------------------------------------- the report


@dataclass(frozen=True)
class MoEFitReport:
    """The Joint MoE law fitted to runs with an experts column: its constants, the
    goodness of fit, and bootstrap intervals (`samples`, rows of the eleven constants)."""

    runs: Runs
    experts: tuple[float, ...]  # the distinct expert counts fitted
    law: JointMoE
    objective: float
    rmse_log_loss: float
    converged: bool
    huber_delta: float
    samples: tuple[tuple[float, ...], ...] = field(default=(), repr=False)
    ci_level: float = CI_LEVEL
    seed: int = SEED
    warnings: tuple[str, ...] = ()

    def intervals(self) -> dict[str, list[float]] | None:
        if not self.samples:
            return None
        cols = np.array(self.samples)
        tail = (100.0 - self.ci_level) / 2.0
        return {
            name: [
                float(np.percentile(cols[:, i], tail)),
                float(np.percentile(cols[:, i], 100 - tail)),
            ]
            for i, name in enumerate(JointMoE.names())
        }

    def to_dict(self) -> dict[str, Any]:
        r = self.runs
        return {
            "approach": "joint_moe",
            "n_runs": r.n_kept,
            "runs": {"source": r.source, "read": r.n_read, "dropped": r.n_dropped,
                     "kept": r.n_kept, "experts": list(self.experts)},
            "params": dict(zip(JointMoE.names(), self.law.as_tuple(), strict=True)),
            "objective": self.objective,
            "rmse_log_loss": self.rmse_log_loss,
            "converged": self.converged,
            "huber_delta": self.huber_delta,
            "ci_level": self.ci_level,
            "bootstrap": {"resamples": len(self.samples), "seed": self.seed}
            if self.samples
            else None,
            "ci": self.intervals(),
            "warnings": list(self.warnings),
        }  # fmt: skip

    def law_document(self, name: str) -> dict[str, Any]:
        """The fitted law in the schema of presets/laws.yaml (kind joint_moe)."""
        r = self.runs
        doc: dict[str, Any] = {
            "name": name,
            "kind": "joint_moe",
            **dict(zip(JointMoE.names(), self.law.as_tuple(), strict=True)),
            "source": f"fitted by `chinchilla fit` (Joint MoE, eq. 6) to {r.n_kept} runs "
            f"from {r.source}",
            "loss_data": f"the runs of {r.source}",
            "fit_range": {
                "params": [float(np.min(r.params)), float(np.max(r.params))],
                "tokens": [float(np.min(r.tokens)), float(np.max(r.tokens))],
                "flops": [float(np.min(r.flops)), float(np.max(r.flops))],
            },
            "fit_experts": [min(self.experts), max(self.experts)],
        }
        if self.samples:
            doc["moe_samples"] = [list(row) for row in self.samples]
            doc["samples_source"] = (
                f"{len(self.samples)} bootstrap refits (seed {self.seed}) of the same runs"
            )
        return doc

    def save(
        self,
        path: str | Path,
        name: str | None = None,
        force: bool = False,
        staged: Staged | None = None,
    ) -> Path:
        """Write the fitted law as YAML (a `law` for plan), atomically."""
        law_name = name or Path(path).name.split(".")[0] or "fit"
        text = dump_yaml(self.law_document(law_name))
        if staged is not None:
            return staged.write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), "save")
        return write_text_atomic(path, text, "save", force)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return display_bundle(self)


def fit_joint_moe(
    runs: Runs,
    experts: _Floats,
    *,
    bootstrap: int = 0,
    seed: int | None = None,
    ci: float | None = None,
    huber_delta: float | None = None,
) -> MoEFitReport:
    """The Joint MoE law fitted to `runs` with each run's `experts`."""
    if runs.n_kept < MIN_MOE_RUNS:
        raise InputError(
            f"{runs.source}: {runs.n_kept} runs; the Joint MoE law has eleven constants: "
            f"give at least {MIN_MOE_RUNS} runs",
            field="runs",
        )
    distinct = tuple(sorted({float(e) for e in experts}))
    delta = MOE_HUBER_DELTA if huber_delta is None else huber_delta
    data = (runs.params, runs.tokens, experts, np.log(runs.loss))
    best = _minimise(data, delta, _starts())
    if best is None or not np.isfinite(best.fun) or best.fun >= 1e29:
        raise FitError("the Joint MoE fit found no finite optimum from any start")
    residuals = np.log(_predict(best.x, *data[:3])) - data[3]
    warnings = []
    if len(distinct) < 3:
        warnings.append(
            f"only {len(distinct)} expert count(s) ({', '.join(f'{e:g}' for e in distinct)}): "
            "the expert terms (delta, gamma, omega, zeta, E_start, E_max) are barely "
            "determined; run three or more"
        )
    rng = np.random.default_rng(SEED if seed is None else seed)
    samples = []
    for _ in range(bootstrap):
        pick = rng.integers(0, runs.n_kept, runs.n_kept)
        resampled = tuple(col[pick] for col in data)
        res = _minimise(resampled, delta, [best.x])
        samples.append(_unpack(res.x).as_tuple())
    return MoEFitReport(
        runs,
        distinct,
        _unpack(best.x),
        float(best.fun),
        float(np.sqrt(np.mean(residuals**2))),
        bool(best.success),
        delta,
        tuple(samples),
        CI_LEVEL if ci is None else ci,
        SEED if seed is None else seed,
        tuple(warnings),
    )


def moe_fit_if_experts(
    source: Any, runs: Runs, read: ReadOptions, options: FitOptions
) -> MoEFitReport | None:
    """The Joint MoE fit when the runs have an experts column (None otherwise); the
    options of the dense approaches are refused with it."""
    experts = experts_of(source, runs, read)
    if experts is None:
        return None
    if options.approach != "parametric" or options.constraints or options.exhaustive:
        raise InputError(
            "runs with an experts column fit the Joint MoE law; approach, fix, tie and "
            "exhaustive apply to the dense fits",
            field="approach",
        )
    given_delta = None if options.huber_delta == HUBER_DELTA else options.huber_delta
    return fit_joint_moe(
        runs,
        experts,
        bootstrap=options.bootstrap,
        seed=options.seed,
        ci=options.ci_level,
        huber_delta=given_delta,
    )
