"""Multi-query and grouped-query attention, and the KV-cache sizes they buy.

`grouped_query_attention` lets every group of query heads read one shared K/V head
without copying it (a reshape and broadcasting). `mean_pool_kv_heads` is the
checkpoint conversion of Ainslie et al. (2023): the K (or V) projection of each
group is the mean of its heads' projections. The `__main__` block sizes the KV cache
of Llama-2-70B under MHA, GQA-8 and MQA.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from snippets.attention.kv_cache import kv_cache_bytes


# --8<-- [start:gqa]
def grouped_query_attention(q: Tensor, k: Tensor, v: Tensor, causal: bool = True) -> Tensor:
    """q: (batch, n_heads, t, d); k, v: (batch, n_kv_heads, s, d) with n_heads % n_kv_heads == 0.

    Query head h uses K/V head h // (n_heads // n_kv_heads). n_kv_heads == 1 is MQA.
    """
    b, n_heads, t, d = q.shape
    n_kv_heads, s = k.shape[1], k.shape[2]
    group = n_heads // n_kv_heads
    q = q.view(b, n_kv_heads, group, t, d)  # heads h = g * group + j
    k, v = k.unsqueeze(2), v.unsqueeze(2)  # (b, n_kv_heads, 1, s, d): broadcast, no copy
    scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # (b, n_kv_heads, group, t, s)
    if causal:  # the last query sits at position s - 1
        allowed = torch.ones(t, s, dtype=torch.bool, device=q.device).tril(diagonal=s - t)
        scores = scores.masked_fill(~allowed, float("-inf"))
    out = scores.softmax(dim=-1) @ v  # (b, n_kv_heads, group, t, d)
    return out.reshape(b, n_heads, t, d)
# --8<-- [end:gqa]


# --8<-- [start:pool]
def mean_pool_kv_heads(w: Tensor, n_heads: int, n_kv_heads: int) -> Tensor:
    """Turn an MHA key (or value) projection into a GQA one by averaging heads per group.

    w: (n_heads * head_dim, d_model), the weight of an nn.Linear.
    Returns (n_kv_heads * head_dim, d_model).
    """
    head_dim = w.shape[0] // n_heads
    group = n_heads // n_kv_heads
    return w.view(n_kv_heads, group, head_dim, -1).mean(dim=1).reshape(n_kv_heads * head_dim, -1)
# --8<-- [end:pool]


# Llama-2-70B: 80 layers, 64 query heads of dimension 128, 8 KV heads, 4096-token context
# (Touvron et al. 2023, Table 1; meta-llama/Llama-2-70b-hf config.json).
LLAMA2_70B = {"n_layers": 80, "n_heads": 64, "head_dim": 128, "n_kv_heads": 8, "context": 4096}

GIB = 1024**3


def llama2_70b_cache_table(seq_len: int = 4096, batch: int = 1) -> dict[str, int]:
    """KV-cache bytes of Llama-2-70B's shape with 64 (MHA), 8 (GQA-8) and 1 (MQA) KV heads."""
    shape = LLAMA2_70B
    return {
        name: kv_cache_bytes(shape["n_layers"], kv, shape["head_dim"], seq_len, batch)
        for name, kv in [("MHA", shape["n_heads"]), ("GQA-8", shape["n_kv_heads"]), ("MQA", 1)]
    }


if __name__ == "__main__":
    per_token = llama2_70b_cache_table(seq_len=1)
    full = llama2_70b_cache_table(seq_len=4096)
    batch = llama2_70b_cache_table(seq_len=4096, batch=32)
    print("Llama-2-70B shape, fp16 KV cache")
    print(f"{'variant':<7} {'KV heads':>8} {'per token':>11} {'4096 tokens':>12} {'x32 batch':>10}")
    for name, kv in [("MHA", 64), ("GQA-8", 8), ("MQA", 1)]:
        print(
            f"{name:<7} {kv:>8} {per_token[name] / 1024:>7.0f} KiB "
            f"{full[name] / GIB:>8.2f} GiB {batch[name] / GIB:>6.0f} GiB"
        )
