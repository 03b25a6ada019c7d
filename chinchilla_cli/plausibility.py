"""Calm nonsense a plan refuses or warns about, rather than answering as if it were sound:
a sequence longer than the whole batch, experts narrower or more numerous than any
published mixture of experts, a sketch whose total is far beyond any published model, a
sweep whose budgets are too small for their sizes to differ.

The published bounds are read from the mixture-of-experts presets of presets/models.yaml
(their shapes as built), so they move with the presets.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from chinchilla_cli.architecture import Architecture
from chinchilla_cli.errors import InputError
from chinchilla_cli.moe import MoEArchitecture, moe_from_mapping
from chinchilla_cli.presets import load_presets
from chinchilla_cli.quantity import human, sci

# an expert narrower than this fraction of the narrowest published one (relative to
# d_model) is a warning
NARROW_FRACTION = 0.5
# a sketch's total beyond this multiple of the largest published MoE's is a warning
LARGE_FACTOR = 2.0


@dataclass(frozen=True)
class PublishedMoEBounds:
    """The extremes of the published mixtures of experts: the most routed experts, the
    narrowest experts relative to d_model, and the largest total, each with its model."""

    most_experts: tuple[str, int]
    narrowest_expert: tuple[str, float]  # expert width / d_model
    largest_total: tuple[str, int]


@functools.cache
def published_moe_bounds() -> PublishedMoEBounds:
    """The bounds over every `moe_architecture:` of presets/models.yaml."""
    shapes = {
        name: moe_from_mapping(e["moe_architecture"], f"presets/models.yaml:{name}")
        for name, e in load_presets("models").items()
        if e.get("moe_architecture") is not None
    }
    most = max(shapes, key=lambda n: shapes[n].experts)
    narrow = min(shapes, key=lambda n: shapes[n].expert_ffw_size / shapes[n].d_model)
    large = max(shapes, key=lambda n: shapes[n].params)
    return PublishedMoEBounds(
        (most, shapes[most].experts),
        (narrow, shapes[narrow].expert_ffw_size / shapes[narrow].d_model),
        (large, shapes[large].params),
    )


def check_sequence(seq_len: int, batch_tokens: float, law: str) -> None:
    """Refuse a sequence longer than the whole batch the run is advised (a batch of
    "0 sequences")."""
    if seq_len > batch_tokens:
        raise InputError(
            f"{seq_len:,} tokens is longer than the whole batch {law} advises for this run "
            f"({human(batch_tokens)} tokens): no step would hold one sequence; accepted: up "
            f"to {int(batch_tokens):,}",
            field="seq_len",
        )


def moe_shape_warnings(arch: MoEArchitecture) -> list[str]:
    """Warnings for a mixture-of-experts sketch beyond every published one: more routed
    experts, far narrower experts, or a larger total."""
    bounds = published_moe_bounds()
    out = []
    name, most = bounds.most_experts
    if arch.experts > most:
        share = 2 * arch.d_model * arch.experts * arch.moe_layers / arch.forward_flops_per_token()
        out.append(
            f"{arch.experts:,} routed experts is beyond any published mixture of experts "
            f"(the most: {name}, {most}); the sketch holds {human(arch.params)} parameters "
            f"in all, and its routers alone spend {share:.0%} of the forward FLOPs"
        )
    name, ratio = bounds.narrowest_expert
    if arch.expert_ffw_size < NARROW_FRACTION * ratio * arch.d_model:
        times = arch.d_model / arch.expert_ffw_size
        out.append(
            f"experts {arch.expert_ffw_size:,} wide are {times:,.0f}x "
            f"narrower than d_model {arch.d_model:,}; the narrowest published are "
            f"{1 / ratio:.1f}x narrower ({name}); the experts hold "
            f"{_expert_share(arch):.1%} of the parameters"
        )
    name, largest = bounds.largest_total
    if arch.params > LARGE_FACTOR * largest and arch.experts <= most:
        out.append(
            f"the sketch's {human(arch.params)} parameters are {arch.params / largest:,.1f}x "
            f"the largest published mixture of experts ({name}, {human(largest)}); training "
            "and serving hold them all"
        )
    return out


def _expert_share(arch: MoEArchitecture) -> float:
    experts = arch.moe_layers * (arch.experts + arch.shared_experts) * arch.expert_params
    return experts / arch.params


def check_distinct_shapes(
    flops: float, archs: Sequence[Architecture | MoEArchitecture], needed: int, vocab: int
) -> None:
    """Refuse a sweep budget whose sizes sketch fewer than `needed` distinct models: the
    targets fall below the smallest shape the rules build (at small budgets the
    embedding alone outweighs them), so the runs repeat one shape and measure nothing."""
    distinct = {(a.n_layers, a.d_model) for a in archs}
    if len(distinct) >= needed:
        return
    smallest = min(archs, key=lambda a: a.active_params)
    raise InputError(
        f"budget {sci(flops)}: its {len(archs)} sizes sketch only {len(distinct)} distinct "
        f"model{'s' * (len(distinct) != 1)} (the smallest, {smallest.n_layers} x "
        f"{smallest.d_model:,}, already has {human(smallest.active_params)} parameters with "
        f"a {vocab:,}-token vocabulary), and an IsoFLOP minimum needs {needed}; raise the "
        "budgets or lower `vocab`",
        field="budgets",
    )
