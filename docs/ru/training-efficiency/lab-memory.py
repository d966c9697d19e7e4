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
# # Лабораторная работа: куда уходит память? { #lab }
#
# В этой лабораторной работе вы измерите каждый байт, который занимает шаг обучения небольшой LLaMA,
# собранной из конфигурации со случайными весами: параметры, градиенты, состояния
# оптимизатора и активации, которые autograd сохраняет для обратного прохода. Вы сравните
# измерения с калькулятором со страницы [память GPU](gpu-memory.md), посмотрите, что меняют
# пересчёт активаций и fused attention, и построите график диапазона и точности fp32, fp16 и bf16.
# Всё выполняется на CPU меньше чем за минуту. На GPU байты состояний модели те же, а
# сохранённые активации могут немного отличаться, потому что там другие ядра внимания.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from transformers import LlamaConfig, LlamaForCausalLM

from snippets.figures import figure_labels
from snippets.training_efficiency.checkpointing import attention_saved_bytes
from snippets.training_efficiency.fp_formats import FORMATS, describe
from snippets.training_efficiency.memory_calculator import (
    RECIPES,
    LlamaShape,
    model_state_bytes,
    parameter_count,
)
from snippets.training_efficiency.memory_measure import (
    MasterWeightAdamW,
    model_state_report,
    saved_activation_bytes,
)

_ = torch.manual_seed(0)
L = figure_labels("lab_memory")  # the figures' words, drawn in each page's language

# %% [markdown]
# ## 1. Небольшая модель и предсказание калькулятора
#
# Конфигурация ниже — уменьшенная LLaMA: 4 слоя, скрытый размер 128, групповое внимание с 4
# головами запросов и 2 головами ключей/значений. Калькулятор считает параметры только по
# конфигурации; модель, собранная средствами transformers, должна с ним совпасть.

# %%
shape = LlamaShape(vocab=2000, hidden=128, intermediate=344, layers=4, heads=4, kv_heads=2)
config = LlamaConfig(
    vocab_size=shape.vocab, hidden_size=shape.hidden, intermediate_size=shape.intermediate,
    num_hidden_layers=shape.layers, num_attention_heads=shape.heads,
    num_key_value_heads=shape.kv_heads, max_position_embeddings=512, use_cache=False,
)
model = LlamaForCausalLM(config)
n_params = sum(p.numel() for p in model.parameters())
print(f"transformers: {n_params:,} parameters; calculator: {parameter_count(shape):,}")

# %% [markdown]
# ## 2. Замер одного шага AdamW в fp32
#
# Выполняем прямой проход, считая тензоры, которые сохраняет autograd, затем обратный проход
# и один шаг оптимизатора, и измеряем, что осталось в памяти.

# %%
ids = torch.randint(0, shape.vocab, (4, 256))
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
loss, activations = saved_activation_bytes(
    lambda: model(input_ids=ids, labels=ids).loss, exclude=model.parameters()
)
loss.backward()
optimizer.step()
measured = model_state_report(model, optimizer)
predicted = model_state_bytes(n_params, RECIPES["fp32 AdamW"])
for key in ("weights", "gradients", "optimizer states"):
    print(f"{key:17} measured {measured[key]:>12,} B   predicted {int(predicted[key]):>12,} B")
print(f"{'activations':17} measured {activations:>12,} B   (batch 4 x 256 tokens)")

# %% [markdown]
# ## 3. Смешанная точность с мастер-весами в fp32
#
# Тот же шаг с моделью в bf16, чей оптимизатор обновляет мастер-копию в fp32. Итог снова 16
# байт на параметр, но распределённых иначе. Сохранённых активаций становится меньше, но не
# вдвое: функция потерь приводит логиты к fp32 (`logits.float()` в `ForCausalLMLoss` из
# transformers), и эти тензоры в fp32 тоже сохраняются.

# %%
model16 = LlamaForCausalLM(config).to(torch.bfloat16)
trainer = MasterWeightAdamW(model16)
loss16, activations16 = saved_activation_bytes(
    lambda: model16(input_ids=ids, labels=ids).loss, exclude=model16.parameters()
)
loss16.backward()
trainer.step()
measured16 = trainer.report()
predicted16 = model_state_bytes(n_params, RECIPES["mixed-precision AdamW"])
print("activations fp32 / bf16:", f"{activations:,} / {activations16:,} B")

# %% [markdown]
# ## 4. Разбивка: измерение рядом с предсказанием
#
# Столбцы с накоплением: в каждой паре первый столбец — калькулятор, второй — измерение. У
# активаций нет «предсказанного» столбца: они зависят от реализации, поэтому на странице для
# них дана только оценка.

# %% alt="Столбцы с накоплением: память одного шага обучения 4-слойной LLaMA, предсказанная и измеренная, в fp32 с AdamW и в bf16 с мастер-весами в fp32. Измеренные веса, градиенты, мастер-веса и состояния оптимизатора совпадают с предсказанием; активации, которые предсказание не учитывает, — самая большая часть. Без учёта активаций обоим вариантам точности нужен одинаковый объём памяти."
parts = ["weights", "gradients", "master weights", "optimizer states"]
colors = ["C0", "C1", "C4", "C2", "C3"]
columns = {
    L["fp32_predicted"]: [predicted[p] for p in parts] + [0],
    L["fp32_measured"]: [measured.get(p, 0) for p in parts] + [activations],
    L["bf16_predicted"]: [predicted16[p] for p in parts] + [0],
    L["bf16_measured"]: [measured16[p] for p in parts] + [activations16],
}
fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
for x, (label, values) in enumerate(columns.items()):
    bottom = 0.0
    for part, value, color in zip(parts + ["activations"], values, colors, strict=True):
        ax.bar(x, value / 2**20, bottom=bottom, color=color, label=L[part] if x == 3 else None)
        bottom += value / 2**20
