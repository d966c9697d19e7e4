"""Measure the bytes a training step really holds: parameters, gradients, optimizer
states, and the activations autograd saves for the backward pass."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import nn


def tensor_bytes(tensors: Iterable[torch.Tensor]) -> int:
    """Bytes of the distinct storages behind `tensors` (views are counted once)."""
    seen: dict[int, int] = {}
    for t in tensors:
        storage = t.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
    return sum(seen.values())


# --8<-- [start:model-states]
def optimizer_state_bytes(optimizer: torch.optim.Optimizer) -> tuple[int, int]:
    """(bytes of per-parameter state tensors, bytes of scalar state such as `step`)."""
    per_param, scalars = [], []
    for param, state in optimizer.state.items():
        for value in state.values():
            if torch.is_tensor(value):
                same_size = value.numel() == param.numel()
                (per_param if same_size else scalars).append(value)
    return tensor_bytes(per_param), tensor_bytes(scalars)


def model_state_report(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict[str, int]:
    """Measured bytes of weights, gradients and optimizer states after a step."""
    params = list(model.parameters())
    states, scalars = optimizer_state_bytes(optimizer)
    return {
        "weights": tensor_bytes(params),
        "gradients": tensor_bytes(p.grad for p in params if p.grad is not None),
        "optimizer states": states,
        "optimizer scalars": scalars,
    }
# --8<-- [end:model-states]


# --8<-- [start:master-weights]
class MasterWeightAdamW:
    """Mixed-precision AdamW (Micikevicius et al. 2018): the model holds 16-bit weights and
    gradients; the optimizer updates an fp32 master copy and writes it back."""

    def __init__(self, model16: nn.Module, lr: float = 1e-3) -> None:
        self.params16 = list(model16.parameters())
        self.master = [nn.Parameter(p.detach().float().clone()) for p in self.params16]
        self.optimizer = torch.optim.AdamW(self.master, lr=lr)

    def step(self) -> None:
        for p16, p32 in zip(self.params16, self.master, strict=True):
            p32.grad = p16.grad.float()  # transient fp32 gradient, freed below
        self.optimizer.step()
        with torch.no_grad():
            for p16, p32 in zip(self.params16, self.master, strict=True):
                p16.copy_(p32)  # round the updated master weights to 16 bits
                p32.grad = None

    def report(self) -> dict[str, int]:
        states, scalars = optimizer_state_bytes(self.optimizer)
        return {
            "weights": tensor_bytes(self.params16),
            "gradients": tensor_bytes(p.grad for p in self.params16 if p.grad is not None),
            "master weights": tensor_bytes(self.master),
            "optimizer states": states,
            "optimizer scalars": scalars,
        }
# --8<-- [end:master-weights]


# --8<-- [start:saved-activations]
def saved_activation_bytes(
    fn: Callable[[], torch.Tensor], exclude: Iterable[torch.Tensor] = ()
) -> tuple[torch.Tensor, int]:
    """Run `fn` (a forward pass) and count the bytes autograd saves for the backward pass.

    Tensors sharing storage with `exclude` (pass the model's parameters: they are saved by
    reference and already counted as weights) are left out.
    """
    skip = {t.untyped_storage().data_ptr() for t in exclude}
    saved: list[torch.Tensor] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        if t.untyped_storage().data_ptr() not in skip:
            saved.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return out, tensor_bytes(saved)
# --8<-- [end:saved-activations]


def tiny_llama(dtype: torch.dtype = torch.float32) -> nn.Module:
    """A 2-layer LLaMA with random weights (GQA: 4 query heads, 2 KV heads)."""
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
    torch.manual_seed(0)
    return LlamaForCausalLM(cfg).to(dtype)


if __name__ == "__main__":
    from snippets.training_efficiency.memory_calculator import (
        RECIPES,
        LlamaShape,
        kv_cache_bytes,
        model_state_bytes,
        parameter_count,
    )

    shape = LlamaShape(vocab=64, hidden=32, intermediate=48, layers=2, heads=4, kv_heads=2)
    n = parameter_count(shape)
    ids = torch.randint(0, 64, (2, 8), generator=torch.Generator().manual_seed(1))

    model = tiny_llama()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(input_ids=ids, labels=ids).loss.backward()
    opt.step()
    measured = model_state_report(model, opt)
    predicted = model_state_bytes(n, RECIPES["fp32 AdamW"])
    print(f"tiny LLaMA, {n:,} parameters")
    print(f"{'fp32 AdamW':18}{'measured':>10}{'predicted':>11}")
    for key, value in predicted.items():
        print(f"  {key:16}{measured.get(key, 0):>10,}{int(value):>11,}")
    print(f"  {'step scalars':16}{measured['optimizer scalars']:>10,}{'-':>11}")

    model16 = tiny_llama(torch.bfloat16)
    trainer = MasterWeightAdamW(model16)
    model16(input_ids=ids, labels=ids).loss.backward()
    trainer.step()
    measured = trainer.report()
    predicted = model_state_bytes(n, RECIPES["mixed-precision AdamW"])
    print(f"{'bf16 + fp32 master':18}{'measured':>10}{'predicted':>11}")
    for key, value in predicted.items():
        print(f"  {key:16}{measured[key]:>10,}{int(value):>11,}")

    cache = model16(input_ids=ids, use_cache=True).past_key_values
    kv = tensor_bytes(t for layer in cache.layers for t in (layer.keys, layer.values))
    print(f"KV cache, batch 2 x 8 tokens, bf16: measured {kv:,} B, "
          f"formula {kv_cache_bytes(shape, seq_len=8, batch=2):,} B")
