"""pytest twins of upstream `app-server/tests/suite/v2/mcp_resource.rs`.

Out of scope: `mcp_resource_read_returns_resource_contents` — it reads from the built-in
`codex_apps` server, which exists only for a ChatGPT sign-in (the test writes ChatGPT auth and
serves the apps MCP endpoint under `chatgpt_base_url`). The same read through a server from the
user's config is tested in `tests/mcp/test_tool_calls.py`
(`test_a_resource_is_read_through_the_threads_connection`).
"""

from __future__ import annotations

from pathlib import Path

from support.app_server import AppServerProcess

DEFAULT_READ_TIMEOUT = 10.0
TEST_RESOURCE_URI = "test://codex/resource"


async def test_mcp_resource_read_returns_error_for_unknown_thread(codex_home: Path) -> None:
    """Reading a resource for a thread that does not exist fails with "thread not found"."""
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        error = await mcp.request_error(
            "mcpServer/resource/read",
            {
                "threadId": "00000000-0000-4000-8000-000000000000",
                "server": "codex_apps",
                "uri": TEST_RESOURCE_URI,
            },
            DEFAULT_READ_TIMEOUT,
        )
    assert "thread not found" in error["message"], error
