"""pytest twins of upstream `app-server/tests/suite/v2/plugin_install.rs`.

Each test lays out a local marketplace and plugin folder as the Rust test does and sends the same
`plugin/install` (and follow-up) requests to the real `parley app-server` subprocess.

Out of scope:
* `plugin_install_tracks_analytics_event` — Parley sends no analytics events (the test checks
  the event posted to a local analytics mock).

`plugin_install_returns_apps_needing_auth`, `plugin_install_filters_disallowed_apps_needing_auth`
and `plugin_install_force_remote_sync_enables_remote_plugin_before_local_install` sign in with
ChatGPT (`auth.json`) and serve the ChatGPT backend's part they use on a local port
(`support.apps_backend`: the connector directory and the `codex_apps` MCP server, or the plugin
service), as the Rust tests do.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.app_server import AppServerProcess
from support.apps_backend import (
    AppsBackend,
    PluginService,
    app_info,
    connector_tool,
    write_chatgpt_auth,
)
from support.mcp_servers import serve_asgi

DEFAULT_TIMEOUT = 10.0


def temp_dir(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.mkdir()
    return path


def write_plugin_marketplace(
    repo_root: Path,
    marketplace_name: str,
    plugin_name: str,
    source_path: str,
    install_policy: str | None,
    auth_policy: str | None,
) -> None:
    policy = ""
    if install_policy is not None or auth_policy is not None:
        installation = (
            f'\n        "installation": "{install_policy}"' if install_policy is not None else ""
        )
        separator = "," if install_policy is not None and auth_policy is not None else ""
        authentication = (
            f'{separator}\n        "authentication": "{auth_policy}"'
            if auth_policy is not None
            else ""
        )
        policy = f',\n      "policy": {{{installation}{authentication}\n      }}'
    (repo_root / ".git").mkdir(parents=True, exist_ok=True)
    (repo_root / ".agents/plugins").mkdir(parents=True, exist_ok=True)
    (repo_root / ".agents/plugins/marketplace.json").write_text(
        f"""{{
  "name": "{marketplace_name}",
  "plugins": [
    {{
      "name": "{plugin_name}",
      "source": {{
        "source": "local",
        "path": "{source_path}"
      }}{policy}
    }}
  ]
}}"""
    )


def write_plugin_source(repo_root: Path, plugin_name: str, app_ids: list[str]) -> None:
    plugin_root = repo_root / plugin_name
    (plugin_root / ".codex-plugin").mkdir(parents=True)
    (plugin_root / ".codex-plugin/plugin.json").write_text(f'{{"name":"{plugin_name}"}}')
    apps = {app_id: {"id": app_id} for app_id in app_ids}
    (plugin_root / ".app.json").write_text(json.dumps({"apps": apps}, indent=2))


async def test_plugin_install_rejects_relative_marketplace_paths(tmp_path: Path) -> None:
    """A relative marketplace path is an invalid request."""
    codex_home = temp_dir(tmp_path, "home")
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        error = await mcp.request_error(
            "plugin/install",
            {"marketplacePath": "relative-marketplace.json", "pluginName": "missing-plugin"},
            DEFAULT_TIMEOUT,
        )
    assert error["code"] == -32600
    assert "Invalid request" in error["message"]


async def test_plugin_install_returns_invalid_request_for_missing_marketplace_file(
    tmp_path: Path,
) -> None:
    """A marketplace file that does not exist is an invalid request saying so."""
    codex_home = temp_dir(tmp_path, "home")
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        error = await mcp.request_error(
            "plugin/install",
            {
                "marketplacePath": str(codex_home / "missing-marketplace.json"),
                "pluginName": "missing-plugin",
                "forceRemoteSync": False,
            },
            DEFAULT_TIMEOUT,
        )
    assert error["code"] == -32600
    assert "marketplace file" in error["message"]
    assert "does not exist" in error["message"]


async def test_plugin_install_returns_invalid_request_for_not_available_plugin(
    tmp_path: Path,
) -> None:
    """A plugin whose installation policy is NOT_AVAILABLE cannot be installed."""
    codex_home, repo_root = temp_dir(tmp_path, "home"), temp_dir(tmp_path, "repo")
    write_plugin_marketplace(
        repo_root, "debug", "sample-plugin", "./sample-plugin", "NOT_AVAILABLE", None
    )
    write_plugin_source(repo_root, "sample-plugin", [])
    marketplace_path = repo_root / ".agents/plugins/marketplace.json"
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        error = await mcp.request_error(
            "plugin/install",
            {
                "marketplacePath": str(marketplace_path),
                "pluginName": "sample-plugin",
                "forceRemoteSync": False,
            },
            DEFAULT_TIMEOUT,
        )
    assert error["code"] == -32600
    assert "not available for install" in error["message"]


async def test_plugin_install_returns_invalid_request_for_disallowed_product_plugin(
    tmp_path: Path,
) -> None:
    """A plugin restricted to other products cannot be installed by a server started for
    `--session-source atlas`."""
    codex_home, repo_root = temp_dir(tmp_path, "home"), temp_dir(tmp_path, "repo")
    (repo_root / ".agents/plugins").mkdir(parents=True)
    (repo_root / ".agents/plugins/marketplace.json").write_text(
        """{
  "name": "debug",
  "plugins": [
    {
      "name": "sample-plugin",
      "source": {
        "source": "local",
        "path": "./sample-plugin"
      },
      "policy": {
        "products": ["CHATGPT"]
      }
    }
  ]
}"""
    )
    write_plugin_source(repo_root, "sample-plugin", [])
    marketplace_path = repo_root / ".agents/plugins/marketplace.json"
    async with AppServerProcess(codex_home, args=["--session-source", "atlas"]) as mcp:
        await mcp.initialize()
        error = await mcp.request_error(
            "plugin/install",
            {
                "marketplacePath": str(marketplace_path),
                "pluginName": "sample-plugin",
                "forceRemoteSync": False,
            },
            DEFAULT_TIMEOUT,
        )
    assert error["code"] == -32600
    assert "not available for install" in error["message"]


async def test_plugin_install_makes_bundled_mcp_servers_available_to_followup_requests(
    tmp_path: Path,
) -> None:
    """An installed plugin's MCP servers are known to later requests without being copied into
    the user's config (so OAuth login answers for the bundled stdio server)."""
    codex_home, repo_root = temp_dir(tmp_path, "home"), temp_dir(tmp_path, "repo")
    (codex_home / "config.toml").write_text("[features]\nplugins = true\n")
    write_plugin_marketplace(repo_root, "debug", "sample-plugin", "./sample-plugin", None, None)
    write_plugin_source(repo_root, "sample-plugin", [])
    (repo_root / "sample-plugin/.mcp.json").write_text(
        '{\n  "mcpServers": {\n    "sample-mcp": {\n      "command": "echo"\n    }\n  }\n}'
    )
    marketplace_path = repo_root / ".agents/plugins/marketplace.json"
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        response = await mcp.request(
            "plugin/install",
            {
                "marketplacePath": str(marketplace_path),
                "pluginName": "sample-plugin",
                "forceRemoteSync": False,
            },
            DEFAULT_TIMEOUT,
        )
        assert response["appsNeedingAuth"] == []
        config = (codex_home / "config.toml").read_text()
        assert "[mcp_servers.sample-mcp]" not in config
        assert 'command = "echo"' not in config

        error = await mcp.request_error(
            "mcpServer/oauth/login", {"name": "sample-mcp"}, DEFAULT_TIMEOUT
        )
    assert error["code"] == -32600
    assert error["message"] == "OAuth login is only supported for streamable HTTP servers."


