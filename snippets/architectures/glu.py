"""GLU-family feed-forward layers (Shazeer, 2020) and their parameter budget."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

# --8<-- [start:gates]
GATES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "GLU": torch.sigmoid,  # Dauphin et al. (2017)
    "Bilinear": lambda z: z,  # no non-linearity at all
    "ReGLU": F.relu,
    "GEGLU": F.gelu,
    "SwiGLU": F.silu,  # Swish_1(z) = z * sigmoid(z)
}


class GatedFFN(nn.Module):
    """FFN_variant(x) = (act(x W) * (x V)) W2, without biases as in Shazeer (2020)."""

    def __init__(self, dim: int, hidden: int, variant: str = "SwiGLU") -> None:
        super().__init__()
        self.act = GATES[variant]
        self.w = nn.Linear(dim, hidden, bias=False)  # gate branch
        self.v = nn.Linear(dim, hidden, bias=False)  # linear ("up") branch
        self.w2 = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(self.act(self.w(x)) * self.v(x))


class ReluFFN(nn.Module):
    """The original Transformer FFN: max(0, x W1) W2."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.w1 = nn.Linear(dim, hidden, bias=False)
        self.w2 = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.relu(self.w1(x)))
# --8<-- [end:gates]


# --8<-- [start:budget]
def matched_hidden(dim: int, ffn_mult: int = 4) -> float:
    """Width that gives a 3-matrix gated FFN the parameters of a 2-matrix ffn_mult*dim FFN:
    3 * dim * h = 2 * dim * (ffn_mult * dim)  =>  h = 2/3 * ffn_mult * dim (= 8/3 dim)."""
    return 2 * ffn_mult * dim / 3
# --8<-- [end:budget]


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


if __name__ == "__main__":
    for dim, gated_hidden in [(768, 2048), (4096, 11008)]:
        relu = ReluFFN(dim, 4 * dim)
        swiglu = GatedFFN(dim, gated_hidden, "SwiGLU")
        print(f"d = {dim}: matched width 8d/3 = {matched_hidden(dim):.2f}")
        print(f"  ReLU FFN, hidden {4 * dim:5d}: {n_params(relu):12,d} parameters")
        print(f"  SwiGLU,   hidden {gated_hidden:5d}: {n_params(swiglu):12,d} parameters")
    torch.manual_seed(0)
    dim, x = 64, torch.randn(1000, 64)
    relu_hidden = F.relu(ReluFFN(dim, 4 * dim).w1(x))
    ffn = GatedFFN(dim, 170, "SwiGLU")
    gated_hidden_act = F.silu(ffn.w(x)) * ffn.v(x)
    print("share of exactly-zero hidden units on random input:")
    print(f"  ReLU FFN: {(relu_hidden == 0).float().mean():.3f}")
    print(f"  SwiGLU:   {(gated_hidden_act == 0).float().mean():.3f}")
