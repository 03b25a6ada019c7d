"""Training configurations side by side under a law (`chinchilla compare`).

For each configuration (N parameters trained on D tokens, compute C = 6 N D) under a law:
- the predicted loss L(N, D) and its terms;
- the law's compute-optimal split of the same C, and its loss;
- the compute efficiency C*/C, where C* is the least compute whose compute-optimal run
  reaches the same predicted loss (1.0 means compute-optimal). Along the frontier of a
  parametric law the loss is L*(C) = E + K (C/6)^(-alpha beta / (alpha + beta)) with
  K = A G^-alpha + B G^beta, so C* has a closed form; for a Kaplan law (no additive split)
  L*(C) = L(optimal_allocation(C)) is decreasing in C and C* is found by bisection in log C;
- the data ceiling L(inf, D): the best any model, however large, could do on D tokens;
- the allocation ratio N/N_opt and D/D_opt at the same compute (their product is 1, since
  both splits spend 6 N D), and the allocation distance |ln(N/N_opt)| (0 = optimal). For an
  allocation-only law, which predicts no loss, this distance is the only measure of how far
  a run is from compute-optimal.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from chinchilla_cli._display import Drawn
from chinchilla_cli.architecture import DEFAULT_SEQ_LEN, Architecture
from chinchilla_cli.errors import InputError
from chinchilla_cli.frontier import (
    Allocation,
    data_ceiling,
    flops_for_loss,
    frontier_loss,
    optimal_allocation,
)
from chinchilla_cli.law_files import load_law, preset_law_names
from chinchilla_cli.laws import FLOPS_PER_PARAM_TOKEN, INCOMPARABLE_KINDS, Law, LossTerms
from chinchilla_cli.moe import MoEArchitecture, moe_from_mapping
from chinchilla_cli.names import did_you_mean
from chinchilla_cli.presets import load_presets, preset_name, read_yaml_file
from chinchilla_cli.quantity import (
    ACCEPTED,
    accepts_quantities,
    check_magnitude,
    human,
    parse_quantity,
    sci,
)

CONFIG_SYNTAX = (
    "N@D or label=N@D (N parameters, D training tokens), e.g. 13B@2.6T or mine=13B@2.6T; "
    "a mixture of experts as active/total@D, e.g. moe=37B/671B@14.8T"
)
# Families in presets/models.yaml -> the parameter count that fits them. PaLM's SwiGLU MLP
# has three d x ffw matrices, as the llama count does (its tied embedding differs by 0.9%).
ARCH_FAMILIES = {"chinchilla": "chinchilla", "llama": "llama", "gpt": "gpt", "palm": "llama"}
# Two runs used "about the same compute" when their 6ND differ by at most SAME_COMPUTE, and
# split it differently when their tokens per parameter differ by more than DIFFERENT_SPLIT.
SAME_COMPUTE = 1.25
DIFFERENT_SPLIT = 2.0
REPORTED_MISMATCH = 0.10  # mention a reported compute more than 10% away from 6ND
_LABEL = re.compile(r"^[^\s=@][^=@]*$")


# ---------------------------------------------------------------- configurations


@dataclass(frozen=True)
class Config:
    """One training run: N parameters on D tokens.

    For a mixture of experts `params` is the ACTIVE count (what each token uses: the N of
    the laws and of C = 6 N D) and `total_params` every expert's (None: a dense model)."""

    name: str
    params: float
    tokens: float
    reported_flops: float | None = None
    architecture: Architecture | MoEArchitecture | None = None
    source: str | None = None  # a preset's citation
    origin: str = "command line"  # "preset", "command line" or the file path
    total_params: float | None = None

    @property
    def total(self) -> float:
        """Every parameter held in memory (the experts' included)."""
        return self.params if self.total_params is None else self.total_params

    @property
    def flops(self) -> float:
        return FLOPS_PER_PARAM_TOKEN * self.params * self.tokens

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params


def model_names() -> list[str]:
    return list(load_presets("models"))


