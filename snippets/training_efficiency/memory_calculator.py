"""GPU memory of a decoder-only LLM in training and at inference: a whiteboard calculator.

Units: bytes; GB means 10**9 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

GB = 10**9


# --8<-- [start:params]
@dataclass(frozen=True)
class LlamaShape:
    """The numbers of a LLaMA-style config that memory depends on."""

    vocab: int
    hidden: int
    intermediate: int  # SwiGLU MLP width
    layers: int
    heads: int
    kv_heads: int  # = heads without GQA
    tied_embeddings: bool = False

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads


def parameter_count(m: LlamaShape) -> int:
    """Exact parameter count of a LLaMA-style decoder (no biases, RMSNorm weights only)."""
    kv_dim = m.kv_heads * m.head_dim
    attention = m.hidden * m.hidden * 2 + m.hidden * kv_dim * 2  # Wq, Wo, Wk, Wv
    mlp = 3 * m.hidden * m.intermediate  # gate, up, down
    norms = 2 * m.hidden
    embeddings = m.vocab * m.hidden * (1 if m.tied_embeddings else 2)  # input + LM head
    return m.layers * (attention + mlp + norms) + m.hidden + embeddings
# --8<-- [end:params]


# --8<-- [start:training]
@dataclass(frozen=True)
class Recipe:
    """Bytes per parameter of each model state in one training setup."""

    weights: float
    gradients: float
    master_weights: float  # separate fp32 copy kept by the optimizer (0 if none)
    optimizer_states: float

    @property
    def total(self) -> float:
        return self.weights + self.gradients + self.master_weights + self.optimizer_states


RECIPES: dict[str, Recipe] = {
    # everything fp32; AdamW keeps exp_avg and exp_avg_sq
    "fp32 AdamW": Recipe(weights=4, gradients=4, master_weights=0, optimizer_states=8),
    # 16-bit weights and gradients, fp32 master weights and moments (ZeRO paper, K = 12)
    "mixed-precision AdamW": Recipe(weights=2, gradients=2, master_weights=4, optimizer_states=8),
    # as above with both moments stored in 8 bits (Dettmers et al. 2022)
    "mixed-precision 8-bit AdamW": Recipe(2, 2, 4, 2),
    # SGD with momentum: one fp32 state
    "mixed-precision SGD+momentum": Recipe(2, 2, 4, 4),
}


def model_state_bytes(n_params: int, recipe: Recipe) -> dict[str, float]:
    """Weights, gradients, master weights and optimizer states in bytes."""
    return {
        "weights": n_params * recipe.weights,
        "gradients": n_params * recipe.gradients,
        "master weights": n_params * recipe.master_weights,
        "optimizer states": n_params * recipe.optimizer_states,
    }
# --8<-- [end:training]


# --8<-- [start:inference]
def weight_bytes(n_params: int, bits: float, group_size: int | None = None,
                 scale_bytes: int = 2) -> float:
    """Weights stored with `bits` per parameter, plus one scale per group if quantized."""
    scales = n_params / group_size * scale_bytes if group_size else 0
    return n_params * bits / 8 + scales


def kv_cache_bytes(m: LlamaShape, seq_len: int, batch: int, bytes_per_value: int = 2) -> int:
    """K and V for every layer, KV head, position and sequence."""
    return 2 * m.layers * m.kv_heads * m.head_dim * seq_len * batch * bytes_per_value
# --8<-- [end:inference]


# --8<-- [start:activations]
def activation_bytes_per_layer(seq_len: int, batch: int, hidden: int, heads: int,
                               attention_matrix_stored: bool = True) -> float:
    """Korthikanti et al. (2022) estimate for a GPT-style layer, 16-bit activations,
    no tensor parallelism: s*b*h*(34 + 5*a*s/h) bytes. The 5as/h term is the attention
    score matrices; kernels that never store them (FlashAttention) drop it."""
    s, b, h, a = seq_len, batch, hidden, heads
    quadratic = 5 * a * s / h if attention_matrix_stored else 0
    return s * b * h * (34 + quadratic)


def checkpointed_activation_bytes_per_layer(seq_len: int, batch: int, hidden: int) -> int:
    """Full activation recomputation keeps only each layer's 16-bit input: 2*s*b*h bytes."""
    return 2 * seq_len * batch * hidden
# --8<-- [end:activations]


LLAMA2_7B = LlamaShape(vocab=32000, hidden=4096, intermediate=11008, layers=32, heads=32,
                       kv_heads=32)
LLAMA2_70B = LlamaShape(vocab=32000, hidden=8192, intermediate=28672, layers=80, heads=64,
                        kv_heads=8)


def _gb(x: float) -> str:
    return f"{x / GB:,.1f} GB"


if __name__ == "__main__":
    for name, shape in (("Llama-2-7B", LLAMA2_7B), ("Llama-2-70B", LLAMA2_70B)):
        n = parameter_count(shape)
        print(f"{name}: {n:,} parameters")
        print("  inference weights: "
              + ", ".join(f"{label} {_gb(weight_bytes(n, bits))}"
                          for label, bits in (("bf16", 16), ("int8", 8), ("int4", 4))))
        print(f"  int4 with one fp16 scale per 128 weights: {_gb(weight_bytes(n, 4, 128))}")
        per_token = kv_cache_bytes(shape, seq_len=1, batch=1)
        print(f"  KV cache (bf16): {per_token / 2**20:.3f} MiB per token; "
              f"4096 tokens x batch 1: {_gb(kv_cache_bytes(shape, 4096, 1))}; "
              f"x batch 32: {_gb(kv_cache_bytes(shape, 4096, 32))}")
        for recipe in ("fp32 AdamW", "mixed-precision AdamW", "mixed-precision 8-bit AdamW"):
            states = model_state_bytes(n, RECIPES[recipe])
            print(f"  training model states, {recipe} ({RECIPES[recipe].total:g} B/param): "
                  f"{_gb(sum(states.values()))}")
        full = activation_bytes_per_layer(4096, 1, shape.hidden, shape.heads)
        flash = activation_bytes_per_layer(4096, 1, shape.hidden, shape.heads, False)
        ckpt = checkpointed_activation_bytes_per_layer(4096, 1, shape.hidden)
        print(f"  activations (GPT-style estimate), seq 4096, batch 1, {shape.layers} layers: "
              f"{_gb(full * shape.layers)} stored naively, "
              f"{_gb(flash * shape.layers)} without attention matrices, "
              f"{_gb(ckpt * shape.layers)} with full recomputation")
