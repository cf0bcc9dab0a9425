"""Plan mode: a `<proposed_plan>` block in the model's message becomes the turn's `plan` item.

Sans-IO. `ProposedPlanSplitter` cuts a streamed message into ordinary text and plan text (the
tags may arrive split across deltas, so a possible partial tag is held back until it is known).
`PlanModeFilter` rewrites one response's notifications: message deltas lose the plan text, which
is streamed as `item/plan/delta` of a `plan` item (id `<turn id>-plan`) that completes with the
whole plan just before the message completes without it. Messages without a block pass through.
"""

from __future__ import annotations

from typing import Any

Notice = tuple[str, dict[str, Any]]

OPEN_TAG = "<proposed_plan>"
CLOSE_TAG = "</proposed_plan>"


def _held_suffix(text: str, tag: str) -> int:
    """Length of the longest end of `text` that could be the start of `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class ProposedPlanSplitter:
    def __init__(self) -> None:
        self._buffer = ""
        self._inside = False
        self._skip_newline = False
        self.saw_plan = False

    def feed(self, delta: str) -> list[tuple[str, str]]:
        """(kind, text) pieces, kind "text" or "plan", ready to show."""
        self._buffer += delta
        pieces: list[tuple[str, str]] = []
        while self._buffer:
            if self._skip_newline:
                if self._buffer.startswith("\n"):
                    self._buffer = self._buffer[1:]
                self._skip_newline = False
                continue
            tag = CLOSE_TAG if self._inside else OPEN_TAG
            kind = "plan" if self._inside else "text"
            index = self._buffer.find(tag)
            if index >= 0:
                if index:
                    pieces.append((kind, self._buffer[:index]))
                self._buffer = self._buffer[index + len(tag) :]
                self._inside = not self._inside
                self.saw_plan = True
                self._skip_newline = True
                continue
            keep = _held_suffix(self._buffer, tag)
            ready = self._buffer[: len(self._buffer) - keep]
            if ready:
                pieces.append((kind, ready))
            self._buffer = self._buffer[len(ready) :]
            break
        return pieces

    def finish(self) -> list[tuple[str, str]]:
        rest, self._buffer = self._buffer, ""
        if not rest:
            return []
        return [("plan" if self._inside else "text", rest)]


def split_message(text: str) -> tuple[str, str | None]:
    """(message text without the plan block, plan text or None) for a whole message."""
    splitter = ProposedPlanSplitter()
    pieces = splitter.feed(text) + splitter.finish()
    message = "".join(t for kind, t in pieces if kind == "text")
    plan = "".join(t for kind, t in pieces if kind == "plan")
    return (message, plan) if splitter.saw_plan else (text, None)


class PlanModeFilter:
    def __init__(self, turn_id: str) -> None:
        self.plan_id = f"{turn_id}-plan"
        self._splitters: dict[str, ProposedPlanSplitter] = {}
        self._plan_started = False

    def _plan_item(self, text: str) -> dict[str, Any]:
        return {"type": "plan", "id": self.plan_id, "text": text}

    def _start_plan(self) -> list[Notice]:
        if self._plan_started:
            return []
        self._plan_started = True
        return [("item/started", {"item": self._plan_item("")})]

    def filter(self, notices: list[Notice]) -> list[Notice]:
        out: list[Notice] = []
        for method, params in notices:
            if method == "item/agentMessage/delta":
                out += self._delta(params)
            elif method == "item/completed" and params["item"].get("type") == "agentMessage":
                out += self._completed(params)
            else:
                out.append((method, params))
        return out

    def _delta(self, params: dict[str, Any]) -> list[Notice]:
        item_id = str(params["itemId"])
        splitter = self._splitters.setdefault(item_id, ProposedPlanSplitter())
        out: list[Notice] = []
        for kind, text in splitter.feed(str(params["delta"])):
            if kind == "text":
                out.append(("item/agentMessage/delta", {**params, "delta": text}))
            else:
                out += self._start_plan()
                out.append(("item/plan/delta", {"itemId": self.plan_id, "delta": text}))
        return out

    def _completed(self, params: dict[str, Any]) -> list[Notice]:
        item = params["item"]
        message, plan = split_message(str(item.get("text", "")))
        if plan is None:
            return [("item/completed", params)]
        out = self._start_plan()
        out.append(("item/completed", {"item": self._plan_item(plan)}))
        out.append(("item/completed", {**params, "item": {**item, "text": message}}))
        return out
