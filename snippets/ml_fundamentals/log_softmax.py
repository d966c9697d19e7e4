"""Why take the log of softmax: log-sum-exp, stability, NLL / cross-entropy and its gradient.

Used by the page ml-fundamentals/log-softmax (source question A10).
"""

from __future__ import annotations

import math

import numpy as np
import torch


# --8<-- [start:naive]
def naive_log_softmax(z: torch.Tensor) -> torch.Tensor:
    """log(exp(z) / sum(exp(z))), exactly as written: overflows and underflows."""
    e = torch.exp(z)
    return torch.log(e / e.sum(dim=-1, keepdim=True))
# --8<-- [end:naive]


# --8<-- [start:stable]
def logsumexp(z: torch.Tensor) -> torch.Tensor:
    """log(sum(exp(z))) over the last dimension, computed as m + log(sum(exp(z - m)))."""
    m = z.amax(dim=-1, keepdim=True)
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))  # all -inf rows stay -inf
    return m + torch.log(torch.exp(z - m).sum(dim=-1, keepdim=True))


def log_softmax(z: torch.Tensor) -> torch.Tensor:
    """log softmax(z) = z - logsumexp(z), computed as (z - m) - log(sum(exp(z - m))):
    no exp of a large number, no log of 0, and m is never added back and subtracted again."""
    shifted = z - z.amax(dim=-1, keepdim=True)
    return shifted - torch.log(torch.exp(shifted).sum(dim=-1, keepdim=True))
# --8<-- [end:stable]


# --8<-- [start:cross-entropy]
def cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean negative log-likelihood of the target classes, from logits of shape (N, C)."""
    log_probs = log_softmax(logits)
    return -log_probs[torch.arange(len(target)), target].mean()


def cross_entropy_grad(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """d(cross_entropy)/d(logits) in closed form: (softmax(z) - one_hot(y)) / N."""
    probs = torch.exp(log_softmax(logits))
    one_hot = torch.nn.functional.one_hot(target, logits.shape[-1]).to(logits.dtype)
    return (probs - one_hot) / len(target)
# --8<-- [end:cross-entropy]


# --8<-- [start:sequence]
def sequence_log_prob(token_probs: torch.Tensor) -> tuple[float, float]:
    """Probability of a whole sequence: the product of its token probabilities
    underflows; the sum of their logs does not."""
    return float(torch.prod(token_probs)), float(torch.log(token_probs).sum())
# --8<-- [end:sequence]


def _fmt(t: torch.Tensor) -> str:
    return "[" + ", ".join(f"{v:.4g}" for v in t.tolist()) + "]"


if __name__ == "__main__":
    print("log-softmax of logits z            naive exp/sum       log(torch.softmax)  stable")
    cases = [
        ("[1000, 0, -1000] float32", torch.tensor([1000.0, 0.0, -1000.0])),
        ("[0, -200] float32", torch.tensor([0.0, -200.0])),
        ("[12, 0] float16", torch.tensor([12.0, 0.0], dtype=torch.float16)),
    ]
    for name, z in cases:
        naive = _fmt(naive_log_softmax(z))
        via_softmax = _fmt(torch.log(torch.softmax(z, dim=-1)))
        print(f"{name:28s} {naive:19s} {via_softmax:19s} {_fmt(log_softmax(z))}")
    limits = ", ".join(
        f"{str(dt).removeprefix('torch.')} {math.log(torch.finfo(dt).max):.2f}"
        for dt in (torch.float16, torch.bfloat16, torch.float32, torch.float64)
    )
    print(f"exp(z) overflows for z above: {limits}")
    tiny32 = float(np.finfo(np.float32).smallest_subnormal)
    tiny64 = float(np.finfo(np.float64).smallest_subnormal)
    print(f"smallest positive float32 {tiny32:.1e} = exp({math.log(tiny32):.2f}), "
          f"float64 {tiny64:.1e} = exp({math.log(tiny64):.2f})")
    kept, lost = (torch.exp(torch.tensor(v)).item() for v in (-103.9, -104.0))
    print(f"float32 exp(z) rounds to 0 below z = log(tiny / 2) = {math.log(tiny32 / 2):.2f}: "
          f"exp(-103.9) = {kept:.1e}, exp(-104.0) = {lost:.1e}")

    probs = torch.full((500,), 0.1, dtype=torch.float64)
    product, log_sum = sequence_log_prob(probs)
    print(f"\n500 tokens with p = 0.1: product = {product}, sum of logs = {log_sum:.4f}, "
          f"perplexity = {math.exp(-log_sum / 500):.1f}")

    z = torch.tensor([[2.0, 1.0, 0.1]], requires_grad=True)
    y = torch.tensor([0])
    loss = cross_entropy(z, y)
    loss.backward()
    print(f"\nlogits {_fmt(z[0].detach())}, target 0: softmax {_fmt(torch.softmax(z[0], -1))}")
    print(f"loss {loss.item():.4f}; autograd grad {_fmt(z.grad[0])}; "
          f"p - y {_fmt(cross_entropy_grad(z.detach(), y)[0])}")

    # Confidently wrong: p_y is tiny. The gradient of p_y vanishes; that of -log p_y does not.
    z = torch.tensor([10.0, 0.0], requires_grad=True)
    p_y = torch.softmax(z, dim=-1)[1]
    (grad_p,) = torch.autograd.grad(p_y, z)
    (grad_nll,) = torch.autograd.grad(-log_softmax(z)[1], z)
    print(f"\nlogits [10, 0], target 1: p_y = {p_y.item():.2e}")
    print(f"d p_y / dz = {_fmt(grad_p)};  d(-log p_y) / dz = {_fmt(grad_nll)}")

    # Softmax applied twice (probabilities passed to a loss that expects logits).
    perfect = 100.0 * torch.nn.functional.one_hot(torch.tensor([3]), 10).float()
    right = torch.nn.functional.cross_entropy(perfect, torch.tensor([3])).item()
    double = torch.nn.functional.cross_entropy(torch.softmax(perfect, -1), torch.tensor([3])).item()
    print(f"\nperfect prediction, 10 classes: cross_entropy(logits) = {right:.4f}, "
          f"cross_entropy(softmax(logits)) = {double:.4f}")

    a, b = 1.7, -0.4
    p = torch.softmax(torch.tensor([a, b]), dim=-1)[0].item()
    print(f"\ntwo classes, logits ({a}, {b}): p = {p:.4f} = sigmoid({a - b:.1f}); "
          f"log(p / (1 - p)) = {math.log(p / (1 - p)):.4f}")
