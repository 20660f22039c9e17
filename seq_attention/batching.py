"""From sentence pairs to padded batches, bucketed by length.

A training epoch shuffles the examples with a generator seeded by ``(seed, epoch)``, sorts them by
length inside pools of ``pool_batches`` batches, cuts each pool into batches of at most
``max_tokens`` padded tokens, and shuffles the batches: little padding, yet a different mix of
sentences every epoch, and the same order again for the same ``(seed, epoch)``, which is what lets
a resumed run skip the batches it already did and continue exactly.

Every source and target sequence ends with :data:`~seq_attention.tokenize.EOS`; the decoder input
is the target shifted right behind :data:`~seq_attention.tokenize.BOS`.

Dimension letters: ``B`` batch, ``S`` source length, ``T`` target length.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from seq_attention.tokenize import BOS, EOS, PAD, SubwordTokenizer

__all__ = ["Batch", "bucket_batches", "collate", "encode_pairs"]

Example = tuple[list[int], list[int]]


@dataclass
class Batch:
    """Padded tensors of one batch.

    Attributes:
        src: ``(B, S)`` source ids ending in EOS, PAD after.
        src_lengths: ``(B,)`` true source lengths (EOS included).
        tgt_in: ``(B, T)`` decoder inputs ``BOS y_1 .. y_n``, PAD after.
        tgt_out: ``(B, T)`` targets ``y_1 .. y_n EOS``, PAD after.
        index: ``(B,)`` positions of the examples in the list they came from.
    """

    src: torch.Tensor
    src_lengths: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor
    index: torch.Tensor

    @property
    def n_target_tokens(self) -> int:
        """Target tokens that count in the loss (EOS included, padding not)."""
        return int((self.tgt_out != PAD).sum())

    def to(self, device) -> "Batch":
        return Batch(*(t.to(device) for t in (self.src, self.src_lengths, self.tgt_in, self.tgt_out, self.index)))


def encode_pairs(
    pairs: Sequence[tuple[str, str]],
    src_tokenizer: SubwordTokenizer,
    tgt_tokenizer: SubwordTokenizer,
    max_len: int | None = None,
) -> list[Example]:
    """Token ids of each pair, EOS appended; pairs with an empty side, or longer than ``max_len``
    tokens on either side, are dropped (BLEU is computed with :func:`~seq_attention.decoding.translate`
    on every sentence, so this only shapes the training and validation losses).

    Raises:
        ValueError: no pair is left.
    """
    src_ids = src_tokenizer.encode([s for s, _ in pairs])
    tgt_ids = tgt_tokenizer.encode([t for _, t in pairs])
    examples = []
    for s, t in zip(src_ids, tgt_ids):
        if not s or not t or (max_len is not None and max(len(s), len(t)) + 1 > max_len):
            continue
        examples.append((s + [EOS], t + [EOS]))
    if not examples:
        raise ValueError(
            f"empty corpus: none of the {len(pairs)} pairs has text on both sides"
            + (f" within max_len={max_len} tokens" if max_len is not None else "")
        )
    return examples


def bucket_batches(
    lengths: Sequence[int], max_tokens: int, seed: int, epoch: int, pool_batches: int = 100, shuffle: bool = True
) -> list[list[int]]:
    """Batches of example indices, similar lengths together, at most ``max_tokens`` padded tokens each.

    Args:
        lengths: per example, the longer of its source and target lengths.
        max_tokens: bound on ``B * max length`` of a batch (a longer example gets a batch of its own).
        seed, epoch: the order is a function of these two only.
        pool_batches: sort by length inside pools of about this many batches (bigger pools, less padding).
        shuffle: ``False`` keeps the whole list sorted by length (for evaluation).
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be positive, got {max_tokens}")
    n = len(lengths)
    lengths_t = torch.as_tensor(list(lengths))
    if shuffle:
        generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
        order = torch.randperm(n, generator=generator)
        mean_len = max(1.0, float(lengths_t.float().mean()))
        pool = max(1, int(pool_batches * max_tokens / mean_len))
    else:
        generator, order, pool = None, torch.arange(n), max(1, n)  # one sorted pool (range() needs a step > 0)
    batches: list[list[int]] = []
    for start in range(0, n, pool):
        chunk = order[start : start + pool]
        chunk = chunk[torch.argsort(lengths_t[chunk], stable=True)].tolist()
        batch: list[int] = []
        longest = 0
        for i in chunk:
            longest_if = max(longest, int(lengths_t[i]))
            if batch and longest_if * (len(batch) + 1) > max_tokens:
                batches.append(batch)
                batch, longest_if = [], int(lengths_t[i])
            batch.append(i)
            longest = longest_if
        if batch:
            batches.append(batch)
    if shuffle:
        permutation = torch.randperm(len(batches), generator=generator).tolist()
        batches = [batches[i] for i in permutation]
    return batches


def collate(examples: Sequence[Example], index: Sequence[int]) -> Batch:
    """Pad the examples at ``index`` into a :class:`Batch`."""
    chosen = [examples[i] for i in index]
    B = len(chosen)
    S = max(len(s) for s, _ in chosen)
    T = max(len(t) for _, t in chosen)
    src = torch.full((B, S), PAD, dtype=torch.long)
    tgt_in = torch.full((B, T), PAD, dtype=torch.long)
    tgt_out = torch.full((B, T), PAD, dtype=torch.long)
    for b, (s, t) in enumerate(chosen):
        src[b, : len(s)] = torch.as_tensor(s)
        tgt_out[b, : len(t)] = torch.as_tensor(t)
        tgt_in[b, 0] = BOS
        tgt_in[b, 1 : len(t)] = torch.as_tensor(t[:-1])
    lengths = torch.as_tensor([len(s) for s, _ in chosen])
    return Batch(src, lengths, tgt_in, tgt_out, torch.as_tensor(list(index)))
