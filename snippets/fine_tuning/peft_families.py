"""Trainable parameters of fine-tuning methods on a LLaMA-shaped decoder, and the SFT loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from snippets.fine_tuning.lora import ALL_LINEAR, ATTENTION_QV, linear_shapes, lora_params
from snippets.fine_tuning.prompt_methods import prefix_tuning_params, prompt_tuning_params
from snippets.fine_tuning.shapes import LLAMA2_7B, DecoderShape, count_base_params


# --8<-- [start:counts]
def per_block_params(s: DecoderShape) -> int:
    d, dkv, dff = s.hidden_size, s.kv_dim, s.intermediate_size
    return 2 * d * d + 2 * d * dkv + 3 * d * dff + 2 * d


def adapter_params(s: DecoderShape, m: int) -> int:
    """Houlsby adapters: two bottlenecks (d -> m -> d, with biases) per block."""
    d = s.hidden_size
    return s.num_layers * 2 * (d * m + m + m * d + d)


def ia3_params(s: DecoderShape) -> int:
    """IA3: learned scaling vectors on keys, values and the MLP's inner activation."""
    return s.num_layers * (2 * s.kv_dim + s.intermediate_size)


def norm_tuning_params(s: DecoderShape) -> int:
    """Selective: train only the RMSNorm weights (two per block and the final one)."""
    return s.num_layers * 2 * s.hidden_size + s.hidden_size


def dora_params(s: DecoderShape, targets: list[str], r: int) -> int:
    """DoRA: LoRA plus one magnitude per output feature of every adapted layer."""
    shapes = linear_shapes(s)
    return lora_params(s, targets, r) + s.num_layers * sum(shapes[t][1] for t in targets)


def method_table(s: DecoderShape) -> list[tuple[str, str, int]]:
    """(family, method with setting, trainable parameters)."""
    return [
        ("full", "full fine-tuning", count_base_params(s)),
        ("selective", "top 2 blocks only", 2 * per_block_params(s)),
        ("selective", "RMSNorm weights only", norm_tuning_params(s)),
        ("selective", "BitFit (biases only)", 0),  # LLaMA's linear layers have no biases
        ("additive", "adapters, bottleneck m=64", adapter_params(s, 64)),
        ("additive", "IA3", ia3_params(s)),
        ("additive", "prompt tuning, n=20", prompt_tuning_params(20, s)),
        ("additive", "prefix / P-tuning v2, n=20", prefix_tuning_params(20, s)),
        ("reparam.", "LoRA r=8 on q, v", lora_params(s, ATTENTION_QV, 8)),
        ("reparam.", "LoRA / QLoRA r=16, all linear", lora_params(s, ALL_LINEAR, 16)),
        ("reparam.", "DoRA r=16, all linear", dora_params(s, ALL_LINEAR, 16)),
    ]
# --8<-- [end:counts]


class BottleneckAdapter(nn.Module):
    """A Houlsby-style adapter, h + up(act(down(h))): used to check adapter_params."""

    def __init__(self, d: int, m: int) -> None:
        super().__init__()
        self.down, self.up = nn.Linear(d, m), nn.Linear(m, d)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.up(F.gelu(self.down(h)))


# --8<-- [start:sft_loss]
def sft_labels(input_ids: torch.Tensor, prompt_lengths: list[int]) -> torch.Tensor:
    """Copy the tokens as labels and mask the prompt: loss only on the response."""
    labels = input_ids.clone()
    for row, n in enumerate(prompt_lengths):
        labels[row, :n] = -100  # ignored by cross_entropy
    return labels


def sft_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy: position t predicts token t + 1, averaged over
    the response tokens of the whole batch."""
    shifted_logits = logits[:, :-1].reshape(-1, logits.shape[-1])
    shifted_labels = labels[:, 1:].reshape(-1)
    return F.cross_entropy(shifted_logits, shifted_labels, ignore_index=-100)
# --8<-- [end:sft_loss]


# Learning rates from published recipes (see the page's references).
PRETRAIN_PEAK_LR_7B = 3e-4  # LLaMA 1 7B and LLaMA 2 7B pre-training
RECIPES = [
    ("LLaMA 2-Chat SFT, full", 2e-5),
    ("Alpaca 7B SFT, full", 2e-5),
    ("Guanaco 7B (QLoRA) SFT", 2e-4),
]


if __name__ == "__main__":
    base = count_base_params(LLAMA2_7B)
    print(f"trainable parameters on LLaMA-2-7B ({base:,} in total)")
    for family, method, n in method_table(LLAMA2_7B):
        print(f"  {family:<10} {method:<31} {n:>14,}  {100 * n / base:>9.4f}%")
    print(f"SFT learning rate / pre-training peak ({PRETRAIN_PEAK_LR_7B:g})")
    for name, lr in RECIPES:
        print(f"  {name:<24} {lr:g}  -> {100 * lr / PRETRAIN_PEAK_LR_7B:.1f}%")
