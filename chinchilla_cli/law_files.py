"""Laws from presets and files: a preset name, a YAML law file or None (the default)
becomes one of the law types of laws.py. The keys each kind needs and allows are here."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chinchilla_cli.architecture import DEFAULT_ASPECT_RATIO
from chinchilla_cli.errors import InputError
from chinchilla_cli.laws import (
    ALLOCATION_NOTE,
    DEFAULT_LAW,
    FORM_KEYS,
    KAPLAN_NOTE,
    MOE_LAW_NOTE,
    AllocationLaw,
    Bound,
    DeepSeekLaw,
    FineGrainedMoELaw,
    FitRange,
    FormLaw,
    KaplanLaw,
    Law,
    ParametricLaw,
    form_law,
    joint_moe_law,
)
from chinchilla_cli.moe_scaling import FineGrainedMoE, JointMoE
from chinchilla_cli.names import did_you_mean, match, unknown
from chinchilla_cli.presets import load_presets, read_yaml_file

if TYPE_CHECKING:
    from chinchilla_cli.accuracy import AccuracyFit
    from chinchilla_cli.prediction import RunNoise


def preset_law_names() -> list[str]:
    return list(load_presets("laws"))


def load_law(spec: str | os.PathLike[str], what: str = "law") -> Law:
    """A law by preset name or from a YAML file path."""
    if not isinstance(spec, (str, os.PathLike)):
        raise InputError(
            f"a law is a preset name or a law YAML file's path, got {type(spec).__name__} {spec!r}",
            field=what,
        )
    presets = load_presets("laws")
    key = os.fspath(spec).strip()
    written_as_path = key.endswith((".yaml", ".yml")) or "/" in key or "\\" in key
    preset = None if written_as_path else match(key, presets)
    if preset is not None:
        return law_from_mapping(preset, presets[preset], where=f"presets/laws.yaml:{preset}")
    if not (written_as_path or Path(key).exists()):
        raise InputError(
            unknown("law", key, presets, "see `chinchilla presets laws`; or a law YAML file"),
            field=what,
        )
    data = read_yaml_file(key, what)
    if not isinstance(data, dict):
        raise InputError(
            f"{key}: not a law (expected a mapping with name, E, A, B, alpha, beta)", field=what
        )
    name = str(data.get("name") or Path(key).stem)
    return law_from_mapping(name, data, where=key, what=what)


_FIELDS = {
    "parametric": ("E", "A", "B", "alpha", "beta"),
    "allocation": ("a",),
    "kaplan": ("a", "N_c", "D_c", "alpha_N", "alpha_D"),
    "joint_moe": JointMoE.names(),
    "fine_grained_moe": ("a", "alpha", "b", "beta", "g", "gamma", "c"),
    "deepseek": (
        "k_scale",
        "a_scale",
        "k_tokens",
        "a_tokens",
        "seq_len",
        "vocab_size",
    ),
}
# What each kind needs, as its error message says it
_NEEDS = {
    "parametric": "E, A, B, alpha, beta",
    "allocation": "a, and k or anchor_flops with anchor_params",
    "kaplan": "a, k (or anchor_flops with anchor_params), N_c, D_c, alpha_N, alpha_D",
    "deepseek": "k_scale, a_scale, k_tokens, a_tokens, seq_len, vocab_size",
    "joint_moe": ", ".join(JointMoE.names()),
    "fine_grained_moe": "a, alpha, b, beta, g, gamma, c",
}
_OPTIONAL = {
    "name",
    "kind",
    "source",
    "k",
    "anchor_flops",
    "anchor_params",
    "samples",
    "samples_source",
    "ci",
    "fit",
    "basis",
    "R_D_star",
    "R_N_star",
    "seq_len",
    "vocab_size",
    "aspect_ratio",
    "fit_range",
    "accuracy",
    "noise",
    "fit_experts",
    "fit_granularity",
    "fit_total_params",
    "expansion",
    "loss_data",
    "moe_samples",
    "learning_rate",
    "form",
}


def resolve_law(law: str | Law | None) -> Law:
    """A law object from a preset name, a YAML path, a Law, or None (the default law)."""
    if law is None:
        return load_law(DEFAULT_LAW)
    if isinstance(law, (str, os.PathLike)):
        return load_law(os.fspath(law))
    if not hasattr(law, "kind"):  # every law kind names itself; anything else is a mistake
        return load_law(law)  # type: ignore[arg-type]  # refused there, naming `law`
    return law


def _law_keys(kind: str, data: dict[str, Any], where: str, what: str) -> tuple[str, ...]:
    """Refuse a mapping missing a key its kind needs; the notes on keys it ignores."""
    if kind not in _FIELDS:
        raise InputError(
            f"{where}: unknown kind {kind!r}; expected one of {', '.join(_FIELDS)}", field=what
        )
    extra = sorted(set(map(str, data)) - set(_FIELDS[kind]) - _OPTIONAL)
    missing = [f for f in _FIELDS[kind] if f not in data]
    if missing:
        hint = f"; unknown: {', '.join(did_you_mean(k, _FIELDS[kind]) for k in extra)}"
        raise InputError(
            f"{where}: not a {kind} law: missing {', '.join(missing)} "
            f"(a {kind} law needs {_NEEDS[kind]}){hint if extra else ''}",
            field=what,
        )
    known = (*_FIELDS[kind], *_OPTIONAL)
    return tuple(f"{where}: ignored unknown key {did_you_mean(k, known)}" for k in extra)


def law_from_mapping(name: str, data: dict[str, Any], where: str, what: str = "law") -> Law:
    """The law a preset or YAML mapping describes (its `kind`: parametric by default);
    an InputError about `what` naming `where` when a value is missing or out of range."""
    kind = str(data.get("kind", "parametric"))
    form = data.get("form")
    if form is not None and str(form) != "chinchilla":
        return _form_law(name, str(form), data, where, what)
    notes = _law_keys(kind, data, where, what)

    def num(key: str, allow_zero: bool = False, signed: bool = False) -> float:
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InputError(f"{where}: {key} must be a finite number, got {v!r}", field=what)
        if not signed and (v < 0 or (v == 0 and not allow_zero)):
            raise InputError(f"{where}: {key} must be positive, got {v!r}", field=what)
        return float(v)

    def opt_num(key: str) -> float | None:
        return num(key) if data.get(key) is not None else None

    source = str(data.get("source", "")).strip()
    fit_range = _fit_range(data.get("fit_range"), where, what)
    if kind == "parametric":
        samples = _samples(data.get("samples"), where, what)
        return ParametricLaw(
            name,
            num("E", allow_zero=True),
            num("A"),
            num("B"),
            num("alpha"),
            num("beta"),
            source,
            notes,
            samples,
            str(data.get("samples_source", "")).strip(),
            opt_num("R_D_star"),
            opt_num("R_N_star"),
            fit_range,
            accuracy=_accuracy(data.get("accuracy"), where, what, len(samples)),
            noise=_noise(data.get("noise"), where, what),
        )
    if "accuracy" in data:
        raise InputError(
            f"{where}: accuracy: an accuracy forecast goes with a parametric law (the "
            f"metric as a sigmoid of its loss), not a {kind} one",
            field=what,
        )
    if kind in ("joint_moe", "fine_grained_moe"):
        return _moe_law(name, kind, data, num, source, notes, fit_range, where, what)
    if kind == "deepseek":
        return DeepSeekLaw(
            name,
            num("k_scale"),
            num("a_scale"),
            num("k_tokens"),
            num("a_tokens"),
            int(num("seq_len")),
            int(num("vocab_size")),
            opt_num("aspect_ratio") or DEFAULT_ASPECT_RATIO,
            source,
            notes
            + (
                f"{name} gives model scale M in non-embedding FLOPs per token (C = M·D); "
                "N here is converted from M through a dense shape and D is the law's own",
            ),
            fit_range,
        )
    return _allocation_law(name, kind, num, source, notes, fit_range, data, where, what)


def _allocation_law(
    name: str,
    kind: str,
    num: Callable[[str], float],
    source: str,
    notes: tuple[str, ...],
    fit_range: FitRange | None,
    data: dict[str, Any],
    where: str,
    what: str,
) -> Law:
    """An allocation-only or Kaplan law: N_opt = k C^a (k given or from an anchor)."""
    a = num("a")
    if a >= 1:
        raise InputError(f"{where}: a must be below 1 (N_opt = k C^a), got {a!r}", field=what)
    if "k" in data:
        k = num("k")
    elif "anchor_flops" in data and "anchor_params" in data:
        k = num("anchor_params") / num("anchor_flops") ** a
    else:
        raise InputError(f"{where}: give k, or anchor_flops and anchor_params", field=what)
    if kind == "allocation":
        basis = str(data.get("basis", "params"))
        if basis not in ("params", "tokens"):
            raise InputError(f"{where}: basis must be params or tokens, got {basis!r}", field=what)
        return AllocationLaw(
            name, k, a, source, notes + (ALLOCATION_NOTE.format(name=name),), basis, fit_range
        )
    return KaplanLaw(
        name,
        k,
        a,
        source,
        notes + (KAPLAN_NOTE,),
        fit_range=fit_range,
        N_c=num("N_c"),
        D_c=num("D_c"),
        alpha_N=num("alpha_N"),
        alpha_D=num("alpha_D"),
    )


def _moe_law(
    name: str,
    kind: str,
    data: dict[str, Any],
    num: Callable[..., float],
    source: str,
    notes: tuple[str, ...],
    fit_range: FitRange | None,
    where: str,
    what: str,
) -> Law:
    """A Joint MoE (`joint_moe`) or fine-grained MoE (`fine_grained_moe`) law; either
    marked not comparable with the dense laws' losses (its `loss_data`)."""
    data_note = str(data.get("loss_data") or "another dataset and tokenizer")
    notes = notes + (MOE_LAW_NOTE.format(name=name, data=data_note),)
    total = parse_bound(data.get("fit_total_params"), "fit_total_params", where, what)
    try:
        if kind == "joint_moe":
            moe = JointMoE(*(num(k, signed=True) for k in JointMoE.names()))
            return joint_moe_law(
                name, moe, 1, source, notes, fit_range,
                _moe_samples(data.get("moe_samples"), where, what),
                str(data.get("samples_source", "")).strip(),
                parse_bound(data.get("fit_experts"), "fit_experts", where, what), total,
            )  # fmt: skip
        a, alpha, b, beta, g, gamma, c = (
            num(k) for k in ("a", "alpha", "b", "beta", "g", "gamma", "c")
        )
        fine = FineGrainedMoE(a, alpha, b, beta, g, gamma, c)
        if "expansion" in data:
            fine = replace(fine, expansion=int(num("expansion")))
    except InputError as e:
        raise InputError(f"{where}: {e.message}", field=what) from None
    granularity = parse_bound(data.get("fit_granularity"), "fit_granularity", where, what)
    return FineGrainedMoELaw(name, fine, 1.0, source, notes, fit_range, granularity, total)


