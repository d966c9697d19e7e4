"""The losses of RLHF and its successors: the pairwise reward-model loss, PPO's clipped
objective with a per-token KL penalty, DPO, and GRPO's group-relative advantages."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers import PreTrainedModel


# --8<-- [start:logprobs]
def response_logprobs(model: PreTrainedModel, input_ids: torch.Tensor,
                      response_mask: torch.Tensor) -> torch.Tensor:
    """log pi(y_t | x, y_<t) for every token, zero outside the response: (B, T - 1).

    Position t of the logits predicts token t + 1, so the mask is shifted by one."""
    logits = model(input_ids=input_ids).logits[:, :-1]
    logp = torch.log_softmax(logits.float(), dim=-1)
    token_logp = logp.gather(-1, input_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    return token_logp * response_mask[:, 1:]
# --8<-- [end:logprobs]


# --8<-- [start:reward_model]
def reward_model_loss(r_chosen: torch.Tensor, r_rejected: torch.Tensor) -> torch.Tensor:
    """Bradley-Terry: P(chosen > rejected) = sigmoid(r_c - r_r); minimise -log of it."""
    return -F.logsigmoid(r_chosen - r_rejected).mean()
# --8<-- [end:reward_model]


# --8<-- [start:ppo]
def kl_penalised_rewards(score: torch.Tensor, logp: torch.Tensor, ref_logp: torch.Tensor,
                         mask: torch.Tensor, beta: float) -> torch.Tensor:
    """Per-token rewards: -beta * (log pi - log pi_ref) on every response token, plus the
    reward model's score on the last one. Shapes: score (B,), the rest (B, T)."""
    rewards = -beta * (logp - ref_logp) * mask
    last = mask.shape[1] - 1 - mask.flip(1).argmax(dim=1)  # index of the last response token
    rewards[torch.arange(len(score)), last] += score
    return rewards


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor,
        gamma: float = 1.0, lam: float = 0.95) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation over the response tokens (right-padded)."""
    advantages = torch.zeros_like(rewards)
    next_value = torch.zeros(rewards.shape[0])
    running = torch.zeros(rewards.shape[0])
    for t in reversed(range(rewards.shape[1])):
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = delta + gamma * lam * running
        advantages[:, t] = running * mask[:, t]
        next_value = values[:, t] * mask[:, t]
        running = running * mask[:, t]
    return advantages, advantages + values  # advantages, returns (value targets)


def ppo_policy_loss(logp: torch.Tensor, old_logp: torch.Tensor, advantages: torch.Tensor,
                    mask: torch.Tensor, clip: float = 0.2) -> torch.Tensor:
    """-min(rho * A, clip(rho, 1 - eps, 1 + eps) * A), averaged over response tokens."""
    ratio = torch.exp(logp - old_logp)
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1 - clip, 1 + clip) * advantages
    return -(torch.minimum(unclipped, clipped) * mask).sum() / mask.sum()
# --8<-- [end:ppo]


# --8<-- [start:dpo]
def dpo_loss(logp_chosen: torch.Tensor, logp_rejected: torch.Tensor,
             ref_chosen: torch.Tensor, ref_rejected: torch.Tensor,
             beta: float = 0.1) -> torch.Tensor:
    """Direct preference optimisation. Inputs are summed response log-probs, shape (B,).

    The implicit reward is beta * log(pi / pi_ref); the loss is the Bradley-Terry loss
    on the difference of implicit rewards, so no reward model and no sampling."""
    chosen_reward = beta * (logp_chosen - ref_chosen)
    rejected_reward = beta * (logp_rejected - ref_rejected)
    return -F.logsigmoid(chosen_reward - rejected_reward).mean()
# --8<-- [end:dpo]


# --8<-- [start:grpo]
def grpo_advantages(rewards: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """rewards (prompts, G): each of the G sampled answers is scored against its own
    group, (r - mean) / std. No value network."""
    mean = rewards.mean(dim=1, keepdim=True)
    std = rewards.std(dim=1, keepdim=True)
    return (rewards - mean) / (std + eps)


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """Per-token estimate of KL(pi || pi_ref) used by GRPO: ratio - log(ratio) - 1 with
    ratio = pi_ref / pi. Non-negative, and unbiased when the token is sampled from pi."""
    log_ratio = ref_logp - logp
    return torch.exp(log_ratio) - log_ratio - 1
# --8<-- [end:grpo]


if __name__ == "__main__":
    torch.set_num_threads(1)
    print("reward-model loss for a margin r_c - r_r of:")
    for margin in (-2.0, 0.0, 2.0):
        loss = reward_model_loss(torch.tensor([margin]), torch.tensor([0.0]))
        print(f"  {margin:+.1f}: {loss.item():.4f}")
    print("PPO clipped loss for one token, advantage +1, eps = 0.2:")
    for ratio in (0.5, 1.0, 1.1, 1.5):
        loss = ppo_policy_loss(torch.log(torch.tensor([[ratio]])), torch.zeros(1, 1),
                               torch.ones(1, 1), torch.ones(1, 1))
        print(f"  ratio {ratio:.1f}: {loss.item():+.3f}")
    print(f"DPO loss when the policy equals the reference: "
          f"{dpo_loss(*(torch.zeros(1) for _ in range(4))).item():.4f} (= log 2)")
    print("GRPO advantages for 4 answers scored 1, 0, 0, 1:",
          [round(a, 3) for a in grpo_advantages(torch.tensor([[1.0, 0.0, 0.0, 1.0]]))[0].tolist()])
