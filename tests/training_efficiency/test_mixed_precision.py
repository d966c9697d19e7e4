"""Number formats, autocast's op lists and loss scaling, as the mixed-precision page states."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from snippets.training_efficiency.autocast_policy import (
    TRANSFORMER_OPS,
    autocast_output_dtype,
    cuda_autocast_lists,
    cuda_policy,
    has_autocast_kernel,
    tiny_llama_trace,
)
from snippets.training_efficiency.fp_formats import describe, round_trip
from snippets.training_efficiency.loss_scaling import (
    DynamicLossScaler,
    fp16_weight_gradient,
    reference_weight_gradient,
    run_scaler,
)

# ---------------------------------------------------------------- formats


@pytest.mark.parametrize("name, np_type", [("fp16", np.float16), ("fp32", np.float32)])
def test_formats_match_numpy_finfo(name, np_type):
    ours, ref = describe(name), np.finfo(np_type)
    assert ours.max == float(ref.max)
    assert ours.smallest_normal == float(ref.smallest_normal)
    assert ours.smallest_subnormal == float(ref.smallest_subnormal)
    assert ours.eps == float(ref.eps)
    assert (ours.exponent_bits, ours.mantissa_bits) == (ref.nexp, ref.nmant)


def test_bf16_closed_form():
    """bf16: 8 exponent bits (fp32's range), 7 fraction bits."""
    f = describe("bf16")
    assert (f.exponent_bits, f.mantissa_bits) == (8, 7)
    assert f.max == (2 - 2**-7) * 2.0**127
    assert f.smallest_normal == 2.0**-126 == describe("fp32").smallest_normal
    assert f.smallest_subnormal == 2.0**-133
    assert f.eps == 2.0**-7


def test_round_trip_claims():
    assert round_trip(70000.0, "fp16") == float("inf")  # above 65504
    assert round_trip(70000.0, "bf16") == 70144.0  # representable, but coarse
    assert round_trip(1e-8, "fp16") == 0.0  # below fp16's smallest subnormal 2**-24
    assert round_trip(2.0**-24, "fp16") == 2.0**-24
    assert round_trip(1e-8, "bf16") != 0.0
    for fmt in ("fp16", "bf16"):  # an update below eps/2 of the weight is lost
        assert round_trip(1.0 + 1e-4, fmt) == 1.0
    assert round_trip(1.0 + 1e-4, "fp32") != 1.0
    assert round_trip(1.0 + 1e-3, "fp16") != 1.0 and round_trip(1.0 + 1e-3, "bf16") == 1.0


# ---------------------------------------------------------------- autocast on CPU (measured)

CPU_LOWER = {"linear", "matmul", "bmm", "scaled_dot_product_attention"}
CPU_FP32 = {"cross_entropy_loss", "mse_loss"}
CPU_NOT_LISTED = {"softmax", "log_softmax", "layer_norm", "rms_norm", "gelu", "silu", "add",
                  "sum", "exp"}


@pytest.mark.parametrize("label", list(TRANSFORMER_OPS))
def test_cpu_autocast_output_dtypes(label):
    aten, op = TRANSFORMER_OPS[label]
    from_fp32 = autocast_output_dtype(op, torch.float32)
    from_bf16 = autocast_output_dtype(op, torch.bfloat16)
    if aten in CPU_LOWER:
        assert from_fp32 == from_bf16 == torch.bfloat16
    elif aten in CPU_FP32:
        assert from_fp32 == from_bf16 == torch.float32
    else:
        assert aten in CPU_NOT_LISTED
        # not in a CPU list: autocast does nothing, the op runs in its input dtype
        assert (from_fp32, from_bf16) == (torch.float32, torch.bfloat16)


def test_cpu_dispatcher_agrees_with_measurement():
    for aten in CPU_LOWER | CPU_FP32:
        assert has_autocast_kernel(f"aten::{aten}", "CPU"), aten
    for aten in ("softmax.int", "log_softmax.int", "layer_norm", "rms_norm", "gelu", "silu",
                 "exp", "sum"):
        assert not has_autocast_kernel(f"aten::{aten}", "CPU"), aten


# ---------------------------------------------------------------- autocast on CUDA (header)


def test_cuda_header_lists_are_what_the_binary_registers():
    lists = cuda_autocast_lists()
    assert sum(len(v) for v in lists.values()) > 100
    for ops in lists.values():
        for op in ops:
            assert has_autocast_kernel(f"aten::{op}", "CUDA"), op


def test_cuda_policies_the_page_states():
    lists = cuda_autocast_lists()
    for op in ("linear", "matmul", "bmm", "baddbmm", "addmm", "scaled_dot_product_attention"):
        assert cuda_policy(op, lists) == "lower_precision_fp", op
    for op in ("softmax", "log_softmax", "layer_norm", "rms_norm", "group_norm", "exp", "log",
               "pow", "rsqrt", "sum", "cumsum", "nll_loss", "mse_loss", "kl_div",
               "binary_cross_entropy_with_logits"):
        assert cuda_policy(op, lists) == "fp32", op
    for op in ("gelu", "silu", "add", "mul", "dropout", "cross_entropy_loss"):
        assert cuda_policy(op, lists) == "none", op
    # cross_entropy has no CUDA autocast kernel; it decomposes into two fp32-listed ops
    assert not has_autocast_kernel("aten::cross_entropy_loss", "CUDA")
    assert has_autocast_kernel("aten::log_softmax.int", "CUDA")
    assert has_autocast_kernel("aten::nll_loss", "CUDA")


def test_cpu_and_cuda_lists_differ_on_softmax_and_norms():
    lists = cuda_autocast_lists()
    for op in ("softmax.int", "layer_norm", "rms_norm", "exp", "sum"):
        assert has_autocast_kernel(f"aten::{op}", "CUDA")
        assert not has_autocast_kernel(f"aten::{op}", "CPU")
        assert cuda_policy(op.split(".")[0], lists) == "fp32"


def test_tiny_llama_under_autocast():
    dtypes, model = tiny_llama_trace()
    assert dtypes["mm"] == {"bfloat16"} and dtypes["bmm"] == {"bfloat16"}
    assert dtypes["_softmax"] == {"float32"}  # transformers asks softmax for dtype=float32
    assert dtypes["rsqrt"] == {"float32"}  # LlamaRMSNorm upcasts to float32
    assert dtypes["_log_softmax"] == {"float32"}
    for p in model.parameters():  # autocast casts copies; the weights stay fp32
        assert p.dtype == torch.float32 and p.grad.dtype == torch.float32


# ---------------------------------------------------------------- loss scaling


def test_fp16_gradients_underflow_without_scaling_and_survive_with_it():
    ref = reference_weight_gradient()
    assert bool((ref != 0).all())
    unscaled = fp16_weight_gradient(loss_scale=1.0)
    assert float((unscaled == 0).float().mean()) > 0.2
    scaled = fp16_weight_gradient(loss_scale=2.0**16)
    assert bool((scaled != 0).all())
    assert float((scaled.double() - ref).norm() / ref.norm()) < 1e-2


def test_too_large_a_scale_overflows():
    assert not bool(torch.isfinite(fp16_weight_gradient(loss_scale=2.0**40)).all())


@pytest.mark.parametrize("overflow", [set(), {0}, {1, 2, 6}, {3, 4, 5, 9}, set(range(10))])
@pytest.mark.parametrize("interval", [1, 3, 2000])
def test_scaler_matches_torch_gradscaler(overflow, interval):
    ours = run_scaler(DynamicLossScaler(init_scale=2.0**10, growth_interval=interval), overflow)
    ref = run_scaler(torch.amp.GradScaler("cpu", init_scale=2.0**10, growth_interval=interval),
                     overflow)
    assert ours[0] == ref[0]  # scale after every step
    assert ours[1] == ref[1]  # which steps were applied
    assert ours[1] == [i not in overflow for i in range(10)]
    assert torch.equal(ours[2], ref[2])


def test_scaler_rules_in_closed_form():
    s = DynamicLossScaler(init_scale=8.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=2)
    for found_inf in (False, False, True, False, True, False, False):
        s._update(found_inf)
    # 8 -> (2 clean) 16 -> inf 8 -> clean(1) -> inf 4 -> (2 clean) 8
    assert s.scale == 8.0


def test_binary_cross_entropy_is_banned_on_cuda_and_fp32_on_cpu():
    """CUDA autocast registers an error kernel for it; CPU autocast runs it in fp32."""
    lists = cuda_autocast_lists()
    assert has_autocast_kernel("aten::binary_cross_entropy", "CUDA")
    assert cuda_policy("binary_cross_entropy", lists) == "none"  # not a cast policy
    p = torch.rand(4, dtype=torch.bfloat16)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        out = torch.nn.functional.binary_cross_entropy(p, torch.ones(4, dtype=torch.bfloat16))
    assert out.dtype == torch.float32


def test_cpu_fp32_list_is_losses_linear_algebra_and_ffts():
    """What the page says about the CPU fp32 list, checked in the installed binary."""
    for op in ("nll_loss", "mse_loss", "kl_div", "linalg_inv", "cholesky", "fft_fft", "fft_rfft",
               "cdist", "prod"):
        assert has_autocast_kernel(f"aten::{op}", "CPU"), op
    x = torch.randn(8, 8, dtype=torch.bfloat16)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        assert torch.fft.rfft(x).dtype == torch.complex64  # computed in fp32
        assert torch.prod(x).dtype == torch.float32