def _moe_samples(raw: Any, where: str, what: str) -> tuple[tuple[float, ...], ...]:
    """Bootstrap rows of the Joint MoE law's eleven constants (a fitted law's)."""
    if raw is None:
        return ()
    width = len(JointMoE.names())
    ok = isinstance(raw, list) and all(
        isinstance(r, list)
        and len(r) == width
        and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in r)
        for r in raw
    )
    if not ok:
        raise InputError(
            f"{where}: moe_samples must be a list of [{', '.join(JointMoE.names())}] rows",
            field=what,
        )
    return tuple(tuple(float(x) for x in r) for r in raw)


def _accuracy(raw: Any, where: str, what: str, n_samples: int) -> AccuracyFit | None:
    """The `accuracy:` block (a task metric as a sigmoid of the loss), if any."""
    if raw is None:
        return None
    from chinchilla_cli.accuracy import from_mapping

    return from_mapping(raw, where, n_samples, what)


_RANGE_KEYS = ("params", "tokens", "flops", "tokens_per_param")


def parse_bound(raw: Any, key: str, where: str, what: str) -> Bound | None:
    """One `[low, high]` pair of a law file (null bounds allowed), or None."""
    if raw is None:
        return None
    parsed = _fit_range({"params": raw}, f"{where}: {key}", what)
    return None if parsed is None else parsed.params


