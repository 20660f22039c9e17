"""Pictures: attention heatmaps (source tokens x target tokens) and BLEU by source length.

Matplotlib figures drawn on an Agg canvas (no pyplot, no global backend switch); images come back as ``(H, W, 3)`` uint8 arrays,
which is what ``wandb.Image`` needs (it does not rescale floats), or are written as PNG files.

Dimension letters: ``L`` target tokens, ``S`` source tokens.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import torch

__all__ = ["attention_figure", "attention_image", "plot_bleu_by_length", "save_attention_png"]


def attention_figure(weights: torch.Tensor | np.ndarray, src_tokens: Sequence[str], tgt_tokens: Sequence[str], title: str = ""):
    """A matplotlib figure of ``weights`` ``(L, S)``: target tokens down, source tokens across."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    weights = np.asarray(weights.detach().cpu() if isinstance(weights, torch.Tensor) else weights, dtype=np.float32)
    L, S = weights.shape
    if (L, S) != (len(tgt_tokens), len(src_tokens)):
        raise ValueError(f"weights are {L}x{S} but got {len(tgt_tokens)} target and {len(src_tokens)} source tokens")
    fig = Figure(figsize=(max(3.0, 0.35 * S + 1.5), max(2.5, 0.3 * L + 1.2)), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.imshow(weights, cmap="gray_r", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(S), list(src_tokens), rotation=90, fontsize=8)
    ax.set_yticks(range(L), list(tgt_tokens), fontsize=8)
    ax.set_xlabel("source")
    ax.set_ylabel("translation")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def attention_image(weights, src_tokens: Sequence[str], tgt_tokens: Sequence[str], title: str = "") -> np.ndarray:
    """The heatmap as an ``(H, W, 3)`` uint8 array."""
    fig = attention_figure(weights, src_tokens, tgt_tokens, title)
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def save_attention_png(path: str | os.PathLike, weights, src_tokens: Sequence[str], tgt_tokens: Sequence[str], title: str = "") -> None:
    """Write the heatmap to ``path``."""
    attention_figure(weights, src_tokens, tgt_tokens, title).savefig(path)


def plot_bleu_by_length(path: str | os.PathLike, rows: dict[str, list[tuple[str, int, float]]], title: str = "") -> None:
    """BLEU per source-length bucket, one line per model (Bahdanau et al., 2015, Figure 2).

    Args:
        rows: ``{model: [(bucket label, sentences, BLEU), ...]}`` from
            :func:`seq_attention.metrics.bleu_by_length`, same buckets for every model.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.5, 3.6), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for name, model_rows in rows.items():
        ax.plot(range(len(model_rows)), [r[2] for r in model_rows], marker="o", label=name)
    labels = next(iter(rows.values()))
    ax.set_xticks(range(len(labels)), [f"{r[0]}\n(n={r[1]})" for r in labels], fontsize=8)
    ax.set_xlabel("source sentence length (words)")
    ax.set_ylabel("BLEU")
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
