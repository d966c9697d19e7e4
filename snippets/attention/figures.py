"""Figures of the attention-long-context section: one SVG per language in
docs/assets/figures/attention-long-context/ (see snippets/figures).

Regenerate them from the repository root with `make figures`. The decode-time figure
draws a wall-clock measurement recorded in data/decode_times.json (machine-dependent);
`python scripts/figures.py --measure` measures it again. The attention-memory figure
draws data/attention_memory.json, which `make figures` recomputes (memory_curve is exact
but takes about 20 s, too slow for the figure's test). The other figures are computed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from snippets.attention.flash import memory_curve
from snippets.attention.gqa import GIB, LLAMA2_70B, llama2_70b_cache_table
from snippets.attention.kv_cache import TinyDecoder
from snippets.attention.rope_scaling import rope_inv_freq, scaled_inv_freq
from snippets.figures import FIGURES_DIR, figure_labels, site_figure, write_figure

OUT = FIGURES_DIR / "attention-long-context"
DECODE_TIMES = Path(__file__).resolve().parent / "data" / "decode_times.json"
MEMORY_CURVE = Path(__file__).resolve().parent / "data" / "attention_memory.json"
DECODE_LENGTHS = [32, 128, 256, 512, 768, 1024]
KV_LENGTHS = [4096, 16384, 32768, 65536, 131072]
MEMORY_LENGTHS = [256, 512, 1024, 2048]


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


def recorded_decode_times(path: Path = DECODE_TIMES) -> dict[str, list[float]]:
    """The measurement the committed figure shows: milliseconds per step, per length."""
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["lengths"] == DECODE_LENGTHS, "decode_times.json holds other lengths"
    return record["ms"]


def record_decode_times(path: Path = DECODE_TIMES) -> None:
    """Measure decode_step_times again (about a minute) and record it in milliseconds."""
    record = json.loads(path.read_text(encoding="utf-8"))
    times = decode_step_times(DECODE_LENGTHS)
    record["ms"] = {name: [round(1000 * s, 4) for s in values] for name, values in times.items()}
    record["note"] = record["note"].split(" measured on ")[0] + (
        f" measured on {time.strftime('%Y-%m-%d')}; remeasure with python scripts/figures.py --measure"
    )
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def recorded_memory_curve(path: Path = MEMORY_CURVE) -> dict[str, list[int]]:
    """memory_curve(MEMORY_LENGTHS) as `record_memory_curve` recorded it."""
    record = json.loads(path.read_text(encoding="utf-8"))
    assert record["lengths"] == MEMORY_LENGTHS, "attention_memory.json holds other lengths"
    return record["peak_bytes"]


def record_memory_curve(path: Path = MEMORY_CURVE) -> None:
    record = {"note": "memory_curve(lengths) of snippets/attention/flash.py: peak bytes of one "
                      "causal fp32 head (d = 64); recomputed by make figures",
              "lengths": MEMORY_LENGTHS, "peak_bytes": memory_curve(MEMORY_LENGTHS)}
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def kv_cache_curve(lengths: list[int]) -> dict[str, list[float]]:
    """GiB of fp16 KV cache for one sequence of Llama-2-70B's shape, per variant."""
    tables = [llama2_70b_cache_table(seq_len=n) for n in lengths]
    return {name: [t[name] / GIB for t in tables] for name in ("MHA", "GQA-8", "MQA")}


@site_figure
def plot_decode_times(ms: dict[str, list[float]], lengths: list[int] = DECODE_LENGTHS) -> Figure:
    L = figure_labels("attention")
    fig, ax = plt.subplots()
    for name, values in ms.items():
        ax.plot(lengths, values, marker="o", label=L[name])
    ax.set_xlabel(L["tokens_in_context"])
    ax.set_ylabel(L["next_token_ms"])
    ax.set_title(L("decode_title", layers=4, d=256))
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


@site_figure
def plot_kv_cache(lengths: list[int] = KV_LENGTHS) -> Figure:
    L = figure_labels("attention")
    curve = kv_cache_curve(lengths)
    fig, ax = plt.subplots()
    for name, values in curve.items():
        ax.plot([n / 1024 for n in lengths], values, marker="o", label=name)
    ax.axhline(80e9 / GIB, color="grey", ls="--", lw=1)  # 80 GB = 74.5 GiB
    ax.text(lengths[0] / 1024, 80e9 / GIB + 5, L["gpu_80gb"])
    ax.set_xlabel(L["context_k"])
    ax.set_ylabel(L["kv_cache_gib"])
    shape = LLAMA2_70B
    ax.set_title(L("kv_title", layers=shape["n_layers"], heads=shape["n_heads"], dim=shape["head_dim"]))
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


@site_figure
def plot_attention_memory(
    curve: dict[str, list[int]], lengths: list[int] = MEMORY_LENGTHS
) -> Figure:
    L = figure_labels("attention")
    fig, ax = plt.subplots()
    for name, values in curve.items():
        ax.plot(lengths, [b / 2**20 for b in values], marker="o", label=L[name])
    ax.set_xlabel(L["sequence_length"])
    ax.set_ylabel(L("peak_mib", d=64))
    ax.set_title(L["memory_title"])
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


@site_figure
def plot_rope_wavelengths() -> Figure:
    """Wavelength (tokens per full turn) of each RoPE frequency pair, Llama-2-7B head."""
    L = figure_labels("attention")
    head_dim, base, trained, factor = 128, 10000.0, 4096, 4.0
    fig, ax = plt.subplots()
    pairs = range(head_dim // 2)
    default = rope_inv_freq(head_dim, base)
    ax.plot(pairs, (2 * torch.pi / default).tolist(), label=L["rope_trained"], lw=2)
    for method in ("linear", "ntk", "yarn"):
        inv_freq = scaled_inv_freq(method, head_dim, base, factor, trained)
        ax.plot(pairs, (2 * torch.pi / inv_freq).tolist(), label=L(method, s=int(factor)), lw=1)
    ax.axhline(trained, color="grey", ls="--", lw=1)
    ax.text(0, trained * 1.3, L("trained_context", n=trained))
    ax.set_yscale("log")
    ax.set_xlabel(L("frequency_pair", d=head_dim, base=int(base)))
    ax.set_ylabel(L["wavelength"])
    ax.set_title(L["rope_title"])
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


FIGURES = {
    "decode-time": lambda: plot_decode_times(recorded_decode_times()),
    "kv-cache-70b": plot_kv_cache,
    "attention-memory": lambda: plot_attention_memory(recorded_memory_curve()),
    "rope-wavelengths": plot_rope_wavelengths,
}


def write_all(out_dir: Path = OUT) -> list[Path]:
    """Write every figure of the section in every language."""
    return [path for name, draw in FIGURES.items()
            for path in write_figure(draw(), out_dir, name, salt="attention")]