def preset_config(name: str, what: str = "configs") -> Config:
    """A famous run from presets/models.yaml."""
    listing = "see `chinchilla presets models`; or write a run as N@D, e.g. 13B@2.6T"
    key = preset_name("models", name, what, "model", listing)
    e = load_presets("models")[key]
    where = f"presets/models.yaml:{key}"
    arch = e.get("architecture")
    moe = e.get("moe_architecture")
    params = _size(e.get("params"), "params", where)
    active = _optional_size(e.get("active_params"), "active_params", where)
    return Config(
        name=key,
        params=params if active is None else active,
        tokens=_size(e.get("tokens"), "tokens", where),
        reported_flops=_optional_size(e.get("reported_flops"), "reported_flops", where),
        architecture=moe_from_mapping(moe, where)
        if moe is not None
        else None
        if arch is None
        else architecture_from_mapping(arch, where),
        source=str(e.get("source", "")).strip() or None,
        origin="preset",
        total_params=None if active is None else params,
    )


def parse_config(text: str, what: str = "configs") -> Config:
    """`gopher`, `13B@2.6T` or `mine=13B@2.6T`."""
    if not isinstance(text, str):
        raise InputError(
            f"a configuration is a preset name, N@D or label=N@D text, or a Config; got "
            f"{type(text).__name__} {text!r}",
            field=what,
        )
    spec = text.strip()
    if "@" not in spec and "=" not in spec:
        return preset_config(spec, what)
    label, _, body = spec.rpartition("=") if "=" in spec else ("", "", spec)
    if "=" in spec and not _LABEL.match(label.strip()):
        raise InputError(
            f"{text!r} has an empty or malformed label; expected {CONFIG_SYNTAX}", field=what
        )
    n_text, at, d_text = body.partition("@")
    if not at or "@" in d_text or not n_text.strip() or not d_text.strip():
        raise InputError(f"{text!r} is not a configuration; expected {CONFIG_SYNTAX}", field=what)
    active_text, slash, total_text = n_text.partition("/")
    if slash and ("/" in total_text or not active_text.strip() or not total_text.strip()):
        raise InputError(f"{text!r} is not a configuration; expected {CONFIG_SYNTAX}", field=what)
    params = _parse_size(active_text, f"{text!r}: params", what)
    total = _parse_size(total_text, f"{text!r}: total params", what) if slash else None
    _check_active(params, total, f"{text!r}", what)
    tokens = _parse_size(d_text, f"{text!r}: tokens", what)
    return Config(label.strip() or body.strip(), params, tokens, total_params=total)


def _check_active(active: float, total: float | None, where: str, what: str) -> None:
    if total is not None and active > total:
        raise InputError(
            f"{where}: {human(active)} active parameters is more than the "
            f"{human(total)} in all; a mixture of experts is written active/total",
            field=what,
        )


CONFIG_KEYS = (
    "name",
    "params",
    "active_params",
    "tokens",
    "reported_flops",
    "architecture",
    "source",
)


