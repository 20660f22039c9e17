"""A picture of the glimpse environment: for each task, a few episodes with a random glimpse path,
the image with the nested glimpse squares and the path, and the K patches the agent actually saw at
the last location.

Usage::

    python scripts/show_env.py                                   # all four tasks -> results/figures/env_tasks.png
    python scripts/show_env.py --envs GlimpseMNIST-v0 --episodes 4 --out mnist.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym
import matplotlib
import numpy as np

import glimpse_env
from agents.cli import run_main

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the file backend)


def episode(env_id: str, seed: int, data_dir=None):
    """Play one episode with a random path; return the final frame and the last glimpse ``(K, G, G)``."""
    kwargs = {"data_dir": data_dir} if data_dir else {}
    env = gym.make(env_id, render_mode="rgb_array", split="test", **kwargs)
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    n_glimpses = env.unwrapped.config.n_glimpses
    for _ in range(n_glimpses - 1):
        obs, *_ = env.step({"location": rng.uniform(-0.6, 0.6, 2).astype(np.float32), "label": 0})
    return env.render(), obs["glimpse"], obs["location"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--envs", nargs="+", default=list(glimpse_env.ENV_IDS), help="environment ids, one row each")
    parser.add_argument("--episodes", type=int, default=3, help="episodes per environment")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-dir", default=None, help="data directory holding mnist/")
    parser.add_argument("--out", default="results/figures/env_tasks.png")
    args = parser.parse_args()
    for env_id in args.envs:
        try:
            glimpse_env.check_env_id(env_id)
        except ValueError as e:
            parser.error(str(e))
    if args.episodes < 1:
        parser.error(f"--episodes must be >= 1, got {args.episodes}")
    max_scales = max(glimpse_env.ENV_IDS.get(e, {}).get("n_scales", 4) for e in args.envs)
    cols = args.episodes * (1 + max_scales)
    fig, axes = plt.subplots(len(args.envs), cols, figsize=(1.5 * cols, 1.9 * len(args.envs)), squeeze=False,
                             gridspec_kw={"width_ratios": ([2.2] + [1] * max_scales) * args.episodes})  # fmt: skip
    for row, env_id in enumerate(args.envs):
        for e in range(args.episodes):
            frame, glimpse, location = episode(env_id, args.seed + e, args.data_dir)
            base = e * (1 + max_scales)
            ax = axes[row, base]
            ax.imshow(frame)
            ax.set_title(f"{env_id.removeprefix('Glimpse').removesuffix('-v0')}" if e == 0 else "", fontsize=8, loc="left")
            for k in range(max_scales):
                ax = axes[row, base + 1 + k]
                if k < len(glimpse):
                    ax.imshow(glimpse[k], cmap="gray", vmin=0, vmax=1)
                    ax.set_title(f"scale {k + 1}", fontsize=7)
        for ax in axes[row]:
            ax.set_xticks([]), ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
    fig.suptitle("Glimpse environments: random paths (blue), the last glimpse's squares, and what the sensor returned",
                 fontsize=9)  # fmt: skip
    fig.tight_layout()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    run_main(main)
