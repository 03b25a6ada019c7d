"""A generated multi-run training log with a known law, for the tests and benchmarks.

Each run trains a model of N parameters for a planned D tokens and logs its loss at
checkpoints. The final checkpoint's loss is the law's L(N, D) plus noise; earlier
checkpoints sit above the law at their own D (the learning rate has not decayed yet: a
cosine schedule's intermediate checkpoint overstates the loss of a run planned to end
there), and the first few rows are warm-up with a loss far above everything else.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from chinchilla_cli.laws import ParametricLaw

LAW = ParametricLaw("known", E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28)
SIZES = tuple(float(n) for n in np.geomspace(4e7, 4e9, 7))  # N, two decades
RATIOS = (5.0, 10.0, 20.0, 40.0, 80.0)  # D / N of the runs of each size
BATCH_TOKENS = 65_536  # tokens per step
WARMUP = 0.02  # the first 2% of a run's rows are warm-up


def training_log(
    *,
    seed: int = 0,
    law: ParametricLaw = LAW,
    sizes: Iterable[float] = SIZES,
    ratios: Iterable[float] = RATIOS,
    checkpoints: int = 40,
    noise: float = 0.004,
    stop_early: dict[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Rows of a W&B-style history: `name`, `_step`, `tokens`, `train/loss`, with `params`
    and `total_steps` logged once per run (on its first row, as a config value would be).
    `stop_early` maps a run name to the fraction of its schedule its log reaches."""
    rng = np.random.default_rng(seed)
    stop_early = stop_early or {}
    rows: list[dict[str, Any]] = []
    for n in sizes:
        for ratio in ratios:
            name = f"n{n:.3g}-x{ratio:g}"
            planned = n * ratio
            total_steps = max(checkpoints, round(planned / BATCH_TOKENS))
            reach = stop_early.get(name, 1.0)
            steps = np.unique(np.linspace(total_steps / checkpoints, total_steps, checkpoints))
            steps = np.round(steps[steps <= reach * total_steps + 1e-9]).astype(int)
            for i, step in enumerate(steps):
                d = float(step) * BATCH_TOKENS
                frac = step / total_steps
                loss = law.loss(n, d).total
                loss += 0.08 * (1.0 - frac)  # the schedule has not annealed yet
                if frac <= WARMUP or i == 0:
                    loss += 6.0 * (1.0 - frac)  # warm-up: far above everything
                loss *= math.exp(rng.normal(0.0, noise))
                row: dict[str, Any] = {
                    "name": name,
                    "_step": int(step),
                    "tokens": d,
                    "train/loss": round(loss, 6),
                }
                if i == 0:
                    row["params"] = n
                    row["total_steps"] = total_steps
                rows.append(row)
    return rows


COLUMNS = ("name", "_step", "params", "total_steps", "tokens", "train/loss")


def write_csv(rows: list[dict[str, Any]], path: Path, columns: Iterable[str] = COLUMNS) -> Path:
    """As a W&B history CSV export: one line per row, empty cells where nothing was logged."""
    cols = list(columns)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        for row in rows:
            w.writerow(["" if row.get(c) is None else row[c] for c in cols])
    return path


def write_jsonl(rows: list[dict[str, Any]], path: Path) -> Path:
    """One JSON object per logged row, only the keys it logged."""
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return path


def wandb_exports(
    rows: list[dict[str, Any]], groups: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`rows` split as W&B exports them: the history (each logged step, no config: N and
    the planned steps removed) and the runs table (one row per run: `Name`, `State`,
    `params`, `total_steps`, and a group label `arm` when `groups` maps names to one)."""
    history = [{k: v for k, v in r.items() if k not in ("params", "total_steps")} for r in rows]
    table: list[dict[str, Any]] = []
    for r in rows:
        if "params" in r:
            entry = {"Name": r["name"], "State": "finished", "params": r["params"]}
            entry["total_steps"] = r["total_steps"]
            if groups is not None:
                entry["arm"] = groups[r["name"]]
            table.append(entry)
    return history, table


def write_panel(rows: list[dict[str, Any]], path: Path, metric: str = "train/loss") -> Path:
    """As W&B's line-plot panel "Download CSV": `Step`, then `RUN - METRIC` with its
    `__MIN` and `__MAX` bands for each run; a run's cells empty at the steps it skips."""
    runs = list(dict.fromkeys(r["name"] for r in rows))
    steps = sorted({r["_step"] for r in rows})
    at = {(r["name"], r["_step"]): r[metric] for r in rows}
    header = ["Step"]
    for run in runs:
        header += [f"{run} - {metric}", f"{run} - {metric}__MIN", f"{run} - {metric}__MAX"]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for step in steps:
            line: list[Any] = [step]
            for run in runs:
                value = at.get((run, step), "")
                line += [value, value, value]
            w.writerow(line)
    return path


VARIANT = ParametricLaw("variant", E=1.69, A=609.6, B=616.05, alpha=0.36, beta=0.30)


def write_wandb_example(directory: Path) -> tuple[Path, Path]:
    """tests/data/wandb_history.csv and wandb_runs.csv: two arms of 35 runs each (`base`
    on LAW, `wide` on VARIANT: larger exponents, A and B 1.5x), 10 checkpoints a run, as
    W&B exports them -- the history without N, the runs table with `Name`, `State`,
    `params`, `total_steps` and `arm` -- plus one run that crashed before logging."""
    history: list[dict[str, Any]] = []
    table: list[dict[str, Any]] = []
    for seed, (arm, law) in enumerate((("base", LAW), ("wide", VARIANT))):
        rows = training_log(seed=seed, law=law, checkpoints=10)
        for r in rows:
            r["name"] = f"{arm}-{r['name']}"
        names = dict.fromkeys(r["name"] for r in rows)
        part, runs = wandb_exports(rows, groups=dict.fromkeys(names, arm))
        history += part
        table += runs
    table.append(
        {"Name": "base-n4e+09-x80-retry", "State": "crashed", "params": 4e9}
        | {"total_steps": 4882813, "arm": "base"}
    )
    hist = write_csv(
        history, directory / "wandb_history.csv", ("name", "_step", "tokens", "train/loss")
    )
    runs = write_csv(
        table, directory / "wandb_runs.csv", ("Name", "State", "params", "total_steps", "arm")
    )
    return hist, runs
