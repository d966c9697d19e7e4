"""Which operations autocast runs in 16-bit and which in fp32.

Two sources of truth, both from the installed torch:

* CPU: measured. Each operation is run under ``torch.autocast("cpu", dtype=torch.bfloat16)``
  and the output dtype is read.
* CUDA: this machine has no GPU, so the CUDA lists are read from the installed header
  ``torch/include/ATen/autocast_mode.h`` (the macros that ``autocast_mode.cpp`` expands into
  CUDA autocast kernels), and checked against the dispatcher's registration table.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

HEADER = Path(torch.__file__).parent / "include" / "ATen" / "autocast_mode.h"


# --8<-- [start:probe]
def autocast_output_dtype(
    op: Callable[[torch.Tensor], torch.Tensor], input_dtype: torch.dtype
) -> torch.dtype:
    """Run `op` on CPU under bf16 autocast with inputs of `input_dtype`; return output dtype."""
    x = torch.randn(2, 4, 8, generator=torch.Generator().manual_seed(0)).to(input_dtype)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        return op(x).dtype
# --8<-- [end:probe]


_W = torch.randn(8, 8, generator=torch.Generator().manual_seed(1))
_TARGET = torch.arange(8)  # 8 class labels for the (2*4) rows

# What a transformer block does, one op at a time: name -> (aten op name, callable)
TRANSFORMER_OPS: dict[str, tuple[str, Callable[[torch.Tensor], torch.Tensor]]] = {
    "linear (Q/K/V/O, MLP, LM head)": ("linear", lambda x: F.linear(x, _W.to(x.dtype))),
    "matmul": ("matmul", lambda x: x @ x.transpose(-1, -2)),
    "bmm (QK^T, PV)": ("bmm", lambda x: torch.bmm(x, x.transpose(1, 2))),
    "scaled_dot_product_attention": (
        "scaled_dot_product_attention", lambda x: F.scaled_dot_product_attention(x, x, x)
    ),
    "softmax": ("softmax", lambda x: torch.softmax(x, dim=-1)),
    "log_softmax": ("log_softmax", lambda x: torch.log_softmax(x, dim=-1)),
    "layer_norm": ("layer_norm", lambda x: F.layer_norm(x, (8,))),
    "rms_norm": ("rms_norm", lambda x: F.rms_norm(x, (8,))),
    "gelu": ("gelu", F.gelu),
    "silu": ("silu", F.silu),
    "add (residual)": ("add", lambda x: x + x),
    "sum": ("sum", lambda x: x.sum()),
    "exp": ("exp", torch.exp),
    "cross_entropy": ("cross_entropy_loss", lambda x: F.cross_entropy(x.flatten(0, 1), _TARGET)),
    "mse_loss": ("mse_loss", lambda x: F.mse_loss(x, x.flip(0))),
}


# Composite ops with no CUDA autocast kernel of their own decompose into ops that have one.
CUDA_NOTES = {"cross_entropy_loss": " (runs as log_softmax + nll_loss, both fp32)"}


# --8<-- [start:cuda-lists]
def cuda_autocast_lists(header: Path = HEADER) -> dict[str, set[str]]:
    """Parse the CUDA autocast op lists from ATen's header: policy -> {"op" or "op.overload"}."""
    text = header.read_text()
    macros = {
        "AT_FORALL_LOWER_PRECISION_FP": "lower_precision_fp",  # cast inputs to fp16/bf16
        "AT_FORALL_FP32": "fp32",  # cast inputs to fp32
        "AT_FORALL_FP32_SET_OPT_DTYPE": "fp32",  # run in fp32 unless dtype= is given
        "AT_FORALL_PROMOTE": "promote",  # cast all inputs to the widest input type
    }
    lists: dict[str, set[str]] = defaultdict(set)
    for macro, policy in macros.items():
        body = re.search(rf"#define {macro}\(_\)(.*?)\n\n", text, re.S)
        assert body, f"{macro} not found in {header}"
        for name, overload in re.findall(r"_\((\w+)(?:,\s*(\w+))?\)", body.group(1)):
            lists[policy].add(f"{name}.{overload}" if overload else name)
    return dict(lists)


def cuda_policy(aten_op: str, lists: dict[str, set[str]]) -> str:
    """The CUDA autocast policy of an op (any overload); 'none' means it runs in its input dtype."""
    for policy, ops in lists.items():
        if any(entry.split(".")[0] == aten_op for entry in ops):
            return policy
    return "none"
# --8<-- [end:cuda-lists]


def has_autocast_kernel(qualified_op: str, device: str) -> bool:
    """True if the dispatcher has an autocast kernel (not a fallthrough) for op on device.

    `qualified_op` is e.g. "aten::softmax.int"; `device` is "CPU" or "CUDA".
    """
    table = torch._C._dispatch_dump_table(qualified_op)
    for line in table.splitlines():
        if line.startswith(f"Autocast{device}:"):
            return "fallthrough" not in line
    return False


# --8<-- [start:trace]
class DtypeTrace(TorchDispatchMode):
    """Record the output dtype of every ATen op that runs (after autocast has cast inputs)."""

    def __init__(self) -> None:
        super().__init__()
        self.dtypes: dict[str, set[str]] = defaultdict(set)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        first = out[0] if isinstance(out, (tuple, list)) else out
        if isinstance(first, torch.Tensor) and first.is_floating_point():
            name = func.overloadpacket.__name__
            self.dtypes[name].add(str(first.dtype).removeprefix("torch."))
        return out
# --8<-- [end:trace]


def tiny_llama_trace() -> tuple[dict[str, set[str]], torch.nn.Module]:
    """One forward and backward of a tiny random LLaMA under CPU bf16 autocast."""
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(
        vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
        num_attention_heads=4, num_key_value_heads=2, attn_implementation="eager",
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg)
    ids = torch.randint(0, 64, (2, 8))
    trace = DtypeTrace()
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16), trace:
        loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    return dict(trace.dtypes), model


def _short(dtype: torch.dtype) -> str:
    return {torch.float32: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[dtype]


if __name__ == "__main__":
    lists = cuda_autocast_lists()
    print(f"{'op':32}{'CPU: fp32 in':>13}{'CPU: bf16 in':>13}   CUDA policy (header)")
    for label, (aten, op) in TRANSFORMER_OPS.items():
        cpu32 = _short(autocast_output_dtype(op, torch.float32))
        cpu16 = _short(autocast_output_dtype(op, torch.bfloat16))
        note = CUDA_NOTES.get(aten, "")
        print(f"{label:32}{cpu32:>13}{cpu16:>13}   {cuda_policy(aten, lists)}{note}")
    print()
    dtypes, model = tiny_llama_trace()
    print("tiny LLaMA forward under CPU bf16 autocast, output dtype of each ATen op:")
    for name in ("embedding", "mm", "bmm", "_softmax", "silu", "pow", "rsqrt", "add",
                 "_log_softmax", "nll_loss_forward"):
        print(f"  {name:18}{', '.join(sorted(dtypes[name]))}")
    param_dtypes = sorted({_short(p.dtype) for p in model.parameters()})
    grad_dtypes = sorted({_short(p.grad.dtype) for p in model.parameters()})
    print(f"parameters: {', '.join(param_dtypes)}; their gradients: {', '.join(grad_dtypes)}")
