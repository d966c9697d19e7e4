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
# # 实验：搭建一个 LLaMA 块 { #lab }
#
# 本实验配合 [LLaMA 结构](llama.md) 一页。它用 `snippets/architectures/llama_block.py` 中从零实现的部件
# 组装一个解码器块，在相同随机权重下把每个部件与 Hugging Face transformers 的 LLaMA 对照，
# 然后验证页面上只给出了结论的两件事：旋转位置编码如何让注意力得分随距离衰减，
# 以及真实 LLaMA 的参数和 KV 缓存都花在了哪里。

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
# ## 1. 由配置构建一个极小的 LLaMA { #config }
#
# 随机权重，2 层，8 个 query 头共享 2 个 key/value 头（分组查询注意力）。不下载任何东西。
# RMSNorm 的增益初始为 1，所以我们也把它们随机化：否则实现中对增益的处理即使有错也发现不了。

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
# ## 2. 逐个部件与 transformers 对照 { #parts }
#
# 每个从零实现的模块都与 transformers 中对应模块的参数名相同，所以 state dict 可以直接加载。
# `close` 报告最大的绝对误差。

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
# ## 3. 整个模型 { #model }
#
# 词嵌入、两个块、最后的 RMSNorm、不共享权重的 LM head：对一批随机 token id，
# 从零实现的模型与 transformers 给出相同的 logits。

# %%
ours = lb.TinyLlama(101, 64, 2, 8, 2, 176)
ours.load_state_dict({k.removeprefix("model."): v for k, v in reference.state_dict().items()})
ids = torch.randint(0, 101, (2, t))
with torch.no_grad():
    print("logits       ", close(ours(ids), reference(ids).logits))
print("parameters:", lb.count_params(ours), "vs", lb.count_params(reference))

# %% [markdown]
# ## 4. RoPE：得分随距离衰减 { #rope-decay }
#
# Su 等人（2021）为旋转后向量的注意力得分推导出一个上界，它随相对距离 $|m - n|$ 增大而减小。
# 左图是 128 维注意力头的这个上界；右图是两个全 1 向量之间的实际得分，它会振荡，
# 但整体同样向下。除非学到的 $q$ 和 $k$ 另有倾向，模型会更偏向关注近处的 token。

# %% alt="两幅折线图，横轴为相对距离 |m − n|，从 0 到 1,024，取对数刻度。左图：d = 128 时 RoFormer 的上界随距离下降，起伏则越来越大。右图：全 1 的 query 与 key 之间的 RoPE 得分从 128 开始下降，振荡越来越剧烈：长距离衰减是一种趋势，而不是平稳的下降。"
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
# ## 5. LLaMA 的参数和 KV 缓存花在哪里 { #sizes }
#
# 与页面上相同的公式，只是放到真实规模。LLaMA 1 的每一层中，SwiGLU 前馈层约占三分之二的权重。
# 分组查询注意力只减少 Llama-2-70B 约 12% 的参数（78.4B 中的 9.4B），却把它的 KV 缓存缩小到八分之一。

# %% alt="左图：LLaMA-7B、13B、33B 和 65B 每个解码器层权重的堆叠柱状图；在每一层中，SwiGLU 前馈层都占三分之二，注意力占三分之一。右图：每个 token 的 FP16 KV 缓存的水平柱状图，从 LLaMA-7B 的 512 KiB 到 LLaMA-65B 的 2,560 KiB；采用分组查询注意力的 Llama-2-70B 只需 320 KiB，是同一模型采用多头注意力时 2,560 KiB 的八分之一，比 LLaMA-7B 还少。"
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
# ## 6. 动手试试 { #try-it }
#
# - 在第 1 节的配置和 `lb.DecoderLayer(64, 8, ..., 176)` 中把 `num_key_value_heads` 设为 8（多头）
#   或 1（多查询）：各部件仍然一致，`k_proj` 的形状随之改变。
# - 把 `lb.causal_mask(t)` 换成全 1 的掩码：这一层就不再与 transformers 一致，
#   因为 transformers 的 LLaMA 总是因果的。
# - 把 `relative_upper_bound` 中 RoPE 的底数从 10000 改成 500000，看上界衰减慢了多少：
#   更大的底数是支持更长上下文的一种办法。
