"""Client-defined ("dynamic") tools: declared on `thread/start`, run by the client.

Each `DynamicToolSpec` becomes a function tool (unless `deferLoading`, which keeps it out of
model requests). A call is shown as a `dynamicToolCall` item and sent to the client as an
`item/tool/call` server request; its `contentItems` go back to the model (plain text when the
answer is only text, else the content items) and complete the item.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from parley.agent.tools.base import CallOutcome, Output, ToolCall, ToolContext

log = logging.getLogger(__name__)

REQUEST_METHOD = "item/tool/call"


def _item(
    call_id: str,
    tool: str,
    arguments: Any,
    status: str,
    content: list[dict[str, Any]] | None = None,
    success: bool | None = None,
    duration_ms: int | None = None,
) -> dict[str, Any]:
    return {
        "type": "dynamicToolCall",
        "id": call_id,
        "tool": tool,
        "arguments": arguments,
        "status": status,
        "contentItems": content,
        "success": success,
        "durationMs": duration_ms,
    }


def model_output(content: list[dict[str, Any]]) -> Output:
    """Only text: the joined text. Anything else: the items as Responses content parts."""
    if all(item.get("type") == "inputText" for item in content):
        return "\n".join(str(item.get("text", "")) for item in content)
    parts: list[dict[str, Any]] = []
    for item in content:
        if item.get("type") == "inputText":
            parts.append({"type": "input_text", "text": str(item.get("text", ""))})
        elif item.get("type") == "inputImage":
            parts.append({"type": "input_image", "image_url": str(item.get("imageUrl", ""))})
    return parts


class DynamicTool:
    def __init__(self, context: ToolContext, spec: dict[str, Any]) -> None:
        self._ctx = context
        self._spec = spec
        self.name = str(spec.get("name", ""))

    def spec(self) -> dict[str, Any] | None:
        if self._spec.get("deferLoading"):
            return None
        return {
            "type": "function",
            "name": self.name,
            "description": str(self._spec.get("description", "")),
            "strict": False,
            "parameters": self._spec.get("inputSchema") or {"type": "object", "properties": {}},
        }

    async def run(self, call: ToolCall) -> CallOutcome:
        try:
            arguments = orjson.loads(call.arguments or "{}")
        except orjson.JSONDecodeError as exc:
            return CallOutcome(f"{self.name} arguments are not valid JSON: {exc}")
        ctx = self._ctx
        ctx.notifier.item_started(_item(call.call_id, self.name, arguments, "inProgress"))
        started = time.monotonic()
        params = {
            "threadId": ctx.channel.thread_id,
            "turnId": ctx.channel.turn_id,
            "callId": call.call_id,
            "tool": self.name,
            "arguments": arguments,
        }
        try:
            response = await ctx.channel.request_client(REQUEST_METHOD, params)
        except Exception as exc:
            log.info("dynamic tool %s call %s failed: %s", self.name, call.call_id, exc)
            duration = int((time.monotonic() - started) * 1000)
            ctx.notifier.item_completed(
                _item(call.call_id, self.name, arguments, "failed", None, False, duration)
            )
            return CallOutcome(f"the client could not run {self.name}: {exc}")
        content = response.get("contentItems") if isinstance(response, dict) else None
        content = [c for c in content if isinstance(c, dict)] if isinstance(content, list) else []
        success = bool(response.get("success", False))
        duration = int((time.monotonic() - started) * 1000)
        status = "completed" if success else "failed"
        ctx.notifier.item_completed(
            _item(call.call_id, self.name, arguments, status, content, success, duration)
        )
        return CallOutcome(model_output(content), success=success)
