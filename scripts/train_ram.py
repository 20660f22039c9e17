"""Train the recurrent attention model (Mnih et al., 2014) on a glimpse environment.

Usage::

    python scripts/train_ram.py --env GlimpseMNIST-v0 --epochs 5
    python scripts/train_ram.py --env GlimpseClutteredMNIST-v0 --cell lstm --max-minutes 60 --out runs/cluttered
    python scripts/train_ram.py --out runs/cluttered --resume          # continue where it stopped
    python scripts/train_ram.py --help                                 # every setting, with defaults

Runs log to Weights & Biases, offline unless ``--wandb-mode online`` (or ``WANDB_MODE``) says
otherwise; checkpoints go to ``--out``. The last line states the final validation error.
"""

from __future__ import annotations

from agents.cli import parse_config, run_main
from agents.trainer import TrainConfig, configure_logging, train


def main(config: TrainConfig) -> dict:
    summary = train(config)
    note = " (stopped at the time or step budget)" if summary["stopped_early"] else ""
    print(
        f"trained {summary['epoch']} epochs, {summary['global_step']} steps in {summary['seconds']:.0f} s "
        f"({summary['cpu_seconds']:.0f} CPU-s){note}; "
        f"best validation error {summary['best_val_error']:.2f}% at epoch {summary['best_epoch']}"
    )
    print(f"final validation error: {summary['val_error']:.2f}%")
    return summary


if __name__ == "__main__":
    configure_logging()
    run_main(main, parse_config(TrainConfig))
