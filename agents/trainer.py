"""Training the recurrent attention model: configuration, the epoch loop, checkpoints and logging.

``scripts/train_ram.py`` is a thin command line over :func:`train`; tests call it directly.

A run writes into ``--out``: ``last.pt`` (after every epoch, every ``checkpoint_every`` batches,
and when the time budget runs out), ``best.pt`` (best validation error so far), and ``wandb/``.
Both are written atomically. ``--resume`` restores the model, optimizer, scheduler, the torch
and environment random states and the position inside the epoch, so an interrupted run continues
exactly as if it had not stopped.

Defaults, and the evidence for them: a REINFORCE weight of 0.01 and standardised glimpse pixels,
as in the best public PyTorch RAM (kevinzakka), together with a random first glimpse beat weight 1,
raw pixels and a centred start on 5 of 6 seeds, 8.3 % against 9.6 % mean validation error after
1,600 steps of 128 MNIST episodes (one thread, about 65 CPU-s each; seed noise there is about +-2
points, so each part alone is unproven). The first glimpse is centred all the same: at a budget of 2
CPU-minutes on MNIST a random start cost 3 points of one-rollout test error (8.23 % against 5.06 %,
one seed each; averaged over 10 rollouts, 4.86 % against 4.42 %: a random start makes a single
rollout a lottery), and on cluttered 60x60 the two validation curves were indistinguishable for 21
epochs. The location network has an AdamW weight decay of its own (1): at 10 CPU-minutes on MNIST
3.92 / 3.62 % test error against 4.26 / 5.85 % without, with 17-18 % of last glimpses on the
border against 72-91 % (measured on MNIST; on cluttered 60x60 with the LSTM core it changed
nothing, and the canvas rows of results/ram.md ran without it). On MNIST (no canvas) each training
image is shifted by up to 2 pixels along each axis (``train_shift``): without it the model
memorises the training images (0.45-0.71 % training error against 2.8-3.3 % validation error at 10
CPU-minutes); with it, 1.64 / 1.63 / 2.16 % test error at 10 CPU-minutes (seeds 0-2) against
3.92 / 3.62 % (seeds 0-1).
results/ram.md has the runs.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import gymnasium as gym
import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

import glimpse_env  # registers the environment ids
from agents.averaging import averaged_model
from agents.checkpoint import atomic_save, device_rng_state, load_checkpoint, restore_device_rng
from agents.cli import UsageError, check_device
from agents.core import CELLS, INITS, PLAIN_RNN_CELLS
from agents.ram import RAMConfig, RecurrentAttentionModel
from agents.distributed import Distributed
from agents.distributed import setup as setup_distributed
from agents.reinforce import REWARDS, EpisodeLoss, LossWeights, evaluate
from agents.tracking import WANDB_MODES, init_wandb, rgb_to_wandb
from glimpse_env.datasets import TASKS, task_canvas
from glimpse_env.render import image_grid

logger = logging.getLogger(__name__)

__all__ = ["CHECKPOINT_KIND", "TrainConfig", "build_env", "build_model", "load_model", "saved_config", "share_streams", "train"]

CHECKPOINT_KIND = "ram"
# Settings that may change when a run is resumed; everything else comes from the checkpoint.
RUN_CONTROL = ("epochs", "max_minutes", "max_cpu_minutes", "max_steps", "device", "wandb_mode", "out", "threads", "flush_denormal", "log_every",
               "picture_every", "checkpoint_every", "resume", "data_dir", "progress")  # fmt: skip
# Settings whose default changed after checkpoints without them were written: the value such a
# checkpoint trained with, so that resuming or evaluating it does not silently switch to the new default.
ABSENT_MEANS = {"location_zero_init": False, "location_weight_decay": None, "train_shift": 0}

# Model settings a warm start (--init-from) may change: how the weights start or are used, not what they are.
WARM_START_FREE = ("core_init", "location_zero_init", "std", "detach_location", "log_prob", "dropout")

# train_shift's default on images shown without a canvas
DEFAULT_SHIFT = 2


@dataclass
class TrainConfig:
    """Train the recurrent attention model (Mnih et al., 2014) with hybrid REINFORCE."""

    env: str = "GlimpseMNIST-v0"
    """registered environment id (GlimpseMNIST-v0, GlimpseTranslatedMNIST-v0, GlimpseClutteredMNIST-v0, GlimpseClutteredMNIST100-v0)"""
    n_glimpses: int | None = None
    """glimpses per episode (none: the environment's default)"""
    glimpse_size: int | None = None
    """glimpse side G in pixels (none: the environment's default)"""
    n_scales: int | None = None
    """patches per glimpse K (none: the environment's default)"""
    start: Literal["center", "random"] = "center"
    """where the first glimpse of an episode is taken (random: a seeded random place)"""
    epochs: int = 100
    """passes over the training split"""
    max_minutes: float | None = None
    """stop cleanly once the run has trained this many minutes in all, a resumed run counting its earlier time (checkpoint kept; a larger value and --resume go on)"""
    max_cpu_minutes: float | None = None
    """stop cleanly once the run has used this much process CPU time in all (all threads, validation included): a budget that load from other programs does not eat"""
    max_steps: int | None = None
    """stop cleanly once the run has made this many gradient steps in all (like --max-minutes, but exact)"""
    batch_size: int = 128
    """episodes per gradient step (the vector environment's num_envs)"""
    rollouts_per_image: int = 1
    """k > 1: each batch plays batch_size / k images k times each (same canvas), and REINFORCE's baseline is the mean reward of the image's other k - 1 episodes"""
    lr: float = 1e-3
    """Adam learning rate (2e-3 for all but the location network learns faster in 2 CPU-minutes of MNIST, not in 10 or 30: results/ram.md)"""
    lr_schedule: Literal["cosine", "constant"] = "cosine"
    """cosine: anneal to lr_min over all epochs, or over --max-minutes/--max-cpu-minutes if that ends first; constant: keep lr"""
    lr_min: float = 1e-5
    """final learning rate of the cosine schedule"""
    warmup_steps: int = 0
    """linear learning-rate warm-up, in gradient steps"""
    weight_decay: float = 0.0
    """Adam(W) weight decay"""
    grad_clip: float | None = 5.0
    """clip the gradient's global norm to this (none: no clipping)"""
    std: float = 0.05
    """standard deviation of the location policy, in the [-1, 1] frame (0.05: 0.7 pixel on 28x28, 1.5 on 60x60; 0.1 is better on the 60x60 and 100x100 canvases, see results/ram.md)"""
    std_final: float | None = None
    """anneal the location policy's std to this along the learning rate's cosine (the same warm-up-free progress over the epochs or the time budget), so late training and the saved model sample closer to the mean path (none: keep std; on MNIST 0.05 to 0.02 lost and 0.1 to 0.05 did not beat a fixed 0.05: results/ram.md)"""
    cell: Literal["rnn", "rnn_tanh", "rnn_ln", "lstm", "gru"] = "rnn"
    """core network: rnn (ReLU, the paper's), rnn_tanh, rnn_ln (the ReLU cell layer-normalised), lstm or gru (lstm beat rnn on the 60x60 and 100x100 canvases, not on MNIST; rnn_tanh and rnn_ln lost on MNIST: see results/ram.md)"""
    core_init: Literal["default", "identity"] = "default"
    """initial recurrent weights of a plain RNN core: default (torch's) or identity (IRNN; bias zero; faster first epoch, no better after 2 CPU-minutes of MNIST: results/ram.md)"""
    hidden_size: int = 256
    """core network width"""
    glimpse_hidden: int = 128
    """width of the glimpse network's what and where layers"""
    glimpse_out: int = 256
    """width of the glimpse feature g_t"""
    pixel_mean: float = 0.1307
    """glimpse pixels are standardised as (x - pixel_mean) / pixel_std in the glimpse network (MNIST's statistics)"""
    pixel_std: float = 0.3081
    """see pixel_mean; 0 and 1 leave the glimpse as the environment gives it"""
    detach_location: bool = True
    """location network reads h_t.detach(): REINFORCE trains the location network only (false: the core and glimpse network too, as in the paper; 3.4 points lower validation error on cluttered 100x100, 3.45 against 4.00 % test error on cluttered 60x60; a tie on translated 60x60, a loss on MNIST: results/ram.md)"""
    location_hidden: int = 0
    """0: the location network's mean is linear in h_t (the paper's); N: a ReLU layer of N units first"""
    location_zero_init: bool = True
    """start the location network's last layer at zero: every glimpse's mean starts at the centre (false: torch's default init)"""
    location_normalize: bool = False
    """the location network reads h_t / |h_t|: every glimpse of an episode moves alike when its weights change (no gain on MNIST: results/ram.md)"""
    location_lr: float | None = None
    """Adam learning rate of the location network (none: lr); it follows the same schedule"""
    location_weight_decay: float | None = 1.0
    """AdamW weight decay of the location network (none: weight_decay): holds its weights down against the wandering that Adam makes of a noisy policy gradient, which parks glimpses on the border (results/ram.md)"""
    log_prob: Literal["clipped", "gaussian"] = "clipped"
    """REINFORCE scores the clipped action (clipped) or the Gaussian sample before clipping (gaussian)"""
    hybrid: bool = True
    """cross-entropy on the class (the paper's hybrid loss); false: pure RL, class sampled and trained by REINFORCE"""
    random_glimpses: bool = False
    """control: look at uniformly random locations, location network untrained"""
    ce_weight: float = 1.0
    """weight of the classification term"""
    reinforce_weight: float = 0.01
    """weight of the REINFORCE term; with Adam it matters only through the shared gradient-norm clip, which a small weight keeps the policy gradient from dominating"""
    baseline_weight: float = 1.0
    """weight of the baseline's squared error"""
    reward: Literal["env", "prob"] = "env"
    """R of the locations' REINFORCE term and the baseline: env (the environment's 0/1 reward, the paper's) or prob (the classifier's probability of the true class, hybrid only; no gain on MNIST: results/ram.md)"""
    early_ce_weight: float = 0.0
    """weight of a cross-entropy on the class after each glimpse before the last (deep supervision, not in the paper; 0: off; on MNIST it parked more glimpses on the border: results/ram.md)"""
    label_smoothing: float = 0.0
    """smooth the class targets of the cross-entropy: 1 - eps on the true class, eps / N on every class (Szegedy et al., 2016; not in the paper; 0: off; on MNIST 0.1 selected a lower validation error but tested worse, 1.25 % against 1.14 % over ten location seeds: results/ram.md)"""
    dropout: float = 0.0
    """dropout on h_t before the action network, in training only (not in the paper; 0: off; with the shift, 0.3 cost MNIST 4.49 % against 1.64 % at 10 CPU-minutes: results/ram.md)"""
    ema_decay: float = 0.0
    """keep an exponential moving average of the weights (decay per step; 0.999 averages over ~1,000 steps), validate it and save it as best.pt's model, the weights evaluate.py scores (not in the paper; 0: off)"""
    ema_warmup: bool = False
    """cap the average's decay at (1 + n) / (10 + n) after n updates, so it does not lag early in a run (agents.averaging; the translation trainer's default)"""
    train_shift: int | None = None
    """translate each training image by a random whole number of pixels, up to this along each axis (augmentation, not in the paper; validation and test images stay as they are). None: 2 on images without a canvas (GlimpseMNIST-v0, which the RAM overfits without it: results/ram.md), 0 on the canvases, whose placement is random already"""
    train_rotation: int = 0
    """rotate each training image's digit by a random whole number of degrees, up to this either way (augmentation of the digit's shape, not in the paper; validation and test images stay as they are; 0: off)"""
    train_zoom: int = 0
    """scale each training image's digit by 1 + p/100 for a random whole number p of percent, up to this either way (augmentation, with train_rotation; 0: off)"""
    select_window: int = 1
    """choose best.pt by the validation error averaged over the last K epochs (1: each epoch's own error, the paper's protocol). Late in a run the per-epoch error moves by about its binomial standard error, so the lowest of hundreds is often a lucky epoch (results/ram.md, "resumed a second time"); a window of several epochs keeps one from winning"""
    train_subset: int | None = None
    """train on the first N images of the training split only"""
    val_subset: int | None = None
    """validate on the first N images of the validation split only"""
    eval_batch_size: int = 1000
    """episodes per batch during validation"""
    seed: int = 0
    """seed of the model, the policy's noise, the epoch order and the environments"""
    device: str = "cpu"
    """torch device: cpu or cuda (the environment then runs there too)"""
    threads: int | None = None
    """torch CPU threads (none: torch's default)"""
    flush_denormal: bool = False
    """on CPU, compute with denormal floats as zero (torch.set_flush_denormal) for the run: the Adam moments of units that no longer get a gradient decay through the denormal range, where x86 arithmetic is many times slower. Off by default, the evidence is mixed: resuming translated 60x60 at epoch 263 for one epoch took 27-30 CPU-s with it against 32-33 without (twice each), but the short runs of tests/test_train.py and test_distributed.py took 74-81 s with it against 64-65 s without"""
    out: str = "runs/ram"
    """output directory: checkpoints and the W&B run"""
    resume: bool = False
    """continue from OUT/last.pt"""
    init_from: str | None = None
    """start from the weights of another run's checkpoint (its best.pt or last.pt; the averaged weights if it kept an average) with this run's optimizer, schedule and settings: a warm start, e.g. at a larger batch or on another device; the model settings that shape the weights must match"""
    checkpoint_every: int = 0
    """also checkpoint every N gradient steps (0: at the end of each epoch only)"""
    log_every: int = 50
    """log training metrics every N gradient steps"""
    picture_every: int = 5
    """log a picture of glimpse paths on validation images every N epochs (0: never)"""
    wandb_mode: str | None = None
    """disabled, offline or online (none: $WANDB_MODE, else offline)"""
    wandb_project: str = "glimpse-attention"
    """W&B project"""
    data_dir: str | None = None
    """data directory holding mnist/ (none: $GLIMPSE_DATA_DIR, else the user cache)"""
    progress: bool = True
    """show a progress bar per epoch"""

    def __post_init__(self):
        def positive(name, value, kind=int, allow_none=False, zero=False):
            if value is None and allow_none:
                return
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and (value >= 0 if zero else value > 0)
            if kind is int:
                ok = ok and float(value).is_integer()
            if not ok or not math.isfinite(value):
                bound = ">= 0" if zero else "> 0"
                raise ValueError(f"{name} must be {'an integer' if kind is int else 'a number'} {bound}, got {value!r}")

        for name in ("epochs", "batch_size", "rollouts_per_image", "hidden_size", "glimpse_hidden", "glimpse_out", "eval_batch_size", "log_every",
                     "select_window"):
            positive(name, getattr(self, name))
        for name in ("n_glimpses", "glimpse_size", "n_scales", "train_subset", "val_subset", "threads", "max_steps"):
            positive(name, getattr(self, name), allow_none=True)
        positive("std", self.std, float)
        positive("std_final", self.std_final, float, allow_none=True)
        positive("pixel_std", self.pixel_std, float)
        positive("lr", self.lr, float)
        positive("lr_min", self.lr_min, float, zero=True)
        positive("location_lr", self.location_lr, float, allow_none=True)
        positive("location_weight_decay", self.location_weight_decay, float, allow_none=True, zero=True)
        positive("location_hidden", self.location_hidden, zero=True)
        positive("max_minutes", self.max_minutes, float, allow_none=True)
        positive("max_cpu_minutes", self.max_cpu_minutes, float, allow_none=True)
        positive("grad_clip", self.grad_clip, float, allow_none=True)
        for name in ("weight_decay", "ce_weight", "reinforce_weight", "baseline_weight", "early_ce_weight"):
            positive(name, getattr(self, name), float, zero=True)
        positive("train_shift", self.train_shift, allow_none=True, zero=True)
        positive("train_rotation", self.train_rotation, zero=True)
        positive("train_zoom", self.train_zoom, zero=True)
        for name in ("warmup_steps", "checkpoint_every", "picture_every"):
            positive(name, getattr(self, name), zero=True)
        if not (isinstance(self.dropout, (int, float)) and 0 <= self.dropout < 1):
            raise ValueError(f"dropout must be a probability in [0, 1), got {self.dropout!r}")
        if not (isinstance(self.label_smoothing, (int, float)) and 0 <= self.label_smoothing < 1):
            raise ValueError(f"label_smoothing must be in [0, 1) (0: plain cross-entropy), got {self.label_smoothing!r}")
        if self.label_smoothing and not self.hybrid:
            raise ValueError(f"label_smoothing={self.label_smoothing} smooths the hybrid cross-entropy; pure RL (hybrid=false) needs label_smoothing=0")
        if not (isinstance(self.ema_decay, (int, float)) and 0 <= self.ema_decay < 1):
            raise ValueError(f"ema_decay must be in [0, 1) (0: no average of the weights), got {self.ema_decay!r}")
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {self.cell!r}")
        if self.core_init not in INITS:
            raise ValueError(f"core_init must be one of {INITS}, got {self.core_init!r}")
        if self.core_init == "identity" and self.cell not in PLAIN_RNN_CELLS:
            raise ValueError(f"core_init=identity is for the plain RNN cores {PLAIN_RNN_CELLS}, got cell={self.cell!r}")
        if self.lr_schedule not in ("cosine", "constant"):
            raise ValueError(f"lr_schedule must be cosine or constant, got {self.lr_schedule!r}")
        if self.wandb_mode is not None and self.wandb_mode not in WANDB_MODES:
            raise ValueError(f"wandb_mode must be one of {WANDB_MODES} or none, got {self.wandb_mode!r}")
        glimpse_env.check_env_id(self.env)
        if self.train_shift is None:  # resolved here, so that a checkpoint saves the number it trained with
            self.train_shift = 0 if has_canvas(self.env) else DEFAULT_SHIFT
        if self.batch_size % self.rollouts_per_image:
            raise ValueError(f"batch_size ({self.batch_size}) must be a multiple of rollouts_per_image ({self.rollouts_per_image})")
        if self.random_glimpses and not self.hybrid:
            raise ValueError("random_glimpses trains the classifier only; it needs hybrid=true")
        if self.reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {self.reward!r}")
        if self.reward != "env" and not self.hybrid:
            raise ValueError(f"reward={self.reward!r} scores the hybrid classifier; pure RL (hybrid=false) needs reward=env")
        if self.early_ce_weight and not self.hybrid:
            raise ValueError(f"early_ce_weight={self.early_ce_weight} is a supervised term; pure RL (hybrid=false) needs early_ce_weight=0")

    def location_optimizer(self) -> dict:
        """The location network's Adam settings, its own where set, else the shared ones."""
        decay = self.weight_decay if self.location_weight_decay is None else self.location_weight_decay
        return {"lr": self.location_lr or self.lr, "weight_decay": decay}

    def env_kwargs(self) -> dict:
        """Overrides passed to ``gym.make_vec`` (only those set)."""
        names = ("n_glimpses", "glimpse_size", "n_scales", "start", "data_dir")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}


