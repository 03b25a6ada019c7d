"""Rich view of a Joint MoE fit (`chinchilla fit` on runs with an experts column).
Presentation only."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from chinchilla_cli.moe_fit import MoEFitReport
from chinchilla_cli.moe_scaling import JointMoE
from chinchilla_cli.views import titled_table, warnings_block, words


def moe_fit_view(
    report: MoEFitReport, saved: str | None = None, plot: str | None = None
) -> RenderableType:
    """The runs, the eleven constants (with intervals when bootstrapped), the fit."""
    r = report.runs
    experts = ", ".join(f"{e:g}" for e in report.experts)
    parts: list[RenderableType] = [
        Text(
            f"Runs: {r.source}: {r.n_read} rows read, {r.n_dropped} dropped, {r.n_kept} "
            f"kept; experts {experts}"
        ),
        Text(
            "Joint MoE (Ludziejewski et al. 2025, eq. 6): L = a Ê^δ N^(α + γ ln Ê) "
            "+ b Ê^ω D^(β + ζ ln Ê) + c"
        ),
        _constants(report),
        Text(
            words(
                f"Huber(delta={report.huber_delta:g}) on log loss: objective "
                f"{report.objective:.6g}, RMSE of log loss {report.rmse_log_loss:.4f} over "
                f"{r.n_kept} runs; " + ("converged" if report.converged else "NOT converged")
            )
        ),
    ]
    if report.samples:
        parts.append(
            Text(
                f"Intervals: {report.ci_level:g}% percentile bootstrap over "
                f"{len(report.samples)} resamples (seed {report.seed})."
            )
        )
    if saved is not None:
        parts.append(Text(f"Saved the law to {saved}: plan --law {saved} --arch moe --experts E"))
    if report.warnings:
        parts.append(warnings_block(report.warnings))
    return Group(*parts)


def _constants(report: MoEFitReport) -> Table:
    ci = report.intervals()
    t = titled_table("")
    t.add_column("constant")
    t.add_column("estimate", justify="right")
    if ci is not None:
        t.add_column(f"{report.ci_level:g}% CI", justify="right")
    for name, value in zip(JointMoE.names(), report.law.as_tuple(), strict=True):
        cells = [name, f"{value:.4g}"]
        if ci is not None:
            lo, hi = ci[name]
            cells.append(f"[{lo:.4g}, {hi:.4g}]")
        t.add_row(*cells)
    return t
