"""What BERT, GPT-2 and T5 (transformers 5.23, tiny random configs) let each token see."""

from __future__ import annotations

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from snippets.foundations import enc_dec as ed


@pytest.fixture(scope="module")
def models():
    return ed.tiny_models()


@pytest.fixture(scope="module")
def ids():
    gen = torch.Generator().manual_seed(3)
    return torch.randint(1, ed.VOCAB, (1, 6), generator=gen), torch.randint(
        1, ed.VOCAB, (1, 5), generator=gen)


def test_bert_every_output_depends_on_every_input(models, ids):
    bert, _, _ = models
    dep = ed.dependence(lambda x: bert(input_ids=x).last_hidden_state, ids[0])
    assert dep.all()


def test_gpt2_output_depends_only_on_earlier_inputs(models, ids):
    _, gpt2, _ = models
    dep = ed.dependence(lambda x: gpt2(input_ids=x).last_hidden_state, ids[0])
    assert torch.equal(dep, torch.ones(6, 6, dtype=torch.bool).tril())


def test_t5_encoder_bidirectional_decoder_causal_cross_attention_sees_all(models, ids):
    _, _, t5 = models
    enc_ids, dec_ids = ids
    enc_to_enc, enc_to_dec, dec_to_dec = ed.t5_runs(t5, enc_ids, dec_ids)
    assert ed.dependence(enc_to_enc, enc_ids).all()
    cross = ed.dependence(enc_to_dec, enc_ids)
    assert cross.shape == (5, 6) and cross.all()
    assert torch.equal(ed.dependence(dec_to_dec, dec_ids), torch.ones(5, 5, dtype=torch.bool).tril())


def test_attention_weights_have_the_masks_shape(models, ids):
    bert, gpt2, t5 = models
    enc_ids, dec_ids = ids
    with torch.no_grad():
        bert_att = bert(input_ids=enc_ids, output_attentions=True).attentions
        gpt_att = gpt2(input_ids=enc_ids, output_attentions=True).attentions
        t5_out = t5(input_ids=enc_ids, decoder_input_ids=dec_ids, output_attentions=True)
    future = torch.ones(6, 6, dtype=torch.bool).triu(diagonal=1)
    assert all((a > 0).all() for a in bert_att)
    assert all((a[..., future] == 0).all() and (a[..., ~future] > 0).all() for a in gpt_att)
    dec_future = torch.ones(5, 5, dtype=torch.bool).triu(diagonal=1)
    assert all((a[..., dec_future] == 0).all() for a in t5_out.decoder_attentions)
    assert all((a > 0).all() for a in t5_out.encoder_attentions)
    assert all(a.shape[-2:] == (5, 6) and (a > 0).all() for a in t5_out.cross_attentions)


def test_causal_lm_loss_uses_every_position_but_the_last():
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=ed.VOCAB, n_embd=16, n_layer=1, n_head=2,
                                       bos_token_id=0, eos_token_id=0)).eval()
    ids = torch.randint(0, ed.VOCAB, (2, 9))
    out = model(input_ids=ids, labels=ids)
    per_token = torch.nn.functional.cross_entropy(
        out.logits[:, :-1].reshape(-1, ed.VOCAB), ids[:, 1:].reshape(-1), reduction="none")
    assert per_token.numel() == 2 * 8
    torch.testing.assert_close(out.loss, per_token.mean())


@pytest.mark.parametrize("seed", range(5))
def test_causal_matrix_is_invertible_but_badly_conditioned(seed):
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(128, 16, generator=gen, dtype=torch.float64)
    k = torch.randn(128, 16, generator=gen, dtype=torch.float64)
    causal = ed.attention_matrix(q, k, causal=True)
    bidir = ed.attention_matrix(q, k, causal=False)
    assert torch.equal(causal, causal.tril())
    sign, logdet = torch.linalg.slogdet(causal)  # triangular: det = product of the diagonal
    assert sign == 1 and torch.isclose(logdet, torch.diagonal(causal).log().sum())
    assert torch.linalg.svdvals(causal)[-1] < 1e-6 * torch.linalg.svdvals(bidir)[-1]


def test_identical_keys_make_the_bidirectional_matrix_singular():
    gen = torch.Generator().manual_seed(0)
    q = torch.randn(8, 4, generator=gen, dtype=torch.float64)
    k = torch.randn(8, 4, generator=gen, dtype=torch.float64)
    k[5] = k[2]
    bidir = ed.attention_matrix(q, k, causal=False)
    torch.testing.assert_close(bidir[:, 2], bidir[:, 5])
    assert torch.linalg.matrix_rank(bidir) == 7
    assert torch.linalg.matrix_rank(ed.attention_matrix(q, k, causal=True)) == 8