ax.set_xticks(range(len(columns)), list(columns))
ax.set_ylabel(L["mib"])
ax.set_title(L("step_title", layers=4, batch=4, tokens=256))
ax.legend(loc="upper left")
plt.show()

# %% [markdown]
# ## 5. Что меняют пересчёт активаций и fused attention
#
# Включаем пересчёт активаций в transformers и снова считаем сохранённые байты. Затем
# сравниваем явное внимание, которое хранит матрицу вероятностей $s \times s$, с объединённым (fused)
# `scaled_dot_product_attention` из PyTorch при растущей длине последовательности.

# %% alt="График в двойном логарифмическом масштабе: сколько байт один вызов внимания сохраняет для обратного прохода, в зависимости от длины последовательности от 128 до 1024. Явное внимание softmax(QK^T)V сохраняет объём, растущий квадратично, а объединённое scaled_dot_product_attention — растущий линейно и при 1024 в десятки раз меньший."
model.activation_checkpointing_enable()
model.train()
_, checkpointed = saved_activation_bytes(
    lambda: model(input_ids=ids, labels=ids).loss, exclude=model.parameters()
)
print(f"saved activations: {activations:,} B without, {checkpointed:,} B with checkpointing")

seqs = [128, 256, 512, 1024]
explicit = [attention_saved_bytes(s)["explicit"] for s in seqs]
fused = [attention_saved_bytes(s)["fused SDPA"] for s in seqs]
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
ax.loglog(seqs, explicit, "o-", label=L["explicit"])
ax.loglog(seqs, fused, "s-", label=L["fused"])
ax.set_xlabel(L["sequence_length"])
ax.set_ylabel(L["saved_bytes"])
ax.set_title(L("attention_title", heads=4, dims=16))
ax.legend()
plt.show()

# %% [markdown]
# ## 6. Диапазон и точность fp32, fp16 и bf16
#
# Записываем числа от $10^{-45}$ до $10^{39}$ в каждом формате, читаем их обратно и строим
# график относительной ошибки. Ошибка 1 означает, что число стало нулём (исчезновение порядка);
# кривая обрывается там, где формат переполняется в бесконечность. Плоская часть — это
# точность: около $2^{-24}$ у fp32, $2^{-11}$ у fp16 и $2^{-8}$ у bf16.

# %% alt="График в двойном логарифмическом масштабе: относительная ошибка после сохранения чисел от 10^−45 до 10^38,5 в fp32, fp16 и bf16. В диапазоне нормализованных чисел у каждого формата плоская полоса ошибки, заданная мантиссой: примерно до 6 × 10^−8 (2^−24) у fp32, 5 × 10^−4 (2^−11) у fp16 и 4 × 10^−3 (2^−8) у bf16. Вблизи наименьших субнормальных чисел — около 6 × 10^−8 у fp16 и 9 × 10^−41 у bf16 — ошибка возрастает до 1: значение теряется. Кроме того, fp16 переполняется выше 65 504, тогда как диапазон bf16 почти такой же, как у fp32."
values = np.logspace(-45, 38.5, 4000)
fig, ax = plt.subplots(figsize=(6.4, 3.8), layout="constrained")
for name, dtype in FORMATS.items():
    stored = torch.tensor(values, dtype=torch.float64).to(dtype).double().numpy()
    with np.errstate(invalid="ignore"):
        error = np.abs(stored - values) / values
    error[np.isinf(stored)] = np.nan
    ax.loglog(values, np.maximum(error, 1e-12), label=name, linewidth=1)
    info = describe(name)
    print(f"{name}: max {info.max:.4g}, smallest subnormal {info.smallest_subnormal:.3g}, "
          f"eps {info.eps:.3g}")
ax.set_xlabel(L["value"])
ax.set_ylabel(L["relative_error"])
ax.set_ylim(1e-10, 2)
ax.set_title(L["formats_title"])
ax.legend()
plt.show()

# %% [markdown]
# ## Что запомнить
#
# - Состояния модели занимают ровно столько байт, сколько предсказывает калькулятор: 16 на параметр
#   и для AdamW в fp32, и для bf16 с мастер-весами в fp32, плюс крошечные счётчики `step` у
#   AdamW.
# - Активации — та часть, что меняется с батчем и длиной последовательности, и та, которую
#   сокращают пересчёт и fused attention.
# - fp16 теряет малые числа (обнуляются ниже примерно $6\times10^{-8}$) и большие
#   (переполняются выше 65504); bf16 сохраняет диапазон fp32, но округляет каждое число
#   примерно до 3 значащих цифр.
#
# Попробуйте: удвойте батч или длину последовательности и предскажите число байт активаций до
# запуска ячейки; поставьте `kv_heads=4` и сравните число параметров.
