"""Five ways to tell attention where tokens are: sinusoidal and learned absolute embeddings,
T5's bucketed relative bias, rotary embeddings (RoPE) and ALiBi.

Absolute schemes add a vector to the token embedding once, at the input. The other three
act inside every attention layer: T5 and ALiBi add a bias to the scores, RoPE rotates the
queries and keys so that their dot product depends only on the distance m - n.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


# --8<-- [start:sinusoidal]
def sinusoidal(n_positions: int, d_model: int, base: float = 10000.0) -> Tensor:
    """Vaswani et al. (2017): PE[pos, 2i] = sin(pos / base^(2i/d)), PE[pos, 2i+1] = cos(...).
    Added to the token embeddings; no parameters."""
    pos = torch.arange(n_positions, dtype=torch.float64)[:, None]
    inv_freq = base ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)
    pe = torch.zeros(n_positions, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(pos * inv_freq)
    pe[:, 1::2] = torch.cos(pos * inv_freq)
    return pe.float()
# --8<-- [end:sinusoidal]


# --8<-- [start:t5]
def t5_bucket(relative_position: Tensor, bidirectional: bool = True, num_buckets: int = 32,
              max_distance: int = 128) -> Tensor:
    """Raffel et al. (2020): map key_pos - query_pos to one of num_buckets buckets.
    Small distances get a bucket each; larger ones share log-spaced buckets; every
    distance >= max_distance falls into the last bucket."""
    bucket = torch.zeros_like(relative_position)
    if bidirectional:  # half of the buckets for keys after the query, half for before
        num_buckets //= 2
        bucket = bucket + (relative_position > 0).long() * num_buckets
        distance = relative_position.abs()
    else:  # causal: only keys at or before the query exist
        distance = (-relative_position).clamp_min(0)
    max_exact = num_buckets // 2
    log_ratio = torch.log(distance.float().clamp_min(1) / max_exact) / math.log(max_distance / max_exact)
    large = (max_exact + log_ratio * (num_buckets - max_exact)).long().clamp_max(num_buckets - 1)
    return bucket + torch.where(distance < max_exact, distance, large)


def t5_bias(n_q: int, n_k: int, table: Tensor, bidirectional: bool = True,
            max_distance: int = 128) -> Tensor:
    """(heads, n_q, n_k) bias added to the scores. table: (num_buckets, heads), learned,
    shared by all layers in T5."""
    relative = torch.arange(n_k)[None, :] - torch.arange(n_q)[:, None]  # key - query
    buckets = t5_bucket(relative, bidirectional, table.shape[0], max_distance)
    return table[buckets].permute(2, 0, 1)
# --8<-- [end:t5]


# --8<-- [start:rope]
def rope_cos_sin(positions: Tensor, head_dim: int, base: float = 10000.0
                 ) -> tuple[Tensor, Tensor]:
    """Su et al. (2021): pair i turns at theta_i = base^(-2i/d). "Rotate half" layout as in
    transformers: channel i is paired with channel i + d/2."""
    inv_freq = 1.0 / base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    angles = positions.float()[:, None] * inv_freq  # (n, d/2)
    angles = torch.cat([angles, angles], dim=-1)  # (n, d): same angle for i and i + d/2
    return angles.cos(), angles.sin()


def rotate_half(x: Tensor) -> Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def apply_rope(x: Tensor, cos: Tensor, sin: Tensor) -> Tensor:
    """Rotate each pair (x_i, x_{i+d/2}) by its angle: a 2x2 rotation per pair."""
    return x * cos + rotate_half(x) * sin
# --8<-- [end:rope]


# --8<-- [start:alibi]
def alibi_slopes(n_heads: int) -> Tensor:
    """Press et al. (2022): head h gets slope 2^(-8h/n) for n a power of two; otherwise
    the slopes of the nearest smaller power of two plus every other slope of the next."""
    def geometric(n: int) -> list[float]:
        return [2 ** (-8 * h / n) for h in range(1, n + 1)]

    p = 2 ** math.floor(math.log2(n_heads))
    extra = geometric(2 * p)[0::2][: n_heads - p]
    return torch.tensor(geometric(p) + extra)


def alibi_bias(n: int, n_heads: int) -> Tensor:
    """(heads, n, n) bias -slope * (i - j) for key j <= query i (causal)."""
    distance = (torch.arange(n)[:, None] - torch.arange(n)[None, :]).clamp_min(0)
    return -alibi_slopes(n_heads)[:, None, None] * distance
# --8<-- [end:alibi]


def position_parameters(n_positions: int, d_model: int, n_heads: int, num_buckets: int = 32
                        ) -> dict[str, int]:
    """Trainable parameters each scheme spends on positions, per stack of layers."""
    return {"learned absolute": n_positions * d_model, "sinusoidal": 0,
            "T5 bias": num_buckets * n_heads, "RoPE": 0, "ALiBi": 0}


def rope_score(q: Tensor, k: Tensor, m: int, n: int, head_dim: int) -> float:
    """Attention score of q at position m with k at position n, both rotated by RoPE."""
    cos, sin = rope_cos_sin(torch.tensor([m, n]), head_dim)
    return (apply_rope(q, cos[0], sin[0]) @ apply_rope(k, cos[1], sin[1])).item()


if __name__ == "__main__":
    torch.manual_seed(0)
    d = 64
    q, k = torch.randn(d), torch.randn(d)
    print(f"RoPE score q_m . k_n for one random q, k (head_dim {d}): depends only on m - n")
    print(f"{'m':>6} {'n':>6} {'m - n':>6} {'score':>9}")
    for m, n in [(5, 2), (105, 102), (4005, 4002), (5, 0), (105, 100), (2, 5)]:
        print(f"{m:6d} {n:6d} {m - n:6d} {rope_score(q, k, m, n, d):9.4f}")
    print(f"without RoPE: q . k = {(q @ k).item():.4f} at every m, n")
    print()
    print("T5 buckets (32 buckets, max_distance 128), by distance key - query")
    distances = [0, -1, -7, -8, -12, -16, -32, -64, -127, -128, -1000, 1, 8, 1000]
    rel = torch.tensor(distances)
    for name, bidirectional in (("encoder", True), ("decoder", False)):
        buckets = t5_bucket(rel, bidirectional).tolist()
        print(f"{name:>8}: " + " ".join(f"{r}:{b}" for r, b in zip(distances, buckets, strict=True)))
    print()
    for h in (8, 12):
        print(f"ALiBi slopes, {h} heads: " + ", ".join(f"{s:.4g}" for s in alibi_slopes(h).tolist()))
    print()
    params = position_parameters(n_positions=1024, d_model=768, n_heads=12)
    print("Parameters spent on positions, per stack (d_model 768, 12 heads, 1024 positions):")
    print("  " + "   ".join(f"{name}: {count:,}" for name, count in params.items()))
