"""Initialising the rows of new tokens after a vocabulary is extended.

Hewitt (2021): if the new output-embedding rows are the mean of the old rows, the
next-token distribution over the old tokens moves by at most log(1 + k/n) nats (KL), for
any hidden state. Rows near zero can instead take most of the probability when the
old logits are all negative, which trained models' logits often are.
"""

from __future__ import annotations

import math

import torch


# --8<-- [start:init]
def mean_rows(weight: torch.Tensor, k: int) -> torch.Tensor:
    """k new rows, each the mean of the existing rows (Hewitt, 2021)."""
    return weight.mean(dim=0, keepdim=True).expand(k, -1).clone()


def mean_of_pieces(weight: torch.Tensor, pieces: list[list[int]]) -> torch.Tensor:
    """One new row per new token: the mean of the rows of the old tokens it used to split
    into (the new token '模型' was the byte tokens of 模 and 型)."""
    return torch.stack([weight[ids].mean(dim=0) for ids in pieces])


def kl_after_adding(lm_head: torch.Tensor, new_rows: torch.Tensor,
                    hidden: torch.Tensor) -> torch.Tensor:
    """KL(p_before || p_after) of the next-token distribution, per hidden state.

    p_after renormalises over old + new tokens, so for the old tokens
    p_after = p_before * Z / Z' and the KL is log Z' - log Z.
    """
    old = hidden @ lm_head.T
    both = torch.cat([old, hidden @ new_rows.T], dim=-1)
    return torch.logsumexp(both, dim=-1) - torch.logsumexp(old, dim=-1)
# --8<-- [end:init]


def main() -> None:
    torch.manual_seed(0)
    n, k, d = 1000, 20, 64
    shared = torch.nn.functional.normalize(torch.randn(d), dim=0)
    lm_head = torch.randn(n, d) / math.sqrt(d) + shared  # rows share a direction...
    hidden = -8.0 * shared + torch.randn(200, d)  # ...that the hidden states point against
    old_logits = hidden @ lm_head.T
    print(f"old logits: mean {old_logits.mean():.2f}, max {old_logits.max():.2f} "
          f"(n = {n} old tokens, k = {k} new)")
    for name, rows in [("zero rows", torch.zeros(k, d)),
                       ("small random rows", 0.02 * torch.randn(k, d)),
                       ("mean of old rows", mean_rows(lm_head, k))]:
        kl = kl_after_adding(lm_head, rows, hidden)
        mass = 1 - torch.exp(-kl)  # probability the new tokens take
        print(f"{name:>17}: KL max {kl.max():.3f} nats, new tokens take "
              f"{mass.mean():.1%} of the probability on average")
    print(f"bound log(1 + k/n) = {math.log(1 + k / n):.3f} nats")


if __name__ == "__main__":
    main()
