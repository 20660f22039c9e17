"""Training a translation model: the step, the schedule, validation, and exact checkpoint/resume.

The loss is the per-token cross-entropy with label smoothing (Szegedy et al., 2016), PAD targets
ignored. Adam, gradient-norm clipping, and a learning rate that warms up linearly for
``warmup_steps`` and then stays constant (``schedule="constant"``), decays with the inverse
square root of the step (``"inverse-sqrt"``, Vaswani et al., 2017), or follows a half cosine to zero
over the run (``"cosine"``, Loshchilov and Hutter, 2017): over its epochs or, when a time budget
runs out first, over the budget, so a budgeted run has annealed by the time it stops (the trainer
is told how much of the run is done; see :class:`Trainer`).

With ``ema_decay > 0`` the trainer also keeps an exponential moving average of the weights
(:mod:`agents.averaging`, shared with the RAM trainer, updated after every step): the average is
what :attr:`Trainer.scored_model` validates and what a checkpoint's ``"model"`` holds, so
``evaluate_translation.py`` and ``translate.py`` use it; the trained weights go on in
``"online_model"`` for a resumed run. ``ema_warmup`` caps the decay early in the run, so the
average does not lag (:func:`agents.averaging.ema_decay_at`).

A :class:`Trainer` checkpoint (:meth:`Trainer.state_dict`) holds the model, the optimiser, the
scheduler, the torch random state (dropout), and the position in the data (epoch and batch); the
batch order of an epoch is a function of ``(seed, epoch)`` only
(:func:`~seq_attention.batching.bucket_batches`). Loading it and training on is bit-for-bit the
run that never stopped (on the same machine and thread count).

Dimension letters: ``B`` batch, ``T`` target length, ``V`` target vocabulary.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from agents.averaging import averaged_model
from agents.checkpoint import device_rng_state, restore_device_rng
from seq_attention.batching import Batch, bucket_batches, collate
from seq_attention.decoding import translate
from seq_attention.metrics import Scores, corpus_scores
from seq_attention.tokenize import PAD, SubwordTokenizer

logger = logging.getLogger(__name__)

__all__ = ["SCHEDULES", "Progress", "Trainer", "batch_loss", "sequence_loss", "validate"]

SCHEDULES = ("constant", "inverse-sqrt", "cosine")


def sequence_loss(logits: torch.Tensor, targets: torch.Tensor, label_smoothing: float = 0.0) -> tuple[torch.Tensor, int]:
    """Summed token cross-entropy and the number of counted tokens.

    Args:
        logits: ``(B, T, V)``, or ``(N, V)`` for targets already picked out.
        targets: ``(B, T)`` or ``(N,)``, PAD where nothing is predicted.
        label_smoothing: mass spread uniformly over the vocabulary.

    Returns:
        ``(loss, n)``: a scalar sum over the ``n`` non-PAD targets.
    """
    loss = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=PAD, label_smoothing=label_smoothing,
        reduction="sum",
    )  # fmt: skip
    return loss, int((targets != PAD).sum())


def batch_loss(model: nn.Module, batch: Batch, label_smoothing: float = 0.0) -> tuple[torch.Tensor, int]:
    """:func:`sequence_loss` of teacher forcing on ``batch``, with logits at its non-PAD targets only.

    A tenth of a bucketed batch's target positions are padding, and the projection to the
    vocabulary is about a third of a training step, so the model skips them (``keep=``).
    """
    keep = batch.tgt_out != PAD  # (B, T)
    logits, _ = model(batch.src, batch.src_lengths, batch.tgt_in, keep=keep)  # (N, V)
    return sequence_loss(logits, batch.tgt_out[keep], label_smoothing)


@dataclass
class Progress:
    """Where a run is: counters that a checkpoint stores and a resumed run continues from."""

    epoch: int = 0
    """the epoch under way (0-based)"""
    batch: int = 0
    """batches of that epoch already done"""
    global_step: int = 0
    """optimiser steps so far"""
    target_tokens: int = 0
    """target tokens trained on so far"""
    train_seconds: float = 0.0
    """wall-clock seconds spent in training and validation so far, over all sessions"""
    cpu_seconds: float = 0.0
    """CPU seconds of the training process (all its threads) so far, over all sessions"""
    step_seconds: float = 0.0
    """wall-clock seconds spent in training steps alone (for tokens per second)"""
    step_cpu_seconds: float = 0.0
    """CPU seconds spent in training steps alone"""
    best_bleu: float = -1.0
    """best validation BLEU so far"""
    best_epoch: int = -1
    """epoch (1-based count of epochs done) of the best validation BLEU"""
    history: list = field(default_factory=list)
    """one dict per validation"""


class _Schedule:
    """``lr(step) / lr = min(1, step / warmup) * decay(step, done)``: a picklable LambdaLR factor.

    ``done`` in ``[0, 1]`` is the share of the run behind it (only ``"cosine"`` reads it).
    """

    def __init__(self, warmup_steps: int, kind: str):
        if kind not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {kind!r}")
        self.warmup_steps, self.kind = max(0, warmup_steps), kind

    def __call__(self, step: int, done: float = 0.0) -> float:
        step = step + 1
        warm = min(1.0, step / self.warmup_steps) if self.warmup_steps else 1.0
        if self.kind == "inverse-sqrt" and step > self.warmup_steps:
            return math.sqrt(max(1, self.warmup_steps) / step)
        if self.kind == "cosine":
            return warm * 0.5 * (1.0 + math.cos(math.pi * min(1.0, max(0.0, done))))
        return warm


class Trainer:
    """Owns the optimiser and the schedule of one model and feeds it bucketed batches.

    Args:
        model: a model from :func:`seq_attention.models.build_model`.
        examples: training ``(source ids, target ids)`` pairs, EOS included.
        lr: peak learning rate of Adam.
        max_tokens: padded tokens per batch (see :func:`~seq_attention.batching.bucket_batches`).
        seed: the batch order of epoch ``e`` depends on ``(seed, e)`` only.
        label_smoothing: see :func:`sequence_loss`.
        clip_norm: gradient norm bound (0 disables clipping).
        warmup_steps: linear warm-up length.
        schedule: one of :data:`SCHEDULES`.
        device: where the model and batches live.
        epochs: the planned epochs, over whose steps ``"cosine"`` anneals.
        budget_used: ``() -> float``, the share of a time budget spent so far (asked after every
            step, so it can follow a clock); ``"cosine"`` anneals over whichever of the epochs'
            steps and the budget runs out first, and needs at least one of the two.
        ema_decay: keep an exponential moving average of the weights with this decay per step
            (0: none); see the module docstring.
        ema_warmup: cap the decay early in the run (see :func:`agents.averaging.ema_decay_at`).
    """

    def __init__(
        self,
        model: nn.Module,
        examples: Sequence[tuple[list[int], list[int]]],
        lr: float = 1e-3,
        max_tokens: int = 3000,
        seed: int = 1,
        label_smoothing: float = 0.1,
        clip_norm: float = 1.0,
        warmup_steps: int = 0,
        schedule: str = "constant",
        device: str | torch.device = "cpu",
        epochs: int | None = None,
        budget_used: Callable[[], float] | None = None,
        ema_decay: float = 0.0,
        ema_warmup: bool = False,
    ):
        if not examples:
            raise ValueError("cannot train on an empty corpus: no training examples")
        self.model = model.to(device)
        self.ema = averaged_model(self.model, ema_decay, ema_warmup)
        self.examples = list(examples)
        self.lengths = [max(len(s), len(t)) for s, t in self.examples]
        self.max_tokens, self.seed = max_tokens, seed
        self.label_smoothing, self.clip_norm = label_smoothing, clip_norm
        self.device = torch.device(device)
        # fused: one kernel over all parameters instead of a dozen small ops per tensor
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98), fused=True)
        self.progress = Progress()
        if schedule == "cosine" and not epochs and budget_used is None:
            raise ValueError("schedule='cosine' anneals over the run: give its epochs, a budget_used clock, or both")
        planned_steps = epochs * len(self.epoch_batches(0)) if epochs else math.inf

        def done() -> float:
            return max(self.progress.global_step / planned_steps, budget_used() if budget_used else 0.0)

        factor = _Schedule(warmup_steps, schedule)
        # a plain function, not the callable object, is LambdaLR's factor: its state_dict would
        # otherwise store the object's attributes in checkpoints, and done() reads a clock
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda step: factor(step, done()))

    def epoch_batches(self, epoch: int) -> list[list[int]]:
        """The example indices of every batch of ``epoch``, in training order."""
        return bucket_batches(self.lengths, self.max_tokens, self.seed, epoch)

    def train_step(self, index: Sequence[int]) -> tuple[float, int]:
        """One optimiser step on the examples at ``index``; returns (mean token loss, target tokens)."""
        self.model.train()
        batch: Batch = collate(self.examples, index).to(self.device)
        loss_sum, n = batch_loss(self.model, batch, self.label_smoothing)
        self.optimizer.zero_grad(set_to_none=True)
        (loss_sum / n).backward()
        if self.clip_norm > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_norm)
        self.optimizer.step()
        self.progress.global_step += 1  # first: the scheduler's rate for the next step reads it
        self.scheduler.step()
        if self.ema is not None:
            self.ema.update_parameters(self.model)
        self.progress.target_tokens += n
        return float(loss_sum.detach()) / n, n

    @torch.no_grad()
    def evaluate_loss(self, examples: Sequence[tuple[list[int], list[int]]]) -> float:
        """Mean per-token cross-entropy (no label smoothing) of :attr:`scored_model` on ``examples``."""
        model = self.scored_model
        was_training = model.training
        model.eval()
        total, count = 0.0, 0
        for index in bucket_batches([max(len(s), len(t)) for s, t in examples], self.max_tokens, 0, 0, shuffle=False):
            batch = collate(examples, index).to(self.device)
            loss, n = batch_loss(model, batch)
            total, count = total + float(loss), count + n
        model.train(was_training)
        return total / max(1, count)

    @property
    def scored_model(self) -> nn.Module:
        """The weights to validate, translate with and save as the checkpoint's model: the average if kept."""
        return self.ema.module if self.ema is not None else self.model

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def state_dict(self) -> dict:
        """Everything needed to continue exactly: tensors, numbers, strings, lists, dicts only."""
        state = {
            "model": self.scored_model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": device_rng_state(self.device),
            "progress": asdict(self.progress),
        }
        if self.ema is not None:
            state |= {"online_model": self.model.state_dict(), "ema_n_averaged": int(self.ema.n_averaged)}
        return state

    def load_state_dict(self, state: dict) -> None:
        """Inverse of :meth:`state_dict`."""
        if self.ema is not None and "online_model" not in state:  # refused before anything is overwritten
            raise ValueError("this checkpoint was trained without an average of the weights (ema_decay 0): resume it with ema_decay 0")
        self.model.load_state_dict(state.get("online_model", state["model"]))
        if self.ema is not None:
            self.ema.module.load_state_dict(state["model"])
            self.ema.n_averaged.fill_(state["ema_n_averaged"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["torch_rng"])
        restore_device_rng(state.get("cuda_rng", []), self.device)
        self.progress = Progress(**state["progress"])


def validate(
    model: nn.Module,
    pairs: Sequence[tuple[str, str]],
    src_tokenizer: SubwordTokenizer,
    tgt_tokenizer: SubwordTokenizer,
    beam: int = 1,
    device: str | torch.device = "cpu",
) -> tuple[Scores, list[str], float]:
    """Translate the sources of ``pairs`` and score them against the targets.

    Returns:
        ``(scores, hypotheses, seconds)``.
    """
    start = time.perf_counter()
    hypotheses, _ = translate(model, [s for s, _ in pairs], src_tokenizer, tgt_tokenizer, beam=beam, device=device)
    return corpus_scores(hypotheses, [t for _, t in pairs]), hypotheses, time.perf_counter() - start
