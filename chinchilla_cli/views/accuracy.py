"""Rich views of the accuracy forecast: the fitted sigmoid (fit) and the metric a plan
predicts (plan). Formatting only."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table

from chinchilla_cli.accuracy import FORM, AccuracyFit, AccuracyForecast
from chinchilla_cli.views import kv_table, titled_table


def _ci(interval: tuple[float, float] | None) -> str:
    return "" if interval is None else f"[{interval[0]:.4g}, {interval[1]:.4g}]"


def accuracy_fit_view(fit: AccuracyFit, ci_level: float) -> RenderableType:
    """The sigmoid `fit` fitted, with its intervals, and how well it and the chained
    forecast reproduce the runs' metric."""
    ci = fit.intervals(ci_level) or {}
    title = f"Accuracy forecast: {fit.metric} = {FORM}"
    t = titled_table(title)
    t.add_column("parameter", style="cyan")
    t.add_column("estimate", justify="right")
    t.add_column(f"{ci_level:g}% CI" if ci else "", justify="right")
    notes = {
        "a": "span: ceiling a + b",
        "k": "steepness (< 0: falls as loss rises)",
        "L0": "loss at the midpoint",
        "b": "floor (chance)",
    }
    for name, value in fit.parameters().items():
        t.add_row(name, f"{value:.4g}", _ci(ci.get(name)) or notes[name])
    rows = [
        (
            "RMSE",
            f"{fit.rmse:.4f}" if fit.rmse is not None else "—",
            f"against the observed loss of {fit.n_runs} runs",
        ),
        (
            "RMSE chained",
            f"{fit.rmse_chained:.4f}" if fit.rmse_chained is not None else "—",
            "the law's predicted loss through the sigmoid: the forecast's own error",
        ),
    ]
    if fit.n_skipped:
        rows.append(
            (
                "runs left out",
                f"{fit.n_skipped}",
                "no value in the column (the law's fit keeps them)",
            )
        )
    return Group(t, kv_table("Goodness of the accuracy fit", rows))


def forecast_table(forecast: AccuracyForecast, fit: AccuracyFit | None = None) -> Table:
    """The metric a plan predicts, beside the predicted loss."""
    f = forecast
    note = (
        f"{f.level:g}% interval {f.interval[0]:.1%} to {f.interval[1]:.1%} ({f.source})"
        if f.interval is not None and f.level is not None
        else "the sigmoid of the predicted loss"
    )
    rows = [(f.metric, f"{f.value:.1%}", note)]
    if fit is not None:
        rows.append(
            (
                "from loss",
                f"{f.loss:.4f}",
                f"{FORM}: a {fit.a:.4g}, k {fit.k:.4g}, L0 {fit.L0:.4g}, b {fit.b:.4g}",
            )
        )
    return kv_table("Predicted accuracy", rows)
