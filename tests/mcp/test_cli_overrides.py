"""`-c mcp_servers.<name>.<key>=…` on the command line configures MCP servers as the file does,
and wins over it (the CLI layer sits above `config.toml`), for status listings and threads.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import support.mcp_servers
from support.app_server import AppServerProcess
from support.mcp_servers import agent_config_toml
from support.mcp_turns import API_KEY
from support.mock_responses import MockResponsesServer

SERVER_SCRIPT = str(Path(support.mcp_servers.__file__).resolve())


def echo_server_overrides(name: str) -> list[str]:
    """`-c` flags giving server `name` the stdio echo server's command and arguments."""
    return [
        "-c",
        f"mcp_servers.{name}.command={json.dumps(sys.executable)}",
        "-c",
        f"mcp_servers.{name}.args={json.dumps([SERVER_SCRIPT, 'echo'])}",
    ]


async def test_a_server_given_only_with_c_flags_is_listed_and_started(codex_home: Path) -> None:
    """A server named only by `-c` flags shows in mcpServerStatus/list with its tools and
    starts for a new thread."""
    async with MockResponsesServer([]) as responses:
        (codex_home / "config.toml").write_text(agent_config_toml(responses.uri, ""))
        async with AppServerProcess(codex_home, args=echo_server_overrides("cli_tools")) as server:
            await server.initialize()
            status = await server.request(
                "mcpServerStatus/list", {"cursor": None, "limit": None, "detail": None}
            )
            assert [entry["name"] for entry in status["data"]] == ["cli_tools"]
            assert sorted(status["data"][0]["tools"]) == ["add", "echo"]

            await server.login_with_api_key(API_KEY)
            await server.start_thread({})
            statuses = [
                await server.read_notification("mcpServer/startupStatus/updated") for _ in range(2)
            ]
    assert [(s["name"], s["status"]) for s in statuses] == [
        ("cli_tools", "starting"),
        ("cli_tools", "ready"),
    ]


async def test_c_flags_win_over_the_file(codex_home: Path) -> None:
    """A `-c` command replaces the file's command for the same server."""
    async with MockResponsesServer([]) as responses:
        broken = '[mcp_servers.tools]\ncommand = "/nonexistent/parley-test-server"\n'
        (codex_home / "config.toml").write_text(agent_config_toml(responses.uri, broken))
        async with AppServerProcess(codex_home, args=echo_server_overrides("tools")) as server:
            await server.initialize()
            status = await server.request(
                "mcpServerStatus/list", {"cursor": None, "limit": None, "detail": None}
            )
    assert [entry["name"] for entry in status["data"]] == ["tools"]
    assert sorted(status["data"][0]["tools"]) == ["add", "echo"]
