"""The from-scratch BPE against Hugging Face tokenizers 0.23 (trainer, BPE, WordPiece models)."""

from __future__ import annotations

import json

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from snippets.foundations import bpe


def hf_merges(tokenizer: Tokenizer) -> tuple[list[tuple[str, str]], dict[str, int]]:
    model = json.loads(tokenizer.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    return merges, model["vocab"]


def hf_byte_level(docs: list[str], vocab_size: int, min_frequency: int = 0) -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())  # no normalizer
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), special_tokens=[],
    )
    tokenizer.train_from_iterator(docs, trainer)
    return tokenizer


def test_byte_level_pretokenization_matches_hf():
    pre = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    for text in bpe.mini_guide("en")[:5] + bpe.mini_guide("zh")[:5] + ["It's  2 GPUs\n\n ok?"]:
        assert [p for p, _ in pre.pre_tokenize_str(text)] == bpe.byte_level_words(text)
        assert bpe.decode_bytes(bpe.byte_level_words(text)) == text
    assert set(bpe.BYTE_CHAR.values()) == set(pre_tokenizers.ByteLevel.alphabet())


@pytest.mark.parametrize(("lang", "min_frequency"), [("en", 0), ("zh", 0), ("en", 4)])
def test_merges_vocab_and_encodings_equal_hf_trainer(lang, min_frequency):
    docs = bpe.mini_guide(lang)
    train, held_out = docs[: bpe.TRAIN_DOCS], docs[bpe.TRAIN_DOCS :]
    size = 256 + 300
    words = [w for doc in train for w in bpe.byte_level_words(doc)]
    vocab, merges = bpe.train_bpe(words, size, min_frequency, alphabet=bpe.ALPHABET)
    tokenizer = hf_byte_level(train, size, min_frequency)
    hf_m, hf_v = hf_merges(tokenizer)
    assert merges == hf_m and vocab == hf_v
    if min_frequency:  # training stopped early: no pair was frequent enough
        assert len(vocab) < size
    for text in held_out + train[:3]:
        assert bpe.encode(text, merges) == tokenizer.encode(text).tokens


def test_ties_go_to_the_smaller_ids_not_the_smaller_string():
    # After merging (a, b), the pairs (ab, x) and (b, y) both occur twice. The trainer
    # takes the pair with the smaller left id: "b" (id 1) beats "ab" (id 4, a new token),
    # although the string "ab" sorts before "b".
    words = "ab ab ab ab ab abx abx by by".split()
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer.train_from_iterator(
        [" ".join(words)], trainers.BpeTrainer(vocab_size=10, show_progress=False)
    )
    hf_m, hf_v = hf_merges(tokenizer)
    vocab, merges = bpe.train_bpe(words, 10)
    assert hf_m[:2] == [("a", "b"), ("b", "y")] and hf_v["ab"] == 4
    assert (merges, vocab) == (hf_m, hf_v)


def test_merge_pair_is_left_to_right_and_non_overlapping():
    assert bpe.merge_pair(list("aaa"), ("a", "a")) == ["aa", "a"]
    assert bpe.merge_pair(list("abab"), ("a", "b")) == ["ab", "ab"]


def test_extension_never_lengthens_and_shortens_chinese():
    en = bpe.mini_guide("en")[: bpe.TRAIN_DOCS]
    zh = bpe.mini_guide("zh")[: bpe.TRAIN_DOCS]
    _, base = bpe.train_bpe([w for d in en for w in bpe.byte_level_words(d)], 256 + 200,
                            alphabet=bpe.ALPHABET)
    _, extra = bpe.train_bpe([w for d in zh for w in bpe.byte_level_words(d)], 256 + 200,
                             alphabet=bpe.ALPHABET)
    extended = bpe.extend_merges(base, extra)
    assert extended[: len(base)] == base and len(set(extended)) == len(extended)
    for text in bpe.mini_guide("en") + bpe.mini_guide("ru") + bpe.mini_guide("zh"):
        assert len(bpe.encode(text, extended)) <= len(bpe.encode(text, base))
    held_out_zh = bpe.mini_guide("zh")[bpe.TRAIN_DOCS :]
    assert bpe.chars_per_token(held_out_zh, extended) > 1.5 * bpe.chars_per_token(
        held_out_zh, base)


def test_wordpiece_greedy_longest_match_equals_hf():
    vocab = ["[UNK]", "un", "##aff", "##able", "##a", "##b", "a", "aff", "##ff", "##le", "##l"]
    model = models.WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]")
    for word in ["unaffable", "affable", "unable", "aaa", "xyz", "unz", "a"]:
        assert bpe.wordpiece_encode(word, set(vocab)) == [t.value for t in model.tokenize(word)]
    assert bpe.wordpiece_encode("unz", set(vocab)) == ["[UNK]"]  # one miss: whole word


def test_byte_fallback_equals_hf_bpe():
    pieces = ["a", "b"] + [f"<0x{b:02X}>" for b in range(256)] + ["<unk>"]
    model = models.BPE(vocab={t: i for i, t in enumerate(pieces)}, merges=[],
                       unk_token="<unk>", byte_fallback=True)
    for char in ["中", "é", "😀"]:
        assert bpe.byte_fallback(char) == [t.value for t in model.tokenize(char)]
    assert len(bpe.byte_fallback("中")) == 3 and len(bpe.byte_fallback("😀")) == 4
    plain = models.BPE(vocab={t: i for i, t in enumerate(pieces)}, merges=[], unk_token="<unk>")
    assert [t.value for t in plain.tokenize("中")] == ["<unk>"]


def test_llama_embedding_counts_match_transformers():
    torch = pytest.importorskip("torch")
    from transformers import LlamaConfig, LlamaForCausalLM

    shapes = {"Llama 2 7B": dict(intermediate_size=11008, num_key_value_heads=32),
              "Llama 3 8B": dict(intermediate_size=14336, num_key_value_heads=8)}
    for name, v, d, total in bpe.LLAMA_VOCABS:
        config = LlamaConfig(vocab_size=v, hidden_size=d, num_hidden_layers=32,
                             num_attention_heads=32, tie_word_embeddings=False, **shapes[name])
        with torch.device("meta"):
            model = LlamaForCausalLM(config)
        assert sum(p.numel() for p in model.parameters()) == total
        embed = model.get_input_embeddings().weight.numel()
        head = model.get_output_embeddings().weight.numel()
        assert embed + head == bpe.embedding_params(v, d)
