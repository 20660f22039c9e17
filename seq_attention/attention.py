"""Attention: score functions behind one interface, scaled dot-product and multi-head attention.

Every module here maps ``(query, keys, values, mask) -> (context, weights)``:

======================================  =======================================================
class                                   score ``e(q, k_j)``
======================================  =======================================================
:class:`AdditiveAttention`              ``v^T tanh(W q + U k_j)`` (Bahdanau et al., 2015, eq. 6
                                        and appendix A.1.2; "concat" in Luong et al., 2015)
:class:`DotAttention`                   ``q^T k_j`` (Luong et al., 2015, eq. 8 "dot")
:class:`GeneralAttention`               ``q^T W k_j`` (Luong et al., 2015, eq. 8 "general")
:class:`ScaledDotProductAttention`      ``q^T k_j / sqrt(d_k)`` (Vaswani et al., 2017, eq. 1)
======================================  =======================================================

then ``a_j = softmax_j(e_j)`` over the keys that ``mask`` allows and ``context = sum_j a_j v_j``.
:class:`MultiHeadAttention` (Vaswani et al., 2017, section 3.2.2) projects queries, keys and
values once per head, runs :func:`scaled_dot_product_attention` on each head, concatenates and
projects back.

Masks are boolean and mean *may attend* (True), broadcastable to the scores, exactly as in
:func:`torch.nn.functional.scaled_dot_product_attention` (and the opposite of
:class:`torch.nn.MultiheadAttention`, whose masks mean *blocked*). Masked scores are set to
``-inf`` before the softmax, so padding never receives weight; a query whose every key is masked
gets all-zero weights and a zero context, not NaN.

Nothing computed is kept on ``self``: a module that can precompute its key projection once per
source sentence (:class:`AdditiveAttention`, :class:`GeneralAttention`) returns it from
:meth:`prepare_keys`, and the caller passes it back in ``prepared_keys`` at every decoder step.

These modules know nothing of words or images; the translation decoder in
:mod:`seq_attention.models` uses them as its "glimpse" over the source sentence.

Dimension letters: ``B`` batch, ``T`` queries (target steps), ``S`` keys (source length), ``H``
heads, ``D`` query width, ``K`` key width, ``V`` value width, ``A`` attention (score) width,
``E`` embedding width of multi-head attention (``E = H * (E / H)``).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "ATTENTIONS",
    "AdditiveAttention",
    "DotAttention",
    "GeneralAttention",
    "MultiHeadAttention",
    "ScaledDotProductAttention",
    "build_attention",
    "masked_softmax",
    "scaled_dot_product_attention",
]


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Softmax over the last axis, with zero weight where ``mask`` is False.

    Args:
        scores: ``(..., S)``.
        mask: boolean, broadcastable to ``scores``; True where attention is allowed. ``None``
            allows everything.

    Returns:
        ``(..., S)`` weights summing to 1 over the allowed keys; rows with no allowed key are 0.
    """
    if mask is None:
        return torch.softmax(scores, dim=-1)
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be a boolean tensor (True = may attend), got dtype {mask.dtype}")
    mask = mask.expand_as(scores)
    scores = scores.masked_fill(~mask, float("-inf"))
    # A fully masked row would be softmax(all -inf) = NaN, in the forward and the backward pass;
    # give it finite scores, then zero its weights below.
    any_allowed = mask.any(dim=-1, keepdim=True)
    scores = torch.where(any_allowed, scores, torch.zeros_like(scores))
    return torch.softmax(scores, dim=-1).masked_fill(~mask, 0.0)


