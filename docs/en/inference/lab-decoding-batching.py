# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lab: decoding and batching { #lab }
#
# This lab goes with two questions:
# [hallucination and repetition](hallucination-repetition.md) and
# [serving many requests](serving.md). It runs the same code as the pages. First a model
# that loops under greedy decoding, and what each decoding control does to the loop.
# Then one request at a time against batching on a tiny Llama, measured on this machine.
# Last, the memory a paged KV cache saves.
#
# Timings depend on the machine. The throughput cell counts the CPU time of this process
# instead of wall-clock time, so other jobs on a shared machine disturb it far less; on
# an idle machine, with one thread, the two agree. Each point is the best of three runs;
# the trend is the point, not the numbers.

# %%
import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import matplotlib.pyplot as plt
import torch

from snippets.figures import figure_labels
from snippets.inference.batching import TinyLM, serve_all, simulate, workload
from snippets.inference.logits_processors import (
    FrequencyPresencePenalty,
    NoRepeatNGram,
    RepetitionPenalty,
    decode,
)
from snippets.inference.looping import BigramLM, distinct_n, run_controls, tail_period
from snippets.inference.paged_kv import contiguous_slots, mixed_workload, paged_slots

torch.set_num_threads(1)  # tiny matrices: one thread is faster and steadier
L = figure_labels("lab_decoding")  # the figures' words, drawn in each page's language