def configs_from_file(
    path: str, what: str = "file", notes: list[str] | None = None
) -> list[Config]:
    """A YAML list of {name, params, tokens, optional active_params, reported_flops,
    architecture}; with `active_params` (a mixture of experts) `params` is the total.

    Unknown keys in an entry are ignored with a sentence appended to `notes` (a colleague's
    file may carry extra fields; they are worth a warning, not a failure)."""
    data = read_yaml_file(path, what)
    expected = (
        "expected a YAML list of configurations, each a mapping with name, params, "
        "tokens and optionally reported_flops and architecture"
    )
    if not isinstance(data, list) or not data:
        if data is None:
            got = "an empty file"
        else:
            got = "an empty list" if data == [] else f"a {type(data).__name__}"
        raise InputError(
            f"{path}: not a list of configurations (got {got}); {expected}", field=what
        )
    out = []
    for i, entry in enumerate(data, start=1):
        where = f"{path}: entry {i}"
        if not isinstance(entry, dict):
            raise InputError(f"{where} is not a mapping; {expected}", field=what)
        name = entry.get("name")
        if name is None or str(name).strip() == "":
            raise InputError(f"{where} has no name; {expected}", field=what)
        where = f"{path}: entry {i} ({str(name).strip()})"
        missing = [k for k in ("params", "tokens") if k not in entry]
        if missing:
            extra = sorted(set(map(str, entry)) - set(CONFIG_KEYS))
            hint = f" (unknown: {', '.join(did_you_mean(k, CONFIG_KEYS) for k in extra)})"
            raise InputError(
                f"{where} is missing {' and '.join(missing)}{hint if extra else ''}; {expected}",
                field=what,
            )
        extra = sorted(set(map(str, entry)) - set(CONFIG_KEYS))
        if extra and notes is not None:
            notes.append(
                f"{where}: ignored unknown key{'s' * (len(extra) > 1)} "
                f"{', '.join(did_you_mean(k, CONFIG_KEYS) for k in extra)}"
            )
        arch = entry.get("architecture")
        total = _size(entry["params"], "params", where, what)
        active = _optional_size(entry.get("active_params"), "active_params", where, what)
        _check_active(total if active is None else active, total, where, what)
        out.append(
            Config(
                name=str(name).strip(),
                params=total if active is None else active,
                tokens=_size(entry["tokens"], "tokens", where, what),
                reported_flops=_optional_size(
                    entry.get("reported_flops"), "reported_flops", where, what
                ),
                architecture=None if arch is None else architecture_from_mapping(arch, where, what),
                source=str(entry.get("source", "")).strip() or None,
                origin=str(path),
                total_params=None if active is None else total,
            )
        )
    return out


_ARCH_INTS = ("n_layers", "d_model", "n_heads", "head_dim", "ffw_size", "vocab_size")


def architecture_from_mapping(raw: Any, where: str, what: str = "file") -> Architecture:
    """An `architecture:` mapping as in presets/models.yaml."""
    keys = ", ".join(_ARCH_INTS + ("seq_len", "kv_heads", "family"))
    if not isinstance(raw, dict):
        raise InputError(f"{where}: architecture must be a mapping of {keys}", field=what)
    missing = [k for k in _ARCH_INTS if k not in raw]
    if missing:
        raise InputError(f"{where}: architecture is missing {', '.join(missing)}", field=what)
    extra = sorted(set(map(str, raw)) - set(_ARCH_INTS) - {"seq_len", "kv_heads", "family"})
    if extra:
        raise InputError(
            f"{where}: architecture has unknown key {extra[0]!r}; expected {keys}", field=what
        )
    family = str(raw.get("family", "chinchilla"))
    if family not in ARCH_FAMILIES:
        raise InputError(
            f"{where}: architecture family {family!r} is unknown; "
            f"expected one of {', '.join(ARCH_FAMILIES)}",
            field=what,
        )

    def whole(key: str) -> int:
        v = raw[key]
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise InputError(
                f"{where}: architecture {key} must be a positive whole number, got {v!r}",
                field=what,
            )
        return v

    ints = {k: whole(k) for k in _ARCH_INTS}
    seq_len = whole("seq_len") if raw.get("seq_len") is not None else DEFAULT_SEQ_LEN
    kv = whole("kv_heads") if raw.get("kv_heads") is not None else None
    return Architecture(
        ints["n_layers"],
        ints["d_model"],
        ints["n_heads"],
        ints["head_dim"],
        ints["ffw_size"],
        ints["vocab_size"],
        seq_len,
        kv,
        ARCH_FAMILIES[family],
    )


def _parse_size(text: str, where: str, field: str) -> float:
    """A size in a configuration, `where` saying which part of which; an error names
    `field` (the argument or file the configuration came from)."""
    try:
        value = parse_quantity(text)
    except InputError as e:
        raise InputError(f"{where}: {e.message}", field=field) from None
    if value <= 0:
        raise InputError(
            f"{where} must be positive, got {text.strip()!r}; expected {ACCEPTED}", field=field
        )
    try:
        return check_magnitude(value, text, field)
    except InputError as e:
        raise InputError(f"{where}: {e.message}", field=field) from None


