"""Checkpoints that are data, written atomically, and refuse to load into the wrong model.

A checkpoint is a dict of tensors, numbers, strings, lists and dicts, saved with ``torch.save``
and loaded with ``torch.load(weights_only=True)``: loading one never runs code. It carries a
``kind`` (which model wrote it) and a ``format`` version; :func:`load_checkpoint` checks both.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from glimpse_env.files import atomic_file

__all__ = ["CheckpointError", "atomic_save", "device_rng_state", "load_checkpoint", "restore_device_rng"]

FORMAT = 1


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable, or belongs to another model."""


def atomic_save(payload: dict[str, Any], path: str | os.PathLike, kind: str) -> Path:
    """Write ``payload`` (plus ``kind`` and ``format``) to ``path`` via a temporary file and a rename.

    A reader, or a run killed mid-write, sees either the old file or the new one, never half of one.
    """
    path = Path(path)
    with atomic_file(path) as f:
        torch.save({**payload, "kind": kind, "format": FORMAT}, f)
    return path


def load_checkpoint(path: str | os.PathLike, kind: str, map_location="cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`atomic_save` with the same ``kind``.

    Raises:
        CheckpointError: the file is missing or unreadable, or was written for another model.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises several types for truncated or foreign files
        # torch's own text goes on to suggest weights_only=False, which would run a foreign file's code
        text = " ".join(str(err).split())
        first = text.split(". ")[0][:160]
        if "WeightsUnpickler error:" in text:  # the reason, after torch's advice
            first += ": " + text.split("WeightsUnpickler error:")[1].split(" Check the documentation")[0].strip()[:160]
        raise CheckpointError(
            f"{path} is not a readable checkpoint ({type(err).__name__}{': ' + first if first else ''}); "
            "it is truncated, corrupt or not written by this project's training scripts"
        ) from err
    if not isinstance(payload, dict) or "kind" not in payload:
        raise CheckpointError(f"{path} is not a glimpse-attention checkpoint (no 'kind' field)")
    if payload["kind"] != kind:
        raise CheckpointError(
            f"{path} holds a {payload['kind']!r} checkpoint, but a {kind!r} one is needed here; "
            "pass a checkpoint written by the matching training script"
        )
    if payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} has checkpoint format {payload.get('format')!r}, this version reads {FORMAT}")
    return payload


def device_rng_state(device: str | torch.device) -> torch.Tensor | list:
    """The random generator state of an accelerator ``device``, for a checkpoint: a CPU byte tensor
    on CUDA (dropout and sampling on a GPU draw from it, not from the CPU generator), ``[]`` elsewhere."""
    device = torch.device(device)
    return torch.cuda.get_rng_state(device) if device.type == "cuda" else []


def restore_device_rng(state: torch.Tensor | list, device: str | torch.device) -> None:
    """Inverse of :func:`device_rng_state`; a state saved on a CPU (``[]``), or a run now on a CPU,
    restores nothing."""
    device = torch.device(device)
    if len(state) and device.type == "cuda":
        torch.cuda.set_rng_state(state, device)
