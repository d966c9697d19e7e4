"""Causal LM: later tokens never change earlier outputs. Prefix LM: inside the prefix they do."""

from __future__ import annotations

import torch
from transformers.masking_utils import (
    blockwise_overlay,
    causal_mask_function,
    or_masks,
    sdpa_mask,
)

from snippets.architectures import masks

VOCAB, N, PREFIX = 50, 8, 5


def ids(n: int = N, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, VOCAB, (1, n), generator=torch.Generator().manual_seed(seed))


def test_masks_equal_transformers_mask_functions() -> None:
    causal = sdpa_mask(batch_size=1, q_length=N, kv_length=N, allow_is_causal_skip=False)
    assert torch.equal(masks.causal_mask(N), causal[0, 0])
    # prefix LM as transformers builds it for image-prefix models: causal OR same block
    block_ids = torch.tensor([[0] * PREFIX + [-1] * (N - PREFIX)])
    prefix = sdpa_mask(batch_size=1, q_length=N, kv_length=N, allow_is_causal_skip=False,
                       mask_function=or_masks(causal_mask_function, blockwise_overlay(block_ids)))
    assert torch.equal(masks.prefix_lm_mask(N, PREFIX), prefix[0, 0])


def test_causal_llama_never_lets_a_later_token_change_an_earlier_output() -> None:
    model = masks.tiny_llama(vocab=VOCAB)

    def hidden(x: torch.Tensor) -> torch.Tensor:  # transformers' own causal mask
        with torch.no_grad():
            return model(x).last_hidden_state

    dep = masks.dependence(hidden, ids(), VOCAB)
    i, j = torch.triu_indices(N, N, offset=1)
    assert not dep[i, j].any()  # nothing above the diagonal
    assert dep.tril().sum() == N * (N + 1) // 2  # and everything on or below it


def test_prefix_lm_lets_later_prefix_tokens_change_earlier_outputs() -> None:
    model = masks.tiny_llama(vocab=VOCAB)
    dep = masks.dependence(masks.hidden_with_mask(model, masks.prefix_lm_mask(N, PREFIX)),
                           ids(), VOCAB)
    assert dep[:PREFIX, :PREFIX].all()  # e.g. token 4 changes output 0
    assert not dep[:PREFIX, PREFIX:].any()  # the targets never change the prefix
    for i in range(PREFIX, N):  # the target part stays causal
        assert dep[i, : i + 1].all() and not dep[i, i + 1 :].any()


def test_causal_outputs_of_a_prefix_survive_appending_tokens() -> None:
    """Why a KV cache is exact for a causal LM and not for a growing bidirectional prefix."""
    model = masks.tiny_llama(vocab=VOCAB)
    full = ids(N)
    short = full[:, :PREFIX]
    with torch.no_grad():
        h_short = model(short).last_hidden_state
        h_full = model(full).last_hidden_state
    torch.testing.assert_close(h_full[:, :PREFIX], h_short, atol=1e-5, rtol=1e-5)
    # prefix LM: extend the prefix by the appended tokens (a new user turn)
    h_short_p = masks.hidden_with_mask(model, masks.prefix_lm_mask(PREFIX, PREFIX))(short)
    h_full_p = masks.hidden_with_mask(model, masks.prefix_lm_mask(N, N))(full)
    assert (h_full_p[:, :PREFIX] - h_short_p).abs().max() > 1e-3


def test_loss_mask_trains_only_predictions_of_target_tokens() -> None:
    trained = masks.loss_mask(N, PREFIX)
    expected = [PREFIX <= i + 1 < N for i in range(N)]  # position i predicts token i + 1
    assert trained.tolist() == expected