def _size(raw: Any, key: str, where: str, what: str = "file") -> float:
    if isinstance(raw, str):
        return _parse_size(raw, f"{where}: {key}", what)
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
        raise InputError(f"{where}: {key} must be {ACCEPTED}, got {raw!r}", field=what)
    if raw <= 0:
        raise InputError(f"{where}: {key} must be positive, got {raw!r}", field=what)
    return _parse_size(repr(raw), f"{where}: {key}", what)


def _optional_size(raw: Any, key: str, where: str, what: str = "file") -> float | None:
    return None if raw is None else _size(raw, key, where, what)


# ---------------------------------------------------------------- the comparison


@dataclass(frozen=True)
class Row:
    """One run of a comparison under the law: its predicted loss, the law's compute-
    optimal split of the same compute 6ND and its loss, C* (the least compute reaching
    the run's loss), the data ceiling L(inf, D), and the other laws' losses."""

    config: Config
    loss: LossTerms | None
    compute_optimal: Allocation  # the law's split of the same compute 6ND
    compute_optimal_loss: float | None
    least_flops_for_loss: float | None  # C*
    data_ceiling_loss: float | None
    losses: tuple[tuple[str, float], ...]  # law name -> predicted loss (the `all_laws` columns)

    @property
    def compute_efficiency(self) -> float | None:
        if self.least_flops_for_loss is None:
            return None
        return self.least_flops_for_loss / self.config.flops

    @property
    def params_ratio(self) -> float:
        return self.config.params / self.compute_optimal.params

    @property
    def tokens_ratio(self) -> float:
        return self.config.tokens / self.compute_optimal.tokens

    @property
    def allocation_distance(self) -> float:
        return abs(math.log(self.params_ratio))

    def to_dict(self) -> dict[str, Any]:
        c = self.config
        return {
            "name": c.name,
            "origin": c.origin,
            "source": c.source,
            "params": c.params,
            "total_params": c.total,
            "moe": c.total_params is not None,
            "tokens": c.tokens,
            "tokens_per_param": c.tokens_per_param,
            "flops": c.flops,
            "reported_flops": c.reported_flops,
            "loss": None if self.loss is None else self.loss.total,
            "loss_terms": None if self.loss is None else self.loss.to_dict(),
            "compute_optimal_params": self.compute_optimal.params,
            "compute_optimal_tokens": self.compute_optimal.tokens,
            "compute_optimal_loss": self.compute_optimal_loss,
            "least_flops_for_loss": self.least_flops_for_loss,
            "compute_efficiency": self.compute_efficiency,
            "allocation_ratio": {"params": self.params_ratio, "tokens": self.tokens_ratio},
            "allocation_distance": self.allocation_distance,
            "data_ceiling_loss": self.data_ceiling_loss,
            "losses": dict(self.losses),
            "architecture": None if c.architecture is None else c.architecture.to_dict(),
        }


@dataclass(frozen=True)
class Comparison(Drawn):
    """Runs side by side under a law: what `chinchilla compare` reports. One `Row` per
    run, the laws of the loss columns (`all_laws`), the sentences that compare the runs
    with the law's frontier, and notes on the input."""

    law: Law
    rows: tuple[Row, ...]
    loss_laws: tuple[str, ...]  # the laws of each row's `losses`, in column order
    findings: tuple[str, ...]
    notes: tuple[str, ...]
    all_laws: bool = False  # whether `loss_laws` holds every preset (a column each)

    @property
    def efficiency_measure(self) -> str:
        return "compute" if self.law.predicts_loss else "allocation"

    def to_dict(self) -> dict[str, Any]:
        return {
            "law": {
                "name": self.law.name,
                "kind": self.law.kind,
                "source": self.law.source,
                "predicts_loss": self.law.predicts_loss,
            },
            "efficiency_measure": self.efficiency_measure,
            "loss_laws": list(self.loss_laws),
            "models": [r.to_dict() for r in self.rows],
            "findings": list(self.findings),
            "notes": list(self.notes),
        }

    def __repr__(self) -> str:
        shown = []
        for r in self.rows[:4]:
            e = r.compute_efficiency
            measure = f"N/N* {r.params_ratio:.3g}" if e is None else f"C*/C {e:.2f}"
            shown.append(f"{r.config.name} {measure}")
        more = f", {len(self.rows) - 4} more" if len(self.rows) > 4 else ""
        return f"Comparison({len(self.rows)} runs under {self.law.name}: {', '.join(shown)}{more})"


