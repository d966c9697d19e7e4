"""Byte-pair encoding from scratch: byte-level pre-tokenization, training, encoding.

The trainer follows the rules of Hugging Face tokenizers' `BpeTrainer` (0.23), so that both
learn the same merges from the same words: count adjacent pairs weighted by word frequency,
merge the most frequent pair, and break ties by the smaller (left id, right id), where
characters get ids in code-point order and each new token the next free id.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

import regex

Pair = tuple[str, str]

# --8<-- [start:pretokenize]
# GPT-2's split: contractions, letters, digits, punctuation, whitespace; a word keeps the
# space before it (" model"), so no text is lost.
GPT2_SPLIT = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
)


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's map from the 256 byte values to 256 printable characters."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    table, extra = {}, 0
    for byte in range(256):
        if byte in printable:
            table[byte] = chr(byte)
        else:  # control characters, space, ...: shifted past 255 to stay visible
            table[byte] = chr(256 + extra)
            extra += 1
    return table


BYTE_CHAR = bytes_to_unicode()
CHAR_BYTE = {c: b for b, c in BYTE_CHAR.items()}


def byte_level_words(text: str) -> list[str]:
    """Split text as GPT-2 does, then spell each piece with one character per UTF-8 byte."""
    return ["".join(BYTE_CHAR[b] for b in piece.encode("utf-8"))
            for piece in GPT2_SPLIT.findall(text)]


def decode_bytes(tokens: Iterable[str]) -> str:
    """Inverse of the byte spelling: tokens back to text."""
    return bytes(CHAR_BYTE[c] for token in tokens for c in token).decode("utf-8")
# --8<-- [end:pretokenize]


# --8<-- [start:train]
def pair_counts(splits: dict[str, list[str]], counts: Counter[str]) -> Counter[Pair]:
    """How often each adjacent pair occurs, weighted by word frequency."""
    pairs: Counter[Pair] = Counter()
    for word, symbols in splits.items():
        for pair in pairwise(symbols):
            pairs[pair] += counts[word]
    return pairs


def merge_pair(symbols: list[str], pair: Pair) -> list[str]:
    """Replace every occurrence of `pair`, left to right, by the merged symbol."""
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def train_bpe(words: Iterable[str], vocab_size: int, min_frequency: int = 0,
              alphabet: Iterable[str] = ()) -> tuple[dict[str, int], list[Pair]]:
    """Learn merges until the vocabulary has `vocab_size` entries; return (vocab, merges)."""
    counts = Counter(words)
    characters = sorted(set(alphabet) | {c for word in counts for c in word})
    vocab = {c: i for i, c in enumerate(characters)}  # ids in code-point order
    splits = {word: list(word) for word in counts}
    pairs = pair_counts(splits, counts)
    merges: list[Pair] = []
    while len(vocab) < vocab_size and pairs:
        # Most frequent pair; on a tie, the smaller (left id, right id).
        best = max(pairs, key=lambda p: (pairs[p], -vocab[p[0]], -vocab[p[1]]))
        if pairs[best] < max(min_frequency, 1):
            break
        merges.append(best)
        vocab.setdefault(best[0] + best[1], len(vocab))
        for word, symbols in splits.items():
            if best not in pairwise(symbols):
                continue
            for pair in pairwise(symbols):  # take the word's old pairs out...
                pairs[pair] -= counts[word]
                if pairs[pair] == 0:
                    del pairs[pair]
            splits[word] = merge_pair(symbols, best)
            for pair in pairwise(splits[word]):  # ...and its new pairs in
                pairs[pair] += counts[word]
    return vocab, merges
# --8<-- [end:train]


# --8<-- [start:encode]
def encode_word(word: str, ranks: dict[Pair, int]) -> list[str]:
    """Apply merges to one pre-token: always the earliest-learned pair present, leftmost first."""
    symbols = list(word)
    while len(symbols) > 1:
        rank, i = min((ranks.get(pair, math.inf), i)
                      for i, pair in enumerate(pairwise(symbols)))
        if rank == math.inf:
            break
        symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
    return symbols


def encode(text: str, merges: list[Pair]) -> list[str]:
    """Byte-level BPE: pre-tokenize, then merge inside each piece."""
    ranks = {pair: r for r, pair in enumerate(merges)}
    return [t for word in byte_level_words(text) for t in encode_word(word, ranks)]
# --8<-- [end:encode]


# --8<-- [start:wordpiece]
def wordpiece_encode(word: str, vocab: set[str], prefix: str = "##",
                     unk: str = "[UNK]") -> list[str]:
    """WordPiece (BERT) encoding: greedy longest match from the left; any miss -> [UNK]."""
    tokens, start = [], 0
    while start < len(word):
        end = len(word)
        while end > start:
            piece = word[start:end] if start == 0 else prefix + word[start:end]
            if piece in vocab:
                tokens.append(piece)
                break
            end -= 1
        if end == start:  # not even one character matched
            return [unk]
        start = end
    return tokens
# --8<-- [end:wordpiece]


# --8<-- [start:fallback]
def byte_fallback(char: str) -> list[str]:
    """SentencePiece-style byte fallback: an unknown character becomes its UTF-8 bytes."""
    return [f"<0x{b:02X}>" for b in char.encode("utf-8")]
# --8<-- [end:fallback]


# --8<-- [start:extend]
def extend_merges(base: list[Pair], extra: list[Pair]) -> list[Pair]:
    """Append another tokenizer's merges after the base ones (lower priority), skipping repeats."""
    seen = set(base)
    return base + [pair for pair in extra if pair not in seen]
