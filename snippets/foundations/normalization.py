"""Normalisation in Transformers: LayerNorm and RMSNorm from scratch, Post-LN, Pre-LN and
DeepNorm blocks, and the per-layer gradient norms of each placement at initialisation.

The blocks use the parameter names of torch.nn.TransformerEncoderLayer (self_attn,
linear1, linear2, norm1, norm2), so the tests load the same weights into both.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


# --8<-- [start:norms]
class LayerNorm(nn.Module):
    """Ba et al. (2016): subtract the mean, divide by the standard deviation, then a learned
    gain and bias. Statistics over the feature dimension of each token."""

    def __init__(self, d: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight, self.bias, self.eps = nn.Parameter(torch.ones(d)), nn.Parameter(torch.zeros(d)), eps

    def forward(self, x: Tensor) -> Tensor:
        mean = x.mean(-1, keepdim=True)
        var = x.var(-1, keepdim=True, unbiased=False)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


class RMSNorm(nn.Module):
    """Zhang & Sennrich (2019): no mean, no bias; divide by the root mean square."""

    def __init__(self, d: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(d)), eps

    def forward(self, x: Tensor) -> Tensor:
        x32 = x.float()  # statistics in fp32 even for bf16 inputs, as Llama does
        inv_rms = torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * (x32 * inv_rms).to(x.dtype)
# --8<-- [end:norms]


# --8<-- [start:block]
class Block(nn.Module):
    """One Transformer layer (attention + ReLU feed-forward) with the norm in one of three places:

    post:     x = LN(x + f(x))                     (Vaswani et al. 2017, BERT)
    pre:      x = x + f(LN(x))                     (GPT-2, Llama; needs a final LN)
    deepnorm: x = LN(alpha * x + f(x)), f's output weights initialised smaller by beta
    """

    def __init__(self, d: int, n_heads: int, d_ff: int, placement: str = "pre",
                 alpha: float = 1.0) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, n_heads, dropout=0.0, batch_first=True)
        self.linear1, self.linear2 = nn.Linear(d, d_ff), nn.Linear(d_ff, d)
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.placement, self.alpha = placement, alpha

    def attn(self, x: Tensor, mask: Tensor | None) -> Tensor:
        return self.self_attn(x, x, x, attn_mask=mask, need_weights=False)[0]

    def ffn(self, x: Tensor) -> Tensor:
        return self.linear2(F.relu(self.linear1(x)))

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        if self.placement == "pre":
            x = x + self.attn(self.norm1(x), mask)
            return x + self.ffn(self.norm2(x))
        # post-LN, and DeepNorm (post-LN with the residual scaled by alpha)
        x = self.norm1(self.alpha * x + self.attn(x, mask))
        return self.norm2(self.alpha * x + self.ffn(x))
# --8<-- [end:block]


# --8<-- [start:model]
class TinyLM(nn.Module):
    """Embedding, n_layers blocks, (final LN for pre-LN), output projection."""

    def __init__(self, placement: str, n_layers: int = 12, d: int = 64, n_heads: int = 4,
                 vocab: int = 256) -> None:
        super().__init__()
        deep = placement == "deepnorm"
        # DeepNet (Wang et al. 2022), decoder-only: alpha = (2N)^(1/4), beta = (8N)^(-1/4)
        alpha = (2 * n_layers) ** 0.25 if deep else 1.0
        beta = (8 * n_layers) ** -0.25 if deep else 1.0
        self.embed = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(
            Block(d, n_heads, 4 * d, placement, alpha) for _ in range(n_layers))
        self.final_norm = nn.LayerNorm(d) if placement == "pre" else nn.Identity()
        self.head = nn.Linear(d, vocab)
        for name, p in self.named_parameters():  # Xavier everywhere, as in Xiong et al.
            if p.dim() == 2 and "embed" not in name:
                nn.init.xavier_normal_(p)
            elif name.endswith("bias"):
                nn.init.zeros_(p)
        if deep:  # DeepNet: scale v, out and FFN weights by beta (queries and keys stay)
            d_model = d
            for block in self.blocks:
                with torch.no_grad():
                    block.self_attn.in_proj_weight[2 * d_model:].mul_(beta)
                    block.self_attn.out_proj.weight.mul_(beta)
                    block.linear1.weight.mul_(beta)
                    block.linear2.weight.mul_(beta)
        nn.init.normal_(self.embed.weight, std=1.0)

    def forward(self, ids: Tensor) -> Tensor:
        n = ids.shape[1]
        mask = torch.ones(n, n, dtype=torch.bool).triu(1)  # True = masked (MHA convention)
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.final_norm(x))
# --8<-- [end:model]


# --8<-- [start:measure]
def ffn_grad_norms(placement: str, n_layers: int = 12, seeds: int = 16, batch: int = 8,
                   seq: int = 32, first_seed: int = 0) -> list[float]:
    """Mean over seeds of ||dL/dW2|| (the FFN's output weight) in each layer, at
    initialisation, for a next-token loss on random tokens."""
    totals = [0.0] * n_layers
    for seed in range(first_seed, first_seed + seeds):
        torch.manual_seed(seed)
        model = TinyLM(placement, n_layers)
        ids = torch.randint(0, 256, (batch, seq + 1))
        logits = model(ids[:, :-1])
        F.cross_entropy(logits.reshape(-1, 256), ids[:, 1:].reshape(-1)).backward()
        for i, block in enumerate(model.blocks):
            totals[i] += block.linear2.weight.grad.norm().item() / seeds
    return totals
# --8<-- [end:measure]


# --8<-- [start:qknorm]
def attention_logits(x: Tensor, w_q: Tensor, w_k: Tensor, qk_norm: bool) -> Tensor:
    """Scores q k^T / sqrt(d) of one head; with QK-norm, q and k are RMS-normalised first
    (gain 1 here), so every |score| <= sqrt(d) however large W_q and W_k grow."""
    q, k = x @ w_q, x @ w_k
    if qk_norm:
        q = q / q.pow(2).mean(-1, keepdim=True).sqrt()
        k = k / k.pow(2).mean(-1, keepdim=True).sqrt()
    return q @ k.T / q.shape[-1] ** 0.5
# --8<-- [end:qknorm]


def late_early_ratio(norms: list[float]) -> float:
    """Mean over the last half of the layers divided by the mean over the first half."""
    half = len(norms) // 2
    return (sum(norms[half:]) / (len(norms) - half)) / (sum(norms[:half]) / half)


if __name__ == "__main__":
    torch.set_num_threads(1)
    n_layers = 12
    print(f"||dL/dW2|| of each layer's FFN at initialisation "
          f"({n_layers} layers, d = 64, mean of 16 seeds)")
    results = {p: ffn_grad_norms(p, n_layers) for p in ("post", "pre", "deepnorm")}
    print(f"{'layer':>5} " + " ".join(f"{p:>9}" for p in results))
    for i in range(n_layers):
        print(f"{i + 1:5d} " + " ".join(f"{results[p][i]:9.4f}" for p in results))
    print("layers 7-12 / layers 1-6: " + "   ".join(
        f"{p} {late_early_ratio(v):.2f}" for p, v in results.items()))
    alpha, beta = (2 * n_layers) ** 0.25, (8 * n_layers) ** -0.25
    print(f"DeepNorm, {n_layers} layers: alpha = {alpha:.3f}, beta = {beta:.3f}, "
          f"beta / alpha = {beta / alpha:.3f}; deepnorm / post = "
          f"{sum(results['deepnorm']) / sum(results['post']):.3f}")
    print()
    print("Last layer's ||dL/dW2|| against depth (mean of 8 seeds)")
    print(f"{'layers':>6} {'post':>7} {'pre':>7}")
    for depth in (3, 6, 12, 24):
        row = [ffn_grad_norms(p, depth, seeds=8)[-1] for p in ("post", "pre")]
        print(f"{depth:6d} {row[0]:7.4f} {row[1]:7.4f}")
    print()
    torch.manual_seed(0)
    x, w_q, w_k = torch.randn(64, 64), torch.randn(64, 64) / 8, torch.randn(64, 64) / 8
    print("Largest |attention logit| of one head (d = 64) as W_q and W_k grow by a factor s")
    print(f"{'s':>4} {'plain':>9} {'QK-norm':>8}")
    for scale in (1, 4, 16):
        plain = attention_logits(x, scale * w_q, scale * w_k, qk_norm=False).abs().max().item()
        normed = attention_logits(x, scale * w_q, scale * w_k, qk_norm=True).abs().max().item()
        print(f"{scale:4d} {plain:9.1f} {normed:8.2f}")
