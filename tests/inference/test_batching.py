"""snippets/inference/batching.py: the scheduler, the simulation and the asyncio server.

Each request served in a batch must get exactly what transformers' own
`model.generate` (greedy) gives it alone. Step counts of the simulation are checked on
cases worked out by hand.
"""

from __future__ import annotations

import asyncio

import pytest
import torch

from snippets.inference.batching import (
    BatchingServer,
    Request,
    Scheduler,
    TinyLM,
    example_requests,
    serve_all,
    simulate,
    workload,
)


@pytest.fixture(scope="module")
def model() -> TinyLM:
    return TinyLM(seed=0)


def alone(model: TinyLM, prompt: list[int], n: int) -> list[int]:
    """The reference: transformers' greedy generate on this request only."""
    with torch.no_grad():
        out = model.model.generate(
            torch.tensor([prompt]), max_new_tokens=n, do_sample=False, pad_token_id=0
        )
    return out[0, len(prompt) :].tolist()


def test_ragged_forward_pass_matches_one_sequence_at_a_time(model) -> None:
    batch = [[5, 6, 7], [9], [1, 2, 3, 4, 5, 6]]
    together = model.next_tokens(batch)
    separately = [model.next_tokens([tokens])[0] for tokens in batch]
    assert together == separately


@pytest.mark.parametrize("continuous", [True, False])
def test_concurrent_requests_share_forward_passes_and_get_their_own_answer(model, continuous):
    requests = example_requests(n=12)
    outputs, passes = asyncio.run(serve_all(model, requests, 16, continuous))
    for (prompt, n), output in zip(requests, outputs, strict=True):
        assert output == alone(model, prompt, n)
    # all 12 arrive together and fit in one batch: as many passes as the longest output
    assert passes == max(n for _, n in requests)
    assert passes < len(requests) < sum(n for _, n in requests)


def test_small_batches_still_give_the_same_answers(model) -> None:
    requests = example_requests(n=6, seed=2)
    outputs, passes = asyncio.run(serve_all(model, requests, max_batch_size=2))
    assert outputs == [alone(model, p, n) for p, n in requests]
    assert passes < sum(n for _, n in requests)


def test_short_request_streams_out_before_a_long_one_finishes(model) -> None:
    events: list[tuple[str, int]] = []

    async def main() -> None:
        server = BatchingServer(Scheduler(model.next_tokens, max_batch_size=4))
        loop = asyncio.create_task(server.run())

        async def consume(name: str, prompt: list[int], n: int) -> None:
            async for token in server.stream(prompt, n):
                events.append((name, token))

        await asyncio.gather(consume("long", [3, 4], 10), consume("short", [8], 2))
        loop.cancel()

    asyncio.run(main())
    names = [name for name, _ in events]
    assert names.count("long") == 10 and names.count("short") == 2
    last_short = max(i for i, name in enumerate(names) if name == "short")
    assert last_short < names.index("long") + 4  # done after 2 passes, not 10
    assert [t for name, t in events if name == "short"] == alone(model, [8], 2)


def hand_case() -> list[Request]:
    # one long request and three short ones, all arriving at step 0
    return [Request([1], 8), Request([1], 1), Request([1], 1), Request([1], 1)]


def test_simulation_on_a_case_worked_out_by_hand() -> None:
    # one at a time: finish at 8, 9, 10, 11 -> 11 passes, mean latency 9.5
    one = simulate(hand_case(), max_batch_size=1, continuous=True)
    assert (one.forward_passes, one.mean_latency) == (11, 9.5)
    # request-level, 2 slots: {8, 1} runs 8 passes, then {1, 1}: latencies 8, 1, 9, 9
    static = simulate(hand_case(), max_batch_size=2, continuous=False)
    assert (static.forward_passes, static.mean_latency) == (9, 6.75)
    # continuous, 2 slots: the short ones take turns in the free slot: 8, 1, 2, 3
    cont = simulate(hand_case(), max_batch_size=2, continuous=True)
    assert (cont.forward_passes, cont.mean_latency) == (8, 3.5)
    assert cont.slot_use == 11 / 16


def test_continuous_batching_wins_on_the_page_workload() -> None:
    one = simulate(workload(), 1, True)
    static = simulate(workload(), 8, False)
    cont = simulate(workload(), 8, True)
    tokens = sum(r.max_new_tokens for r in workload())
    assert one.forward_passes == tokens
    assert cont.forward_passes < static.forward_passes < one.forward_passes
    assert cont.mean_latency < static.mean_latency < one.mean_latency
    # no request can finish faster than its own length
    assert cont.mean_latency >= tokens / len(workload())
