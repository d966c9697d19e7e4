"""A LLaMA decoder block written from scratch: RMSNorm, rotary embeddings, SwiGLU, GQA.

Every module has the same parameter names and shapes as Hugging Face transformers'
`LlamaRMSNorm`, `LlamaMLP`, `LlamaAttention` and `LlamaDecoderLayer`, so a state dict
copied from transformers loads unchanged (tests/architectures/test_llama_block.py).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


# --8<-- [start:rmsnorm]
class RMSNorm(nn.Module):
    """y = x / sqrt(mean(x^2) + eps) * g  (Zhang & Sennrich, 2019): no mean, no bias."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))  # the gain g
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x32 = x.float()  # normalise in fp32, as LLaMA does, then cast back
        rms_inv = torch.rsqrt(x32.pow(2).mean(dim=-1, keepdim=True) + self.eps)
        return self.weight * (x32 * rms_inv).to(x.dtype)
# --8<-- [end:rmsnorm]


# --8<-- [start:rope]
def rope_cos_sin(
    positions: torch.Tensor, head_dim: int, base: float = 10000.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin of angle m * theta_i, theta_i = base^(-2i/d), laid out as [theta, theta]."""
    inv_freq = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    angles = positions.float()[..., None] * inv_freq  # (..., seq, d/2)
    angles = torch.cat([angles, angles], dim=-1)  # (..., seq, d): pair i with i + d/2
    return angles.cos(), angles.sin()


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(x1, x2) -> (-x2, x1) on the two halves of the last dimension."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate each pair (x_i, x_{i+d/2}) of x (batch, heads, seq, d) by angle m * theta_i."""
    return x * cos + rotate_half(x) * sin
# --8<-- [end:rope]


# --8<-- [start:swiglu]
class SwiGLUMLP(nn.Module):
    """FFN(x) = W_down (SiLU(W_gate x) * W_up x): three matrices, no biases."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.gate_proj = nn.Linear(dim, hidden, bias=False)
        self.up_proj = nn.Linear(dim, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))
# --8<-- [end:swiglu]


# --8<-- [start:attention]
class Attention(nn.Module):
    """Causal self-attention with RoPE and grouped-query attention (n_kv_heads <= n_heads)."""

    def __init__(self, dim: int, n_heads: int, n_kv_heads: int) -> None:
        super().__init__()
        assert n_heads % n_kv_heads == 0
        self.n_heads, self.n_kv_heads = n_heads, n_kv_heads
        self.head_dim = dim // n_heads
        self.q_proj = nn.Linear(dim, n_heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(dim, n_kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(dim, n_kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(n_heads * self.head_dim, dim, bias=False)

    def forward(
        self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.n_kv_heads, self.head_dim).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)  # position enters here only
        group = self.n_heads // self.n_kv_heads  # query heads sharing one K/V head
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        scores = scores.masked_fill(~mask, float("-inf"))  # mask: True = may attend
        out = torch.softmax(scores.float(), dim=-1).to(q.dtype) @ v
        return self.o_proj(out.transpose(1, 2).reshape(b, t, -1))
# --8<-- [end:attention]


# --8<-- [start:block]
class DecoderLayer(nn.Module):
    """Pre-norm block: h = x + Attn(RMSNorm(x)); out = h + FFN(RMSNorm(h))."""

    def __init__(self, dim: int, n_heads: int, n_kv_heads: int, hidden: int,
                 eps: float = 1e-6) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(dim, eps)
        self.self_attn = Attention(dim, n_heads, n_kv_heads)
        self.post_attention_layernorm = RMSNorm(dim, eps)
        self.mlp = SwiGLUMLP(dim, hidden)

    def forward(
        self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        h = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return h + self.mlp(self.post_attention_layernorm(h))


def causal_mask(t: int) -> torch.Tensor:
    """Boolean (t, t) mask, True where query i may attend to key j (j <= i)."""
    return torch.ones(t, t, dtype=torch.bool).tril()
# --8<-- [end:block]


# --8<-- [start:model]
class TinyLlama(nn.Module):
    """Embedding -> N decoder layers -> final RMSNorm -> untied LM head."""

    def __init__(self, vocab: int, dim: int, n_layers: int, n_heads: int, n_kv_heads: int,
                 hidden: int, rope_base: float = 10000.0, eps: float = 1e-6) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, dim)
        self.layers = nn.ModuleList(
            DecoderLayer(dim, n_heads, n_kv_heads, hidden, eps) for _ in range(n_layers)
        )
        self.norm = RMSNorm(dim, eps)
        self.lm_head = nn.Linear(dim, vocab, bias=False)
        self.head_dim, self.rope_base = dim // n_heads, rope_base

    def hidden_states(self, ids: torch.Tensor) -> torch.Tensor:
        t = ids.shape[1]
        cos, sin = rope_cos_sin(torch.arange(t), self.head_dim, self.rope_base)
        x, mask = self.embed_tokens(ids), causal_mask(t)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.norm(x)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.lm_head(self.hidden_states(ids))  # logits for every position
# --8<-- [end:model]


def count_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


if __name__ == "__main__":
    torch.manual_seed(0)
    layer = DecoderLayer(dim=64, n_heads=8, n_kv_heads=2, hidden=176)
    parts = {
        "input_layernorm (RMSNorm gain)": layer.input_layernorm,
        "self_attn (q, k, v, o)": layer.self_attn,
        "post_attention_layernorm": layer.post_attention_layernorm,
        "mlp (gate, up, down)": layer.mlp,
    }
    print("one decoder layer, dim=64, 8 query heads, 2 KV heads, FFN hidden=176")
    for name, module in parts.items():
        print(f"  {name:32s} {count_params(module):6d} parameters")
    print(f"  {'total':32s} {count_params(layer):6d} parameters")
    biases = [n for n, _ in layer.named_parameters() if n.endswith("bias")]
    print("bias parameters:", biases if biases else "none")
    x = torch.randn(1, 5, 64)
    cos, sin = rope_cos_sin(torch.arange(5), head_dim=8)
    print("output shape:", tuple(layer(x, cos, sin, causal_mask(5)).shape))
