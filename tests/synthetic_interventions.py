"""Generated runs of a baseline and its variants from known laws, for the tests of
`chinchilla fit --vs` and the README's example (examples/intervention_*.csv).

Each group is an IsoFLOP design: 9 budgets from 1e17 to 1e21 FLOPs (half a decade
apart), 7 model sizes per budget spread 4x either side of the law's own N_opt, D = C/(6N),
and the loss the law predicts times exp(noise), noise ~ Normal(0, 0.004) (seeded).

The variants, with what is known of them in closed form:
- SCALED: the baseline with A and B times 0.9. Its frontier's reducible loss is 0.9
  times the baseline's at every C, so the multiplier is 0.9^(-1/g) (g = alpha beta /
  (alpha + beta)) = 1.986 at every budget, with no crossover.
- STEEPER: larger exponents (alpha 0.36, beta 0.30) with A and B 1.5 times the
  baseline's: behind at small compute, ahead at large, crossing over inside the data.

Run `python tests/synthetic_interventions.py` to rewrite the example files.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from chinchilla_cli.laws import ParametricLaw

BASELINE = ParametricLaw("baseline", E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
SCALED = ParametricLaw("scaled", E=1.69, A=0.9 * 406.4, B=0.9 * 410.7, alpha=0.34, beta=0.28)
STEEPER = ParametricLaw("steeper", E=1.69, A=1.5 * 406.4, B=1.5 * 410.7, alpha=0.36, beta=0.30)
BUDGETS = tuple(float(c) for c in np.geomspace(1e17, 1e21, 9))
SPREAD = tuple(float(f) for f in np.geomspace(0.25, 4.0, 7))  # N / N_opt of a budget's runs
NOISE = 0.004


def scaled_multiplier(scale: float = 0.9, law: ParametricLaw = BASELINE) -> float:
    """The exact multiplier of a variant whose A and B are `scale` times the law's."""
    g = law.alpha * law.beta / (law.alpha + law.beta)
    return float(scale ** (-1.0 / g))


def runs(law: ParametricLaw, seed: int, noise: float = NOISE) -> dict[str, list[float]]:
    """The group's runs as columns params, tokens, loss."""
    rng = np.random.default_rng(seed)
    out: dict[str, list[float]] = {"params": [], "tokens": [], "loss": []}
    for c in BUDGETS:
        n_opt = law.optimal_params(c)
        for f in SPREAD:
            n = float(f"{n_opt * f:.4g}")
            d = float(f"{c / (6.0 * n):.4g}")
            loss = law.loss(n, d).total * math.exp(rng.normal(0.0, noise))
            out["params"].append(n)
            out["tokens"].append(d)
            out["loss"].append(round(loss, 5))
    return out


def write_csv(columns: dict[str, list[float]], path: Path, group: str | None = None) -> Path:
    """One row per run; with `group`, a first column `arm` holding it."""
    names = list(columns)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow((["arm"] if group else []) + names)
        for row in zip(*(columns[k] for k in names), strict=True):
            w.writerow(([group] if group else []) + [f"{x:.6g}" for x in row])
    return path


def main() -> None:
    examples = Path(__file__).resolve().parent.parent / "examples"
    write_csv(runs(BASELINE, seed=1), examples / "intervention_baseline.csv")
    write_csv(runs(STEEPER, seed=2), examples / "intervention_variant.csv")


if __name__ == "__main__":
    main()
