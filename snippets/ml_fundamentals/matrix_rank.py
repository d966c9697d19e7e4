"""The rank of a matrix: exact and numerical rank, linear systems, SVD truncation, LoRA.

Used by the page ml-fundamentals/matrix-rank (source question A5).
"""

from __future__ import annotations

from fractions import Fraction

import torch


# --8<-- [start:exact-rank]
def rank_by_elimination(rows: list[list[int | Fraction]]) -> int:
    """Exact rank: Gaussian elimination over the rationals, counting pivots."""
    m = [[Fraction(v) for v in row] for row in rows]
    n_rows, n_cols = len(m), len(m[0]) if m else 0
    rank = 0
    for col in range(n_cols):
        pivot = next((r for r in range(rank, n_rows) if m[r][col] != 0), None)
        if pivot is None:
            continue  # no pivot in this column: it depends on the columns before it
        m[rank], m[pivot] = m[pivot], m[rank]
        for r in range(rank + 1, n_rows):
            factor = m[r][col] / m[rank][col]
            m[r] = [a - factor * b for a, b in zip(m[r], m[rank], strict=True)]
        rank += 1
    return rank
# --8<-- [end:exact-rank]


# --8<-- [start:numerical-rank]
def numerical_rank(a: torch.Tensor, rtol: float | None = None) -> int:
    """Rank in floating point: singular values above sigma_max * rtol.

    The default rtol = eps * max(m, n) is the one torch.linalg.matrix_rank and
    numpy.linalg.matrix_rank use.
    """
    s = torch.linalg.svdvals(a)
    if rtol is None:
        rtol = torch.finfo(a.dtype).eps * max(a.shape)
    return int((s > s.max() * rtol).sum()) if s.numel() else 0
# --8<-- [end:numerical-rank]


# --8<-- [start:systems]
def solution_count(a: list[list[int]], b: list[int]) -> str:
    """Rouche-Capelli: Ax = b has a solution iff rank(A) == rank([A | b]);
    the solution is unique iff that rank also equals the number of unknowns."""
    rank_a = rank_by_elimination(a)
    rank_ab = rank_by_elimination([row + [bi] for row, bi in zip(a, b, strict=True)])
    if rank_a < rank_ab:
        return "none"
    return "unique" if rank_a == len(a[0]) else "infinitely many"
# --8<-- [end:systems]


# --8<-- [start:low-rank]
def best_rank_k(a: torch.Tensor, k: int) -> torch.Tensor:
    """Truncated SVD: keep the k largest singular values and their vectors."""
    u, s, vh = torch.linalg.svd(a, full_matrices=False)
    return u[:, :k] @ torch.diag(s[:k]) @ vh[:k, :]


def eckart_young_error(a: torch.Tensor, k: int) -> tuple[float, float]:
    """The error of the best rank-k approximation, read off the singular values:
    Frobenius norm sqrt(sum_{i>k} s_i^2) and spectral norm s_{k+1}."""
    s = torch.linalg.svdvals(a)
    tail = s[k:]
    return float(tail.pow(2).sum().sqrt()), float(tail[0]) if tail.numel() else 0.0
# --8<-- [end:low-rank]


# --8<-- [start:lora]
def lora_delta(d_out: int, d_in: int, r: int, alpha: float, seed: int = 0) -> torch.Tensor:
    """A LoRA update Delta W = (alpha / r) * B @ A with B: (d_out, r), A: (r, d_in).

    Every column of B @ A is a combination of the r columns of B, so rank <= r.
    (LoRA initialises B to zero; here both factors are random, as after training.)
    """
    g = torch.Generator().manual_seed(seed)
    b = torch.randn(d_out, r, generator=g, dtype=torch.float64)
    a = torch.randn(r, d_in, generator=g, dtype=torch.float64)
    return (alpha / r) * b @ a


def lora_parameter_count(d_out: int, d_in: int, r: int) -> tuple[int, int]:
    """Trainable numbers: full Delta W versus the two LoRA factors."""
    return d_out * d_in, r * (d_out + d_in)
# --8<-- [end:lora]


if __name__ == "__main__":
    example = [[1, 2, 3], [2, 4, 6], [1, 0, 1]]
    print("A = [[1, 2, 3], [2, 4, 6], [1, 0, 1]]  (row 2 = 2 * row 1)")
    transposed = [list(col) for col in zip(*example, strict=True)]
    rank_a, rank_at = rank_by_elimination(example), rank_by_elimination(transposed)
    print(f"rank(A) = {rank_a}, rank(A^T) = {rank_at}")
    as_float = torch.tensor(example, dtype=torch.float64)
    print(f"numerical rank (SVD) = {numerical_rank(as_float)}: singular, no inverse")
    for b in ([1, 2, 0], [1, 3, 0]):
        print(f"A x = {b}: solutions: {solution_count(example, b)}")
    print(f"[[2, 1], [1, 1]] x = [3, 2]: solutions: {solution_count([[2, 1], [1, 1]], [3, 2])}")
    scaled = 0.1 * torch.eye(50, dtype=torch.float64)
    det_scaled = float(torch.linalg.det(scaled))
    print(f"det(0.1 * I_50) = {det_scaled:.1e}, yet rank {numerical_rank(scaled)}, condition 1")

    # A 40 x 30 matrix = rank-3 signal + small noise: numerically full rank, effectively rank 3.
    g = torch.Generator().manual_seed(0)
    signal = torch.randn(40, 3, generator=g, dtype=torch.float64) @ torch.randn(
        3, 30, generator=g, dtype=torch.float64
    )
    noisy = signal + 0.01 * torch.randn(40, 30, generator=g, dtype=torch.float64)
    s = torch.linalg.svdvals(noisy)
    print(f"\nrank-3 signal + noise, 40 x 30: numerical rank {numerical_rank(noisy)}")
    print("singular values 1-6:", " ".join(f"{v:.3f}" for v in s[:6].tolist()))
    print(" k  ||A - A_k||_F  sqrt(sum s_i^2, i>k)  ||A - A_k||_2  s_(k+1)")
    for k in (1, 2, 3, 4):
        diff = noisy - best_rank_k(noisy, k)
        fro, spec = eckart_young_error(noisy, k)
        fro_direct = float(torch.linalg.matrix_norm(diff, "fro"))
        spec_direct = float(torch.linalg.matrix_norm(diff, 2))
        print(f"{k:2d}  {fro_direct:12.4f}  {fro:20.4f}  {spec_direct:13.4f}  {spec:7.4f}")

    delta = lora_delta(64, 48, r=4, alpha=8)
    print(f"\nLoRA Delta W, 64 x 48 with r = 4: rank {numerical_rank(delta)}")
    for d, r in [(4096, 8), (4096, 64)]:
        full, lora = lora_parameter_count(d, d, r)
        print(f"d = {d}, r = {r:2d}: full {full:,} vs LoRA {lora:,} ({100 * lora / full:.2f}%)")