def _fit_range(raw: Any, where: str, what: str) -> FitRange | None:
    """`fit_range: {params: [lo, hi], ...}`; null bounds and quantities allowed."""
    if raw is None:
        return None
    expected = (
        f"fit_range must map {', '.join(_RANGE_KEYS)} to [low, high] "
        "(positive numbers or null, low <= high)"
    )
    if not isinstance(raw, dict) or not set(map(str, raw)) <= set(_RANGE_KEYS):
        raise InputError(f"{where}: {expected}", field=what)
    bounds: dict[str, Bound | None] = {}
    for key in _RANGE_KEYS:
        pair = raw.get(key)
        if pair is None:
            bounds[key] = None
            continue
        ok = (
            isinstance(pair, list)
            and len(pair) == 2
            and all(
                x is None
                or (
                    isinstance(x, (int, float))
                    and not isinstance(x, bool)
                    and math.isfinite(x)
                    and x > 0
                )
                for x in pair
            )
        )
        if not ok or (None not in pair and pair[0] > pair[1]):
            raise InputError(f"{where}: {expected}; got {key}: {pair!r}", field=what)
        lo, hi = pair
        bounds[key] = (None if lo is None else float(lo), None if hi is None else float(hi))
    return FitRange(**bounds)


def _samples(
    raw: Any, where: str, what: str
) -> tuple[tuple[float, float, float, float, float], ...]:
    if raw is None:
        return ()
    ok = isinstance(raw, list) and all(
        isinstance(r, list)
        and len(r) == 5
        and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in r
        )
        for r in raw
    )
    if not ok:
        raise InputError(
            f"{where}: samples must be a list of [E, A, B, alpha, beta] rows", field=what
        )
    return tuple(tuple(float(x) for x in r) for r in raw)  # type: ignore[misc]


