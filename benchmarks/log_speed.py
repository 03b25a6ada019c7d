"""Speed and memory of reading training logs for `chinchilla fit`: a 1,000,000-row log
reduced to its runs, and the whole fit, each against a plain `np.loadtxt` read of the
same file (its always-filled columns: step, tokens, loss), all in the same run.

Run: python benchmarks/log_speed.py [--rows 1000000] [--repeat 3]

The log is W&B-style: `name`, `_step`, `params` (on each run's first row only),
`total_steps`, `tokens`, `train/loss`; 1,000 runs of 1,000 checkpoints each, written as
CSV and as JSON Lines. Each task runs in its own fresh interpreter (imports included,
as a user's `chinchilla fit` pays them), `--repeat` times; it prints the best time and
the peak resident memory (VmHWM, else ru_maxrss) of each, and their ratios to the baseline's.
Issue 21's aim: fit() of the 1M-row CSV in about 1 s and under 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # as the `chinchilla` entry point sets
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402

from chinchilla_cli import logs  # noqa: E402

E, A, B, ALPHA, BETA = 1.69, 406.4, 410.7, 0.34, 0.28
BATCH = 65_536


def write_log(csv_path: Path, jsonl_path: Path, rows: int) -> int:
    """A log of about `rows` rows (runs of 1,000 checkpoints); returns its runs."""
    per_run = 1000
    n_runs = max(10, rows // per_run)
    rng = np.random.default_rng(0)
    sizes = np.geomspace(4e7, 4e9, 40)
    ratios = np.geomspace(5, 80, max(1, n_runs // len(sizes)))
    with (
        csv_path.open("w", encoding="utf-8", newline="") as c,
        jsonl_path.open("w", encoding="utf-8") as j,
    ):
        c.write("name,_step,params,total_steps,tokens,train/loss\n")
        run = 0
        for n in sizes:
            for ratio in ratios:
                if run == n_runs:
                    break
                total = max(per_run, round(n * ratio / BATCH))
                steps = np.linspace(total / per_run, total, per_run).round()
                d = steps * BATCH
                frac = steps / total
                loss = (E + A / n**ALPHA + B / d**BETA + 0.08 * (1 - frac)) * np.exp(
                    rng.normal(0, 0.004, per_run)
                )
                name = f"run{run}"
                for i in range(per_run):
                    first = i == 0
                    size, plan = (f"{n:.6g}", str(total)) if first else ("", "")
                    c.write(f"{name},{steps[i]:.0f},{size},{plan},{d[i]:.0f},{loss[i]:.6f}\n")
                    obj = {"name": name, "_step": int(steps[i]), "tokens": float(d[i])}
                    if first:
                        obj["params"] = float(n)
                        obj["total_steps"] = total
                    obj["train/loss"] = round(float(loss[i]), 6)
                    j.write(json.dumps(obj) + "\n")
                run += 1
    return run


TASKS = {
    "loadtxt": "np.loadtxt(PATH, delimiter=',', skiprows=1, usecols=(1, 4, 5))",
    "read_log": "logs.read_log(PATH)",
    "fit": "fit(PATH)",
}


def measure(code: str, path: Path) -> tuple[float, float]:
    """(seconds, peak MB) of `code` run on `path` in a fresh interpreter."""
    script = (
        "import sys, time, resource\n"
        f"sys.path.insert(0, {str(HERE.parent)!r})\n"
        "t0 = time.perf_counter()\n"
        "import numpy as np\n"
        "from chinchilla_cli import fit, logs\n"
        f"PATH = {str(path)!r}\n"
        f"{code}\n"
        "seconds = time.perf_counter() - t0\n"
        "try:  # this process's own peak (ru_maxrss keeps the parent's across exec)\n"
        "    status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
        "    peak = float(status.split()[0]) / 1024\n"
        "except (OSError, IndexError):\n"
        "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(seconds, peak)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    seconds, megabytes = map(float, out.stdout.split())
    return seconds, megabytes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        log_csv, log_jsonl = Path(tmp) / "h.csv", Path(tmp) / "h.jsonl"
        n_runs = write_log(log_csv, log_jsonl, args.rows)
        reduced = logs.read_log(str(log_csv))
        assert reduced is not None and reduced.n_runs == n_runs, reduced
        cases = [
            (f"baseline: np.loadtxt, {args.rows:,}-row CSV log", TASKS["loadtxt"], log_csv),
            (f"read_log, CSV log -> {n_runs} runs", TASKS["read_log"], log_csv),
            ("fit(), CSV log (read, reduce, fit)", TASKS["fit"], log_csv),
            (f"read_log, JSONL log -> {n_runs} runs", TASKS["read_log"], log_jsonl),
        ]
        results = {}
        for label, code, path in cases:
            runs = [measure(code, path) for _ in range(args.repeat)]
            results[label] = (min(t for t, _ in runs), min(m for _, m in runs))
    base_s, base_mb = next(iter(results.values()))
    width = max(map(len, results))
    print(
        f"best of {args.repeat} each (fresh interpreter, imports included); ratio to the baseline:"
    )
    for label, (seconds, mb) in results.items():
        print(
            f"  {label:<{width}}  {seconds:6.2f} s {seconds / base_s:5.2f}x"
            f"  {mb:6.0f} MB {mb / base_mb:5.2f}x"
        )


if __name__ == "__main__":
    main()
