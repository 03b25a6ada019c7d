"""Model FLOPs utilisation that published training runs reached, and what a plan's
utilisation is judged against.

A run's utilisation is the FLOP/s its model needed (6 x ACTIVE parameters x tokens, over
its chip-time) as a fraction of the chips' dense peak at the run's number format. Some
runs report it (PaLM's Table 3, Llama 3's Table 4); for the rest it is derived here from
what their authors published: GPU-hours, tokens and active parameters (presets/models.yaml,
`training:`), and the accelerator's peak (presets/hardware.yaml). The defaults a plan
assumes (`hardware.DEFAULT_MFU_BY_PRECISION`) rest on these runs; a plan warns when the
utilisation it is given lies beyond the best of them or far below the worst.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chinchilla_cli.architecture import FLOPS_PER_PARAM_TOKEN
from chinchilla_cli.hardware import SECONDS_PER_HOUR, load_accelerator
from chinchilla_cli.presets import load_presets

# below this fraction of the lowest published utilisation a given MFU is implausibly low
IMPLAUSIBLY_LOW_FRACTION = 0.5


@dataclass(frozen=True)
class PublishedRun:
    """One published training run's utilisation: `mfu_low` to `mfu_high` (equal when one
    figure), at `precision`, reported by its authors or derived from its GPU-hours."""

    name: str
    precision: str
    mixture_of_experts: bool
    mfu_low: float
    mfu_high: float
    derived: bool  # True: from GPU-hours, tokens and active parameters; False: reported
    source: str

    @property
    def mfu(self) -> float:
        """The middle of the reported range (the one figure when there is one)."""
        return (self.mfu_low + self.mfu_high) / 2

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "precision": self.precision,
            "mixture_of_experts": self.mixture_of_experts,
            "mfu_low": self.mfu_low,
            "mfu_high": self.mfu_high,
            "derived": self.derived,
            "source": self.source,
        }


def derived_mfu(
    active_params: float, tokens: float, gpu_hours: float, peak_flops_per_second: float
) -> float:
    """6 x active parameters x tokens, over the GPU-seconds, as a fraction of the peak."""
    delivered = FLOPS_PER_PARAM_TOKEN * active_params * tokens / (gpu_hours * SECONDS_PER_HOUR)
    return delivered / peak_flops_per_second


def published_runs() -> tuple[PublishedRun, ...]:
    """Every run in presets/models.yaml with a `training:` entry, in the file's order."""
    out = []
    for name, entry in load_presets("models").items():
        training = entry.get("training")
        if not isinstance(training, dict):
            continue
        precision = str(training["precision"])
        moe = entry.get("moe_architecture") is not None
        if "gpu_hours" in training:
            peak = load_accelerator(str(training["accelerator"])).peak_flops_per_second(precision)
            assert peak is not None, f"{name}: no {precision} peak"
            active = float(entry.get("active_params") or entry["params"])
            mfu = derived_mfu(active, float(entry["tokens"]), float(training["gpu_hours"]), peak)
            low = high = mfu
        else:
            reported = training["mfu"]
            low, high = (
                (float(reported[0]), float(reported[1]))
                if isinstance(reported, list)
                else (float(reported), float(reported))
            )
        derived = "gpu_hours" in training
        out.append(PublishedRun(name, precision, moe, low, high, derived, str(training["source"])))
    return tuple(out)


def _percent(x: float) -> str:
    return f"{x:.1%}" if x < 0.1 else f"{x:.0%}"


def mfu_warnings(mfu: float, precision: str) -> list[str]:
    """A given utilisation beyond every published run at `precision`, or below half the
    lowest any reached at it (with no published run at `precision`, at any: a fraction of
    an fp8 peak is not one of a bf16 peak)."""
    runs = published_runs()
    same = [r for r in runs if r.precision == precision] or list(runs)
    best = max(same, key=lambda r: r.mfu_high)
    worst = min(same, key=lambda r: r.mfu_low)
    if mfu > best.mfu_high:
        return [
            f"MFU {_percent(mfu)} is beyond what any published {precision} run reached "
            f"(the best: {best.name}, {_percent(best.mfu_high)}); time and cost assume a "
            "throughput no one has reported"
        ]
    if mfu < IMPLAUSIBLY_LOW_FRACTION * worst.mfu_low:
        return [
            f"MFU {_percent(mfu)} is implausibly low: under half the lowest published run "
            f"({worst.name}, {_percent(worst.mfu_low)} of its {worst.precision} peak); "
            "is that the run's utilisation?"
        ]
    return []
