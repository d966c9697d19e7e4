"""Serving many requests with one model: a batch scheduler and an asyncio server in front of it.

Used by the page inference/serving (source question A6) and the lab
inference/lab-decoding-batching. The scheduler is the same for the simulation (a fake model
that only counts forward passes) and for the server (a tiny LlamaForCausalLM).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import torch
from transformers import LlamaConfig, LlamaForCausalLM


# --8<-- [start:scheduler]
@dataclass(eq=False)
class Request:
    prompt: list[int]
    max_new_tokens: int
    arrival: int = 0  # simulation only: the step at which the request arrives
    output: list[int] = field(default_factory=list)
    finished_at: int | None = None

    @property
    def done(self) -> bool:
        return len(self.output) >= self.max_new_tokens


# one forward pass: every running sequence in, one next token per sequence out
StepFn = Callable[[list[list[int]]], list[int]]


class Scheduler:
    """A waiting queue and a running batch; each forward() is one pass over the batch.

    continuous=True: iteration-level (continuous) batching, as in Orca. Waiting requests
    join the batch before every forward pass and finished ones leave after it.
    continuous=False: request-level (dynamic) batching. A batch is formed only when the
    previous one has completely finished.
    """

    def __init__(self, step_fn: StepFn, max_batch_size: int, continuous: bool = True) -> None:
        self.step_fn = step_fn
        self.max_batch_size = max_batch_size
        self.continuous = continuous
        self.waiting: deque[Request] = deque()
        self.running: list[Request] = []
        self.forward_passes = 0

    def add(self, request: Request) -> None:
        self.waiting.append(request)

    def has_work(self) -> bool:
        return bool(self.waiting or self.running)

    def admit(self) -> None:
        if self.continuous or not self.running:
            while self.waiting and len(self.running) < self.max_batch_size:
                self.running.append(self.waiting.popleft())

    def forward(self) -> list[Request]:
        """One forward pass; returns the requests that received a token."""
        batch = list(self.running)
        if not batch:
            return []
        next_tokens = self.step_fn([r.prompt + r.output for r in batch])
        self.forward_passes += 1
        for request, token in zip(batch, next_tokens, strict=True):
            request.output.append(token)
        self.running = [r for r in batch if not r.done]
        return batch
# --8<-- [end:scheduler]


# --8<-- [start:simulate]
@dataclass
class SimResult:
    forward_passes: int
    mean_latency: float  # steps from arrival to the last token
    slot_use: float  # share of batch slots that produced a token


def simulate(requests: list[Request], max_batch_size: int, continuous: bool) -> SimResult:
    """Run the scheduler with a model that only counts; time is measured in steps."""
    scheduler = Scheduler(lambda batch: [0] * len(batch), max_batch_size, continuous)
    pending = deque(sorted(requests, key=lambda r: r.arrival))
    step = 0
    while pending or scheduler.has_work():
        while pending and pending[0].arrival <= step:
            scheduler.add(pending.popleft())
        scheduler.admit()
        for request in scheduler.forward():
            if request.done:
                request.finished_at = step + 1
        step += 1
    latencies = [r.finished_at - r.arrival for r in requests]
    tokens = sum(r.max_new_tokens for r in requests)
    return SimResult(
        forward_passes=scheduler.forward_passes,
        mean_latency=sum(latencies) / len(latencies),
        slot_use=tokens / (scheduler.forward_passes * max_batch_size),
    )


def timeline(
    requests: list[Request], max_batch_size: int, continuous: bool
) -> list[list[int | None]]:
    """Which request occupies each batch slot in each forward pass (None: idle slot).

    All requests arrive at step 0; a request keeps the slot it was admitted to.
    """
    scheduler = Scheduler(lambda batch: [0] * len(batch), max_batch_size, continuous)
    for request in requests:
        scheduler.add(request)
    index = {id(r): i for i, r in enumerate(requests)}
    slots: list[int | None] = [None] * max_batch_size
    passes = []
    while scheduler.has_work():
        scheduler.admit()
        for request in scheduler.running:
            if index[id(request)] not in slots:
                slots[slots.index(None)] = index[id(request)]
        passes.append(list(slots))
        for request in scheduler.forward():
            if request.done:
                slots[slots.index(index[id(request)])] = None
    return passes


def workload(n: int = 32, seed: int = 0) -> list[Request]:
    """n requests arriving over time, with output lengths from 4 to 128 tokens."""
    g = torch.Generator().manual_seed(seed)
    gaps = torch.randint(0, 21, (n,), generator=g)  # steps between arrivals
    lengths = torch.randint(4, 129, (n,), generator=g)
    arrivals = torch.cumsum(gaps, 0)
    return [
        Request(prompt=[1], max_new_tokens=int(m), arrival=int(a))
        for a, m in zip(arrivals, lengths, strict=True)
    ]
# --8<-- [end:simulate]


# --8<-- [start:model]
class TinyLM:
    """A tiny LlamaForCausalLM with random weights; greedy next tokens for a ragged batch."""

    def __init__(self, seed: int = 0, vocab_size: int = 128, hidden_size: int = 64) -> None:
        config = LlamaConfig(
            vocab_size=vocab_size, hidden_size=hidden_size, intermediate_size=2 * hidden_size,
            num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
            max_position_embeddings=512,
        )
        with torch.random.fork_rng():  # seed the weights without touching the global RNG
            torch.manual_seed(seed)
            self.model = LlamaForCausalLM(config).eval()

    @torch.no_grad()
    def next_tokens(self, batch: list[list[int]]) -> list[int]:
        """One forward pass over sequences of different lengths.

        Sequences are padded on the right. Attention is causal, so the padding after a
        sequence cannot change that sequence's logits. (No KV cache: every pass
        recomputes the prefix. Real engines keep one cache per request.)
        """
        lengths = [len(tokens) for tokens in batch]
        ids = torch.zeros(len(batch), max(lengths), dtype=torch.long)
        for row, tokens in enumerate(batch):
            ids[row, : len(tokens)] = torch.tensor(tokens)
        logits = self.model(ids).logits  # (batch, max_len, vocab)
        last = logits[torch.arange(len(batch)), torch.tensor(lengths) - 1]
        return last.argmax(dim=-1).tolist()
# --8<-- [end:model]


# --8<-- [start:server]
class BatchingServer:
    """asyncio front end: many coroutines submit requests, one loop runs the batches.

    The forward pass runs in a worker thread (asyncio.to_thread) so that the event loop
    keeps accepting requests and streaming tokens while the model computes.
    """

    def __init__(self, scheduler: Scheduler, window_s: float = 0.0) -> None:
        self.scheduler = scheduler
        self.window_s = window_s  # how long to wait for company when the server was idle
        self._queues: dict[int, asyncio.Queue[int | None]] = {}
        self._wake = asyncio.Event()

    async def stream(self, prompt: list[int], max_new_tokens: int) -> AsyncIterator[int]:
        """Yield the tokens of one request as soon as each is generated."""
        request = Request(prompt, max_new_tokens)
        queue: asyncio.Queue[int | None] = asyncio.Queue()
        self._queues[id(request)] = queue
        self.scheduler.add(request)
        self._wake.set()
        while (token := await queue.get()) is not None:
            yield token

    async def generate(self, prompt: list[int], max_new_tokens: int) -> list[int]:
        return [token async for token in self.stream(prompt, max_new_tokens)]

    async def run(self) -> None:
        """The batching loop; run it as a task and cancel it to stop."""
        while True:
            if not self.scheduler.has_work():
                self._wake.clear()
                await self._wake.wait()
                await asyncio.sleep(self.window_s)  # let concurrent requests arrive
            self.scheduler.admit()
            stepped = await asyncio.to_thread(self.scheduler.forward)
            for request in stepped:
                queue = self._queues[id(request)]
                queue.put_nowait(request.output[-1])
                if request.done:
                    queue.put_nowait(None)
                    del self._queues[id(request)]


async def serve_all(
    model: TinyLM, requests: list[tuple[list[int], int]], max_batch_size: int,
    continuous: bool = True,
) -> tuple[list[list[int]], int]:
    """Send all requests concurrently; return their outputs and the forward passes used."""
    scheduler = Scheduler(model.next_tokens, max_batch_size, continuous)
    server = BatchingServer(scheduler)
    loop = asyncio.create_task(server.run())
    try:
        outputs = await asyncio.gather(*(server.generate(p, n) for p, n in requests))
    finally:
        loop.cancel()
    return list(outputs), scheduler.forward_passes
# --8<-- [end:server]


def example_requests(n: int = 12, seed: int = 1) -> list[tuple[list[int], int]]:
    """Prompts of 2 to 9 tokens and 2 to 8 new tokens each."""
    g = torch.Generator().manual_seed(seed)
    return [
        (torch.randint(1, 128, (int(torch.randint(2, 10, (1,), generator=g)),),
                       generator=g).tolist(),
         int(torch.randint(2, 9, (1,), generator=g)))
        for _ in range(n)
    ]


if __name__ == "__main__":
    print("simulated workload: 32 requests, batch of 8 slots; time in forward passes")
    print(f"  {'policy':<28}{'passes':>7}{'mean latency':>14}{'slot use':>10}")
    for name, batch, continuous in [
        ("one request at a time", 1, True),
        ("request-level (dynamic)", 8, False),
        ("continuous (iteration-level)", 8, True),
    ]:
        result = simulate(workload(), batch, continuous)
        print(
            f"  {name:<28}{result.forward_passes:>7}{result.mean_latency:>14.1f}"
            f"{result.slot_use:>10.0%}"
        )
    print()
    requests = example_requests()
    tokens = sum(n for _, n in requests)
    outputs, passes = asyncio.run(serve_all(TinyLM(), requests, max_batch_size=16))
    print(f"tiny Llama behind the asyncio server: {len(requests)} concurrent requests, "
          f"{tokens} new tokens, {passes} forward passes")
