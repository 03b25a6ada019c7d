"""Rich views of the core's result objects. Presentation only: no numbers are computed
here that the result objects do not already hold (beyond unit conversions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from chinchilla_cli.advice import CRITICAL_BATCH_NOTE, HyperparameterAdvice
from chinchilla_cli.architecture import Architecture
from chinchilla_cli.laws import INCOMPARABLE_KINDS
from chinchilla_cli.moe import MoEArchitecture
from chinchilla_cli.planning import Frontier, Plan
from chinchilla_cli.quantity import human, sci
from chinchilla_cli.views import days, kv_table, titled_table, warnings_block, words

if TYPE_CHECKING:  # an MoE plan's comparison and learning rate (moe_laws loads with them)
    from chinchilla_cli.moe_laws import MoEChoice, MoELearningRate

BUDGET_SOURCES = {
    "flops": "given",
    "hardware": "chips x peak x MFU x goodput x time",
    "params": "the optimum for the given N",
    "tokens": "the optimum for the given D",
    "target-loss": "the least compute that reaches the target loss",
    "params-and-tokens": "6 x the given N x the given D",
}


def plan_view(plan: Plan) -> RenderableType:
    """Every section of a plan, in the order a reader checks them."""
    parts: list[RenderableType] = [headline(plan), Text(""), budget_table(plan)]
    parts.append(allocation_table(plan))
    if plan.moe_choice is not None:
        parts.append(moe_choice_table(plan.moe_choice))
    if plan.constrained is not None:
        parts.append(constrained_table(plan))
    parts.append(loss_table(plan))
    if plan.accuracy is not None:
        from chinchilla_cli.views.accuracy import forecast_table  # only a forecast needs it

        parts.append(forecast_table(plan.accuracy, getattr(plan.law, "accuracy", None)))
    a = plan.architecture
    if plan.model is not None:
        parts.append(named_model_table(plan))
    elif isinstance(a, MoEArchitecture):
        parts.append(moe_sketch_table(a))
    else:
        parts.append(dense_sketch_table(a))
    parts.append(feasibility_table(plan))
    if plan.cost is not None and plan.energy is not None:
        parts.append(cost_table(plan))
    if plan.inference is not None:
        parts.append(inference_table(plan))
    if plan.tradeoff:
        parts.append(tradeoff_table(plan))
    if plan.hyperparameters is not None:
        parts.append(hyperparameters_table(plan.hyperparameters, plan.moe_learning_rate))
    parts.append(crosscheck_table(plan))
    for line in plan.findings:
        parts.append(Text(words(line[0].upper() + line[1:] + ".")))
    if plan.assumptions:
        parts.append(Text(words("Assumptions: " + "; ".join(plan.assumptions)), style="dim"))
    if plan.warnings:
        parts.append(warnings_block(plan.warnings))
    return Group(*parts)


def budget_table(plan: Plan) -> RenderableType:
    """The budget, and the cluster that spends it."""
    b, f = plan.budget, plan.feasibility
    budget_rows = [("compute", f"{sci(b.flops)} FLOPs", BUDGET_SOURCES.get(b.source, b.source))]
    if b.cluster is not None:
        c = b.cluster
        budget_rows += [
            (
                "hardware",
                f"{c.chips:,} x {c.accelerator.name}",
                f"{c.peak_flops_per_second / 1e12:,.1f} TFLOP/s {c.precision} dense peak each",
            ),
            (
                "utilisation",
                f"MFU {c.mfu:.0%}, goodput {c.goodput:.0%}",
                f"{sci(c.flops_per_second)} FLOP/s delivered",
            ),
            (
                "wall-clock",
                days(b.seconds),
                "given" if b.source == "hardware" else "to spend the budget",
            ),
        ]
        if f.seconds is not None and plan.recommendation == "inference-aware":
            budget_rows.append(("recommended run", days(f.seconds), "its own 6ND on this cluster"))
    return kv_table("Budget", budget_rows)


ALLOCATION_TITLES = {
    "compute-optimal": "Compute-optimal allocation",
    "data-constrained": "Data-constrained optimal allocation",
    "inference-aware": "Inference-aware allocation (recommended)",
    "as-given": "The run as given",
}


def allocation_table(plan: Plan) -> RenderableType:
    """The recommended N and D, beside the law's plain split when they differ."""
    o, u, co = plan.optimal, plan.uncertainty, plan.compute_optimal
    beside = []
    if plan.recommendation != "compute-optimal":
        interval = (
            f"; {u.level:g}% interval of N_opt {human(u.params.low)} to {human(u.params.high)}"
            if u
            else ""
        )
        beside.append(
            (
                "compute-optimal",
                f"{human(co.params)} on {human(co.tokens)}",
                f"the law's split of the same compute, {co.tokens_per_param:.1f} tokens per "
                "parameter" + interval,
            )
        )
    rows = [
        (
            _n_label(plan),
            human(o.params),
            f"{u.level:g}% interval of N_opt {human(u.params.low)} to {human(u.params.high)}"
            if u and not beside
            else f"{o.params:,.0f}",
        ),
        (
            "training tokens D",
            human(o.tokens),
            f"{u.level:g}% interval of D_opt {human(u.tokens.low)} to {human(u.tokens.high)}"
            if u and not beside
            else f"{o.tokens:,.0f}",
        ),
        ("tokens per parameter", f"{o.tokens_per_param:.1f}", "D / N"),
        ("compute C = 6ND", f"{sci(o.flops)} FLOPs", ""),
        *beside,
    ]
    if plan.compute_efficiency is not None:
        rows.append(
            (
                "compute efficiency",
                f"{plan.compute_efficiency:.2f}",
                "C*/C: the compute-optimal run reaches this loss with this fraction of the compute",
            )
        )
    if plan.within_fit_range is not None:
        rows.append(
            (
                "law's fitted runs",
                "within" if plan.within_fit_range else "EXTRAPOLATED",
                "within a decade of the runs the law was fitted to"
                if plan.within_fit_range
                else "more than a decade beyond them (see the warning)",
            )
        )
    title = ALLOCATION_TITLES[plan.recommendation]
    if plan.model is not None:
        title = f"{plan.model.name} as built"
    return kv_table(f"{title} ({plan.law.name})", rows)


