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
# # 实验：用本指南训练一个微型 Transformer { #lab }
#
# 本实验搭建一个参数远少于十万的仅解码器 Transformer，结构是缩成玩具大小的 GPT-2（可学习的位置嵌入、
# LayerNorm、输入输出共享嵌入；LLaMA 则换成了 RoPE、RMSNorm 和 SwiGLU），然后在本指南的英文文本上训练 150 步
# （在 CPU 上远不到一分钟），每个字符一个 token。它与本章以下几页配套：
# [自注意力](self-attention.md)（每个块里的因果注意力）、
# [分词](tokenization.md)（这里用最粗糙的分词器：按字符切分）、
# [归一化](normalization.md)（Pre-Norm 块）以及
# [编码器、解码器、编码器–解码器](encoder-decoder.md)（为什么因果掩码让每个位置都成为一个训练样本）。
# 模型代码在 `snippets/foundations/tiny_gpt.py` 里。

# %%
import math
import time

import matplotlib.pyplot as plt
import torch

from snippets.figures import figure_labels
from snippets.foundations import tiny_gpt as tg

L = figure_labels("lab_tiny_transformer")  # the figures' words, drawn in each page's language
torch.set_num_threads(1)  # tiny matrices: one thread is faster on a shared two-core machine
_ = torch.manual_seed(0)

# %% [markdown]
# ## 1. 数据：把本指南当作一个长字符串 { #data }
#
# `guide_text` 读取每一个英文页面，去掉页首元数据（front matter）、代码、公式和 Markdown 标记，只保留正文。
# 每个不同的字符对应一个 token id。

# %%
text = tg.guide_text("en")
vocab = tg.CharVocab(text)
data = vocab.encode(text)
print(f"{len(text):,} characters, {len(vocab.chars)} distinct")
print(repr(text[:300]))

# %% [markdown]
# ## 2. 模型 { #model }
#
# token 嵌入和位置嵌入，两个 Pre-Norm 块（因果多头注意力和 MLP，各自包在一个残差连接里），一个最终的
# LayerNorm，以及一个复用嵌入矩阵的输出层。权重随机且很小时，每个字符成为下一个字符的可能性几乎相同，所以对 $V$ 个
# 字符的词表，初始损失接近 $\ln V$。

# %%
model = tg.TinyGPT(len(vocab.chars), d_model=48, n_heads=4, n_layers=2, context=48)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters")
x, y = tg.batch(data, model.context, 16, torch.Generator().manual_seed(0))
with torch.no_grad():
    print(f"initial loss {tg.lm_loss(model, x, y).item():.3f}, "
          f"ln V = {math.log(len(vocab.chars)):.3f}")

# %% [markdown]
# 正是因果掩码让它成为一个语言模型。改变窗口中位置 40 上的字符，位置 0–39 上的预测必须完全不受影响：

# %%
with torch.no_grad():
    changed = x[:1].clone()
    changed[0, 40] = (changed[0, 40] + 1) % len(vocab.chars)
    moved = (model(changed) - model(x[:1]))[0].abs().amax(dim=-1) > 0
print("positions whose prediction moved:", moved.nonzero().flatten().tolist())

# %% [markdown]
# ## 3. 训练 { #training }
#
# 每一步随机取 16 个长为 48 个字符的窗口。每个窗口的每个位置都是一个训练样本（预测下一个字符），所以因果模型
# 每步能从 16 个窗口得到 16 × 48 = 768 个预测。两条参考线帮助读懂曲线：**一元（unigram）熵**是不看上下文的模型能达到的
# 最低损失，**二元（bigram）条件熵**是只看前一个字符的模型能达到的最低损失。曲线降到一元熵以下，说明模型在利用上下文。

