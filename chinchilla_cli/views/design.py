"""Rich view of the runs `chinchilla sweep --from RUNS --target C` suggests. Presentation
only: every number shown is held by the Suggestion."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from chinchilla_cli.design import Suggestion
from chinchilla_cli.quantity import human, sci
from chinchilla_cli.views import kv_table, titled_table, words

WHAT = {"nopt": "N_opt", "loss": "the compute-optimal loss L*"}


def _value(s: Suggestion, x: float) -> str:
    return human(x) if s.narrow == "nopt" else f"{x:.4f}"


def _span(s: Suggestion, pair: tuple[float, float]) -> str:
    return f"{_value(s, pair[0])} to {_value(s, pair[1])}"


def summary_table(s: Suggestion) -> Table:
    what = WHAT[s.narrow]
    return kv_table(
        f"The next runs to train: narrowing {what} at {sci(s.target_flops)} FLOPs",
        [
            ("fitted to", f"{s.n_fitted} runs", s.source),
            ("run-to-run noise", f"{s.log_loss_sd:.4f}", "sd of log loss around the law"),
            (f"{what} at the target", _value(s, s.value), "under the law fitted to the runs"),
            (f"{s.level:g}% interval now", _span(s, s.before), "linearised"),
            (
                f"{s.level:g}% interval after",
                _span(s, s.after),
                f"with the {len(s.runs)} runs below: {s.narrowing:.3f} of the width now (log)",
            ),
            ("compute of the runs", f"{sci(s.total_flops)} FLOPs", f"each <= {sci(s.max_flops)}"),
        ],
    )


def runs_table(s: Suggestion) -> Table:
    t = titled_table("Runs, in the order chosen", compact=True)
    for name in ("#", "N params", "D tokens", "D/N", "C FLOPs", "loss", "interval after"):
        t.add_column(name, justify="left" if name == "interval after" else "right")
    for i, r in enumerate(s.runs, 1):
        t.add_row(
            str(i),
            human(r.params),
            human(r.tokens),
            f"{r.tokens_per_param:.3g}",
            sci(r.flops),
            f"{r.predicted_loss:.4f}",
            _span(s, r.after),
        )
    return t


def suggestion_view(s: Suggestion) -> RenderableType:
    note = (
        f"loss: the law's prediction; interval after: of {WHAT[s.narrow]} once this run and "
        f"those above it are in. Chosen greedily from {s.n_candidates} candidates (budgets up "
        f"to {sci(s.max_flops)} FLOPs, D/N within the fitted runs'): {s.method}."
    )
    return Group(summary_table(s), Text(""), runs_table(s), Text(words(note), style="dim"))
