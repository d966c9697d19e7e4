"""Vector search: exact search equals brute force, IVF scanning every cell is exact, PQ codes
have the advertised size, and HNSW at the page's settings reaches the recall the page quotes."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from snippets.rag.vector_search import (
    blas_kmeans,
    exact_search,
    flat_index,
    hnsw_index,
    ivf_index,
    make_vectors,
    pq_index,
    recall_at_k,
    relative_contrast,
)


@pytest.fixture(scope="module")
def small():
    return make_vectors(3000, 50, seed=1)


def brute_force(base: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """The plainest possible k-NN by inner product: a full sort per query."""
    return np.array([np.argsort(-(base @ q), kind="stable")[:k] for q in queries])


def test_exact_search_equals_brute_force_and_faiss_flat(small):
    base, queries = small
    truth = brute_force(base, queries, 10)
    np.testing.assert_array_equal(exact_search(base, queries, 10), truth)
    np.testing.assert_array_equal(flat_index(base).search(queries, 10)[1], truth)
    assert recall_at_k(truth, truth) == 1.0


def test_ivf_scanning_every_cell_is_exact_and_one_cell_is_not(small):
    base, queries = small
    truth = exact_search(base, queries, 10)
    ivf = ivf_index(base, nlist=32)
    ivf.nprobe = 32
    assert recall_at_k(ivf.search(queries, 10)[1], truth) == 1.0
    ivf.nprobe = 1
    assert recall_at_k(ivf.search(queries, 10)[1], truth) < 1.0


def test_pq_stores_m_bytes_per_vector():
    base, _ = make_vectors(10_000, 1, dim=32, seed=2)
    index = pq_index(base, m=4)
    assert index.code_size == 4 and index.pq.M == 4 and index.pq.dsub == 32 // 4
    codes = index.sa_encode(base[:5])
    assert codes.shape == (5, 4) and codes.dtype == np.uint8
    # Decoding gives back the nearest sub-centroids: close to, not equal to, the input
    # (much closer than another database vector is).
    error = np.linalg.norm(index.sa_decode(codes) - base[:5], axis=1)
    spread = np.linalg.norm(base[:5] - base[5:10], axis=1)
    assert (error > 0).all() and error.mean() < 0.5 * spread.mean()


def test_blas_kmeans_trains_the_same_codebooks_and_restores_the_setting():
    base, _ = make_vectors(10_000, 1, dim=32, seed=2)
    default = faiss.cvar.distance_compute_blas_threshold
    plain = faiss.IndexPQ(32, 4, 8, faiss.METRIC_INNER_PRODUCT)
    plain.train(base)
    fast = pq_index(base, m=4)  # trains inside blas_kmeans()
    np.testing.assert_array_equal(
        faiss.vector_to_array(fast.pq.centroids), faiss.vector_to_array(plain.pq.centroids)
    )
    assert faiss.cvar.distance_compute_blas_threshold == default
    with blas_kmeans():
        assert faiss.cvar.distance_compute_blas_threshold == 20
    assert faiss.cvar.distance_compute_blas_threshold == default


def test_recall_at_k_counts_overlap():
    truth = np.array([[1, 2, 3, 4]])
    assert recall_at_k(np.array([[4, 9, 2, 8]]), truth) == 0.5


def test_hnsw_recall_at_the_page_settings():
    # The page quotes recall@10 >= 0.96 at M=16, ef_construction=64, ef=50 on these vectors.
    base, queries = make_vectors(20_000, 200)
    truth = exact_search(base, queries, 10)
    index = hnsw_index(base)
    index.set_ef(50)
    found, _ = index.knn_query(queries, k=10, num_threads=1)
    assert recall_at_k(found, truth) >= 0.96
    index.set_ef(10)
    assert recall_at_k(index.knn_query(queries, k=10, num_threads=1)[0], truth) < 0.96


def test_relative_contrast_shrinks_with_dimension():
    contrasts = [relative_contrast(d, n=500) for d in (2, 16, 128, 384)]
    assert all(a > b for a, b in zip(contrasts, contrasts[1:], strict=False))
    assert contrasts[-1] < 0.3 < 10 < contrasts[0]
