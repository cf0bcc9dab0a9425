"""pytest twins of upstream `app-server/tests/suite/v2/plugin_uninstall.rs`.

`plugin_uninstall_force_remote_sync_calls_remote_uninstall_first` signs in with ChatGPT
(`auth.json`) and serves the plugin service on a local port (`support.apps_backend`), as the
Rust test does.

Out of scope:
* `plugin_uninstall_tracks_analytics_event` — Parley sends no analytics events (the test checks
  the event posted to a local analytics mock).
"""

from __future__ import annotations

from pathlib import Path

from support.app_server import AppServerProcess
from support.apps_backend import PluginService, write_chatgpt_auth
from support.mcp_servers import serve_asgi

DEFAULT_TIMEOUT = 10.0


def write_installed_plugin(codex_home: Path, marketplace_name: str, plugin_name: str) -> None:
    plugin_root = (
        codex_home / "plugins/cache" / marketplace_name / plugin_name / "local/.codex-plugin"
    )
    plugin_root.mkdir(parents=True)
    (plugin_root / "plugin.json").write_text(f'{{"name":"{plugin_name}"}}')


async def test_plugin_uninstall_removes_plugin_cache_and_config_entry(tmp_path: Path) -> None:
    """Uninstalling removes the cached copy and the config entry; doing it again is fine."""
    codex_home = tmp_path / "home"
    codex_home.mkdir()
    write_installed_plugin(codex_home, "debug", "sample-plugin")
    (codex_home / "config.toml").write_text(
        '[features]\nplugins = true\n\n[plugins."sample-plugin@debug"]\nenabled = true\n'
    )
    params = {"pluginId": "sample-plugin@debug", "forceRemoteSync": False}
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        assert await mcp.request("plugin/uninstall", params, DEFAULT_TIMEOUT) == {}
        assert not (codex_home / "plugins/cache/debug/sample-plugin").exists()
        config = (codex_home / "config.toml").read_text()
        assert '[plugins."sample-plugin@debug"]' not in config

        assert await mcp.request("plugin/uninstall", params, DEFAULT_TIMEOUT) == {}


async def test_plugin_uninstall_force_remote_sync_calls_remote_uninstall_first(
    tmp_path: Path,
) -> None:
    """With forceRemoteSync the plugin is uninstalled on the ChatGPT plugin service, then its
    cache folder and config entry are removed."""
    service = PluginService(
        {("sample-plugin@debug", "uninstall"): {"id": "sample-plugin@debug", "enabled": False}}
    )
    codex_home = tmp_path / "home"
    codex_home.mkdir()
    write_installed_plugin(codex_home, "debug", "sample-plugin")
    async with serve_asgi(service.app()) as server_url:
        (codex_home / "config.toml").write_text(
            f'chatgpt_base_url = "{server_url}/backend-api/"\n\n[features]\nplugins = true\n\n'
            '[plugins."sample-plugin@debug"]\nenabled = true\n'
        )
        write_chatgpt_auth(codex_home, "chatgpt-token")
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            response = await mcp.request(
                "plugin/uninstall",
                {"pluginId": "sample-plugin@debug", "forceRemoteSync": True},
                DEFAULT_TIMEOUT,
            )
    assert response == {}
    assert service.calls == [
        (
            "/backend-api/plugins/sample-plugin@debug/uninstall",
            "Bearer chatgpt-token",
            "account-123",
        )
    ]
    assert not (codex_home / "plugins/cache/debug/sample-plugin").exists()
    config = (codex_home / "config.toml").read_text()
    assert '[plugins."sample-plugin@debug"]' not in config
