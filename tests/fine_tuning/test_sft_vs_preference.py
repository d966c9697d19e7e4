"""SFT raises the rejected answer along with the chosen one when they share tokens;
DPO pushes the rejected answer down, because shared tokens cancel in its loss."""

from __future__ import annotations

import torch
from transformers import LlamaForCausalLM

from snippets.fine_tuning.rlhf import dpo_loss, response_logprobs
from snippets.fine_tuning.sft_vs_preference import CHOSEN, PROMPT, REJECTED, train_on_pair
from snippets.fine_tuning.shapes import TINY, llama_config


def test_sft_lifts_both_answers_dpo_separates_them():
    sft_c, sft_r = train_on_pair("sft")
    dpo_c, dpo_r = train_on_pair("dpo")
    assert sft_c > 0 and sft_r > 0  # no negative signal in SFT
    assert dpo_c > 0 > dpo_r  # DPO pushes the rejected answer down
    assert dpo_c - dpo_r > sft_c - sft_r  # and separates the pair more


def test_dpo_gradient_comes_only_from_tokens_that_differ():
    torch.manual_seed(0)
    model = LlamaForCausalLM(llama_config(TINY))
    chosen, rejected = torch.tensor([CHOSEN]), torch.tensor([REJECTED])
    n = len(CHOSEN)
    full = torch.zeros(1, n)
    full[:, len(PROMPT):] = 1
    last_only = torch.zeros(1, n)
    last_only[:, -1] = 1  # the only position where the answers differ
    ref = torch.zeros(1)

    def grads(mask: torch.Tensor) -> list[torch.Tensor]:
        model.zero_grad()
        loss = dpo_loss(response_logprobs(model, chosen, mask).sum(-1),
                        response_logprobs(model, rejected, mask).sum(-1), ref, ref)
        loss.backward()
        return [p.grad.clone() for p in model.parameters()]

    for a, b in zip(grads(full), grads(last_only), strict=True):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
