"""LoRA written from scratch: a low-rank update next to a frozen linear layer."""

from __future__ import annotations

import math

import torch
from torch import nn

from snippets.fine_tuning.shapes import LLAMA2_7B, DecoderShape, count_base_params


# --8<-- [start:layer]
class LoRALinear(nn.Module):
    """y = W0 x + (alpha / r) * B A x, with W0 frozen and only A, B trained."""

    def __init__(self, base: nn.Linear, r: int, alpha: float, rslora: bool = False) -> None:
        super().__init__()
        self.base = base
        self.base.requires_grad_(False)
        # A: (r, in) gets nn.Linear's default init; B: (out, r) starts at zero, so BA = 0.
        self.A = nn.Parameter(torch.empty(r, base.in_features))
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
        self.B = nn.Parameter(torch.zeros(base.out_features, r))
        self.scaling = alpha / math.sqrt(r) if rslora else alpha / r
        self.merged = False

    def delta_weight(self) -> torch.Tensor:
        return (self.B @ self.A) * self.scaling  # (out, in), rank <= r

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.base(x)
        if not self.merged:  # two thin matmuls instead of forming B A
            y = y + (x @ self.A.T) @ self.B.T * self.scaling
        return y

    @torch.no_grad()
    def merge(self) -> None:
        """Fold the update into W0: inference then costs exactly the base layer."""
        if not self.merged:
            self.base.weight += self.delta_weight()
            self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        if self.merged:
            self.base.weight -= self.delta_weight()
            self.merged = False
# --8<-- [end:layer]


# --8<-- [start:apply]
def apply_lora(model: nn.Module, targets: list[str], r: int, alpha: float) -> nn.Module:
    """Freeze the model and wrap every nn.Linear whose attribute name is a target."""
    model.requires_grad_(False)
    for module in list(model.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.Linear) and child_name in targets:
                setattr(module, child_name, LoRALinear(child, r, alpha))
    return model


def lora_layers(model: nn.Module) -> list[LoRALinear]:
    return [m for m in model.modules() if isinstance(m, LoRALinear)]
# --8<-- [end:apply]


# --8<-- [start:count]
def linear_shapes(s: DecoderShape) -> dict[str, tuple[int, int]]:
    """(in_features, out_features) of each linear layer in one LLaMA block."""
    d, dkv, dff = s.hidden_size, s.kv_dim, s.intermediate_size
    return {
        "q_proj": (d, d), "k_proj": (d, dkv), "v_proj": (d, dkv), "o_proj": (d, d),
        "gate_proj": (d, dff), "up_proj": (d, dff), "down_proj": (dff, d),
    }


def lora_params(s: DecoderShape, targets: list[str], r: int) -> int:
    """A is r x in and B is out x r, for every targeted layer in every block."""
    shapes = linear_shapes(s)
    return s.num_layers * sum(r * (shapes[t][0] + shapes[t][1]) for t in targets)
# --8<-- [end:count]


ATTENTION_QV = ["q_proj", "v_proj"]
ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


if __name__ == "__main__":
    base = count_base_params(LLAMA2_7B)
    print(f"LoRA on LLaMA-2-7B ({base:,} parameters)")
    print(f"{'targets':<10} {'r':>3} {'trainable':>12} {'share':>8} {'fp16 file':>10}")
    for label, targets in [("q, v", ATTENTION_QV), ("all", ALL_LINEAR)]:
        for r in (8, 64):
            n = lora_params(LLAMA2_7B, targets, r)
            print(f"{label:<10} {r:>3} {n:>12,} {100 * n / base:>7.3f}% {2 * n / 2**20:>7.1f} MiB")
    w = LLAMA2_7B.hidden_size
    print(f"one {w}x{w} projection: full {w * w:,} vs r=8 {8 * (w + w):,} "
          f"({w * w // (8 * 2 * w)}x fewer)")