def write_connectors_config(codex_home: Path, base_url: str) -> None:
    (codex_home / "config.toml").write_text(
        f"""
chatgpt_base_url = "{base_url}"
mcp_oauth_credentials_store = "file"

[features]
plugins = true
connectors = true
"""
    )


def alpha_connector() -> dict[str, object]:
    return app_info(
        "alpha",
        "Alpha",
        description="Alpha connector",
        logoUrl="https://example.com/alpha.png",
        distributionChannel="featured",
    )


ALPHA_NEEDS_AUTH = {
    "id": "alpha",
    "name": "Alpha",
    "description": "Alpha connector",
    "installUrl": "https://chatgpt.com/apps/alpha/alpha",
    "needsAuth": True,
}


async def install_with_apps_backend(
    tmp_path: Path, backend: AppsBackend, auth_policy: str | None, app_ids: list[str]
) -> Any:
    codex_home, repo_root = temp_dir(tmp_path, "home"), temp_dir(tmp_path, "repo")
    async with serve_asgi(backend.app()) as server_url:
        write_connectors_config(codex_home, server_url)
        write_chatgpt_auth(codex_home, "chatgpt-token")
        write_plugin_marketplace(
            repo_root, "debug", "sample-plugin", "./sample-plugin", None, auth_policy
        )
        write_plugin_source(repo_root, "sample-plugin", app_ids)
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            return await mcp.request(
                "plugin/install",
                {
                    "marketplacePath": str(repo_root / ".agents/plugins/marketplace.json"),
                    "pluginName": "sample-plugin",
                    "forceRemoteSync": False,
                },
                DEFAULT_TIMEOUT,
            )


