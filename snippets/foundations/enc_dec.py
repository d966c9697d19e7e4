"""Encoder, decoder, encoder-decoder: which outputs each one lets a token influence.

Tiny BERT, GPT-2 and T5 models from transformers (random weights): change one input token
and record which output positions move. Then the rank argument for causal attention,
checked on random queries and keys.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from transformers import (
    BertConfig,
    BertModel,
    GPT2Config,
    GPT2Model,
    T5Config,
    T5Model,
)

VOCAB = 50


# --8<-- [start:dependence]
def dependence(run: Callable[[torch.Tensor], torch.Tensor], ids: torch.Tensor) -> torch.Tensor:
    """D[i, j] = True if changing input token j changes output position i."""
    with torch.no_grad():
        base = run(ids)
        dep = torch.zeros(base.shape[1], ids.shape[1], dtype=torch.bool)
        for j in range(ids.shape[1]):
            changed = ids.clone()
            changed[0, j] = (changed[0, j] + 1) % VOCAB  # another token at position j
            dep[:, j] = (run(changed) - base)[0].abs().amax(dim=-1) > 1e-5
    return dep


def tiny_models(seed: int = 0) -> tuple[BertModel, GPT2Model, T5Model]:
    """Two-layer BERT (encoder), GPT-2 (decoder) and T5 (encoder-decoder), random weights."""
    torch.manual_seed(seed)
    bert = BertModel(BertConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2,
                                num_attention_heads=4, intermediate_size=64,
                                attn_implementation="eager"))
    gpt2 = GPT2Model(GPT2Config(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=4,
                                bos_token_id=0, eos_token_id=0, attn_implementation="eager"))
    t5 = T5Model(T5Config(vocab_size=VOCAB, d_model=32, d_kv=8, d_ff=64, num_layers=2,
                          num_heads=4, decoder_start_token_id=0, attn_implementation="eager"))
    return bert.eval(), gpt2.eval(), t5.eval()


def t5_runs(t5: T5Model, enc_ids: torch.Tensor, dec_ids: torch.Tensor):
    """Three views of T5: encoder -> encoder states, encoder -> decoder states (through
    cross-attention), decoder input -> decoder states (causal self-attention)."""
    def enc_to_enc(ids):
        return t5.encoder(input_ids=ids).last_hidden_state

    def enc_to_dec(ids):
        return t5(input_ids=ids, decoder_input_ids=dec_ids).last_hidden_state

    def dec_to_dec(ids):
        return t5(input_ids=enc_ids, decoder_input_ids=ids).last_hidden_state
    return enc_to_enc, enc_to_dec, dec_to_dec
# --8<-- [end:dependence]


# --8<-- [start:rank]
def attention_matrix(q: torch.Tensor, k: torch.Tensor, causal: bool) -> torch.Tensor:
    """softmax(q k^T / sqrt(d)), optionally with the causal mask."""
    scores = q @ k.T / q.shape[-1] ** 0.5
    if causal:
        future = torch.ones_like(scores, dtype=torch.bool).triu(diagonal=1)
        scores = scores.masked_fill(future, float("-inf"))
    return torch.softmax(scores, dim=-1)
# --8<-- [end:rank]


def show(dep: torch.Tensor) -> str:
    return "\n".join("  " + " ".join("x" if v else "." for v in row) for row in dep.tolist())


def main() -> None:
    bert, gpt2, t5 = tiny_models()
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(1, VOCAB, (1, 6), generator=gen)
    dec_ids = torch.randint(1, VOCAB, (1, 4), generator=gen)
    enc_to_enc, enc_to_dec, dec_to_dec = t5_runs(t5, ids, dec_ids)
    cases = [
        ("BERT (encoder): output i vs input j", lambda x: bert(input_ids=x).last_hidden_state, ids),
        ("GPT-2 (decoder): output i vs input j", lambda x: gpt2(input_ids=x).last_hidden_state, ids),
        ("T5 encoder: encoder output i vs encoder input j", enc_to_enc, ids),
        ("T5 decoder: decoder output i vs encoder input j", enc_to_dec, ids),
        ("T5 decoder: decoder output i vs decoder input j", dec_to_dec, dec_ids),
    ]
    for title, run, x in cases:
        print(title)
        print(show(dependence(run, x)))

    n, d = 128, 16
    gen = torch.Generator().manual_seed(0)
    print(f"\nsmallest singular value of softmax(q k^T / sqrt(d)), random q, k "
          f"(n = {n}, d = {d}, float64)")
    for trial in range(3):
        q = torch.randn(n, d, generator=gen, dtype=torch.float64)
        k = torch.randn(n, d, generator=gen, dtype=torch.float64)
        row = []
        for causal in (False, True):
            a = attention_matrix(q, k, causal)
            sigma = torch.linalg.svdvals(a)[-1].item()
            shown = f"{sigma:.0e}" if sigma > 1e-15 else "< 1e-15 (round-off level)"
            row.append(f"{'causal' if causal else 'bidirectional'} {shown}")
        print(f"  trial {trial}: " + ", ".join(row))
    q, k = q[:8], k[:8].clone()
    k[5] = k[2]  # two identical keys: the bidirectional matrix has two equal columns
    print("8 positions, keys 2 and 5 identical -> rank: bidirectional",
          torch.linalg.matrix_rank(attention_matrix(q, k, causal=False)).item(),
          "causal", torch.linalg.matrix_rank(attention_matrix(q, k, causal=True)).item())


if __name__ == "__main__":
    main()
