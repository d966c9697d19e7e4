"""Incremental decoding with a KV cache, and how much memory the cache takes.

A tiny decoder-only transformer (token + learned position embeddings, causal
self-attention blocks, greedy decoding) is decoded two ways: recomputing the whole
prefix at every step, and feeding one token per step while keeping each layer's keys
and values. The attention layer takes `n_kv_heads` so the same code covers MHA
(`n_kv_heads == n_heads`), GQA and MQA (`n_kv_heads == 1`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

KVCache = list[tuple[Tensor, Tensor]]  # one (keys, values) pair per layer


# --8<-- [start:attention]
class CausalSelfAttention(nn.Module):
    """Causal self-attention with `n_heads` query heads sharing `n_kv_heads` K/V heads."""

    def __init__(self, d_model: int, n_heads: int, n_kv_heads: int | None = None) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.n_kv_heads = n_kv_heads or n_heads
        assert n_heads % self.n_kv_heads == 0, "query heads must split evenly into groups"
        self.head_dim = d_model // n_heads
        self.q_proj = nn.Linear(d_model, n_heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(d_model, self.n_kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(d_model, self.n_kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(n_heads * self.head_dim, d_model, bias=False)

    def forward(
        self, x: Tensor, past: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """x: (batch, new_tokens, d_model). Returns the output and the updated (K, V)."""
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        if past is not None:  # append the new keys/values to the cached ones
            k = torch.cat([past[0], k], dim=2)
            v = torch.cat([past[1], v], dim=2)
        s = k.shape[2]  # total length: cached + new
        # Query i (absolute position s - t + i) may see keys 0 .. s - t + i.
        mask = torch.ones(t, s, dtype=torch.bool, device=x.device).tril(diagonal=s - t)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, enable_gqa=self.n_kv_heads != self.n_heads
        )
        out = out.transpose(1, 2).reshape(b, t, self.n_heads * self.head_dim)
        return self.o_proj(out), (k, v)
# --8<-- [end:attention]


class Block(nn.Module):
    """Pre-norm transformer block: attention and an MLP, each with a residual."""

    def __init__(self, d_model: int, n_heads: int, n_kv_heads: int | None = None) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads, n_kv_heads)
        self.norm2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, 4 * d_model), nn.GELU(), nn.Linear(4 * d_model, d_model)
        )

    def forward(
        self, x: Tensor, past: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        h, kv = self.attn(self.norm1(x), past)
        x = x + h
        return x + self.mlp(self.norm2(x)), kv


class TinyDecoder(nn.Module):
    """A decoder-only language model small enough to run on a CPU in milliseconds."""

    def __init__(
        self,
        vocab_size: int = 100,
        d_model: int = 64,
        n_heads: int = 4,
        n_kv_heads: int | None = None,
        n_layers: int = 2,
        max_len: int = 512,
    ) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, n_kv_heads) for _ in range(n_layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)

    def forward(self, ids: Tensor, cache: KVCache | None = None) -> tuple[Tensor, KVCache]:
        """ids: (batch, new_tokens). Positions continue after the cached tokens."""
        start = cache[0][0].shape[2] if cache else 0
        positions = torch.arange(start, start + ids.shape[1], device=ids.device)
        x = self.tok(ids) + self.pos(positions)
        new_cache: KVCache = []
        for i, block in enumerate(self.blocks):
            x, kv = block(x, cache[i] if cache else None)
            new_cache.append(kv)
        return self.head(self.norm(x)), new_cache


# --8<-- [start:decode]
@torch.no_grad()
def generate_without_cache(model: TinyDecoder, prompt: Tensor, steps: int) -> Tensor:
    """Greedy decoding that re-runs the whole sequence at every step: O(t) work per token."""
    ids = prompt
    for _ in range(steps):
        logits, _ = model(ids)  # recomputes K and V for every earlier token
        next_id = logits[:, -1].argmax(-1, keepdim=True)
        ids = torch.cat([ids, next_id], dim=1)
    return ids


@torch.no_grad()
def generate_with_cache(model: TinyDecoder, prompt: Tensor, steps: int) -> Tensor:
    """Greedy decoding with a KV cache: one prefill pass, then one new token per step."""
    logits, cache = model(prompt)  # prefill: K and V of the whole prompt
    ids = prompt
    for _ in range(steps):
        next_id = logits[:, -1].argmax(-1, keepdim=True)
        ids = torch.cat([ids, next_id], dim=1)
        logits, cache = model(next_id, cache)  # only the new token is projected
    return ids
# --8<-- [end:decode]


# --8<-- [start:size]
def kv_cache_bytes(
    n_layers: int,
    n_kv_heads: int,
    head_dim: int,
    seq_len: int,
    batch: int = 1,
    bytes_per_value: int = 2,
) -> int:
    """Bytes of the KV cache: K and V, per layer, per KV head, per token (fp16 = 2 bytes)."""
    return 2 * n_layers * n_kv_heads * head_dim * seq_len * batch * bytes_per_value
# --8<-- [end:size]


def cache_nbytes(cache: KVCache) -> int:
    """Bytes actually held by a cache produced by `TinyDecoder`."""
    return sum(k.nbytes + v.nbytes for k, v in cache)