def loss_table(plan: Plan) -> RenderableType:
    """The predicted loss and its terms (or why there is none)."""
    u, lt = plan.uncertainty, plan.loss
    if lt is None:
        return Text(
            f"Predicted loss: {plan.law.name} is an allocation-only law and predicts no loss.",
            style="dim",
        )
    if lt.irreducible is None:
        return kv_table(
            "Predicted loss",
            [("loss L(N, D)", f"{lt.total:.4f}", "no additive split for this law")],
        )
    if u:
        how = (
            f"{u.level:g}% interval {u.loss.low:.4f} to {u.loss.high:.4f} "
            f"({u.samples} bootstrap fits)"
        )
    elif plan.constrained:
        how = "E + A/N'^alpha + B/D'^beta (effective N', D')"
    else:
        how = "E + A/N^alpha + B/D^beta"
    new_run = []
    if u and u.loss_new_run is not None:
        new_run.append(
            (
                "a new run's loss",
                "",
                f"{u.level:g}% interval {u.loss_new_run.low:.4f} to {u.loss_new_run.high:.4f} "
                "(the law's, plus its fit's run-to-run noise)",
            )
        )
    return kv_table(
        "Predicted loss",
        [
            ("loss L(N, D)", f"{lt.total:.4f}", how),
            *new_run,
            ("irreducible E", f"{lt.irreducible:.4f}", "entropy of text"),
            ("params term A/N^alpha", f"{lt.params_term:.4f}", "finite model"),
            ("data term B/D^beta", f"{lt.data_term:.4f}", "finite data"),
        ],
    )