def has_canvas(env_id: str) -> bool:
    """Whether a registered glimpse environment pastes its images on a (bigger) canvas."""
    kwargs = gym.spec(env_id).kwargs
    if kwargs.get("images") is not None or kwargs.get("task", "mnist") not in TASKS:  # a user's images
        return kwargs.get("canvas_size") is not None
    return task_canvas(kwargs.get("task", "mnist"), kwargs.get("canvas_size")) is not None


def build_env(config: TrainConfig, split: str, num_envs: int, max_images: int | None = None, **overrides):
    """The native vector environment of ``config.env`` on ``split``, on the training device
    (shifted by ``config.train_shift``, rotated and scaled by ``config.train_rotation`` and ``train_zoom``
    on the training split); ``overrides`` go to the env as they are."""
    shift = {}
    if split == "train":
        augments = {"max_shift": config.train_shift, "max_rotation": config.train_rotation, "max_zoom": config.train_zoom}
        shift = {name: value for name, value in augments.items() if value}
    return gym.make_vec(
        config.env, num_envs=num_envs, vectorization_mode="vector_entry_point", split=split,
        max_images=max_images, device=config.device, **(config.env_kwargs() | shift | overrides),
    ).unwrapped  # fmt: skip


def saved_config(payload: dict) -> TrainConfig:
    """The settings a checkpoint payload was trained with (see ``ABSENT_MEANS`` for older ones)."""
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    saved = {k: v for k, v in payload["config"].items() if k in known}
    return TrainConfig(**(ABSENT_MEANS | saved))


