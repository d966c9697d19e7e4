"""Vector search methods compared on 20,000 vectors of dimension 384 (the size of the section's
embeddings): exact flat search, IVF, product quantization (Faiss) and HNSW (hnswlib).

The vectors are synthetic: 100 cluster centres, variation along a shared 32-dimensional
subspace, small isotropic noise, then L2-normalised. Real sentence embeddings are similarly
clustered with a low intrinsic dimension; uniformly random vectors would be the worst case
for every approximate method.

The figure docs/assets/figures/rag/vector-search.<lang>.svg (snippets/rag/figures.py) draws
timings recorded in data/vector_search_timings.json, which vary from run to run;
`python scripts/figures.py --measure` measures them again.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import faiss
import hnswlib
import numpy as np

# One OpenMP thread: results do not depend on thread scheduling, and on a small shared
# machine OpenMP's busy-waiting threads cost more than they gain.
faiss.omp_set_num_threads(1)

DIM = 384


def make_vectors(
    n: int, n_queries: int, dim: int = DIM, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Clustered unit vectors: database (n, dim) and queries (n_queries, dim), float32."""
    rng = np.random.default_rng(seed)
    n_clusters, rank = 100, 32
    centers = 0.6 * rng.normal(size=(n_clusters, dim))
    basis = rng.normal(size=(dim, rank)) / np.sqrt(rank)

    def sample(m: int) -> np.ndarray:
        c = rng.integers(n_clusters, size=m)
        x = centers[c] + rng.normal(size=(m, rank)) @ basis.T + 0.1 * rng.normal(size=(m, dim))
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    return sample(n), sample(n_queries)


# --8<-- [start:exact]
def exact_search(base: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Brute force: every query against every vector, O(n d) per query. The ground truth."""
    scores = queries @ base.T
    top = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
    return np.take_along_axis(top, order, axis=1)


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Share of the true k nearest neighbours that the index returned, averaged over queries."""
    k = truth.shape[1]
    return float(np.mean([len(set(f[:k]) & set(t)) / k for f, t in zip(found, truth, strict=True)]))
# --8<-- [end:exact]


@contextmanager
def blas_kmeans() -> Iterator[None]:
    """Let k-means assign points to centroids with BLAS from 20 points up, as Faiss did by
    default before (faiss-cpu 1.15.1 waits for 128,000). Training PQ on 8-dimensional
    sub-vectors becomes ten times faster; the centroids here are the same."""
    before = faiss.cvar.distance_compute_blas_threshold
    faiss.cvar.distance_compute_blas_threshold = 20
    try:
        yield
    finally:
        faiss.cvar.distance_compute_blas_threshold = before


# --8<-- [start:indexes]
def flat_index(base: np.ndarray) -> faiss.Index:
    """Exact search, vectors stored as they are: 4 d bytes per vector."""
    index = faiss.IndexFlatIP(base.shape[1])
    index.add(base)
    return index


def ivf_index(base: np.ndarray, nlist: int = 128) -> faiss.IndexIVFFlat:
    """Inverted file: k-means into `nlist` cells; a query scans only its `nprobe` nearest cells."""
    quantizer = faiss.IndexFlatIP(base.shape[1])
    index = faiss.IndexIVFFlat(quantizer, base.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
    index.train(base)
    index.add(base)
    return index


def pq_index(base: np.ndarray, m: int = 48, nbits: int = 8) -> faiss.IndexPQ:
    """Product quantization: split each vector into m sub-vectors and store, for each, the id
    of its nearest of 2**nbits sub-centroids: m * nbits / 8 bytes per vector."""
    index = faiss.IndexPQ(base.shape[1], m, nbits, faiss.METRIC_INNER_PRODUCT)
    with blas_kmeans():  # BLAS k-means: ten times faster here, same centroids
        index.train(base[:10_000])  # 39 training points per sub-centroid is plenty
    index.add(base)
    return index


def hnsw_index(base: np.ndarray, m: int = 16, ef_construction: int = 64) -> hnswlib.Index:
    """HNSW graph: each vector linked to ~m neighbours per layer (2m on the bottom layer)."""
    index = hnswlib.Index(space="ip", dim=base.shape[1])
    index.init_index(max_elements=len(base), M=m, ef_construction=ef_construction, random_seed=0)
    index.add_items(base, num_threads=1)  # one thread: the same graph on every run
    return index
# --8<-- [end:indexes]


@dataclass
class Result:
    method: str
    setting: str
    recall: float
    bytes_per_vector: float
    ms_per_query: float


# --8<-- [start:benchmark]
def benchmark(
    base: np.ndarray, queries: np.ndarray, k: int = 10, pq_m: tuple[int, ...] = (16, 48)
) -> list[Result]:
    """Recall@k, memory and query time for each index at several search settings
    (PQ needs ~10,000 training vectors: pass pq_m=() for a smaller base)."""
    faiss.omp_set_num_threads(1)  # deterministic and comparable timings
    truth = exact_search(base, queries, k)
    results: list[Result] = []

    def run(method: str, setting: str, search, nbytes: float) -> None:
        start = time.perf_counter()
        found = search()
        ms = 1000 * (time.perf_counter() - start) / len(queries)
        results.append(Result(method, setting, recall_at_k(found, truth), nbytes, ms))

    def size(index: faiss.Index) -> float:  # serialized bytes per database vector
        return faiss.serialize_index(index).nbytes / len(base)

    flat = flat_index(base)
    run("flat", "exact", lambda: flat.search(queries, k)[1], size(flat))
    ivf = ivf_index(base)
    for nprobe in (1, 4, 16, 64):
        ivf.nprobe = nprobe
        run("IVF", f"nlist=128 nprobe={nprobe}", lambda: ivf.search(queries, k)[1], size(ivf))
    for m in pq_m:
        pq = pq_index(base, m)
        run("PQ", f"m={m} nbits=8", lambda pq=pq: pq.search(queries, k)[1], size(pq))
    hnsw = hnsw_index(base)
    for ef in (10, 20, 50, 100):
        hnsw.set_ef(ef)
        run(
            "HNSW",
            f"M=16 ef={ef}",
            lambda: hnsw.knn_query(queries, k, num_threads=1)[0],
            hnsw.index_file_size() / len(base),
        )
    return results
# --8<-- [end:benchmark]


# --8<-- [start:contrast]
def relative_contrast(dim: int, n: int = 2000, seed: int = 0) -> float:
    """(farthest - nearest) / nearest distance from a random query to n uniform random points,
    averaged over 20 queries. It shrinks towards 0 as the dimension grows (Beyer et al., 1999),
    so a KD-tree can prune almost nothing: every cell is about as close as the nearest point."""
    rng = np.random.default_rng(seed)
    points = rng.random((n, dim))
    contrasts = []
    for query in rng.random((20, dim)):
        dist = np.linalg.norm(points - query, axis=1)
        contrasts.append((dist.max() - dist.min()) / dist.min())
    return float(np.mean(contrasts))
# --8<-- [end:contrast]


if __name__ == "__main__":
    base, queries = make_vectors(20_000, 200)
    print(f"{len(base)} database vectors, {len(queries)} queries, d = {base.shape[1]}")
    print(f"{'method':<6} {'setting':<20} {'recall@10':>9} {'bytes/vector':>13}")
    for r in benchmark(base, queries):
        print(f"{r.method:<6} {r.setting:<20} {r.recall:9.3f} {r.bytes_per_vector:13.0f}")
    print()
    print("Relative contrast (max - min) / min of distances, uniform random points")
    for dim in (2, 8, 32, 128, 384):
        print(f"d = {dim:>3}: {relative_contrast(dim):8.3f}")
