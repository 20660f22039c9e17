"""Translation models: an RNN encoder-decoder whose decoder is the agents' recurrent core.

The decoder's glimpse
---------------------
The recurrent attention model (RAM, Mnih et al., 2014; :mod:`agents.ram`) and RNNsearch (Bahdanau,
Cho and Bengio, 2015) are the same loop. At every step the core state picks *where* to look, a
sensor returns *what* is there, and the core folds it in:

==================  ======================================  ==========================================
                    RAM (glimpses over an image)            RNNsearch (soft attention over a sentence)
==================  ======================================  ==========================================
where to look       ``l_t ~ f_l(h_{t-1})``, a hard location ``a_ij = softmax_j e(s_{i-1}, h_j)``, soft
what is seen        ``g_t = f_g(rho(x, l_t), l_t)``         ``c_i = sum_j a_ij h_j``
core update         ``h_t = f_h(h_{t-1}, g_t)``             ``s_i = f(s_{i-1}, [E y_{i-1}; c_i])``
output              ``f_a(h_T)`` after the last glimpse     ``p(y_i | ...)`` at every step
how it learns       REINFORCE (the glimpse is sampled)      backpropagation (the glimpse is an average)
==================  ======================================  ==========================================

Both cores are :class:`agents.core.CoreNetwork`, driven one step at a time through its ``step``
function; the attention module (:mod:`seq_attention.attention`) plays the glimpse sensor.

Models (:data:`MODELS`), all with the same embedding, encoder and decoder widths:

- ``rnnencdec``: Cho et al. (2014) / the paper's RNNencdec baseline. No attention: the context
  ``c`` is the encoder's final state (forward and backward), the same at every step.
- ``bahdanau``: RNNsearch. Additive attention queried by the *previous* state ``s_{i-1}``, then
  ``s_i = f(s_{i-1}, [E y_{i-1}; c_i])``; readout ``t_i = tanh(W_o [s_i; c_i; E y_{i-1}])``. (The
  paper reads out from ``s_{i-1}`` with a maxout layer; ``s_i`` and ``tanh`` is the common,
  slightly better variant, as in Nematus and JoeyNMT.)
- ``luong-dot``, ``luong-general``: Luong et al. (2015), global attention with input feeding.
  ``s_i = f(s_{i-1}, [E y_{i-1}; h~_{i-1}])``, then attention queried by the *current* ``s_i``,
  ``h~_i = tanh(W_c [c_i; s_i])``, and ``p(y_i) = softmax(W_s h~_i)``.
- ``transformer``: :class:`seq_attention.transformer.Transformer`, built on
  :class:`~seq_attention.attention.MultiHeadAttention`.

The encoder is an embedding and a bidirectional GRU over packed sequences (padding never enters
a state), ``D/2`` wide each way so that its outputs ``h_j`` are ``D`` wide like the decoder state.
The decoder starts from ``s_0 = tanh(W_init [h_S->; h_1<-])``. Output embeddings are tied to the
target embeddings (Press and Wolf, 2017) unless ``tie_embeddings=False``.

Every model exposes the interface the decoders in :mod:`seq_attention.decoding` need:
``encode(src, src_lengths) -> Memory``, ``initial_state(memory) -> state``,
``step(y_prev, state, memory) -> (log_probs, state, weights)``, and ``forward`` for teacher forcing.
``Memory`` and ``state`` hold batch-first tensors only, so beam search reorders them generically.

Dimension letters: ``B`` batch, ``S`` source length, ``T`` target length, ``E`` embedding width,
``D`` decoder state width (= encoder output width), ``V`` target vocabulary.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from agents.core import CELLS, CoreNetwork
from seq_attention.attention import build_attention
from seq_attention.tokenize import PAD

__all__ = ["MODELS", "Encoder", "Memory", "ModelConfig", "RNNDecoder", "RNNSeq2Seq", "build_model", "count_parameters"]

MODELS = ("rnnencdec", "bahdanau", "luong-dot", "luong-general", "transformer")
_RNN_ATTENTION = {"rnnencdec": None, "bahdanau": "additive", "luong-dot": "dot", "luong-general": "general"}


@dataclass
class ModelConfig:
    """Sizes of a translation model; the same numbers build every kind, so comparisons are fair."""

    model: str = "bahdanau"
    """one of rnnencdec, bahdanau, luong-dot, luong-general, transformer"""
    src_vocab: int = 8000
    """source vocabulary size"""
    tgt_vocab: int = 8000
    """target vocabulary size"""
    embed_size: int = 256
    """E: word embeddings; also the readout width and the Transformer's model width"""
    hidden_size: int = 512
    """D: decoder state (RNN), encoder output (D/2 per direction), Transformer feed-forward width"""
    attention_size: int = 256
    """A: hidden width inside Bahdanau's additive score"""
    cell: str = "gru"
    """decoder core cell: rnn, lstm or gru (agents.core.CoreNetwork)"""
    layers: int = 3
    """Transformer encoder and decoder layers"""
    heads: int = 8
    """Transformer attention heads"""
    dropout: float = 0.3
    """dropout on embeddings, encoder outputs and the readout"""
    tie_embeddings: bool = True
    """share the target embedding matrix with the output layer"""

    def __post_init__(self):
        if self.model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {self.model!r}")
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {CELLS}, got {self.cell!r}")
        for name in ("src_vocab", "tgt_vocab", "embed_size", "hidden_size", "attention_size", "layers", "heads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.model != "transformer" and self.hidden_size % 2:
            raise ValueError(
                f"hidden_size must be even (the bidirectional encoder is hidden_size/2 each way), got {self.hidden_size}"
            )
        if self.model == "transformer" and self.embed_size % self.heads:
            raise ValueError(f"embed_size must be divisible by heads, got embed_size={self.embed_size}, heads={self.heads}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict:
        return asdict(self)


class Memory(NamedTuple):
    """What the decoder reads from the encoder; batch-first tensors (``None`` where unused).

    Attributes:
        keys: ``(B, S, D)`` encoder outputs ``h_j`` (keys and values of the attention).
        prepared_keys: ``(B, S, *)`` the attention's key projection, computed once per batch (the Transformer's:
            every decoder layer's cross-attention keys and values, ``(B, layers, 2, H, S, E/H)``).
        mask: ``(B, S)`` True on real source tokens.
        context: ``(B, D)`` the final encoder state (RNNencdec's fixed context).
    """

    keys: torch.Tensor
    prepared_keys: torch.Tensor | None
    mask: torch.Tensor
    context: torch.Tensor


class Encoder(nn.Module):
    """Embedding and a bidirectional GRU over packed sequences.

    Args:
        vocab_size: source vocabulary.
        embed_size: ``E``.
        output_size: ``D``, even: ``D/2`` per direction.
        dropout: on embeddings and outputs.
    """

    def __init__(self, vocab_size: int, embed_size: int, output_size: int, dropout: float):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size, padding_idx=PAD)
        self.rnn = nn.GRU(embed_size, output_size // 2, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode.

        Args:
            src: ``(B, S)`` ids, PAD after each sentence.
            src_lengths: ``(B,)``.

        Returns:
            ``(outputs, final)``: ``(B, S, D)`` with zeros on padding, and ``(B, D)``, the forward
            state after the last real token joined to the backward state after the first.
        """
        embedded = self.dropout(self.embedding(src))  # (B, S, E)
        packed = pack_padded_sequence(embedded, src_lengths.cpu(), batch_first=True, enforce_sorted=False)
        outputs, h_n = self.rnn(packed)  # h_n: (2, B, D/2)
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=src.shape[1])  # (B, S, D)
        return self.dropout(outputs), torch.cat([h_n[0], h_n[1]], dim=-1)


class RNNDecoder(nn.Module):
    """A conditional language model on :class:`agents.core.CoreNetwork`, reading the source through attention.

    Args:
        config: sizes and the model kind (its attention and its order).
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        E, D = config.embed_size, config.hidden_size
        self.kind = config.model
        self.attention_name = _RNN_ATTENTION[config.model]
        self.luong = config.model.startswith("luong")
        self.embedding = nn.Embedding(config.tgt_vocab, E, padding_idx=PAD)
        self.attention = (
            None if self.attention_name is None else build_attention(self.attention_name, D, D, config.attention_size)
        )
        # Bahdanau order and RNNencdec feed [E y_{i-1}; c_i] (c_i is D wide); Luong feeds [E y_{i-1}; h~_{i-1}] (E wide).
        self.core = CoreNetwork(E + (E if self.luong else D), D, cell=config.cell)
        self.init_state = nn.Linear(D, D)  # s_0 = tanh(W_init h_final)
        if self.luong:
            self.attentional = nn.Linear(2 * D, E, bias=False)  # h~_i = tanh(W_c [c_i; s_i])
        else:
            self.readout = nn.Linear(D + D + E, E)  # t_i = tanh(W_o [s_i; c_i; E y_{i-1}])
        self.output = nn.Linear(E, config.tgt_vocab)
        self.embed_scale = 1.0
        if config.tie_embeddings:
            # N(0, 1/E) rather than nn.Embedding's N(0, 1): as output weights, unit-variance rows would
            # start the softmax with logits of norm ~sqrt(E) and a loss far above log V. As inputs they
            # are scaled back up by sqrt(E), as in the Transformer.
            nn.init.normal_(self.embedding.weight, std=E**-0.5)
            with torch.no_grad():
                self.embedding.weight[PAD].zero_()
            self.output.weight = self.embedding.weight
            self.embed_scale = math.sqrt(E)
        self.dropout = nn.Dropout(config.dropout)

    def embed(self, y: torch.Tensor) -> torch.Tensor:
        """``E y`` with dropout: ``(B,)`` or ``(B, T)`` ids -> ``(B, E)`` or ``(B, T, E)``."""
        return self.dropout(self.embedding(y) * self.embed_scale)

    def prepare(self, keys: torch.Tensor, mask: torch.Tensor, final: torch.Tensor) -> Memory:
        """``Memory`` from encoder outputs ``(B, S, D)``, mask ``(B, S)`` and final state ``(B, D)``."""
        prepared = None if self.attention is None else self.attention.prepare_keys(keys)
        return Memory(keys, prepared, mask, final)

    def initial_state(self, memory: Memory) -> tuple[torch.Tensor, ...]:
        """``core state + (feed,)``: ``s_0`` ``(B, D)`` (and an LSTM cell ``(B, D)``), then the
        Luong input feed ``h~_0 = 0`` ``(B, E)`` (an empty ``(B, 0)`` for the other models)."""
        s0 = torch.tanh(self.init_state(memory.context))
        core_state = (s0, torch.zeros_like(s0)) if self.core.cell_type == "lstm" else (s0,)
        feed_size = self.embedding.embedding_dim if self.luong else 0
        return core_state + (s0.new_zeros(s0.shape[0], feed_size),)

    def advance(
        self, embedded: torch.Tensor, state: tuple[torch.Tensor, ...], memory: Memory
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...], torch.Tensor | None]:
        """One decoder step up to the readout's input.

        Args:
            embedded: ``(B, E)`` the embedded previous token ``E y_{i-1}`` (dropout applied).
            state: from :meth:`initial_state` or the previous step.
            memory: from :meth:`prepare`.

        Returns:
            ``(features, state, weights)``: ``(B, 2D + E)`` ``[s_i; c_i; E y_{i-1}]`` (Bahdanau
            order) or ``(B, E)`` ``h~_i`` (Luong); the new state; attention ``(B, S)`` or ``None``.
        """
        core_state, feed = state[:-1], state[-1]
        if self.luong:
            s, core_state = self.core.step(torch.cat([embedded, feed], dim=-1), core_state)
            context, weights = self.attention(s, memory.keys, memory.keys, memory.mask, memory.prepared_keys)
            feed = torch.tanh(self.attentional(torch.cat([context, s], dim=-1)))
            return feed, core_state + (feed,), weights
        if self.attention is None:
            context, weights = memory.context, None
        else:
            s_prev = core_state[0]
            context, weights = self.attention(s_prev, memory.keys, memory.keys, memory.mask, memory.prepared_keys)
        s, core_state = self.core.step(torch.cat([embedded, context], dim=-1), core_state)
        return torch.cat([s, context, embedded], dim=-1), core_state + (feed,), weights

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """Readout: ``(..., 2D + E)`` or ``(..., E)`` features -> ``(..., V)`` unnormalised scores."""
        hidden = features if self.luong else torch.tanh(self.readout(features))
        return self.output(self.dropout(hidden))


class RNNSeq2Seq(nn.Module):
    """Encoder + :class:`RNNDecoder` (``rnnencdec``, ``bahdanau``, ``luong-dot``, ``luong-general``)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        if config.model == "transformer":
            raise ValueError("use seq_attention.transformer.Transformer (or build_model) for model='transformer'")
        self.config = config
        self.encoder = Encoder(config.src_vocab, config.embed_size, config.hidden_size, config.dropout)
        self.decoder = RNNDecoder(config)

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> Memory:
        """``src`` ``(B, S)``, ``src_lengths`` ``(B,)`` -> :class:`Memory`."""
        outputs, final = self.encoder(src, src_lengths)
        return self.decoder.prepare(outputs, src != PAD, final)

    def initial_state(self, memory: Memory) -> tuple[torch.Tensor, ...]:
        """See :meth:`RNNDecoder.initial_state`."""
        return self.decoder.initial_state(memory)

    def step(
        self, y_prev: torch.Tensor, state: tuple[torch.Tensor, ...], memory: Memory
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...], torch.Tensor | None]:
        """One decoding step: ``y_prev`` ``(B,)`` -> log-probabilities ``(B, V)``, state, weights ``(B, S)`` or ``None``."""
        embedded = self.decoder.embed(y_prev)
        features, state, weights = self.decoder.advance(embedded, state, memory)
        return F.log_softmax(self.decoder.logits(features), dim=-1), state, weights

    def forward(
        self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, *, keep: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Teacher forcing.

        Args:
            src: ``(B, S)``.
            src_lengths: ``(B,)``.
            tgt_in: ``(B, T)`` ``BOS y_1 .. y_{T-1}``.
            keep: boolean ``(B, T)``: score only these ``N`` positions (the trainer's non-PAD targets).

        Returns:
            ``(logits, weights)``: ``(B, T, V)``, or ``(N, V)`` with ``keep``; and ``(B, T, S)`` (``None``
            for ``rnnencdec``).
        """
        memory = self.encode(src, src_lengths)
        state = self.initial_state(memory)
        # unbind, not embedded[:, i]: the backward of T selections would fill T full-size zero tensors
        embedded = self.decoder.embed(tgt_in).unbind(1)  # T x (B, E)
        features, weights = [], []
        for i in range(tgt_in.shape[1]):
            f, state, a = self.decoder.advance(embedded[i], state, memory)
            features.append(f)
            weights.append(a)
        # The readout and the vocabulary projection do not feed back: one batched matmul after the loop,
        # over the kept positions only (the projection to V is a third of a training step's time).
        features = torch.stack(features, dim=1)
        logits = self.decoder.logits(features if keep is None else features[keep])
        return logits, (None if weights[0] is None else torch.stack(weights, dim=1))


def build_model(config: ModelConfig) -> nn.Module:
    """The model of ``config.model``."""
    if config.model == "transformer":
        from seq_attention.transformer import Transformer

        return Transformer(config)
    return RNNSeq2Seq(config)


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters, shared ones once."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)

