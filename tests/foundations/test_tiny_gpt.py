"""The lab's tiny GPT: attention equals PyTorch's, the model is causal, and it learns."""

from __future__ import annotations

import math

import pytest
import torch
from scipy.stats import entropy
from torch import nn

from snippets.foundations import tiny_gpt as tg


def test_attention_equals_nn_multihead_attention_and_sdpa():
    torch.manual_seed(0)
    d, heads, n = 32, 4, 10
    ours = tg.CausalSelfAttention(d, heads)
    ref = nn.MultiheadAttention(d, heads, batch_first=True)
    with torch.no_grad():  # same weights: nn.MultiheadAttention stacks q, k, v the same way
        ref.in_proj_weight.copy_(ours.qkv.weight)
        ref.in_proj_bias.copy_(ours.qkv.bias)
        ref.out_proj.weight.copy_(ours.out.weight)
        ref.out_proj.bias.copy_(ours.out.bias)
    x = torch.randn(3, n, d)
    future = torch.ones(n, n, dtype=torch.bool).triu(diagonal=1)  # True = may not attend
    expected, _ = ref(x, x, x, attn_mask=future, need_weights=False)
    torch.testing.assert_close(ours(x), expected)

    q, k, v = ours.qkv(x).split(d, dim=-1)
    q, k, v = (t.view(3, n, heads, d // heads).transpose(1, 2) for t in (q, k, v))
    sdpa = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    torch.testing.assert_close(ours(x), ours.out(sdpa.transpose(1, 2).reshape(3, n, d)))
    assert ours.weights.shape == (3, heads, n, n)
    assert (ours.weights[..., future] == 0).all()
    torch.testing.assert_close(ours.weights.sum(-1), torch.ones(3, heads, n))


def test_model_is_causal():
    torch.manual_seed(0)
    model = tg.TinyGPT(vocab=20, d_model=32, n_heads=4, n_layers=2, context=12).eval()
    ids = torch.randint(0, 20, (1, 12))
    base = model(ids)
    for t in (3, 7, 11):
        changed = ids.clone()
        changed[0, t] = (changed[0, t] + 1) % 20
        diff = (model(changed) - base)[0].abs().amax(dim=-1)
        assert (diff[:t] == 0).all() and (diff[t:] > 1e-6).all()


def test_initial_loss_is_log_vocab_and_loss_falls_on_a_fixed_batch():
    torch.manual_seed(0)
    vocab = 40
    model = tg.TinyGPT(vocab, d_model=32, n_heads=4, n_layers=2, context=16)
    x = torch.randint(0, vocab, (8, 16))
    y = torch.roll(x, -1, dims=1)
    first = tg.lm_loss(model, x, y).item()
    assert abs(first - math.log(vocab)) < 0.05  # small init: near-uniform predictions
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(60):
        loss = tg.lm_loss(model, x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.5 * first


def test_training_and_sampling_are_deterministic():
    text = "the cat sat on the mat. " * 20
    vocab = tg.CharVocab(text)
    data = vocab.encode(text)
    assert vocab.decode(data) == text
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = tg.TinyGPT(len(vocab.chars), d_model=16, n_heads=2, n_layers=1, context=8)
        losses = tg.train(model, data, steps=3, batch_size=4)
        runs.append((losses, tg.sample(model, vocab.encode("the "), 10).tolist()))
    assert runs[0] == runs[1]


def test_batches_are_shifted_windows():
    data = torch.arange(100)
    x, y = tg.batch(data, context=8, size=5, gen=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 8)
    assert torch.equal(y, x + 1)  # the target of position i is the token at i + 1


def test_ngram_entropies_equal_scipy():
    gen = torch.Generator().manual_seed(0)
    data = torch.randint(0, 6, (2000,), generator=gen)
    data[1::2] = (data[::2] + 1) % 6  # odd positions follow from even ones
    h1, h2 = tg.ngram_entropy(data, 6)
    assert h1 == pytest.approx(entropy(torch.bincount(data, minlength=6).numpy()))
    pair_counts = torch.zeros(6, 6)
    for a, b in zip(data[:-1].tolist(), data[1:].tolist(), strict=True):
        pair_counts[a, b] += 1
    rows = pair_counts.sum(1)
    conditional = sum(rows[a] / rows.sum() * entropy(pair_counts[a].numpy()) for a in range(6))
    assert h2 == pytest.approx(float(conditional))
    assert h2 < h1


def test_guide_text_keeps_prose_and_drops_markup(tmp_path):
    page = tmp_path / "en" / "s" / "p.md"
    page.parent.mkdir(parents=True)
    page.write_text(
        "---\ntitle: T\n---\n\n# Heading { #h }\n\n!!! abstract \"Short answer\"\n"
        "    The **KV cache** stores [keys](x.md#k) and $d$ values.\n\n"
        "```python\nprint('code')\n```\n\n$$\na = b\n$$\n\n*[KV]: key value\n",
        encoding="utf-8")
    text = tg.guide_text(docs=tmp_path)
    assert text == "Heading The KV cache stores keys and values."
