"""Weights & Biases runs that work without an account: offline unless asked otherwise."""

from __future__ import annotations

import logging
import os
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["WANDB_MODES", "DisabledRun", "cpu_name", "init_wandb", "rgb_to_wandb"]

WANDB_MODES = ("disabled", "offline", "online")


class DisabledRun:
    """What a run is when tracking is off: the calls the scripts make, doing nothing.

    It stands in for ``wandb.init(mode="disabled")`` so that a disabled run never imports wandb: the
    import costs seconds in every DDP worker, and a bare GPU machine may not have it.
    """

    disabled = True
    id = None
    dir = None

    def __init__(self) -> None:
        self.summary: dict[str, Any] = {}

    def log(self, data: dict[str, Any], step: int | None = None, **kwargs) -> None:
        pass

    def define_metric(self, name: str, **kwargs) -> None:
        pass

    def finish(self, exit_code: int | None = None, **kwargs) -> None:
        pass


def init_wandb(project: str, config: dict[str, Any], mode: str | None = None, name: str | None = None,
               dir: str | os.PathLike | None = None, **kwargs):  # fmt: skip
    """Start a W&B run; ``mode`` ``None`` means ``$WANDB_MODE`` or, failing that, ``"offline"``.

    Offline runs land under ``dir/wandb/`` and can be uploaded later with ``wandb sync``; a disabled
    one is a :class:`DisabledRun`.
    """
    mode = mode or os.environ.get("WANDB_MODE") or "offline"
    if mode not in WANDB_MODES:
        raise ValueError(f"wandb mode must be one of {WANDB_MODES}, got {mode!r}")
    if mode == "disabled":
        return DisabledRun()
    import wandb

    if dir is not None:
        os.makedirs(dir, exist_ok=True)
    run = wandb.init(project=project, config=config, mode=mode, name=name, dir=dir, reinit="finish_previous", **kwargs)
    if mode == "offline":
        logger.info("W&B offline run in %s (upload with `wandb sync`)", run.dir)
    return run


def rgb_to_wandb(image, caption: str | None = None):
    """A ``wandb.Image`` from an ``(H, W, 3)`` uint8 array (W&B does not rescale floats)."""
    import wandb

    return wandb.Image(image, caption=caption)


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo``), for the hardware line of benchmarks and results."""
    import platform
    from pathlib import Path

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
