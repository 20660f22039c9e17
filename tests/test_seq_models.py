"""Translation models: shapes, padding, teacher forcing equals step-by-step decoding, the agents core."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from agents.core import CoreNetwork
from seq_attention.models import MODELS, ModelConfig, RNNSeq2Seq, build_model, count_parameters
from seq_attention.tokenize import BOS, EOS, PAD

V_SRC, V_TGT = 30, 25


def tiny(model: str, **overrides) -> torch.nn.Module:
    torch.manual_seed(0)
    sizes = dict(embed_size=8, hidden_size=12, attention_size=6, layers=2, heads=2, dropout=0.0)
    config = ModelConfig(model=model, src_vocab=V_SRC, tgt_vocab=V_TGT, **{**sizes, **overrides})
    return build_model(config).eval()


def batch(seed: int = 0):
    """Three sources of lengths 5, 3, 1 (EOS last, PAD after) and targets of lengths 4, 2, 3."""
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(4, V_SRC, (3, 5), generator=g)
    lengths = torch.tensor([5, 3, 1])
    for b, n in enumerate(lengths.tolist()):
        src[b, n - 1] = EOS
        src[b, n:] = PAD
    tgt = torch.randint(4, V_TGT, (3, 4), generator=g)
    tgt[:, 0] = BOS
    tgt[1, 2:] = PAD
    tgt[2, 3:] = PAD
    return src, lengths, tgt


@pytest.mark.parametrize("name", MODELS)
def test_forward_shapes(name):
    model = tiny(name)
    src, lengths, tgt = batch()
    logits, weights = model(src, lengths, tgt) if name != "transformer" else model(src, lengths, tgt, need_weights=True)
    assert logits.shape == (3, 4, V_TGT)
    if name == "rnnencdec":
        assert weights is None
    else:
        assert weights.shape == (3, 4, 5)
        torch.testing.assert_close(weights.sum(-1), torch.ones(3, 4))
        assert torch.all(weights[1, :, 3:] == 0) and torch.all(weights[2, :, 1:] == 0)  # padding gets nothing


@pytest.mark.parametrize("name", MODELS)
def test_teacher_forcing_equals_decoding_step_by_step(name):
    model = tiny(name)
    src, lengths, tgt = batch(1)
    logits, _ = model(src, lengths, tgt)
    memory = model.encode(src, lengths)
    state = model.initial_state(memory)
    for i in range(tgt.shape[1]):
        log_probs, state, _ = model.step(tgt[:, i], state, memory)
        torch.testing.assert_close(log_probs, F.log_softmax(logits[:, i], -1), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_padding_does_not_change_a_sentence(name):
    """A sentence batched with longer ones (so padded) gets the same predictions as alone."""
    model = tiny(name)
    src, lengths, tgt = batch(2)
    logits, _ = model(src, lengths, tgt)
    alone, _ = model(src[1:2, :3], lengths[1:2], tgt[1:2, :2])
    torch.testing.assert_close(alone[0], logits[1, :2], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_scoring_only_the_kept_positions_gives_their_logits(name):
    model = tiny(name)
    src, lengths, tgt = batch(3)
    keep = tgt != PAD  # what the trainer keeps: here 9 of 12 positions
    full, _ = model(src, lengths, tgt)
    kept, _ = model(src, lengths, tgt, keep=keep)
    assert kept.shape == (int(keep.sum()), V_TGT) == (9, V_TGT)
    torch.testing.assert_close(kept, full[keep], atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("name", MODELS)
def test_gradients_reach_every_parameter(name):
    model = tiny(name).train()
    src, lengths, tgt = batch(3)
    logits, _ = model(src, lengths, tgt)
    F.cross_entropy(logits.flatten(0, 1), tgt.flatten(), ignore_index=PAD).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
        if pname not in ("encoder.embedding.weight", "src_embedding.weight"):  # random ids may miss rows, not all
            assert p.grad.abs().sum() > 0, pname


@pytest.mark.parametrize("name", ["rnnencdec", "bahdanau", "luong-dot", "luong-general"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_rnn_decoders_are_driven_by_the_agents_core(name, cell, monkeypatch):
    model = tiny(name, cell=cell)
    assert isinstance(model.decoder.core, CoreNetwork) and model.decoder.core.cell_type == cell
    calls = []
    original = CoreNetwork.step

    def counting_step(self, input_t, state):
        calls.append(input_t.shape)
        return original(self, input_t, state)

    monkeypatch.setattr(CoreNetwork, "step", counting_step)
    src, lengths, tgt = batch()
    model(src, lengths, tgt)
    E, D = 8, 12
    # Bahdanau order and RNNencdec feed [E y; c] (c is D wide), Luong feeds [E y; h~] (h~ is E wide)
    assert calls == [(3, E + (E if name.startswith("luong") else D))] * tgt.shape[1]


def test_transformer_is_causal():
    model = tiny("transformer")
    src, lengths, tgt = batch()
    changed = tgt.clone()
    changed[:, 2:] = 7
    a, _ = model(src, lengths, tgt)
    b, _ = model(src, lengths, changed)
    torch.testing.assert_close(a[:, :2], b[:, :2])
    assert not torch.allclose(a[:, 2:], b[:, 2:])


def test_transformer_decoding_cache_grows_one_position_a_step_and_keeps_the_weights():
    model = tiny("transformer")  # 2 layers, 2 heads of E/H = 4
    src, lengths, tgt = batch(3)
    _, weights = model(src, lengths, tgt, need_weights=True)  # (B, T, S)
    memory = model.encode(src, lengths)
    assert memory.prepared_keys.shape == (3, 2, 2, 2, 5, 4)  # (B, layers, keys and values, H, S, E/H)
    state = model.initial_state(memory)
    assert len(state) == 2 * 2
    for i in range(tgt.shape[1]):
        log_probs, state, step_weights = model.step(tgt[:, i], state, memory)
        for layer in range(2):
            past_k, past_v = state[2 * layer : 2 * layer + 2]
            assert past_k.shape == past_v.shape == (3, 2, i + 1, 4)
        torch.testing.assert_close(step_weights, weights[:, i], atol=1e-5, rtol=1e-5)


def test_same_sizes_give_comparable_parameter_counts():
    counts = {name: count_parameters(tiny(name, embed_size=16, hidden_size=32)) for name in MODELS}
    assert counts["luong-dot"] < counts["luong-general"]
    assert max(counts.values()) < 3 * min(counts.values())
    assert count_parameters(tiny("bahdanau", embed_size=16, hidden_size=32, tie_embeddings=False)) > counts["bahdanau"]


def test_model_config_rejects_bad_values():
    with pytest.raises(ValueError, match="model must be one of"):
        ModelConfig(model="seq2seq")
    with pytest.raises(ValueError, match="cell must be one of"):
        ModelConfig(cell="transformer")
    with pytest.raises(ValueError, match="hidden_size must be even"):
        ModelConfig(hidden_size=7)
    with pytest.raises(ValueError, match="divisible by heads"):
        ModelConfig(model="transformer", embed_size=10, heads=4)
    with pytest.raises(ValueError, match="dropout"):
        ModelConfig(dropout=1.0)
    with pytest.raises(ValueError, match="use seq_attention.transformer"):
        RNNSeq2Seq(ModelConfig(model="transformer"))