def saved_model_config(payload: dict) -> RAMConfig:
    """The model settings a checkpoint payload was saved with."""
    settings = dict(payload["model_config"])
    settings["glimpse_shape"] = tuple(settings["glimpse_shape"])
    return RAMConfig(**settings)


def load_model(payload: dict, device: str = "cpu") -> RecurrentAttentionModel:
    """The trained model of a checkpoint payload, built from the model settings saved with it."""
    model = RecurrentAttentionModel(saved_model_config(payload)).to(device)
    model.load_state_dict(payload["model"])
    return model


def build_model(config: TrainConfig, glimpse_shape, n_classes: int) -> RecurrentAttentionModel:
    ram = RAMConfig(
        glimpse_shape=tuple(glimpse_shape), n_classes=n_classes, what_size=config.glimpse_hidden,
        where_size=config.glimpse_hidden, glimpse_out=config.glimpse_out, hidden_size=config.hidden_size,
        cell=config.cell, core_init=config.core_init, std=config.std, detach_location=config.detach_location, pixel_mean=config.pixel_mean,
        pixel_std=config.pixel_std, location_hidden=config.location_hidden, log_prob=config.log_prob,
        location_zero_init=config.location_zero_init, location_normalize=config.location_normalize,
        dropout=config.dropout,
    )  # fmt: skip
    return RecurrentAttentionModel(ram).to(config.device)


