"""Translation checkpoints: model, tokenizers and trainer state in one ``weights_only`` file.

Written with :func:`agents.checkpoint.atomic_save` (a crash mid-write leaves the old file) under
the kind :data:`KIND`, so a RAM checkpoint is refused here with a clear message and vice versa.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import nn

from agents.checkpoint import atomic_save, load_checkpoint
from seq_attention.models import ModelConfig, build_model
from seq_attention.tokenize import SubwordTokenizer

__all__ = ["KIND", "Translator", "load_translator", "positional_flags", "save_translation_checkpoint"]

KIND = "seq_attention.translation"


@dataclass
class Translator:
    """A trained model in eval mode with its two tokenizers, and the checkpoint it came from."""

    model: nn.Module
    src_tokenizer: SubwordTokenizer
    tgt_tokenizer: SubwordTokenizer
    config: ModelConfig
    payload: dict[str, Any]


def save_translation_checkpoint(
    path: str | os.PathLike,
    model_config: ModelConfig,
    src_tokenizer: SubwordTokenizer,
    tgt_tokenizer: SubwordTokenizer,
    trainer_state: dict[str, Any],
    run_config: dict[str, Any],
) -> Path:
    """Write everything a translator (``translate.py``) or a resumed run needs, atomically."""
    payload = {
        "model_config": model_config.to_dict(),
        "src_tokenizer": src_tokenizer.to_tensor(),
        "tgt_tokenizer": tgt_tokenizer.to_tensor(),
        "trainer": trainer_state,
        "run_config": dict(run_config),
    }
    return atomic_save(payload, path, KIND)


def load_translator(path: str | os.PathLike, device: str | torch.device = "cpu") -> Translator:
    """Rebuild the model and tokenizers of a checkpoint (raises ``CheckpointError`` on a foreign file)."""
    # on the CPU: only the model goes to ``device``; generator states and tokenizers stay CPU data
    # (torch takes generator states as CPU tensors only), and the optimizer moves its own state
    payload = load_checkpoint(path, KIND)
    config = ModelConfig(**payload["model_config"])
    model = build_model(config)
    model.load_state_dict(payload["trainer"]["model"])
    model.to(device)
    model.eval()
    return Translator(
        model,
        SubwordTokenizer.from_tensor(payload["src_tokenizer"]),
        SubwordTokenizer.from_tensor(payload["tgt_tokenizer"]),
        config,
        payload,
    )


def positional_flags(argv: Sequence[str], names: Sequence[str]) -> list[str]:
    """Let a script take leading positional arguments: ``A B --x 1`` -> ``--names[0] A --names[1] B --x 1``."""
    argv = list(argv)
    out: list[str] = []
    for name in names:
        if argv and not argv[0].startswith("-"):
            out += [name, argv.pop(0)]
    return out + argv
