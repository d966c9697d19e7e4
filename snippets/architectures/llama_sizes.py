"""Sizes of LLaMA models from their hyper-parameters: FFN width, parameters, KV cache."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LlamaShape:
    """The hyper-parameters of Meta's params.json that fix a LLaMA model's size."""

    name: str
    dim: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    multiple_of: int = 256
    ffn_dim_multiplier: float | None = None
    vocab: int = 32000


# --8<-- [start:ffn]
def ffn_hidden_dim(dim: int, multiple_of: int = 256,
                   ffn_dim_multiplier: float | None = None) -> int:
    """SwiGLU width as in Meta's llama/model.py: 2/3 of 4*dim, scaled, rounded up."""
    hidden = int(2 * (4 * dim) / 3)  # keep the parameters of a 4*dim two-matrix MLP
    if ffn_dim_multiplier is not None:
        hidden = int(ffn_dim_multiplier * hidden)
    return multiple_of * ((hidden + multiple_of - 1) // multiple_of)
# --8<-- [end:ffn]


# --8<-- [start:params]
def param_count(s: LlamaShape) -> int:
    """Embedding + N x (attention + SwiGLU + 2 RMSNorm gains) + final norm + LM head."""
    head_dim = s.dim // s.n_heads
    attention = 2 * s.dim * s.dim + 2 * s.dim * s.n_kv_heads * head_dim  # q, o and k, v
    mlp = 3 * s.dim * ffn_hidden_dim(s.dim, s.multiple_of, s.ffn_dim_multiplier)
    per_layer = attention + mlp + 2 * s.dim
    return s.vocab * s.dim + s.n_layers * per_layer + s.dim + s.dim * s.vocab


def kv_cache_bytes_per_token(s: LlamaShape, bytes_per_value: int = 2) -> int:
    """K and V for every layer and every key/value head (fp16/bf16 by default)."""
    return 2 * s.n_layers * s.n_kv_heads * (s.dim // s.n_heads) * bytes_per_value
# --8<-- [end:params]


LLAMA_1 = [
    LlamaShape("LLaMA-7B", 4096, 32, 32, 32),
    LlamaShape("LLaMA-13B", 5120, 40, 40, 40),
    LlamaShape("LLaMA-33B", 6656, 60, 52, 52),
    LlamaShape("LLaMA-65B", 8192, 80, 64, 64),
]
LLAMA_2_70B = LlamaShape("Llama-2-70B", 8192, 80, 64, 8, multiple_of=4096,
                         ffn_dim_multiplier=1.3)
LLAMA_2_70B_IF_MHA = LlamaShape("70B with MHA", 8192, 80, 64, 64, multiple_of=4096,
                                ffn_dim_multiplier=1.3)


if __name__ == "__main__":
    print(f"{'model':14} {'FFN hidden':>10} {'parameters':>15} {'KV cache/token':>15}")
    for s in [*LLAMA_1, LLAMA_2_70B, LLAMA_2_70B_IF_MHA]:
        ffn = ffn_hidden_dim(s.dim, s.multiple_of, s.ffn_dim_multiplier)
        kv = kv_cache_bytes_per_token(s) / 2**10
        print(f"{s.name:14} {ffn:10d} {param_count(s):15,d} {kv:11,.0f} KiB")
    ratio = kv_cache_bytes_per_token(LLAMA_2_70B_IF_MHA) / kv_cache_bytes_per_token(LLAMA_2_70B)
    print(f"GQA with 8 KV heads shrinks the 70B KV cache {ratio:.0f}x")
    saved = param_count(LLAMA_2_70B_IF_MHA) - param_count(LLAMA_2_70B)
    print(f"and removes {saved / 1e9:.1f}B parameters (smaller W_k, W_v)")
    seq = 4096
    gib = kv_cache_bytes_per_token(LLAMA_2_70B) * seq / 2**30
    print(f"one {seq}-token sequence of Llama-2-70B in fp16: {gib:.2f} GiB of KV cache")
