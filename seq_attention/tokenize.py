"""Subword tokenisation with SentencePiece, trained on the training split and stored as bytes.

One :class:`SubwordTokenizer` per language, trained on that language's side of the training pairs
only (never on validation or test text). Its serialised model travels inside the translation
checkpoint as a ``uint8`` tensor (:meth:`SubwordTokenizer.to_tensor`), so a checkpoint is all a
user needs to translate, and ``torch.load(weights_only=True)`` can read it.

Ids ``0..3`` are reserved: :data:`PAD` (padding, never predicted nor attended), :data:`UNK`,
:data:`BOS` (the decoder's first input ``y_0``) and :data:`EOS` (appended to every source and
target sentence). :meth:`SubwordTokenizer.decode` returns detokenised text (SentencePiece keeps the
spaces as ``▁``), which is what sacrebleu scores.
"""

from __future__ import annotations

import io
import logging
from typing import Iterable, Sequence

import torch

logger = logging.getLogger(__name__)

__all__ = ["BOS", "EOS", "PAD", "UNK", "SubwordTokenizer"]

PAD, UNK, BOS, EOS = 0, 1, 2, 3
MODEL_TYPES = ("bpe", "unigram")


class SubwordTokenizer:
    """A trained SentencePiece model: text <-> ids.

    Build one with :meth:`train` or :meth:`from_tensor`; the constructor takes the serialised
    model proto.
    """

    def __init__(self, model_proto: bytes):
        import sentencepiece as spm

        self.model_proto = bytes(model_proto)
        self._processor = spm.SentencePieceProcessor(model_proto=self.model_proto)
        if (self._processor.pad_id(), self._processor.unk_id(), self._processor.bos_id(), self._processor.eos_id()) != (
            PAD,
            UNK,
            BOS,
            EOS,
        ):
            raise ValueError("the SentencePiece model must use pad=0, unk=1, bos=2, eos=3; train it with SubwordTokenizer.train")

    @classmethod
    def train(cls, sentences: Iterable[str], vocab_size: int = 8000, model_type: str = "bpe") -> "SubwordTokenizer":
        """Train on ``sentences`` (one training-split side).

        Args:
            sentences: raw text, one sentence each.
            vocab_size: the target size; a small corpus may give fewer pieces (the limit is soft).
            model_type: ``"bpe"`` or ``"unigram"``.

        Raises:
            ValueError: no non-empty sentence, or an unknown ``model_type``.
        """
        import sentencepiece as spm

        if model_type not in MODEL_TYPES:
            raise ValueError(f"model_type must be one of {MODEL_TYPES}, got {model_type!r}")
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 8:
            raise ValueError(f"vocab_size must be an integer >= 8, got {vocab_size!r}")
        lines = [s for s in sentences if s.strip()]
        if not lines:
            raise ValueError("cannot train a tokenizer on an empty corpus: no non-empty sentence was given")
        writer = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines),
            model_writer=writer,
            vocab_size=vocab_size,
            hard_vocab_limit=False,
            model_type=model_type,
            character_coverage=1.0,
            pad_id=PAD,
            unk_id=UNK,
            bos_id=BOS,
            eos_id=EOS,
            num_threads=1,  # deterministic and polite on a shared machine
            minloglevel=2,
        )
        tokenizer = cls(writer.getvalue())
        logger.info("trained a %s tokenizer with %d pieces on %d sentences", model_type, len(tokenizer), len(lines))
        return tokenizer

    def __len__(self) -> int:
        return self._processor.get_piece_size()

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Ids of each text, without BOS/EOS."""
        return self._processor.encode(list(texts))

    def pieces(self, text: str) -> list[str]:
        """The subword pieces of one text (for attention plots)."""
        return self._processor.encode(text, out_type=str)

    def id_to_piece(self, ids: Sequence[int]) -> list[str]:
        """Pieces of ids (``<pad>``, ``<s>``, ``</s>`` for the reserved ones)."""
        return [self._processor.id_to_piece(int(i)) for i in ids]

    def decode(self, ids: Sequence[Sequence[int]]) -> list[str]:
        """Detokenised text of each id sequence; reserved ids are dropped."""
        return self._processor.decode([[int(i) for i in seq if int(i) > EOS] for seq in ids])

    def to_tensor(self) -> torch.Tensor:
        """The serialised model as a ``(N,)`` uint8 tensor, for a ``weights_only`` checkpoint."""
        return torch.frombuffer(bytearray(self.model_proto), dtype=torch.uint8).clone()

    @classmethod
    def from_tensor(cls, data: torch.Tensor) -> "SubwordTokenizer":
        """Inverse of :meth:`to_tensor`."""
        return cls(data.cpu().numpy().tobytes())
