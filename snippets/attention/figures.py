"""Figures of the attention-long-context section (SVG, shared by every language).

Regenerate them from the repository root with

    .venv/bin/python -c "from snippets.attention.figures import write_all; write_all()"

The decode-time figure is a wall-clock measurement, so it changes from machine to
machine and run to run; the other figures are deterministic. None of them is part of a
recorded output.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import torch

from snippets.attention.flash import memory_curve
from snippets.attention.gqa import GIB, LLAMA2_70B, llama2_70b_cache_table
from snippets.attention.kv_cache import TinyDecoder
from snippets.attention.rope_scaling import rope_inv_freq, scaled_inv_freq

OUT = Path(__file__).resolve().parents[2] / "docs" / "assets" / "figures" / "attention-long-context"


@torch.no_grad()
def decode_step_times(
    lengths: list[int], repeats: int = 7, d_model: int = 256, n_layers: int = 4, seed: int = 0
) -> dict[str, list[float]]:
    """Seconds to produce the next token when `length` tokens precede it, without and with a
    KV cache (best of `repeats`, which filters out noise from other processes)."""
    torch.manual_seed(seed)
    model = TinyDecoder(
        vocab_size=1000, d_model=d_model, n_heads=8, n_layers=n_layers, max_len=max(lengths) + 1
    ).eval()
    times: dict[str, list[float]] = {"without cache": [], "with cache": []}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one core: less disturbed by other processes
    try:
        for n in lengths:
            ids = torch.randint(0, 1000, (1, n + 1))
            _, cache = model(ids[:, :n])  # the cache a decoder holds after n tokens
            best = {"without cache": float("inf"), "with cache": float("inf")}
            for _ in range(repeats):
                start = time.perf_counter()
                model(ids)  # recompute all n + 1 positions
                best["without cache"] = min(best["without cache"], time.perf_counter() - start)
                start = time.perf_counter()
                model(ids[:, n:], cache)  # project only the new token, attend to the cache
                best["with cache"] = min(best["with cache"], time.perf_counter() - start)
            for name, value in best.items():
                times[name].append(value)
    finally:
        torch.set_num_threads(threads)
    return times


def kv_cache_curve(lengths: list[int]) -> dict[str, list[float]]:
    """GiB of fp16 KV cache for one sequence of Llama-2-70B's shape, per variant."""
    tables = [llama2_70b_cache_table(seq_len=n) for n in lengths]
    return {name: [t[name] / GIB for t in tables] for name in ("MHA", "GQA-8", "MQA")}


def _default_style(plot: Callable[..., Path]) -> Callable[..., Path]:
    """Draw with matplotlib's default style whatever the caller set, so output is stable."""

    @functools.wraps(plot)
    def wrapper(*args, **kwargs) -> Path:
        with plt.style.context("default"), plt.rc_context({"svg.hashsalt": "attention"}):
            return plot(*args, **kwargs)

    return wrapper


def _save(fig: plt.Figure, name: str, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / name
    fig.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return path


@_default_style
def plot_decode_times(lengths: list[int], out_dir: Path = OUT) -> Path:
    times = decode_step_times(lengths)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for name, values in times.items():
        ax.plot(lengths, [1000 * s for s in values], marker="o", label=name)
    ax.set_xlabel("tokens already in the context")
    ax.set_ylabel("time for the next token (ms)")
    ax.set_title("One decoding step of a 4-layer toy model (d = 256) on a CPU")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, "decode-time.svg", out_dir)


@_default_style
def plot_kv_cache(lengths: list[int], out_dir: Path = OUT) -> Path:
    curve = kv_cache_curve(lengths)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for name, values in curve.items():
        ax.plot([n / 1024 for n in lengths], values, marker="o", label=name)
    ax.axhline(80e9 / GIB, color="grey", ls="--", lw=1)  # 80 GB = 74.5 GiB
    ax.text(lengths[0] / 1024, 80e9 / GIB + 5, "memory of one 80 GB GPU", color="grey",
            fontsize=8)
    ax.set_xlabel("context length (K tokens)")
    ax.set_ylabel("KV cache (GiB, fp16, batch 1)")
    shape = LLAMA2_70B
    ax.set_title(
        f"Llama-2-70B shape: {shape['n_layers']} layers, {shape['n_heads']} heads x "
        f"{shape['head_dim']}"
    )
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, "kv-cache-70b.svg", out_dir)


@_default_style
def plot_attention_memory(lengths: list[int], out_dir: Path = OUT) -> Path:
    curve = memory_curve(lengths)
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for name, values in curve.items():
        ax.plot(lengths, [b / 2**20 for b in values], marker="o", label=name)
    ax.set_xlabel("sequence length N")
    ax.set_ylabel("peak MiB (one fp32 head, d = 64)")
    ax.set_title("Naive attention stores N x N scores; blockwise does not")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, "attention-memory.svg", out_dir)


@_default_style
def plot_rope_wavelengths(out_dir: Path = OUT) -> Path:
    """Wavelength (tokens per full turn) of each RoPE frequency pair, Llama-2-7B head."""
    head_dim, base, trained, factor = 128, 10000.0, 4096, 4.0
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    pairs = range(head_dim // 2)
    default = rope_inv_freq(head_dim, base)
    ax.plot(pairs, (2 * torch.pi / default).tolist(), label="RoPE (trained)", lw=2)
    for method in ("linear", "ntk", "yarn"):
        inv_freq = scaled_inv_freq(method, head_dim, base, factor, trained)
        ax.plot(pairs, (2 * torch.pi / inv_freq).tolist(), label=f"{method}, s = 4", lw=1)
    ax.axhline(trained, color="grey", ls="--", lw=1)
    ax.text(0, trained * 1.3, "trained context 4096", color="grey", fontsize=8)
    ax.set_yscale("log")
    ax.set_xlabel("frequency pair i (d = 128, base 10000)")
    ax.set_ylabel("wavelength (tokens)")
    ax.set_title("How each scaling method stretches the RoPE wavelengths")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, "rope-wavelengths.svg", out_dir)


def write_all(out_dir: Path = OUT) -> list[Path]:
    """Write every figure of the section (takes about a minute on a laptop CPU)."""
    return [
        plot_decode_times([32, 128, 256, 512, 768, 1024], out_dir),
        plot_kv_cache([4096, 16384, 32768, 65536, 131072], out_dir),
        plot_attention_memory([256, 512, 1024, 2048], out_dir),
        plot_rope_wavelengths(out_dir),
    ]
