"""A small Transformer (Vaswani et al., 2017) built on :class:`~seq_attention.attention.MultiHeadAttention`.

Pre-layer-norm residual blocks (Xiong et al., 2020: stable without a long warm-up), sinusoidal
positions, embeddings scaled by ``sqrt(E)``, target embeddings tied to the output layer. Same
interface as :class:`~seq_attention.models.RNNSeq2Seq`. :meth:`Transformer.encode` projects the source
once into every decoder layer's cross-attention keys and values (``Memory.prepared_keys``), and during
decoding the state is a cache of every decoder layer's self-attention keys and values of the prefix
decoded so far. A step runs the decoder on the new position alone,
which is exactly what teacher forcing computes there (the causal mask hides later positions), at a
cost that grows with the prefix only in the attention itself.

Dimension letters: ``B`` batch, ``S`` source length, ``T`` target length, ``E`` model width,
``F`` feed-forward width (``ModelConfig.hidden_size``), ``H`` heads, ``V`` target vocabulary.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from seq_attention.attention import MultiHeadAttention
from seq_attention.models import Memory, ModelConfig
from seq_attention.tokenize import PAD

__all__ = ["DecoderLayer", "EncoderLayer", "Transformer"]

MAX_POSITIONS = 1024


def sinusoid(length: int, width: int) -> torch.Tensor:
    """Sinusoidal positions (Vaswani et al., 2017, section 3.5): ``(length, width)``."""
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    rate = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    table = torch.zeros(length, width)
    table[:, 0::2] = torch.sin(position * rate)
    table[:, 1::2] = torch.cos(position * rate[: width // 2])
    return table


class FeedForward(nn.Sequential):
    """``W_2 dropout(ReLU(W_1 x))``: ``(..., E)`` -> ``(..., E)``."""

    def __init__(self, width: int, inner: int, dropout: float):
        super().__init__(nn.Linear(width, inner), nn.ReLU(), nn.Dropout(dropout), nn.Linear(inner, width))


class EncoderLayer(nn.Module):
    """``x + SelfAttn(LN(x))``, then ``x + FF(LN(x))``."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        E = config.embed_size
        self.self_attention = MultiHeadAttention(E, config.heads, dropout=config.dropout)
        self.feed_forward = FeedForward(E, config.hidden_size, config.dropout)
        self.norms = nn.ModuleList([nn.LayerNorm(E), nn.LayerNorm(E)])
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, S, E)``, key-padding ``mask`` ``(B, 1, S)`` -> ``(B, S, E)``."""
        h = self.norms[0](x)
        x = x + self.dropout(self.self_attention(h, h, h, mask, need_weights=False)[0])
        return x + self.dropout(self.feed_forward(self.norms[1](x)))


class DecoderLayer(nn.Module):
    """Masked self-attention, attention over the encoder output, feed-forward; each pre-LN and residual."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        E = config.embed_size
        self.self_attention = MultiHeadAttention(E, config.heads, dropout=config.dropout)
        self.cross_attention = MultiHeadAttention(E, config.heads, dropout=config.dropout)
        self.feed_forward = FeedForward(E, config.hidden_size, config.dropout)
        self.norms = nn.ModuleList([nn.LayerNorm(E) for _ in range(3)])
        self.dropout = nn.Dropout(config.dropout)

    def forward(
        self,
        y: torch.Tensor,
        memory_kv: tuple[torch.Tensor, torch.Tensor],
        self_mask: torch.Tensor | None,
        memory_mask: torch.Tensor,
        need_weights: bool,
        past: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None, tuple[torch.Tensor, torch.Tensor]]:
        """Args: ``y`` ``(B, T, E)``; ``memory_kv``, the cross-attention's projection of the encoder
        output, ``(B, H, S, E/H)`` twice; causal ``self_mask`` ``(T, T)`` (``None`` for one new position
        after a ``past``); ``memory_mask`` ``(B, 1, S)``; ``past``, the self-attention keys and values of
        earlier positions, ``(B, H, P, E/H)`` twice. Returns ``(B, T, E)``, cross-attention ``(B, H, T, S)``
        or ``None``, and the self-attention keys and values of all ``P + T`` positions (the next ``past``)."""
        h = self.norms[0](y)
        k, v = self.self_attention.project(h, h)  # (B, H, T, E/H)
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        y = y + self.dropout(self.self_attention.attend(h, k, v, self_mask, need_weights=False)[0])
        attended, weights = self.cross_attention.attend(self.norms[1](y), *memory_kv, memory_mask, need_weights=need_weights)
        y = y + self.dropout(attended)
        return y + self.dropout(self.feed_forward(self.norms[2](y))), weights, (k, v)


