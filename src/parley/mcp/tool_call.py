"""The shapes around one MCP tool call: its `mcpToolCall` item, whether to ask the user first,
the approval request, and the text the model gets back. Pure functions, no I/O; the call itself
is made by `parley.mcp.thread_tools`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from mcp import types

APPROVAL_KIND_KEY = "codex_approval_kind"
APPROVAL_KIND = "mcp_tool_call"
PERSIST_KEY = "persist"
PERSIST_SESSION = "session"  # "allow for this session": not asked again in this thread
PERSIST_ALWAYS = "always"  # "don't ask me again": written to the config as well
DECLINED = "user rejected MCP tool call"
CANCELLED = "user cancelled MCP tool call"


def parse_arguments(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """(arguments, error): empty text is no arguments; anything but a JSON object is an error."""
    if not text.strip():
        return None, None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return None, f"err: {exc}"
    if not isinstance(value, dict):
        return None, "err: tool arguments must be a JSON object"
    return value, None


def item(
    call_id: str,
    server: str,
    tool: str,
    arguments: Any,
    *,
    status: str = "inProgress",
    result: dict[str, Any] | None = None,
    error: str | None = None,
    duration_ms: int | None = None,
) -> dict[str, Any]:
    return {
        "type": "mcpToolCall",
        "id": call_id,
        "server": server,
        "tool": tool,
        "status": status,
        "arguments": arguments,
        "result": result,
        "error": {"message": error} if error is not None else None,
        "durationMs": duration_ms,
    }


def result_wire(result: types.CallToolResult) -> dict[str, Any]:
    """The item's `result`: content blocks, structured content and `_meta` as the server sent."""
    return {
        "content": [
            block.model_dump(mode="json", by_alias=True, exclude_none=True)
            for block in result.content
        ],
        "structuredContent": result.structuredContent,
        "_meta": result.meta,
    }


def _compact(value: Any) -> str:
    return orjson.dumps(value).decode()


def output_for_model(result: types.CallToolResult) -> str:
    """As the reference: the structured content when there is some, else the content list."""
    if result.structuredContent is not None:
        return _compact(result.structuredContent)
    return _compact(result_wire(result)["content"])


def error_output(message: str) -> str:
    return _compact([{"type": "text", "text": message}])


def requires_approval(annotations: types.ToolAnnotations | None) -> bool:
    """A tool may change things unless it says it is read-only; destructive always asks."""
    destructive = annotations.destructiveHint if annotations else None
    if destructive is True:
        return True
    if annotations is not None and annotations.readOnlyHint:
        return False
    open_world = annotations.openWorldHint if annotations else None
    return destructive is not False or open_world is not False


def auto_approved(approval_policy: str, sandbox_mode: str) -> bool:
    """The user chose never to be asked and gave the agent the whole machine."""
    return approval_policy == "never" and sandbox_mode == "danger-full-access"


def should_ask(
    annotations: types.ToolAnnotations | None, mode: str, approval_policy: str, sandbox_mode: str
) -> bool:
    if auto_approved(approval_policy, sandbox_mode) or mode == "approve":
        return False
    return mode == "prompt" or requires_approval(annotations)


_SCHEMA_KEYS = ("$schema", "type", "properties", "required")
_PROPERTY_KEYS = frozenset(
    {
        "type",
        "title",
        "description",
        "default",
        "enum",
        "enumNames",
        "oneOf",
        "anyOf",
        "items",
        "format",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "minItems",
        "maxItems",
    }
)


def form_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A server's requested schema in the protocol's typed shape (as the reference re-encodes
    it): only the keys the form schema defines, at the top and in each property."""
    shaped = {key: schema[key] for key in _SCHEMA_KEYS if key in schema}
    shaped.setdefault("type", "object")
    properties = schema.get("properties")
    shaped["properties"] = {
        name: {k: v for k, v in prop.items() if k in _PROPERTY_KEYS}
        for name, prop in (properties.items() if isinstance(properties, dict) else [])
        if isinstance(prop, dict)
    }
    return shaped


def approval_question(server: str, tool: str) -> str:
    return f'Allow the {server} MCP server to run tool "{tool}"?'


def persist_options(rememberable: bool, always_allowed: bool) -> list[str]:
    """What the user may ask to be remembered: for this session when the call has a session
    key, and for good as well when the `tool_call_mcp_elicitation` feature is on."""
    if not rememberable:
        return []
    return [PERSIST_SESSION, PERSIST_ALWAYS] if always_allowed else [PERSIST_SESSION]


def approval_request(
    thread_id: str,
    turn_id: str,
    server: str,
    tool: str,
    arguments: Any,
    persist: list[str] | None = None,
) -> dict[str, Any]:
    """`mcpServer/elicitation/request` params asking whether to run the call; `persist` are the
    remember options offered (a single one is sent as a string, as the reference does)."""
    meta: dict[str, Any] = {APPROVAL_KIND_KEY: APPROVAL_KIND}
    if persist:
        meta[PERSIST_KEY] = persist[0] if len(persist) == 1 else list(persist)
    if arguments is not None:
        meta["tool_params"] = arguments
    return {
        "threadId": thread_id,
        "turnId": turn_id,
        "serverName": server,
        "mode": "form",
        "_meta": meta,
        "message": approval_question(server, tool),
        "requestedSchema": {"type": "object", "properties": {}},
    }


def remembered_choice(response: dict[str, Any], offered: list[str]) -> str | None:
    """The remember option an accept chose in its `_meta.persist` ("session" / "always"), if it
    was offered."""
    if response.get("action") != "accept":
        return None
    meta = response.get("_meta")
    choice = meta.get(PERSIST_KEY) if isinstance(meta, dict) else None
    return choice if isinstance(choice, str) and choice in offered else None


def approval_refusal(response: dict[str, Any]) -> str | None:
    """None when the user accepted; otherwise the reason the call did not run."""
    action = response.get("action")
    if action == "accept":
        return None
    return CANCELLED if action == "cancel" else DECLINED


def tool_spec(name: str, tool: types.Tool) -> dict[str, Any]:
    """A Responses function tool for an MCP tool (the schema made an object schema)."""
    schema = dict(tool.inputSchema or {})
    schema.setdefault("type", "object")
    if schema.get("type") == "object":
        schema.setdefault("properties", {})
    return {
        "type": "function",
        "name": name,
        "description": tool.description or "",
        "strict": False,
        "parameters": schema,
    }
