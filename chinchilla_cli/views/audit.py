"""Rich views of a fit's audit (every budget held out, ordered cuts), of the forms
compared (`fit --form compare`), and of a kaplan or coupled law's parameters."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from chinchilla_cli.audit import Audit
from chinchilla_cli.form_compare import FormComparison
from chinchilla_cli.forms import FormFit
from chinchilla_cli.laws import FORM_LOSS
from chinchilla_cli.quantity import human, sci
from chinchilla_cli.views import titled_table

FORM_TITLES = {
    "chinchilla": "Chinchilla",
    "kaplan": "Kaplan (+E)",
    "coupled": "coupled",
}


def _num(x: float | None, fmt: str = ".4f") -> str:
    return "—" if x is None else format(x, fmt)


def form_law_table(f: FormFit) -> Table:
    """The fitted law of another form: its parameters by the form's own names."""
    loss = FORM_LOSS[f.form]
    if f.irreducible:
        title = f"{FORM_TITLES[f.form]} form: L(N, D) = {loss}"
    else:  # E held at 0: Kaplan et al. 2020, eq. 1.5 itself
        title = f"Kaplan form (eq. 1.5): L(N, D) = {loss.removeprefix('E + ')}"
    t = titled_table(title, min_width=len(title) + 1)
    t.add_column("parameter", style="cyan")
    t.add_column("estimate", justify="right")
    t.add_column("", style="dim")
    for k, v in f.law.parameters().items():
        held = "fixed" if k == "E" and not f.irreducible else ""
        t.add_row(k, f"{v:.4g}" if k in ("A", "B", "N_c", "D_c") else f"{v:.4f}", held)
    return t


def audit_view(audit: Audit) -> RenderableType:
    """Every budget held out in turn, then the ordered cuts by decades extrapolated."""
    what = "budget" if audit.grouping == "budgets" else "compute band"
    t = titled_table(
        f"Audit: every {what} held out in turn ({len(audit.held_out)}), fitted on the rest"
    )
    level = audit.coverage_level
    columns = ["C (FLOPs)", "runs", "outside (decades)", "RMSE of log loss", "bias"]
    if level is not None:
        columns.append(f"in {level:g}%")
    for col in columns:
        t.add_column(col, justify="right")
    worst = audit.worst
    for b in audit.held_out:
        mark = " worst" if b is worst else ""
        row = [
            sci(b.flops),
            str(b.n_runs),
            f"{b.decades:+.2f}" if b.decades else "inside",
            _num(b.rmse_log_loss) + mark,
            _num(b.bias_log_loss, "+.4f"),
        ]
        if level is not None:
            row.append("—" if b.coverage is None else f"{b.coverage:.0%}")
        t.add_row(*row)
    cuts = titled_table(
        f"Ordered cuts: fitted on the smallest budgets, predicting every larger one "
        f"({len(audit.cuts)} cuts)"
    )
    for col in ("decades extrapolated", "pairs", "runs", "RMSE of log loss", "bias"):
        cuts.add_column(col, justify="right")
    for d in audit.by_decades():
        cuts.add_row(
            f"{d.low:.1f} to {d.high:.1f}",
            str(d.n_pairs),
            str(d.n_runs),
            f"{d.rmse_log_loss:.4f}",
            f"{d.bias_log_loss:+.4f}",
        )
    covered = (
        ""
        if level is None
        else f"in {level:g}%: the share of the budget's runs inside their new-run "
        "interval (the refit's law and run-to-run noise, linearised); "
    )
    note = Text(
        "bias: mean log(predicted / observed), positive when the law predicts too high a "
        f"loss; {covered}{audit.refits}\n",
        style="dim",
    )
    return Group(t, cuts, note)


def forms_view(cmp: FormComparison) -> RenderableType:
    """The forms ranked by ordered-cut error, then the N_opt each implies."""
    t = titled_table("Forms compared by how they extrapolate (best first; RMSE of log loss)")
    t.add_column("form", style="cyan")
    for col in ("in sample", "ordered cuts", "worst budget", "largest budget"):
        t.add_column(col, justify="right")
    for r in cmp.results:
        a = r.audit
        t.add_row(
            FORM_TITLES[r.form],
            _num(r.rmse_log_loss),
            _num(r.cut_rmse),
            _num(None if a is None or a.worst is None else a.worst.rmse_log_loss),
            _num(None if a is None or a.largest is None else a.largest.rmse_log_loss),
        )
    n = titled_table("The compute-optimal N each implies")
    n.add_column("form", style="cyan")
    for c in cmp.budgets:
        n.add_column(f"at {sci(c)} FLOPs", justify="right")
    for r in cmp.results:
        n.add_row(FORM_TITLES[r.form], *(human(x) for x in r.optimal_params))
    n.add_row("spread", *("—" if s is None else f"{s:.2f}x" for s in cmp.spread()))
    note = Text(
        f"chosen: {FORM_TITLES[cmp.chosen]} (the lowest RMSE of log loss over every ordered "
        "cut); spread: the largest N_opt over the smallest\n",
        style="dim",
    )
    return Group(t, n, note)
