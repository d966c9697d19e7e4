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
# # Лабораторная работа: собираем блок LLaMA { #lab }
#
# Лабораторная работа к странице [архитектура LLaMA](llama.md). Мы соберём блок декодера из частей,
# написанных с нуля в `snippets/architectures/llama_block.py`, сверим каждую часть с LLaMA из
# Hugging Face transformers при тех же случайных весах, а затем рассмотрим две вещи, которые
# на странице лишь упомянуты: почему с ротационными эмбеддингами оценки внимания затухают с
# расстоянием и на что уходят параметры и KV-кэш настоящей LLaMA.

# %%
import matplotlib.pyplot as plt
import torch
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.models.llama import modeling_llama as hf

from snippets.architectures import llama_block as lb
from snippets.architectures.llama_sizes import (
    LLAMA_1,
    LLAMA_2_70B,
    LLAMA_2_70B_IF_MHA,
    ffn_hidden_dim,
    kv_cache_bytes_per_token,
)
from snippets.architectures.rope import relative_upper_bound, score_of_equal_vectors
from snippets.figures import figure_labels

_ = torch.manual_seed(0)
L = figure_labels("lab_llama_block")  # the figures' words, drawn in each page's language

# %% [markdown]
# ## 1. Крошечная LLaMA из конфигурации { #config }
#
# Случайные веса, 2 слоя, на 8 голов запросов приходятся 2 общие головы ключей/значений (групповое
# внимание по запросам). Ничего не скачивается. Коэффициенты RMSNorm изначально равны 1, поэтому мы их тоже
# рандомизируем: иначе ошибка в коэффициенте осталась бы незамеченной.

# %%
config = LlamaConfig(
    vocab_size=101, hidden_size=64, intermediate_size=176, num_hidden_layers=2,
    num_attention_heads=8, num_key_value_heads=2, attn_implementation="eager",
)
reference = LlamaForCausalLM(config).eval()
with torch.no_grad():
    for name, p in reference.named_parameters():
        if "norm" in name:
            p.uniform_(0.5, 1.5)
print(reference.model.layers[0])

# %% [markdown]
# ## 2. Сверка с transformers по частям { #parts }
#
# У каждого модуля, написанного с нуля, те же имена параметров, что у его аналога в transformers,
# поэтому state dict загружается без изменений. `close` выводит наибольшую абсолютную разницу.

# %%
def close(a: torch.Tensor, b: torch.Tensor) -> str:
    return f"max |diff| = {(a - b).abs().max().item():.2e}"


t, head_dim = 9, 64 // 8
x = torch.randn(2, t, 64)
theirs_layer = reference.model.layers[0]

norm = lb.RMSNorm(64)
norm.load_state_dict(theirs_layer.input_layernorm.state_dict())
print("RMSNorm      ", close(norm(x), theirs_layer.input_layernorm(x)))

mlp = lb.SwiGLUMLP(64, 176)
mlp.load_state_dict(theirs_layer.mlp.state_dict())
print("SwiGLU MLP   ", close(mlp(x), theirs_layer.mlp(x)))

cos_hf, sin_hf = hf.LlamaRotaryEmbedding(config)(x, torch.arange(t)[None])
cos, sin = lb.rope_cos_sin(torch.arange(t), head_dim)
print("RoPE cos/sin ", close(cos, cos_hf[0]), close(sin, sin_hf[0]))

additive_mask = torch.full((t, t), float("-inf")).triu(1)[None, None]
layer = lb.DecoderLayer(64, 8, 2, 176)
layer.load_state_dict(theirs_layer.state_dict())
with torch.no_grad():
    expected = theirs_layer(x, attention_mask=additive_mask, position_embeddings=(cos_hf, sin_hf))
    print("decoder layer", close(layer(x, cos, sin, lb.causal_mask(t)), expected))

# %% [markdown]
# ## 3. Вся модель { #model }
#
# Эмбеддинги, два блока, финальный RMSNorm, LM head со своими весами (не связанными с
# эмбеддингами): логиты модели, написанной с нуля, совпадают с логитами transformers на случайном
# батче идентификаторов токенов.

# %%
ours = lb.TinyLlama(101, 64, 2, 8, 2, 176)
ours.load_state_dict({k.removeprefix("model."): v for k, v in reference.state_dict().items()})
ids = torch.randint(0, 101, (2, t))
with torch.no_grad():
    print("logits       ", close(ours(ids), reference(ids).logits))