async def test_plugin_install_returns_apps_needing_auth(tmp_path: Path) -> None:
    """The installed plugin's apps the account has not connected are listed as needing
    sign-in, with their directory details; a connected one is not."""
    backend = AppsBackend(
        [alpha_connector(), app_info("beta", "Beta", description="Beta connector")],
        [connector_tool("beta", "Beta App")],
    )
    response = await install_with_apps_backend(tmp_path, backend, None, ["alpha", "beta"])
    assert response == {"authPolicy": "ON_INSTALL", "appsNeedingAuth": [ALPHA_NEEDS_AUTH]}


async def test_plugin_install_filters_disallowed_apps_needing_auth(tmp_path: Path) -> None:
    """An app the reference never offers is left out of the apps needing sign-in."""
    backend = AppsBackend([alpha_connector()], [])
    response = await install_with_apps_backend(
        tmp_path, backend, "ON_USE", ["alpha", "asdk_app_6938a94a61d881918ef32cb999ff937c"]
    )
    assert response == {"authPolicy": "ON_USE", "appsNeedingAuth": [ALPHA_NEEDS_AUTH]}


async def test_plugin_install_force_remote_sync_enables_remote_plugin_before_local_install(
    tmp_path: Path,
) -> None:
    """With forceRemoteSync the plugin is enabled on the ChatGPT plugin service (bearer token
    and account of the sign-in), then installed and enabled locally."""
    service = PluginService(
        {("sample-plugin@debug", "enable"): {"id": "sample-plugin@debug", "enabled": True}}
    )
    codex_home, repo_root = temp_dir(tmp_path, "home"), temp_dir(tmp_path, "repo")
    async with serve_asgi(service.app()) as server_url:
        (codex_home / "config.toml").write_text(
            f'\nchatgpt_base_url = "{server_url}/backend-api/"\n\n[features]\nplugins = true\n'
        )
        write_chatgpt_auth(codex_home, "chatgpt-token")
        write_plugin_marketplace(repo_root, "debug", "sample-plugin", "./sample-plugin", None, None)
        write_plugin_source(repo_root, "sample-plugin", [])
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            response = await mcp.request(
                "plugin/install",
                {
                    "marketplacePath": str(repo_root / ".agents/plugins/marketplace.json"),
                    "pluginName": "sample-plugin",
                    "forceRemoteSync": True,
                },
                DEFAULT_TIMEOUT,
            )
    assert response["appsNeedingAuth"] == []
    assert service.calls == [
        ("/backend-api/plugins/sample-plugin@debug/enable", "Bearer chatgpt-token", "account-123")
    ]
    assert (
        codex_home / "plugins/cache/debug/sample-plugin/local/.codex-plugin/plugin.json"
    ).is_file()
    config = (codex_home / "config.toml").read_text()
    assert '[plugins."sample-plugin@debug"]' in config
    assert "enabled = true" in config
