"""The last position of a causal LM: next-token distribution, pooling and padding side."""

from __future__ import annotations

import torch
from transformers import LlamaConfig, LlamaForCausalLM

VOCAB = ["<pad>", "<s>", "我", "去", "哪", "里", "？", "北", "京", "上", "海", "。"]
TOKEN_ID = {t: i for i, t in enumerate(VOCAB)}


def encode(text: str) -> list[int]:
    """A toy character-level tokenizer: <s> then one id per character."""
    return [TOKEN_ID["<s>"]] + [TOKEN_ID[c] for c in text]


# --8<-- [start:next-token]
@torch.no_grad()
def next_token_distribution(model: LlamaForCausalLM, ids: torch.Tensor) -> torch.Tensor:
    """p(x_{T+1} | x_1..x_T) for an unpadded batch: logits of the last position, softmax."""
    hidden = model.model(ids).last_hidden_state  # (B, T, d), after the final RMSNorm
    h_last = hidden[:, -1]  # (B, d): the state of the last prompt token
    logits = model.lm_head(h_last)  # (B, vocab)
    return torch.softmax(logits, dim=-1)
# --8<-- [end:next-token]


# --8<-- [start:pooling]
def last_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Index of the rightmost real token in each row: works for left and right padding."""
    positions = torch.arange(attention_mask.shape[1], device=attention_mask.device)
    return (positions * attention_mask).argmax(dim=-1)


def last_token_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """(B, T, d) -> (B, d): the state of the last real token (decoder embedding models)."""
    rows = torch.arange(hidden.shape[0], device=hidden.device)
    return hidden[rows, last_token_index(attention_mask)]


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """(B, T, d) -> (B, d): average over real tokens (Sentence-BERT style encoders)."""
    weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
# --8<-- [end:pooling]


# --8<-- [start:padding]
def pad_batch(rows: list[list[int]], side: str,
              pad_id: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad to a common length on the left or the right; return ids and attention mask."""
    n = max(len(r) for r in rows)
    ids, mask = [], []
    for r in rows:
        pad, real = [pad_id] * (n - len(r)), [1] * len(r)
        ids.append(pad + r if side == "left" else r + pad)
        mask.append([0] * len(pad) + real if side == "left" else real + [0] * len(pad))
    return torch.tensor(ids), torch.tensor(mask)


@torch.no_grad()
def padded_hidden(model: LlamaForCausalLM, ids: torch.Tensor,
                  attention_mask: torch.Tensor) -> torch.Tensor:
    """Hidden states of a padded batch; position ids count real tokens only."""
    position_ids = (attention_mask.cumsum(dim=-1) - 1).clamp(min=0)
    return model.model(ids, attention_mask=attention_mask,
                       position_ids=position_ids).last_hidden_state
# --8<-- [end:padding]


def tiny_model(seed: int = 0) -> LlamaForCausalLM:
    config = LlamaConfig(vocab_size=len(VOCAB), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, pad_token_id=0)
    torch.manual_seed(seed)
    return LlamaForCausalLM(config).eval()


if __name__ == "__main__":
    model = tiny_model()
    prompt = "我去哪里？"
    ids = torch.tensor([encode(prompt)])
    print("prompt tokens:", ["<s>", *prompt], "ids:", ids[0].tolist())
    hidden = model.model(ids).last_hidden_state
    print("hidden states:", tuple(hidden.shape), "-> last position", tuple(hidden[0, -1].shape))
    probs = next_token_distribution(model, ids)[0]
    print(f"next-token distribution: {tuple(probs.shape)}, sums to {probs.sum():.6f}")
    top = torch.topk(probs, 3)
    shown = ", ".join(f"{VOCAB[i]} {p:.3f}" for p, i in zip(top.values, top.indices, strict=True))
    print("top 3 under random weights (arbitrary tokens, real mechanics):", shown)
    rows = [encode("我去哪里？"), encode("去北京。")]
    for side in ("right", "left"):
        batch, mask = pad_batch(rows, side)
        idx = last_token_index(mask)
        print(f"{side:5} padding: ids {batch.tolist()}, last-token index {idx.tolist()}")
    right = last_token_pool(padded_hidden(model, *pad_batch(rows, "right")),
                            pad_batch(rows, "right")[1])
    left = last_token_pool(padded_hidden(model, *pad_batch(rows, "left")),
                           pad_batch(rows, "left")[1])
    print("same last-token embedding for both padding sides:",
          torch.allclose(right, left, atol=1e-5))
    naive = padded_hidden(model, *pad_batch(rows, "right"))[:, -1]
    print("taking position -1 under right padding gives the same for row 2:",
          torch.allclose(naive[1], right[1], atol=1e-5))