def scaled_dot_product_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None, dropout_p: float = 0.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``softmax(q k^T / sqrt(d_k)) v`` (Vaswani et al., 2017, eq. 1), the readable version.

    Args:
        q: ``(..., T, K)`` queries.
        k: ``(..., S, K)`` keys.
        v: ``(..., S, V)`` values.
        mask: boolean, broadcastable to ``(..., T, S)``; True where query ``t`` may attend to key
            ``s`` (as in :func:`torch.nn.functional.scaled_dot_product_attention`).
        dropout_p: dropout on the weights (applied only to the context, the returned weights are
            the undropped ones).

    Returns:
        ``(context, weights)``: ``(..., T, V)`` and ``(..., T, S)``.
    """
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])  # (..., T, S)
    weights = masked_softmax(scores, mask)
    dropped = F.dropout(weights, dropout_p) if dropout_p > 0.0 else weights
    return dropped @ v, weights


def _as_steps(query: torch.Tensor, mask: torch.Tensor | None):
    """Give a one-step query ``(B, D)`` and its mask ``(B, S)`` a step axis: ``(B, 1, D)``, ``(B, 1, S)``."""
    if query.dim() == 2:
        return query.unsqueeze(1), (None if mask is None else mask.unsqueeze(-2)), True
    if query.dim() != 3:
        raise ValueError(f"query must be (B, D) or (B, T, D), got shape {tuple(query.shape)}")
    return query, mask, False


class _ScoreAttention(nn.Module):
    """Shared ``forward`` of the single-head score attentions: subclasses define ``score``."""

    def prepare_keys(self, keys: torch.Tensor) -> torch.Tensor:
        """The part of the score that depends on the keys only, computed once per source.

        Args:
            keys: ``(B, S, K)``.

        Returns:
            ``(B, S, *)``: pass it back as ``prepared_keys`` at every step.
        """
        return keys

    def score(self, query: torch.Tensor, prepared_keys: torch.Tensor) -> torch.Tensor:
        """``(B, T, D)``, ``(B, S, *)`` -> scores ``(B, T, S)``."""
        raise NotImplementedError

    def forward(
        self,
        query: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        mask: torch.Tensor | None = None,
        prepared_keys: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Attend from ``query`` over ``keys``, read ``values``.

        Args:
            query: ``(B, D)`` (one step) or ``(B, T, D)``.
            keys: ``(B, S, K)``.
            values: ``(B, S, V)``.
            mask: boolean, True where attention is allowed: ``(B, S)`` for a ``(B, D)`` query,
                broadcastable to ``(B, T, S)`` for a ``(B, T, D)`` one (a key-padding mask is
                ``(B, 1, S)``). ``None`` allows every key.
            prepared_keys: :meth:`prepare_keys` of ``keys``, if the caller already has it.

        Returns:
            ``(context, weights)``: ``(B, V)`` and ``(B, S)`` for a one-step query, else
            ``(B, T, V)`` and ``(B, T, S)``.
        """
        query, mask, one_step = _as_steps(query, mask)
        if prepared_keys is None:
            prepared_keys = self.prepare_keys(keys)
        weights = masked_softmax(self.score(query, prepared_keys), mask)  # (B, T, S)
        context = weights @ values  # (B, T, V)
        if one_step:
            return context.squeeze(1), weights.squeeze(1)
        return context, weights


class AdditiveAttention(_ScoreAttention):
    """Bahdanau's alignment model ``e_ij = v^T tanh(W s_{i-1} + U h_j)``, without biases as in the paper.

    Args:
        query_size: ``D``.
        key_size: ``K``.
        attention_size: ``A``, the width of the hidden layer inside the score (``n'`` in the paper).
    """

    def __init__(self, query_size: int, key_size: int, attention_size: int):
        super().__init__()
        self.query_layer = nn.Linear(query_size, attention_size, bias=False)  # W
        self.key_layer = nn.Linear(key_size, attention_size, bias=False)  # U
        self.energy_layer = nn.Linear(attention_size, 1, bias=False)  # v

    def prepare_keys(self, keys: torch.Tensor) -> torch.Tensor:
        """``U h_j``: ``(B, S, K)`` -> ``(B, S, A)``."""
        return self.key_layer(keys)

    def score(self, query: torch.Tensor, prepared_keys: torch.Tensor) -> torch.Tensor:
        """``(B, T, D)``, ``(B, S, A)`` -> ``(B, T, S)``."""
        hidden = torch.tanh(self.query_layer(query).unsqueeze(2) + prepared_keys.unsqueeze(1))  # (B, T, S, A)
        return self.energy_layer(hidden).squeeze(-1)


class DotAttention(_ScoreAttention):
    """Luong's ``dot`` score ``e_ij = s_i^T h_j``; needs ``D == K``. No parameters."""

    def score(self, query: torch.Tensor, prepared_keys: torch.Tensor) -> torch.Tensor:
        """``(B, T, D)``, ``(B, S, D)`` -> ``(B, T, S)``."""
        if query.shape[-1] != prepared_keys.shape[-1]:
            raise ValueError(
                f"dot attention needs queries and keys of the same width, got {query.shape[-1]} and "
                f"{prepared_keys.shape[-1]}; use 'general' or 'additive' attention for different widths"
            )
        return query @ prepared_keys.transpose(1, 2)


class GeneralAttention(_ScoreAttention):
    """Luong's ``general`` score ``e_ij = s_i^T W h_j`` (no bias).

    Args:
        query_size: ``D``.
        key_size: ``K``.
    """

    def __init__(self, query_size: int, key_size: int):
        super().__init__()
        self.key_layer = nn.Linear(key_size, query_size, bias=False)  # W

    def prepare_keys(self, keys: torch.Tensor) -> torch.Tensor:
        """``W h_j``: ``(B, S, K)`` -> ``(B, S, D)``."""
        return self.key_layer(keys)

    def score(self, query: torch.Tensor, prepared_keys: torch.Tensor) -> torch.Tensor:
        """``(B, T, D)``, ``(B, S, D)`` -> ``(B, T, S)``."""
        return query @ prepared_keys.transpose(1, 2)


