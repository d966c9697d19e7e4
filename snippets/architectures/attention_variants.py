"""Ways to compute attention: scaled dot-product, additive, multiplicative, multi-head,
self versus cross, and Deep Interest Network's un-normalised activation unit."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


# --8<-- [start:sdpa]
def scaled_dot_product(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                       mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """softmax(q k^T / sqrt(d_k)) v; mask is bool, True = may attend."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.softmax(dim=-1)
    return weights @ v, weights
# --8<-- [end:sdpa]


# --8<-- [start:additive]
class AdditiveScore(nn.Module):
    """Bahdanau et al. (2015): score(q, k) = w^T tanh(W_q q + W_k k), a one-hidden-layer MLP."""

    def __init__(self, d_q: int, d_k: int, hidden: int) -> None:
        super().__init__()
        self.w_q = nn.Linear(d_q, hidden, bias=False)
        self.w_k = nn.Linear(d_k, hidden, bias=False)
        self.w = nn.Linear(hidden, 1, bias=False)

    def forward(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        # (B, Tq, 1, h) + (B, 1, Tk, h) -> (B, Tq, Tk)
        return self.w(torch.tanh(self.w_q(q)[:, :, None] + self.w_k(k)[:, None])).squeeze(-1)


class GeneralScore(nn.Module):
    """Luong et al. (2015) "general" (multiplicative): score(q, k) = q^T W k.
    With W = I it is the plain dot product; q^T k / sqrt(d) is the Transformer's version."""

    def __init__(self, d_q: int, d_k: int) -> None:
        super().__init__()
        self.w = nn.Linear(d_k, d_q, bias=False)

    def forward(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        return q @ self.w(k).transpose(-2, -1)


def attend(scores: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Any score function, then the same softmax-weighted average of the values."""
    return scores.softmax(dim=-1) @ v
# --8<-- [end:additive]


# --8<-- [start:mha]
class MultiHeadAttention(nn.Module):
    """h heads of scaled dot-product attention in d/h-dimensional subspaces, concatenated and
    projected. Weights laid out like torch.nn.MultiheadAttention (in_proj packs W_q, W_k, W_v)."""

    def __init__(self, d: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * d, d))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d))
        self.out_proj = nn.Linear(d, d)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def split(self, x: torch.Tensor) -> torch.Tensor:  # (B, T, d) -> (B, h, T, d/h)
        b, t, d = x.shape
        return x.view(b, t, self.n_heads, d // self.n_heads).transpose(1, 2)

    def forward(self, query: torch.Tensor, key_value: torch.Tensor,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        """Self-attention: key_value is query. Cross-attention: key_value is another
        sequence (e.g. the encoder output); queries still come from `query`."""
        w_q, w_k, w_v = self.in_proj_weight.chunk(3)
        b_q, b_k, b_v = self.in_proj_bias.chunk(3)
        q = self.split(F.linear(query, w_q, b_q))
        k = self.split(F.linear(key_value, w_k, b_k))
        v = self.split(F.linear(key_value, w_v, b_v))
        out, _ = scaled_dot_product(q, k, v, mask)  # every head attends independently
        b, h, t, dh = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, t, h * dh))
# --8<-- [end:mha]


# --8<-- [start:din]
class DinActivationUnit(nn.Module):
    """Deep Interest Network (Zhou et al., 2018): the weight of each past behaviour e_j for a
    candidate ad v_A is an MLP output a(e_j, v_A), used as is (no softmax over behaviours)."""

    def __init__(self, d: int, hidden: int = 36) -> None:
        super().__init__()
        # input [v, e, v - e, v * e] (ad, behaviour, ...), as in the authors' reference code
        self.mlp = nn.Sequential(nn.Linear(4 * d, hidden), nn.PReLU(), nn.Linear(hidden, 1))

    def weights(self, behaviours: torch.Tensor, ad: torch.Tensor) -> torch.Tensor:
        ad = ad[:, None].expand_as(behaviours)  # (B, T, d)
        features = torch.cat([ad, behaviours, ad - behaviours, ad * behaviours], dim=-1)
        return self.mlp(features).squeeze(-1)  # (B, T), unbounded, not normalised

    def forward(self, behaviours: torch.Tensor, ad: torch.Tensor,
                mask: torch.Tensor) -> torch.Tensor:
        """User interest for this ad: sum_j a(e_j, v_A) e_j over real behaviours."""
        w = self.weights(behaviours, ad) * mask
        return (w[..., None] * behaviours).sum(dim=1)
# --8<-- [end:din]


if __name__ == "__main__":
    torch.manual_seed(0)
    d, t = 8, 4
    q, k, v = torch.randn(1, 1, d), torch.randn(1, t, d), torch.randn(1, t, d)
    scores = {
        "scaled dot-product": q @ k.transpose(-2, -1) / math.sqrt(d),
        "additive (Bahdanau)": AdditiveScore(d, d, 16)(q, k),
        "general (Luong)": GeneralScore(d, d)(q, k),
    }
    print("softmax attention weights of one query over 4 keys:")
    for name, s in scores.items():
        w = s.softmax(-1)[0, 0]
        print(f"  {name:20s} {[round(x, 3) for x in w.tolist()]}  sum {w.sum():.3f}")
    unit = DinActivationUnit(d)
    behaviours, ad = torch.randn(1, 6, d), torch.randn(1, d)
    w = unit.weights(behaviours, ad)[0]
    print("DIN activation weights over 6 behaviours:", [round(x, 3) for x in w.tolist()])
    print(f"  sum {w.sum():.3f} (not 1: the intensity of interest is kept)")
    doubled = unit.weights(behaviours.repeat(1, 2, 1), ad)[0]
    print(f"  with every behaviour twice: sum {doubled.sum():.3f}")
