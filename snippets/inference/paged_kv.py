"""A paged KV cache: fixed-size blocks, a block table per sequence, sharing with copy-on-write.

Used by the page inference/serving (source question A6) and the lab
inference/lab-decoding-batching. The idea is PagedAttention (Kwon et al., 2023): the keys
and values of a sequence live in blocks that need not be contiguous, like pages of
virtual memory, so memory is taken one block at a time as the sequence grows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


# --8<-- [start:bytes]
def kv_bytes_per_token(
    num_layers: int, num_kv_heads: int, head_dim: int, bytes_per_value: int = 2
) -> int:
    """Keys and values (2) for every layer and every key/value head of one token."""
    return 2 * num_layers * num_kv_heads * head_dim * bytes_per_value
# --8<-- [end:bytes]


# --8<-- [start:allocator]
@dataclass
class Slot:
    block: int  # physical block that receives the new token's key and value
    offset: int  # position inside the block
    copy_from: int | None = None  # copy this block into `block` first (copy-on-write)


class BlockAllocator:
    """Hands out fixed-size blocks of KV slots and keeps one block table per sequence."""

    def __init__(self, num_blocks: int, block_size: int) -> None:
        self.block_size = block_size
        self.free = list(range(num_blocks - 1, -1, -1))  # pop() gives block 0 first
        self.refs = [0] * num_blocks  # how many sequences use each block
        self.tables: dict[int, list[int]] = {}
        self.lengths: dict[int, int] = {}

    def _take(self) -> int:
        if not self.free:
            raise MemoryError("no free KV block: preempt or queue the request")
        block = self.free.pop()
        self.refs[block] = 1
        return block

    def _release(self, block: int) -> None:
        self.refs[block] -= 1
        if self.refs[block] == 0:
            self.free.append(block)

    def add_sequence(self, seq_id: int) -> None:
        self.tables[seq_id], self.lengths[seq_id] = [], 0

    def append_token(self, seq_id: int) -> Slot:
        """Reserve the slot for the next token of a sequence."""
        table, n = self.tables[seq_id], self.lengths[seq_id]
        copy_from = None
        if n % self.block_size == 0:  # the last block is full (or there is none yet)
            table.append(self._take())
        elif self.refs[table[-1]] > 1:  # shared with a fork: copy before writing
            copy_from = table[-1]
            self._release(copy_from)
            table[-1] = self._take()
        self.lengths[seq_id] = n + 1
        return Slot(table[-1], n % self.block_size, copy_from)

    def fork(self, parent: int, child: int) -> None:
        """The child shares every block of the parent (parallel sampling, beam search)."""
        self.tables[child] = list(self.tables[parent])
        self.lengths[child] = self.lengths[parent]
        for block in self.tables[child]:
            self.refs[block] += 1

    def free_sequence(self, seq_id: int) -> None:
        for block in self.tables.pop(seq_id):
            self._release(block)
        del self.lengths[seq_id]

    def used_blocks(self) -> int:
        return len(self.refs) - len(self.free)
# --8<-- [end:allocator]


# --8<-- [start:cache]
class PagedKVCache:
    """Keys and values of many sequences in one pool of blocks."""

    def __init__(self, num_blocks: int, block_size: int, num_heads: int, head_dim: int) -> None:
        self.allocator = BlockAllocator(num_blocks, block_size)
        shape = (num_blocks, block_size, num_heads, head_dim)
        self.k, self.v = torch.zeros(shape), torch.zeros(shape)

    def append(self, seq_id: int, k: torch.Tensor, v: torch.Tensor) -> None:
        """Store the key and value, each (num_heads, head_dim), of one new token."""
        slot = self.allocator.append_token(seq_id)
        if slot.copy_from is not None:
            self.k[slot.block] = self.k[slot.copy_from]
            self.v[slot.block] = self.v[slot.copy_from]
        self.k[slot.block, slot.offset] = k
        self.v[slot.block, slot.offset] = v

    def gather(self, seq_id: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values of a sequence in order, each (length, num_heads, head_dim)."""
        table = torch.tensor(self.allocator.tables[seq_id])
        n = self.allocator.lengths[seq_id]
        k = self.k[table].flatten(0, 1)[:n]  # blocks in table order, then slots
        v = self.v[table].flatten(0, 1)[:n]
        return k, v

    def attend(self, seq_id: int, q: torch.Tensor) -> torch.Tensor:
        """Attention of one query (num_heads, head_dim) over the sequence's cache."""
        k, v = self.gather(seq_id)
        scores = torch.einsum("hd,nhd->hn", q, k) / math.sqrt(q.shape[-1])
        return torch.einsum("hn,nhd->hd", scores.softmax(dim=-1), v)
# --8<-- [end:cache]


# --8<-- [start:waste]
def mixed_workload(n: int = 200, seed: int = 0) -> list[tuple[int, int, int]]:
    """(prompt length, requested max_tokens, tokens actually generated) per request."""
    g = torch.Generator().manual_seed(seed)
    prompts = torch.randint(16, 513, (n,), generator=g)
    generated = torch.randint(8, 513, (n,), generator=g)  # stops early (end of sequence)
    return [(int(p), 512, int(o)) for p, o in zip(prompts, generated, strict=True)]


def contiguous_slots(workload: list[tuple[int, int, int]], reserve: str) -> int:
    """Slots reserved when each request gets one contiguous region up front."""
    if reserve == "context":  # the model's whole context window
        return len(workload) * 2048
    return sum(prompt + max_tokens for prompt, max_tokens, _ in workload)  # prompt + max_tokens


def paged_slots(workload: list[tuple[int, int, int]], block_size: int) -> int:
    """Slots held by the block allocator after every request has been generated."""
    total_tokens = sum(prompt + out for prompt, _, out in workload)
    allocator = BlockAllocator(num_blocks=total_tokens // block_size + len(workload),
                               block_size=block_size)
    for seq_id, (prompt, _, out) in enumerate(workload):
        allocator.add_sequence(seq_id)
        for _ in range(prompt + out):
            allocator.append_token(seq_id)
    return allocator.used_blocks() * block_size
# --8<-- [end:waste]


if __name__ == "__main__":
    print("KV cache per token in fp16 (2 bytes):")
    for name, layers, kv_heads, head_dim in [
        ("OPT-13B (40 layers, 40 heads x 128)", 40, 40, 128),
        ("Llama-2-7B (32 layers, 32 heads x 128)", 32, 32, 128),
        ("Llama-2-70B (80 layers, 8 KV heads x 128, GQA)", 80, 8, 128),
    ]:
        per_token = kv_bytes_per_token(layers, kv_heads, head_dim)
        print(f"  {name:<48}{per_token / 1024:>6.0f} KiB/token, "
              f"{per_token * 2048 / 2**30:.2f} GiB per 2048-token sequence")
    print()
    work = mixed_workload()
    used = sum(prompt + out for prompt, _, out in work)
    print(f"{len(work)} requests, {used} tokens of keys and values actually stored")
    rows = [
        ("contiguous, reserve 2048 (context)", contiguous_slots(work, "context")),
        ("contiguous, reserve prompt + 512", contiguous_slots(work, "max_tokens")),
        ("paged, blocks of 16", paged_slots(work, 16)),
        ("paged, blocks of 128", paged_slots(work, 128)),
    ]
    for name, slots in rows:
        print(f"  {name:<36}{slots:>8} slots reserved, {used / slots:6.1%} used")
