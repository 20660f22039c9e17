"""Collect the runs of benchmarks/sb3_runs.sh into the Markdown table of results/sb3.md.

    python benchmarks/sb3_table.py [runs/sb3]

Reads ``<run>/result.json`` written by ``scripts/train_sb3.py``; prints Markdown, then the command
of each row. A run that is missing shows up as a missing row.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

NAMES = {"a2c": "A2C", "ppo": "PPO", "recurrent_ppo": "RecurrentPPO"}
ORDER = ["mnist_a2c", "mnist_a2c_std", "mnist_ppo", "mnist_rppo", "cluttered_a2c", "cluttered_ppo", "cluttered_rppo"]


def main(runs: Path) -> None:
    results = {name: json.loads((runs / name / "result.json").read_text()) for name in ORDER
               if (runs / name / "result.json").is_file()}  # fmt: skip
    print("| run | env | algorithm | env steps | best val error % | test error %, 1 rollout | test error %, mode path "
          "| CPU min / wall min |")  # fmt: skip
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['env']} | {NAMES[r['algo']]} | {r['steps']:,} | {r['best_val_error']:.1f} "
              f"| **{r['test_error']:.2f}** | {r['test_error_mode_path']:.2f} "
              f"| {r['train_cpu_seconds'] / 60:.1f} / {r['train_seconds'] / 60:.1f} |")  # fmt: skip
    print()
    for name, r in results.items():
        print(f"- `{name}`: `{r['command']}`")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/sb3"))