def feasibility_table(plan: Plan) -> RenderableType:
    """Training memory against the cluster's, and the throughput the run needs."""
    a, f = plan.architecture, plan.feasibility
    feas_rows = [
        (
            "training memory",
            f"{f.train_memory_bytes / 1e12:,.2f} TB",
            f"{f.bytes_per_param} bytes/param: weights, grads, Adam (activations excluded)"
            + (
                f"; all {human(f.memory_params)} parameters"
                if isinstance(a, MoEArchitecture) and f.memory_params is not None
                else ""
            ),
        )
    ]
    if f.fits is not None:
        assert f.cluster_memory_bytes is not None
        feas_rows.append(
            (
                "cluster memory",
                f"{f.cluster_memory_bytes / 1e12:,.2f} TB",
                "fits, fully sharded" if f.fits else "DOES NOT FIT",
            )
        )
        feas_rows.append(("min chips for memory", f"{f.min_chips_for_memory:,}", ""))
    if f.tokens_per_second is not None:
        assert f.tokens_per_second_per_chip is not None
        feas_rows.append(
            (
                "throughput needed",
                f"{human(f.tokens_per_second)} tokens/s",
                f"{f.tokens_per_second_per_chip:,.0f} tokens/s per chip",
            )
        )
    return kv_table("Feasibility", feas_rows)


def _trunk_rows(a: Architecture | MoEArchitecture) -> list[tuple[str, str, str]]:
    """Depth, width and heads: what dense and mixture-of-experts sketches share."""
    latent = isinstance(a, MoEArchitecture) and a.latent_attention is not None
    return [
        ("layers", f"{a.n_layers}", f"d_model / layers = {a.aspect_ratio:.0f}"),
        ("d_model", f"{a.d_model:,}", ""),
        (
            "heads x head size",
            f"{a.n_heads} x {a.head_dim}",
            "multi-head latent attention"
            if latent
            else ""
            if a.n_kv_heads == a.n_heads
            else f"{a.n_kv_heads} key/value heads",
        ),
    ]


def named_model_table(plan: Plan) -> Table:
    """A preset's shape as built, with its authors' parameter counts beside the count."""
    m = plan.model
    assert m is not None
    a, title = m.architecture, f"Architecture ({m.name} as built)"
    published = (
        "published",
        m.published(),
        f"the counted total is {m.count_mismatch:+.1%} from it (sources: `chinchilla presets "
        "models`)",
    )
    if isinstance(a, MoEArchitecture):
        return moe_sketch_table(a, title, (published,))
    return dense_sketch_table(a, title, (published,))


def moe_sketch_table(
    a: MoEArchitecture, title: str | None = None, extra: tuple[tuple[str, str, str], ...] = ()
) -> Table:
    shared = f", {a.shared_experts} shared" if a.shared_experts else ""
    dense = f"; the first {a.dense_layers} dense" if a.dense_layers else ""
    return kv_table(
        title or "Architecture sketch (mixture of experts)",
        [
            *_trunk_rows(a),
            ("experts", f"{a.experts} routed", f"top-{a.top_k} per token{shared}{dense}"),
            (
                "expert width",
                f"{a.expert_ffw_size:,}",
                f"SwiGLU; dense width {a.ffw_size:,}" if a.ffw_size else "SwiGLU",
            ),
            ("vocabulary / sequence", f"{a.vocab_size:,} / {a.seq_len:,}", ""),
            ("total parameters", f"{a.params:,}", "every expert: what memory holds"),
            (
                "active parameters",
                f"{a.active_params:,}",
                f"{a.active_fraction:.0%} of the total: what each token uses (N)",
            ),
            (
                "training FLOPs / token",
                f"{sci(a.flops_per_token)}",
                f"appendix F on the active path; 6N_active = {sci(a.flops_per_token_6n)}",
            ),
            *extra,
        ],
    )


def dense_sketch_table(
    a: Architecture, title: str | None = None, extra: tuple[tuple[str, str, str], ...] = ()
) -> Table:
    return kv_table(
        title or "Architecture sketch",
        [
            *_trunk_rows(a),
            (
                "feed-forward",
                f"{a.ffw_size:,}",
                "4 x d_model" if a.family == "chinchilla" else "SwiGLU",
            ),
            ("vocabulary / sequence", f"{a.vocab_size:,} / {a.seq_len:,}", ""),
            ("parameters", f"{a.params:,}", _params_formula(a.family)),
            (
                "non-embedding",
                f"{a.non_embedding_params:,}",
                f"{a.non_embedding_fraction:.0%} of the total",
            ),
            (
                "training FLOPs / token",
                f"{sci(a.flops_per_token)}",
                f"appendix F; 6N = {sci(a.flops_per_token_6n)} "
                f"({a.flops_per_token_ratio_to_6n:.2f}x)",
            ),
            *extra,
        ],
    )


