"""RoPE and the ways of stretching it past the trained context, plus two attention masks.

Every function computes the inverse frequencies theta_i = base^(-2i/d) of rotary
position embeddings (one per pair of channels) and the variants used to run a model
beyond the length it was trained on: linear position interpolation (Chen et al.,
2023), NTK-aware base scaling, dynamic NTK scaling and YaRN (Peng et al., 2024). The
tests compare each with the matching function of transformers' modeling_rope_utils.
ALiBi biases (Press et al., 2022) and a sliding-window causal mask are the two
non-RoPE levers shown on the page.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


# --8<-- [start:rope]
def rope_inv_freq(head_dim: int, base: float = 10000.0) -> Tensor:
    """theta_i = base^(-2i/d) for i = 0 .. d/2 - 1: fast-rotating pairs first."""
    return 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)


def rotate_half(x: Tensor) -> Tensor:
    """(x1, x2) -> (-x2, x1) on the two halves of the last dimension."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def apply_rope(x: Tensor, positions: Tensor, inv_freq: Tensor, scale: float = 1.0) -> Tensor:
    """Rotate channel pairs (j, j + d/2) of x (..., seq, d) by angle position * theta_j."""
    angles = positions.float()[:, None] * inv_freq[None, :]  # (seq, d/2)
    emb = torch.cat([angles, angles], dim=-1)
    return x * (emb.cos() * scale) + rotate_half(x) * (emb.sin() * scale)
# --8<-- [end:rope]


# --8<-- [start:scaling]
def linear_inv_freq(head_dim: int, base: float, factor: float) -> Tensor:
    """Position interpolation: position m behaves like m / factor, i.e. every theta / factor."""
    return rope_inv_freq(head_dim, base) / factor


def ntk_inv_freq(head_dim: int, base: float, factor: float) -> Tensor:
    """NTK-aware scaling: raise the base so the slowest pair is slowed by exactly `factor`
    while the fastest pair (i = 0) is untouched."""
    return rope_inv_freq(head_dim, base * factor ** (head_dim / (head_dim - 2)))


def dynamic_ntk_inv_freq(
    head_dim: int, base: float, seq_len: int, trained_len: int, factor: float = 1.0
) -> Tensor:
    """Dynamic NTK: NTK scaling with a factor recomputed from the current length.

    With factor = 1 the scale is seq_len / trained_len (no change inside the trained
    window); transformers' "dynamic" type uses factor * seq_len / trained_len - (factor - 1).
    """
    seq_len = max(seq_len, trained_len)
    scale = factor * seq_len / trained_len - (factor - 1)
    return rope_inv_freq(head_dim, base * scale ** (head_dim / (head_dim - 2)))


