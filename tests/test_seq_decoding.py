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


def test_translate_refuses_a_bare_string():
    from seq_attention.decoding import translate

    with pytest.raises(TypeError, match="pass \\[sentence\\]"):
        translate(random_model("bahdanau"), "Ein Mann", None, None)


def test_beam_width_is_checked():
    model = random_model("bahdanau")
    src, lengths = sources()
    with pytest.raises(ValueError, match="beam must be a positive integer"):
        beam_search(model, src, lengths, beam=0)


class ScriptedDecoder:
    """A decoder whose next-token distribution is a fixed function of the tokens produced so far:
    first ``a`` 0.70 / EOS 0.25; after ``a``, ``x`` and ``y`` 0.45 each and EOS 0.10; after that,
    EOS only 0.30. The best translation is the empty one (log 0.25), found at step 1."""

    A, X, Y = 4, 5, 6

    def encode(self, src, lengths):
        return (torch.zeros(src.shape[0], src.shape[1], 1),)

    def initial_state(self, memory):
        return (torch.zeros(memory[0].shape[0], 0, dtype=torch.long),)

    def _log_probs(self, produced: tuple[int, ...]) -> torch.Tensor:
        p = torch.full((V,), 1e-6)
        if produced == ():
            p[self.A], p[EOS] = 0.70, 0.25
        elif produced == (self.A,):
            p[self.X], p[self.Y], p[EOS] = 0.45, 0.45, 0.10
        else:
            p[self.A], p[self.X], p[EOS] = 0.35, 0.35, 0.30
        return (p / p.sum()).log()

    def step(self, y, state, memory):
        prefix = torch.cat([state[0], y[:, None]], dim=1)
        rows = [tuple(t for t in row[1:] if t != PAD) for row in prefix.tolist()]
        return torch.stack([self._log_probs(r) for r in rows]), (prefix,), None


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_beam_search_keeps_a_finished_hypothesis_pushed_out_of_the_beam(alpha):
    # with K = 2, [EOS] (0.25) is pushed out at step 2 by "a x" and "a y" (0.315 each), whose
    # endings all score lower; the search must still return it, not what is left in the beam
    src, lengths = torch.tensor([[7, EOS]]), torch.tensor([2])
    (hyp,) = beam_search(ScriptedDecoder(), src, lengths, beam=2, length_penalty=alpha, max_len_a=0.0, max_len_b=10)
    assert hyp.tokens == []
    expected = ScriptedDecoder()._log_probs(())[EOS]
    assert hyp.score == pytest.approx(float(expected), abs=1e-6)