def headline(plan: Plan) -> Text:
    """The answer to the question asked, in one sentence."""
    o, b, f = plan.optimal, plan.budget, plan.feasibility
    run = (
        f"{_params_phrase(plan)} on {human(o.tokens)} tokens "
        f"({o.tokens_per_param:.1f} per parameter), {sci(o.flops)} FLOPs"
    )
    lead = {
        "compute-optimal": f"Compute-optimal under {plan.law.name}: ",
        "data-constrained": f"With repeated data, under {plan.law.name}: ",
        "inference-aware": f"Cheapest over its life, under {plan.law.name}: ",
        "as-given": f"As given, under {plan.law.name}: ",
    }[plan.recommendation]
    if plan.model is not None:
        lead = f"{plan.model.name} as built, under {plan.law.name}: "
    parts = [run]
    if plan.loss is not None:
        parts.append(f"predicted loss {plan.loss.total:.4f}")
    if b.cluster is not None and f.seconds is not None:
        parts.append(f"{days(f.seconds)} on {b.cluster.chips:,} x {b.cluster.accelerator.name}")
        if f.fits is False:
            parts.append("does NOT fit in the cluster's memory")
    if plan.compute_efficiency is not None:
        parts.append(
            f"the compute-optimal split reaches the same loss with "
            f"{plan.compute_efficiency:.0%} of the compute"
        )
    return Text.assemble(("Plan: ", "bold"), lead + "; ".join(parts) + ".")


def _n_label(plan: Plan) -> str:
    return (
        "active parameters N" if isinstance(plan.architecture, MoEArchitecture) else "parameters N"
    )


def _params_phrase(plan: Plan) -> str:
    """N, said as active and total for a mixture of experts."""
    n, held = plan.optimal.params, plan.feasibility.memory_params
    if isinstance(plan.architecture, MoEArchitecture) and held is not None:
        return f"{human(n)} active parameters ({human(held)} in all)"
    return f"{human(n)} parameters"


def _sketch_brief(a: Architecture | MoEArchitecture) -> str:
    if isinstance(a, MoEArchitecture):
        return (
            f"{a.experts} expert{'s' * (a.experts != 1)}, top-{a.top_k}; "
            f"{human(a.active_params)} active of "
            f"{human(a.params)}"
        )
    return f"{a.n_heads} heads, {human(a.params)} parameters"