# %% alt="折线图：微型 Transformer 每一步的训练损失，原始值与平滑值各一条，另有三条水平参考线：最上面是 ln V，然后是一元熵，最下面是二元条件熵。损失从 ln V 开始，在最初几十步内就降到一元熵以下，之后继续缓慢地向二元熵下降，最终落在两条线之间。"
start = time.perf_counter()
losses = tg.train(model, data, steps=150, batch_size=16, lr=3e-3, seed=0)
seconds = time.perf_counter() - start
unigram, bigram = tg.ngram_entropy(data, len(vocab.chars))
window = 20
smooth = [sum(losses[max(0, i - window + 1): i + 1]) / len(losses[max(0, i - window + 1): i + 1])
          for i in range(len(losses))]

plt.figure(figsize=(6, 3.6), layout="constrained")
plt.plot(losses, color="0.75", label=L["loss_step"])
plt.plot(smooth, label=L("mean_last", n=window))
for level, key, style, where in [(math.log(len(vocab.chars)), "uniform", ":", "top"),
                                 (unigram, "unigram", "--", "bottom"),
                                 (bigram, "bigram", "-.", "bottom")]:
    plt.axhline(level, linestyle=style, color="black", linewidth=1)
    shift = 0.05 if where == "bottom" else -0.05  # label above the line, or below it
    plt.text(len(losses) - 1, level + shift, L[key], ha="right", va=where)
plt.xlabel(L["step"])
plt.ylabel(L["cross_entropy"])
plt.title(L["loss_title"])
plt.legend(loc="center right")
plt.show()
print(f"last 20 steps: mean loss {smooth[-1]:.2f}; unigram {unigram:.2f}, "
      f"bigram {bigram:.2f}; {len(losses)} steps in {seconds:.0f} s")

# %% [markdown]
# ## 4. 采样 { #sampling }
#
# 生成时每次追加一个字符，从最后一个位置的 logits 除以温度后的 softmax 中抽取。训练 150 步之后，模型学会了
# 空格该放在哪里和常见的字母组合，几乎还不会拼词，更谈不上意思：损失已低于一元熵，但仍远高于二元熵。

# %%
for temperature in (0.5, 1.0):
    out = tg.sample(model, vocab.encode("The attention "), 160, temperature=temperature, seed=1)
    print(f"temperature {temperature}: {vocab.decode(out)!r}\n")

# %% [markdown]
# ## 5. 注意力在看什么 { #attention }
#
# 第一个块对一个提示词的注意力权重：第 $i$ 行是位置 $i$ 在它能看到的各个位置上的分布。对角线以上全部恰好为零：
# 这就是因果掩码。

# %% alt="两行两列的四幅热力图，每幅对应第一个块的一个注意力头，提示词长 24 个字符。每幅都是 24 × 24 的注意力权重网格，对角线以上处处为零；对角线以下，每一行把大部分权重放在前面少数几个位置上，有的头会在许多行中关注同一个较早的字符，形成竖直条纹。"
prompt = vocab.encode("The model predicts text.")
with torch.no_grad():
    model(prompt[None])
weights = model.blocks[0].attn.weights[0]  # (heads, n, n)
rows = (weights.shape[0] + 1) // 2
fig, axes = plt.subplots(rows, 2, figsize=(6.2, 3.0 * rows), squeeze=False,
                         layout="constrained")
for h, ax in enumerate(axes.flat):
    if h >= weights.shape[0]:
        ax.axis("off")
        continue
    ax.imshow(weights[h].numpy(), cmap="viridis", vmin=0, vmax=1)
    ax.set_title(L("head", h=h))
    ax.set_xlabel(L["key_position"])
    ax.set_ylabel(L["query_position"])
plt.show()
print("largest weight above the diagonal:",
      weights.triu(diagonal=1).max().item())

# %% [markdown]
# ## 要点 { #remember }
#
# - 仅解码器 Transformer 就是：嵌入层，若干层带残差连接和归一化的（因果注意力 + MLP）块，以及一个映射回词表的线性层。
# - 因果掩码让每个位置都成为一个预测下一个 token 的样本，并保证前面的预测不受后面 token 的影响。
# - 损失从 $\ln V$ 开始；低于一元熵和二元熵，说明模型在利用上下文。真实的模型需要的步数和数据远多于本实验的 150 步。
