"""Accelerators and the FLOP budget a cluster delivers: chips x peak x MFU x seconds."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from chinchilla_cli.errors import InputError
from chinchilla_cli.presets import load_presets, preset_name

DEFAULT_ACCELERATOR = "h100-sxm"
DEFAULT_GOODPUT = 1.0  # every wall-clock second trains (no failures, restarts, checkpoints)
SECONDS_PER_DAY = 86_400.0
SECONDS_PER_HOUR = 3_600.0


@dataclass(frozen=True)
class Precision:
    """The number format of the matrix multiplies, and the training state it keeps."""

    name: str
    bytes_per_param: int  # weights, gradients and optimizer state (activations excluded)
    recipe: str


PRECISIONS = {
    "bf16": Precision(
        "bf16",
        16,
        "bf16 weights and gradients, fp32 master weights and Adam moments: "
        "2 + 2 + 12 = 16 bytes/param",
    ),
    # fp8 speeds the matrix multiplies; the recipes in use (Transformer Engine's default
    # and its delayed scaling) keep the weights, gradients and optimizer state as bf16 does
    "fp8": Precision(
        "fp8",
        16,
        "fp8 matrix multiplies (per-tensor scaled casts); weights, gradients and Adam "
        "state kept as in bf16: 16 bytes/param",
    ),
}
DEFAULT_PRECISION = "bf16"
# Model FLOPs utilisation a plan assumes, per number format, from published runs (6 x
# active parameters x tokens over chip-time and peak; utilisation.py derives them from
# presets/models.yaml and tests/test_utilisation.py checks these against it). bf16: the
# middle of large dense runs (PaLM 46.2%, Llama 3 405B 38-43%). fp8: every published fp8
# run is a mixture of experts and delivered far less (DeepSeek-V3 17% of the H800's fp8
# peak; Llama 4 Scout 11%, Maverick 13%): the best of them, DeepSeek-V3's. The runs do
# not separate precision from architecture (no dense fp8 or MoE bf16 run among them), so
# the default is per precision only.
DEFAULT_MFU_BY_PRECISION = {"bf16": 0.40, "fp8": 0.17}
DEFAULT_MFU = DEFAULT_MFU_BY_PRECISION[DEFAULT_PRECISION]
MFU_BASIS = {
    "bf16": "the middle of large dense bf16 runs (PaLM 46%, Llama 3 405B 38-43%)",
    "fp8": "DeepSeek-V3's 17% of the H800's fp8 peak, the best published fp8 run "
    "(Llama 4 Scout 11%, Maverick 13%)",
}


@dataclass(frozen=True)
class Accelerator:
    name: str
    description: str
    bf16_flops_per_second: float
    fp8_flops_per_second: float | None
    memory_bytes: float
    hbm_bytes_per_second: float | None
    tdp_watts: float | None
    source: str
    price_usd_per_hour: float | None = None
    price_note: str = ""

    def peak_flops_per_second(self, precision: str = DEFAULT_PRECISION) -> float | None:
        """The dense peak at `precision` (None: no such peak in the preset)."""
        return self.fp8_flops_per_second if precision == "fp8" else self.bf16_flops_per_second

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "bf16_flops_per_second": self.bf16_flops_per_second,
            "fp8_flops_per_second": self.fp8_flops_per_second,
            "memory_bytes": self.memory_bytes,
            "tdp_watts": self.tdp_watts,
            "source": self.source,
        }


def accelerator_names() -> list[str]:
    return list(load_presets("hardware"))


def load_accelerator(name: str, what: str = "accelerator") -> Accelerator:
    """The accelerator preset `name` (case and separators ignored), or an InputError
    about `what` with the nearest names."""
    listing = "see `chinchilla presets hardware`"
    key = preset_name("hardware", name, what, "accelerator", listing)
    e = load_presets("hardware")[key]

    def opt(key: str, scale: float) -> float | None:
        v = e.get(key)
        return None if v is None else float(v) * scale

    return Accelerator(
        name=key,
        description=str(e.get("description", "")),
        bf16_flops_per_second=float(e["bf16_tflops"]) * 1e12,
        fp8_flops_per_second=opt("fp8_tflops", 1e12),
        memory_bytes=float(e["memory_gb"]) * 1e9,
        hbm_bytes_per_second=opt("hbm_tb_per_s", 1e12),
        tdp_watts=opt("tdp_watts", 1.0),
        source=str(e.get("source", "")),
        price_usd_per_hour=opt("price_usd_per_hour", 1.0),
        price_note=str(e.get("price_note", "")),
    )


@dataclass(frozen=True)
class Cluster:
    """The hardware a run uses: `chips` accelerators at `mfu` of `peak_flops_per_second`,
    training for a `goodput` fraction of the wall-clock (the rest: failures, restarts,
    checkpoints)."""

    accelerator: Accelerator
    chips: int
    peak_flops_per_second: float
    mfu: float
    goodput: float = DEFAULT_GOODPUT
    precision: str = DEFAULT_PRECISION  # the format of the peak (a key of PRECISIONS)

    @property
    def flops_per_second(self) -> float:
        """Delivered (not peak) training FLOP/s of the whole cluster, over wall-clock."""
        return self.chips * self.peak_flops_per_second * self.mfu * self.goodput

    @property
    def memory_bytes(self) -> float:
        return self.chips * self.accelerator.memory_bytes

    def flops_in(self, seconds: float) -> float:
        return self.flops_per_second * seconds

    def seconds_for(self, flops: float) -> float:
        return flops / self.flops_per_second

    def chips_for(self, flops: float, seconds: float) -> int:
        """Chips needed to deliver `flops` within `seconds`, rounded up."""
        per_chip = self.peak_flops_per_second * self.mfu * self.goodput * seconds
        return max(1, math.ceil(flops / per_chip - 1e-9))


def peak_precision(acc: Accelerator, precision: str | None, peak_given: float | None) -> str:
    """The precision whose dense peak the cluster runs at: `precision` (default bf16),
    refused when unknown or when the preset has no such peak and none is given."""
    name = DEFAULT_PRECISION if precision is None else precision
    if name not in PRECISIONS:
        raise InputError(
            f"unknown precision {name!r}; expected one of {', '.join(PRECISIONS)}",
            field="precision",
        )
    if acc.peak_flops_per_second(name) is None and peak_given is None:
        known = [p for p in PRECISIONS if acc.peak_flops_per_second(p) is not None]
        raise InputError(
            f"{acc.name} has no {name} peak in the presets; accepted: {', '.join(known)}, "
            "or give its peak as `peak_flops`",
            field="precision",
        )
    return name


def cluster_assumptions(
    cluster: Cluster, peak_given: bool, mfu_default: bool, goodput_default: bool | None
) -> list[str]:
    """The assumption sentences about a cluster; "(default)" marks what the caller left
    out. `goodput_default` None: goodput does not apply (leave it unsaid)."""
    out = [
        f"{cluster.chips:,} x {cluster.accelerator.name} at "
        f"{cluster.peak_flops_per_second / 1e12:,.1f} TFLOP/s dense {cluster.precision} peak"
        + (" (given)" if peak_given else " (preset)"),
        f"MFU {cluster.mfu:.0%}"
        + (
            f" (default) for {cluster.precision}: {MFU_BASIS[cluster.precision]}"
            if mfu_default
            else ""
        ),
    ]
    if goodput_default is not None:
        out.append(f"goodput {cluster.goodput:.0%}" + (" (default)" if goodput_default else ""))
    return out
