"""snippets/inference/paged_kv.py: block allocator, paged cache and the memory comparison.

References: the KV cache transformers' LlamaForCausalLM actually builds (its size per
token), torch.nn.functional.scaled_dot_product_attention on contiguous keys and values
(the paged cache must give the same attention), and closed-form slot counts.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM

from snippets.inference.paged_kv import (
    BlockAllocator,
    PagedKVCache,
    contiguous_slots,
    kv_bytes_per_token,
    mixed_workload,
    paged_slots,
)


def test_bytes_per_token_match_the_cache_transformers_builds() -> None:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=64, hidden_size=48, intermediate_size=96, num_hidden_layers=3,
        num_attention_heads=6, num_key_value_heads=2,
    )
    model = LlamaForCausalLM(config).eval()
    n = 11
    with torch.no_grad():
        cache = model(torch.arange(n)[None], use_cache=True).past_key_values
    total = sum(
        layer.keys.numel() * layer.keys.element_size()
        + layer.values.numel() * layer.values.element_size()
        for layer in cache.layers
    )
    head_dim = config.hidden_size // config.num_attention_heads
    expected = kv_bytes_per_token(3, 2, head_dim, bytes_per_value=4)  # float32
    assert total == n * expected


def test_published_sizes() -> None:
    # vLLM paper: OPT-13B needs 2 x 5120 x 40 x 2 bytes = 800 KB per token
    assert kv_bytes_per_token(40, 40, 128) == 2 * 5120 * 40 * 2


def test_blocks_are_taken_one_at_a_time_and_returned() -> None:
    alloc = BlockAllocator(num_blocks=16, block_size=4)
    lengths = {0: 9, 1: 4, 2: 1}
    for seq in lengths:
        alloc.add_sequence(seq)
    for step in range(max(lengths.values())):  # interleave the sequences, token by token
        for seq, n in lengths.items():
            if step < n:
                alloc.append_token(seq)
    assert alloc.used_blocks() == sum(math.ceil(n / 4) for n in lengths.values())
    owned = [b for table in alloc.tables.values() for b in table]
    assert len(owned) == len(set(owned))  # no block belongs to two sequences
    alloc.free_sequence(0)
    alloc.free_sequence(1)
    alloc.free_sequence(2)
    assert alloc.used_blocks() == 0


def test_running_out_of_blocks_raises() -> None:
    alloc = BlockAllocator(num_blocks=2, block_size=2)
    alloc.add_sequence(0)
    for _ in range(4):
        alloc.append_token(0)
    with pytest.raises(MemoryError):
        alloc.append_token(0)


def reference_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """q (heads, dim) over k, v (n, heads, dim), by PyTorch's own attention."""
    out = F.scaled_dot_product_attention(q[:, None, :], k.transpose(0, 1), v.transpose(0, 1))
    return out[:, 0, :]


def test_paged_attention_equals_attention_over_contiguous_tensors() -> None:
    g = torch.Generator().manual_seed(0)
    heads, dim, block = 2, 8, 4
    cache = PagedKVCache(num_blocks=32, block_size=block, num_heads=heads, head_dim=dim)
    lengths = {0: 13, 1: 5, 2: 9}
    plain = {seq: ([], []) for seq in lengths}
    for seq in lengths:
        cache.allocator.add_sequence(seq)
    for step in range(max(lengths.values())):  # interleaved: blocks end up scattered
        for seq, n in lengths.items():
            if step < n:
                k, v = torch.randn(heads, dim, generator=g), torch.randn(heads, dim, generator=g)
                cache.append(seq, k, v)
                plain[seq][0].append(k)
                plain[seq][1].append(v)
    table = cache.allocator.tables[0]
    assert any(b - a != 1 for a, b in zip(table, table[1:], strict=False))  # not contiguous
    for seq in lengths:
        k, v = torch.stack(plain[seq][0]), torch.stack(plain[seq][1])
        q = torch.randn(heads, dim, generator=g)
        torch.testing.assert_close(cache.attend(seq, q), reference_attention(q, k, v))


def test_fork_shares_blocks_and_copies_on_write() -> None:
    g = torch.Generator().manual_seed(1)
    cache = PagedKVCache(num_blocks=8, block_size=4, num_heads=1, head_dim=2)
    cache.allocator.add_sequence(0)
    prompt = [torch.randn(1, 2, generator=g) for _ in range(6)]  # 1.5 blocks
    for kv in prompt:
        cache.append(0, kv, kv)
    cache.allocator.fork(0, 1)
    assert cache.allocator.used_blocks() == 2  # the child costs nothing yet
    a, b = torch.randn(1, 2, generator=g), torch.randn(1, 2, generator=g)
    cache.append(0, a, a)  # writes into the shared half-full block: copy first
    cache.append(1, b, b)
    assert cache.allocator.used_blocks() == 3  # first block still shared, second copied
    assert cache.allocator.tables[0][0] == cache.allocator.tables[1][0]
    k0, _ = cache.gather(0)
    k1, _ = cache.gather(1)
    torch.testing.assert_close(k0, torch.stack(prompt + [a]))
    torch.testing.assert_close(k1, torch.stack(prompt + [b]))


def test_paged_allocation_wastes_less_than_contiguous_reservation() -> None:
    work = mixed_workload()
    used = sum(p + o for p, _, o in work)
    for block in (16, 128):
        expected = sum(math.ceil((p + o) / block) * block for p, _, o in work)
        slots = paged_slots(work, block)
        assert slots == expected
        assert slots - used < len(work) * block  # at most one partly filled block each
    assert contiguous_slots(work, "context") == len(work) * 2048
    assert contiguous_slots(work, "max_tokens") == sum(p + m for p, m, _ in work)
    assert paged_slots(work, 16) < paged_slots(work, 128) < contiguous_slots(work, "max_tokens")
    assert contiguous_slots(work, "max_tokens") < contiguous_slots(work, "context")
