"""snippets/inference/logits_processors.py against transformers' own processors.

Reference: transformers 5.23.0, transformers/generation/logits_process.py. transformers has
no frequency or presence penalty; those are checked against the formula in the OpenAI API
reference (mu[j] - c[j] * alpha_frequency - float(c[j] > 0) * alpha_presence), written
out here with plain Python loops.
"""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM
from transformers.generation.logits_process import (
    MinPLogitsWarper,
    NoRepeatNGramLogitsProcessor,
    RepetitionPenaltyLogitsProcessor,
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

from snippets.inference.logits_processors import (
    FrequencyPresencePenalty,
    MinP,
    NoRepeatNGram,
    RepetitionPenalty,
    Temperature,
    TopK,
    TopP,
    decode,
)

BATCH, VOCAB, SEQ = 6, 40, 15



@pytest.fixture
def batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    scores = torch.randn(BATCH, VOCAB, generator=g) * 3
    # a small id range so that tokens and n-grams repeat
    input_ids = torch.randint(0, 8, (BATCH, SEQ), generator=g)
    return input_ids, scores


def assert_same(ours: torch.Tensor, theirs: torch.Tensor) -> None:
    """Same filtered positions (-inf) and the same values elsewhere."""
    assert torch.equal(torch.isinf(ours), torch.isinf(theirs))
    torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize("t", [0.3, 0.7, 1.0, 1.8])
def test_temperature_matches_transformers(batch, t: float) -> None:
    ids, scores = batch
    assert_same(Temperature(t)(ids, scores), TemperatureLogitsWarper(t)(ids, scores.clone()))


def test_temperature_keeps_the_argmax_and_sharpens(batch) -> None:
    ids, scores = batch
    cold = Temperature(0.05)(ids, scores).softmax(-1)
    assert torch.equal(cold.argmax(-1), scores.argmax(-1))
    assert (cold.max(-1).values > scores.softmax(-1).max(-1).values).all()


@pytest.mark.parametrize("k", [1, 3, 10, VOCAB, VOCAB + 5])
def test_top_k_matches_transformers(batch, k: int) -> None:
    ids, scores = batch
    ours = TopK(k)(ids, scores)
    assert_same(ours, TopKLogitsWarper(min(k, VOCAB))(ids, scores.clone()))
    assert (torch.isfinite(ours).sum(-1) == min(k, VOCAB)).all()  # no ties in random logits


@pytest.mark.parametrize("p", [0.05, 0.3, 0.6, 0.9, 0.99])
def test_top_p_matches_transformers(batch, p: float) -> None:
    ids, scores = batch
    assert_same(TopP(p)(ids, scores), TopPLogitsWarper(p)(ids, scores.clone()))


@pytest.mark.parametrize("p", [0.3, 0.9])
def test_top_p_keeps_the_smallest_set_reaching_p(batch, p: float) -> None:
    """Brute force: the kept tokens are the top ones, hold >= p, and one fewer would not."""
    ids, scores = batch
    kept = torch.isfinite(TopP(p)(ids, scores))
    probs = scores.softmax(-1)
    for row in range(BATCH):
        ranked = probs[row].argsort(descending=True).tolist()
        size = int(kept[row].sum())
        assert set(ranked[:size]) == set(torch.nonzero(kept[row]).flatten().tolist())
        assert probs[row, ranked[:size]].sum() >= p
        assert size == 1 or probs[row, ranked[: size - 1]].sum() < p


@pytest.mark.parametrize("min_p", [0.01, 0.1, 0.5])
def test_min_p_matches_transformers(batch, min_p: float) -> None:
    ids, scores = batch
    assert_same(MinP(min_p)(ids, scores), MinPLogitsWarper(min_p)(ids, scores.clone()))


@pytest.mark.parametrize("penalty", [0.8, 1.2, 2.0])
def test_repetition_penalty_matches_transformers(batch, penalty: float) -> None:
    ids, scores = batch
    theirs = RepetitionPenaltyLogitsProcessor(penalty)(ids, scores.clone())
    assert_same(RepetitionPenalty(penalty)(ids, scores), theirs)


def test_repetition_penalty_lowers_only_seen_tokens(batch) -> None:
    ids, scores = batch
    out = RepetitionPenalty(1.5)(ids, scores)
    for row in range(BATCH):
        seen = set(ids[row].tolist())
        for token in range(VOCAB):
            if token in seen:
                assert out[row, token] < scores[row, token]
            else:
                assert out[row, token] == scores[row, token]


def test_repetition_penalty_changes_nothing_once_every_token_was_seen(batch) -> None:
    """x -> x/θ (x > 0), x·θ (x < 0) is increasing, so the ranking is unchanged."""
    _, scores = batch
    everything = torch.arange(VOCAB).repeat(BATCH, 1)
    out = RepetitionPenalty(1.3)(everything, scores)
    assert torch.equal(out.argsort(-1), scores.argsort(-1))


def test_repetition_penalty_depends_on_a_logit_offset_softmax_ignores(batch) -> None:
    ids, scores = batch
    torch.testing.assert_close(scores.softmax(-1), (scores + 10).softmax(-1))
    plain = RepetitionPenalty(1.2)(ids, scores).softmax(-1)
    shifted = RepetitionPenalty(1.2)(ids, scores + 10).softmax(-1)
    assert (plain - shifted).abs().max() > 0.05


def openai_penalties(
    tokens: list[int], logits: list[float], frequency: float, presence: float
) -> list[float]:
    """mu[j] -> mu[j] - c[j] * alpha_frequency - float(c[j] > 0) * alpha_presence."""
    counts = {j: tokens.count(j) for j in range(len(logits))}
    return [
        mu - counts[j] * frequency - float(counts[j] > 0) * presence
        for j, mu in enumerate(logits)
    ]


@pytest.mark.parametrize(
    ("frequency", "presence"), [(0.5, 0.0), (0.0, 1.0), (0.3, 0.7), (-0.4, 0.2)]
)
@pytest.mark.parametrize("prompt_length", [0, 5])
def test_frequency_presence_match_the_openai_formula(batch, frequency, presence, prompt_length):
    ids, scores = batch
    ours = FrequencyPresencePenalty(frequency, presence, prompt_length)(ids, scores)
    for row in range(BATCH):
        generated = ids[row, prompt_length:].tolist()
        expected = openai_penalties(generated, scores[row].tolist(), frequency, presence)
        torch.testing.assert_close(ours[row], torch.tensor(expected))


def test_frequency_presence_commute_with_a_logit_offset(batch) -> None:
    ids, scores = batch
    penalty = FrequencyPresencePenalty(0.4, 0.6)
    torch.testing.assert_close(penalty(ids, scores + 10), penalty(ids, scores) + 10)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_no_repeat_ngram_matches_transformers(batch, n: int) -> None:
    ids, scores = batch
    assert_same(NoRepeatNGram(n)(ids, scores), NoRepeatNGramLogitsProcessor(n)(ids, scores.clone()))


def test_no_repeat_ngram_output_has_no_repeated_ngram() -> None:
    g = torch.Generator().manual_seed(1)
    table = torch.randn(6, 6, generator=g)
    out = decode(lambda ids: table[ids[:, -1]], [0], 20, [NoRepeatNGram(3)])
    tokens = [0] + out
    grams = [tuple(tokens[i : i + 3]) for i in range(len(tokens) - 2)]
    assert len(grams) == len(set(grams))


@pytest.fixture(scope="module")
def tiny_llama() -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
    )
    return LlamaForCausalLM(config).eval()


