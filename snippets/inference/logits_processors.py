"""Every decoding control written from scratch as a logits processor.

A logits processor takes the tokens so far, `input_ids` of shape (batch, seq), and the
next-token scores, `scores` of shape (batch, vocab), and returns new scores. Generation
runs a list of them, then takes the argmax (greedy) or samples from the softmax.

Used by the page inference/hallucination-repetition (source questions B4, B5, B6).
The tests compare each class with the processor of the same name in
transformers/generation/logits_process.py (transformers 5.23.0); transformers has no
frequency or presence penalty, so those are compared with the formula in the OpenAI API
reference, which vLLM also follows.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

NEG_INF = float("-inf")


# --8<-- [start:warpers]
class Temperature:
    """Divide the logits by T: T < 1 sharpens the distribution, T > 1 flattens it."""

    def __init__(self, temperature: float) -> None:
        if temperature <= 0:
            raise ValueError("temperature must be > 0; use greedy decoding for T -> 0")
        self.temperature = temperature

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        return scores / self.temperature


class TopK:
    """Keep the k highest-scoring tokens (ties with the k-th are kept too)."""

    def __init__(self, k: int) -> None:
        self.k = k

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        k = min(self.k, scores.shape[-1])
        kth_best = torch.topk(scores, k, dim=-1).values[..., -1:]
        return scores.masked_fill(scores < kth_best, NEG_INF)


class TopP:
    """Nucleus sampling: keep the smallest set of top tokens whose probability reaches p."""

    def __init__(self, p: float) -> None:
        self.p = p

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        sorted_scores, order = torch.sort(scores, dim=-1, descending=True)
        probs = sorted_scores.softmax(dim=-1)
        mass_before = probs.cumsum(dim=-1) - probs  # probability of the better tokens
        drop_sorted = mass_before >= self.p  # the nucleus is already full without it
        drop_sorted[..., 0] = False  # always keep the best token
        drop = drop_sorted.scatter(-1, order, drop_sorted)  # back to vocabulary order
        return scores.masked_fill(drop, NEG_INF)


class MinP:
    """Keep tokens whose probability is at least min_p times the top token's probability."""

    def __init__(self, min_p: float) -> None:
        self.min_p = min_p

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        probs = scores.softmax(dim=-1)
        threshold = self.min_p * probs.max(dim=-1, keepdim=True).values
        return scores.masked_fill(probs < threshold, NEG_INF)
# --8<-- [end:warpers]


# --8<-- [start:penalties]
class RepetitionPenalty:
    """CTRL's penalty (Keskar et al., 2019) with the sign fix transformers uses.

    Every token that occurs anywhere in `input_ids` (prompt included) is penalised once,
    however often it occurred: a positive logit is divided by the penalty, a negative
    one multiplied by it, so both move down when penalty > 1.
    """

    def __init__(self, penalty: float) -> None:
        self.penalty = penalty

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        seen = torch.zeros_like(scores, dtype=torch.bool).scatter(-1, input_ids, True)
        penalised = torch.where(scores > 0, scores / self.penalty, scores * self.penalty)
        return torch.where(seen, penalised, scores)


class FrequencyPresencePenalty:
    """The OpenAI API penalties: logit[j] -= c[j] * frequency + (c[j] > 0) * presence.

    c[j] counts how often token j was generated so far; like the OpenAI reference and
    vLLM, only generated tokens count, so the first `prompt_length` positions are skipped.
    """

    def __init__(self, frequency: float, presence: float, prompt_length: int = 0) -> None:
        self.frequency = frequency
        self.presence = presence
        self.prompt_length = prompt_length

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        generated = input_ids[:, self.prompt_length :]
        counts = torch.zeros_like(scores).scatter_add(
            -1, generated, torch.ones_like(generated, dtype=scores.dtype)
        )
        return scores - self.frequency * counts - self.presence * (counts > 0).to(scores.dtype)


class NoRepeatNGram:
    """Forbid any token that would complete an n-gram already present in `input_ids`."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        scores = scores.clone()
        n = self.n
        for row, tokens in enumerate(input_ids.tolist()):
            if len(tokens) < n:
                continue
            prefix = tokens[len(tokens) - n + 1 :]  # the last n-1 tokens (empty when n == 1)
            for start in range(len(tokens) - n + 1):
                if tokens[start : start + n - 1] == prefix:
                    scores[row, tokens[start + n - 1]] = NEG_INF
        return scores
# --8<-- [end:penalties]


# --8<-- [start:decode]
Processor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def decode(
    next_token_logits: Callable[[torch.Tensor], torch.Tensor],
    prompt: list[int],
    max_new_tokens: int,
    processors: list[Processor] | None = None,
    sample: bool = False,
    generator: torch.Generator | None = None,
) -> list[int]:
    """Generate token by token: logits -> processors -> argmax or sample.

    `next_token_logits(input_ids)` returns the (1, vocab) scores for the next token.
    """
    input_ids = torch.tensor([prompt])
    for _ in range(max_new_tokens):
        scores = next_token_logits(input_ids)
        for processor in processors or []:
            scores = processor(input_ids, scores)
        if sample:
            next_token = torch.multinomial(scores.softmax(dim=-1), 1, generator=generator)
        else:
            next_token = scores.argmax(dim=-1, keepdim=True)
        input_ids = torch.cat([input_ids, next_token], dim=-1)
    return input_ids[0, len(prompt) :].tolist()
# --8<-- [end:decode]


def _show(name: str, scores: torch.Tensor) -> None:
    probs = scores.softmax(dim=-1)[0]
    print(f"  {name:<26}" + " ".join(f"{p:5.2f}" for p in probs.tolist()))


if __name__ == "__main__":
    probs = torch.tensor([[0.50, 0.20, 0.15, 0.10, 0.05]])
    logits = probs.log() + 5.0  # any offset gives the same distribution
    seen = torch.tensor([[0, 0, 3]])  # token 0 was generated twice, token 3 once
    print("next-token probabilities over 5 tokens; tokens 0 (twice) and 3 (once) already seen")
    _show("model", logits)
    for name, processor in [
        ("temperature 0.5", Temperature(0.5)),
        ("temperature 2.0", Temperature(2.0)),
        ("top-k 2", TopK(2)),
        ("top-p 0.8", TopP(0.8)),
        ("min-p 0.25", MinP(0.25)),
        ("repetition penalty 1.2", RepetitionPenalty(1.2)),
        ("frequency 0.5", FrequencyPresencePenalty(0.5, 0.0)),
        ("presence 0.5", FrequencyPresencePenalty(0.0, 0.5)),
    ]:
        _show(name, processor(seen, logits))
