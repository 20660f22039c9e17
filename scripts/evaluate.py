"""Test error of a trained recurrent attention model, on the test split it never saw in training.

Usage::

    python scripts/evaluate.py runs/ram/best.pt
    python scripts/evaluate.py runs/ram/best.pt --rollouts 10 --picture runs/ram/test_paths.png
    python scripts/evaluate.py runs/ram/best.pt --split val        # the split used for model selection
    python scripts/evaluate.py runs/ram/best.pt --split train --subset 10000   # how far it fits its training images

Reports the error of one rollout (locations sampled from the policy, seeded), of ``--rollouts``
rollouts with their class probabilities averaged, and of the policy's mean path (no sampling),
each labelled; writes a picture of glimpse paths on test images. The last line is
``test_error=<percent>``, the one-rollout error.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from agents.checkpoint import load_checkpoint
from agents.cli import check_at_least, check_device, parse_config, run_main
from agents.reinforce import evaluate
from agents.trainer import CHECKPOINT_KIND, build_env, configure_logging, load_model, saved_config
from glimpse_env.render import image_grid


@dataclass
class EvalArgs:
    """Evaluate a recurrent attention model checkpoint on the test split."""

    checkpoint: str = "runs/ram/best.pt"
    """checkpoint written by scripts/train_ram.py (best.pt or last.pt)"""
    rollouts: int = 10
    """rollouts averaged for the second figure"""
    split: str = "test"
    """split to evaluate: test (default), val, or train (to compare with val: overfitting)"""
    subset: int | None = None
    """evaluate on the first N images only"""
    batch_size: int = 1000
    """episodes per batch"""
    seed: int = 0
    """seed of the sampled locations"""
    device: str = "cpu"
    """torch device"""
    threads: int | None = None
    """torch CPU threads (none: torch's default)"""
    data_dir: str | None = None
    """data directory holding mnist/ (none: $GLIMPSE_DATA_DIR, else the user cache)"""
    picture: str | None = None
    """PNG of glimpse paths on images of --split (default: <split>_glimpse_paths.png next to the checkpoint)"""
    json_out: str | None = None
    """also write the results as JSON here"""

    def __post_init__(self):
        check_at_least(self, 1, "rollouts", "batch_size")
        if self.split not in ("test", "val", "train"):
            raise ValueError(f"split must be test, val or train, got {self.split!r}")
        check_at_least(self, 1, "subset", allowed=" images (or none: all)")
        check_at_least(self, 1, "threads", allowed=" (or none: torch's default)")
        check_device(self.device)
        if self.picture is not None and Path(self.picture).suffix.lower() != ".png":
            # checked here: PIL would only refuse the name after the minutes of scoring
            raise ValueError(f"--picture must be a .png file, got {self.picture!r}")


def main(args: EvalArgs) -> dict:
    if args.threads:
        torch.set_num_threads(args.threads)
    payload = load_checkpoint(args.checkpoint, CHECKPOINT_KIND, map_location=args.device)
    saved = saved_config(payload)
    # no train_*: the training split is scored on its images as they are, not on augmented ones
    config = dataclasses.replace(saved, device=args.device, data_dir=args.data_dir or saved.data_dir, train_shift=0,
                                 train_rotation=0, train_zoom=0)  # fmt: skip
    envs = scoring_env(config, args.split, args.batch_size)
    model = load_model(payload, args.device)
    if tuple(model.config.glimpse_shape) != tuple(envs.config.glimpse_shape):
        raise ValueError(f"the checkpoint's model reads glimpses {model.config.glimpse_shape}, its environment gives {envs.config.glimpse_shape}")
    n = envs.config.source.n_images if args.subset is None else min(args.subset, envs.config.source.n_images)
    random = config.random_glimpses
    started = time.perf_counter()
    sampled = evaluate(model, envs, n, rollouts=args.rollouts, seed=args.seed, random_locations=random)
    mean_path = evaluate(model, envs, n, deterministic=True, seed=args.seed, random_locations=random)
    seconds = time.perf_counter() - started
    picture = Path(args.picture) if args.picture else Path(args.checkpoint).with_name(f"{args.split}_glimpse_paths.png")
    _save_png(image_grid(envs.episode_frames(np.arange(min(24, envs.num_envs))), n_cols=8), picture)
    state = payload["state"]
    results = {
        "checkpoint": str(args.checkpoint), "env": config.env, "split": args.split, "images": n,
        "epoch": state["epoch"], "train_seconds": round(state["seconds"], 1),
        "error_one_rollout": sampled["error"], f"error_{args.rollouts}_rollouts": sampled["error_avg"],
        "error_mean_path": mean_path["error"], "border_percent": [round(b, 2) for b in sampled["border"]],
        "eval_seconds": round(seconds, 1), "picture": str(picture),
    }  # fmt: skip
    print(f"{config.env}, {args.split} split, {n} images, checkpoint of epoch {state['epoch']} ({state['seconds']:.0f} s of training)")
    print(f"  error, one rollout (sampled locations): {sampled['error']:.2f}%")
    print(f"  error, {args.rollouts} rollouts averaged:          {sampled['error_avg']:.2f}%")
    print(f"  error, mean path (no sampling):        {mean_path['error']:.2f}%")
    print(f"  glimpses 2..{len(sampled['border']) + 1} at the border (%): {' '.join(f'{b:.1f}' for b in sampled['border'])}")
    print(f"  glimpse paths: {picture}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2))
    print(f"{args.split}_error={sampled['error']:.2f}")
    return results


def scoring_env(config, split: str, batch_size: int):
    """The vector env that scores ``split``, each image on one fixed canvas. Val and test canvases
    are fixed already; the training split of a canvas task draws a new placement and clutter every
    episode, so it is built here without that augmentation (its canvases then come from a fixed
    seed, as val's do), and the rollouts averaged for one image all look at the same canvas. The
    whole split is rendered (clutter is cut from any of its images, so a smaller split would change
    the first images' canvases too): 54,000 canvases take 5-10 s and 194 MB at 60x60, 10-20 s and
    540 MB at 100x100, whatever --subset."""
    return build_env(config, split, batch_size, **({"augment": False} if split == "train" else {}))


def _save_png(rgb: np.ndarray, path: Path) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(path)


if __name__ == "__main__":
    configure_logging()
    run_main(main, parse_config(EvalArgs, positional=("checkpoint",)))
