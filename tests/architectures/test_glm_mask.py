"""GLM blank infilling: Part A bidirectional, Part B autoregressive, paper positions."""

from __future__ import annotations

import torch

from snippets.architectures import glm_mask as gm
from snippets.architectures import llama_block as lb

TEXT = ["x1", "x2", "x3", "x4", "x5", "x6"]


def figure_2() -> gm.BlankInfillingExample:
    return gm.blank_infilling(TEXT, spans=[(2, 3), (4, 6)], order=[1, 0])


def test_inputs_and_positions_match_the_paper_figure() -> None:
    ex = figure_2()
    # Du et al. (2022), Figure 2 (b) and (c)
    assert ex.tokens == ["x1", "x2", "[MASK]", "x4", "[MASK]", "[S]", "x5", "x6", "[S]", "x3"]
    assert ex.targets[5:] == ["x5", "x6", "[E]", "x3", "[E]"]
    assert ex.pos_1 == [1, 2, 3, 4, 5, 5, 5, 5, 3, 3]
    assert ex.pos_2 == [0, 0, 0, 0, 0, 1, 2, 3, 1, 2]


def test_mask_equals_brute_force_definition() -> None:
    for ex in (figure_2(), gm.blank_infilling(TEXT, [(0, 2), (3, 4), (5, 6)], [2, 0, 1])):
        n, a = len(ex.tokens), ex.part_a_len
        expected = torch.tensor([[j < a or (i >= a and j <= i) for j in range(n)]
                                 for i in range(n)])
        assert torch.equal(ex.mask, expected)
        assert ex.mask[:a, :a].all()  # context sees itself in both directions
        assert not ex.mask[:a, a:].any()  # and never the spans


def test_gmask_equals_chatglm_6b_prefix_mask() -> None:
    """ChatGLM-6B's get_masks: tril of ones, then every column before <bos> set to 1."""
    ex = gm.blank_infilling(TEXT, spans=[(3, 6)], order=[0], mask_token="[gMASK]")
    n = len(ex.tokens)
    context_length = ex.tokens.index("[S]")  # the start-of-span token plays <bos>
    reference = torch.ones(n, n).tril()
    reference[:, :context_length] = 1
    assert torch.equal(ex.mask, reference.bool())


def test_gmask_positions_equal_chatglm_6b_position_ids() -> None:
    """ChatGLM-6B's get_position_ids (2-D branch), 0-based: arange(n) with every position from
    <bos> on set to the [gMASK] index; block ids 0 before <bos>, then 1, 2, ..."""
    ex = gm.blank_infilling(TEXT, spans=[(3, 6)], order=[0], mask_token="[gMASK]")
    n = len(ex.tokens)
    context_length = ex.tokens.index("[S]")
    mask_position = ex.tokens.index("[gMASK]")
    position_ids = torch.arange(n)
    position_ids[context_length:] = mask_position
    block_position_ids = torch.cat([torch.zeros(context_length, dtype=torch.long),
                                    torch.arange(n - context_length) + 1])
    assert ex.pos_1 == (position_ids + 1).tolist()  # our ids are 1-based, as in the paper
    assert ex.pos_2 == block_position_ids.tolist()


def test_attention_outputs_respect_the_pattern() -> None:
    """Through a real attention layer: Part A mixes both ways, Part B only looks back."""
    torch.manual_seed(0)
    ex = figure_2()
    n, a, dim = len(ex.tokens), ex.part_a_len, 32
    attn = lb.Attention(dim, n_heads=4, n_kv_heads=4)
    cos, sin = lb.rope_cos_sin(torch.tensor(ex.pos_1), dim // 4)
    x = torch.randn(1, n, dim)

    def run(y: torch.Tensor) -> torch.Tensor:
        return attn(y, cos, sin, ex.mask)[0]

    base = run(x)
    for j in range(n):
        y = x.clone()
        y[0, j] += 1.0
        changed = (run(y) - base).abs().amax(dim=-1) > 1e-6
        for i in range(n):
            assert bool(changed[i]) == bool(ex.mask[i, j]), (i, j)
    # in particular: a later context token changes an earlier context output ...
    assert ex.mask[0, a - 1]
    # ... but no span token ever changes a context output
    assert not ex.mask[:a, a:].any()


def test_targets_are_the_next_span_tokens() -> None:
    ex = figure_2()
    a = ex.part_a_len
    for i in range(a, len(ex.tokens) - 1):
        if ex.tokens[i + 1] != "[S]":
            assert ex.targets[i] == ex.tokens[i + 1]
        else:
            assert ex.targets[i] == "[E]"
    assert all(t is None for t in ex.targets[:a])  # no loss on the context
