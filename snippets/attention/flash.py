"""Blockwise attention with an online softmax: the algorithm inside FlashAttention.

`naive_attention` materialises the full N x N score matrix. `blockwise_attention`
walks over key/value blocks, keeping per query row a running maximum, a running
softmax denominator and an unnormalised output, so no tensor larger than
block_q x block_k scores ever exists. This is the math of FlashAttention's forward
pass (Dao et al., 2022); the speed of the real kernel comes from doing it inside one
fused GPU kernel whose blocks live in on-chip SRAM, which Python cannot show.

`PeakMemory` measures, deterministically, the peak bytes held by tensors created
inside a block of code: it sees every allocation through PyTorch's dispatcher and
every release through the storage's finaliser.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable

import torch
from torch import Tensor
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


# --8<-- [start:naive]
def naive_attention(q: Tensor, k: Tensor, v: Tensor, causal: bool = False) -> Tensor:
    """softmax(q k^T / sqrt(d)) v with the whole (n_q, n_k) matrix in memory."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if causal:
        n_q, n_k = scores.shape[-2:]
        allowed = torch.ones(n_q, n_k, dtype=torch.bool, device=q.device).tril(n_k - n_q)
        scores = scores.masked_fill(~allowed, float("-inf"))
    return scores.softmax(dim=-1) @ v
# --8<-- [end:naive]


# --8<-- [start:blockwise]
def blockwise_attention(
    q: Tensor, k: Tensor, v: Tensor, block_q: int = 64, block_k: int = 64, causal: bool = False
) -> Tensor:
    """Exact attention computed block by block with an online softmax (FlashAttention's forward).

    q: (..., n, d); k, v: (..., n_k, d). For causal attention n must equal n_k.
    """
    n, d = q.shape[-2:]
    n_k = k.shape[-2]
    scale = 1.0 / math.sqrt(d)
    out = torch.empty_like(q)
    for i in range(0, n, block_q):
        qi = q[..., i : i + block_q, :] * scale
        rows = torch.arange(i, i + qi.shape[-2], device=q.device)
        m = torch.full(qi.shape[:-1], float("-inf"), dtype=q.dtype, device=q.device)  # row max
        denom = torch.zeros(qi.shape[:-1], dtype=q.dtype, device=q.device)  # softmax sum
        acc = torch.zeros_like(qi)  # unnormalised output
        last_key = min(n_k, i + qi.shape[-2]) if causal else n_k  # later blocks are all masked
        for j in range(0, last_key, block_k):
            s = qi @ k[..., j : j + block_k, :].transpose(-2, -1)  # (.., block_q, block_k)
            if causal:
                cols = torch.arange(j, j + s.shape[-1], device=q.device)
                s = s.masked_fill(cols[None, :] > rows[:, None], float("-inf"))
            m_new = torch.maximum(m, s.amax(dim=-1))
            p = torch.exp(s - m_new.unsqueeze(-1))
            correction = torch.exp(m - m_new)  # rescale what was accumulated so far
            denom = denom * correction + p.sum(dim=-1)
            acc = acc * correction.unsqueeze(-1) + p @ v[..., j : j + block_k, :]
            m = m_new
        out[..., i : i + block_q, :] = acc / denom.unsqueeze(-1)
    return out
# --8<-- [end:blockwise]


# --8<-- [start:probe]
class PeakMemory(TorchDispatchMode):
    """Track live bytes of tensors allocated inside the `with` block; keep the peak."""

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._sizes: dict[int, int] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        inputs = {
            t.untyped_storage().data_ptr() for t in tree_flatten((args, kwargs))[0]
            if isinstance(t, Tensor)
        }
        for t in tree_flatten(result)[0]:
            if isinstance(t, Tensor):
                storage = t.untyped_storage()
                key = storage.data_ptr()
                if key in self._sizes or key in inputs or storage.nbytes() == 0:
                    continue  # a view or in-place result: no new memory
                self._sizes[key] = storage.nbytes()
                self.live += storage.nbytes()
                self.peak = max(self.peak, self.live)
                weakref.finalize(storage, self._release, key)
        return result

    def _release(self, key: int) -> None:
        self.live -= self._sizes.pop(key, 0)


def peak_bytes(fn: Callable[..., Tensor], *args: Tensor, **kwargs: object) -> int:
    """Peak bytes of tensors created while running fn(*args, **kwargs), inputs excluded."""
    with PeakMemory() as probe:
        fn(*args, **kwargs)
    return probe.peak
# --8<-- [end:probe]


def memory_curve(
    lengths: list[int], head_dim: int = 64, block: int = 128, seed: int = 0
) -> dict[str, list[int]]:
    """Peak bytes of naive and blockwise causal attention for one head at each length."""
    gen = torch.Generator().manual_seed(seed)
    curve: dict[str, list[int]] = {"naive": [], "blockwise": []}
    for n in lengths:
        q, k, v = (torch.randn(n, head_dim, generator=gen) for _ in range(3))
        curve["naive"].append(peak_bytes(naive_attention, q, k, v, causal=True))
        curve["blockwise"].append(
            peak_bytes(blockwise_attention, q, k, v, block_q=block, block_k=block, causal=True)
        )
    return curve


if __name__ == "__main__":
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 4, 300, 64) for _ in range(3))
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    ours = blockwise_attention(q, k, v, block_q=64, block_k=32, causal=True)
    print("blockwise equals SDPA to 1e-5:", torch.allclose(ours, ref, atol=1e-5))
    lengths = [256, 512, 1024, 2048]
    curve = memory_curve(lengths)
    print("peak bytes of tensors created by one causal fp32 head (d = 64), blocks of 128")
    print(f"{'N':>5} {'naive':>10} {'blockwise':>10} {'output alone':>13}")
    for n, a, b in zip(lengths, curve["naive"], curve["blockwise"], strict=True):
        print(f"{n:>5} {a / 2**20:>6.2f} MiB {b / 2**20:>6.2f} MiB {n * 64 * 4 / 2**20:>9.2f} MiB")
