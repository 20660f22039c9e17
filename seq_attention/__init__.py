"""Attention-based neural machine translation on the agents' recurrent core.

The decoder of RNNsearch (Bahdanau, Cho and Bengio, 2015) and of Luong et al. (2015) is
:class:`agents.core.CoreNetwork`, the core of the recurrent attention model, stepped one target
word at a time; the attention over the source sentence is its glimpse (see
:mod:`seq_attention.models`). A Transformer (Vaswani et al., 2017) on the same multi-head
attention serves as the strong baseline, and an RNN encoder-decoder without attention as the weak
one.

Modules: :mod:`~seq_attention.attention` (score functions, scaled dot-product and multi-head
attention; no translation data), :mod:`~seq_attention.models` and
:mod:`~seq_attention.transformer`, :mod:`~seq_attention.data` (Multi30k, Tatoeba),
:mod:`~seq_attention.tokenize` (SentencePiece), :mod:`~seq_attention.batching`,
:mod:`~seq_attention.decoding` (greedy, beam search), :mod:`~seq_attention.training`,
:mod:`~seq_attention.metrics` (sacrebleu), :mod:`~seq_attention.checkpoints`,
:mod:`~seq_attention.plots`.
"""

from seq_attention.attention import (
    AdditiveAttention,
    DotAttention,
    GeneralAttention,
    MultiHeadAttention,
    ScaledDotProductAttention,
    scaled_dot_product_attention,
)
from seq_attention.checkpoints import Translator, load_translator
from seq_attention.decoding import beam_search, greedy_decode, translate
from seq_attention.models import MODELS, ModelConfig, build_model

__all__ = [
    "MODELS",
    "AdditiveAttention",
    "DotAttention",
    "GeneralAttention",
    "ModelConfig",
    "MultiHeadAttention",
    "ScaledDotProductAttention",
    "Translator",
    "beam_search",
    "build_model",
    "greedy_decode",
    "load_translator",
    "scaled_dot_product_attention",
    "translate",
]
