"""Turns the engine's item events into the turn's notifications, each sent exactly once.

Adds `threadId`/`turnId` (and `startedAtMs`/`completedAtMs` on item notifications) and hides
replays: when a Responses stream is retried the model sends the same items and text again, so
an item is started and completed once, and a delta is forwarded only for text beyond what the
client has already been shown.
"""

from __future__ import annotations

import time
from typing import Any, Protocol


class NotificationSink(Protocol):
    thread_id: str
    turn_id: str

    def emit(self, method: str, params: dict[str, Any]) -> None: ...


# Delta notifications and the params that, with itemId, identify one text stream.
DELTA_KEYS: dict[str, tuple[str, ...]] = {
    "item/agentMessage/delta": (),
    "item/reasoning/summaryTextDelta": ("summaryIndex",),
    "item/reasoning/textDelta": ("contentIndex",),
    "item/plan/delta": (),
}


def now_ms() -> int:
    return int(time.time() * 1000)


class TurnNotifier:
    def __init__(self, sink: NotificationSink) -> None:
        self._sink = sink
        self._started: set[str] = set()
        self._completed: set[str] = set()
        self._shown: dict[tuple[Any, ...], int] = {}  # text length the client has seen
        self._attempt: dict[tuple[Any, ...], int] = {}  # text length received this attempt

    def new_request(self) -> None:
        """A new model request starts: item ids are only unique within one response, so what
        earlier responses showed says nothing about this one."""
        self._started.clear()
        self._completed.clear()
        self._shown.clear()
        self._attempt.clear()

    def new_attempt(self) -> None:
        """A retried stream starts: text it repeats is not shown again."""
        self._attempt.clear()

    def send(self, method: str, params: dict[str, Any]) -> None:
        if method == "item/started":
            self.item_started(params["item"])
        elif method == "item/completed":
            self.item_completed(params["item"])
        elif method in DELTA_KEYS:
            self._delta(method, params)
        else:
            self.notify(method, params)

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self._sink.emit(
            method, {**params, "threadId": self._sink.thread_id, "turnId": self._sink.turn_id}
        )

    def item_started(self, item: dict[str, Any]) -> None:
        item_id = str(item["id"])
        if item_id in self._started:
            return
        self._started.add(item_id)
        self.notify("item/started", {"item": item, "startedAtMs": now_ms()})

    def item_completed(self, item: dict[str, Any]) -> None:
        item_id = str(item["id"])
        if item_id in self._completed:
            return
        if item_id not in self._started:
            self.item_started(item)
        self._completed.add(item_id)
        self.notify("item/completed", {"item": item, "completedAtMs": now_ms()})

    def _delta(self, method: str, params: dict[str, Any]) -> None:
        key = (method, params["itemId"], *(params.get(k) for k in DELTA_KEYS[method]))
        if params["itemId"] in self._completed:
            return
        # Only lengths are kept: a retried stream repeats the same text from the start, so
        # what lies beyond what the client was shown is the tail of this delta.
        delta = str(params["delta"])
        received = self._attempt.get(key, 0) + len(delta)
        self._attempt[key] = received
        shown = self._shown.get(key, 0)
        if received <= shown:
            return
        self._shown[key] = received
        self.notify(method, {**params, "delta": delta[len(delta) - (received - shown) :]})
