"""The built-in `codex_apps` MCP server of a ChatGPT sign-in (read from `auth.json`): listed by
mcpServerStatus/list with its tools, and absent for an API-key user.

The apps backend is served on a local port (`support.apps_backend`) under `chatgpt_base_url`.
"""

from __future__ import annotations

from pathlib import Path

from support.app_server import AppServerProcess
from support.apps_backend import AppsBackend, app_info, connector_tool, write_chatgpt_auth
from support.mcp_servers import serve_asgi

STATUS_PARAMS = {"cursor": None, "limit": None, "detail": "toolsAndAuthOnly"}


def write_apps_config(codex_home: Path, base_url: str) -> None:
    (codex_home / "config.toml").write_text(
        f'chatgpt_base_url = "{base_url}"\n\n[features]\napps = true\n'
    )


async def test_a_chatgpt_sign_in_lists_the_codex_apps_server(codex_home: Path) -> None:
    backend = AppsBackend([app_info("beta", "Beta")], [connector_tool("beta", "Beta App")])
    async with serve_asgi(backend.app()) as base_url:
        write_apps_config(codex_home, base_url)
        write_chatgpt_auth(codex_home, "chatgpt-token")
        async with AppServerProcess(codex_home) as server:
            await server.initialize()
            status = await server.request("mcpServerStatus/list", STATUS_PARAMS)
    [entry] = status["data"]
    assert entry["name"] == "codex_apps"
    assert list(entry["tools"]) == ["connector_beta"]
    assert entry["tools"]["connector_beta"]["_meta"]["connector_id"] == "beta"
    assert entry["authStatus"] == "bearerToken"


async def test_an_api_key_user_has_no_codex_apps_server(codex_home: Path) -> None:
    backend = AppsBackend([app_info("beta", "Beta")], [connector_tool("beta", "Beta App")])
    async with serve_asgi(backend.app()) as base_url:
        write_apps_config(codex_home, base_url)
        (codex_home / "auth.json").write_text('{"auth_mode":"apikey","OPENAI_API_KEY":"sk-x"}')
        async with AppServerProcess(codex_home) as server:
            await server.initialize()
            status = await server.request("mcpServerStatus/list", STATUS_PARAMS)
    assert status["data"] == []
    assert backend.tools_requests == 0
