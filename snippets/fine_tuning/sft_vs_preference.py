"""SFT versus preference optimisation on one preference pair that shares a prefix.

SFT only ever pushes probability *up* (on the demonstration); DPO has a negative signal:
it pushes the rejected answer down relative to the reference."""

from __future__ import annotations

import copy

import torch
from transformers import LlamaForCausalLM

from snippets.fine_tuning.peft_families import sft_labels, sft_loss
from snippets.fine_tuning.rlhf import dpo_loss, response_logprobs
from snippets.fine_tuning.shapes import TINY, llama_config

PROMPT = [5, 9, 13, 2]
CHOSEN = PROMPT + [21, 22, 23, 30]  # the two answers differ only in their last token
REJECTED = PROMPT + [21, 22, 23, 40]


# --8<-- [start:compare]
def train_on_pair(method: str, steps: int = 20, lr: float = 3e-3,
                  beta: float = 0.1) -> tuple[float, float]:
    """Train a tiny LLaMA with SFT on the chosen answer, or with DPO on the pair.
    Returns the change in log p(chosen) and in log p(rejected)."""
    torch.manual_seed(0)
    model = LlamaForCausalLM(llama_config(TINY))
    reference = copy.deepcopy(model).requires_grad_(False)
    chosen, rejected = torch.tensor([CHOSEN]), torch.tensor([REJECTED])
    mask = torch.zeros(1, len(CHOSEN))
    mask[:, len(PROMPT):] = 1

    def logp(m: LlamaForCausalLM, ids: torch.Tensor) -> torch.Tensor:
        return response_logprobs(m, ids, mask).sum(-1)

    with torch.no_grad():
        c0, r0 = logp(model, chosen), logp(model, rejected)
        ref_c, ref_r = logp(reference, chosen), logp(reference, rejected)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        if method == "sft":  # demonstrations only: the rejected answer never appears
            loss = sft_loss(model(input_ids=chosen).logits, sft_labels(chosen, [len(PROMPT)]))
        else:
            loss = dpo_loss(logp(model, chosen), logp(model, rejected), ref_c, ref_r, beta)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        return (logp(model, chosen) - c0).item(), (logp(model, rejected) - r0).item()
# --8<-- [end:compare]


if __name__ == "__main__":
    torch.set_num_threads(1)
    print("20 Adam steps on one pair (answers differ only in the last token)")
    print(f"{'method':<8} {'change in log p(chosen)':>24} {'change in log p(rejected)':>26}")
    for method in ("sft", "dpo"):
        dc, dr = train_on_pair(method)
        print(f"{method:<8} {dc:>+24.2f} {dr:>+26.2f}")
