"""Rich view of an Intervention: the groups' laws side by side, each variant's effective
compute multiplier at the budgets, its crossover, and what a shared E costs."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.text import Text

from chinchilla_cli.fit_results import (
    FitReport,
    Intervention,
    MultiplierPoint,
    SharedE,
    VariantComparison,
)
from chinchilla_cli.quantity import sci
from chinchilla_cli.views import DASH, kv_table, titled_table, warnings_block, words


def _number(x: float | None) -> str:
    if x is None:
        return "unbounded"
    return f"{x:.3g}"


def _ci(interval: tuple[float | None, float | None] | None, flops: bool = False) -> str:
    if interval is None:
        return ""
    lo, hi = interval
    show = (lambda x: "unbounded" if x is None else sci(x)) if flops else _number
    return f"[{show(lo)}, {show(hi)}]"


def _where(p: MultiplierPoint, v: VariantComparison) -> str:
    if p.within_data:
        return "in the data"
    if p.beyond_data > 1:
        return f"{p.beyond_data:.3g}x beyond"
    if v.data_flops is not None and p.flops < v.data_flops[0]:
        return "below the data"
    return "outside the shared span"


def _laws(report: FitReport, iv: Intervention) -> RenderableType:
    """Each group's law and fit, side by side (the laws the multipliers use)."""
    names = [f"baseline {iv.baseline}"]
    for i, v in enumerate(iv.variants):
        names.append(f"variant{'' if len(iv.variants) == 1 else f' {i + 1}'} {v.label}")
    shared = iv.shared is not None
    t = titled_table("Laws compared" + (", one E shared" if shared else ""))
    t.add_column("", style="cyan")
    t.add_column("baseline", justify="right")
    for i in range(len(iv.variants)):
        t.add_column("variant" if len(iv.variants) == 1 else f"variant {i + 1}", justify="right")
    laws = [iv.baseline_law, *(v.law for v in iv.variants)]
    reports = [report, *(v.report for v in iv.variants)]
    for k in ("E", "A", "B", "alpha", "beta"):
        t.add_row(
            k,
            *(
                f"{law.parameters()[k]:.4g}" if k in "AB" else f"{law.parameters()[k]:.4f}"
                for law in laws
            ),
        )
    t.add_row("runs", *(str(r.runs.n_kept) for r in reports))
    own = "own fit's " if shared else ""
    t.add_row(
        f"{own}RMSE of log loss",
        *(f"{r.parametric.rmse_log_loss:.4f}" if r.parametric else DASH for r in reports),
    )
    t.add_row(
        f"{own}extrapolation",
        *(f"{r.extrapolation.rmse_log_loss:.4f}" if r.extrapolation else DASH for r in reports),
    )
    return Group(t, Text("; ".join(names) + "\n", style="dim"))


def _multipliers(v: VariantComparison, iv: Intervention) -> RenderableType:
    level = f"{iv.ci_level:g}% CI" if iv.resamples else ""
    title = f"Effective compute multiplier: {v.label} against {iv.baseline}"
    t = titled_table(title, compact=True)
    for col in ("budget C", "baseline L*", "variant L*", "multiplier"):
        t.add_column(col, justify="right", no_wrap=True)
    if level:
        t.add_column(level, justify="right", no_wrap=True)
    t.add_column("where", justify="left", no_wrap=True)
    for p in v.points:
        row = [
            sci(p.flops),
            f"{p.baseline_loss:.4f}",
            f"{p.variant_loss:.4f}",
            "unbounded" if p.multiplier is None else f"{p.multiplier:.3g}x",
        ]
        if level:
            row.append(_ci(p.interval))
        row.append(_where(p, v))
        t.add_row(*row)
    lines = [
        "multiplier: the compute the baseline needs to reach the variant's compute-optimal "
        "loss, over the variant's compute (above 1: the variant is worth that many times "
        "its compute)"
    ]
    if v.data_flops is not None:
        lines.append(
            f"in the data: {sci(v.data_flops[0])} to {sci(v.data_flops[1])} FLOPs, the "
            "span both groups' runs cover"
        )
    lines.append(_crossover_line(v, iv))
    return Group(t, Text("\n" + "\n".join(lines) + "\n", style="dim"))


def _crossover_line(v: VariantComparison, iv: Intervention) -> str:
    lo, hi = iv.search_flops
    share = (
        ""
        if v.crossover_share is None
        else f"; the resamples' frontiers meet there in {v.crossover_share:.0%} of them"
    )
    if not v.crossovers:
        if v.ahead == "neither":
            return "no crossover: the two frontiers are the same"
        text = f"no crossover from {sci(lo)} to {sci(hi)} FLOPs: the {v.ahead} is ahead throughout"
        if v.crossover_interval is not None:
            text += f" (where the resamples cross: {_ci(v.crossover_interval, True)} FLOPs{share})"
        return text
    parts = []
    for c in v.crossovers:
        where = "within the data" if c.within_data else "outside the data"
        parts.append(f"{sci(c.flops)} FLOPs ({where}); above it the {c.ahead_above} is ahead")
    text = "crossover at " + "; and at ".join(parts)
    if v.crossover_interval is not None:
        text += f"; {iv.ci_level:g}% CI {_ci(v.crossover_interval, True)} FLOPs{share}"
    return text


def _shared(s: SharedE, iv: Intervention) -> RenderableType:
    f = s.fit
    rows = [
        ("E, shared", f"{f.E:.4f}", _ci(s.e_interval) if s.e_interval else ""),
        (
            "objective",
            f"{f.objective:.6g}",
            f"separate fits {f.separate:.6g}: sharing adds {s.extra_fraction:+.2%}",
        ),
    ]
    for h in s.held_out:
        rows.append(
            (
                "held-out, shared",
                f"{h.rmse_shared:.4f}",
                f"{h.label}: {h.rmse_separate:.4f} alone; RMSE of log loss on {h.held_out}",
            )
        )
    shared_pooled, alone = s.pooled(True), s.pooled(False)
    if shared_pooled is not None and alone is not None:
        rows.append(("  all groups", f"{shared_pooled:.4f}", f"{alone:.4f} alone"))
    note = "the multipliers above come from the shared-E laws"
    if s.held_out_note:
        note += "; " + s.held_out_note
    table = kv_table(words("One E for every group (`shared` E)"), rows)
    return Group(table, Text(note + "\n", style="dim"))


def intervention_view(report: FitReport) -> RenderableType:
    iv = report.intervention
    assert iv is not None
    parts: list[RenderableType] = [_laws(report, iv)]
    if report.samples is not None:  # after the line on the baseline's intervals
        parts.insert(0, Text(""))
    for v in iv.variants:
        parts.append(_multipliers(v, iv))
    if iv.shared is not None:
        parts.append(_shared(iv.shared, iv))
    if iv.resamples:
        parts.append(
            Text(
                f"Multiplier intervals: {iv.ci_level:g}% percentile bootstrap over "
                f"{iv.resamples} resamples, each group's runs drawn on their own (seed "
                f"{iv.seed} for the baseline, one more for each variant)."
                + (" The shared-E refits draw with the baseline's seed." if iv.shared else ""),
                style="dim",
            )
        )
    if iv.warnings:
        parts.append(warnings_block(iv.warnings))
    return Group(*parts)


def comparison_view(iv: Intervention) -> RenderableType:
    """An Intervention on its own (`fit(...).intervention`): as `fit` shows it."""
    return intervention_view(iv.report)
