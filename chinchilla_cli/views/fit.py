"""Rich view of a FitReport, and the bootstrap progress bar."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from chinchilla_cli.approach3 import ParametricFit
from chinchilla_cli.fit_constraints import Constraints
from chinchilla_cli.fit_results import FitReport
from chinchilla_cli.objective import law_from_theta
from chinchilla_cli.quantity import human, sci
from chinchilla_cli.views import (
    console,
    kv_table,
    titled_table,
    unbroken,
    warnings_block,
    words,
)
from chinchilla_cli.views.accuracy import accuracy_fit_view
from chinchilla_cli.views.audit import audit_view, form_law_table, forms_view


@contextlib.contextmanager
def progress_bar(total: int, quiet: bool = False) -> Iterator[Callable[[int], None]]:
    """A bar on stderr; yields a callback taking the number of resamples done.

    The bar starts at the first resample, so an error before it (a bad file) prints its
    one line alone; it is transient and leaves nothing behind on stderr."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    err = console(stderr=True)
    bar = Progress(
        TextColumn("bootstrap"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=quiet or not err.is_terminal,  # piped: no bar, and no line left behind
    )
    task = bar.add_task("bootstrap", total=total)

    def advance(done: int) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done)

    try:
        yield advance
    finally:
        if bar.live.is_started:
            bar.stop()


def _ci(interval: tuple[float, float] | None) -> str:
    if interval is None:
        return ""
    lo, hi = interval
    if max(abs(lo), abs(hi)) >= 1e4:
        return f"[{lo:.3g}, {hi:.3g}]"
    return f"[{lo:.4g}, {hi:.4g}]"


def _with_ci(note: str, interval: tuple[float, float] | None) -> str:
    return note if interval is None else f"{_ci(interval)}  {note}"


def fit_view(
    report: FitReport, saved: str | None = None, plot: str | None = None, audit: bool = False
) -> RenderableType:
    """The report as `chinchilla fit` prints it; `saved` and `plot` are the files the
    command wrote (the law's YAML, the figure), said after the tables; `audit` shows the
    audit's tables (every budget held out, the ordered cuts)."""
    ci = report.intervals() or {}
    parts = _runs_lines(report)
    if report.form_fit is not None:
        parts += _form(report)
    elif report.parametric is not None:
        parts += _parametric(report, ci)
    else:
        parts += _isoflop(report, ci)
    if report.forms is not None:
        parts.append(forms_view(report.forms))
    if audit and report.audit is not None:
        parts.append(audit_view(report.audit))
    if ci and report.samples is not None:
        parts.append(
            Text(
                f"Intervals: {_level(report)} percentile bootstrap over {len(report.samples)} "
                f"resamples (seed {report.seed}).",
                style="dim",
            )
        )
    if report.intervention is not None:  # `vs` or `group`: the variants against it
        from chinchilla_cli.views.interventions import intervention_view

        parts.append(intervention_view(report))
    if saved is not None:
        parts.append(
            unbroken(words(f"Saved the law to {saved}: use it with `law` {saved}"), style="green")
        )
    if plot is not None:
        parts.append(unbroken(f"Wrote the plot to {plot}", style="green"))
    if report.warnings:
        parts.append(warnings_block(report.warnings))
    return Group(*parts)


def _level(report: FitReport) -> str:
    return f"{report.ci_level:g}% CI"


def _runs_lines(report: FitReport) -> list[RenderableType]:
    """Where the runs came from and how many were kept, with the reader's notes."""
    r, log = report.runs, report.log
    kept = f"{r.n_read} rows read, {r.n_dropped} dropped, {r.n_kept} kept"
    if log is not None:  # a training log: say what the points are
        what = "points" if log.n_points > log.n_runs else "runs"
        kept = (
            f"{log.rows_read:,} logged rows ({log.format}) reduced to {r.n_read:,} {what}, "
            f"{r.n_dropped} dropped, {r.n_kept:,} kept"
        )
    parts: list[RenderableType] = [Text.assemble(("Runs: ", "bold"), f"{r.source}: {kept}")]
    for line in (*(log.notes if log is not None else ()), *r.derived, *r.notes):
        parts.append(Padding(Text(words(line), style="dim"), (0, 0, 0, 2)))  # wraps indented
    return parts


