"""`request_permissions`: the model asks for more room (write access to directories, network).

Offered when the `request_permissions_tool` feature is on. Relative paths are resolved against
the turn's cwd; the request goes to the client as `item/permissions/requestApproval`, and what
the client grants widens the sandbox for the rest of the turn (scope `turn`) or of the thread
(scope `session`). The model is told exactly what was granted.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

import orjson

from parley.agent.tools.base import CallOutcome, ToolCall, ToolContext

log = logging.getLogger(__name__)

TOOL_NAME = "request_permissions"
FEATURE = "request_permissions_tool"
REQUEST_METHOD = "item/permissions/requestApproval"


def spec() -> dict[str, Any]:
    paths = {"type": "array", "items": {"type": "string"}}
    return {
        "type": "function",
        "name": TOOL_NAME,
        "description": (
            "Ask the user for extra permissions before work that the sandbox would block: "
            "write access to directories (paths relative to the working directory or "
            "absolute) or network access. Explain why in `reason`."
        ),
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "reason": {"type": "string"},
                "permissions": {
                    "type": "object",
                    "properties": {
                        "file_system": {
                            "type": "object",
                            "properties": {"read": paths, "write": paths},
                            "additionalProperties": False,
                        },
                        "network": {
                            "type": "object",
                            "properties": {"enabled": {"type": "boolean"}},
                            "additionalProperties": False,
                        },
                    },
                    "additionalProperties": False,
                },
            },
            "required": ["permissions"],
            "additionalProperties": False,
        },
    }


def _absolute(paths: Any, cwd: Path) -> list[str] | None:
    if not isinstance(paths, list):
        return None
    out: list[str] = []
    for raw in paths:
        path = Path(str(raw)).expanduser()
        path = path if path.is_absolute() else cwd / path
        out.append(str(Path(*path.parts).resolve(strict=False)))
    return out


def requested_profile(arguments: str, cwd: Path) -> tuple[str | None, dict[str, Any]]:
    """(reason, RequestPermissionProfile wire object) from the call's arguments."""
    try:
        data = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"request_permissions arguments are not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("permissions"), dict):
        raise ValueError("request_permissions needs `permissions`")
    permissions = data["permissions"]
    profile: dict[str, Any] = {}
    file_system = permissions.get("file_system") or permissions.get("fileSystem")
    if isinstance(file_system, dict):
        profile["fileSystem"] = {
            "read": _absolute(file_system.get("read"), cwd),
            "write": _absolute(file_system.get("write"), cwd),
        }
    network = permissions.get("network")
    if isinstance(network, dict):
        profile["network"] = {"enabled": bool(network.get("enabled"))}
    if not profile:
        raise ValueError("request_permissions asked for nothing")
    reason = data.get("reason")
    return (reason if isinstance(reason, str) else None), profile


class RequestPermissionsTool:
    name = TOOL_NAME

    def __init__(self, context: ToolContext) -> None:
        self._ctx = context

    def spec(self) -> dict[str, Any] | None:
        return spec() if FEATURE in self._ctx.settings.features else None

    async def run(self, call: ToolCall) -> CallOutcome:
        ctx = self._ctx
        try:
            reason, profile = requested_profile(call.arguments, ctx.settings.cwd)
        except ValueError as exc:
            return CallOutcome(str(exc))
        params = {
            "threadId": ctx.channel.thread_id,
            "turnId": ctx.channel.turn_id,
            "itemId": call.call_id,
            "reason": reason,
            "permissions": profile,
        }
        try:
            response = await ctx.channel.request_client(REQUEST_METHOD, params)
        except Exception as exc:
            log.info("permission request %s got no answer (%s)", call.call_id, exc)
            return CallOutcome("the user granted no additional permissions")
        granted = response.get("permissions") if isinstance(response, dict) else None
        granted = granted if isinstance(granted, dict) else {}
        scope = response.get("scope", "turn") if isinstance(response, dict) else "turn"
        roots = self._grant(granted, session=scope == "session")
        summary = {"granted": granted, "scope": scope, "writable_roots": [str(r) for r in roots]}
        return CallOutcome(orjson.dumps(summary).decode())

    def _grant(self, granted: dict[str, Any], *, session: bool) -> tuple[Path, ...]:
        """Widens this turn's sandbox (and, for the session, the thread's grants)."""
        ctx = self._ctx
        file_system = granted.get("fileSystem")
        writes = file_system.get("write") if isinstance(file_system, dict) else None
        new_roots = tuple(Path(p) for p in writes or [] if isinstance(p, str))
        network = granted.get("network")
        network_on = isinstance(network, dict) and network.get("enabled") is True
        roots = tuple(dict.fromkeys((*ctx.sandbox.writable_roots, *new_roots)))
        ctx.sandbox = dataclasses.replace(
            ctx.sandbox,
            writable_roots=roots,
            network_access=ctx.sandbox.network_access or network_on,
        )
        if session:
            ctx.grants.write_roots.update(new_roots)
            ctx.grants.network = ctx.grants.network or network_on
        return roots
