"""A local stand-in for the ChatGPT apps backend, and a ChatGPT sign-in written to `auth.json`.

Upstream's apps tests serve, on one local port, the connector directory
(`/connectors/directory/list` and `/list_workspace`, answering only the bearer token
`chatgpt-token` with account `account-123` and only with `external_logos=true`) and the
`codex_apps` MCP server under `/api/codex/apps`. `AppsBackend` does the same with the official
MCP SDK and Starlette; the test's config points `chatgpt_base_url` at it.

Instead of upstream's delays, a test can hold a list back until it says so: `directory_gate`
and `tools_gate` (asyncio events) are awaited before the directory answers or before the
server lists its tools; `directory_requests` / `tools_requests` count the requests seen and
`directory_answered` / `tools_listed` are set each time the directory answered / the tools
were listed.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

from mcp import types
from mcp.server.fastmcp import FastMCP
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from support.mcp_servers import ELICITATION_MESSAGE, TEST_RESOURCE_URI, resource_server

EXPECTED_BEARER = "Bearer chatgpt-token"
EXPECTED_ACCOUNT_ID = "account-123"
APPS_MCP_PATH = "/api/codex/apps"


def write_chatgpt_auth(
    codex_home: Path,
    access_token: str = "chatgpt-token",
    *,
    account_id: str | None = "account-123",
    chatgpt_user_id: str | None = "user-123",
    chatgpt_account_id: str | None = "account-123",
) -> None:
    """Twin of upstream's `write_chatgpt_auth` (file store): tokens with an unsigned ID token."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    claims: dict[str, Any] = {}
    if chatgpt_user_id is not None:
        claims["chatgpt_user_id"] = chatgpt_user_id
    if chatgpt_account_id is not None:
        claims["chatgpt_account_id"] = chatgpt_account_id
    payload = {"https://api.openai.com/auth": claims} if claims else {}
    id_token = ".".join(
        [
            b64(json.dumps({"alg": "none", "typ": "JWT"}).encode()),
            b64(json.dumps(payload).encode()),
            b64(b"signature"),
        ]
    )
    auth = {
        "auth_mode": "chatgpt",
        "OPENAI_API_KEY": None,
        "tokens": {
            "id_token": id_token,
            "access_token": access_token,
            "refresh_token": "refresh-token",
            "account_id": account_id,
        },
        "last_refresh": "2026-01-01T00:00:00Z",
    }
    (codex_home / "auth.json").write_text(json.dumps(auth))


def app_info(app_id: str, name: str, **fields: Any) -> dict[str, Any]:
    """An `AppInfo` as upstream's tests write one (camelCase, every field present)."""
    info: dict[str, Any] = {
        "id": app_id,
        "name": name,
        "description": None,
        "logoUrl": None,
        "logoUrlDark": None,
        "distributionChannel": None,
        "branding": None,
        "appMetadata": None,
        "labels": None,
        "installUrl": None,
        "isAccessible": False,
        "isEnabled": True,
        "pluginDisplayNames": [],
    }
    info.update(fields)
    return info


def connector_tool(connector_id: str, connector_name: str) -> types.Tool:
    """A read-only tool tagged with the connector it belongs to (upstream's `connector_tool`)."""
    return types.Tool(
        name=f"connector_{connector_id}",
        description="Connector test tool",
        inputSchema={"type": "object", "additionalProperties": False},
        annotations=types.ToolAnnotations(readOnlyHint=True),
        _meta={"connector_id": connector_id, "connector_name": connector_name},
    )