def brief_view(plan: Plan) -> RenderableType:
    """One screen: budget, allocation, loss, sketch, feasibility, time and cost."""
    o, a, f, b = plan.optimal, plan.architecture, plan.feasibility, plan.budget
    compute = ("compute", f"{sci(b.flops)} FLOPs", BUDGET_SOURCES.get(b.source, b.source))
    if plan.recommendation == "inference-aware":  # the run below spends more than the budget
        source = BUDGET_SOURCES.get(b.source, b.source)
        compute = ("compute", f"{sci(o.flops)} FLOPs", f"this run's 6ND; {source}: {sci(b.flops)}")
    rows = [
        compute,
        (_n_label(plan), human(o.params), f"{o.tokens_per_param:.1f} tokens per parameter"),
        ("training tokens D", human(o.tokens), plan.recommendation),
        ("loss", "—" if plan.loss is None else f"{plan.loss.total:.4f}", plan.law.name),
        *(
            []
            if plan.accuracy is None
            else [
                (
                    plan.accuracy.metric,
                    f"{plan.accuracy.value:.1%}",
                    "predicted from the loss"
                    if plan.accuracy.interval is None
                    else f"{plan.accuracy.interval[0]:.1%} to {plan.accuracy.interval[1]:.1%}",
                )
            ]
        ),
        (
            "sketch" if plan.model is None else "as built",
            f"{a.n_layers} x {a.d_model:,}",
            _sketch_brief(a),
        ),
        (
            "training memory",
            f"{f.train_memory_bytes / 1e12:,.2f} TB",
            "" if f.fits is None else ("fits" if f.fits else "DOES NOT FIT"),
        ),
    ]
    if b.cluster is not None:
        rows.append(
            ("wall-clock", days(f.seconds), f"{b.cluster.chips:,} x {b.cluster.accelerator.name}")
        )
    if plan.cost is not None:
        usd = "—" if plan.cost.usd is None else f"${plan.cost.usd:,.0f}"
        rows.append(("cost", usd, f"{plan.cost.chip_hours:,.0f} chip-hours"))
    trained = None if plan.model is None else plan.model.training
    if plan.cost is not None and trained is not None and trained.gpu_hours is not None:
        rows.append(
            (
                "published",
                f"{trained.gpu_hours:,.0f} GPU-hours",
                f"{plan.model.name} on {trained.accelerator}, {trained.precision}",  # type: ignore[union-attr]
            )
        )
    if plan.moe_learning_rate is not None:
        m = plan.moe_learning_rate
        beyond = ", extrapolated: fitted on top-1, up to 32 experts" if m.extrapolated else ""
        rows.append(("peak LR (MoE)", f"{m.learning_rate:.3g}", "ludziejewski2025 eq. 8" + beyond))
    parts: list[RenderableType] = [headline(plan), Text(""), kv_table("Plan", rows)]
    if plan.moe_choice is not None:
        parts.append(moe_choice_table(plan.moe_choice))
    if plan.moe_learning_rate is not None and plan.hyperparameters is not None:
        h = plan.hyperparameters
        step = next((x for x in h.laws if x.law == "steplaw2025"), None)
        if step is not None:
            parts.append(
                Text(
                    words(
                        f"Step Law's peak learning rate: {step.learning_rate:.3g}. "
                        + plan.moe_learning_rate.step_law_note
                        + "."
                    ),
                    style="dim",
                )
            )
    if plan.warnings:
        parts.append(warnings_block(plan.warnings))
    return Group(*parts)


def cost_table(plan: Plan) -> Table:
    cost, energy = plan.cost, plan.energy
    assert cost is not None and energy is not None
    usd = "—" if cost.usd is None else f"${cost.usd:,.0f}"
    price = (
        words("no price in the preset: pass `price_per_hour`")
        if cost.usd_per_chip_hour is None
        else f"${cost.usd_per_chip_hour:,.2f}/chip-hour"
        + (
            words(" (`price_per_hour`)")
            if cost.price_source == "given"
            else " (approximate on-demand, 2024-26)"
        )
    )
    rows = [
        ("chip-hours", f"{cost.chip_hours:,.0f}", "chips x wall-clock hours"),
        ("cost", usd, price),
    ]
    if energy.kwh is None:
        rows.append(("energy", "—", words("no TDP for this accelerator: pass `tdp_watts`")))
    else:
        assert energy.kg_co2e is not None
        rows.append(
            (
                "energy",
                f"{energy.kwh / 1000:,.1f} MWh",
                f"{energy.tdp_watts:g} W x chips x hours x PUE {energy.pue:g}",
            )
        )
        rows.append(
            (
                "emissions",
                f"{energy.kg_co2e / 1000:,.1f} t CO2e",
                f"at {energy.grid_g_per_kwh:g} gCO2e/kWh",
            )
        )
    return kv_table("Time, cost and energy (approximate)", rows)


def constrained_table(plan: Plan) -> Table:
    c = plan.constrained
    assert c is not None
    return kv_table(
        "Data-constrained (Muennighoff et al. 2023)",
        [
            ("unique tokens", human(c.unique_tokens), ""),
            (
                "epochs",
                f"{c.epochs:.2f}",
                "D / unique tokens" + ("; returns fall off beyond ~4" if c.epochs > 4 else ""),
            ),
            (
                "effective tokens D'",
                human(c.effective_tokens),
                f"repeats decay with R_D* = {c.R_D_star:.2f}",
            ),
            (
                "effective params N'",
                human(c.effective_params),
                f"excess size decays with R_N* = {c.R_N_star:.2f}",
            ),
            ("loss", f"{c.loss:.4f}", "with repeated data"),
            (
                "unlimited-data loss",
                f"{c.unconstrained_loss:.4f}",
                f"{human(c.unconstrained_params)} on {human(c.unconstrained_tokens)} fresh tokens",
            ),
            ("loss penalty", f"{c.loss_penalty:+.4f}", "of having only the unique tokens"),
        ],
    )


