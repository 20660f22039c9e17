"""Greedy and beam-search decoding, batched, for any model with the ``encode/initial_state/step`` interface.

Beam search keeps ``K`` hypotheses per sentence in one ``(B * K)`` batch. Each step extends every
hypothesis by every token, keeps the ``K`` best sums of log-probabilities per sentence
(:func:`_prune`), and reorders the model state to follow them (:func:`_select`). A finished
hypothesis (it produced EOS, or reached its length limit) stays in the beam with its score frozen:
it can only be extended by PAD, at no cost. It may still be pushed out by ``K`` unfinished ones
that score better for now, so every finished hypothesis is also offered to a record of the best
finished one per sentence (:func:`_keep_best_finished`; fairseq keeps a list for the same
reason), and the record, not the last beam, gives the winner. Decoding stops when every
hypothesis in the beam has finished; the winner maximises ``score / lp(length)`` with the GNMT
length penalty ``lp(n) = ((5 + n) / 6) ** alpha`` (Wu et al., 2016; ``alpha = 0`` is the raw
score) (:func:`_normalised`). With ``K = 1`` this is greedy decoding, token for token.

A sentence of ``n`` source tokens may produce at most ``max_len_a * n + max_len_b`` target tokens.

Dimension letters: ``B`` batch, ``K`` beam width, ``S`` source length, ``L`` decoded length, ``V``
target vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from seq_attention.batching import bucket_batches
from seq_attention.tokenize import BOS, EOS, PAD, SubwordTokenizer

__all__ = ["Translation", "beam_search", "greedy_decode", "translate"]


@dataclass
class Translation:
    """One decoded sentence.

    Attributes:
        tokens: target ids, EOS and padding removed.
        score: the sum of log-probabilities of ``tokens`` (and of EOS, if produced).
        attention: ``(L, S)`` attention weights per produced token (EOS included) over the source
            tokens, or ``None`` (a model without attention, or not asked for).
    """

    tokens: list[int]
    score: float
    attention: torch.Tensor | None = None


def _select(tensors, index: torch.Tensor):
    """``index_select(0, index)`` on every tensor of a (named) tuple; ``None`` stays ``None``."""
    picked = [None if t is None else t.index_select(0, index) for t in tensors]
    return type(tensors)(*picked) if hasattr(tensors, "_fields") else tuple(picked)


def _length_limits(src_lengths: torch.Tensor, max_len_a: float, max_len_b: int) -> torch.Tensor:
    return (src_lengths.float() * max_len_a + max_len_b).long().clamp(min=1)


def _unpack(tokens: torch.Tensor, scores: torch.Tensor, attention: list[torch.Tensor] | None, src_lengths) -> list[Translation]:
    """Rows of ``tokens`` ``(B, L)`` -> translations, cut at EOS; attention ``L x (B, S)``."""
    out = []
    stacked = None if not attention or attention[0] is None else torch.stack(attention, dim=1)  # (B, L, S)
    for b in range(tokens.shape[0]):
        row = tokens[b].tolist()
        produced = row.index(EOS) + 1 if EOS in row else len([t for t in row if t != PAD])
        words = [t for t in row[:produced] if t not in (EOS, PAD)]
        weights = None if stacked is None else stacked[b, :produced, : int(src_lengths[b])].clone()
        out.append(Translation(words, float(scores[b]), weights))
    return out


@torch.no_grad()
def greedy_decode(
    model, src: torch.Tensor, src_lengths: torch.Tensor, max_len_a: float = 1.5, max_len_b: int = 10, return_attention: bool = False
) -> list[Translation]:
    """The most probable next token, step by step.

    Args:
        model: in eval mode, with ``encode``, ``initial_state`` and ``step``.
        src: ``(B, S)`` source ids.
        src_lengths: ``(B,)``.
        max_len_a, max_len_b: length limit ``a * n + b`` per sentence.
        return_attention: keep the attention weights.

    Returns:
        ``B`` translations, in the order of ``src``.
    """
    memory = model.encode(src, src_lengths)
    state = model.initial_state(memory)
    B = src.shape[0]
    limits = _length_limits(src_lengths, max_len_a, max_len_b)
    y = torch.full((B,), BOS, dtype=torch.long, device=src.device)
    finished = torch.zeros(B, dtype=torch.bool, device=src.device)
    scores = torch.zeros(B, device=src.device)
    tokens, attention = [], []
    for t in range(int(limits.max())):
        log_probs, state, weights = model.step(y, state, memory)  # (B, V)
        best, y = log_probs.max(dim=-1)
        y = y.masked_fill(finished, PAD)
        scores = scores + best.masked_fill(finished, 0.0)
        tokens.append(y)
        attention.append(weights if return_attention else None)
        finished = finished | (y == EOS) | (t + 1 >= limits)
        if bool(finished.all()):
            break
    return _unpack(torch.stack(tokens, dim=1), scores, attention if return_attention else None, src_lengths)


def _prune(scores: torch.Tensor, log_probs: torch.Tensor, finished: torch.Tensor, beam: int):
    """Extend and keep the ``K`` best.

    Args:
        scores: ``(B * K,)`` running sums of log-probabilities.
        log_probs: ``(B * K, V)`` of the next token.
        finished: ``(B * K,)``; a finished hypothesis may only add PAD, at cost 0.
        beam: ``K``.

    Returns:
        ``(scores, origin, token)``: each ``(B * K,)``; ``origin`` is the flat index of the
        hypothesis each survivor extends.
    """
    BK, V = log_probs.shape
    frozen = torch.full_like(log_probs, float("-inf"))
    frozen[:, PAD] = 0.0
    log_probs = torch.where(finished.unsqueeze(1), frozen, log_probs)
    candidates = (scores.unsqueeze(1) + log_probs).view(BK // beam, beam * V)  # (B, K * V)
    top_scores, top_index = candidates.topk(beam, dim=-1)  # (B, K)
    base = torch.arange(BK // beam, device=scores.device).unsqueeze(1) * beam
    origin = (base + top_index // V).view(-1)
    return top_scores.view(-1), origin, (top_index % V).view(-1)


def _normalised(tokens: torch.Tensor, scores: torch.Tensor, length_penalty: float) -> torch.Tensor:
    """``score / lp(length)`` ``(N,)`` of hypotheses ``tokens`` ``(N, L)`` (PAD not counted)."""
    lengths = (tokens != PAD).sum(dim=1).clamp(min=1).float()
    return scores / ((5.0 + lengths) / 6.0) ** length_penalty


@dataclass
class _BestFinished:
    """Per sentence, the best finished hypothesis seen so far.

    Attributes:
        rank: ``(B,)`` its ``score / lp(length)``; ``-inf`` while none has finished.
        score: ``(B,)`` its sum of log-probabilities.
        tokens: ``(B, T)`` its tokens, PAD after them (``T``: the longest length limit).
        attention: ``(B, T, S)`` its attention rows, or ``None``.
    """

    rank: torch.Tensor
    score: torch.Tensor
    tokens: torch.Tensor
    attention: torch.Tensor | None


def _keep_best_finished(best: _BestFinished, tokens, scores, finished, attention, beam: int, length_penalty: float) -> None:
    """Offer the finished hypotheses of the beam to the record ``best`` (updated in place).

    Args:
        tokens: ``(B * K, L)`` the beam after this step.
        scores, finished: ``(B * K,)``.
        attention: ``L x (B * K, S)``, or empty.
    """
    rank = _normalised(tokens, scores, length_penalty).masked_fill(~finished, float("-inf"))
    top, k = rank.view(-1, beam).max(dim=-1)  # (B,)
    has_one = finished.view(-1, beam).any(dim=-1)
    better = has_one & ((top > best.rank) | torch.isneginf(best.rank))  # -inf: none recorded yet
    if not bool(better.any()):
        return
    rows = torch.nonzero(better).squeeze(1)
    flat = rows * beam + k[rows]
    L = tokens.shape[1]
    best.rank[rows], best.score[rows] = top[rows], scores[flat]
    # a record made later is longer, so it overwrites every position an earlier one wrote
    best.tokens[rows, :L] = tokens[flat]
    if best.attention is not None and attention:
        best.attention[rows, :L] = torch.stack([a[flat] for a in attention], dim=1)


@torch.no_grad()
def beam_search(
    model,
    src: torch.Tensor,
    src_lengths: torch.Tensor,
    beam: int = 5,
    length_penalty: float = 1.0,
    max_len_a: float = 1.5,
    max_len_b: int = 10,
    return_attention: bool = False,
) -> list[Translation]:
    """Batched beam search.

    Args:
        model: in eval mode, with ``encode``, ``initial_state`` and ``step``.
        src: ``(B, S)``.
        src_lengths: ``(B,)``.
        beam: ``K >= 1``.
        length_penalty: GNMT ``alpha``; 0 ranks by the raw sum of log-probabilities.
        max_len_a, max_len_b: length limit ``a * n + b`` per sentence.
        return_attention: keep the winners' attention weights.

    Returns:
        ``B`` translations, in the order of ``src``.
    """
    if isinstance(beam, bool) or not isinstance(beam, int) or beam < 1:
        raise ValueError(f"beam must be a positive integer, got {beam!r}")
    B, device = src.shape[0], src.device
    flat = torch.arange(B, device=device).repeat_interleave(beam)  # (B * K,)
    memory = _select(model.encode(src, src_lengths), flat)
    state = model.initial_state(memory)
    limits = _length_limits(src_lengths, max_len_a, max_len_b).index_select(0, flat)
    scores = torch.zeros(B, beam, device=device)
    scores[:, 1:] = float("-inf")  # all K start as the same empty hypothesis: keep one
    scores = scores.view(-1)
    y = torch.full((B * beam,), BOS, dtype=torch.long, device=device)
    finished = torch.zeros(B * beam, dtype=torch.bool, device=device)
    tokens = torch.zeros(B * beam, 0, dtype=torch.long, device=device)
    attention: list[torch.Tensor] = []
    T = int(limits.max())
    best = _BestFinished(
        rank=torch.full((B,), float("-inf"), device=device),
        score=torch.full((B,), float("-inf"), device=device),
        tokens=torch.full((B, T), PAD, dtype=torch.long, device=device),
        attention=None,
    )
    for t in range(T):
        log_probs, state, weights = model.step(y, state, memory)  # (B * K, V)
        scores, origin, y = _prune(scores, log_probs, finished, beam)
        state = _select(state, origin)
        tokens = torch.cat([tokens.index_select(0, origin), y.unsqueeze(1)], dim=1)
        if return_attention and weights is not None:
            attention = [a.index_select(0, origin) for a in attention] + [weights.index_select(0, origin)]
        finished = finished.index_select(0, origin) | (y == EOS) | (t + 1 >= limits)
        if attention and best.attention is None:
            best.attention = torch.zeros(B, T, attention[0].shape[-1], device=device)
        _keep_best_finished(best, tokens, scores, finished, attention, beam, length_penalty)
        if bool(finished.all()):
            break
    L = tokens.shape[1]
    kept = list(best.attention[:, :L].unbind(dim=1)) if best.attention is not None else None
    return _unpack(best.tokens[:, :L], best.score, kept, src_lengths)


@torch.no_grad()
def translate(
    model,
    sentences: Sequence[str],
    src_tokenizer: SubwordTokenizer,
    tgt_tokenizer: SubwordTokenizer,
    beam: int = 1,
    length_penalty: float = 1.0,
    max_tokens: int = 4000,
    max_len_a: float = 1.5,
    max_len_b: int = 10,
    return_attention: bool = False,
    device: str | torch.device = "cpu",
) -> tuple[list[str], list[Translation]]:
    """Translate raw sentences in length-sorted batches; outputs come back in input order.

    Args:
        beam: 1 is greedy decoding, more is beam search.
        max_tokens: bound on ``B * S`` per batch (times ``beam`` inside beam search).

    Returns:
        ``(texts, translations)``: detokenised strings, and the :class:`Translation` of each.
    """
    if isinstance(sentences, str):  # a str is a sequence too: of one-character "sentences"
        raise TypeError(f"sentences must be a list of strings, got one str {sentences[:40]!r}; pass [sentence]")
    if beam < 1:
        raise ValueError(f"beam must be >= 1 (1: greedy), got {beam}")
    was_training = model.training
    model.eval()
    ids = [s + [EOS] for s in src_tokenizer.encode(list(sentences))]
    results: list[Translation | None] = [None] * len(ids)
    for index in bucket_batches([len(s) for s in ids], max(1, max_tokens // beam), seed=0, epoch=0, shuffle=False):
        S = max(len(ids[i]) for i in index)
        src = torch.full((len(index), S), PAD, dtype=torch.long)
        for row, i in enumerate(index):
            src[row, : len(ids[i])] = torch.as_tensor(ids[i])
        lengths = torch.as_tensor([len(ids[i]) for i in index])
        src, lengths = src.to(device), lengths.to(device)
        if beam == 1:
            out = greedy_decode(model, src, lengths, max_len_a, max_len_b, return_attention)
        else:
            out = beam_search(model, src, lengths, beam, length_penalty, max_len_a, max_len_b, return_attention)
        for i, translation in zip(index, out):
            results[i] = translation
    model.train(was_training)
    return tgt_tokenizer.decode([r.tokens for r in results]), results  # type: ignore[union-attr]