def _form_law(name: str, form: str, data: dict[str, Any], where: str, what: str) -> FormLaw:
    """A law file with `form:` kaplan or coupled (saved by `fit` with `form`)."""
    if form not in FORM_KEYS:
        raise InputError(
            f"{where}: unknown form {form!r}; expected chinchilla, {', '.join(FORM_KEYS)}",
            field=what,
        )
    keys = FORM_KEYS[form]
    missing = [k for k in keys if k not in data]
    if missing:
        raise InputError(
            f"{where}: not a {form} law: missing {', '.join(missing)} (a {form} law needs "
            f"{', '.join(keys)})",
            field=what,
        )
    values = {}
    for key in keys:
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InputError(f"{where}: {key} must be a finite number, got {v!r}", field=what)
        if v < 0 or (v == 0 and key != "E"):
            raise InputError(f"{where}: {key} must be positive, got {v!r}", field=what)
        values[key] = float(v)
    known = {*keys, *_OPTIONAL}
    notes = tuple(
        f"{where}: ignored unknown key {did_you_mean(str(k), known)}"
        for k in sorted(set(map(str, data)) - known)
    )
    return form_law(
        name,
        form,
        values,
        str(data.get("source", "")).strip(),
        notes=notes,
        fit_range=_fit_range(data.get("fit_range"), where, what),
    )


def _noise(raw: Any, where: str, what: str) -> RunNoise | None:
    """A law file's `noise` (prediction.py reads it; loaded only for a law that has one)."""
    if raw is None:
        return None
    from chinchilla_cli.prediction import noise_from_mapping

    return noise_from_mapping(raw, where, what)