class AppsBackend:
    def __init__(
        self, connectors: list[dict[str, Any]], tools: list[types.Tool] | None = None
    ) -> None:
        self.connectors = connectors
        self.tools = list(tools or [])
        self.directory_gate: asyncio.Event | None = None
        self.tools_gate: asyncio.Event | None = None
        self.directory_requests = 0
        self.tools_requests = 0
        self.tools_listed = asyncio.Event()
        self.directory_answered = asyncio.Event()

    def set_connectors(self, connectors: list[dict[str, Any]]) -> None:
        self.connectors = connectors

    def set_tools(self, tools: list[types.Tool]) -> None:
        self.tools = tools

    # ---- the directory ---------------------------------------------------------------------
    async def _directory(self, request: Request) -> Response:
        self.directory_requests += 1
        if self.directory_gate is not None:
            await self.directory_gate.wait()
        bearer_ok = request.headers.get("authorization") == EXPECTED_BEARER
        account_ok = request.headers.get("chatgpt-account-id") == EXPECTED_ACCOUNT_ID
        logos_ok = "external_logos=true" in request.url.query.split("&")
        response: Response
        if not bearer_ok or not account_ok:
            response = Response(status_code=401)
        elif not logos_ok:
            response = Response(status_code=400)
        else:
            response = JSONResponse({"apps": self.connectors, "next_token": None})
        self.directory_answered.set()
        return response

    # ---- the codex_apps MCP server ---------------------------------------------------------
    def mcp_server(self) -> FastMCP:
        server = FastMCP("codex-apps-test")
        server.settings.streamable_http_path = APPS_MCP_PATH

        async def list_tools(_request: types.ListToolsRequest) -> types.ServerResult:
            self.tools_requests += 1
            if self.tools_gate is not None:
                await self.tools_gate.wait()
            result = types.ServerResult(types.ListToolsResult(tools=list(self.tools)))
            self.tools_listed.set()
            return result

        server._mcp_server.request_handlers[types.ListToolsRequest] = list_tools
        return server

    def app(self, server: FastMCP | None = None) -> Starlette:
        """The backend's ASGI app: the directory routes plus `server` (default: the tools of
        `self.tools`) at `/api/codex/apps`."""
        app = (server or self.mcp_server()).streamable_http_app()
        for path in ("/connectors/directory/list", "/connectors/directory/list_workspace"):
            app.router.routes.append(Route(path, self._directory, methods=["GET"]))
        return app


class PluginService:
    """A stand-in for the ChatGPT plugin service under `/backend-api`: answers
    `POST /backend-api/plugins/<id>/<action>` with `answers[(id, action)]` when the bearer token
    and account are the expected ones (404 otherwise), and records every call as
    (path, authorization, chatgpt-account-id)."""

    def __init__(self, answers: dict[tuple[str, str], dict[str, Any]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str | None, str | None]] = []

    async def _mutate(self, request: Request) -> Response:
        auth = request.headers.get("authorization")
        account = request.headers.get("chatgpt-account-id")
        self.calls.append((request.url.path, auth, account))
        answer = self.answers.get((request.path_params["plugin_id"], request.path_params["action"]))
        if answer is None or auth != EXPECTED_BEARER or account != EXPECTED_ACCOUNT_ID:
            return Response(status_code=404)
        return JSONResponse(answer)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/backend-api/plugins/{plugin_id}/{action}", self._mutate, methods=["POST"])
            ]
        )


def elicitation_apps_server(backend: AppsBackend, tool_name: str) -> FastMCP:
    """`backend`'s MCP server with one read-only `calendar` tool that asks the client to confirm
    (a required boolean `confirmed`) and answers "accepted", "declined" or "cancelled"."""
    server = backend.mcp_server()
    tool = types.Tool(
        name=tool_name,
        description="Confirm a calendar action.",
        inputSchema={"type": "object", "additionalProperties": False},
        annotations=types.ToolAnnotations(readOnlyHint=True),
        _meta={"connector_id": "calendar", "connector_name": "Calendar"},
    )
    backend.set_tools([tool])
    low = server._mcp_server

    async def call_tool(_request: types.CallToolRequest) -> types.ServerResult:
        session = low.request_context.session
        result = await session.elicit_form(
            ELICITATION_MESSAGE,
            {
                "type": "object",
                "properties": {"confirmed": {"type": "boolean"}},
                "required": ["confirmed"],
            },
            related_request_id=low.request_context.request_id,
        )
        if result.action == "accept":
            assert result.content == {"confirmed": True}, result.content
            text = "accepted"
        else:
            text = "declined" if result.action == "decline" else "cancelled"
        return types.ServerResult(
            types.CallToolResult(content=[types.TextContent(type="text", text=text)])
        )

    low.request_handlers[types.CallToolRequest] = call_tool
    return server


def resource_apps_server() -> FastMCP:
    """An apps MCP server serving `TEST_RESOURCE_URI` (text and blob parts)."""
    server = resource_server()
    server.settings.streamable_http_path = APPS_MCP_PATH
    return server


__all__ = [
    "APPS_MCP_PATH",
    "TEST_RESOURCE_URI",
    "AppsBackend",
    "PluginService",
    "app_info",
    "connector_tool",
    "elicitation_apps_server",
    "resource_apps_server",
    "write_chatgpt_auth",
]
