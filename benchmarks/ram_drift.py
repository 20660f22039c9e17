"""Why a trained policy parks its glimpses on the border: the size of what the location network sees.

    python benchmarks/ram_drift.py RUNS NAME [NAME ...] [--images 500]

For each run (``RUNS/NAME/last.pt``) prints one Markdown row: the Frobenius norm of the location
network's last weight matrix ``W`` (mean ``= tanh(W h_t + c)``), and the mean norm of the core's
state ``|h_t|`` at every glimpse on the first ``--images`` validation images. The pre-activation
``W h_t`` is what saturates ``tanh``: it grows with ``|h_t|`` over an episode and with ``|W|``
over training. results/ram.md reads the table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from agents.checkpoint import load_checkpoint
from agents.reinforce import rollout
from agents.trainer import CHECKPOINT_KIND, build_env, load_model, saved_config


def state_norms(model, envs, images: int) -> list[float]:
    """Mean ``|h_t|`` over ``images`` episodes, one value per glimpse."""
    norms: list[float] = []
    step = model.core.step

    def recording_step(input_t, state):
        output, state = step(input_t, state)
        norms.append(output.norm(dim=-1).mean().item())
        return output, state

    model.core.step = recording_step  # an instance attribute: the class's step is untouched
    try:
        with torch.no_grad():
            rollout(model, envs, np.arange(images))
    finally:
        del model.core.step
    return norms


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path)
    parser.add_argument("names", nargs="+")
    parser.add_argument("--images", type=int, default=500, help="validation images (default: 500)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print("| run | core | location weight decay | norm of W | mean norm of h_t, t = 1 .. T |")
    print("|---|---|---|---|---|")
    for name in args.names:
        payload = load_checkpoint(args.runs / name / "last.pt", CHECKPOINT_KIND)
        config = saved_config(payload)
        model = load_model(payload)
        weights = [v for k, v in model.state_dict().items() if k.startswith("location_net.") and k.endswith("weight")]
        envs = build_env(config, "val", args.images)
        envs.reset(seed=0)
        torch.manual_seed(0)
        norms = state_norms(model, envs, args.images)
        decay = config.location_optimizer()["weight_decay"]
        print(f"| {name} | {config.cell} | {decay:g} | {weights[-1].norm():.2f} | {' / '.join(f'{n:.1f}' for n in norms)} |")


if __name__ == "__main__":
    main()
