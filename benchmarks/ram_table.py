"""Collect the runs of benchmarks/ram_runs.sh into the Markdown table of results/ram.md.

    python benchmarks/ram_table.py [runs/ram_results]

Reads each run's test evaluation (``<name>.json`` from ``scripts/evaluate.py --json-out``) and its
checkpoints (settings, epochs, wall and CPU time); prints Markdown. Nothing is typed in by hand:
a run that is missing shows up as a missing row.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

from agents.checkpoint import load_checkpoint
from agents.tracking import cpu_name

# name, task label, the paper's test error (%, Mnih et al. 2014, Table 1), best public (%)
ROWS = [
    ("mnist_cpu2", "MNIST 28x28, 6 glimpses 8x8, **2 CPU-min**", "1.12 (converged)", "3.89 at 2 CPU-min"),
    ("mnist_cpu2_lr3e-3", "same, lr 3e-3", "", ""),
    ("mnist_cpu10", "MNIST 28x28, 6 glimpses 8x8, **10 CPU-min**", "1.12 (converged)", "2.35 at 10 CPU-min"),
    ("mnist_e100", "MNIST 28x28, longer run (see notes)", "1.12", "0.85"),
    ("translated", "translated 60x60, 6 glimpses 12x12 x3", "1.22", ""),
    ("c60_center", "cluttered 60x60, 8 glimpses 12x12 x3", "4.04", "2.63"),
    ("c60_randglimpse", "cluttered 60x60, **random glimpses**", "14.4", ""),
    ("c100", "cluttered 100x100, 8 glimpses 12x12 x4", "8.11", "5.9"),
]


def main(runs: Path) -> None:
    print(f"Hardware: {cpu_name()}, 1 torch thread per run (OMP_NUM_THREADS=1), torch {torch.__version__}.\n")
    print("| run | task | paper | best public | test error, 1 rollout | 10 rollouts averaged | mean path "
          "| best epoch / epochs | CPU min / wall min |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for name, label, paper, public in ROWS:
        result = runs / f"{name}.json"
        if not result.is_file():
            continue
        r = json.loads(result.read_text())
        ckpt = Path(r["checkpoint"])
        best = load_checkpoint(ckpt, "ram")["state"]
        last = load_checkpoint(ckpt.with_name("last.pt"), "ram")["state"] if ckpt.with_name("last.pt").is_file() else best
        print(f"| {name} | {label} | {paper} | {public} | **{r['error_one_rollout']:.2f}** | {r['error_10_rollouts']:.2f} "
              f"| {r['error_mean_path']:.2f} | {best['epoch']} / {last['epoch']} "
              f"| {last['cpu_seconds'] / 60:.1f} / {last['seconds'] / 60:.1f} |")  # fmt: skip


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/ram_results"))
