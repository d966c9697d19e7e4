"""Gradient accumulation equals the full batch only with per-token normalisation."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.loss.loss_utils import ForCausalLMLoss

from snippets.training_efficiency.grad_accum import (
    IGNORE_INDEX,
    TinyTokenModel,
    accumulate_gradients,
    make_batch,
    split_rows,
    token_loss_sum,
    train_step,
)

LENGTHS = [3, 5, 12, 16, 4, 6, 2, 16]


def reference_gradients(model: torch.nn.Module, batch) -> dict[str, torch.Tensor]:
    """Full-batch gradients with PyTorch's own mean reduction (ignores -100 labels)."""
    model.zero_grad(set_to_none=True)
    ids, labels = batch
    logits = model(ids)
    F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE_INDEX).backward()
    return {n: p.grad.clone() for n, p in model.named_parameters()}


def assert_grads_close(a, b, **kw) -> None:
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], **kw)


def grads_differ(a, b, rtol: float = 1e-2) -> bool:
    return any(not torch.allclose(a[k], b[k], rtol=rtol, atol=1e-6) for k in a)


@pytest.fixture
def model() -> TinyTokenModel:
    torch.manual_seed(0)
    return TinyTokenModel()


def test_token_normalisation_equals_full_batch(model):
    batch = make_batch(LENGTHS, seed=1)
    ref = reference_gradients(model, batch)
    for size in (1, 2, 3, 8):  # any split, including an uneven last micro-batch
        got = accumulate_gradients(model, split_rows(batch, size), normalisation="token")
        assert_grads_close(got, ref, rtol=1e-5, atol=1e-7)


def test_micro_batch_mean_is_wrong_when_token_counts_differ(model):
    batch = make_batch(LENGTHS, seed=1)
    ref = reference_gradients(model, batch)
    got = accumulate_gradients(model, split_rows(batch, 2), normalisation="micro_batch_mean")
    assert grads_differ(got, ref)


def test_micro_batch_mean_is_right_when_token_counts_are_equal(model):
    batch = make_batch([7] * 8, seed=3)  # every micro-batch has the same number of tokens
    ref = reference_gradients(model, batch)
    got = accumulate_gradients(model, split_rows(batch, 2), normalisation="micro_batch_mean")
    assert_grads_close(got, ref, rtol=1e-5, atol=1e-7)


def test_accumulated_sgd_step_equals_full_batch_sgd_step(model):
    batch = make_batch(LENGTHS, seed=4)
    twin = copy.deepcopy(model)
    opt_a = torch.optim.SGD(model.parameters(), lr=0.5)
    train_step(model, opt_a, split_rows(batch, 3))

    opt_b = torch.optim.SGD(twin.parameters(), lr=0.5)
    reference_gradients(twin, batch)
    opt_b.step()
    for (_, pa), (_, pb) in zip(model.named_parameters(), twin.named_parameters(), strict=True):
        torch.testing.assert_close(pa, pb, rtol=1e-5, atol=1e-7)


def test_batchnorm_breaks_equivalence_layernorm_does_not():
    batch = make_batch([8] * 8, seed=2)
    torch.manual_seed(0)
    bn = TinyTokenModel(batch_norm=True)
    got = accumulate_gradients(bn, split_rows(batch, 2), normalisation="token")
    assert grads_differ(got, reference_gradients(bn, batch))
    torch.manual_seed(0)
    ln = TinyTokenModel(batch_norm=False)
    got = accumulate_gradients(ln, split_rows(batch, 2), normalisation="token")
    assert_grads_close(got, reference_gradients(ln, batch), rtol=1e-5, atol=1e-7)


def test_token_loss_matches_transformers_causal_lm_loss():
    """Our per-token normalisation is what transformers does with num_items_in_batch."""
    torch.manual_seed(0)
    logits = torch.randn(2, 6, 11)
    labels = torch.randint(0, 11, (2, 6))
    labels[0, 4:] = IGNORE_INDEX
    loss_sum, n = token_loss_sum(logits, labels)
    hf = ForCausalLMLoss(logits, None, vocab_size=11, num_items_in_batch=20, shift_labels=labels)
    torch.testing.assert_close(hf, loss_sum / 20)
    assert n == 10


def test_transformers_llama_accumulation_with_num_items_in_batch():
    """A tiny LLaMA: summing micro-batch losses normalised by the total token count gives the
    full-batch gradient; the per-micro-batch mean does not."""
    cfg = LlamaConfig(
        vocab_size=40, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=32,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg).eval()  # no dropout anyway; eval for clarity
    ids, labels = make_batch([3, 9, 12, 4], vocab=40, seed=5)
    mask = (labels != IGNORE_INDEX).long()

    def grads() -> dict[str, torch.Tensor]:
        return {n: p.grad.clone() for n, p in model.named_parameters()}

    model.zero_grad()
    model(input_ids=ids, attention_mask=mask, labels=labels).loss.backward()
    full = grads()

    parts = [slice(0, 2), slice(2, 4)]
    n_items = int((labels[:, 1:] != IGNORE_INDEX).sum())  # causal LM shifts labels by one
    model.zero_grad()
    for s in parts:
        out = model(input_ids=ids[s], attention_mask=mask[s], labels=labels[s],
                    num_items_in_batch=n_items)
        out.loss.backward()
    assert_grads_close(grads(), full, rtol=1e-4, atol=1e-6)

    model.zero_grad()
    for s in parts:
        out = model(input_ids=ids[s], attention_mask=mask[s], labels=labels[s])
        (out.loss / len(parts)).backward()
    assert grads_differ(grads(), full)