def warm_start(model: RecurrentAttentionModel, path: str | os.PathLike) -> dict:
    """Copy into ``model`` the weights of another run's checkpoint at ``path``: its ``"model"``, the
    weights it validated and ``evaluate.py`` scores (the average, if the run kept one).

    Returns:
        the checkpoint's training ``state`` (epoch, step, validation history).

    Raises:
        CheckpointError: ``path`` is missing, corrupt or not a RAM checkpoint.
        UsageError: its model has other weights than ``model`` (see ``WARM_START_FREE`` for the
            settings that may differ).
    """
    payload = load_checkpoint(path, CHECKPOINT_KIND)
    theirs, ours = saved_model_config(payload), model.config
    differ = [f"{f.name} (checkpoint {getattr(theirs, f.name)!r}, this run {getattr(ours, f.name)!r})"
              for f in dataclasses.fields(RAMConfig)
              if f.name not in WARM_START_FREE and getattr(theirs, f.name) != getattr(ours, f.name)]  # fmt: skip
    if differ:
        raise UsageError(f"--init-from {path}: its model differs from this run's in {'; '.join(differ)}; give this run the "
                         "checkpoint's model settings (the environment, --cell, the sizes: train_ram.py --help), or drop --init-from")  # fmt: skip
    model.load_state_dict(payload["model"])
    return payload["state"]


