"""Small demonstrations of LoRA pitfalls: rank scaling, merging into quantised weights,
gradient checkpointing with frozen inputs, and serving several adapters in one batch."""

from __future__ import annotations

import math

import torch
from peft import LoraConfig
from torch import nn
from torch.utils.checkpoint import checkpoint

from snippets.fine_tuning.lora import LoRALinear


# --8<-- [start:rank_scaling]
def fit_with_rank(r: int, rslora: bool, alpha: float = 16.0, steps: int = 100,
                  d: int = 64, seed: int = 0) -> tuple[float, float]:
    """Train one LoRA layer (Adam, lr 1e-3) to absorb a fixed rank-8 change of a
    d x d linear map. Returns (final loss, Frobenius norm of the learned update)."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    base = nn.Linear(d, d, bias=False)
    shift = torch.randn(d, 8, generator=g) @ torch.randn(8, d, generator=g) / math.sqrt(8 * d)
    layer = LoRALinear(base, r, alpha, rslora=rslora)
    opt = torch.optim.Adam([layer.A, layer.B], lr=1e-3)
    for _ in range(steps):
        x = torch.randn(256, d, generator=g)
        loss = (layer(x) - x @ (base.weight + shift).T).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item(), layer.delta_weight().norm().item()
# --8<-- [end:rank_scaling]


# --8<-- [start:quantize]
def quantize_4bit(w: torch.Tensor) -> torch.Tensor:
    """Symmetric 4-bit quantisation with one absmax scale per row, returned dequantised.
    (A simple stand-in for QLoRA's blockwise NF4; the rounding argument is the same.)"""
    scale = w.abs().amax(dim=1, keepdim=True) / 7
    return torch.clamp(torch.round(w / scale), -8, 7) * scale


def merge_error(w: torch.Tensor, delta: torch.Tensor, store: str) -> float:
    """Error of merging a LoRA update and storing the result, relative to the update.

    The adapter was trained on top of the quantised base Q(w), so the intended merged
    weight is Q(w) + delta. `store` is "bf16", "fp16" or "4bit" (re-quantise)."""
    intended = quantize_4bit(w) + delta
    if store == "4bit":
        stored = quantize_4bit(intended)
    else:
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[store]
        stored = intended.to(dtype).float()
    return ((stored - intended).norm() / delta.norm()).item()
# --8<-- [end:quantize]


# --8<-- [start:new_tokens]
def lora_config_with_new_tokens(new_token_ids: list[int], targets: list[str]) -> LoraConfig:
    """LoRA on the linear layers, plus trainable rows for tokens added to the vocabulary.

    Without `trainable_token_indices` the new rows of embed_tokens and lm_head keep their
    initial values. For an untied lm_head both matrices need the rows."""
    rows = {"embed_tokens": new_token_ids, "lm_head": new_token_ids}
    return LoraConfig(r=8, lora_alpha=16, target_modules=targets, trainable_token_indices=rows)
# --8<-- [end:new_tokens]


# --8<-- [start:checkpointing]
def lora_gets_gradients(use_reentrant: bool, inputs_require_grad: bool) -> bool:
    """Frozen embedding -> checkpointed block with a LoRA layer -> loss. Do A, B get grads?"""
    torch.manual_seed(0)
    embed = nn.Embedding(16, 8).requires_grad_(False)
    layer = LoRALinear(nn.Linear(8, 8), r=2, alpha=4)
    h = embed(torch.tensor([[1, 2, 3]]))
    if inputs_require_grad:  # what model.enable_input_require_grads() does with a hook
        h.requires_grad_(True)
    out = checkpoint(layer, h, use_reentrant=use_reentrant)
    if not out.requires_grad:  # reentrant checkpoint saw no input needing grad
        return False  # loss.backward() would raise "does not require grad"
    out.pow(2).sum().backward()
    return layer.B.grad is not None
# --8<-- [end:checkpointing]


# --8<-- [start:mixed_batch]
def mixed_batch_lora(x: torch.Tensor, base: nn.Linear,
                     adapters: list[tuple[torch.Tensor, torch.Tensor, float]],
                     adapter_ids: list[int]) -> torch.Tensor:
    """One frozen base layer, several unmerged adapters, one batch.

    Row i of x uses adapters[adapter_ids[i]] = (A, B, scaling); id -1 means the base model.
    Merging any single adapter into base.weight would make this impossible."""
    y = base(x)
    ids = torch.tensor(adapter_ids)
    for k, (a, b, scaling) in enumerate(adapters):
        rows = ids == k
        y[rows] = y[rows] + (x[rows] @ a.T) @ b.T * scaling
    return y
# --8<-- [end:mixed_batch]


if __name__ == "__main__":
    torch.set_num_threads(1)  # same floating-point results on every machine
    print("1) same alpha = 16, Adam, 100 steps: final loss and ||delta W||")
    print(f"{'r':>5}  {'alpha/r: loss':>14} {'norm':>6}   {'alpha/sqrt(r): loss':>20} {'norm':>6}")
    for r in (2, 8, 32, 128):
        loss_a, norm_a = fit_with_rank(r, rslora=False)
        loss_b, norm_b = fit_with_rank(r, rslora=True)
        print(f"{r:>5}  {loss_a:>14.4f} {norm_a:>6.2f}   {loss_b:>20.4f} {norm_b:>6.2f}")

    print("2) merge into a 4-bit base, then store: error relative to the update")
    g = torch.Generator().manual_seed(0)
    w = torch.randn(256, 256, generator=g) * 0.02
    step = (w.abs().amax(dim=1, keepdim=True) / 7).mean().item()
    direction = torch.randn(256, 8, generator=g) @ torch.randn(8, 256, generator=g)
    direction = direction / direction.pow(2).mean().sqrt()  # unit RMS
    print(f"  {'update RMS / 4-bit step':>24} {'bf16':>7} {'fp16':>7} {'4-bit':>7}")
    for rms in (0.1, 0.3, 1.0, 3.0):
        delta = rms * step * direction
        errs = [100 * merge_error(w, delta, store) for store in ("bf16", "fp16", "4bit")]
        print(f"  {rms:>24} " + " ".join(f"{e:>6.1f}%" for e in errs))

    print("3) gradient checkpointing, frozen embeddings: does LoRA get gradients?")
    for reentrant in (True, False):
        for req in (False, True):
            print(f"  use_reentrant={reentrant!s:<5} inputs require grad={req!s:<5} -> "
                  f"{lora_gets_gradients(reentrant, req)}")
