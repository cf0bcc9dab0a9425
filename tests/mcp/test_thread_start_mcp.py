"""Twins of the MCP tests in upstream `app-server/tests/suite/v2/thread_start.rs` and
`thread_resume.rs`: required servers gate a thread, and startup progress is announced.

(`thread_resume_fails_when_required_mcp_server_fails_to_initialize` needs upstream's rollout
fixture; its Parley counterpart below resumes a thread this server wrote.)
"""

from __future__ import annotations

from pathlib import Path

from support.app_server import AppServerProcess
from support.mock_responses import MockResponsesServer
from support.sse import ev_assistant_message, ev_completed, ev_response_created, sse

DEFAULT_READ_TIMEOUT = 10.0
BROKEN_MCP_TRANSPORT = 'command = "/bin/sh"\nargs = ["-c", "exit 1"]'


def config_with_broken_mcp(server_uri: str, name: str, required: bool) -> str:
    return f"""
model = "mock-model"
approval_policy = "never"
sandbox_mode = "read-only"

model_provider = "mock_provider"

[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "{server_uri}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

[mcp_servers.{name}]
{BROKEN_MCP_TRANSPORT}
{"required = true" if required else ""}
"""


async def test_thread_start_fails_when_required_mcp_server_fails_to_initialize(
    codex_home: Path,
) -> None:
    """thread/start fails, naming the server, when a required MCP server cannot start."""
    async with MockResponsesServer([]) as server:
        (codex_home / "config.toml").write_text(
            config_with_broken_mcp(server.uri, "required_broken", required=True)
        )
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            error = await mcp.request_error("thread/start", {}, DEFAULT_READ_TIMEOUT)
    assert "required MCP servers failed to initialize" in error["message"], error
    assert "required_broken" in error["message"], error


async def test_thread_start_emits_mcp_server_status_updated_notifications(
    codex_home: Path,
) -> None:
    """An optional server that cannot start is announced as starting, then failed with the
    reference's wording; the thread starts anyway."""
    async with MockResponsesServer([]) as server:
        (codex_home / "config.toml").write_text(
            config_with_broken_mcp(server.uri, "optional_broken", required=False)
        )
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            await mcp.request("thread/start", {}, DEFAULT_READ_TIMEOUT)
            starting = await mcp.read_notification(
                "mcpServer/startupStatus/updated", DEFAULT_READ_TIMEOUT
            )
            failed = await mcp.read_notification(
                "mcpServer/startupStatus/updated", DEFAULT_READ_TIMEOUT
            )
    assert starting == {"name": "optional_broken", "status": "starting", "error": None}
    assert failed["name"] == "optional_broken"
    assert failed["status"] == "failed"
    assert "MCP client for `optional_broken` failed to start" in (failed["error"] or "")


async def test_thread_resume_fails_when_required_mcp_server_fails_to_initialize(
    codex_home: Path,
) -> None:
    """thread/resume of a stored thread fails the same way once a required server is broken."""
    answer = sse([ev_response_created("r"), ev_assistant_message("m", "Done"), ev_completed("r")])
    async with MockResponsesServer([answer]) as server:
        (codex_home / "config.toml").write_text(
            config_with_broken_mcp(server.uri, "later", required=False)
        )
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            await mcp.login_with_api_key("sk-test")
            thread = await mcp.start_thread({})
            # A thread is stored once it has a turn.
            await mcp.request(
                "turn/start",
                {"threadId": thread["id"], "input": [{"type": "text", "text": "hi"}]},
            )
            await mcp.read_notification("turn/completed")
        (codex_home / "config.toml").write_text(
            config_with_broken_mcp(server.uri, "required_broken", required=True)
        )
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            error = await mcp.request_error(
                "thread/resume", {"threadId": thread["id"]}, DEFAULT_READ_TIMEOUT
            )
    assert "required MCP servers failed to initialize" in error["message"], error
    assert "required_broken" in error["message"], error
