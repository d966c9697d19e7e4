"""snippets/inference/figures.py: the committed SVGs (one per language) are what the code
draws, and the batching timeline it draws agrees with an independent list-scheduling
computation."""

from __future__ import annotations

import heapq

from snippets.figures import LANGS
from snippets.inference.batching import Request, simulate, timeline
from snippets.inference.figures import FIGURES, LENGTHS, SLOTS, write_figures


def test_committed_figures_are_up_to_date(tmp_path) -> None:
    written = write_figures(tmp_path)
    assert [p.name for p in written] == [f"batching-timeline.{lang}.svg" for lang in LANGS]
    for fresh in written:
        committed = FIGURES / fresh.name
        assert fresh.read_bytes() == committed.read_bytes(), f"{fresh.name} is stale: run make figures"


def list_schedule(lengths: list[int], slots: int) -> list[int]:
    """Finish time of each request when each takes the earliest free slot, in order."""
    free = [(0, slot) for slot in range(slots)]
    finish = []
    for n in lengths:
        start, slot = heapq.heappop(free)
        finish.append(start + n)
        heapq.heappush(free, (start + n, slot))
    return finish


def test_continuous_timeline_is_list_scheduling() -> None:
    requests = [Request([1], n) for n in LENGTHS]
    result = simulate(requests, SLOTS, continuous=True)
    expected = list_schedule(LENGTHS, SLOTS)
    assert [r.finished_at for r in requests] == expected
    assert result.forward_passes == max(expected)
    assert len(timeline([Request([1], n) for n in LENGTHS], SLOTS, True)) == max(expected)


def test_request_level_timeline_runs_each_group_to_its_longest() -> None:
    groups = [LENGTHS[i : i + SLOTS] for i in range(0, len(LENGTHS), SLOTS)]
    passes = timeline([Request([1], n) for n in LENGTHS], SLOTS, continuous=False)
    assert len(passes) == sum(max(group) for group in groups)
    busy = sum(slot is not None for step in passes for slot in step)
    assert busy == sum(LENGTHS)  # every token fills exactly one slot in one pass
