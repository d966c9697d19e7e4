"""Activation checkpointing: identical gradients, measurably fewer saved activation bytes.
Fused attention: the same result without saving the (seq x seq) probability matrix."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM

from snippets.training_efficiency.checkpointing import (
    BlockStack,
    attention_saved_bytes,
    checkpointing_effect,
)
from snippets.training_efficiency.memory_measure import saved_activation_bytes

FP32 = 4


def test_checkpointing_gives_identical_gradients():
    assert checkpointing_effect(batch=2, seq=16, dim=32, n_blocks=4)["max grad difference"] == 0


@pytest.mark.parametrize("batch, seq, dim, n_blocks", [(2, 16, 32, 4), (4, 64, 64, 8)])
def test_saved_bytes_closed_form(batch, seq, dim, n_blocks):
    """Without checkpointing each block saves LayerNorm's input and its mean and rstd
    (bsd + 2bs), Linear1's input (bsd), GELU's input (4bsd) and Linear2's input (4bsd).
    With checkpointing each block saves only its input. The loss saves the final output."""
    r = checkpointing_effect(batch, seq, dim, n_blocks)
    bsd, bs = batch * seq * dim, batch * seq
    assert r["plain saved bytes"] == FP32 * (n_blocks * (10 * bsd + 2 * bs) + bsd)
    assert r["checkpointed saved bytes"] == FP32 * (n_blocks + 1) * bsd


def test_checkpointing_does_not_change_outputs():
    torch.manual_seed(0)
    a = BlockStack(16, 3)
    b = BlockStack(16, 3, checkpointed=True)
    b.load_state_dict(a.state_dict())
    x = torch.randn(2, 5, 16)
    assert torch.equal(a(x), b(x))


@pytest.fixture
def one_thread():
    """A fixed thread count, so both runs use the same CPU kernels and reduction order."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_transformers_activation_checkpointing(one_thread):
    """The same trade in a real model: transformers' activation_checkpointing_enable().
    The recomputation repeats the same deterministic CPU kernels on the same inputs, so the
    loss and every gradient are bit-identical, not merely close."""
    cfg = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=4,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg).train()
    ids = torch.randint(0, 64, (2, 32), generator=torch.Generator().manual_seed(1))

    def run() -> tuple[int, torch.Tensor, list[torch.Tensor]]:
        model.zero_grad(set_to_none=True)
        loss, saved = saved_activation_bytes(
            lambda: model(input_ids=ids, labels=ids).loss, exclude=model.parameters())
        loss.backward()
        return saved, loss.detach(), [p.grad.clone() for p in model.parameters()]

    saved_plain, loss_plain, grads_plain = run()
    model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    saved_ckpt, loss_ckpt, grads_ckpt = run()
    assert saved_ckpt < 0.6 * saved_plain
    assert torch.equal(loss_plain, loss_ckpt)
    for g1, g2 in zip(grads_plain, grads_ckpt, strict=True):
        assert torch.equal(g1, g2)


@pytest.mark.parametrize("seq", [64, 256])
def test_attention_saved_bytes(seq):
    heads, head_dim = 4, 16
    saved = attention_saved_bytes(seq, heads, head_dim)
    assert saved["explicit"] == FP32 * heads * seq * seq  # the softmax probabilities
    # the fused kernel keeps its output and one log-sum-exp per query row
    assert saved["fused SDPA"] == FP32 * heads * seq * (head_dim + 1)


def test_fused_attention_matches_explicit_attention():
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 2, 32, 8, generator=gen, requires_grad=True) for _ in range(3))
    mask = torch.full((32, 32), float("-inf")).triu(1)
    ref = torch.softmax(q @ k.transpose(-1, -2) / 8**0.5 + mask, dim=-1) @ v
    fused = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(fused, ref, rtol=1e-5, atol=1e-6)
    g_ref = torch.autograd.grad(ref.sum(), (q, k, v))
    g_fused = torch.autograd.grad(fused.sum(), (q, k, v))
    for a, b in zip(g_ref, g_fused, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