def _parametric(report: FitReport, ci: dict[str, tuple[float, float]]) -> list[RenderableType]:
    """Approach 3: the law with its intervals, the frontier it implies, the goodness of
    fit, and (approach both, a task metric) the held-out comparison and the forecast."""
    p = report.parametric
    assert p is not None
    title = "Approach 3: L(N, D) = E + A/N^alpha + B/D^beta"
    t = titled_table(title, min_width=len(title) + 1)
    t.add_column("parameter", style="cyan")
    t.add_column("estimate", justify="right")
    t.add_column(_level(report) if ci else "interval", justify="right")
    held = _held(p.constraints)
    for k, v in p.law.parameters().items():
        shown = f"{v:.4g}" if k in ("A", "B") else f"{v:.4f}"
        t.add_row(k, shown, held.get(k) or _ci(ci.get(k)))
    fr = report.frontier()
    frontier = kv_table(
        "Frontier it implies",
        [
            ("N_opt ∝ C^a", f"a = {fr['a']:.4f}", _ci(ci.get("a"))),
            ("D_opt ∝ C^b", f"b = {fr['b']:.4f}", _ci(ci.get("b"))),
            ("G", f"{fr['G']:.4g}", _with_ci("N_opt = G (C/6)^a", ci.get("G"))),
        ],
    )
    parts: list[RenderableType] = [t, frontier, _tokens_table(report, ci), _goodness(report)]
    if report.comparison is not None:
        parts.append(_comparison(report))
    if report.accuracy is not None:
        parts.append(accuracy_fit_view(report.accuracy, report.ci_level))
    return parts


def _form(report: FitReport) -> list[RenderableType]:
    """A kaplan or coupled law: its parameters, the frontier's slope, the goodness of fit."""
    f = report.form_fit
    assert f is not None
    fr = report.frontier()
    frontier = kv_table(
        "Frontier it implies (numerical: L(N, C/6N) minimised over N)",
        [
            ("N_opt ∝ C^a", f"a = {fr['a']:.4f}", "slope from 1e21 to 1e25 FLOPs"),
            ("D_opt ∝ C^b", f"b = {fr['b']:.4f}", ""),
        ],
    )
    rows = [
        ("objective", f"{f.objective:.6g}", f"sum of Huber(delta={f.huber_delta:g}) losses"),
        ("RMSE of log loss", f"{f.rmse_log_loss:.4f}", f"over {f.n_runs} runs"),
        ("converged", "yes" if f.converged else "NO", f"damped Newton, {f.iterations} iterations"),
        *_held_out_rows(report),
    ]
    return [
        form_law_table(f),
        frontier,
        _tokens_table(report, {}),
        kv_table("Goodness of fit", rows),
    ]


def _held_out_rows(report: FitReport) -> list[tuple[str, str, str]]:
    """The error on the largest budget, and on the worst, each fitted without it."""
    ex, audit = report.extrapolation, report.audit
    rows = []
    if ex is not None:
        rows.append(
            (
                "extrapolation",
                f"{ex.rmse_log_loss:.4f}",
                f"RMSE of log loss on {ex.held_out} when fitted without "
                + ("it" if ex.by_budget else "them"),
            )
        )
    worst = None if audit is None else audit.worst
    if worst is not None and worst.rmse_log_loss is not None:
        what = "budget" if audit is not None and audit.grouping == "budgets" else "band"
        rows.append(
            (
                f"worst {what}",
                f"{worst.rmse_log_loss:.4f}",
                words(
                    f"RMSE of log loss on {sci(worst.flops)} FLOPs ({worst.n_runs} runs), "
                    f"the worst of every {what} held out in turn (`audit`)"
                ),
            )
        )
    covered = None if audit is None else audit.coverage()
    if audit is not None and covered is not None and audit.coverage_level is not None:
        rows.append(
            (
                "new-run coverage",
                f"{covered:.1%}",
                f"of the held-out {what}s' runs inside their {audit.coverage_level:g}% "
                "new-run interval (law and run-to-run noise)",
            )
        )
    return rows


def _goodness(report: FitReport) -> Table:
    """The objective, the RMSE, convergence, the search, and the held-out error."""
    p = report.parametric
    assert p is not None
    rows = [
        ("objective", f"{p.objective:.6g}", f"sum of Huber(delta={p.huber_delta:g}) losses"),
        ("RMSE of log loss", f"{p.rmse_log_loss:.4f}", f"over {p.n_runs} runs"),
        ("converged", "yes" if p.converged else "NO", p.message),
        *_search_rows(p),
        *_held_out_rows(report),
    ]
    return kv_table("Goodness of fit", rows)


