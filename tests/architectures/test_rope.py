"""RoPE: both memory layouts, the relative-position property and the decay bound."""

from __future__ import annotations

import math

import torch
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

from snippets.architectures import llama_block as lb
from snippets.architectures import rope


def rotation_matrix(m: int, d: int, base: float = 10000.0) -> torch.Tensor:
    """RoFormer eq. (15): block-diagonal 2x2 rotations of adjacent pairs, built by hand."""
    r = torch.zeros(d, d, dtype=torch.float64)
    for i in range(d // 2):
        angle = m * base ** (-2 * i / d)
        c, s = math.cos(angle), math.sin(angle)
        r[2 * i, 2 * i], r[2 * i, 2 * i + 1] = c, -s
        r[2 * i + 1, 2 * i], r[2 * i + 1, 2 * i + 1] = s, c
    return r


def test_interleaved_layout_is_the_roformer_matrix() -> None:
    torch.manual_seed(0)
    d, positions = 8, torch.arange(5)
    x = torch.randn(5, d, dtype=torch.float64)
    expected = torch.stack([rotation_matrix(m, d) @ x[m] for m in range(5)])
    torch.testing.assert_close(rope.apply_rope_interleaved(x, positions), expected)


def test_half_layout_equals_interleaved_after_permuting_dims() -> None:
    torch.manual_seed(1)
    d, t = 16, 6
    x = torch.randn(t, d)
    perm = rope.interleaved_to_half(d)
    cos, sin = lb.rope_cos_sin(torch.arange(t), d)
    torch.testing.assert_close(lb.apply_rope(x[:, perm], cos, sin),
                               rope.apply_rope_interleaved(x, torch.arange(t))[:, perm])


def test_hf_weight_permutation_gives_same_scores() -> None:
    """Meta checkpoints use the interleaved layout; transformers' conversion script permutes
    the rows of W_q and W_k so that rotate_half gives identical attention scores."""
    torch.manual_seed(2)
    n_heads, head_dim, t = 2, 8, 5
    dim = n_heads * head_dim
    wq, wk = torch.randn(dim, dim), torch.randn(dim, dim)
    x = torch.randn(t, dim)

    def permute(w: torch.Tensor) -> torch.Tensor:  # as in convert_llama_weights_to_hf.py
        return w.view(n_heads, dim // n_heads // 2, 2, dim).transpose(1, 2).reshape(dim, dim)

    def heads(y: torch.Tensor) -> torch.Tensor:
        return y.view(t, n_heads, head_dim).transpose(0, 1)  # (heads, t, head_dim)

    pos = torch.arange(t)
    q_meta = torch.stack([rope.apply_rope_interleaved(h, pos) for h in heads(x @ wq.T)])
    k_meta = torch.stack([rope.apply_rope_interleaved(h, pos) for h in heads(x @ wk.T)])
    cos, sin = lb.rope_cos_sin(pos, head_dim)
    q_hf, k_hf = apply_rotary_pos_emb(heads(x @ permute(wq).T)[None],
                                      heads(x @ permute(wk).T)[None], cos[None], sin[None])
    torch.testing.assert_close(q_hf[0] @ k_hf[0].transpose(-1, -2),
                               q_meta @ k_meta.transpose(-1, -2), atol=1e-4, rtol=1e-4)


def test_decay_bound_starts_at_its_closed_form_and_decays() -> None:
    d = 128
    distances = torch.tensor([0, 1, 4, 16, 64, 256])
    bound = rope.relative_upper_bound(d, distances)
    # at distance 0 every phase is 1, so |S_j| = j and the mean over j = 1..d/2 is (d/2 + 1) / 2
    assert math.isclose(bound[0].item(), (d / 2 + 1) / 2)
    assert torch.all(bound[1:] < bound[:-1])
    score = rope.score_of_equal_vectors(d, distances)
    assert math.isclose(score[0].item(), d, rel_tol=1e-6)  # no rotation: q . k = d
    assert torch.all(score[1:] < score[:-1])
