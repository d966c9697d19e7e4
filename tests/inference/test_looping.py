"""snippets/inference/looping.py: the bigram model loops under greedy decoding, and the
controls change that as the page says.

The expected loop is computed independently: bigram counts with collections.Counter and
the argmax successor of each word in plain Python.
"""

from __future__ import annotations

import math
from collections import Counter

import pytest

from snippets.inference.looping import (
    CORPUS,
    BigramLM,
    distinct_n,
    first_repeat,
    run_controls,
    tail_period,
)

N = 48


def successor_map() -> dict[str, str]:
    """Greedy next word for each word, from raw counts (ties: alphabetical first)."""
    words = CORPUS.split()  # "." ends a sentence and is followed by the next one's first word
    pairs = Counter(zip(words, words[1:], strict=False))
    vocab = sorted(set(words))
    return {
        a: max(vocab, key=lambda b: (pairs[(a, b)], -vocab.index(b))) for a in vocab
    }


@pytest.fixture(scope="module")
def outputs() -> dict[float, dict[str, list[int]]]:
    return {
        offset: run_controls(BigramLM(offset=offset), max_new_tokens=N) for offset in (0.0, 10.0)
    }


def test_model_is_the_smoothed_bigram_distribution() -> None:
    model = BigramLM()
    words = CORPUS.split()
    pairs = Counter(zip(words, words[1:], strict=False))
    vocab = sorted(set(words))
    a = model.index["the"]
    total = sum(pairs[("the", b)] + 0.1 for b in vocab)
    for b in vocab:
        expected = (pairs[("the", b)] + 0.1) / total
        actual = model.logits[a].softmax(-1)[model.index[b]].item()
        assert math.isclose(actual, expected, rel_tol=1e-5)


def test_greedy_decoding_is_a_loop_of_the_successor_map(outputs) -> None:
    """The next token is a function of the last one, so greedy output must cycle."""
    succ = successor_map()
    word, expected = "the", []
    for _ in range(N):
        word = succ[word]
        expected.append(word)
    model = BigramLM()
    assert model.decode_text(outputs[0.0]["greedy"]) == " ".join(expected)
    assert expected[:4] == ["cat", "sat", "on", "the"]  # "the" maps back to itself in 4 steps
    assert tail_period(outputs[0.0]["greedy"]) == 4
    assert first_repeat(outputs[0.0]["greedy"]) == 4


def test_offset_changes_nothing_but_the_repetition_penalty(outputs) -> None:
    for name in outputs[0.0]:
        same = outputs[0.0][name] == outputs[10.0][name]
        assert same == (name != "repetition 1.2"), name
    assert outputs[0.0]["repetition 1.2"] == outputs[0.0]["greedy"]  # too weak at this scale


@pytest.mark.parametrize(("offset", "name"), [(10.0, "repetition 1.2"), (0.0, "presence 1.0")])
def test_one_shot_penalties_delay_the_loop_then_it_returns(outputs, offset, name) -> None:
    greedy, tokens = outputs[offset]["greedy"], outputs[offset][name]
    assert first_repeat(tokens) > 2 * first_repeat(greedy)
    assert tail_period(tokens) == 4
    assert set(tokens[-8:]) == set(greedy[:4])  # the very same "cat sat on the" loop


def test_frequency_penalty_keeps_pushing(outputs) -> None:
    tokens = outputs[0.0]["frequency 0.5"]
    assert tail_period(tokens) is None
    assert distinct_n(tokens) > 5 * distinct_n(outputs[0.0]["greedy"])


def test_no_repeat_ngram_never_repeats_a_trigram(outputs) -> None:
    tokens = BigramLM().encode("the") + outputs[0.0]["no-repeat 3-gram"]
    assert first_repeat(tokens, n=3) is None


def test_sampling_does_not_loop(outputs) -> None:
    assert tail_period(outputs[0.0]["T=0.8, top-k=5, top-p=0.9"]) is None


def test_metrics_on_hand_made_sequences() -> None:
    assert tail_period([1, 2, 3] * 6) == 3
    assert tail_period(list(range(20))) is None
    assert first_repeat([1, 2, 1, 2, 1], n=2) == 2
    assert distinct_n([1, 1, 1, 1, 1], n=2) == 0.25
