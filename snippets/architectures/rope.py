"""Rotary position embedding (Su et al., 2021): the two memory layouts and the decay bound."""

from __future__ import annotations

import torch

from snippets.architectures.llama_block import apply_rope, rope_cos_sin


# --8<-- [start:interleaved]
def apply_rope_interleaved(x: torch.Tensor, positions: torch.Tensor,
                           base: float = 10000.0) -> torch.Tensor:
    """RoFormer / Meta's original layout: rotate adjacent pairs (x0, x1), (x2, x3), ..."""
    d = x.shape[-1]
    inv_freq = 1.0 / base ** (torch.arange(0, d, 2, dtype=torch.float32) / d)
    angles = positions.float()[:, None] * inv_freq  # (seq, d/2)
    pairs = torch.view_as_complex(x.float().reshape(*x.shape[:-1], d // 2, 2).contiguous())
    rotated = pairs * torch.polar(torch.ones_like(angles), angles)  # multiply by e^{i m theta}
    return torch.view_as_real(rotated).flatten(-2).to(x.dtype)


def interleaved_to_half(d: int) -> torch.Tensor:
    """Index permutation [0, 2, 4, ..., 1, 3, 5, ...] that maps the layouts onto each other."""
    return torch.cat([torch.arange(0, d, 2), torch.arange(1, d, 2)])
# --8<-- [end:interleaved]


# --8<-- [start:decay]
def relative_upper_bound(head_dim: int, distances: torch.Tensor,
                         base: float = 10000.0) -> torch.Tensor:
    """RoFormer's long-term-decay bound: mean_j |sum_{k<j} exp(i * r * theta_k)| at distance r."""
    theta = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    phases = torch.polar(torch.ones(len(distances), len(theta), dtype=torch.float64),
                         distances.double()[:, None] * theta)  # (r, d/2)
    partial_sums = phases.cumsum(dim=-1)  # S_j for j = 1 .. d/2
    return partial_sums.abs().mean(dim=-1)


def score_of_equal_vectors(head_dim: int, distances: torch.Tensor) -> torch.Tensor:
    """q = k = all-ones: the RoPE attention score q_m . k_n as a function of m - n."""
    ones = torch.ones(head_dim)
    cos, sin = rope_cos_sin(distances, head_dim)
    rotated_q = apply_rope(ones, cos, sin)  # q at position m = r, k at position n = 0
    return rotated_q @ ones
# --8<-- [end:decay]


if __name__ == "__main__":
    distances = torch.tensor([0, 1, 4, 16, 64, 256])
    bound = relative_upper_bound(128, distances)
    score = score_of_equal_vectors(128, distances)
    print("head_dim = 128, base = 10000")
    print(f"{'distance':>8} {'RoFormer bound':>15} {'score of all-ones q, k':>24}")
    for r, b, s in zip(distances.tolist(), bound.tolist(), score.tolist(), strict=True):
        print(f"{r:8d} {b:15.2f} {s:24.2f}")