def loss_laws(law: Law, all_laws: bool) -> list[Law]:
    """The laws whose losses fill the `losses` columns: the chosen one, or with all_laws every
    preset that predicts loss (and the chosen law if it comes from a file)."""
    if not all_laws:
        return [law] if law.predicts_loss else []
    # the MoE laws' losses are on other data and tokenizers: a column only when chosen
    laws = [load_law(n) for n in preset_law_names()]
    laws = [x for x in laws if x.kind not in INCOMPARABLE_KINDS[1:] or x.name == law.name]
    if law.name not in {x.name for x in laws}:
        laws.append(law)
    return [x for x in laws if x.predicts_loss]


def make_row(law: Law, config: Config, column_laws: list[Law]) -> Row:
    from chinchilla_cli.moe_laws import law_for_architecture

    # an MoE law reads a mixture of experts at its expert count
    law = law_for_architecture(law, config.architecture)
    column_laws = [law_for_architecture(x, config.architecture) for x in column_laws]
    terms = law.loss(config.params, config.tokens)
    optimal = optimal_allocation(law, config.flops)
    losses = []
    for other in column_laws:
        t = other.loss(config.params, config.tokens)
        if t is not None:
            losses.append((other.name, t.total))
    return Row(
        config=config,
        loss=terms,
        compute_optimal=optimal,
        compute_optimal_loss=frontier_loss(law, config.flops),
        least_flops_for_loss=None if terms is None else flops_for_loss(law, terms.total),
        data_ceiling_loss=data_ceiling(law, config.tokens),
        losses=tuple(losses),
    )


@accepts_quantities
def compare(
    *configs: str | Config,
    law: str | Law | None = None,
    file: str | None = None,
    all_laws: bool = False,
) -> Comparison:
    """Training runs side by side under a law: loss, the compute-optimal split of the same
    compute, the compute efficiency C*/C and the data ceiling.

    Each config is a model preset ("gopher"), "N@D" or "label=N@D" ("mine=13B@2.6T"), or a
    Config; `file` adds the runs of a YAML list. `all_laws` adds every preset law's loss.
    """
    from chinchilla_cli.law_files import resolve_law

    runs = [c if isinstance(c, Config) else parse_config(c) for c in configs]
    file_notes: list[str] = []
    if file is not None:
        runs += configs_from_file(file, notes=file_notes)
    if not runs:
        raise InputError(
            "no configuration given; name model presets (e.g. gopher chinchilla), "
            f"write {CONFIG_SYNTAX}, or give a YAML `file`",
            field="configs",
        )
    seen: set[str] = set()
    for run in runs:
        if run.name in seen:
            raise InputError(
                f"two runs are named {run.name!r}; give each its own label (label=N@D)",
                field="configs",
            )
        seen.add(run.name)
    return make_comparison(runs, resolve_law(law), all_laws, tuple(file_notes))


def make_comparison(
    configs: list[Config], law: Law, all_laws: bool = False, input_notes: tuple[str, ...] = ()
) -> Comparison:
    """The comparison of resolved configurations under a law object."""
    if not configs:
        raise InputError("no configuration given", field="configs")
    columns = loss_laws(law, all_laws)
    rows = tuple(make_row(law, c, columns) for c in configs)
    notes = list(input_notes) + list(law.notes)
    fit_range = getattr(law, "fit_range", None)
    for r in rows:
        c = r.config
        beyond = [] if fit_range is None else fit_range.beyond(c.params, c.tokens, c.flops)
        if beyond:
            notes.append(f"{c.name}: {'; '.join(beyond)}: {law.name} extrapolates here")
    if all_laws and law.kind != "kaplan" and any(x.kind == "kaplan" for x in columns):
        notes.append(
            "the kaplan2020 column counts parameters without embeddings and is in nats "
            "on WebText2: it is not comparable with the other columns"
        )
    moe = [r.config.name for r in rows if r.config.total_params is not None]
    if moe:
        from chinchilla_cli.moe_laws import moe_config_notes

        notes += moe_config_notes(law, [r.config for r in rows if r.config.total_params])
    for r in rows:
        if r.config.architecture is not None and r.config.origin == "preset":
            entry = load_presets("models")[r.config.name]
            raw = entry.get("architecture") or entry.get("moe_architecture") or {}
            if raw.get("seq_len") is None:
                notes.append(
                    f"{r.config.name}: context length not published; its architecture's "
                    f"FLOPs per token assume {DEFAULT_SEQ_LEN}"
                )
    return Comparison(
        law,
        rows,
        tuple(x.name for x in columns),
        tuple(findings(law, rows)),
        tuple(notes),
        all_laws,
    )