def yarn_inv_freq(
    head_dim: int,
    base: float,
    factor: float,
    trained_len: int,
    beta_fast: float = 32.0,
    beta_slow: float = 1.0,
) -> tuple[Tensor, float]:
    """YaRN: keep pairs that turn more than beta_fast times in the trained window, interpolate
    pairs that turn less than beta_slow times, blend linearly in between; also return the
    factor 0.1 ln(s) + 1 applied to cos and sin (so attention logits scale by its square)."""

    def pair_index(turns: float) -> float:  # the pair i that makes `turns` turns in trained_len
        return head_dim * math.log(trained_len / (turns * 2 * math.pi)) / (2 * math.log(base))

    low = max(math.floor(pair_index(beta_fast)), 0)
    high = min(math.ceil(pair_index(beta_slow)), head_dim - 1)
    i = torch.arange(head_dim // 2, dtype=torch.float32)
    ramp = ((i - low) / max(high - low, 1e-3)).clamp(0, 1)  # 0: keep, 1: interpolate
    inv_freq = rope_inv_freq(head_dim, base)
    inv_freq = inv_freq * (1 - ramp) + (inv_freq / factor) * ramp
    attention_factor = 0.1 * math.log(factor) + 1.0 if factor > 1 else 1.0
    return inv_freq, attention_factor
# --8<-- [end:scaling]


def scaled_inv_freq(
    method: str, head_dim: int, base: float, factor: float, trained_len: int,
    seq_len: int | None = None,
) -> Tensor:
    """Inverse frequencies for `method` in {none, linear, ntk, dynamic, yarn}."""
    if method == "none":
        return rope_inv_freq(head_dim, base)
    if method == "linear":
        return linear_inv_freq(head_dim, base, factor)
    if method == "ntk":
        return ntk_inv_freq(head_dim, base, factor)
    if method == "dynamic":
        return dynamic_ntk_inv_freq(head_dim, base, seq_len or trained_len, trained_len)
    if method == "yarn":
        return yarn_inv_freq(head_dim, base, factor, trained_len)[0]
    raise ValueError(f"unknown method {method!r}")


def pairs_beyond_training(inv_freq: Tensor, head_dim: int, base: float, trained_len: int,
                          target_len: int) -> int:
    """Pairs that never completed a turn in training but now rotate past their trained angle."""
    trained = rope_inv_freq(head_dim, base)
    slow = trained * trained_len < 2 * math.pi  # never a full turn inside the trained window
    beyond = inv_freq * target_len > trained * trained_len * (1 + 1e-5)
    return int((slow & beyond).sum())


# --8<-- [start:masks]
def sliding_window_causal_mask(n: int, window: int) -> Tensor:
    """True where query i may attend key j: j <= i and i - j < window (window keys incl. itself)."""
    i = torch.arange(n)[:, None]
    j = torch.arange(n)[None, :]
    return (j <= i) & (i - j < window)


def alibi_slopes(n_heads: int) -> Tensor:
    """ALiBi head slopes: the geometric sequence 2^(-8/n), 2^(-16/n), ... (n a power of two);
    otherwise the power-of-two slopes plus every other slope of the next power of two."""

    def power_of_two(n: int) -> list[float]:
        start = 2 ** (-8 / n)
        return [start ** (k + 1) for k in range(n)]

    closest = 2 ** math.floor(math.log2(n_heads))
    slopes = power_of_two(closest)
    slopes += power_of_two(2 * closest)[0::2][: n_heads - closest]
    return torch.tensor(slopes, dtype=torch.float32)


def alibi_bias(n: int, n_heads: int) -> Tensor:
    """(n_heads, n, n) bias added to q.k scores: -slope * (i - j) for keys j <= i."""
    distance = (torch.arange(n)[:, None] - torch.arange(n)[None, :]).clamp(min=0)
    return -alibi_slopes(n_heads)[:, None, None] * distance
# --8<-- [end:masks]


if __name__ == "__main__":
    d, base, trained, factor = 128, 10000.0, 4096, 4.0  # a Llama-2-7B head, 4k -> 16k
    target = int(trained * factor)
    default = rope_inv_freq(d, base)
    slow = int((default * trained < 2 * math.pi).sum())
    print(f"head_dim {d}, base {base:.0f}, trained on {trained}, run at {target} (s = 4)")
    print(f"pairs that never complete a turn within {trained} tokens: {slow} of {d // 2}")
    print(f"{'method':<8} {'fastest wavelength':>19} {'slowest wavelength':>19} "
          f"{'pairs past trained angle':>25}")
    for method in ("none", "linear", "ntk", "dynamic", "yarn"):
        inv = scaled_inv_freq(method, d, base, factor, trained, seq_len=target)
        wavelength = 2 * math.pi / inv
        beyond = pairs_beyond_training(inv, d, base, trained, target)
        print(f"{method:<8} {wavelength[0].item():>19.1f} {wavelength[-1].item():>19.0f} "
              f"{beyond:>25}")
    print(f"YaRN attention factor for s = 4: {yarn_inv_freq(d, base, factor, trained)[1]:.4f}")
