"""pytest twins of upstream `app-server/tests/suite/v2/mcp_resource.rs` (2 tests).

The read goes to the built-in `codex_apps` server of a ChatGPT sign-in: the test writes the
sign-in to `auth.json` and serves the apps MCP endpoint on a local port
(`support.apps_backend`, under `chatgpt_base_url`), as the Rust test does. Nothing is out of
scope.
"""

from __future__ import annotations

from pathlib import Path

from support.app_server import AppServerProcess
from support.apps_backend import AppsBackend, resource_apps_server, write_chatgpt_auth
from support.mcp_servers import (
    TEST_BLOB_RESOURCE_URI,
    TEST_RESOURCE_BLOB,
    TEST_RESOURCE_TEXT,
    serve_asgi,
)
from support.mock_responses import MockResponsesServer

DEFAULT_READ_TIMEOUT = 10.0
TEST_RESOURCE_URI = "test://codex/resource"


def write_apps_config(codex_home: Path, responses_uri: str, apps_url: str) -> None:
    (codex_home / "config.toml").write_text(
        f"""
model = "mock-model"
approval_policy = "untrusted"
sandbox_mode = "read-only"

model_provider = "mock_provider"
chatgpt_base_url = "{apps_url}"
mcp_oauth_credentials_store = "file"

[features]
apps = true

[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "{responses_uri}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""
    )


async def test_mcp_resource_read_returns_resource_contents(codex_home: Path) -> None:
    """A resource of the `codex_apps` server is read through the thread: its text and blob parts
    come back as the server sent them."""
    backend = AppsBackend([])
    async with (
        MockResponsesServer([]) as responses,
        serve_asgi(backend.app(resource_apps_server())) as apps_url,
    ):
        write_apps_config(codex_home, responses.uri, apps_url)
        write_chatgpt_auth(codex_home, "chatgpt-token")
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            started = await mcp.request(
                "thread/start", {"model": "mock-model"}, DEFAULT_READ_TIMEOUT
            )
            result = await mcp.request(
                "mcpServer/resource/read",
                {
                    "threadId": started["thread"]["id"],
                    "server": "codex_apps",
                    "uri": TEST_RESOURCE_URI,
                },
                DEFAULT_READ_TIMEOUT,
            )
    assert result == {
        "contents": [
            {
                "uri": TEST_RESOURCE_URI,
                "mimeType": "text/markdown",
                "text": TEST_RESOURCE_TEXT,
            },
            {
                "uri": TEST_BLOB_RESOURCE_URI,
                "mimeType": "application/octet-stream",
                "blob": TEST_RESOURCE_BLOB,
            },
        ]
    }


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
