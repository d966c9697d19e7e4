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
# # Лабораторная работа: внимание на больших масштабах { #lab }
#
# Эта лабораторная работа дополняет три вопроса раздела: [ускорение внимания](mha-speedups.md),
# [бесконечно длинный вход](infinite-context.md) и [длинный контекст](longer-context.md). Мы измерим
# время декодирования с KV-кэшем и без него, оценим размер кэша для конфигурации Llama-2-70B при разном
# числе голов KV, измерим память наивного и блочного внимания и посмотрим, как масштабирование RoPE
# меняет внимание на больших расстояниях. Время зависит от машины, на которой запущена работа; результаты по памяти и
# RoPE — нет.

# %%
import math

import matplotlib.pyplot as plt
import torch

from snippets.attention.figures import decode_step_times
from snippets.attention.flash import blockwise_attention, memory_curve, naive_attention
from snippets.attention.gqa import GIB, LLAMA2_70B
from snippets.attention.kv_cache import (
    TinyDecoder,
    generate_with_cache,
    generate_without_cache,
    kv_cache_bytes,
)
from snippets.attention.rope_scaling import (
    pairs_beyond_training,
    rope_inv_freq,
    scaled_inv_freq,
    yarn_inv_freq,
)
from snippets.figures import figure_labels

_ = torch.manual_seed(0)
L = figure_labels("attention")  # the figures' words, drawn in each page's language
torch.set_num_threads(1)  # tiny tensors: one thread is faster and steadier on a shared CPU

# %% [markdown]
# ## 1. KV-кэш: те же токены, меньше работы { #kv-cache }
#
# Случайно инициализированный 2-слойный декодер жадно генерирует 32 токена: один раз пересчитывая весь
# префикс на каждом шаге, другой раз с кэшем. Токены должны совпасть; время — нет.

# %%
import time

model = TinyDecoder(vocab_size=500, d_model=128, n_heads=8, n_layers=2, max_len=256).eval()
prompt = torch.randint(0, 500, (1, 16))
outputs = {}
for name, generate in [("without cache", generate_without_cache), ("with cache", generate_with_cache)]:
    start = time.perf_counter()
    outputs[name] = generate(model, prompt, steps=32)
    print(f"{name:>13}: {time.perf_counter() - start:.3f} s")
print("identical tokens:", torch.equal(outputs["without cache"], outputs["with cache"]))

# %% [markdown]
# Без кэша стоимость шага растёт с контекстом, потому что каждый слой заново обрабатывает все прежние
# токены; с кэшем растёт только чтение кэша во внимании. Каждая точка — лучший из трёх запусков.

# %% alt="Линейный график времени генерации следующего токена в зависимости от числа токенов, уже находящихся в контексте, от 32 до 512. Без KV-кэша время круто растёт с контекстом; с кэшем оно растёт лишь немного и остаётся намного ниже."
lengths = [32, 128, 256, 512]
steps = decode_step_times(lengths, repeats=3, d_model=128, n_layers=2)
plt.figure(figsize=(5.5, 3.4), layout="constrained")
for name, values in steps.items():
    plt.plot(lengths, [1000 * s for s in values], marker="o", label=L[name])
plt.xlabel(L["tokens_in_context"])
plt.ylabel(L["next_token_ms"])
plt.legend()
plt.grid(alpha=0.3)
plt.show()

# %% [markdown]
# ## 2. Размер KV-кэша в зависимости от числа голов KV { #gqa }
#
# Конфигурация Llama-2-70B (80 слоёв, 64 головы запросов размерности 128) с 64 головами KV — это MHA, с 8 —
# GQA-8, которая и используется в Llama 2, с 1 — MQA. Размер кэша линейно зависит и от числа голов KV, и от длины контекста.

