"""A server that never finishes starting does not hold up the client's other requests."""

from __future__ import annotations

from pathlib import Path

from support.app_server import AppServerProcess
from support.mcp_servers import agent_config_toml, stdio_config


async def test_status_listing_waits_for_a_stuck_server_without_blocking_other_requests(
    codex_home: Path,
) -> None:
    """While mcpServerStatus/list waits out a stuck server's startup timeout, model/list is
    answered; the listing then reports the stuck server with no tools and the good one with its
    tools."""
    servers = stdio_config("stuck", "slow-start", startup_timeout_sec=5) + stdio_config(
        "tools", "echo"
    )
    (codex_home / "config.toml").write_text(agent_config_toml("http://127.0.0.1:9", servers))
    async with AppServerProcess(codex_home) as server:
        await server.initialize()
        status_id = await server.send_request("mcpServerStatus/list", {})
        models_id = await server.send_request("model/list", {})
        await server.read_stream_until_response_message(models_id)
        assert not any(m.get("id") == status_id for m in server.received_messages())
        status = (await server.read_stream_until_response_message(status_id, 20))["result"]
    tools = {entry["name"]: set(entry["tools"]) for entry in status["data"]}
    assert tools == {"stuck": set(), "tools": {"echo", "add"}}
