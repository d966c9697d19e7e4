"""Prompt tuning, P-tuning, prefix tuning and P-tuning v2 written from scratch.

Each module holds only the trainable prompt parameters; the base model stays frozen.
Soft prompts join the model as extra rows of `inputs_embeds`; prefixes join every
attention layer as extra key/value rows (passed as `past_key_values`).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from transformers import DynamicCache, PreTrainedModel

from snippets.fine_tuning.shapes import LLAMA2_7B, LLAMA3_8B, DecoderShape, count_base_params


# --8<-- [start:soft_prompt]
class SoftPrompt(nn.Module):
    """Prompt tuning (Lester et al., 2021): n free vectors in the embedding space."""

    def __init__(self, num_virtual_tokens: int, hidden_size: int) -> None:
        super().__init__()
        self.embedding = nn.Parameter(torch.randn(num_virtual_tokens, hidden_size) * 0.02)

    def prompts(self) -> torch.Tensor:
        return self.embedding  # (n, d)

    def forward(self, inputs_embeds: torch.Tensor) -> torch.Tensor:
        """Prepend the virtual tokens: (B, T, d) -> (B, n + T, d)."""
        batch = inputs_embeds.shape[0]
        prompts = self.prompts().to(inputs_embeds.dtype).expand(batch, -1, -1)
        return torch.cat([prompts, inputs_embeds], dim=1)


class PromptEncoder(SoftPrompt):
    """P-tuning v1 (Liu et al., 2021): the virtual tokens come out of a small MLP.

    Same layout as PEFT's `PromptEncoder` with the default MLP reparameterisation:
    three linear layers with ReLU between them.
    """

    def __init__(self, num_virtual_tokens: int, hidden_size: int, encoder_hidden: int) -> None:
        super().__init__(num_virtual_tokens, hidden_size)
        self.mlp = nn.Sequential(
            nn.Linear(hidden_size, encoder_hidden),
            nn.ReLU(),
            nn.Linear(encoder_hidden, encoder_hidden),
            nn.ReLU(),
            nn.Linear(encoder_hidden, hidden_size),
        )

    def prompts(self) -> torch.Tensor:
        return self.mlp(self.embedding)


def forward_with_soft_prompt(
    model: PreTrainedModel, soft_prompt: SoftPrompt, input_ids: torch.Tensor
) -> torch.Tensor:
    """Logits of a frozen causal LM with the soft prompt in front of the input."""
    inputs_embeds = model.get_input_embeddings()(input_ids)
    return model(inputs_embeds=soft_prompt(inputs_embeds)).logits  # (B, n + T, vocab)
# --8<-- [end:soft_prompt]


# --8<-- [start:prefix]
class PrefixKV(nn.Module):
    """Prefix tuning (Li & Liang, 2021) and P-tuning v2 (Liu et al., 2022).

    Every layer gets n trainable key vectors and n value vectors. Their width is the
    key/value width, num_kv_heads * head_dim, which is smaller than hidden_size
    under grouped-query attention. With `encoder_hidden`, the prefix is produced by an
    MLP while training (prefix tuning's reparameterisation); without it, the prefix is
    a plain parameter (P-tuning v2's deep prompts).
    """

    def __init__(self, shape: DecoderShape, num_virtual_tokens: int,
                 encoder_hidden: int | None = None) -> None:
        super().__init__()
        self.shape, self.n = shape, num_virtual_tokens
        out = shape.num_layers * 2 * shape.kv_dim  # keys and values of every layer
        if encoder_hidden is None:
            self.embedding = nn.Parameter(torch.randn(num_virtual_tokens, out) * 0.02)
            self.mlp = None
        else:
            self.embedding = nn.Parameter(torch.randn(num_virtual_tokens, shape.kv_dim) * 0.02)
            self.mlp = nn.Sequential(
                nn.Linear(shape.kv_dim, encoder_hidden),
                nn.Tanh(),
                nn.Linear(encoder_hidden, out),
            )

    def key_values(self, batch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per layer (keys, values), each of shape (B, num_kv_heads, n, head_dim)."""
        flat = self.embedding if self.mlp is None else self.mlp(self.embedding)  # (n, L*2*dkv)
        s = self.shape
        kv = flat.view(self.n, s.num_layers, 2, s.num_kv_heads, s.head_dim)
        kv = kv.permute(1, 2, 3, 0, 4)  # (L, 2, heads, n, head_dim)
        return [
            (layer[0].expand(batch, -1, -1, -1), layer[1].expand(batch, -1, -1, -1))
            for layer in kv
        ]


def forward_with_prefix(
    model: PreTrainedModel, prefix: PrefixKV, input_ids: torch.Tensor
) -> torch.Tensor:
    """Logits of a frozen causal LM whose every layer also attends to the prefix.

    The prefix enters as a pre-filled KV cache, so the real tokens get positions
    n, n + 1, ... and the prefix keys are used as they are (no projection, no RoPE).
    """
    cache = DynamicCache(prefix.key_values(input_ids.shape[0]))
    return model(input_ids=input_ids, past_key_values=cache).logits  # (B, T, vocab)
# --8<-- [end:prefix]


# --8<-- [start:attention]
def attention_with_prefix(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
    prefix_k: torch.Tensor, prefix_v: torch.Tensor,
) -> torch.Tensor:
    """Causal grouped-query attention over [prefix; sequence].

    q: (B, Hq, T, hd); k, v: (B, Hkv, T, hd); prefix_k, prefix_v: (B, Hkv, n, hd).
    Every query sees all n prefix rows plus the real keys up to its own position.
    """
    n, t = prefix_k.shape[2], q.shape[2]
    k = torch.cat([prefix_k, k], dim=2)
    v = torch.cat([prefix_v, v], dim=2)
    groups = q.shape[1] // k.shape[1]  # query heads per key/value head
    k = k.repeat_interleave(groups, dim=1)
    v = v.repeat_interleave(groups, dim=1)
    scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])  # (B, Hq, T, n + T)
    visible = torch.ones(t, n + t, dtype=torch.bool).tril(diagonal=n)
    scores = scores.masked_fill(~visible, float("-inf"))
    return scores.softmax(dim=-1) @ v  # (B, Hq, T, hd)
