"""A bigram model that provably loops under greedy decoding, and what each control does to it.

Used by the page inference/hallucination-repetition (source questions B4, B5, B6) and the
lab inference/lab-decoding-batching.
"""

from __future__ import annotations

import torch

from snippets.inference.logits_processors import (
    FrequencyPresencePenalty,
    NoRepeatNGram,
    Processor,
    RepetitionPenalty,
    Temperature,
    TopK,
    TopP,
    decode,
)

# --8<-- [start:model]
CORPUS = """\
the cat sat on the mat .
the cat sat on the sofa .
the cat ran to the door .
the dog sat on the rug .
the dog ran to the park .
a bird sat on a branch .
a bird sang in the park .
a dog saw the cat ."""


class BigramLM:
    """logit(next = b | last = a) = log(count(a, b) + 0.1) + offset.

    The next token depends on the last token only. `offset` adds the same constant to
    every logit: the softmax, and so the model, does not change.
    """

    def __init__(self, corpus: str = CORPUS, offset: float = 0.0) -> None:
        sentences = [line.split() for line in corpus.splitlines()]
        self.vocab = sorted({word for sentence in sentences for word in sentence})
        self.index = {word: i for i, word in enumerate(self.vocab)}
        counts = torch.zeros(len(self.vocab), len(self.vocab))
        for sentence, following in zip(sentences, sentences[1:] + [None], strict=True):
            words = sentence + ([following[0]] if following else [])  # "." -> next sentence
            for a, b in zip(words, words[1:], strict=False):
                counts[self.index[a], self.index[b]] += 1
        self.logits = (counts + 0.1).log() + offset

    def __call__(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Next-token logits, shape (batch, vocab), from the last token of each row."""
        return self.logits[input_ids[:, -1]]

    def encode(self, text: str) -> list[int]:
        return [self.index[word] for word in text.split()]

    def decode_text(self, tokens: list[int]) -> str:
        return " ".join(self.vocab[t] for t in tokens)
# --8<-- [end:model]


# --8<-- [start:metrics]
def tail_period(tokens: list[int], window: int = 16) -> int | None:
    """Smallest p such that the last `window` tokens repeat with period p, else None."""
    tail = tokens[-window:]
    for p in range(1, window // 2 + 1):
        if all(tail[i] == tail[i + p] for i in range(len(tail) - p)):
            return p
    return None


def first_repeat(tokens: list[int], n: int = 4) -> int | None:
    """Position where some n-gram occurs for the second time, else None."""
    seen: set[tuple[int, ...]] = set()
    for i in range(len(tokens) - n + 1):
        gram = tuple(tokens[i : i + n])
        if gram in seen:
            return i
        seen.add(gram)
    return None


def distinct_n(tokens: list[int], n: int = 4) -> float:
    """Share of distinct n-grams among all n-grams (1.0: nothing repeats)."""
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return len(set(grams)) / len(grams)
# --8<-- [end:metrics]


# --8<-- [start:controls]
def controls(prompt_length: int) -> dict[str, tuple[list[Processor], bool]]:
    """Decoding settings to compare: name -> (processors, sample?)."""
    return {
        "greedy": ([], False),
        "repetition 1.2": ([RepetitionPenalty(1.2)], False),
        "presence 1.0": ([FrequencyPresencePenalty(0.0, 1.0, prompt_length)], False),
        "frequency 0.5": ([FrequencyPresencePenalty(0.5, 0.0, prompt_length)], False),
        "no-repeat 3-gram": ([NoRepeatNGram(3)], False),
        "T=0.8, top-k=5, top-p=0.9": ([Temperature(0.8), TopK(5), TopP(0.9)], True),
    }


def run_controls(
    model: BigramLM, prompt: str = "the", max_new_tokens: int = 48, seed: int = 0
) -> dict[str, list[int]]:
    """Generate with every control from the same prompt; sampling uses a seeded generator."""
    prompt_ids = model.encode(prompt)
    outputs = {}
    for name, (processors, sample) in controls(len(prompt_ids)).items():
        generator = torch.Generator().manual_seed(seed)
        outputs[name] = decode(model, prompt_ids, max_new_tokens, processors, sample, generator)
    return outputs
# --8<-- [end:controls]


def report(offset: float, show: int = 20) -> None:
    model = BigramLM(offset=offset)
    print(f"logit offset {offset:+g}: control, tail period, distinct 4-grams, first {show} tokens")
    for name, tokens in run_controls(model).items():
        period = tail_period(tokens)
        print(
            f"  {name:<26} {str(period):>4}  {distinct_n(tokens):.2f}  "
            f"{model.decode_text(tokens[:show])}"
        )


def margin(offset: float, penalty: float = 1.2) -> None:
    model = BigramLM(offset=offset)
    the, cat, dog = (model.index[w] for w in ("the", "cat", "dog"))
    best, runner_up = model.logits[the, cat].item(), model.logits[the, dog].item()
    print(
        f"offset {offset:+g}: logit(the -> cat) = {best:.2f}, /{penalty} = {best / penalty:.2f}; "
        f"logit(the -> dog) = {runner_up:.2f}"
    )


if __name__ == "__main__":
    margin(offset=0.0)
    margin(offset=10.0)
    print()
    report(offset=0.0)
    print()
    report(offset=10.0)
