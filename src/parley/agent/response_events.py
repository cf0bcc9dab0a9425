"""Reads one Responses stream's events and says what the client and the loop should see.

Sans-IO: `ResponseTranslator.feed(event)` takes one parsed SSE event (a dict with `type`) and
returns the notifications it causes (method, params without threadId/turnId); `outcome()` gives
the loop what to record in history and which tool calls to run. Transport, retries and failure
events (`response.failed`, `error`) are the client's (`parley.agent.responses`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

Notice = tuple[str, dict[str, Any]]

_PHASES = ("commentary", "final_answer")


@dataclass(frozen=True)
class FunctionCall:
    call_id: str
    name: str
    arguments: str  # JSON text; for a custom (freeform) call, its raw input
    custom: bool = False


@dataclass
class ResponseOutcome:
    history_items: list[dict[str, Any]] = field(default_factory=list)  # to record, in order
    function_calls: list[FunctionCall] = field(default_factory=list)
    usage: dict[str, Any] | None = None
    last_agent_message: str | None = None


def agent_message_item(item_id: str, text: str, phase: Any = None) -> dict[str, Any]:
    return {
        "type": "agentMessage",
        "id": item_id,
        "text": text,
        "phase": phase if phase in _PHASES else None,
        "memoryCitation": None,
    }


def reasoning_item(item_id: str, summary: list[str], content: list[str]) -> dict[str, Any]:
    return {"type": "reasoning", "id": item_id, "summary": summary, "content": content}


def _texts(parts: Any, kinds: tuple[str, ...]) -> list[str]:
    texts: list[str] = []
    if isinstance(parts, list):
        for part in parts:
            if isinstance(part, dict) and part.get("type") in kinds:
                value = part.get("text", part.get("refusal", ""))
                texts.append(str(value))
    return texts


class ResponseTranslator:
    def __init__(self) -> None:
        self.completed = False
        self._outcome = ResponseOutcome()
        self._ids: dict[int, str] = {}  # output_index -> item id, for items sent without one
        self._started: set[str] = set()
        self._done_any = False
        # The item a delta without `item_id` belongs to: the latest one of its kind announced.
        self._current: dict[str, str] = {}

    def outcome(self) -> ResponseOutcome:
        return self._outcome

    def _item_id(self, item: dict[str, Any], event: dict[str, Any]) -> str:
        raw = item.get("id") or event.get("item_id")
        if isinstance(raw, str) and raw:
            return raw
        index = event.get("output_index")
        if isinstance(index, int):
            return self._ids.setdefault(index, f"item-{uuid.uuid4()}")
        return f"item-{uuid.uuid4()}"

    def feed(self, event: dict[str, Any]) -> list[Notice]:
        kind = event.get("type")
        if kind == "response.output_item.added":
            return self._added(event)
        if kind == "response.output_item.done":
            return self._done(event)
        if kind == "response.output_text.delta":
            return self._delta(event, "agentMessage", "item/agentMessage/delta", {})
        if kind == "response.reasoning_summary_part.added":
            item_id = self._delta_target(event, "reasoning")
            if not item_id:
                return []
            index = _index(event.get("summary_index"))
            part_added = (
                "item/reasoning/summaryPartAdded",
                {"itemId": item_id, "summaryIndex": index},
            )
            return [*self._ensure_started(item_id, "reasoning"), part_added]
        if kind == "response.reasoning_summary_text.delta":
            index = _index(event.get("summary_index"))
            return self._delta(
                event, "reasoning", "item/reasoning/summaryTextDelta", {"summaryIndex": index}
            )
        if kind == "response.reasoning_text.delta":
            index = int(event.get("content_index", 0))
            return self._delta(
                event, "reasoning", "item/reasoning/textDelta", {"contentIndex": index}
            )
        if kind == "response.completed":
            return self._completed(event)
        return []

    def _delta_target(self, event: dict[str, Any], kind: str) -> str:
        item_id = event.get("item_id")
        if isinstance(item_id, str) and item_id:
            return item_id
        return self._current.get(kind, "")

    def _ensure_started(self, item_id: str, kind: str) -> list[Notice]:
        if not item_id or item_id in self._started:
            return []
        self._started.add(item_id)
        self._current[kind] = item_id
        if kind == "agentMessage":
            return [("item/started", {"item": agent_message_item(item_id, "")})]
        return [("item/started", {"item": reasoning_item(item_id, [], [])})]

    def _added(self, event: dict[str, Any]) -> list[Notice]:
        item = event.get("item")
        if not isinstance(item, dict):
            return []
        item_id = self._item_id(item, event)
        if item.get("type") == "message" and item.get("role", "assistant") == "assistant":
            if item_id in self._started:
                return []
            self._started.add(item_id)
            self._current["agentMessage"] = item_id
            text = "".join(_texts(item.get("content"), ("output_text", "refusal")))
            started = agent_message_item(item_id, text, item.get("phase"))
            return [("item/started", {"item": started})]
        if item.get("type") == "reasoning":
            return self._ensure_started(item_id, "reasoning")
        return []

    def _delta(
        self, event: dict[str, Any], kind: str, method: str, extra: dict[str, Any]
    ) -> list[Notice]:
        item_id = self._delta_target(event, kind)
        delta = event.get("delta")
        if not item_id or not isinstance(delta, str) or not delta:
            return []
        notice = (method, {"itemId": item_id, "delta": delta, **extra})
        return [*self._ensure_started(item_id, kind), notice]

    def _done(self, event: dict[str, Any]) -> list[Notice]:
        item = event.get("item")
        if not isinstance(item, dict):
            return []
        self._done_any = True
        return self._finish_item(item, event)

    def _finish_item(self, item: dict[str, Any], event: dict[str, Any]) -> list[Notice]:
        kind = item.get("type")
        if kind == "message":
            if item.get("role", "assistant") != "assistant":
                return []
            item_id = self._item_id(item, event)
            text = "".join(_texts(item.get("content"), ("output_text", "refusal")))
            wire = agent_message_item(item_id, text, item.get("phase"))
            self._outcome.history_items.append(
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": text}],
                }
            )
            self._outcome.last_agent_message = text
            notices: list[Notice] = []
            if item_id not in self._started:
                self._started.add(item_id)
                notices.append(("item/started", {"item": wire}))
            notices.append(("item/completed", {"item": wire}))
            return notices
        if kind == "reasoning":
            item_id = self._item_id(item, event)
            summary = _texts(item.get("summary"), ("summary_text",))
            content = _texts(item.get("content"), ("reasoning_text",))
            wire = reasoning_item(item_id, summary, content)
            notices = []
            if item_id not in self._started:
                self._started.add(item_id)
                notices.append(("item/started", {"item": wire}))
            notices.append(("item/completed", {"item": wire}))
            return notices
        if kind == "function_call":
            call_id = str(item.get("call_id") or item.get("id") or f"call-{uuid.uuid4()}")
            call = FunctionCall(
                call_id=call_id,
                name=str(item.get("name", "")),
                arguments=str(item.get("arguments") or ""),
            )
            self._outcome.function_calls.append(call)
            self._outcome.history_items.append(
                {
                    "type": "function_call",
                    "name": call.name,
                    "arguments": call.arguments,
                    "call_id": call.call_id,
                }
            )
        if kind == "custom_tool_call":
            call_id = str(item.get("call_id") or item.get("id") or f"call-{uuid.uuid4()}")
            call = FunctionCall(
                call_id=call_id,
                name=str(item.get("name", "")),
                arguments=str(item.get("input") or ""),
                custom=True,
            )
            self._outcome.function_calls.append(call)
            self._outcome.history_items.append(
                {
                    "type": "custom_tool_call",
                    "name": call.name,
                    "input": call.arguments,
                    "call_id": call.call_id,
                }
            )
        return []

    def _completed(self, event: dict[str, Any]) -> list[Notice]:
        self.completed = True
        response = event.get("response")
        notices: list[Notice] = []
        if isinstance(response, dict):
            usage = response.get("usage")
            if isinstance(usage, dict):
                self._outcome.usage = usage
            output = response.get("output")
            # A server that sends the items only inside response.completed still counts.
            if not self._done_any and isinstance(output, list):
                for index, item in enumerate(output):
                    if isinstance(item, dict):
                        notices += self._finish_item(item, {"output_index": index})
        return notices


def _index(value: Any) -> int:
    """A summary index from upstream; anything but a non-negative integer counts as 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
