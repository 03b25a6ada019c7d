"""Rich view of a `chinchilla compare` result. Presentation only: every number shown is
held by the Comparison (beyond formatting)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from chinchilla_cli.comparison import Comparison
from chinchilla_cli.quantity import human, sci
from chinchilla_cli.views import titled_table, words

DASH = "—"


def _table(title: str) -> Table:
    t = titled_table(title, compact=True)
    t.add_column("model", style="cyan", no_wrap=True)
    return t


def _key(text: str) -> Text:
    """The line under a table that says what its columns mean."""
    return Text(text, style="dim")


def _num(t: Table, *headers: str, wrap: bool = False) -> None:
    for h in headers:
        t.add_column(h, justify="right", no_wrap=not wrap, overflow="fold" if wrap else "ellipsis")


def _loss(x: float | None) -> str:
    return DASH if x is None else f"{x:.4f}"


def _ratio(x: float) -> str:
    return f"{x:.3f}" if x < 1 else f"{x:.2f}"


CONFIG_KEY = "C = 6·N·D; reported: the training compute as published (— where none is)"
MOE_KEY = "N active: parameters each token uses (mixture of experts); total: all of them"
ALLOCATION_KEY = (
    "N/N*, D/D*: the run's split over the optimum's (their product is 1); "
    "distance |ln N/N*|: 0 is compute-optimal, 0.69 a factor 2"
)
LOSS_KEY = (
    "N*, D*, L*: the compute-optimal run of the same C; C*/C: the least compute that "
    "reaches the same loss on the frontier, over C (1 = compute-optimal); L(∞,D): the "
    "best any model size does on D tokens"
)
LOSSES_KEY = "* kaplan2020: nats on WebText2, N without embeddings; not comparable"


def configurations_table(cmp: Comparison) -> Table:
    t = _table("Configurations")
    moe = any(r.config.total_params is not None for r in cmp.rows)
    _num(t, "N active" if moe else "N params")
    if moe:
        _num(t, "total")
    _num(t, "D tokens", "D/N", "C FLOPs", "reported")
    for r in cmp.rows:
        c = r.config
        total = [human(c.total)] if moe else []
        t.add_row(
            c.name,
            human(c.params),
            *total,
            human(c.tokens),
            f"{c.tokens_per_param:.1f}",
            sci(c.flops),
            sci(c.reported_flops),
        )
    return t


def law_table(cmp: Comparison) -> Table:
    law = cmp.law
    if not law.predicts_loss:
        t = _table(f"Under {law.name} (allocation only, no loss): the optimum of the same C")
        _num(t, "optimal N*", "optimal D*", "N/N*", "D/D*", "distance")
        for r in cmp.rows:
            t.add_row(
                r.config.name,
                human(r.compute_optimal.params),
                human(r.compute_optimal.tokens),
                _ratio(r.params_ratio),
                _ratio(r.tokens_ratio),
                f"{r.allocation_distance:.2f}",
            )
        return t

    additive = law.kind in ("parametric", "joint_moe")
    if additive:
        title = f"Under {law.name}: L = E + A/N^α + B/D^β, E = {law.E:g}"  # type: ignore[union-attr]
        if law.kind == "joint_moe":
            title += " (A, α, B, β at each run's experts)"
    else:
        title = f"Under {law.name} ({law.kind}: no additive split of the loss)"
    t = _table(title)
    _num(t, "loss L")
    if additive:
        _num(t, "A/N^α", "B/D^β")
    _num(t, "N*", "D*", "L*", "C*/C", "L(∞,D)")
    for r in cmp.rows:
        cells = [_loss(r.loss.total if r.loss else None)]
        if additive:
            cells += [
                _loss(r.loss.params_term if r.loss else None),
                _loss(r.loss.data_term if r.loss else None),
            ]
        eff = r.compute_efficiency
        cells += [
            human(r.compute_optimal.params),
            human(r.compute_optimal.tokens),
            _loss(r.compute_optimal_loss),
            DASH if eff is None else f"{eff:.2f}",
            _loss(r.data_ceiling_loss),
        ]
        t.add_row(r.config.name, *cells)
    return t


def losses_table(cmp: Comparison) -> Table:
    t = _table("Predicted loss by law")
    headers = [name + (" *" if name == "kaplan2020" else "") for name in cmp.loss_laws]
    if len(headers) > 4:  # more than the presets: break long law names at their hyphens
        headers = [_two_lines(h) if len(h) > 13 else h for h in headers]
    _num(t, *headers, wrap=True)
    for r in cmp.rows:
        by_law = dict(r.losses)
        t.add_row(r.config.name, *[_loss(by_law.get(name)) for name in cmp.loss_laws])
    return t


def _two_lines(name: str) -> str:
    """Break a long hyphenated name after the hyphen nearest its middle."""
    cuts = [i + 1 for i, ch in enumerate(name) if ch == "-"]
    if not cuts:
        return name
    cut = min(cuts, key=lambda i: max(i, len(name) - i))
    return name[:cut] + "\n" + name[cut:]


def compare_view(cmp: Comparison) -> RenderableType:
    all_laws = cmp.all_laws
    law_key = LOSS_KEY if cmp.law.predicts_loss else ALLOCATION_KEY
    parts: list[RenderableType] = [
        configurations_table(cmp),
        _key(CONFIG_KEY),
        *([_key(MOE_KEY)] if any(r.config.total_params is not None for r in cmp.rows) else []),
        Text(""),
        law_table(cmp),
        _key(law_key),
        Text(""),
    ]
    if all_laws and cmp.loss_laws:
        parts += [losses_table(cmp)]
        if "kaplan2020" in cmp.loss_laws:
            parts.append(_key(LOSSES_KEY))
        parts.append(Text(""))
    paragraphs: list[RenderableType] = [Text(words(sentence)) for sentence in cmp.findings]
    paragraphs += [Text.assemble(("note: ", "bold yellow"), words(note)) for note in cmp.notes]
    for i, p in enumerate(paragraphs):
        parts += [p] if i == len(paragraphs) - 1 else [p, Text("")]
    return Group(*parts)