# ---------------------------------------------------------------- what a reader concludes


def _loss(x: float) -> str:
    return f"{x:.4f}"


def _x(factor: float) -> str:
    return f"{factor:.3g}x"


def findings(law: Law, rows: tuple[Row, ...]) -> list[str]:
    """Plain sentences: same-compute pairs, data ceilings, efficiency extremes, caveats."""
    out: list[str] = []
    if law.predicts_loss:
        out += _same_compute(law, rows)
        out += _ceilings(law, rows)
        out += _efficiency(law, rows)
    else:
        out += _allocation(law, rows)
    mismatched = [
        r
        for r in rows
        if r.config.reported_flops is not None
        and abs(r.config.reported_flops / r.config.flops - 1) > REPORTED_MISMATCH
    ]
    if mismatched:
        parts = [
            f"{r.config.name} {sci(r.config.reported_flops)} against {sci(r.config.flops)}"
            for r in mismatched
        ]
        out.append(
            f"Reported training compute differs from 6ND by more than "
            f"{REPORTED_MISMATCH:.0%} for {', '.join(parts)}; every figure here uses 6ND."
        )
    return out


def _ratio_within(x: float, y: float, factor: float) -> bool:
    return max(x, y) <= factor * min(x, y)


def _same_compute(law: Law, rows: tuple[Row, ...]) -> list[str]:
    out = []
    seen: set[tuple[int, int]] = set()
    for i, a in enumerate(rows):
        near = [
            (abs(math.log(b.config.flops / a.config.flops)), j)
            for j, b in enumerate(rows)
            if j != i
            and _ratio_within(a.config.flops, b.config.flops, SAME_COMPUTE)
            and not _ratio_within(
                a.config.tokens_per_param, b.config.tokens_per_param, DIFFERENT_SPLIT
            )
        ]
        if not near:
            continue
        j = min(near)[1]
        pair = (min(i, j), max(i, j))
        if pair in seen:
            continue
        seen.add(pair)
        x, y = rows[pair[0]], rows[pair[1]]
        if x.loss is None or y.loss is None:
            continue
        lo, hi = (x, y) if x.loss.total <= y.loss.total else (y, x)
        assert lo.loss is not None and hi.loss is not None
        out.append(
            f"{x.config.name} and {y.config.name} used about the same compute "
            f"({sci(x.config.flops)} and {sci(y.config.flops)} FLOPs by 6ND); under {law.name} "
            f"{lo.config.name} ({human(lo.config.params)} parameters, {human(lo.config.tokens)} "
            f"tokens) predicts the lower loss, {_loss(lo.loss.total)} against "
            f"{_loss(hi.loss.total)} for {hi.config.name} ({human(hi.config.params)}, "
            f"{human(hi.config.tokens)})."
        )
    return out