def inference_table(plan: Plan) -> Table:
    i = plan.inference
    assert i is not None
    moe = isinstance(plan.architecture, MoEArchitecture)
    return kv_table(
        f"Inference-aware (Sardana et al. 2024): {human(i.inference_tokens)} tokens served",
        [
            ("target loss", f"{i.target_loss:.4f}", "same loss, least lifetime compute"),
            (
                "active parameters N" if moe else "parameters N",
                human(i.params),
                f"vs {human(i.chinchilla_params)} compute-optimal",
            ),
            (
                "serving memory",
                f"{(plan.serving_memory_bytes or 0) / 1e9:,.0f} GB",
                "bf16 weights of every expert (all are held; a token uses the active ones)"
                if moe
                else "bf16 weights",
            ),
            (
                "training tokens D",
                human(i.tokens),
                f"vs {human(i.chinchilla_tokens)}; {i.tokens_per_param:.0f} tokens per parameter",
            ),
            ("training compute", f"{sci(i.training_flops)} FLOPs", "6ND"),
            (
                "lifetime compute",
                f"{sci(i.lifetime_flops)} FLOPs",
                f"6ND + 2N·D_inf; compute-optimal model: {sci(i.chinchilla_lifetime_flops)}",
            ),
            (
                "saved",
                f"{i.saved_fraction:.1%}",
                f"{sci(i.saved_flops)} FLOPs over the model's life",
            ),
        ],
    )


def tradeoff_table(plan: Plan) -> Table:
    title = "Smaller or larger at the same loss (de Vries 2023)"
    t = titled_table(
        title,
        min_width=len(title) + 1,
    )
    for col in ("size", "N", "D needed", "compute overhead"):
        t.add_column(col, justify="right")
    for r in plan.tradeoff:
        over = "unreachable" if r.compute_overhead is None else f"{r.compute_overhead:+.1%}"
        t.add_row(
            f"{r.size_factor:g}x",
            human(r.params),
            human(r.tokens),
            over,
            style="bold" if r.size_factor == 1.0 else None,
        )
    return t


def frontier_view(frontier: Frontier) -> RenderableType:
    law, rows = frontier.law, frontier.rows
    t = titled_table(f"Compute-optimal frontier ({law.name})")
    for col in ("C FLOPs", "N", "D", "D/N", "loss"):
        t.add_column(col, justify="right")
    banded = any(r.uncertainty for r in rows)
    if banded:
        t.add_column("N interval", justify="right", no_wrap=True)
    metric = next((r.accuracy.metric for r in rows if r.accuracy), None)
    if metric is not None:
        t.add_column(f"{metric}, %", justify="right", no_wrap=True)
    for r in rows:
        a = r.run
        loss = "—" if r.loss is None else f"{r.loss:.4f}"
        cells = [sci(a.flops), human(a.params), human(a.tokens), f"{a.tokens_per_param:.1f}", loss]
        if banded:
            u = r.uncertainty
            cells.append(f"{human(u.params.low)} to {human(u.params.high)}" if u else "")
        if metric is not None:
            cells.append(_metric_cell(r.accuracy.to_dict()) if r.accuracy else "")
        t.add_row(*cells)
    if not frontier.warnings:
        return t
    return Group(t, warnings_block(frontier.warnings))


def _metric_cell(acc: dict[str, Any]) -> str:
    """The forecast metric in percent, with its interval when the law carries samples."""
    if acc["interval"] is None:
        return f"{100 * acc['value']:.1f}"
    lo, hi = acc["interval"]
    return f"{100 * acc['value']:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"


def _params_formula(family: str) -> str:
    if family == "llama":
        return "2·vocab·d + layers·(attention + 3·d·ffw + 2d) + d"
    return "vocab·d + layers·(5·d·heads·head_size + 2·d·ffw)"