def _isoflop(report: FitReport, ci: dict[str, tuple[float, float]]) -> list[RenderableType]:
    """Approach 2: each budget's parabola minimum, then the power laws through them."""
    iso = report.isoflop
    assert iso is not None
    t = titled_table("Approach 2: IsoFLOP minima")
    for col in ("budget C", "runs", "N_opt", "D_opt", "loss at min", "best run", "R²"):
        t.add_column(col, justify="right")
    for m in iso.minima:
        t.add_row(
            sci(m.flops),
            str(m.n_runs),
            human(m.params) + ("" if m.inside else " *"),
            human(m.tokens),
            f"{m.loss:.4f}",
            f"{m.best_loss:.4f}",
            f"{m.r_squared:.3f}" + (" !" if m.poor else ""),
        )
    marks = []
    if any(not m.inside for m in iso.minima):
        marks.append("* minimum outside the sampled sizes")
    if any(m.poor for m in iso.minima):
        marks.append("! poor parabola fit (see the warnings)")
    note = Text(
        "best run: the lowest observed loss of the budget; R²: of its parabola"
        + ("; " + "; ".join(marks) if marks else "")
        + "\n",
        style="dim",
    )
    frontier = kv_table(
        "Frontier",
        [
            ("N_opt = k C^a", f"a = {iso.a:.4f}", _ci(ci.get("a"))),
            ("", f"k = {iso.k:.4g}", _ci(ci.get("k"))),
            ("D_opt = k' C^b", f"b = {iso.b:.4f}", _ci(ci.get("b"))),
            ("", f"k' = {iso.k_tokens:.4g}", _ci(ci.get("k_tokens"))),
        ],
    )
    return [t, note, frontier, _tokens_table(report, ci)]


def _held(constraints: Constraints) -> dict[str, str]:
    """What the interval column says of a fixed or tied parameter."""
    out = {k: "fixed" for k, _ in constraints.fixed}
    for x, y in constraints.tied:
        out[x], out[y] = f"tied to {y}", f"tied to {x}"
    return out


def _search_rows(p: ParametricFit) -> list[tuple[str, str, str]]:
    """How the grid was searched: screened and polished, or every start (a census)."""
    c = p.census
    if c is None:
        return [
            (
                "starts polished",
                f"{p.starts_polished}",
                "of the paper's 4,500-point grid, after screening",
            )
        ]
    return [
        ("starts run", f"{c.n_starts:,}", f"every start of the grid; {c.n_converged:,} converged"),
        ("distinct optima", f"{c.n_optima}", "objectives differing by more than 1e-7 (relative)"),
        ("starts at best", f"{c.starts_at_best:,}", "reached the lowest objective"),
    ] + [
        (
            f"  optimum {i + 1}",
            f"{o.objective:.6g}",
            f"{o.starts:,} starts; E {law.E:.4g}, alpha {law.alpha:.4g}, beta {law.beta:.4g}",
        )
        for i, o in enumerate(c.optima[1:], start=1)
        for law in (law_from_theta(o.theta),)
    ]


def _comparison(report: FitReport) -> RenderableType:
    """`approach` both: each approach fitted without the largest budget, scored on it."""
    cmp = report.comparison
    assert cmp is not None
    t = titled_table(
        f"Held out: the largest budget ({sci(cmp.held_out_flops)} FLOPs, {cmp.n_held_out} "
        f"runs; its own IsoFLOP minimum N_opt = {human(cmp.observed_params)})"
    )
    for col in ("approach", "N_opt predicted", "off by", "RMSE of log loss"):
        t.add_column(col, justify="right" if col != "approach" else "left")
    names = {"parametric": "Approach 3 (parametric)", "isoflop": "Approach 2 (isoflop)"}
    for e in cmp.errors:
        off = "" if e.params_log_error is None else f"{math.exp(e.params_log_error):.3g}x"
        t.add_row(
            names.get(e.approach, e.approach),
            "" if e.predicted_params is None else human(e.predicted_params),
            off,
            "" if e.rmse_log_loss is None else f"{e.rmse_log_loss:.4f}",
        )
    best = cmp.best()
    note = f"closer on these runs: {names[best]}" if best else ""
    return Group(t, Text(note, style="dim")) if note else t


def _tokens_table(report: FitReport, ci: dict[str, tuple[float, float]]) -> Table:
    rows = []
    for key, value in report.tokens_per_param().items():
        rows.append(
            (
                f"tokens per parameter at {key} FLOPs",
                f"{value:.1f}",
                _ci(ci.get(f"tokens_per_param@{key}")),
            )
        )
    return kv_table("Compute-optimal tokens per parameter", rows)
