"""Shapes of LLaMA-style decoders and their parameter counts.

The counts are closed-form; tests check them against `LlamaForCausalLM` built from a
scaled-down config with the same structure.
"""

from __future__ import annotations

from dataclasses import dataclass

from transformers import LlamaConfig


# --8<-- [start:shape]
@dataclass(frozen=True)
class DecoderShape:
    """The numbers that fix the size of a LLaMA-style decoder."""

    vocab_size: int
    hidden_size: int  # d
    intermediate_size: int  # d_ff of the SwiGLU MLP
    num_layers: int  # L
    num_heads: int  # query heads
    num_kv_heads: int  # key/value heads (< num_heads means grouped-query attention)

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads

    @property
    def kv_dim(self) -> int:
        """Width of one key (or value) vector: what a KV-cache entry holds per layer."""
        return self.num_kv_heads * self.head_dim


def count_base_params(s: DecoderShape) -> int:
    """Parameters of a LLaMA decoder with an untied output head and no biases."""
    d, dkv, dff = s.hidden_size, s.kv_dim, s.intermediate_size
    attention = d * d + 2 * d * dkv + d * d  # q, k, v, o projections
    mlp = 3 * d * dff  # gate, up, down
    norms = 2 * d  # two RMSNorm weight vectors per layer
    per_layer = attention + mlp + norms
    embeddings = 2 * s.vocab_size * d  # input embedding + lm_head
    return s.num_layers * per_layer + embeddings + d  # + final RMSNorm
# --8<-- [end:shape]


# Published shapes: LLaMA 2 7B (same shape as LLaMA 7B, Touvron et al., 2023a, Table 2; d_ff 11008
# and vocabulary 32000 from the released config) and Llama 3 8B (Grattafiori et al., 2024, Table 3;
# the table rounds the vocabulary to 128K, the released config has 128256 entries).
LLAMA2_7B = DecoderShape(32000, 4096, 11008, 32, 32, 32)
LLAMA3_8B = DecoderShape(128256, 4096, 14336, 32, 32, 8)

# A scaled-down shape with the same structure (and GQA) for tests and demonstrations.
TINY = DecoderShape(64, 32, 64, 2, 4, 2)


def llama_config(s: DecoderShape) -> LlamaConfig:
    """A transformers config with this shape (random weights when a model is built from it)."""
    return LlamaConfig(
        vocab_size=s.vocab_size,
        hidden_size=s.hidden_size,
        intermediate_size=s.intermediate_size,
        num_hidden_layers=s.num_layers,
        num_attention_heads=s.num_heads,
        num_key_value_heads=s.num_kv_heads,
        max_position_embeddings=128,
        tie_word_embeddings=False,
    )


if __name__ == "__main__":
    for name, shape in [("LLaMA-2-7B", LLAMA2_7B), ("Llama-3-8B", LLAMA3_8B)]:
        print(f"{name}: {count_base_params(shape):,} parameters, kv_dim={shape.kv_dim}")