# --8<-- [end:extend]


# --8<-- [start:embeddings]
def embedding_params(vocab_size: int, d_model: int, tied: bool = False) -> int:
    """Parameters in the input embedding plus the output (LM head) matrix."""
    return vocab_size * d_model * (1 if tied else 2)


# (name, vocab_size, d_model, total parameters) from the models' config.json files;
# both untie the input embedding and the LM head.
LLAMA_VOCABS = [
    ("Llama 2 7B", 32_000, 4096, 6_738_415_616),
    ("Llama 3 8B", 128_256, 4096, 8_030_261_248),
]
# --8<-- [end:embeddings]


def mini_guide(lang: str) -> list[str]:
    """The guide's frozen one-abstract-per-page collection (snippets/rag/data/mini_guide.json)."""
    path = Path(__file__).resolve().parents[1] / "rag" / "data" / "mini_guide.json"
    documents = json.loads(path.read_text(encoding="utf-8"))["documents"]
    return [d["text"][lang] for d in documents]


def chars_per_token(texts: list[str], merges: list[Pair]) -> float:
    """Compression: characters of text per token."""
    n_chars = sum(len(t) for t in texts)
    return n_chars / sum(len(encode(t, merges)) for t in texts)


ALPHABET = sorted(BYTE_CHAR.values())
TRAIN_DOCS = 24  # abstracts 0-23 train the tokenizers; 24-33 are held out


def main() -> None:
    english = mini_guide("en")
    words = [w for doc in english[:TRAIN_DOCS] for w in byte_level_words(doc)]
    vocab, merges = train_bpe(words, vocab_size=256 + 600, alphabet=ALPHABET)
    print("first merges:", " ".join(a + b for a, b in merges[:12]))
    sentence = "LoRA freezes the pretrained weights."
    print("encode:", encode(sentence, merges))

    held_out = {lang: mini_guide(lang)[TRAIN_DOCS:] for lang in ("en", "zh", "ru")}
    print("\nchars per token on held-out abstracts (merges learned on English only)")
    print(f"{'merges':>6} {'vocab':>6} {'en':>6} {'zh':>6} {'ru':>6}")
    for n in (0, 100, 300, 600):
        row = [chars_per_token(held_out[lang], merges[:n]) for lang in ("en", "zh", "ru")]
        print(f"{n:>6} {256 + n:>6} " + " ".join(f"{x:6.2f}" for x in row))

    chinese = [w for doc in mini_guide("zh")[:TRAIN_DOCS] for w in byte_level_words(doc)]
    _, zh_merges = train_bpe(chinese, vocab_size=256 + 600, alphabet=ALPHABET)
    extended = extend_merges(merges, zh_merges)
    print(f"\n+ {len(extended) - len(merges)} merges learned on Chinese:",
          " ".join(f"{lang} {chars_per_token(held_out[lang], extended):.2f}"
                   for lang in ("en", "zh", "ru")))
    print("'模型' before:", len(encode("模型", merges)), "tokens, after:",
          len(encode("模型", extended)), "tokens")

    print("\nembedding + LM head parameters (untied)")
    for name, v, d, total in LLAMA_VOCABS:
        p = embedding_params(v, d)
        print(f"{name}: {v:,} x {d} x 2 = {p:,} ({p / total:.1%} of {total / 1e9:.2f}B);"
              f" LM head {2 * v * d / 1e9:.2f} GFLOP per token")


if __name__ == "__main__":
    main()