def _lr_lambda(config: TrainConfig, total_steps: int, budget_used=lambda: 0.0):
    """Learning-rate factor per step: warm-up, then cosine to ``lr_min`` over the steps of all
    epochs or, when ``budget_used()`` (the fraction of a time budget spent) runs ahead of the steps,
    over the budget, so that a budgeted run anneals by the time it is stopped."""

    def factor(step: int) -> float:
        warm = min(1.0, (step + 1) / config.warmup_steps) if config.warmup_steps else 1.0
        if config.lr_schedule == "constant":
            return warm
        return warm * _cosine(1.0, config.lr_min / config.lr, _progress_fraction(step, total_steps, budget_used))

    return factor


def _progress_fraction(step: int, total_steps: int, budget_used) -> float:
    """How far a run is, in [0, 1]: its steps over all epochs' steps, or its time budget if that runs ahead."""
    return min(max(step / max(total_steps, 1), budget_used()), 1.0)


def _cosine(start: float, end: float, progress: float) -> float:
    """From ``start`` at progress 0 to ``end`` at 1, along half a cosine."""
    return end + (start - end) * 0.5 * (1 + math.cos(math.pi * progress))


def selection_error(history: list[dict], window: int) -> float:
    """The validation error that chooses ``best.pt``: the mean of ``val_error`` over the last ``window`` records
    of ``history`` (all of them while there are fewer); ``window=1`` is the latest epoch's own error."""
    recent = [record["val_error"] for record in history[-window:]]
    return sum(recent) / len(recent)