# %% alt="График в двойном логарифмическом масштабе: KV-кэш в fp16 для одной последовательности Llama-2-70B в зависимости от числа голов KV, от 1 до 64, при 4K, 32K и 128K токенов; память пропорциональна и тому, и другому. Штриховая линия отмечает 80 ГБ — память одного большого GPU: при 64 головах (MHA) один только кэш последовательности в 32K токенов, 80 ГиБ, оказывается выше неё, а при 8 головах (GQA-8) ниже неё остаются даже 128K токенов."
shape = LLAMA2_70B
kv_heads = [64, 32, 16, 8, 4, 2, 1]
plt.figure(figsize=(5.5, 3.4), layout="constrained")
for context in [4096, 32768, 131072]:
    gib = [kv_cache_bytes(shape["n_layers"], h, shape["head_dim"], context) / GIB for h in kv_heads]
    plt.plot(kv_heads, gib, marker="o", label=L("k_tokens", k=context // 1024))
plt.axhline(80e9 / GIB, color="grey", ls="--", lw=1)
plt.xscale("log", base=2)
plt.yscale("log")
plt.xticks(kv_heads, [str(h) for h in kv_heads])
plt.xlabel(L["kv_heads"])
plt.ylabel(L["kv_cache_sequence"])
plt.legend()
plt.grid(alpha=0.3, which="both")
plt.show()
for h in (64, 8, 1):
    print(f"{h:>2} KV heads: {kv_cache_bytes(80, h, 128, 1) // 1024} KiB per token")

# %% [markdown]
# ## 3. Память наивного и блочного внимания { #memory }
#
# Результат блочной реализации (в духе FlashAttention) совпадает с вниманием PyTorch; её пиковая память
# — это выход плюс постоянная рабочая область, тогда как наивное внимание хранит оценки $N \times N$. В
# логарифмическом масштабе наклон наивной версии равен 2, а пик блочной за вычетом выхода одинаков на
# всех длинах.

# %% alt="График в двойном логарифмическом масштабе: пиковая память одной головы внимания при длине последовательности 256, 512 и 1024. Пик наивной реализации растёт примерно вчетверо при каждом удвоении длины; пик блочного внимания остаётся намного ниже и растёт медленно."
q, k, v = (torch.randn(2, 4, 300, 64) for _ in range(3))
reference = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
print("blockwise == SDPA:", torch.allclose(blockwise_attention(q, k, v, causal=True), reference, atol=1e-5))
print("naive == SDPA:", torch.allclose(naive_attention(q, k, v, causal=True), reference, atol=1e-5))

lengths = [256, 512, 1024]
curve = memory_curve(lengths)
plt.figure(figsize=(5.5, 3.4), layout="constrained")
for name, values in curve.items():
    plt.loglog(lengths, [b / 2**20 for b in values], marker="o", label=L[name], base=2)
plt.xticks(lengths, [str(n) for n in lengths])
plt.xlabel(L["sequence_length"])
plt.ylabel(L("peak_mib", d=64))
plt.legend()
plt.grid(alpha=0.3, which="both")
plt.show()
naive = curve["naive"]
slope = math.log(naive[-1] / naive[-2]) / math.log(lengths[-1] / lengths[-2])
print(f"naive: memory grows like N^{slope:.2f} between {lengths[-2]} and {lengths[-1]}")
for n, peak in zip(lengths, curve["blockwise"]):
    print(f"blockwise, N = {n:>4}: peak - output = {peak - n * 64 * 4:,} bytes")

# %% [markdown]
# ## 4. Масштабирование RoPE на больших расстояниях { #rope }
#
# Голову Llama-2-7B (d = 128, основание 10000) обучали на 4096 токенах. Каждый график отслеживает одну
# медленную пару частот до позиции 16384: штриховая линия — наибольший угол, которого пара достигала при
# обучении. Кривая выше неё означает угол, которого модель никогда не видела, а значит, в оценке внимания
# между запросом и ключом на таком расстоянии есть слагаемое, на котором она не обучалась. Без масштабирования обе пары
# выходят из обученного диапазона; линейная интерполяция и YaRN (их кривые для этих медленных пар
# совпадают) удерживают их внутри; NTK-aware масштабирование удерживает самую медленную пару, но не пару 50.

# %% alt="Два графика: угол поворота RoPE в зависимости от позиции до 16 384 (вчетверо больше обучающей длины 4096) для пар частот 50 и 63 — без масштабирования и с линейным, NTK-aware и YaRN-масштабированием. Без масштабирования угол превышает наибольший угол, достигнутый при обучении (штриховая линия), начиная с позиции 4096. Для пары 63 все три метода приходят ровно к этому углу; для пары 50 — линейный и YaRN, а NTK-aware его превышает."
head_dim, base, trained, factor = 128, 10000.0, 4096, 4.0
methods = ["none", "linear", "ntk", "yarn"]
positions = torch.arange(0, 4 * trained + 1, 64).float()
default = rope_inv_freq(head_dim, base)
fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.4), layout="constrained")
for ax, pair in zip(axes, [50, 63]):
    for method in methods:
        inv = scaled_inv_freq(method, head_dim, base, factor, trained)
        ax.plot(positions, positions * inv[pair], label=L[f"method_{method}"])
    ax.axhline(trained * default[pair].item(), color="grey", ls="--", lw=1)
    ax.axvline(trained, color="grey", ls=":", lw=1)
    ax.set_title(L("pair_title", pair=pair, wavelength=2 * math.pi / default[pair].item()))
    ax.set_xlabel(L["position"])
    ax.grid(alpha=0.3)
axes[0].set_ylabel(L["rotation_angle"])
axes[0].legend()
plt.show()
print(f"YaRN multiplies cos and sin by {yarn_inv_freq(head_dim, base, factor, trained)[1]:.4f}")

# %% [markdown]
# Сколько медленных пар (не делающих полного оборота за 4096 токенов) уходит дальше обученного угла на
# длине в $s$ раз больше обученной, для каждого метода. Ответ не зависит от $s$: какие пары останутся
# внутри, решает устройство метода, а не коэффициент.

# %%
print(f"{'s':>3} " + " ".join(f"{m:>7}" for m in ["none", "linear", "ntk", "yarn"]))
for s in [2, 4, 8, 16]:
    counts = [
        pairs_beyond_training(scaled_inv_freq(m, head_dim, base, float(s), trained), head_dim,
                              base, trained, s * trained)
        for m in ["none", "linear", "ntk", "yarn"]
    ]
    print(f"{s:>3} " + " ".join(f"{c:>7}" for c in counts))
slow = int((rope_inv_freq(head_dim, base) * trained < 2 * math.pi).sum())
print(f"slow pairs: {slow} of {head_dim // 2}")

# %% [markdown]
# ## Что запомнить { #remember }
#
# - KV-кэш даёт те же токены за меньшую работу; его размер равен
#   2 × слои × головы KV × размерность головы × токены × байты и растёт линейно с контекстом и батчем.
# - GQA и MQA уменьшают кэш во столько раз, сколько голов запросов приходится на одну голову KV.
# - Блочное внимание с онлайн-softmax даёт точный результат и требует памяти, линейной по $N$.
# - Без масштабирования медленные пары RoPE за пределами обученной длины выходят из обученного
#   диапазона; интерполяция и YaRN удерживают их внутри, NTK-aware масштабирование — лишь отчасти.
