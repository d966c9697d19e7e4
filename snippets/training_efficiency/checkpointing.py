"""Activation checkpointing and memory-efficient attention, measured by the bytes autograd
saves for the backward pass."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from snippets.training_efficiency.memory_measure import saved_activation_bytes


class MLPBlock(nn.Module):
    """Pre-norm residual MLP block: x + W2 gelu(W1 layernorm(x))."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.LayerNorm(dim), nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


# --8<-- [start:checkpoint]
class BlockStack(nn.Module):
    """A stack of blocks; with `checkpointed=True` each block keeps only its input and
    recomputes everything else during the backward pass."""

    def __init__(self, dim: int, n_blocks: int, checkpointed: bool = False) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(MLPBlock(dim) for _ in range(n_blocks))
        self.checkpointed = checkpointed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.blocks:
            if self.checkpointed:
                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return x
# --8<-- [end:checkpoint]


# --8<-- [start:compare]
def checkpointing_effect(
    batch: int = 4, seq: int = 64, dim: int = 64, n_blocks: int = 8
) -> dict[str, float]:
    """Saved-activation bytes and gradients with and without checkpointing."""
    torch.manual_seed(0)
    plain = BlockStack(dim, n_blocks)
    ckpt = BlockStack(dim, n_blocks, checkpointed=True)
    ckpt.load_state_dict(plain.state_dict())
    x = torch.randn(batch, seq, dim)

    results: dict[str, float] = {}
    grads = []
    for name, model in (("plain", plain), ("checkpointed", ckpt)):
        loss, saved = saved_activation_bytes(lambda m=model: m(x).square().mean(),
                                             exclude=model.parameters())
        loss.backward()
        results[f"{name} saved bytes"] = saved
        grads.append([p.grad for p in model.parameters()])
    results["max grad difference"] = max(
        float((a - b).abs().max()) for a, b in zip(*grads, strict=True)
    )
    return results
# --8<-- [end:compare]


# --8<-- [start:attention]
def attention_saved_bytes(seq: int, heads: int = 4, head_dim: int = 16) -> dict[str, int]:
    """Bytes saved for backward by explicit softmax(QK^T)V versus the fused
    scaled_dot_product_attention kernel, causal, batch 1 (q, k, v themselves excluded)."""
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, heads, seq, head_dim, generator=gen).requires_grad_()
               for _ in range(3))
    mask = torch.full((seq, seq), float("-inf")).triu(1)

    def explicit() -> torch.Tensor:
        scores = q @ k.transpose(-1, -2) / head_dim**0.5 + mask
        return torch.softmax(scores, dim=-1) @ v  # the (seq x seq) probabilities are saved

    def fused() -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)

    out = {}
    for name, fn in (("explicit", explicit), ("fused SDPA", fused)):
        _, out[name] = saved_activation_bytes(fn, exclude=(q, k, v))
    return out
# --8<-- [end:attention]


if __name__ == "__main__":
    r = checkpointing_effect()
    print("8 MLP blocks, batch 4, seq 64, dim 64, fp32:")
    print(f"  saved for backward without checkpointing: {r['plain saved bytes']:>10,.0f} B")
    print(f"  saved for backward with checkpointing:    {r['checkpointed saved bytes']:>10,.0f} B")
    print(f"  max |grad difference|: {r['max grad difference']:.1e}")
    print()
    print(f"{'seq':>6}{'explicit attention':>20}{'fused SDPA':>12}")
    for seq in (256, 512, 1024, 2048):
        a = attention_saved_bytes(seq)
        print(f"{seq:>6}{a['explicit']:>20,}{a['fused SDPA']:>12,}")