def share_streams(envs, k: int) -> None:
    """Give sub-envs ``i * k .. i * k + k - 1`` the random stream of the first of them, so that,
    reset on the same image, they draw the same placement and clutter (and start)."""
    if k > 1:
        streams = envs.rng_states()
        envs.set_rng_states([streams[i - i % k] for i in range(envs.num_envs)])


def _epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The image order of one epoch: a function of the seed and the epoch alone, so a resumed run
    needs no stored permutation."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def _seed_rank(config: TrainConfig, rank: int) -> None:
    """Rank ``r``'s location noise: its own stream, the plain seed for a single process."""
    torch.manual_seed(config.seed + 1_000_003 * rank)


def train(config: TrainConfig) -> dict:
    """Train; return the final summary (``val_error``, ``best_val_error``, ``epoch``, ``seconds``, ...).

    ``best_val_error`` is the error that chose ``best.pt``: :func:`selection_error` of the validation history.

    Under ``torchrun`` each rank plays its own slice of every global batch on its own vector
    environment (sub-env seeds ``seed + rank * batch_size + i``), gradients are averaged by
    DistributedDataParallel, and rank 0 alone logs and writes checkpoints. After an elastic restart
    (a worker died and torchrun restarted the group) the run resumes from ``last.pt`` by itself.
    """
    check_device(config.device)
    group, device = setup_distributed(config.device)
    flushing = config.flush_denormal and torch.set_flush_denormal(True)  # False where the CPU cannot
    try:
        return _train(config, group, device)
    finally:
        if flushing:
            torch.set_flush_denormal(False)  # torch has no getter, so back to its default
        group.close()