class Transformer(nn.Module):
    """Encoder-decoder Transformer; ``config.embed_size`` is the model width, ``hidden_size`` the feed-forward one."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        E = config.embed_size
        self.config = config
        self.src_embedding = nn.Embedding(config.src_vocab, E, padding_idx=PAD)
        self.tgt_embedding = nn.Embedding(config.tgt_vocab, E, padding_idx=PAD)
        for embedding in (self.src_embedding, self.tgt_embedding):
            nn.init.normal_(embedding.weight, std=E**-0.5)
            with torch.no_grad():
                embedding.weight[PAD].zero_()
        self.register_buffer("positions", sinusoid(MAX_POSITIONS, E), persistent=False)
        self.encoder_layers = nn.ModuleList([EncoderLayer(config) for _ in range(config.layers)])
        self.decoder_layers = nn.ModuleList([DecoderLayer(config) for _ in range(config.layers)])
        self.encoder_norm = nn.LayerNorm(E)
        self.decoder_norm = nn.LayerNorm(E)
        self.output = nn.Linear(E, config.tgt_vocab)
        if config.tie_embeddings:
            self.output.weight = self.tgt_embedding.weight
        self.dropout = nn.Dropout(config.dropout)

    def _embed(self, embedding: nn.Embedding, ids: torch.Tensor, start: int = 0) -> torch.Tensor:
        """``ids`` ``(B, T)`` at positions ``start .. start + T - 1`` -> ``(B, T, E)``."""
        end = start + ids.shape[1]
        if end > MAX_POSITIONS:
            raise ValueError(f"sequences longer than {MAX_POSITIONS} tokens are not supported, got {end}")
        scale = math.sqrt(embedding.embedding_dim)
        return self.dropout(embedding(ids) * scale + self.positions[start:end])

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor | None = None) -> Memory:
        """``src`` ``(B, S)`` -> :class:`~seq_attention.models.Memory` with ``keys`` ``(B, S, E)``, ``mask`` ``(B, S)``
        and ``prepared_keys``, each decoder layer's cross-attention keys and values, ``(B, layers, 2, H, S, E/H)``."""
        mask = src != PAD  # (B, S)
        x = self._embed(self.src_embedding, src)
        for layer in self.encoder_layers:
            x = layer(x, mask.unsqueeze(1))
        keys = self.encoder_norm(x)
        # projected once for all decoding steps; batch first, so beam search expands it like the rest of the memory
        prepared = torch.stack([torch.stack(layer.cross_attention.project(keys, keys), dim=1) for layer in self.decoder_layers],
                               dim=1)  # fmt: skip
        return Memory(keys, prepared, mask, None)

    def _decode(
        self, tgt_in: torch.Tensor, memory: Memory, need_weights: bool, keep: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(B, T)`` -> logits ``(B, T, V)`` (``(N, V)`` at the ``N`` positions of a boolean ``keep`` ``(B, T)``)
        and the last layer's cross-attention, mean over heads, ``(B, T, S)``."""
        T = tgt_in.shape[1]
        causal = torch.ones(T, T, dtype=torch.bool, device=tgt_in.device).tril()  # (T, T)
        y = self._embed(self.tgt_embedding, tgt_in)
        weights = None
        for i, layer in enumerate(self.decoder_layers):
            last = i == len(self.decoder_layers) - 1
            y, weights, _ = layer(y, memory.prepared_keys[:, i].unbind(1), causal, memory.mask.unsqueeze(1), need_weights and last)
        y = self.decoder_norm(y)
        logits = self.output(y if keep is None else y[keep])
        return logits, (None if weights is None else weights.mean(dim=1))

    def initial_state(self, memory: Memory) -> tuple[torch.Tensor, ...]:
        """The decoding cache: per layer, the self-attention keys and values of the empty prefix, ``(B, H, 0, E/H)``
        twice: ``2 * layers`` tensors, batch first, so that beam search can reorder them like any state."""
        empty = memory.prepared_keys[:, 0, 0, :, :0]  # (B, H, 0, E/H)
        return (empty,) * (2 * len(self.decoder_layers))

    def step(
        self, y_prev: torch.Tensor, state: tuple[torch.Tensor, ...], memory: Memory
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...], torch.Tensor]:
        """``y_prev`` ``(B,)`` -> log-probabilities ``(B, V)``, the cache one position longer, weights ``(B, S)``."""
        t = state[0].shape[2]  # positions decoded so far
        y = self._embed(self.tgt_embedding, y_prev.unsqueeze(1), start=t)  # (B, 1, E)
        weights, new_state = None, []
        for i, layer in enumerate(self.decoder_layers):
            last = i == len(self.decoder_layers) - 1
            # no self mask: the one new position may see every earlier one
            y, weights, (k, v) = layer(y, memory.prepared_keys[:, i].unbind(1), None, memory.mask.unsqueeze(1), last,
                                       past=state[2 * i : 2 * i + 2])  # fmt: skip
            new_state += [k, v]
        logits = self.output(self.decoder_norm(y[:, 0]))  # (B, V)
        return F.log_softmax(logits, dim=-1), tuple(new_state), weights.mean(dim=1)[:, 0]

    def forward(
        self,
        src: torch.Tensor,
        src_lengths: torch.Tensor,
        tgt_in: torch.Tensor,
        need_weights: bool = False,
        *,
        keep: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Teacher forcing: ``src`` ``(B, S)``, ``tgt_in`` ``(B, T)`` -> logits ``(B, T, V)`` (``(N, V)`` at the
        ``N`` positions of a boolean ``keep`` ``(B, T)``), weights ``(B, T, S)`` or ``None``."""
        return self._decode(tgt_in, self.encode(src, src_lengths), need_weights, keep)
