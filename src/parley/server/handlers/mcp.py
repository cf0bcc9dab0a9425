"""mcpServerStatus/list, mcpServer/resource/read, config/mcpServer/reload, mcpServer/oauth/login.

A status listing connects to every configured server (and the built-in `codex_apps` one of a
ChatGPT sign-in) afresh (as the reference does), so it
reflects the file as it is now; resources are listed only for the full detail level. Reading a
resource goes through the thread's own connection. Both answer when done (`DeferredReply`), so
the connection keeps serving meanwhile. A reload takes effect at each thread's next turn.
Parley has no browser to sign in with, so OAuth login answers as the reference does when it
cannot reach an OAuth flow: the request is refused with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.config import ConfigError
from parley.mcp.config import HttpTransport, McpServerConfig, StdioTransport
from parley.mcp.errors import McpCallError
from parley.mcp.hub import snapshot
from parley.mcp.thread_tools import ThreadMcp
from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError, InternalError
from parley.server.deferred import DeferredReply

if TYPE_CHECKING:
    from parley.server.session import ClientSession


def _wire(model: Any) -> dict[str, Any]:
    data: dict[str, Any] = model.model_dump(mode="json", by_alias=True, exclude_none=True)
    return data


def _auth_status(config: McpServerConfig) -> str:
    transport = config.transport
    if isinstance(transport, HttpTransport) and (
        transport.bearer_token_env_var is not None
        or any(h.lower() == "authorization" for h in transport.http_headers)
    ):
        return "bearerToken"
    return "unsupported"


def _page(names: list[str], cursor: str | None, limit: int | None) -> tuple[int, int]:
    total = len(names)
    start = 0
    if cursor is not None:
        try:
            start = int(cursor)
        except ValueError:
            raise ClientError(f"invalid cursor: {cursor}") from None
        if start < 0 or start > total:
            raise ClientError(f"cursor {start} exceeds total MCP servers {total}")
    size = max(limit if limit is not None else total, 1)
    return start, min(start + size, total)


async def mcp_server_status_list(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ListMcpServerStatusParams, raw)
    full = params.detail in (None, "full")
    server = session.server
    # The configured servers and, for a ChatGPT sign-in, the built-in `codex_apps`.
    try:
        built_ins = server.apps.thread_servers(server.load_config())
    except ConfigError:
        built_ins = {}
    configured = {**server.mcp.configured(), **built_ins}
    names = sorted(configured)
    start, end = _page(names, params.cursor, params.limit)
    page = {name: configured[name] for name in names[start:end]}
    # Connecting can take up to each server's startup timeout: answer when done, serving other
    # requests meanwhile.
    return DeferredReply(_status_page(page, full, end < len(names), end))


async def _status_page(
    page: dict[str, McpServerConfig], full: bool, more: bool, end: int
) -> dict[str, Any]:
    enabled = {name: config for name, config in page.items() if config.enabled}
    found = await snapshot(enabled, with_resources=full)
    data = []
    for name, config in page.items():
        entry = found.get(name)
        connection = entry if not isinstance(entry, str) else None
        inventory = connection.inventory if connection is not None else None
        data.append(
            {
                "name": name,
                "tools": {
                    tool.name: _wire(tool)
                    for tool in (inventory.tools if inventory else [])
                    if config.offers(tool.name)
                },
                "resources": [_wire(r) for r in (inventory.resources if inventory else [])],
                "resourceTemplates": [
                    _wire(t) for t in (inventory.resource_templates if inventory else [])
                ],
                "authStatus": _auth_status(config),
            }
        )
    return {"data": data, "nextCursor": str(end) if more else None}


async def mcp_resource_read(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.McpResourceReadParams, raw)
    thread = session.server.thread(params.thread_id)
    tools = next((e for e in thread.extensions if isinstance(e, ThreadMcp)), None)
    if tools is None:
        raise ClientError(f"unknown MCP server `{params.server}`")
    return DeferredReply(_read_resource(tools, params.server, params.uri))


async def _read_resource(tools: ThreadMcp, server: str, uri: str) -> dict[str, Any]:
    try:
        connection = await tools.connection(server)
        result = await connection.read_resource(uri)
    except McpCallError as exc:
        raise InternalError(str(exc)) from None
    return {"contents": [_wire(content) for content in result.contents]}


async def mcp_server_reload(session: ClientSession, raw: Any) -> Any:
    session.server.mcp.reload()
    return {}


async def mcp_server_oauth_login(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.McpServerOauthLoginParams, raw)
    config = session.server.mcp.configured().get(params.name)
    if config is None:
        raise ClientError(f"No MCP server named '{params.name}' found.")
    if isinstance(config.transport, StdioTransport) or config.transport is None:
        raise ClientError("OAuth login is only supported for streamable HTTP servers.")
    raise InternalError(
        f"failed to login to MCP server '{params.name}': OAuth sign-in needs a browser, which "
        "Parley cannot open; give the server a token with `bearer_token_env_var` instead"
    )
