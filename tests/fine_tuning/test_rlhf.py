"""RLHF, PPO, DPO and GRPO losses against independent computations, and gradient steps
on a tiny LLaMA that must move the policy in the intended direction."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from transformers import LlamaForCausalLM, LlamaForSequenceClassification

from snippets.fine_tuning.rlhf import (
    dpo_loss,
    gae,
    grpo_advantages,
    k3_kl,
    kl_penalised_rewards,
    ppo_policy_loss,
    response_logprobs,
    reward_model_loss,
)
from snippets.fine_tuning.shapes import TINY, llama_config

PROMPT = 4


def policy() -> LlamaForCausalLM:
    torch.manual_seed(0)
    return LlamaForCausalLM(llama_config(TINY))


def batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(1, TINY.vocab_size, (2, 9), generator=torch.Generator().manual_seed(seed))
    mask = torch.zeros_like(ids, dtype=torch.float)
    mask[:, PROMPT:] = 1
    return ids, mask


def test_response_logprobs_match_per_token_cross_entropy():
    model = policy().eval()
    ids, mask = batch()
    with torch.no_grad():
        got = response_logprobs(model, ids, mask)
        logits = model(input_ids=ids).logits
    for b in range(2):
        for t in range(ids.shape[1] - 1):
            expected = -F.cross_entropy(logits[b, t], ids[b, t + 1]) if t + 1 >= PROMPT else 0.0
            torch.testing.assert_close(got[b, t], torch.as_tensor(expected), atol=1e-5, rtol=1e-5)


# --- reward model ---------------------------------------------------------------------------

def test_reward_loss_equals_bce_and_closed_form():
    rc, rr = torch.tensor([1.5, -0.3, 0.2]), torch.tensor([0.5, 0.4, 0.2])
    expected = F.binary_cross_entropy_with_logits(rc - rr, torch.ones(3))
    torch.testing.assert_close(reward_model_loss(rc, rr), expected)
    pairs = zip(rc.tolist(), rr.tolist(), strict=True)
    closed = sum(math.log(1 + math.exp(-(c - r))) for c, r in pairs) / 3
    assert reward_model_loss(rc, rr).item() == pytest.approx(closed, rel=1e-6)


def test_reward_model_step_widens_the_margin():
    torch.manual_seed(0)
    config = llama_config(TINY)
    config.num_labels, config.pad_token_id = 1, 0
    rm = LlamaForSequenceClassification(config)  # score read at the last token
    chosen, _ = batch(1)
    rejected, _ = batch(2)
    opt = torch.optim.SGD(rm.parameters(), lr=0.1)

    def margin() -> torch.Tensor:
        return (rm(input_ids=chosen).logits - rm(input_ids=rejected).logits).squeeze(-1)

    before = margin().detach()
    loss = reward_model_loss(rm(input_ids=chosen).logits.squeeze(-1),
                             rm(input_ids=rejected).logits.squeeze(-1))
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert torch.all(margin().detach() > before)


# --- PPO ------------------------------------------------------------------------------------

def test_kl_penalised_rewards_match_a_loop():
    g = torch.Generator().manual_seed(0)
    logp, ref = torch.randn(2, 6, generator=g), torch.randn(2, 6, generator=g)
    mask = torch.tensor([[0, 0, 1, 1, 1, 0], [0, 1, 1, 1, 1, 1]], dtype=torch.float)
    score, beta = torch.tensor([2.0, -1.0]), 0.1
    got = kl_penalised_rewards(score, logp, ref, mask, beta)
    for b in range(2):
        idx = [t for t in range(6) if mask[b, t]]
        for t in range(6):
            expected = -beta * (logp[b, t] - ref[b, t]) if t in idx else 0.0
            if t == idx[-1]:
                expected = expected + score[b]
            torch.testing.assert_close(got[b, t], torch.as_tensor(expected))


def test_gae_matches_the_discounted_sum_of_td_errors():
    g = torch.Generator().manual_seed(0)
    rewards, values = torch.randn(2, 5, generator=g), torch.randn(2, 5, generator=g)
    mask = torch.tensor([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]], dtype=torch.float)
    gamma, lam = 0.9, 0.8
    adv, returns = gae(rewards, values, mask, gamma, lam)
    for b in range(2):
        n = int(mask[b].sum())
        v = values[b, :n].tolist() + [0.0]
        deltas = [rewards[b, t].item() + gamma * v[t + 1] - v[t] for t in range(n)]
        for t in range(n):
            expected = sum((gamma * lam) ** k * deltas[t + k] for k in range(n - t))
            assert adv[b, t].item() == pytest.approx(expected, rel=1e-5, abs=1e-6)
        assert torch.all(adv[b, n:] == 0)
    torch.testing.assert_close(returns, adv + values)


@pytest.mark.parametrize("advantage", [1.0, -1.0])
@pytest.mark.parametrize("ratio", [0.5, 0.9, 1.0, 1.1, 1.5])
def test_ppo_loss_is_the_clipped_surrogate(ratio, advantage):
    eps = 0.2
    logp = torch.log(torch.tensor([[ratio]])).requires_grad_(True)
    adv = torch.tensor([[advantage]])
    loss = ppo_policy_loss(logp, torch.zeros(1, 1), adv, torch.ones(1, 1), eps)
    # brute force: pessimistic bound of the surrogate
    expected = -min(ratio * advantage, min(max(ratio, 1 - eps), 1 + eps) * advantage)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    loss.backward()
    clipped_away = (advantage > 0 and ratio > 1 + eps) or (advantage < 0 and ratio < 1 - eps)
    assert (logp.grad.abs().item() == 0) == clipped_away


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_ppo_step_moves_logprobs_with_the_advantage(sign):
    model = policy()
    ids, mask = batch()
    with torch.no_grad():
        old = response_logprobs(model, ids, mask)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    logp = response_logprobs(model, ids, mask)
    loss = ppo_policy_loss(logp, old, sign * torch.ones_like(old), mask[:, 1:])
    opt.zero_grad()
    loss.backward()
    opt.step()
    with torch.no_grad():
        new = response_logprobs(model, ids, mask)
    change = (new - old).sum().item()
    assert change * sign > 0


# --- DPO ------------------------------------------------------------------------------------

def test_dpo_loss_matches_the_formula():
    g = torch.Generator().manual_seed(0)
    pc, pr, rc, rr = (torch.randn(3, generator=g) for _ in range(4))
    beta = 0.2
    logits = beta * ((pc - rc) - (pr - rr))
    expected = torch.log1p(torch.exp(-logits)).mean()
    torch.testing.assert_close(dpo_loss(pc, pr, rc, rr, beta), expected)
    zeros = torch.zeros(3)
    assert dpo_loss(zeros, zeros, zeros, zeros).item() == pytest.approx(math.log(2))


def test_dpo_step_prefers_the_chosen_response():
    model = policy()
    reference = copy.deepcopy(model).requires_grad_(False)
    chosen, mask = batch(1)
    rejected, _ = batch(2)
    with torch.no_grad():
        ref_c = response_logprobs(reference, chosen, mask).sum(-1)
        ref_r = response_logprobs(reference, rejected, mask).sum(-1)

    def margin() -> torch.Tensor:
        pc = response_logprobs(model, chosen, mask).sum(-1)
        pr = response_logprobs(model, rejected, mask).sum(-1)
        return (pc - ref_c) - (pr - ref_r), pc, pr

    m0, pc, pr = margin()
    assert torch.allclose(m0, torch.zeros(2), atol=1e-5)  # starts at the reference
    loss = dpo_loss(pc, pr, ref_c, ref_r, beta=0.1)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    opt.zero_grad()
    loss.backward()
    opt.step()
    m1, _, _ = margin()
    assert torch.all(m1.detach() > 0)


# --- GRPO -----------------------------------------------------------------------------------

def test_grpo_advantages_are_standardised_within_each_group():
    rewards = torch.tensor([[1.0, 0.0, 0.0, 1.0], [0.2, 0.9, 0.4, 0.5]])
    adv = grpo_advantages(rewards)
    for row, r in zip(adv, rewards, strict=True):
        mean = r.mean().item()
        std = math.sqrt(sum((x - mean) ** 2 for x in r.tolist()) / 3)  # unbiased, G - 1
        expected = [(x - mean) / (std + 1e-6) for x in r.tolist()]
        assert row.tolist() == pytest.approx(expected, rel=1e-5)


def test_k3_is_nonnegative_and_unbiased_for_kl():
    g = torch.Generator().manual_seed(0)
    p = torch.softmax(torch.randn(7, generator=g), 0)
    q = torch.softmax(torch.randn(7, generator=g), 0)
    per_token = k3_kl(p.log(), q.log())
    assert torch.all(per_token >= 0)
    exact_kl = torch.sum(p * (p.log() - q.log()))  # KL(pi || pi_ref)
    torch.testing.assert_close(torch.sum(p * per_token), exact_kl)  # E_{a ~ pi}[k3] = KL


def test_k3_is_biased_when_tokens_come_from_pi_old():
    """GRPO evaluates k3 on tokens sampled from pi_old. Once pi has moved, the plain average
    is no longer KL(pi || pi_ref); weighting each token by pi / pi_old makes it exact again."""
    g = torch.Generator().manual_seed(1)
    p_old = torch.softmax(torch.randn(7, generator=g), 0)
    p = torch.softmax(p_old.log() + 0.5 * torch.randn(7, generator=g), 0)  # after some updates
    q = torch.softmax(torch.randn(7, generator=g), 0)
    per_token = k3_kl(p.log(), q.log())
    exact_kl = torch.sum(p * (p.log() - q.log()))
    biased = torch.sum(p_old * per_token)  # E_{a ~ pi_old}[k3]
    assert abs(biased - exact_kl) > 0.01 * exact_kl
    torch.testing.assert_close(torch.sum(p_old * (p / p_old) * per_token), exact_kl)
    # at the first update of a batch pi = pi_old and the plain average is exact
    torch.testing.assert_close(torch.sum(p_old * k3_kl(p_old.log(), q.log())),
                               torch.sum(p_old * (p_old.log() - q.log())))
