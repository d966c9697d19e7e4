"""Gradient accumulation: equal to one large batch only when the loss is normalised right.

A tiny token-level language model (embedding, MLP, output head) is trained on sequences of
different lengths. Padding positions carry the label -100 and are ignored by the loss,
exactly as in Hugging Face causal-LM training.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

IGNORE_INDEX = -100
MicroBatch = tuple[torch.Tensor, torch.Tensor]  # (input ids, labels), both (batch, seq)


class TinyTokenModel(nn.Module):
    """Embedding -> per-token MLP -> vocabulary logits. Optional BatchNorm for the pitfall."""

    def __init__(self, vocab: int = 32, dim: int = 16, batch_norm: bool = False) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.norm: nn.Module = nn.BatchNorm1d(dim) if batch_norm else nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.head = nn.Linear(dim, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        h = self.embed(ids)  # (batch, seq, dim)
        if isinstance(self.norm, nn.BatchNorm1d):
            h = self.norm(h.transpose(1, 2)).transpose(1, 2)  # statistics over batch and seq
        else:
            h = self.norm(h)
        return self.head(h + self.mlp(h))  # (batch, seq, vocab)


def make_batch(
    lengths: Sequence[int], vocab: int = 32, seed: int = 0
) -> MicroBatch:
    """Random sequences of the given lengths, right-padded; padding labels are IGNORE_INDEX."""
    gen = torch.Generator().manual_seed(seed)
    width = max(lengths)
    ids = torch.zeros(len(lengths), width, dtype=torch.long)
    labels = torch.full((len(lengths), width), IGNORE_INDEX, dtype=torch.long)
    for row, n in enumerate(lengths):
        ids[row, :n] = torch.randint(1, vocab, (n,), generator=gen)
        labels[row, :n] = torch.randint(1, vocab, (n,), generator=gen)
    return ids, labels


def split_rows(batch: MicroBatch, size: int) -> list[MicroBatch]:
    """Cut a batch into micro-batches of `size` rows (the last may be smaller)."""
    ids, labels = batch
    return [(ids[i : i + size], labels[i : i + size]) for i in range(0, len(ids), size)]


# --8<-- [start:loss]
def token_loss_sum(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Sum of per-token cross-entropy over labelled tokens, and how many tokens that is."""
    loss_sum = F.cross_entropy(
        logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE_INDEX, reduction="sum"
    )
    return loss_sum, int((labels != IGNORE_INDEX).sum())
# --8<-- [end:loss]


def full_batch_gradients(model: nn.Module, batch: MicroBatch) -> dict[str, torch.Tensor]:
    """Gradients of the per-token mean loss over one big batch (the reference)."""
    model.zero_grad(set_to_none=True)
    loss_sum, n_tokens = token_loss_sum(model(batch[0]), batch[1])
    (loss_sum / n_tokens).backward()
    return {name: p.grad.clone() for name, p in model.named_parameters()}


# --8<-- [start:accumulate]
def accumulate_gradients(
    model: nn.Module, micro_batches: list[MicroBatch], normalisation: str = "token"
) -> dict[str, torch.Tensor]:
    """Forward and backward every micro-batch; .grad sums the contributions.

    normalisation="token": divide each micro-batch's loss SUM by the number of labelled
    tokens in the whole accumulated batch, so the summed gradient is the gradient of the
    full-batch per-token mean.
    normalisation="micro_batch_mean": average inside each micro-batch, then divide by the
    number of micro-batches (the common recipe; wrong when token counts differ).
    """
    model.zero_grad(set_to_none=True)
    total_tokens = sum(int((labels != IGNORE_INDEX).sum()) for _, labels in micro_batches)
    for ids, labels in micro_batches:
        loss_sum, n_tokens = token_loss_sum(model(ids), labels)
        if normalisation == "token":
            loss = loss_sum / total_tokens
        elif normalisation == "micro_batch_mean":
            loss = (loss_sum / n_tokens) / len(micro_batches)
        else:
            raise ValueError(f"unknown normalisation {normalisation!r}")
        loss.backward()  # adds into p.grad; activations of this micro-batch are freed
    return {name: p.grad.clone() for name, p in model.named_parameters()}
# --8<-- [end:accumulate]


# --8<-- [start:train-step]
def train_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, micro_batches: list[MicroBatch]
) -> None:
    """One optimizer step over an effective batch made of several micro-batches."""
    accumulate_gradients(model, micro_batches, normalisation="token")
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
# --8<-- [end:train-step]


def max_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    """Largest absolute element-wise difference between two gradient dictionaries."""
    return max(float((a[k] - b[k]).abs().max()) for k in a)


def max_relative_difference(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    """Largest per-tensor relative difference ||a - b|| / ||b||."""
    return max(float((a[k] - b[k]).norm() / b[k].norm()) for k in a)


if __name__ == "__main__":
    torch.manual_seed(0)
    lengths = [3, 5, 12, 16, 4, 6, 2, 16]  # very different sequence lengths
    batch = make_batch(lengths, seed=1)
    micro = split_rows(batch, size=2)  # 4 micro-batches of 2 sequences
    print("labelled tokens per micro-batch:", [int((y != IGNORE_INDEX).sum()) for _, y in micro])

    model = TinyTokenModel()
    reference = full_batch_gradients(model, batch)
    for norm in ("token", "micro_batch_mean"):
        grads = accumulate_gradients(model, micro, normalisation=norm)
        rel = max_relative_difference(grads, reference)
        print(f"{norm:>16}: equals full batch: {rel < 1e-5}, worst relative error {rel:.2f}")

    torch.manual_seed(0)
    bn_model = TinyTokenModel(batch_norm=True)
    equal_batch = make_batch([8] * 8, seed=2)  # no padding: only the BN statistics differ
    bn_reference = full_batch_gradients(bn_model, equal_batch)
    bn_grads = accumulate_gradients(bn_model, split_rows(equal_batch, 2), normalisation="token")
    rel = max_relative_difference(bn_grads, bn_reference)
    print(f"BatchNorm model: equals full batch: {rel < 1e-5}, worst relative error {rel:.2f}")
