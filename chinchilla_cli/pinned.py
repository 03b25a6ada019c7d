"""Sketches with a pinned depth or width (`plan(layers=..., d_model=...)`), and how a
generic mixture-of-experts sketch given a published model's settings compares with that
model's published counts.

With both pinned the shape is fixed and its count is the model's size; with one, the
other is chosen so the (active) count comes nearest the plan's N, by the family's rules
(`architecture.shape`, `moe.moe_shape`): whole heads, whole layers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TypeVar

from chinchilla_cli.architecture import Counted, head_dim_for
from chinchilla_cli.errors import InputError
from chinchilla_cli.moe import MoEArchitecture
from chinchilla_cli.presets import load_presets
from chinchilla_cli.quantity import human

Shaped = TypeVar("Shaped", bound=Counted)
MAX_D_MODEL = 1 << 20  # wider than any model built, by far
PUBLISHED_TOLERANCE = 0.05  # a generic sketch's counts within 5% of the published ones


def check_d_model(d_model: int) -> None:
    """A width of whole heads: a multiple of 64 up to 1024, of 128 above."""
    hd = head_dim_for(d_model)
    if d_model % hd or d_model > MAX_D_MODEL:
        raise InputError(
            f"{d_model:,} is not a whole number of heads; accepted: a multiple of 64 up to "
            f"1,024 and of 128 above (up to {MAX_D_MODEL:,}), e.g. "
            f"{max(hd, round(d_model / hd) * hd):,}",
            field="d_model",
        )


def pinned_sketch(
    params: float,
    build: Callable[[int, int], Shaped],
    layers: int | None,
    d_model: int | None,
    group: int = 1,
) -> Shaped:
    """The shape `build(layers, d_model)` with the given depth and/or width whose active
    count is nearest `params` (at least one of `layers` and `d_model` given)."""
    if layers is not None and d_model is not None:
        return build(layers, d_model)
    if d_model is not None:
        first = build(1, d_model).active_params
        per_layer = build(2, d_model).active_params - first
        return build(1 + max(0, round((params - first) / per_layer)), d_model)
    assert layers is not None
    best: tuple[float, Shaped] | None = None
    for hd in (64, 128):
        step = hd * group
        lo, hi = 1, MAX_D_MODEL // step
        while lo < hi:  # the first width whose count reaches params (counts grow with d)
            mid = (lo + hi) // 2
            if build(layers, mid * step).active_params < params:
                lo = mid + 1
            else:
                hi = mid
        for m in (lo - 1, lo):
            d = m * step
            if m < 1 or head_dim_for(d) != hd:
                continue
            arch = build(layers, d)
            score = abs(math.log(arch.active_params / params))
            if best is None or score < best[0]:
                best = (score, arch)
    if best is None:
        raise InputError(f"no width gives {layers} layers {human(params)}", field="layers")
    return best[1]


def published_mismatch(arch: MoEArchitecture) -> list[str]:
    """A warning when a generic sketch has a published mixture of experts' settings
    (layers, d_model, experts, top-k, shared experts) and its counts stray more than
    PUBLISHED_TOLERANCE from that model's published totals."""
    key = (arch.n_layers, arch.d_model, arch.experts, arch.top_k, arch.shared_experts)
    out = []
    for name, entry in load_presets("models").items():
        shape = entry.get("moe_architecture")
        if shape is None:
            continue
        published = (
            shape["n_layers"], shape["d_model"], shape["experts"], shape["top_k"],
            shape.get("shared_experts", 0),
        )  # fmt: skip
        if published != key:
            continue
        total, active = float(entry["params"]), float(entry["active_params"])
        off_total, off_active = arch.params / total - 1, arch.active_params / active - 1
        if max(abs(off_total), abs(off_active)) > PUBLISHED_TOLERANCE:
            out.append(
                f"with {name}'s settings the generic sketch counts {human(arch.params)} "
                f"parameters ({off_total:+.0%} from the published {human(total)}) and "
                f"{human(arch.active_params)} active ({off_active:+.0%} from "
                f"{human(active)}): it lacks {_differences(shape, arch)}; "
                f"`model` {name} plans it as built"
            )
    return out


def _differences(shape: dict[str, object], arch: MoEArchitecture) -> str:
    """What a published shape has that the generic sketch does not model."""
    found = []
    if shape.get("dense_layers"):
        found.append(f"the {shape.get('dense_layers')} dense first layers")
    if shape.get("moe_interval", 1) != 1:
        found.append("dense layers between its MoE layers")
    if shape.get("latent_attention") is not None:
        found.append("latent attention")
    if shape.get("n_heads") != arch.n_heads:
        found.append(f"{shape.get('n_heads')} heads (the sketch has {arch.n_heads})")
    if not found:
        return "no part of its shape: give its `vocab` and `expert_ffw` too"
    return ", ".join(found[:-1]) + (" and " if len(found) > 1 else "") + found[-1]