def _ceilings(law: Law, rows: tuple[Row, ...]) -> list[str]:
    out = []
    for a in sorted(rows, key=lambda r: r.loss.total if r.loss else math.inf):
        if a.loss is None:
            continue
        beaten = [
            b
            for b in rows
            if b is not a and b.data_ceiling_loss is not None and b.data_ceiling_loss > a.loss.total
        ]
        if not beaten:
            continue
        which = ", ".join(
            f"{b.config.name} ({_loss(b.data_ceiling_loss or 0)} on "
            f"{human(b.config.tokens)} tokens)"
            for b in beaten
        )
        plural = "s" if len(beaten) > 1 else ""
        whose = f"{beaten[0].config.name}'s" if len(beaten) == 1 else "those"
        out.append(
            f"{a.config.name}'s predicted loss under {law.name} ({_loss(a.loss.total)}) is below "
            f"the data ceiling{plural} L(inf, D) of {which}: no model trained on {whose} "
            f"{'token count' if len(beaten) == 1 else 'token counts'}, however large, would "
            f"reach it."
        )
    return out


def _efficiency(law: Law, rows: tuple[Row, ...]) -> list[str]:
    out = []
    rated = [r for r in rows if r.compute_efficiency is not None]
    for r in rows:
        if r.loss is not None and r.compute_efficiency is None:
            out.append(
                f"{r.config.name}'s predicted loss ({_loss(r.loss.total)}) is at or below "
                f"the floor the {law.name} frontier approaches, so no compute-optimal run "
                f"reaches it and its compute efficiency is not defined."
            )
    if not rated:
        return out
    worst = min(rated, key=lambda r: r.compute_efficiency or 0.0)
    best = max(rated, key=lambda r: r.compute_efficiency or 0.0)
    if len(rated) == 1:
        picks: list[tuple[Row, str]] = [(worst, "")]
    else:
        picks = [(worst, "Least compute-efficient: ")]
        if best is not worst:
            picks.append((best, "Closest to compute-optimal: "))
    for r, label in picks:
        eff = r.compute_efficiency or 0.0
        c, o = r.config, r.compute_optimal
        size = (
            f"{_x(r.params_ratio)} the parameters and {_x(r.tokens_ratio)} the tokens"
            if r.params_ratio >= 1
            else f"{_x(r.tokens_ratio)} the tokens and {_x(r.params_ratio)} the parameters"
        )
        split = (
            f"{size} of the {law.name} optimum for its {sci(c.flops)} FLOPs "
            f"({human(o.params)} on {human(o.tokens)} tokens)"
        )
        if abs(eff - 1) < 0.01:
            verdict = "it is compute-optimal to within 1%"
        elif eff > 1:
            verdict = (
                f"it beats the law's frontier, whose runs would need {eff:.0%} of its "
                f"compute ({sci(r.least_flops_for_loss)} FLOPs) to match its predicted "
                f"loss"
            )
        else:
            verdict = (
                f"a compute-optimal run would reach its predicted loss with {eff:.0%} of "
                f"the compute ({sci(r.least_flops_for_loss)} FLOPs)"
            )
        out.append(f"{label}{c.name} (C*/C = {eff:.2f}) has {split}; {verdict}.")
    if law.kind == "kaplan":
        out.append(
            f"{law.name}'s allocation is not the minimum of its own loss formula, so a "
            f"run can beat its frontier (C*/C above 1)."
        )
    return out


def _allocation(law: Law, rows: tuple[Row, ...]) -> list[str]:
    out = [
        f"{law.name} is an allocation-only law: it predicts no loss, so there are no loss, "
        f"ceiling or C*/C figures. Instead each run is compared with the law's split of the "
        f"same compute: N/N_opt and D/D_opt (their product is 1, as both spend 6ND) and the "
        f"allocation distance |ln(N/N_opt)|, 0 for a compute-optimal run; a distance of 0.69 "
        f"means a factor 2 off."
    ]
    far = max(rows, key=lambda r: r.allocation_distance)
    near = min(rows, key=lambda r: r.allocation_distance)
    for r, label in ((far, "Farthest from"), (near, "Closest to")):
        c, o = r.config, r.compute_optimal
        way = (
            f"{_x(r.params_ratio)} the parameters"
            if r.params_ratio >= 1
            else f"{_x(r.tokens_ratio)} the tokens"
        )
        out.append(
            f"{label} the {law.name} allocation: {c.name}, with {way} of the optimum for "
            f"its {sci(c.flops)} FLOPs ({human(o.params)} on {human(o.tokens)} tokens)."
        )
        if far is near:
            break
    return out