PROMPT = [1, 2, 3, 4, 5]


def hf_generate(model: LlamaForCausalLM, **kwargs) -> list[int]:
    with torch.no_grad():
        out = model.generate(torch.tensor([PROMPT]), max_new_tokens=20, pad_token_id=0, **kwargs)
    return out[0, len(PROMPT) :].tolist()


def ours_generate(model: LlamaForCausalLM, processors, sample: bool = False) -> list[int]:
    with torch.no_grad():
        return decode(lambda ids: model(ids).logits[:, -1, :], PROMPT, 20, processors, sample)


def test_decode_loop_matches_generate(tiny_llama) -> None:
    """Greedy, repetition penalty and n-gram blocking give the tokens generate() gives."""
    assert ours_generate(tiny_llama, []) == hf_generate(tiny_llama, do_sample=False)
    assert ours_generate(tiny_llama, [RepetitionPenalty(1.3)]) == hf_generate(
        tiny_llama, do_sample=False, repetition_penalty=1.3
    )
    assert ours_generate(tiny_llama, [NoRepeatNGram(2)]) == hf_generate(
        tiny_llama, do_sample=False, no_repeat_ngram_size=2
    )


def test_sampling_chain_matches_generate(tiny_llama) -> None:
    """generate() applies temperature, then top-k, then top-p, then samples."""
    torch.manual_seed(123)
    theirs = hf_generate(tiny_llama, do_sample=True, temperature=0.7, top_k=10, top_p=0.9)
    torch.manual_seed(123)
    ours = ours_generate(tiny_llama, [Temperature(0.7), TopK(10), TopP(0.9)], sample=True)
    assert ours == theirs


def distinct_4grams(tokens: list[int]) -> float:
    grams = [tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3)]
    return len(set(grams)) / len(grams)


def test_random_tiny_llama_loops_and_the_penalty_breaks_it(tiny_llama) -> None:
    greedy = hf_generate(tiny_llama, do_sample=False)
    period = next(p for p in range(1, 10) if greedy[p:] == greedy[:-p])
    assert period < 5  # a short loop from the first token on
    assert distinct_4grams(greedy) < 0.25
    # transformers' own penalty and ours: no period at all, and no 4-gram comes back
    theirs = hf_generate(tiny_llama, do_sample=False, repetition_penalty=1.3)
    ours = ours_generate(tiny_llama, [RepetitionPenalty(1.3)])
    assert ours == theirs
    assert all(ours[p:] != ours[:-p] for p in range(1, 10))
    assert distinct_4grams(ours) == 1.0
    # the OpenAI-style frequency penalty breaks it too (only generated tokens count)
    frequency = ours_generate(tiny_llama, [FrequencyPresencePenalty(0.5, 0.0, len(PROMPT))])
    assert distinct_4grams(frequency) == 1.0
