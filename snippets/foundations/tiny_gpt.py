"""A tiny decoder-only transformer (GPT-style) trained on this guide's own text.

Character-level, pre-norm blocks, learned positions, tied embeddings: small enough to
train for a few hundred steps on a CPU in seconds. Used by lab-tiny-transformer.py.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import torch
from torch import Tensor, nn

ROOT = Path(__file__).resolve().parents[2]


# --8<-- [start:data]
def guide_text(lang: str = "en", docs: Path | None = None) -> str:
    """The guide's Markdown pages as plain prose: no front matter, code, links or markup."""
    chunks = []
    for path in sorted(((docs or ROOT / "docs") / lang).rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.DOTALL)  # front matter
        text = re.sub(r"^(`{3,}).*?^\1", "", text, flags=re.DOTALL | re.MULTILINE)  # code
        text = re.sub(r"\$\$.*?\$\$|\$[^$\n]*\$", "", text, flags=re.DOTALL)  # math
        text = re.sub(r"\{\s*#[^}]*\}|<[^>]+>", "", text)  # heading ids, HTML tags
        text = re.sub(r"\]\([^)]*\)", "]", text)  # keep a link's text, drop its target
        text = re.sub(r"^\s*(!!!|\?\?\?|--8<--|\*\[).*$", "", text, flags=re.MULTILINE)
        text = re.sub(r"[#*_`>\[\]|]", "", text)  # remaining Markdown punctuation
        chunks.append(re.sub(r"\s+", " ", text).strip())
    return "\n".join(chunks)


class CharVocab:
    """Character-level tokenizer: one id per distinct character of the training text."""

    def __init__(self, text: str) -> None:
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def encode(self, text: str) -> Tensor:
        return torch.tensor([self.index[c] for c in text], dtype=torch.long)

    def decode(self, ids: Tensor) -> str:
        return "".join(self.chars[i] for i in ids.tolist())
# --8<-- [end:data]


# --8<-- [start:model]
class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position i sees positions 0..i only."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)  # queries, keys, values in one matmul
        self.out = nn.Linear(d_model, d_model)
        self.weights: Tensor | None = None  # the last attention weights, for plotting

    def forward(self, x: Tensor) -> Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).split(d, dim=-1)
        # (b, n, d) -> (b, heads, n, d_head)
        q, k, v = (t.view(b, n, self.n_heads, d // self.n_heads).transpose(1, 2)
                   for t in (q, k, v))
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // self.n_heads)
        future = torch.ones(n, n, dtype=torch.bool, device=x.device).triu(diagonal=1)
        weights = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
        self.weights = weights.detach()
        return self.out((weights @ v).transpose(1, 2).reshape(b, n, d))


class Block(nn.Module):
    """Pre-norm transformer block: x + attention(LN(x)), then x + MLP(LN(x))."""

    def __init__(self, d_model: int, n_heads: int) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(),
                                 nn.Linear(4 * d_model, d_model))

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    """Token + position embeddings, a stack of blocks, final LayerNorm, tied LM head."""

    def __init__(self, vocab: int, d_model: int = 64, n_heads: int = 4, n_layers: int = 2,
                 context: int = 64) -> None:
        super().__init__()
        self.context = context
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Embedding(context, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_heads) for _ in range(n_layers))
        self.ln = nn.LayerNorm(d_model)
        for p in self.parameters():  # small init, as GPT-2: std 0.02
            if p.dim() == 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, ids: Tensor) -> Tensor:
        """ids (b, n) -> next-token logits (b, n, vocab)."""
        x = self.tok(ids) + self.pos(torch.arange(ids.shape[1], device=ids.device))
        for block in self.blocks:
            x = block(x)
        return self.ln(x) @ self.tok.weight.T  # the LM head shares the embedding matrix
# --8<-- [end:model]


# --8<-- [start:train]
def batch(data: Tensor, context: int, size: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """Random windows of the text; the targets are the inputs shifted by one."""
    starts = torch.randint(0, len(data) - context - 1, (size,), generator=gen)
    x = torch.stack([data[s : s + context] for s in starts])
    y = torch.stack([data[s + 1 : s + context + 1] for s in starts])
    return x, y


def lm_loss(model: TinyGPT, x: Tensor, y: Tensor) -> Tensor:
    """Cross-entropy of every position's prediction of the next character."""
    logits = model(x)
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


def train(model: TinyGPT, data: Tensor, steps: int, batch_size: int = 32, lr: float = 3e-3,
          seed: int = 0) -> list[float]:
    """AdamW on random windows; returns the training loss of every step."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    losses = []
    for _ in range(steps):
        x, y = batch(data, model.context, batch_size, gen)
        loss = lm_loss(model, x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def sample(model: TinyGPT, prompt: Tensor, n_new: int, temperature: float = 0.8,
           seed: int = 0) -> Tensor:
    """Append n_new tokens, each drawn from softmax(logits / temperature)."""
    gen = torch.Generator().manual_seed(seed)
    ids = prompt.clone()
    for _ in range(n_new):
        logits = model(ids[None, -model.context :])[0, -1] / temperature
        ids = torch.cat([ids, torch.multinomial(logits.softmax(-1), 1, generator=gen)])
    return ids
# --8<-- [end:train]


# --8<-- [start:baselines]
def ngram_entropy(data: Tensor, vocab: int) -> tuple[float, float]:
    """Cross-entropy floors of models that ignore context: the unigram entropy H(X) and the
    bigram conditional entropy H(X_t | X_t-1) of the text, in nats per character."""
    uni = torch.bincount(data, minlength=vocab).double()
    pairs = torch.bincount(data[:-1] * vocab + data[1:], minlength=vocab * vocab).double()

    def entropy(counts: Tensor) -> float:
        p = counts[counts > 0] / counts.sum()
        return float(-(p * p.log()).sum())

    first = torch.bincount(data[:-1], minlength=vocab).double()
    return entropy(uni), entropy(pairs) - entropy(first)
# --8<-- [end:baselines]
