"""Regressions: the cost of forwarding streamed text (sans-IO, no server)."""

from __future__ import annotations

import tracemalloc
from typing import Any

from parley.agent.notifier import TurnNotifier

LONG_PREFIX = 8 * 1024 * 1024  # characters already streamed for the item
SMALL_DELTAS = 500


class _Sink:
    thread_id = "thread"
    turn_id = "turn"

    def __init__(self) -> None:
        self.count = 0

    def emit(self, method: str, params: dict[str, Any]) -> None:
        self.count += 1


def test_each_delta_costs_its_own_size_not_the_whole_text_so_far() -> None:
    """Forwarding one more small delta of a long streamed answer costs about the size of that
    delta: the text shown so far is not copied again for every delta (which makes a long
    answer quadratic and stalls the event loop: audio, other threads, other clients)."""
    sink = _Sink()
    notifier = TurnNotifier(sink)
    notifier.new_request()
    notifier.new_attempt()
    notifier.send("item/agentMessage/delta", {"itemId": "msg-1", "delta": "x" * LONG_PREFIX})
    # Memory, not time: copying the text so far for each delta would allocate the 8M-character
    # prefix again and again; forwarding only the delta allocates a few bytes each time.
    tracemalloc.start()
    try:
        for _ in range(SMALL_DELTAS):
            notifier.send("item/agentMessage/delta", {"itemId": "msg-1", "delta": "abcd"})
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sink.count == SMALL_DELTAS + 1
    assert peak < LONG_PREFIX // 4, (
        f"{SMALL_DELTAS} 4-character deltas after an 8M-character prefix allocated {peak} bytes"
    )
