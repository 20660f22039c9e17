"""Attention modules: masks, shapes, normalisation, agreement with torch's fused and reference code."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from seq_attention.attention import (
    ATTENTIONS,
    AdditiveAttention,
    DotAttention,
    GeneralAttention,
    MultiHeadAttention,
    ScaledDotProductAttention,
    build_attention,
    masked_softmax,
    scaled_dot_product_attention,
)

B, T, S, D = 3, 4, 6, 8


def padding_mask(lengths: list[int], S: int) -> torch.Tensor:
    """``(B, S)``: True on the first ``lengths[b]`` positions."""
    return torch.arange(S).unsqueeze(0) < torch.as_tensor(lengths).unsqueeze(1)


def make(name: str) -> nn.Module:
    torch.manual_seed(0)
    return build_attention(name, D, D, attention_size=5)


@pytest.mark.parametrize("name", ATTENTIONS)
def test_one_step_shapes_weights_sum_to_one_and_padding_gets_zero(name):
    attention = make(name)
    g = torch.Generator().manual_seed(1)
    query, keys, values = torch.randn(B, D, generator=g), torch.randn(B, S, D, generator=g), torch.randn(B, S, 3, generator=g)
    mask = padding_mask([6, 3, 1], S)
    context, weights = attention(query, keys, values, mask)
    assert context.shape == (B, 3) and weights.shape == (B, S)
    torch.testing.assert_close(weights.sum(-1), torch.ones(B))
    assert torch.all(weights[~mask] == 0)
    assert torch.all(weights[mask] > 0)
    torch.testing.assert_close(context, torch.einsum("bs,bsv->bv", weights, values))


@pytest.mark.parametrize("name", ATTENTIONS)
def test_sequence_of_queries_equals_one_step_at_a_time(name):
    attention = make(name)
    g = torch.Generator().manual_seed(2)
    query, keys = torch.randn(B, T, D, generator=g), torch.randn(B, S, D, generator=g)
    mask = padding_mask([2, 6, 4], S)
    context, weights = attention(query, keys, keys, mask.unsqueeze(1))
    assert context.shape == (B, T, D) and weights.shape == (B, T, S)
    for t in range(T):
        c_t, w_t = attention(query[:, t], keys, keys, mask)
        torch.testing.assert_close(c_t, context[:, t])
        torch.testing.assert_close(w_t, weights[:, t])


@pytest.mark.parametrize("name", ATTENTIONS)
def test_prepared_keys_give_the_same_result(name):
    attention = make(name)
    query, keys = torch.randn(B, D), torch.randn(B, S, D)
    expected = attention(query, keys, keys)
    prepared = attention.prepare_keys(keys)
    got = attention(query, keys, keys, prepared_keys=prepared)
    torch.testing.assert_close(got[0], expected[0])
    torch.testing.assert_close(got[1], expected[1])


@pytest.mark.parametrize("name", ATTENTIONS)
def test_fully_masked_row_gives_zeros_and_finite_gradients(name):
    attention = make(name)
    query = torch.randn(B, D, requires_grad=True)
    keys = torch.randn(B, S, D, requires_grad=True)
    mask = padding_mask([3, 0, 6], S)  # the second sentence is all padding
    context, weights = attention(query, keys, keys, mask)
    assert torch.all(weights[1] == 0) and torch.all(context[1] == 0)
    assert torch.isfinite(weights).all() and torch.isfinite(context).all()
    context.sum().backward()
    assert torch.isfinite(query.grad).all() and torch.isfinite(keys.grad).all()


def test_masked_softmax_rejects_a_non_boolean_mask():
    with pytest.raises(TypeError, match="boolean"):
        masked_softmax(torch.randn(2, 3), torch.ones(2, 3))


def test_scores_follow_their_equations():
    torch.manual_seed(0)
    q, k = torch.randn(B, D), torch.randn(B, S, D)
    _, w = DotAttention()(q, k, k)
    torch.testing.assert_close(w, torch.softmax(torch.einsum("bd,bsd->bs", q, k), -1))
    _, w = ScaledDotProductAttention()(q, k, k)
    torch.testing.assert_close(w, torch.softmax(torch.einsum("bd,bsd->bs", q, k) / D**0.5, -1))
    general = GeneralAttention(D, 5)
    k5 = torch.randn(B, S, 5)
    _, w = general(q, k5, k5)
    torch.testing.assert_close(w, torch.softmax(torch.einsum("bd,de,bse->bs", q, general.key_layer.weight, k5), -1))
    additive = AdditiveAttention(D, 5, 7)
    _, w = additive(q, k5, k5)
    hidden = torch.tanh(additive.query_layer(q).unsqueeze(1) + additive.key_layer(k5))
    torch.testing.assert_close(w, torch.softmax(additive.energy_layer(hidden).squeeze(-1), -1))
    assert all(layer.bias is None for layer in (additive.query_layer, additive.key_layer, additive.energy_layer))


def test_gradients_reach_every_parameter_and_input():
    for attention in (AdditiveAttention(D, D, 5), GeneralAttention(D, D), MultiHeadAttention(D, 2)):
        query = torch.randn(B, T, D, requires_grad=True)
        keys = torch.randn(B, S, D, requires_grad=True)
        out, _ = attention(query, keys, keys, padding_mask([6, 2, 4], S).unsqueeze(1))
        out.square().sum().backward()
        for name, p in attention.named_parameters():
            assert p.grad is not None and p.grad.abs().sum() > 0, name
        assert query.grad.abs().sum() > 0 and keys.grad.abs().sum() > 0


def test_build_attention_rejects_unknown_names_and_mismatched_widths():
    with pytest.raises(ValueError, match="unknown attention 'cosine'.*additive"):
        build_attention("cosine", D, D)
    with pytest.raises(ValueError, match="query_size == key_size"):
        build_attention("dot", D, D + 1)
    with pytest.raises(ValueError, match="same width"):
        DotAttention()(torch.randn(B, D), torch.randn(B, S, D + 1), torch.randn(B, S, D + 1))


def random_mask(*shape: int, seed: int = 0) -> torch.Tensor:
    """Boolean mask with at least one True per row (the fused kernel gives NaN on empty rows)."""
    mask = torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) > 0.4
    mask[..., 0] = True
    return mask


@pytest.mark.parametrize("mask_shape", [None, (B, 1, 1, S), (T, S), (B, 1, T, S), (B, 2, T, S)])
def test_scaled_dot_product_attention_matches_torch(mask_shape):
    g = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(B, 2, n, D, generator=g) for n in (T, S, S))
    mask = None if mask_shape is None else random_mask(*mask_shape)
    context, weights = scaled_dot_product_attention(q, k, v, mask)
    torch.testing.assert_close(context, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
    assert weights.shape == (B, 2, T, S)
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, 2, T))


def test_scaled_dot_product_attention_fully_masked_row_is_zero():
    q, k, v = torch.randn(1, T, D), torch.randn(1, S, D), torch.randn(1, S, D)
    mask = torch.ones(T, S, dtype=torch.bool)
    mask[2] = False
    context, weights = scaled_dot_product_attention(q, k, v, mask)
    assert torch.all(context[0, 2] == 0) and torch.all(weights[0, 2] == 0)
    assert torch.isfinite(context).all()


def torch_mha_with_our_weights(ours: MultiHeadAttention) -> nn.MultiheadAttention:
    theirs = nn.MultiheadAttention(ours.embed_dim, ours.num_heads, batch_first=True)
    with torch.no_grad():
        theirs.in_proj_weight.copy_(torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight]))
        theirs.in_proj_bias.copy_(torch.cat([ours.q_proj.bias, ours.k_proj.bias, ours.v_proj.bias]))
        theirs.out_proj.weight.copy_(ours.out_proj.weight)
        theirs.out_proj.bias.copy_(ours.out_proj.bias)
    return theirs.eval()


def test_multi_head_attention_matches_torch_given_the_same_weights():
    torch.manual_seed(0)
    ours = MultiHeadAttention(D, num_heads=2).eval()
    theirs = torch_mha_with_our_weights(ours)
    query, key = torch.randn(B, T, D), torch.randn(B, S, D)
    key_padding = padding_mask([6, 2, 5], S)  # (B, S), True = real token
    causal = random_mask(T, S, seed=4)
    out, weights = ours(query, key, key, key_padding.unsqueeze(1) & causal)
    # torch's masks mean "blocked": pass the complements
    expected, expected_weights = theirs(query, key, key, key_padding_mask=~key_padding, attn_mask=~causal)
    torch.testing.assert_close(out, expected)
    assert weights.shape == (B, 2, T, S)
    torch.testing.assert_close(weights.mean(1), expected_weights)


def test_multi_head_attention_fused_path_matches_the_readable_one():
    torch.manual_seed(0)
    attention = MultiHeadAttention(D, num_heads=4).eval()
    query, key = torch.randn(B, T, D), torch.randn(B, S, D)
    mask = random_mask(B, T, S, seed=5)
    readable, weights = attention(query, key, key, mask)
    fused, none = attention(query, key, key, mask, need_weights=False)
    torch.testing.assert_close(fused, readable)
    assert none is None and weights.shape == (B, 4, T, S)


def test_multi_head_attention_rejects_indivisible_width():
    with pytest.raises(ValueError, match="divisible by num_heads"):
        MultiHeadAttention(10, 4)