# --8<-- [end:attention]


# --8<-- [start:counts]
def prompt_tuning_params(n: int, s: DecoderShape) -> int:
    return n * s.hidden_size


def p_tuning_params(n: int, s: DecoderShape, h: int) -> int:
    d = s.hidden_size
    return n * d + (d * h + h) + (h * h + h) + (h * d + d)  # embedding + 3-layer MLP


def prefix_tuning_params(n: int, s: DecoderShape, h: int | None = None) -> int:
    out = s.num_layers * 2 * s.kv_dim
    if h is None:  # P-tuning v2: the prefix itself
        return n * out
    return n * s.kv_dim + (s.kv_dim * h + h) + (h * out + out)  # embedding + 2-layer MLP


def prefix_mlp_output_weights(s: DecoderShape, h: int) -> int:
    """Weights (without the bias) of the reparameterisation MLP's output layer, h x 2*L*d_kv:
    most of what `prefix_tuning_params(n, s, h)` counts when h is large."""
    return h * s.num_layers * 2 * s.kv_dim
# --8<-- [end:counts]


if __name__ == "__main__":
    n = 20
    print(f"trainable parameters with n = {n} virtual tokens (share of the base model)")
    for name, s in [("LLaMA-2-7B", LLAMA2_7B), ("Llama-3-8B", LLAMA3_8B)]:
        base = count_base_params(s)
        print(f"{name} (kv_dim = {s.kv_dim})")
        rows = [
            ("prompt tuning", prompt_tuning_params(n, s)),
            ("P-tuning, MLP encoder", p_tuning_params(n, s, s.hidden_size)),
            ("P-tuning v2 (prefix)", prefix_tuning_params(n, s)),
            ("prefix tuning + MLP", prefix_tuning_params(n, s, s.kv_dim)),
        ]
        rows.append(("  of which output W", prefix_mlp_output_weights(s, s.kv_dim)))
        for method, count in rows:
            print(f"  {method:<22} {count:>14,}  ({100 * count / base:.4f}%)")
