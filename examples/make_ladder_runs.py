"""Write examples/ladder_runs.csv: NOT real data, runs generated from known laws for the
README's accuracy-forecast example (`chinchilla fit examples/ladder_runs.csv
--metric-col hellaswag`).

48 runs: 8 model sizes from 4e7 to 4e9 parameters x 6 token budgets of 5 to 160 tokens
per parameter. The loss follows L = 1.69 + 406.4/N^0.34 + 410.7/D^0.28 (Hoffmann et al.
2022's Approach 3 constants) with 0.4% multiplicative noise; two task metrics follow
sigmoids of that loss, acc = a / (1 + exp(-k (L - L0))) + b, with absolute noise 0.005
(the binomial spread of a 10,000-question benchmark):

    hellaswag  a 0.70, k -3.0, L0 3.00, b 0.25
    arc_easy   a 0.60, k -2.5, L0 3.30, b 0.25

Two runs have no hellaswag value (an evaluation that did not run): the accuracy fit
leaves them out, the law's fit keeps them. Run from the repository root:
`python examples/make_ladder_runs.py` (numpy, seed 0).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28
TASKS = {"hellaswag": (0.70, -3.0, 3.00, 0.25), "arc_easy": (0.60, -2.5, 3.30, 0.25)}
MISSING = {(0, 0), (5, 3)}  # (size, budget) runs without a hellaswag value
OUT = Path(__file__).with_name("ladder_runs.csv")


def main() -> None:
    rng = np.random.default_rng(0)
    sizes = np.geomspace(4e7, 4e9, 8)
    ratios = (5, 10, 20, 40, 80, 160)
    rows = []
    for i, n in enumerate(sizes):
        for j, ratio in enumerate(ratios):
            d = ratio * n
            loss = (E + A / n**ALPHA + B / d**BETA) * np.exp(rng.normal(0, 0.004))
            row = {"params": f"{n:.4g}", "tokens": f"{d:.4g}", "loss": f"{loss:.4f}"}
            for task, (a, k, l0, b) in TASKS.items():
                acc = a / (1 + np.exp(-k * (loss - l0))) + b + rng.normal(0, 0.005)
                row[task] = f"{min(max(acc, 0.0), 1.0):.4f}"
            if (i, j) in MISSING:
                row["hellaswag"] = ""
            rows.append(row)
    with OUT.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
