"""`view_image`: the model looks at an image file on disk (a screenshot, a chart it rendered).

The image is attached to the call's output as an `input_image` content item (a data URL), so the
model sees it at its next request; the client sees an `imageView` item with the path. Offered
unless a thread turns the `view_image_tool` feature off.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import orjson

from parley.agent.prompt import local_image_part
from parley.agent.tools.base import CallOutcome, ToolCall, ToolContext

TOOL_NAME = "view_image"
FEATURE = "view_image_tool"


def spec() -> dict[str, Any]:
    return {
        "type": "function",
        "name": TOOL_NAME,
        "description": (
            "Look at an image file from the workspace (PNG, JPEG, GIF, WebP): its pixels are "
            "attached to your next input."
        ),
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "Image path (relative to the cwd)."}
            },
            "required": ["path"],
            "additionalProperties": False,
        },
    }


def _resolve(raw: str, cwd: Path) -> Path:
    path = Path(os.path.expanduser(raw))
    return path if path.is_absolute() else cwd / path


class ViewImageTool:
    name = TOOL_NAME

    def __init__(self, context: ToolContext, *, offered: bool = True) -> None:
        self._ctx = context
        self._offered = offered

    def spec(self) -> dict[str, Any] | None:
        return spec() if self._offered else None

    async def run(self, call: ToolCall) -> CallOutcome:
        try:
            args = orjson.loads(call.arguments or "{}")
        except orjson.JSONDecodeError as exc:
            return CallOutcome(f"view_image arguments are not valid JSON: {exc}")
        raw = args.get("path") if isinstance(args, dict) else None
        if not isinstance(raw, str) or not raw:
            return CallOutcome("view_image needs `path`")
        path = _resolve(raw, self._ctx.settings.cwd)
        if not await asyncio.to_thread(path.is_file):
            return CallOutcome(f"view_image: {path} is not a file")
        item = {"type": "imageView", "id": call.call_id, "path": str(path)}
        self._ctx.notifier.item_started(item)
        part = await asyncio.to_thread(local_image_part, str(path), self._ctx.settings.cwd)
        self._ctx.notifier.item_completed(item)
        if part.get("type") != "input_image":
            return CallOutcome(str(part.get("text", f"could not read {path}")))
        return CallOutcome([part])
