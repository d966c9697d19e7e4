"""New-token initialisation: Hewitt's KL bound for mean rows, the failure of near-zero rows."""

from __future__ import annotations

import math

import pytest
import torch

from snippets.foundations import vocab_init as vi


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("offset", [0.0, -8.0, 5.0])
def test_mean_rows_keep_kl_below_log_one_plus_k_over_n(seed, offset):
    torch.manual_seed(seed)
    n, k, d = 300, 7, 16
    shared = torch.nn.functional.normalize(torch.randn(d), dim=0)
    lm_head = (torch.randn(n, d) + shared).double()
    hidden = (offset * shared + 2 * torch.randn(50, d)).double()
    kl = vi.kl_after_adding(lm_head, vi.mean_rows(lm_head, k), hidden)
    assert (kl >= -1e-12).all() and (kl <= math.log(1 + k / n) + 1e-12).all()


def test_kl_equals_direct_definition():
    torch.manual_seed(0)
    lm_head, new, hidden = torch.randn(40, 8), torch.randn(3, 8), torch.randn(5, 8)
    p_before = torch.softmax(hidden @ lm_head.T, dim=-1)
    p_after = torch.softmax(hidden @ torch.cat([lm_head, new]).T, dim=-1)[:, :40]
    direct = (p_before * (p_before.log() - p_after.log())).sum(-1)
    torch.testing.assert_close(vi.kl_after_adding(lm_head, new, hidden), direct)


def test_zero_rows_take_most_probability_when_old_logits_are_negative():
    torch.manual_seed(0)
    n, k, d = 1000, 20, 64
    shared = torch.nn.functional.normalize(torch.randn(d), dim=0)
    lm_head = torch.randn(n, d) / math.sqrt(d) + shared
    hidden = -8.0 * shared + torch.randn(200, d)
    assert (hidden @ lm_head.T).max() < 0
    zero_mass = 1 - torch.exp(-vi.kl_after_adding(lm_head, torch.zeros(k, d), hidden))
    mean_mass = 1 - torch.exp(-vi.kl_after_adding(lm_head, vi.mean_rows(lm_head, k), hidden))
    assert zero_mass.mean() > 0.5 and mean_mass.max() < k / n


@pytest.mark.parametrize("mean_resizing", [True, False])
def test_transformers_mean_resizing_starts_new_rows_at_the_old_mean(mean_resizing):
    # transformers' resize_token_embeddings(mean_resizing=True), citing Hewitt, samples the
    # new rows from a normal with the old rows' mean and their covariance scaled by 1e-9
    # (modeling_utils._init_added_embeddings_weights_with_mean): in effect every new row is
    # mean_rows(old). With mean_resizing=False they are N(0, 0.02^2) noise instead.
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(vocab_size=64, n_embd=16, n_layer=1, n_head=2, n_positions=8)
    model = GPT2LMHeadModel(config)
    with torch.no_grad():
        model.get_input_embeddings().weight += 0.5  # move the old mean away from zero
    old = model.get_input_embeddings().weight.detach().clone()
    model.resize_token_embeddings(64 + 50, mean_resizing=mean_resizing)
    weight = model.get_input_embeddings().weight.detach()
    assert torch.equal(weight[:64], old)  # the old rows are kept as they were
    at_mean = torch.allclose(weight[64:], vi.mean_rows(old, 50), atol=1e-4, rtol=0)
    assert at_mean == mean_resizing


def test_mean_of_pieces_averages_the_old_rows():
    weight = torch.arange(12.0).reshape(6, 2)
    rows = vi.mean_of_pieces(weight, [[0, 1, 2], [5]])
    torch.testing.assert_close(rows, torch.tensor([[2.0, 3.0], [10.0, 11.0]]))
