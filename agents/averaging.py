"""An exponential moving average of a model's weights (Polyak and Juditsky, 1992), for both trainers.

A budget-limited run ends while its weights still move fast; the average of the last few hundred
steps is a better model than the last step's (results/ram.md, results/translation.md). The average
is torch's ``AveragedModel`` with an update of its own: ``ema <- ema + (1 - d) (w - ema)`` after
every optimiser step, where ``d`` comes from :func:`ema_decay_at`.

Early in a run a plain average lags far behind (0.998 still weighs the first steps' weights after a
few hundred), so ``warmup`` caps the decay after ``n`` updates at ``(1 + n) / (10 + n)``, the rule of
TensorFlow's ``ExponentialMovingAverage(num_updates=...)``: an average over about the last ``n / 9``
steps until that reaches ``1 / (1 - decay)``.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

__all__ = ["averaged_model", "ema_decay_at"]


def ema_decay_at(decay: float, updates: int, warmup: bool) -> float:
    """The average's decay for the update after ``updates`` earlier ones (see the module docstring)."""
    return min(decay, (1.0 + updates) / (10.0 + updates)) if warmup else decay


def _ema_update(decay: float, warmup: bool) -> Callable:
    """An ``AveragedModel`` ``multi_avg_fn`` with the decay of :func:`ema_decay_at`."""

    @torch.no_grad()
    def update(ema_tensors: list[torch.Tensor], tensors: list[torch.Tensor], n_averaged: torch.Tensor) -> None:
        # AveragedModel copies the weights at its first update and calls this from the second on
        weight = 1.0 - ema_decay_at(decay, int(n_averaged), warmup)
        if torch.is_floating_point(ema_tensors[0]):
            torch._foreach_lerp_(ema_tensors, tensors, weight)
        else:  # integer buffers (a step counter): lerp is for floats only
            for ema, tensor in zip(ema_tensors, tensors, strict=True):
                ema.copy_(ema * (1.0 - weight) + tensor * weight)

    return update


def averaged_model(model: nn.Module, decay: float, warmup: bool = False) -> AveragedModel | None:
    """An average of ``model``'s parameters and buffers with this decay per update; None for decay 0.

    Call ``update_parameters(model)`` after each optimiser step; ``.module`` is the averaged copy and
    ``n_averaged`` the number of updates, which a checkpoint keeps so that a resumed run goes on exactly.
    """
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"ema_decay must be in [0, 1) (0: no average of the weights), got {decay!r}")
    if not decay:
        return None
    return AveragedModel(model, multi_avg_fn=_ema_update(decay, warmup), use_buffers=True)