class ScaledDotProductAttention(_ScoreAttention):
    """``e_ij = q_i^T k_j / sqrt(K)`` (Vaswani et al., 2017); needs ``D == K``. No parameters."""

    def score(self, query: torch.Tensor, prepared_keys: torch.Tensor) -> torch.Tensor:
        """``(B, T, K)``, ``(B, S, K)`` -> ``(B, T, S)``."""
        if query.shape[-1] != prepared_keys.shape[-1]:
            raise ValueError(
                f"scaled dot-product attention needs queries and keys of the same width, got "
                f"{query.shape[-1]} and {prepared_keys.shape[-1]}"
            )
        return query @ prepared_keys.transpose(1, 2) / math.sqrt(query.shape[-1])


ATTENTIONS = ("additive", "dot", "general", "scaled-dot")


def build_attention(name: str, query_size: int, key_size: int, attention_size: int | None = None) -> _ScoreAttention:
    """A single-head attention by name: one of :data:`ATTENTIONS`.

    Args:
        name: ``"additive"`` (Bahdanau), ``"dot"``, ``"general"`` (Luong), ``"scaled-dot"``.
        query_size: ``D``.
        key_size: ``K``.
        attention_size: ``A`` for ``"additive"`` (default ``D``).
    """
    if name == "additive":
        return AdditiveAttention(query_size, key_size, attention_size or query_size)
    if name == "general":
        return GeneralAttention(query_size, key_size)
    if name in ("dot", "scaled-dot"):
        if query_size != key_size:
            raise ValueError(
                f"{name!r} attention needs query_size == key_size, got {query_size} and {key_size}; "
                "choose sizes that match or use 'general' attention"
            )
        return DotAttention() if name == "dot" else ScaledDotProductAttention()
    raise ValueError(f"unknown attention {name!r}; choose one of {ATTENTIONS}")


class MultiHeadAttention(nn.Module):
    """``MultiHead(Q, K, V) = Concat(head_1..head_H) W^O``, ``head_h = Attention(Q W^Q_h, K W^K_h, V W^V_h)``.

    Batch-first. The per-head projections are stored as one ``(E, E)`` matrix each for queries,
    keys and values (head ``h`` owns rows ``h*E/H:(h+1)*E/H``), which is what
    :class:`torch.nn.MultiheadAttention` does too.

    Args:
        embed_dim: ``E``, divisible by ``num_heads``.
        num_heads: ``H``.
        dropout: dropout on the attention weights while training.
        bias: biases in the four projections.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True):
        super().__init__()
        if num_heads < 1 or embed_dim % num_heads:
            raise ValueError(
                f"embed_dim must be divisible by num_heads, got embed_dim={embed_dim}, num_heads={num_heads}"
            )
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        B, L, E = x.shape
        return x.view(B, L, self.num_heads, E // self.num_heads).transpose(1, 2)  # (B, H, L, E/H)

    def project(self, key: torch.Tensor, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys ``(B, S, E)`` and values ``(B, S, E)`` -> per-head ``(B, H, S, E/H)`` each: what a decoder
        caches, so that a step projects only its new position."""
        return self._split_heads(self.k_proj(key)), self._split_heads(self.v_proj(value))

    def attend(
        self,
        query: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        mask: torch.Tensor | None = None,
        need_weights: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """:meth:`forward` on keys and values already :meth:`project`-ed: ``query`` ``(B, T, E)``,
        ``k`` and ``v`` ``(B, H, S, E/H)``; ``mask`` and the returns as in :meth:`forward`."""
        B, T, E = query.shape
        if mask is not None and mask.dim() == 3:
            mask = mask.unsqueeze(1)  # (B, 1, T, S): the same for every head
        q = self._split_heads(self.q_proj(query))  # (B, H, T, E/H)
        p = self.dropout if self.training else 0.0
        if need_weights:
            context, weights = scaled_dot_product_attention(q, k, v, mask, dropout_p=p)
        else:
            context, weights = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p), None
        context = context.transpose(1, 2).reshape(B, T, E)  # (B, T, E)
        return self.out_proj(context), weights

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        mask: torch.Tensor | None = None,
        need_weights: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Attend from every query position over the key positions, per head.

        Args:
            query: ``(B, T, E)``.
            key: ``(B, S, E)``.
            value: ``(B, S, E)``.
            mask: boolean, True where attention is allowed, broadcastable to ``(B, T, S)``
                (``(T, S)`` causal, ``(B, 1, S)`` key padding) or to ``(B, H, T, S)``.
            need_weights: return the weights; ``False`` runs the fused
                :func:`torch.nn.functional.scaled_dot_product_attention` instead (faster; the
                caller must not pass fully masked rows, which the fused kernel turns into NaN).

        Returns:
            ``(output, weights)``: ``(B, T, E)`` and ``(B, H, T, S)`` (``None`` without
            ``need_weights``).
        """
        return self.attend(query, *self.project(key, value), mask, need_weights)
