"""Self-attention from scratch: queries, keys, values, the 1/sqrt(d_k) scale and masks.

`attention` is scaled dot-product attention with an optional causal mask and an optional
boolean or additive float mask, written out step by step. `scaling_stats` measures what the
1/sqrt(d_k) scale does to random unit-variance queries and keys: the variance of the
scores, how peaked the softmax is and how much gradient flows back through it.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


# --8<-- [start:attention]
def attention(
    q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None, causal: bool = False
) -> Tensor:
    """softmax(q k^T / sqrt(d_k) + mask) v for q (..., n_q, d_k), k (..., n_k, d_k),
    v (..., n_k, d_v).

    mask: bool (True = may attend) or float (added to the scores: 0 or -inf),
    broadcastable to (..., n_q, n_k). causal: query i sees keys j <= i.
    """
    d_k = q.shape[-1]
    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)  # (..., n_q, n_k)
    if causal:
        n_q, n_k = scores.shape[-2:]
        future = torch.ones(n_q, n_k, dtype=torch.bool, device=q.device).triu(diagonal=1)
        scores = scores.masked_fill(future, float("-inf"))
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))
        else:
            scores = scores + mask  # additive mask: 0 keeps, -inf removes
    weights = scores.softmax(dim=-1)
    # A row with every key masked is all -inf, and softmax gives NaN there. PyTorch's
    # scaled_dot_product_attention returns zeros for such rows; do the same.
    weights = weights.nan_to_num(0.0)
    return weights @ v
# --8<-- [end:attention]


# --8<-- [start:masks]
def causal_mask(n: int) -> Tensor:
    """(n, n) bool, True where query i may attend to key j, i.e. j <= i."""
    return torch.ones(n, n, dtype=torch.bool).tril()


def padding_mask(lengths: Tensor, n: int) -> Tensor:
    """(batch, 1, 1, n) bool, True for real tokens: keys beyond a sequence's length
    are padding. The two singleton dimensions broadcast over heads and queries."""
    real = torch.arange(n)[None, :] < lengths[:, None]  # (batch, n)
    return real[:, None, None, :]


def combine(*masks: Tensor) -> Tensor:
    """Boolean masks combine with AND: a key is visible only if every mask allows it."""
    out = masks[0]
    for m in masks[1:]:
        out = out & m
    return out


def to_additive(mask: Tensor, dtype: torch.dtype = torch.float32) -> Tensor:
    """The same mask as a float bias: 0 where allowed, -inf where not.
    Additive masks combine by adding them."""
    return torch.zeros(mask.shape, dtype=dtype).masked_fill(~mask, float("-inf"))
# --8<-- [end:masks]


# --8<-- [start:scaling]
def softmax_jacobian_norm(scores: Tensor) -> Tensor:
    """Frobenius norm of d softmax(s) / d s = diag(p) - p p^T, per row of scores."""
    p = scores.softmax(dim=-1)
    # ||diag(p) - p p^T||_F^2 = sum_i p_i^2 - 2 sum_i p_i^3 + (sum_i p_i^2)^2
    sq = (p**2).sum(-1)
    return (sq - 2 * (p**3).sum(-1) + sq**2).clamp_min(0).sqrt()


def scaling_stats(d_k: int, n_keys: int = 128, n_queries: int = 2000, seed: int = 0
                  ) -> dict[str, dict[str, float]]:
    """Random q, k with independent N(0, 1) components, scores with and without 1/sqrt(d_k):
    variance, median largest weight, median |Jacobian| and share of rows with |J| < 0.01."""
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(n_queries, d_k, generator=g)
    k = torch.randn(n_keys, d_k, generator=g)
    raw = q @ k.T  # (n_queries, n_keys): each entry is a sum of d_k products
    stats = {}
    for name, s in (("q.k", raw), ("q.k/sqrt(d_k)", raw / math.sqrt(d_k))):
        jac = softmax_jacobian_norm(s)
        stats[name] = {
            "var": s.var().item(),
            "max_p": s.softmax(dim=-1).max(dim=-1).values.median().item(),
            "jac": jac.median().item(),
            "dead": (jac < 0.01).float().mean().item(),  # rows whose gradient is ~0
        }
    return stats
# --8<-- [end:scaling]


# --8<-- [start:cost]
def naive_attention_cost(n: int, d: int, bytes_per_score: int = 4) -> dict[str, float]:
    """FLOPs and score-matrix memory of one head of naive attention over n tokens:
    q k^T is n*n dot products of length d (2 n^2 d FLOPs), and so is weights @ v."""
    return {"flops": 4 * n * n * d, "score_bytes": n * n * bytes_per_score}
# --8<-- [end:cost]


if __name__ == "__main__":
    n_keys = 128
    print(f"q, k with N(0, 1) components, {n_keys} keys, 2000 queries (medians over queries)")
    print(f"{'d_k':>4} {'scores':<14} {'variance':>8} {'max weight':>10} {'|J|':>7} "
          f"{'rows |J|<0.01':>13}")
    for d_k in (16, 64, 512):
        for name, s in scaling_stats(d_k, n_keys=n_keys).items():
            print(f"{d_k:4d} {name:<14} {s['var']:8.2f} {s['max_p']:10.3f} {s['jac']:7.4f} "
                  f"{s['dead']:13.1%}")
    print(f"uniform weights over {n_keys} keys: max weight {1 / n_keys:.4f}, "
          f"|J| {softmax_jacobian_norm(torch.zeros(n_keys)).item():.4f}")
    print()
    print("one head, d = 128, naive attention")
    print(f"{'n':>7} {'GFLOPs':>9} {'fp32 scores':>12}")
    for n in (1024, 8192, 32768, 131072):
        c = naive_attention_cost(n, 128)
        print(f"{n:7d} {c['flops'] / 1e9:9.1f} {c['score_bytes'] / 2**30:8.3f} GiB")
