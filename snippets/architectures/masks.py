"""Causal versus prefix language-model masks, and what each lets a position depend on."""

from __future__ import annotations

from collections.abc import Callable

import torch
from transformers import LlamaConfig, LlamaModel


# --8<-- [start:masks]
def causal_mask(n: int) -> torch.Tensor:
    """(n, n) bool, True where query i may attend to key j: only j <= i."""
    return torch.ones(n, n, dtype=torch.bool).tril()


def prefix_lm_mask(n: int, prefix_len: int) -> torch.Tensor:
    """Bidirectional inside the first prefix_len tokens, causal after them."""
    mask = causal_mask(n)
    mask[:prefix_len, :prefix_len] = True  # the prefix sees all of itself
    return mask


def loss_mask(n: int, prefix_len: int) -> torch.Tensor:
    """Which positions' next-token predictions are trained: the prefix is context only.
    Position i predicts token i + 1, so the first target is token prefix_len."""
    trained = torch.zeros(n, dtype=torch.bool)
    trained[prefix_len - 1 : n - 1] = True
    return trained
# --8<-- [end:masks]


# --8<-- [start:dependence]
def dependence(hidden: Callable[[torch.Tensor], torch.Tensor], ids: torch.Tensor,
               vocab: int) -> torch.Tensor:
    """D[i, j] = True if changing input token j changes the output at position i."""
    base = hidden(ids)
    n = ids.shape[1]
    dep = torch.zeros(n, n, dtype=torch.bool)
    for j in range(n):
        changed = ids.clone()
        changed[0, j] = (changed[0, j] + 1) % vocab  # swap token j for another one
        dep[:, j] = (hidden(changed) - base)[0].abs().amax(dim=-1) > 1e-5
    return dep


def tiny_llama(seed: int = 0, vocab: int = 50) -> LlamaModel:
    config = LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, attn_implementation="eager")
    torch.manual_seed(seed)
    return LlamaModel(config).eval()


def hidden_with_mask(model: LlamaModel,
                     mask: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """Run transformers' LLaMA with our own (n, n) mask instead of its causal one."""
    additive = torch.zeros(mask.shape).masked_fill(~mask, float("-inf"))[None, None]

    def run(ids: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model(ids, attention_mask=additive).last_hidden_state
    return run
# --8<-- [end:dependence]


def show(mask: torch.Tensor) -> str:
    return "\n".join("  " + " ".join("x" if v else "." for v in row) for row in mask.tolist())


if __name__ == "__main__":
    n, prefix_len, vocab = 7, 4, 50
    model = tiny_llama(vocab=vocab)
    ids = torch.randint(0, vocab, (1, n), generator=torch.Generator().manual_seed(1))
    for name, mask in [("causal LM", causal_mask(n)),
                       (f"prefix LM (prefix = {prefix_len})", prefix_lm_mask(n, prefix_len))]:
        dep = dependence(hidden_with_mask(model, mask), ids, vocab)
        print(f"{name}: output i depends on input j (row i, column j), measured")
        print(show(dep))
        print("  equals the mask:", torch.equal(dep, mask))
    print("trained positions (prefix LM):", loss_mask(n, prefix_len).int().tolist())
