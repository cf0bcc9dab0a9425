"""pytest twins of upstream `app-server/tests/suite/v2/mcp_server_status.rs` (3 tests).

Each test starts real streamable-HTTP MCP servers written with the MCP Python SDK
(`support.mcp_servers`) and a real `parley app-server` subprocess whose config names them, then
lists their status over JSON-RPC exactly as the Rust test does. Nothing is out of scope.

One deliberate difference: upstream gives the `toolsAndAuthOnly` answer 500 ms to show that the
slow (2 s) resource listings were skipped. A deadline that tight fails on a loaded machine for
reasons of its own, so the twin checks the same thing without timing: the test server records
every listing, and none may have been asked for (the read deadline is only a safety net).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.app_server import AppServerProcess
from support.mcp_servers import (
    mock_responses_config_toml,
    serve_http,
    slow_inventory_server,
    status_server,
)
from support.mock_responses import MockResponsesServer

DEFAULT_READ_TIMEOUT = 10.0


async def _list_status(mcp: AppServerProcess, detail: str | None) -> Any:
    request_id = await mcp.send_request(
        "mcpServerStatus/list", {"cursor": None, "limit": None, "detail": detail}
    )
    message = await mcp.read_stream_until_response_message(request_id, DEFAULT_READ_TIMEOUT)
    return message["result"]


async def test_mcp_server_status_list_returns_raw_server_and_tool_names(tmp_path: Path) -> None:
    """A server's status lists its configured name and its tools under their raw names."""
    server = MockResponsesServer([])  # started by `async with`
    codex_home = tmp_path / "home"
    codex_home.mkdir()
    async with server, serve_http(status_server("look-up.raw")) as mcp_server_url:
        config = mock_responses_config_toml(server.uri)
        config += f'\n[mcp_servers.some-server]\nurl = "{mcp_server_url}/mcp"\n'
        (codex_home / "config.toml").write_text(config)

        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            response = await _list_status(mcp, None)

    assert response["nextCursor"] is None
    assert len(response["data"]) == 1
    status = response["data"][0]
    assert status["name"] == "some-server"
    assert set(status["tools"]) == {"look-up.raw"}
    assert status["tools"]["look-up.raw"]["name"] == "look-up.raw"


async def test_mcp_server_status_list_tools_and_auth_only_skips_slow_inventory_calls(
    tmp_path: Path,
) -> None:
    """`toolsAndAuthOnly` answers without waiting for a server's slow resource listings."""
    server = MockResponsesServer([])  # started by `async with`
    codex_home = tmp_path / "home"
    codex_home.mkdir()
    listings: list[str] = []
    async with server, serve_http(slow_inventory_server("lookup", listings)) as mcp_server_url:
        config = mock_responses_config_toml(server.uri)
        config += f'\n[mcp_servers.some-server]\nurl = "{mcp_server_url}/mcp"\n'
        (codex_home / "config.toml").write_text(config)

        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            request_id = await mcp.send_request(
                "mcpServerStatus/list",
                {"cursor": None, "limit": None, "detail": "toolsAndAuthOnly"},
            )
            message = await mcp.read_stream_until_response_message(request_id, DEFAULT_READ_TIMEOUT)
            response = message["result"]

    assert response["nextCursor"] is None
    assert len(response["data"]) == 1
    status = response["data"][0]
    assert status["name"] == "some-server"
    assert set(status["tools"]) == {"lookup"}
    assert status["resources"] == []
    assert status["resourceTemplates"] == []
    assert listings == [], "the slow inventory listings must be skipped"


async def test_mcp_server_status_list_keeps_tools_for_sanitized_name_collisions(
    tmp_path: Path,
) -> None:
    """Two servers whose names sanitise alike each keep their own tools."""
    server = MockResponsesServer([])  # started by `async with`
    codex_home = tmp_path / "home"
    codex_home.mkdir()
    async with (
        server,
        serve_http(status_server("dash_lookup")) as dash_server_url,
        serve_http(status_server("underscore_lookup")) as underscore_server_url,
    ):
        config = mock_responses_config_toml(server.uri)
        config += (
            f'\n[mcp_servers.some-server]\nurl = "{dash_server_url}/mcp"\n'
            f'\n[mcp_servers.some_server]\nurl = "{underscore_server_url}/mcp"\n'
        )
        (codex_home / "config.toml").write_text(config)

        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            response = await _list_status(mcp, None)

    assert response["nextCursor"] is None
    assert len(response["data"]) == 2
    status_tools = {status["name"]: set(status["tools"]) for status in response["data"]}
    assert status_tools == {
        "some-server": {"dash_lookup"},
        "some_server": {"underscore_lookup"},
    }