def run(coro):
    """asyncio.run in a fresh thread, so it also works inside Jupyter's own event loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


# %% [markdown]
# ## 1. A bigram model loops under greedy decoding { #loop }
#
# The next word depends only on the last one, so greedy decoding applies one fixed map
# again and again, and must cycle. Each row is one decoding control, 48 new tokens from
# the prompt "the".

# %%
model = BigramLM(offset=10.0)
outputs = run_controls(model, max_new_tokens=48)
for name, tokens in outputs.items():
    print(f"{name:<26} period {str(tail_period(tokens)):>4} | {model.decode_text(tokens[:16])} ...")

# %% [markdown]
# How quickly does each control start repeating itself? The share of distinct 4-grams
# in the first $t$ tokens: 1.0 means nothing has repeated yet.

# %% alt="Line chart of the share of distinct 4-grams among the first t generated tokens, t from 8 to 48, for six decoding settings on a bigram model. Greedy decoding falls towards 0.1 as it loops; the repetition and presence penalties hold at 1 for a while, then decline; the frequency penalty stays between about 0.8 and 0.95; no-repeat 3-gram blocking and sampling with T = 0.8, top-k 5 and top-p 0.9 stay at 1."
fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
for (name, tokens), style in zip(outputs.items(), ["-", "-", "-", "-", "--", ":"]):
    steps = range(8, len(tokens) + 1)
    ax.plot(steps, [distinct_n(tokens[:t]) for t in steps], style, label=L[name])
ax.set_xlabel(L["generated_t"])
ax.set_ylabel(L["distinct_first_t"])
ax.set_title(L["bigram_title"])
ax.grid(alpha=0.3)
ax.legend(loc="lower left")
plt.show()

# %% [markdown]
# ## 2. The repetition penalty depends on an offset the model does not have { #offset }
#
# Adding a constant to every logit leaves the softmax, and so the model, unchanged. The
# repetition penalty divides positive logits and multiplies negative ones, so its effect
# depends on that constant. The frequency penalty subtracts, so it does not.

# %% alt="Line chart of distinct 4-grams in 48 generated tokens against a constant added to every logit, from 0 to 20. The frequency penalty, which subtracts from logits, gives 0.8 at every offset; the repetition penalty, which divides positive logits and multiplies negative ones, changes with the offset: under 0.1 at 0, about 0.67 at 10 and 0.53 at 20."
offsets = [0.0, 2.0, 5.0, 10.0, 20.0]
rows = {"repetition 1.2": [], "frequency 0.5": []}
for offset in offsets:
    result = run_controls(BigramLM(offset=offset), max_new_tokens=48)
    for name in rows:
        rows[name].append(distinct_n(result[name]))

fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
for name, values in rows.items():
    ax.plot(offsets, values, marker="o", label=L[name])
ax.set_xlabel(L["offset_axis"])
ax.set_ylabel(L["distinct_48"])
ax.set_ylim(0, 1.05)
ax.grid(alpha=0.3)
ax.legend()
plt.show()

# %% [markdown]
# ## 3. A random tiny Llama loops too { #llama }
#
# A `LlamaForCausalLM` with random weights is no bigram model, and it is not guaranteed
# to cycle, but greedy decoding still falls into a short loop. The penalties break it.

# %%
small_llama = TinyLM(seed=0, vocab_size=64, hidden_size=32)


def llama_logits(ids: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return small_llama.model(ids).logits[:, -1, :]


prompt = [1, 2, 3, 4, 5]
for name, processors in [
    ("greedy", []),
    ("repetition 1.3", [RepetitionPenalty(1.3)]),
    ("frequency 0.5", [FrequencyPresencePenalty(0.5, 0.0, len(prompt))]),
    ("no-repeat 3-gram", [NoRepeatNGram(3)]),
]:
    tokens = decode(llama_logits, prompt, 30, processors)
    print(f"{name:<17} period {str(tail_period(tokens)):>4} | {tokens[:18]}")

# %% [markdown]
# ## 4. Throughput: one request at a time against batching { #throughput }
#
# 16 requests, each asking for 8 new tokens, all sent at once to the asyncio server in
# front of the tiny Llama. `max_batch_size=1` serves them one at a time; larger values
# let the scheduler put more of them through every forward pass. Both batching policies
# behave the same here because every request has the same length.

# %% alt="Line chart of measured tokens per CPU-second against the maximum batch size, 1 to 16, for a tiny Llama serving 16 concurrent requests. A larger batch needs fewer forward passes, 128 at batch 1 and 8 at batch 16, and throughput grows with it; the exact values vary from run to run."
llama = TinyLM(seed=0)
requests = [([1 + i, 2, 3], 8) for i in range(16)]
total_tokens = sum(n for _, n in requests)
run(serve_all(llama, requests[:4], max_batch_size=4))  # warm-up

batch_sizes = [1, 2, 4, 8, 16]
throughput = []
for size in batch_sizes:
    best = float("inf")
    for _ in range(3):  # best of three runs
        start = time.process_time()  # CPU time of this process (all threads), not wall time
        _, passes = run(serve_all(llama, requests, max_batch_size=size))
        best = min(best, time.process_time() - start)
    throughput.append(total_tokens / best)
    print(f"max batch {size:>2}: {passes:>3} forward passes, "
          f"{total_tokens / best:6.0f} tokens per CPU-second")

fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
ax.plot(batch_sizes, throughput, marker="o")
ax.set_xscale("log", base=2)
ax.set_xticks(batch_sizes, [str(b) for b in batch_sizes])
ax.set_xlabel(L["max_batch"])
ax.set_ylabel(L["tokens_per_cpu_s"])
ax.set_title(L("tiny_title", n=len(requests)))
ax.grid(alpha=0.3)
plt.show()

# %% [markdown]
# On a GPU, a decode step of a real model is dominated by reading the weights, so a
# small batch costs little more than one sequence and the curve rises more steeply. On a
# CPU with a tiny model, part of the gain is Python overhead, paid once per pass instead
# of once per request.
#
# ## 5. Static and continuous batching on mixed lengths { #mixed }
#
# When requests have different lengths and arrive over time, continuous batching pays
# off. The simulation counts forward passes, so these numbers are exact and do not depend
# on the machine.

# %% alt="Two bar charts for the same workload served one request at a time, with request-level batching and with continuous batching, batch size 8. Both kinds of batching need far fewer forward passes than one at a time; continuous batching needs the fewest and has the lowest mean latency, well under half that of request-level batching."
labels = [L["one at a time"], L["request-level"], L["continuous"]]
results = [
    simulate(workload(), 1, True),
    simulate(workload(), 8, False),
    simulate(workload(), 8, True),
]
fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.2), layout="constrained")
axes[0].bar(labels, [r.forward_passes for r in results])
axes[0].set_ylabel(L["forward_passes"])
axes[1].bar(labels, [r.mean_latency for r in results])
axes[1].set_ylabel(L["mean_latency"])
for ax in axes:
    ax.tick_params(axis="x", labelrotation=20)
plt.show()

# %% [markdown]
# ## 6. How much KV-cache memory paging saves { #paging }
#
# The same 200 requests, with memory reserved in one contiguous region per request, or
# in blocks of a given size. Smaller blocks waste less in each sequence's last block, but
# make the block tables longer and the attention kernel's memory reads smaller: a
# trade-off, not a free lunch.

# %% alt="Line chart of the share of reserved KV-cache slots that hold tokens, against block size from 1 to 1,024 tokens. Paged allocation uses nearly every slot with small blocks and falls to about half with 1,024-token blocks; contiguous allocation uses about two thirds when it reserves prompt + max_tokens and about a quarter when it reserves the whole context."
work = mixed_workload()
used = sum(prompt + out for prompt, _, out in work)
block_sizes = [1, 4, 16, 64, 256, 1024]
paged_use = [used / paged_slots(work, b) for b in block_sizes]

fig, ax = plt.subplots(figsize=(6.4, 3.4), layout="constrained")
ax.plot(block_sizes, paged_use, marker="o", label=L["paged"])
ax.axhline(used / contiguous_slots(work, "max_tokens"), color="C1", linestyle="--",
           label=L["contiguous_max"])
ax.axhline(used / contiguous_slots(work, "context"), color="C2", linestyle=":",
           label=L["contiguous_context"])
ax.set_xscale("log", base=2)
ax.set_xticks(block_sizes, [str(b) for b in block_sizes])
ax.set_xlabel(L["block_size"])
ax.set_ylabel(L["share_used"])
ax.set_ylim(0, 1.05)
ax.grid(alpha=0.3)
ax.legend()
plt.show()

# %% [markdown]
# ## What to remember { #remember }
#
# - Greedy decoding of a model that prefers its own last phrase loops. One-shot penalties
#   (repetition, presence) delay the loop, the frequency penalty keeps pushing, and
#   n-gram blocking forbids it at the price of the text.
# - The repetition penalty is not shift-invariant; the frequency and presence penalties
#   are.
# - Batching is where serving throughput comes from. Continuous batching keeps the slots
#   busy when lengths differ, and paging keeps memory for the cache from going to waste.