def moe_choice_table(choice: MoEChoice) -> RenderableType:
    """The experts (or granularities) an MoE law compared at the budget, the chosen bold."""
    setting = "E" if choice.setting == "experts" else "G"
    what = "experts" if choice.setting == "experts" else "granularities"
    t = titled_table(f"{what.capitalize()} compared ({choice.law})")
    for col in (setting, "N active", "total", "D", "loss"):
        t.add_column(col, justify="right", no_wrap=True)
    for c in choice.candidates:
        mark = " (memory)" if c.capped else ""
        chosen = c is choice.chosen
        t.add_row(
            f"{c.setting:g}" + (" *" if chosen else ""),
            human(c.params) + mark,
            human(c.total_params),
            human(c.tokens),
            f"{c.loss:.4f}",
            style="bold" if chosen else None,
        )
    total = (
        "total: every expert (the sketch's)"
        if choice.setting == "experts"
        else "total: the law's N (non-embedding)"
    )
    key = f"* the lowest predicted loss at {sci(choice.flops)} FLOPs; {total}"
    if choice.max_total_params is not None:
        key += (
            f"; (memory): shrunk to fit {human(choice.max_total_params)} total parameters, "
            "trained on the rest of the budget's tokens"
        )
    return Group(t, Text(words(key), style="dim"), Text(""))


def _moe_rate_rows(moe: MoELearningRate | None) -> list[tuple[str, str]]:
    return [] if moe is None else [("ludziejewski2025 (MoE, eq. 8)", f"{moe.learning_rate:.3g}")]


def hyperparameters_table(
    h: HyperparameterAdvice, moe: MoELearningRate | None = None
) -> RenderableType:
    t = titled_table("Suggested hyperparameters")
    for col in ("law", "peak LR", "batch, tokens", "sequences"):
        t.add_column(col, justify="left" if col == "law" else "right", no_wrap=True)
    for law in h.laws:
        t.add_row(
            law.law + (" *" if law is h.adopted else ""),
            f"{law.learning_rate:.3g}",
            human(law.batch_tokens),
            _sequences(law.batch_tokens / h.seq_len),
        )
    for name, rate in _moe_rate_rows(moe):
        t.add_row(name, rate, "—", "—")
    key = (
        f"* the plan's batch: {h.batch_sequences:,} sequences of {h.seq_len:,} tokens per "
        f"step, {h.steps:,} steps for D. Formulas: `chinchilla presets hyperparameters`; "
        f"{CRITICAL_BATCH_NOTE}"
    )
    if moe is not None:
        key += f". MoE: {moe.formula}; " + "; ".join(moe.notes)
    return Group(t, Text(words(key), style="dim"), Text(""))


def _sequences(count: float) -> str:
    """Whole sequences in a batch; a batch shorter than one sequence says so, not "0"."""
    return f"{count:,.0f}" if count >= 0.5 else "under 1"


def crosscheck_table(plan: Plan) -> Table:
    t = titled_table(f"Other laws at {sci(plan.budget.flops)} FLOPs")
    for col, justify in (
        ("law", "left"),
        ("N", "right"),
        ("D", "right"),
        ("D/N", "right"),
        ("loss", "right"),
    ):
        t.add_column(col, justify=justify)  # type: ignore[arg-type]
    for c in plan.crosscheck:
        style = "bold" if c.law == plan.law.name else None
        star = " *" if c.kind in INCOMPARABLE_KINDS else ""
        loss = "—" if c.loss is None else f"{c.loss:.4f}" + star
        t.add_row(
            c.law, human(c.params), human(c.tokens), f"{c.tokens_per_param:.1f}", loss, style=style
        )
    captions = []
    if any(c.kind == "kaplan" for c in plan.crosscheck):
        captions.append("* kaplan2020: N without embeddings, loss in nats on WebText2")
    other = sorted({c.law for c in plan.crosscheck if c.kind in INCOMPARABLE_KINDS[1:]})
    if other:
        captions.append(f"* {', '.join(other)}: losses on other data and tokenizers")
    if captions:
        t.caption = "; ".join(captions) + " (not comparable)"
        t.caption_justify = "left"
    return t
