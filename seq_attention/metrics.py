"""Corpus BLEU and chrF with sacrebleu on detokenised text, with their signatures.

``BLEU().corpus_score`` then ``get_signature()`` (the signature of ``corpus_bleu(...)`` results or
of ``.format(signature=True)`` is wrong in sacrebleu 2.6): default settings, mixed case, ``13a``
tokenisation, exponential smoothing, one reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

__all__ = ["Scores", "bleu_by_length", "corpus_scores", "length_edges"]


@dataclass
class Scores:
    """BLEU and chrF of a corpus, with sacrebleu's signatures."""

    bleu: float
    chrf: float
    bleu_signature: str
    chrf_signature: str
    n: int

    def lines(self) -> list[str]:
        return [
            f"BLEU = {self.bleu:.2f}  ({self.n} sentences; sacrebleu {self.bleu_signature})",
            f"chrF = {self.chrf:.2f}  (sacrebleu {self.chrf_signature})",
        ]


def _check(hypotheses: Sequence[str], references: Sequence[str]) -> None:
    if len(hypotheses) != len(references):
        raise ValueError(f"got {len(hypotheses)} hypotheses but {len(references)} references; they must pair up")
    if not hypotheses:
        raise ValueError("cannot score an empty corpus")


def corpus_scores(hypotheses: Sequence[str], references: Sequence[str]) -> Scores:
    """BLEU and chrF of detokenised ``hypotheses`` against one reference each."""
    from sacrebleu.metrics import BLEU, CHRF

    _check(hypotheses, references)
    bleu, chrf = BLEU(), CHRF()
    bleu_score = bleu.corpus_score(list(hypotheses), [list(references)])
    chrf_score = chrf.corpus_score(list(hypotheses), [list(references)])
    return Scores(bleu_score.score, chrf_score.score, str(bleu.get_signature()), str(chrf.get_signature()), len(hypotheses))


def length_edges(edges: Sequence[int]) -> list[int]:
    """``edges`` as a list of ints if they are increasing whole word counts >= 0, else ``ValueError``."""
    edges = list(edges)
    if not edges or any(int(e) != e for e in edges) or edges[0] < 0 or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ValueError(f"edges must be increasing whole word counts >= 0, like 1,5,10,15,20; got {edges}")
    return [int(e) for e in edges]


def bleu_by_length(
    hypotheses: Sequence[str], references: Sequence[str], sources: Sequence[str], edges: Sequence[int]
) -> list[tuple[str, int, float]]:
    """Corpus BLEU of each bucket of source length in words (Bahdanau et al., 2015, Figure 2).

    Args:
        edges: increasing bucket starts, e.g. ``(1, 5, 10, 15, 20)`` gives 1-4, 5-9, 10-14, 15-19, 20+.

    Returns:
        ``(label, sentences, BLEU)`` per non-empty bucket.
    """
    from sacrebleu.metrics import BLEU

    _check(hypotheses, references)
    if len(sources) != len(hypotheses):
        raise ValueError(f"got {len(sources)} sources for {len(hypotheses)} hypotheses")
    edges = length_edges(edges)
    rows = []
    for k, low in enumerate(edges):
        high = edges[k + 1] if k + 1 < len(edges) else None
        chosen = [
            i for i, s in enumerate(sources) if len(s.split()) >= low and (high is None or len(s.split()) < high)
        ]
        if not chosen:
            continue
        label = f"{low}-{high - 1}" if high is not None else f"{low}+"
        score = BLEU().corpus_score([hypotheses[i] for i in chosen], [[references[i] for i in chosen]]).score
        rows.append((label, len(chosen), score))
    return rows
