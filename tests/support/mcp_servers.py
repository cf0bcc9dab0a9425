"""Small MCP servers for tests, written with the official MCP Python SDK (FastMCP).

Two ways to run them:

* streamable HTTP, in the test's own event loop: `async with serve_http(server) as url:` serves a
  `FastMCP` app on 127.0.0.1 (a port of its own) and gives `http://127.0.0.1:PORT`; the MCP
  endpoint is `url + "/mcp"`. (`serve_asgi` serves any ASGI app the same way, for backend
  stand-ins.) Builders: `status_server`, `slow_inventory_server`,
  `resource_server`, `elicitation_server`.
* stdio, as a subprocess the app-server starts from its config: `stdio_config(name, kind)` gives
  the `[mcp_servers.<name>]` table that runs this file with `python mcp_servers.py KIND`. Kinds:
  `echo` (tools `echo` (read-only) and `add`), `crash` (`crash` exits the process),
  `hang` (`hang` never answers), `slow-start` (never finishes starting), `elicit` (`confirm`
  asks the client a question), `wait` (`wait` answers once the file at `path` exists).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator
from typing import Any

from mcp.server.fastmcp import Context, FastMCP
from mcp.types import (
    BlobResourceContents,
    ReadResourceRequest,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    ServerResult,
    TextResourceContents,
    ToolAnnotations,
)
from pydantic import AnyUrl, BaseModel

READ_ONLY = ToolAnnotations(readOnlyHint=True)
TEST_RESOURCE_URI = "test://codex/resource"
TEST_BLOB_RESOURCE_URI = "test://codex/resource.bin"
TEST_RESOURCE_BLOB = "YmluYXJ5LXJlc291cmNl"
TEST_RESOURCE_TEXT = "Resource body from the MCP server."
ELICITATION_MESSAGE = "Allow this request?"


# ---- HTTP ----------------------------------------------------------------------------------
def serve_http(server: FastMCP) -> contextlib.AbstractAsyncContextManager[str]:
    """Serve `server` over streamable HTTP on a fresh local port; yields the base URL."""
    return serve_asgi(server.streamable_http_app())


@contextlib.asynccontextmanager
async def serve_asgi(app: Any) -> AsyncIterator[str]:
    """Serve an ASGI app (uvicorn) on a fresh local port; yields `http://127.0.0.1:PORT`."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # connections queue until uvicorn accepts: no waiting for "started"
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="none")
    runner = uvicorn.Server(config)
    task = asyncio.create_task(runner.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        runner.should_exit = True
        runner.force_exit = True
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(task, 10)
        sock.close()


def _raw_tool(server: FastMCP, tool_name: str, description: str = "Look up test data.") -> None:
    @server.tool(name=tool_name, description=description, annotations=READ_ONLY)
    def lookup() -> str:
        return f"{tool_name} result"


def status_server(tool_name: str) -> FastMCP:
    """One read-only tool called `tool_name`, taking no arguments."""
    server = FastMCP("status-test")
    _raw_tool(server, tool_name)
    return server


def slow_inventory_server(tool_name: str, calls: list[str] | None = None) -> FastMCP:
    """Tools answer at once; listing resources or templates takes two seconds (each listing is
    recorded in `calls`)."""
    seen = calls if calls is not None else []
    server = FastMCP("slow-inventory-test")
    _raw_tool(server, tool_name)
    low = server._mcp_server

    @low.list_resources()  # type: ignore[no-untyped-call, untyped-decorator]
    async def slow_resources() -> list[Resource]:
        seen.append("resources/list")
        await asyncio.sleep(2)
        return []

    @low.list_resource_templates()  # type: ignore[no-untyped-call, untyped-decorator]
    async def slow_templates() -> list[ResourceTemplate]:
        seen.append("resources/templates/list")
        await asyncio.sleep(2)
        return []

    return server


def resource_server() -> FastMCP:
    """Serves `TEST_RESOURCE_URI` as a text part and a blob part."""
    server = FastMCP("resource-test")

    # Registered raw: the SDK's decorator would give every part the requested URI.
    async def read(request: ReadResourceRequest) -> ServerResult:
        uri = str(request.params.uri)
        if uri != TEST_RESOURCE_URI:
            raise ValueError(f"resource not found: {uri}")
        return ServerResult(
            ReadResourceResult(
                contents=[
                    TextResourceContents(
                        uri=AnyUrl(TEST_RESOURCE_URI),
                        mimeType="text/markdown",
                        text=TEST_RESOURCE_TEXT,
                    ),
                    BlobResourceContents(
                        uri=AnyUrl(TEST_BLOB_RESOURCE_URI),
                        mimeType="application/octet-stream",
                        blob=TEST_RESOURCE_BLOB,
                    ),
                ]
            )
        )

    server._mcp_server.request_handlers[ReadResourceRequest] = read
    return server


class Confirmation(BaseModel):
    confirmed: bool


def _add_confirm_tool(server: FastMCP, tool_name: str) -> None:
    @server.tool(name=tool_name, description="Confirm an action.", annotations=READ_ONLY)
    async def confirm(ctx: Context) -> str:  # type: ignore[type-arg]
        result = await ctx.elicit(ELICITATION_MESSAGE, schema=Confirmation)
        if result.action == "accept":
            return "accepted" if result.data.confirmed else "not confirmed"
        return "declined" if result.action == "decline" else "cancelled"


def elicitation_server(tool_name: str = "calendar_confirm_action") -> FastMCP:
    """A read-only tool that asks the client to confirm before answering."""
    server = FastMCP("elicitation-test")
    _add_confirm_tool(server, tool_name)
    return server


# ---- stdio ---------------------------------------------------------------------------------
def stdio_config(name: str, kind: str, **extra: Any) -> str:
    """The `[mcp_servers.<name>]` table that runs this file's `kind` server over stdio."""
    lines = [
        f'[mcp_servers."{name}"]',
        f"command = {_toml_str(sys.executable)}",
        f"args = [{_toml_str(os.path.abspath(__file__))}, {_toml_str(kind)}]",
    ]
    for key, value in extra.items():
        lines.append(
            f"{key} = {value!r}" if not isinstance(value, str) else f"{key} = {_toml_str(value)}"
        )
    return "\n".join(lines) + "\n"


def http_config(name: str, url: str) -> str:
    return f'[mcp_servers."{name}"]\nurl = {_toml_str(url + "/mcp")}\n'


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _stdio_server(kind: str) -> FastMCP:
    server = FastMCP(f"stdio-{kind}")
    if kind == "echo":

        @server.tool(description="Repeat the text.", annotations=READ_ONLY)
        def echo(text: str) -> str:
            return f"echo: {text}"

        @server.tool(description="Add two numbers.")
        def add(a: int, b: int) -> int:
            return a + b

    elif kind == "crash":

        @server.tool(description="Exit at once.", annotations=READ_ONLY)
        def crash() -> str:
            os._exit(3)

    elif kind == "hang":

        @server.tool(description="Never answer.", annotations=READ_ONLY)
        async def hang() -> str:
            await asyncio.Event().wait()
            return "unreachable"

    elif kind == "elicit":
        _add_confirm_tool(server, "confirm")
    elif kind == "wait":

        @server.tool(description="Answer once the file exists.", annotations=READ_ONLY)
        async def wait(path: str) -> str:
            # The file comes from the test process: polling is the only signal there is.
            while not os.path.exists(path):  # noqa: ASYNC110, ASYNC240
                await asyncio.sleep(0.02)
            return "the file is there"

    return server


def main(kind: str) -> None:
    if kind == "slow-start":
        # Never answers `initialize`: the client's startup timeout must fire.
        sys.stdin.read()
        return
    _stdio_server(kind).run("stdio")


if __name__ == "__main__":
    main(sys.argv[1])


# ---- config --------------------------------------------------------------------------------
def mock_responses_config_toml(server_uri: str, provider_id: str = "mock_provider") -> str:
    """Twin of upstream's `write_mock_responses_config_toml` (no feature flags, compact prompt
    "compact", auto-compact limit 1024, no `requires_openai_auth`)."""
    return f"""
model = "mock-model"
approval_policy = "never"
sandbox_mode = "read-only"
compact_prompt = "compact"
model_auto_compact_token_limit = 1024

model_provider = "{provider_id}"


[features]


[model_providers.{provider_id}]
name = "Mock provider for test"
base_url = "{server_uri}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
supports_websockets = false

"""


def agent_config_toml(
    responses_uri: str,
    servers: str,
    *,
    approval: str = "never",
    sandbox: str = "read-only",
) -> str:
    """A config for agent turns against the mock Responses server, plus `servers` tables."""
    return f"""
model = "mock-model"
approval_policy = "{approval}"
sandbox_mode = "{sandbox}"
model_provider = "mock_provider"

[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "{responses_uri}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

{servers}"""