print("parameters:", lb.count_params(ours), "vs", lb.count_params(reference))

# %% [markdown]
# ## 4. RoPE: оценки затухают с расстоянием { #rope-decay }
#
# Su и др. (2021) ограничивают сверху оценку внимания повёрнутых векторов величиной, которая убывает с
# относительным расстоянием $|m - n|$. Слева — эта граница для головы размерности 128; справа —
# настоящая оценка между двумя векторами из единиц: она колеблется, но убывает так же. Близкие
# токены получают преимущество, если только обученные $q$ и $k$ не диктуют иного.

# %% alt="Два линейных графика; по горизонтальной оси — относительное расстояние |m − n| от 0 до 1024 в логарифмическом масштабе. Слева: верхняя граница из RoFormer для d = 128 убывает с расстоянием, а её колебания растут. Справа: оценка RoPE для запроса и ключа из одних единиц начинается со 128 и убывает, колеблясь всё сильнее: затухание на больших расстояниях — общая тенденция, а не монотонное убывание."
distances = torch.arange(0, 1025)
fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.2), layout="constrained")
axes[0].plot(distances, relative_upper_bound(128, distances))
axes[0].set(xscale="symlog", xlabel=L["distance"], ylabel=L["bound"],
            title=L("bound_title", d=128))
axes[1].plot(distances, score_of_equal_vectors(128, distances), lw=0.8)
axes[1].set(xscale="symlog", xlabel=L["distance"], ylabel="q · R k",
            title=L["score_title"])
plt.show()

# %% [markdown]
# ## 5. Куда уходят параметры и KV-кэш LLaMA { #sizes }
#
# Те же формулы, что на странице, для полноразмерных моделей. В каждом слое LLaMA 1 полносвязный
# слой SwiGLU содержит около двух третей весов. Групповое внимание по запросам убирает лишь около 12 %
# параметров Llama-2-70B (9,4B из 78,4B), но уменьшает её KV-кэш в 8 раз.

# %% alt="Слева: столбцы с накоплением — веса одного слоя декодера у LLaMA-7B, 13B, 33B и 65B; полносвязный блок SwiGLU занимает две трети каждого слоя, внимание — одну треть. Справа: горизонтальные столбцы — KV-кэш в fp16 на токен, от 512 КиБ у LLaMA-7B до 2560 КиБ у LLaMA-65B; модели Llama-2-70B с групповым вниманием по запросам нужно 320 КиБ — восьмая часть от 2560 КиБ, которые понадобились бы той же модели с многоголовым вниманием, и меньше, чем у LLaMA-7B."
names, attention, ffn = [], [], []
for s in LLAMA_1:
    names.append(s.name)
    attention.append(4 * s.dim * s.dim / 1e6)
    ffn.append(3 * s.dim * ffn_hidden_dim(s.dim) / 1e6)
fig, axes = plt.subplots(1, 2, figsize=(6.4, 3.6), layout="constrained")
axes[0].bar([n.removeprefix("LLaMA-") for n in names], attention, label=L["attention"])
axes[0].bar([n.removeprefix("LLaMA-") for n in names], ffn, bottom=attention, label=L["swiglu"])
axes[0].set(ylabel=L["weights_per_layer"], title=L["decoder_layer"])
axes[0].legend(loc="upper left")
cache = [kv_cache_bytes_per_token(s) / 2**10 for s in [*LLAMA_1, LLAMA_2_70B_IF_MHA, LLAMA_2_70B]]
labels = [*names, "70B, MHA", "Llama-2-70B, GQA"]
axes[1].barh(labels, cache)
axes[1].set(xlabel=L["kib_per_token"], title=L["kv_per_token"])
plt.show()

# %% [markdown]
# ## 6. Попробуйте { #try-it }
#
# - Задайте `num_key_value_heads=8` (многоголовое) или `1` (multi-query) в конфигурации из
#   раздела 1 и в `lb.DecoderLayer(64, 8, ..., 176)`: части по-прежнему совпадают, а форма
#   `k_proj` меняется.
# - Замените `lb.causal_mask(t)` маской из одних единиц: слой перестанет совпадать с
#   transformers, чья LLaMA всегда каузальна.
# - Измените основание RoPE с 10000 на 500000 в `relative_upper_bound` и посмотрите, насколько
#   медленнее затухает граница: большее основание — один из способов поддержать более длинный
#   контекст.
