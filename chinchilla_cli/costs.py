"""What a run costs: chip-hours, dollars, energy and emissions.

energy = chips x TDP x wall-clock hours x PUE; emissions = energy x grid intensity.
Prices and TDPs are approximate planning figures (see presets/hardware.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chinchilla_cli.hardware import SECONDS_PER_HOUR

DEFAULT_PUE = 1.1  # hyperscale data centres (Google); the industry average is ~1.58 (Uptime 2023)
PUE_SOURCE = "hyperscale PUE"
DEFAULT_GRID_G_PER_KWH = (
    475.0  # world average, IEA 2019; the default of CodeCarbon and carbontracker
)
GRID_SOURCE = "IEA 2019 world average"  # also CodeCarbon's and carbontracker's default


@dataclass(frozen=True)
class Cost:
    chip_hours: float
    usd_per_chip_hour: float | None
    price_source: str

    @property
    def usd(self) -> float | None:
        return None if self.usd_per_chip_hour is None else self.chip_hours * self.usd_per_chip_hour

    def to_dict(self) -> dict[str, Any]:
        return {
            "chip_hours": self.chip_hours,
            "usd": self.usd,
            "usd_per_chip_hour": self.usd_per_chip_hour,
            "price_source": self.price_source,
        }


@dataclass(frozen=True)
class Energy:
    tdp_watts: float | None
    chips: int
    hours: float
    pue: float
    grid_g_per_kwh: float

    @property
    def kwh(self) -> float | None:
        if self.tdp_watts is None:
            return None
        return self.chips * self.tdp_watts * self.hours * self.pue / 1000.0

    @property
    def kg_co2e(self) -> float | None:
        kwh = self.kwh
        return None if kwh is None else kwh * self.grid_g_per_kwh / 1000.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kwh": self.kwh,
            "kg_co2e": self.kg_co2e,
            "tdp_watts": self.tdp_watts,
            "pue": self.pue,
            "grid_intensity_g_per_kwh": self.grid_g_per_kwh,
        }


@dataclass(frozen=True)
class Prices:
    """What a chip-hour costs in dollars and energy, and the grid's carbon intensity."""

    usd_per_chip_hour: float | None
    price_source: str  # "given", the preset's note, or "none"
    tdp_watts: float | None
    pue: float = DEFAULT_PUE
    grid_g_per_kwh: float = DEFAULT_GRID_G_PER_KWH


def run_costs(chips: int, seconds: float, prices: Prices) -> tuple[Cost, Energy]:
    """Chip-hours, dollars, energy and emissions of `chips` running for `seconds`."""
    hours = seconds / SECONDS_PER_HOUR
    return (
        Cost(chips * hours, prices.usd_per_chip_hour, prices.price_source),
        Energy(prices.tdp_watts, chips, hours, prices.pue, prices.grid_g_per_kwh),
    )