def _train(config: TrainConfig, group: Distributed, device: str) -> dict:
    out = Path(config.out)
    checkpoint = None
    if config.resume or (group.restart > 0 and (out / "last.pt").is_file()):
        checkpoint = load_checkpoint(out / "last.pt", CHECKPOINT_KIND)
        saved = dataclasses.asdict(saved_config(checkpoint))
        changed = {k: (saved[k], getattr(config, k)) for k in saved if k not in RUN_CONTROL and saved[k] != getattr(config, k)}
        if changed:
            logger.warning("resuming with the checkpoint's settings; ignoring command-line changes to %s", changed)
        config = dataclasses.replace(config, **{k: v for k, v in saved.items() if k not in RUN_CONTROL})
    config = dataclasses.replace(config, device=device)
    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)  # the same initial weights on every rank

    train_env = build_env(config, "train", config.batch_size, config.train_subset)
    val_env = build_env(config, "val", config.eval_batch_size)
    n_train = train_env.config.source.n_images
    n_val = val_env.config.source.n_images
    if config.val_subset is not None:
        n_val = min(config.val_subset, n_val)
    global_batch = config.batch_size * group.world_size
    per_image = config.rollouts_per_image
    images_per_batch = config.batch_size // per_image  # per rank
    images_per_step = images_per_batch * group.world_size
    if n_train < images_per_step:
        raise UsageError(f"the global batch ({config.batch_size} x {group.world_size} ranks) exceeds the {n_train} training images; lower batch_size")
    steps_per_epoch = n_train // images_per_step
    total_steps = steps_per_epoch * config.epochs

    model = build_model(config, train_env.config.glimpse_shape, train_env.config.n_classes)
    if checkpoint is None and config.init_from:  # a resumed run already holds the warm start's descendants
        source = warm_start(model, config.init_from)
        logger.info("warm start from %s: the weights of its epoch %d (best validation error %s%%)", config.init_from,
                    source["epoch"], source.get("best_val_error"))  # fmt: skip
    # fused: one kernel for all parameters instead of a dozen small ops per tensor (4x faster step on CPU)
    location = [p for name, p in model.named_parameters() if name.startswith("location_net.")]
    rest = [p for name, p in model.named_parameters() if not name.startswith("location_net.")]
    groups = [{"params": rest}, {"params": location, **config.location_optimizer()}]
    optimizer = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay, fused=True)
    # the averaged weights are the ones validated and saved as "model"; the trained ones go on in "online_model"
    ema = averaged_model(model, config.ema_decay, config.ema_warmup)
    scored = ema.module if ema is not None else model
    budget = config.max_minutes * 60 if config.max_minutes else math.inf
    cpu_budget = config.max_cpu_minutes * 60 if config.max_cpu_minutes else math.inf
    # the budgets count from here: building the envs and the model is not training time
    started, cpu_started = time.perf_counter(), time.process_time()
    earlier = {"seconds": 0.0, "cpu_seconds": 0.0}  # what the run had spent before a resume

    def spent() -> tuple[float, float]:
        """The run's training seconds and CPU seconds in all, earlier invocations included."""
        return (earlier["seconds"] + time.perf_counter() - started, earlier["cpu_seconds"] + time.process_time() - cpu_started)

    def budget_used() -> float:  # of the run's time budgets, the larger fraction spent
        seconds, cpu_seconds = spent()
        return max(seconds / budget, cpu_seconds / cpu_budget)

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(config, total_steps, budget_used))
    weights = LossWeights(config.ce_weight, 0.0 if config.random_glimpses else config.reinforce_weight, config.baseline_weight,
                          config.early_ce_weight)  # fmt: skip
    episode_loss: torch.nn.Module = EpisodeLoss(model, weights, config.hybrid, config.random_glimpses, per_image, config.reward,
                                                config.label_smoothing)  # fmt: skip
    if group.enabled:
        # the location network goes unused by the random-glimpse control, and with one glimpse (no move)
        unused = config.random_glimpses or train_env.config.n_glimpses == 1
        episode_loss = DistributedDataParallel(episode_loss, find_unused_parameters=unused)
    train_env.reset(seed=config.seed + group.rank * config.batch_size)
    share_streams(train_env, per_image)
    _seed_rank(config, group.rank)

    state = {"epoch": 0, "step_in_epoch": 0, "global_step": 0, "best_val_error": None, "best_epoch": None,
             "seconds": 0.0, "cpu_seconds": 0.0, "history": [], "wandb_id": None}  # fmt: skip
    if checkpoint is not None:
        model.load_state_dict(checkpoint.get("online_model", checkpoint["model"]))
        if ema is not None:
            ema.module.load_state_dict(checkpoint["model"])
            ema.n_averaged.fill_(checkpoint["ema_n_averaged"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        ranks = checkpoint["ranks"]
        if len(ranks) == group.world_size:
            mine = ranks[group.rank]
            torch.random.set_rng_state(mine["torch_rng"])
            restore_device_rng(mine.get("cuda_rng", []), device)
            train_env.set_rng_states(mine["env_rng"])
        else:
            logger.warning("checkpoint written by %d ranks, resuming on %d: random streams restart from the seed "
                           "(the run continues, but not bit for bit)", len(ranks), group.world_size)  # fmt: skip
        state.update(checkpoint["state"])
        # the time budgets and the cosine over them go on where they were, not from the start
        earlier.update(seconds=state["seconds"], cpu_seconds=state.get("cpu_seconds", 0.0))
        logger.info("resumed from %s at epoch %d, step %d", out / "last.pt", state["epoch"], state["step_in_epoch"])

    if group.is_main:
        run = init_wandb(config.wandb_project, dataclasses.asdict(config) | {"world_size": group.world_size},
                         config.wandb_mode, dir=out, name=f"{config.env}__ram__{config.seed}",
                         id=state["wandb_id"], resume="allow")  # fmt: skip
        state["wandb_id"] = run.id
    else:
        run = init_wandb(config.wandb_project, {}, "disabled")

    def save(path: Path) -> None:
        # every rank's random state, so a restarted group continues each stream where it was
        ranks = group.gather({
            "torch_rng": torch.random.get_rng_state(),
            "cuda_rng": device_rng_state(device),
            "env_rng": train_env.rng_states(),
        })  # fmt: skip
        if group.is_main:
            payload = {
                "config": dataclasses.asdict(config), "model": scored.state_dict(),
                "model_config": dataclasses.asdict(model.config), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "ranks": ranks, "state": dict(state),
            }  # fmt: skip
            if ema is not None:
                payload |= {"online_model": model.state_dict(), "ema_n_averaged": int(ema.n_averaged)}
            atomic_save(payload, path, CHECKPOINT_KIND)

    # ranks must agree to stop on the same step; the clocks are checked only when there is a budget
    timed = budget < math.inf or cpu_budget < math.inf

    def out_of_budget() -> bool:
        return (group.any(budget_used() >= 1.0) if timed else False) or state["global_step"] >= (config.max_steps or math.inf)

    # a resumed run may already have spent its budget or its --max-steps: it then trains no more
    out_of_time = out_of_budget()
    val_error = state["history"][-1]["val_error"] if state["history"] else None
    n_params = sum(p.numel() for p in model.parameters())
    logger.info("%s: %d parameters; %d steps/epoch of %d episodes (%d per rank x %d ranks), lr %g",
                config.env, n_params, steps_per_epoch, global_batch, config.batch_size, group.world_size, config.lr)  # fmt: skip

    while state["epoch"] < config.epochs and not out_of_time:
        epoch = state["epoch"]
        order = _epoch_order(config.seed, epoch, n_train)
        bar = _progress(config, steps_per_epoch, state["step_in_epoch"], epoch, group.is_main)
        sums, count, tick, images_since = {}, 0, time.perf_counter(), 0
        model.train()
        while state["step_in_epoch"] < steps_per_epoch:
            first = (state["step_in_epoch"] * group.world_size + group.rank) * images_per_batch
            if config.std_final is not None:
                std = _cosine(config.std, config.std_final, _progress_fraction(state["global_step"], total_steps, budget_used))
                model.set_std(std)
                if scored is not model:  # the average of the weights samples like the weights
                    scored.set_std(std)
            losses, episode = episode_loss(train_env, np.repeat(order[first : first + images_per_batch], per_image))
            optimizer.zero_grad(set_to_none=True)
            losses["total"].backward()
            if config.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            scheduler.step()
            if ema is not None:
                ema.update_parameters(model)
            state["step_in_epoch"] += 1
            state["global_step"] += 1
            images_since += global_batch
            with torch.no_grad():
                metrics = {f"losses/{k}": v.detach() for k, v in losses.items()}
                metrics["charts/train_accuracy"] = episode.reward.mean()
                if episode.mu.numel():
                    metrics["charts/mean_abs_location"] = episode.mu.abs().mean()
            for k, v in metrics.items():
                sums[k] = sums.get(k, 0.0) + v
            count += 1
            bar.update(1)
            if state["global_step"] % config.log_every == 0:
                now = time.perf_counter()
                logged = {k: float(v) / count for k, v in sums.items()}
                logged.update({"charts/learning_rate": scheduler.get_last_lr()[0], "charts/location_std": model.location_net.std,
                               "charts/images_per_second": images_since / (now - tick), "charts/epoch": epoch,
                               "charts/global_batch": global_batch})  # fmt: skip
                run.log(logged, step=state["global_step"])
                bar.set_postfix(loss=f"{logged['losses/total']:.3f}", acc=f"{logged['charts/train_accuracy']:.3f}")
                sums, count, tick, images_since = {}, 0, now, 0
            state["seconds"], state["cpu_seconds"] = spent()
            if config.checkpoint_every and state["global_step"] % config.checkpoint_every == 0:
                save(out / "last.pt")
            if out_of_budget():
                out_of_time = True
                break
        bar.close()
        if not out_of_time:
            state["epoch"] += 1
            state["step_in_epoch"] = 0
        shard = evaluate(scored, val_env, np.arange(group.rank, n_val, group.world_size), seed=config.seed,
                         random_locations=config.random_glimpses)  # fmt: skip
        val_error = 100.0 * group.sum([shard["wrong_first"]])[0] / n_val
        state["seconds"], state["cpu_seconds"] = spent()
        record = {"epoch": state["epoch"], "global_step": state["global_step"], "val_error": val_error,
                  "seconds": round(state["seconds"], 2), "cpu_seconds": round(state["cpu_seconds"], 2)}  # fmt: skip
        state["history"].append(record)
        log = {"charts/val_error": val_error, "charts/val_accuracy": 1 - val_error / 100, "charts/epoch": state["epoch"]}
        if not run.disabled and config.picture_every and (state["epoch"] % config.picture_every == 0 or out_of_time):
            frames = val_env.episode_frames(np.arange(min(16, val_env.num_envs)))
            log["attention/glimpse_paths"] = rgb_to_wandb(image_grid(frames), caption=f"epoch {state['epoch']}")
        run.log(log, step=state["global_step"])
        score = selection_error(state["history"], config.select_window)
        improved = state["best_val_error"] is None or score < state["best_val_error"]
        if improved:
            state["best_val_error"], state["best_epoch"] = score, state["epoch"]
        window = f", mean of the last {config.select_window} {score:.2f}%" if config.select_window > 1 else ""
        # a budget that ends mid-epoch still validates; say so, or the log shows the last full epoch twice
        partial = f" + {state['step_in_epoch']} of {steps_per_epoch} steps" if state["step_in_epoch"] else ""
        logger.info("epoch %d%s: val error %.2f%%%s (best %.2f%%), %.0f s, %.0f CPU-s", state["epoch"], partial, val_error,
                    window, state["best_val_error"], state["seconds"], state["cpu_seconds"])  # fmt: skip
        # best.pt first: last.pt records this epoch as the best, and a resume trusts that record
        if improved:
            save(out / "best.pt")
        save(out / "last.pt")

    summary = {"val_error": val_error, "best_val_error": state["best_val_error"], "best_epoch": state["best_epoch"],
               "epoch": state["epoch"], "global_step": state["global_step"], "seconds": state["seconds"],
               "cpu_seconds": state["cpu_seconds"],
               "stopped_early": out_of_time, "parameters": n_params, "world_size": group.world_size,
               "global_batch": global_batch}  # fmt: skip
    run.summary.update({k: v for k, v in summary.items() if v is not None})
    run.finish()
    return summary


def _progress(config: TrainConfig, total: int, initial: int, epoch: int, show: bool = True):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=f"epoch {epoch + 1}/{config.epochs}", leave=False,
                disable=not (config.progress and show) or None, dynamic_ncols=True)  # fmt: skip


def configure_logging() -> None:
    # under torchrun every rank would print the same epoch lines; the other ranks keep their warnings
    quiet = int(os.environ.get("RANK", "0")) > 0
    level = os.environ.get("GLIMPSE_LOG_LEVEL", "WARNING" if quiet else "INFO").upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
