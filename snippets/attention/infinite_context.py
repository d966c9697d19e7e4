"""Why an LLM's input cannot be infinitely long, and why vanishing gradients are not the reason.

Two parts. First, the training loss of a sequence is a sum of per-token negative
log-probabilities, so its gradient with respect to one position's logits is
softmax - one_hot for that position alone, whatever the sequence length; the product of
probabilities (which does underflow) is never formed. Second, the costs that do grow with
length, for Llama-2-70B's published shape: the KV cache (linear), the score matrix that
naive attention would materialise (quadratic), and attention's share of the forward FLOPs.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from snippets.attention.gqa import GIB, LLAMA2_70B
from snippets.attention.kv_cache import kv_cache_bytes


# --8<-- [start:loss]
def sequence_nll(logits: Tensor, targets: Tensor) -> Tensor:
    """Negative log-likelihood of a sequence: -sum_t log p(x_t | x_<t). logits: (T, vocab)."""
    log_probs = logits.log_softmax(dim=-1)
    return -log_probs.gather(1, targets[:, None]).sum()


def sequence_probability(logits: Tensor, targets: Tensor) -> Tensor:
    """The same likelihood as a product of probabilities: underflows for long sequences."""
    probs = logits.softmax(dim=-1).gather(1, targets[:, None])
    return probs.prod()


def first_token_gradient(logits: Tensor, targets: Tensor) -> Tensor:
    """d(sequence_nll) / d(logits of position 0), by autograd."""
    logits = logits.detach().requires_grad_(True)
    sequence_nll(logits, targets).backward()
    return logits.grad[0]
# --8<-- [end:loss]


# Llama-2-70B beyond attention: hidden 8192, MLP 28672, vocabulary 32000, untied output
# layer (meta-llama/Llama-2-70b-hf config.json).
LLAMA2_70B_EXTRA = {"d_model": 8192, "d_ff": 28672, "vocab": 32000}


# --8<-- [start:costs]
def llama2_70b_parameters() -> int:
    """Parameters of Llama-2-70B from its shape (attention, SwiGLU MLP, norms, embeddings)."""
    d, ff, vocab = (LLAMA2_70B_EXTRA[k] for k in ("d_model", "d_ff", "vocab"))
    kv_dim = LLAMA2_70B["n_kv_heads"] * LLAMA2_70B["head_dim"]
    attention = 2 * d * d + 2 * d * kv_dim  # q and o: d x d; k and v: d x kv_dim
    mlp = 3 * d * ff  # gate, up, down
    per_layer = attention + mlp + 2 * d  # + two RMSNorm weights
    return LLAMA2_70B["n_layers"] * per_layer + d + 2 * vocab * d  # final norm, embed, lm_head


def attention_flop_share(n: int) -> float:
    """Causal attention FLOPs (QK^T and PV) divided by the weight-matmul FLOPs, n tokens.

    Query i attends to i + 1 keys: 4 (i + 1) d_model FLOPs per layer, summed over i.
    Weight matmuls: 2 FLOPs per parameter per token (the input embedding is a lookup).
    """
    d, vocab = LLAMA2_70B_EXTRA["d_model"], LLAMA2_70B_EXTRA["vocab"]
    layers = LLAMA2_70B["n_layers"]
    attention = 2 * layers * d * n * (n + 1)
    matmuls = 2 * (llama2_70b_parameters() - vocab * d) * n
    return attention / matmuls


def costs_at(n: int) -> dict[str, float]:
    """KV cache (GQA-8, fp16, batch 1), one naive fp16 score matrix, attention FLOP share."""
    shape = LLAMA2_70B
    return {
        "kv_cache_gib": kv_cache_bytes(shape["n_layers"], shape["n_kv_heads"], shape["head_dim"],
                                       n) / GIB,
        "score_matrix_gib": n * n * 2 / GIB,  # per head, per layer, if materialised
        "attention_share": attention_flop_share(n),
    }
# --8<-- [end:costs]


if __name__ == "__main__":
    torch.manual_seed(0)
    vocab, longest = 50, 10_000
    logits = torch.randn(longest, vocab)
    targets = torch.randint(0, vocab, (longest,))
    print("random logits, vocabulary 50 (float32)")
    print(f"{'T':>6} {'product of p':>13} {'sum of log p':>13} {'|grad| at token 0':>18}")
    for n in (10, 100, 1_000, 10_000):
        prob = sequence_probability(logits[:n], targets[:n]).item()
        nll = sequence_nll(logits[:n], targets[:n]).item()
        grad = first_token_gradient(logits[:n], targets[:n]).norm().item()
        print(f"{n:>6} {prob:>13.3g} {-nll:>13.4g} {grad:>18.4f}")
    expected = F.softmax(logits[0], dim=-1) - F.one_hot(targets[0], vocab).float()
    print(f"softmax - one_hot at token 0:  |.| = {expected.norm().item():.4f}")
    print()
    print(f"Llama-2-70B shape: {llama2_70b_parameters():,} parameters")
    print("context: fp16 KV cache (GQA-8, batch 1); one naive fp16 score matrix (per head, per")
    print("layer); causal attention FLOPs as a share of the weight-matmul FLOPs")
    print(f"{'context':>9} {'KV cache':>10} {'score matrix':>13} {'attention share':>16}")
    for n in (4096, 32_768, 131_072, 1_048_576):
        c = costs_at(n)
        print(f"{n:>9,} {c['kv_cache_gib']:>6.2f} GiB {c['score_matrix_gib']:>9.2f} GiB "
              f"{100 * c['attention_share']:>14.0f}%")
