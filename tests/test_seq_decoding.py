"""Greedy and beam search: beam 1 is greedy, batching changes nothing, scores are the model's."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from seq_attention.decoding import beam_search, greedy_decode
from seq_attention.models import MODELS, ModelConfig, build_model
from seq_attention.tokenize import BOS, EOS, PAD

V = 12


def random_model(name: str, seed: int = 0):
    torch.manual_seed(seed)
    config = ModelConfig(
        model=name, src_vocab=V, tgt_vocab=V, embed_size=8, hidden_size=12, attention_size=6, layers=1, heads=2, dropout=0.0
    )
    model = build_model(config).eval()
    with torch.no_grad():  # make EOS rare so that hypotheses have some length
        output = model.decoder.output if hasattr(model, "decoder") else model.output
        output.bias[EOS] = -2.0
    return model


def sources(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([6, 2, 4, 5])
    src = torch.randint(4, V, (4, 6), generator=g)
    for b, n in enumerate(lengths.tolist()):
        src[b, n - 1] = EOS
        src[b, n:] = PAD
    return src, lengths


@torch.no_grad()
def sequence_log_prob(model, src, lengths, tokens: list[int], ends: bool) -> float:
    """Teacher-forced log-probability of ``tokens`` (and EOS if ``ends``) for one source."""
    target = tokens + ([EOS] if ends else [])
    tgt_in = torch.tensor([[BOS] + target[:-1]])
    logits, _ = model(src, lengths, tgt_in)
    return float(F.log_softmax(logits[0], -1).gather(1, torch.tensor(target).unsqueeze(1)).sum())


@pytest.mark.parametrize("name", MODELS)
def test_beam_of_one_is_greedy(name):
    model = random_model(name)
    src, lengths = sources()
    greedy = greedy_decode(model, src, lengths)
    beam = beam_search(model, src, lengths, beam=1, length_penalty=0.7)
    assert [g.tokens for g in greedy] == [b.tokens for b in beam]
    for g, b in zip(greedy, beam):
        assert g.score == pytest.approx(b.score, abs=1e-4)


@pytest.mark.parametrize("name", ["bahdanau", "transformer"])
def test_batched_beam_search_equals_one_sentence_at_a_time(name):
    model = random_model(name, seed=1)
    src, lengths = sources(1)
    batched = beam_search(model, src, lengths, beam=3)
    for b in range(src.shape[0]):
        n = int(lengths[b])
        (alone,) = beam_search(model, src[b : b + 1, :n], lengths[b : b + 1], beam=3)
        assert alone.tokens == batched[b].tokens
        assert alone.score == pytest.approx(batched[b].score, abs=1e-4)


@pytest.mark.parametrize("name", ["rnnencdec", "luong-general", "transformer"])
def test_beam_scores_are_the_model_log_probabilities(name):
    model = random_model(name, seed=2)
    src, lengths = sources(2)
    for b, hyp in enumerate(beam_search(model, src, lengths, beam=4, length_penalty=0.0, max_len_b=6)):
        n = int(lengths[b])
        ends = len(hyp.tokens) < int(1.5 * n + 6)  # stopped before the length limit: it produced EOS
        expected = sequence_log_prob(model, src[b : b + 1, :n], lengths[b : b + 1], hyp.tokens, ends)
        assert hyp.score == pytest.approx(expected, abs=1e-4)


def test_wider_beam_finds_at_least_as_probable_translations_on_average():
    model = random_model("bahdanau", seed=3)
    src, lengths = sources(3)
    narrow = sum(h.score for h in beam_search(model, src, lengths, beam=1, length_penalty=0.0))
    wide = sum(h.score for h in beam_search(model, src, lengths, beam=6, length_penalty=0.0))
    assert wide >= narrow - 1e-4


def test_length_limit_and_attention_shapes():
    model = random_model("bahdanau", seed=4)
    src, lengths = sources(4)
    for decode in (
        lambda: greedy_decode(model, src, lengths, max_len_a=0.0, max_len_b=3, return_attention=True),
        lambda: beam_search(model, src, lengths, beam=2, max_len_a=0.0, max_len_b=3, return_attention=True),
    ):
        for b, hyp in enumerate(decode()):
            assert len(hyp.tokens) <= 3
            produced = len(hyp.tokens) + (1 if len(hyp.tokens) < 3 else 0)
            assert hyp.attention.shape == (produced, int(lengths[b]))
            torch.testing.assert_close(hyp.attention.sum(-1), torch.ones(produced))


def test_beam_width_is_checked():
    model = random_model("bahdanau")
    src, lengths = sources()
    with pytest.raises(ValueError, match="beam must be a positive integer"):
        beam_search(model, src, lengths, beam=0)
