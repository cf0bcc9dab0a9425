"""pytest twins of upstream `app-server/tests/suite/v2/plugin_read.rs`.

Each test lays out a local marketplace and plugin folder as the Rust test does and sends the same
`plugin/read` request to the real `parley app-server` subprocess.

`plugin_read_returns_app_needs_auth` signs in with ChatGPT (`auth.json`) and serves the apps
backend on a local port (`support.apps_backend`: the connector directory and the `codex_apps`
MCP server), as the Rust test does. Nothing is out of scope.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.app_server import AppServerProcess
from support.apps_backend import AppsBackend, app_info, connector_tool, write_chatgpt_auth
from support.mcp_servers import serve_asgi

DEFAULT_TIMEOUT = 10.0

DEMO_MARKETPLACE = """{
  "name": "codex-curated",
  "plugins": [
    {
      "name": "demo-plugin",
      "source": {
        "source": "local",
        "path": "./plugins/demo-plugin"
      }
    }
  ]
}"""


def temp_dir(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.mkdir()
    return path


def write_plugins_enabled_config(codex_home: Path) -> None:
    (codex_home / "config.toml").write_text("[features]\nplugins = true\n")


def write_installed_plugin(codex_home: Path, marketplace_name: str, plugin_name: str) -> None:
    plugin_root = (
        codex_home / "plugins/cache" / marketplace_name / plugin_name / "local/.codex-plugin"
    )
    plugin_root.mkdir(parents=True)
    (plugin_root / "plugin.json").write_text(f'{{"name":"{plugin_name}"}}')


async def plugin_read(
    codex_home: Path, marketplace_path: Path, plugin_name: str, *, fails: bool = False
) -> Any:
    """The result of `plugin/read` (or, with `fails`, its error object)."""
    params = {"marketplacePath": str(marketplace_path), "pluginName": plugin_name}
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        if fails:
            return await mcp.request_error("plugin/read", params, DEFAULT_TIMEOUT)
        return await mcp.request("plugin/read", params, DEFAULT_TIMEOUT)


async def test_plugin_read_returns_plugin_details_with_bundle_contents(tmp_path: Path) -> None:
    """plugin/read describes the plugin with its skills (namespaced, product-filtered, enabled
    state from the config), apps and bundled MCP servers."""
    codex_home, repo_root = temp_dir(tmp_path, "home"), temp_dir(tmp_path, "repo")
    plugin_root = repo_root / "plugins/demo-plugin"
    (repo_root / ".git").mkdir()
    (repo_root / ".agents/plugins").mkdir(parents=True)
    (plugin_root / ".codex-plugin").mkdir(parents=True)
    (plugin_root / "skills/thread-summarizer").mkdir(parents=True)
    (plugin_root / "skills/chatgpt-only").mkdir(parents=True)
    (repo_root / ".agents/plugins/marketplace.json").write_text(
        """{
  "name": "codex-curated",
  "plugins": [
    {
      "name": "demo-plugin",
      "source": {
        "source": "local",
        "path": "./plugins/demo-plugin"
      },
      "policy": {
        "installation": "AVAILABLE",
        "authentication": "ON_INSTALL"
      },
      "category": "Design"
    }
  ]
}"""
    )
    (plugin_root / ".codex-plugin/plugin.json").write_text(
        """{
  "name": "demo-plugin",
  "description": "Longer manifest description",
  "interface": {
    "displayName": "Plugin Display Name",
    "shortDescription": "Short description for subtitle",
    "longDescription": "Long description for details page",
    "developerName": "OpenAI",
    "category": "Productivity",
    "capabilities": ["Interactive", "Write"],
    "websiteURL": "https://openai.com/",
    "privacyPolicyURL": "https://openai.com/policies/row-privacy-policy/",
    "termsOfServiceURL": "https://openai.com/policies/row-terms-of-use/",
    "defaultPrompt": [
      "Draft the reply",
      "Find my next action"
    ],
    "brandColor": "#3B82F6",
    "composerIcon": "./assets/icon.png",
    "logo": "./assets/logo.png",
    "screenshots": ["./assets/screenshot1.png"]
  }
}"""
    )
    (plugin_root / "skills/thread-summarizer/SKILL.md").write_text(
        "---\nname: thread-summarizer\ndescription: Summarize email threads\n---\n\n"
        "# Thread Summarizer\n"
    )
    (plugin_root / "skills/chatgpt-only/SKILL.md").write_text(
        "---\nname: chatgpt-only\ndescription: Visible only for ChatGPT\n---\n\n# ChatGPT Only\n"
    )
    (plugin_root / "skills/thread-summarizer/agents").mkdir()
    (plugin_root / "skills/thread-summarizer/agents/openai.yaml").write_text(
        "policy:\n  products:\n    - CODEX\n"
    )
    (plugin_root / "skills/chatgpt-only/agents").mkdir()
    (plugin_root / "skills/chatgpt-only/agents/openai.yaml").write_text(
        "policy:\n  products:\n    - CHATGPT\n"
    )
    (plugin_root / ".app.json").write_text(
        '{\n  "apps": {\n    "gmail": {\n      "id": "gmail"\n    }\n  }\n}'
    )
    (plugin_root / ".mcp.json").write_text(
        '{\n  "mcpServers": {\n    "demo": {\n      "command": "demo-server"\n    }\n  }\n}'
    )
    (codex_home / "config.toml").write_text(
        """[features]
plugins = true

[[skills.config]]
name = "demo-plugin:thread-summarizer"
enabled = false

[plugins."demo-plugin@codex-curated"]
enabled = true
"""
    )
    write_installed_plugin(codex_home, "codex-curated", "demo-plugin")
    marketplace_path = repo_root / ".agents/plugins/marketplace.json"

    response = await plugin_read(codex_home, marketplace_path, "demo-plugin")

    plugin = response["plugin"]
    assert plugin["marketplaceName"] == "codex-curated"
    assert plugin["marketplacePath"] == str(marketplace_path)
    assert plugin["summary"]["id"] == "demo-plugin@codex-curated"
    assert plugin["summary"]["name"] == "demo-plugin"
    assert plugin["description"] == "Longer manifest description"
    assert plugin["summary"]["installed"] is True
    assert plugin["summary"]["enabled"] is True
    assert plugin["summary"]["installPolicy"] == "AVAILABLE"
    assert plugin["summary"]["authPolicy"] == "ON_INSTALL"
    assert plugin["summary"]["interface"]["displayName"] == "Plugin Display Name"
    assert plugin["summary"]["interface"]["category"] == "Design"
    assert plugin["summary"]["interface"]["defaultPrompt"] == [
        "Draft the reply",
        "Find my next action",
    ]
    assert len(plugin["skills"]) == 1
    assert plugin["skills"][0]["name"] == "demo-plugin:thread-summarizer"
    assert plugin["skills"][0]["description"] == "Summarize email threads"
    assert plugin["skills"][0]["enabled"] is False
    assert len(plugin["apps"]) == 1
    assert plugin["apps"][0]["id"] == "gmail"
    assert plugin["apps"][0]["name"] == "gmail"
    assert plugin["apps"][0]["installUrl"] == "https://chatgpt.com/apps/gmail/gmail"
    assert plugin["apps"][0]["needsAuth"] is True
    assert plugin["mcpServers"] == ["demo"]


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


def write_plugin_marketplace(
    repo_root: Path, marketplace_name: str, plugin_name: str, source_path: str
) -> None:
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
      }}
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


async def test_plugin_read_returns_app_needs_auth(tmp_path: Path) -> None:
    """For a ChatGPT sign-in each of the plugin's apps says whether the account still has to
    connect it: the one the `codex_apps` tools name is connected, the other needs sign-in."""
    connectors = [
        app_info(
            "alpha",
            "Alpha",
            description="Alpha connector",
            logoUrl="https://example.com/alpha.png",
            distributionChannel="featured",
        ),
        app_info("beta", "Beta", description="Beta connector"),
    ]
    backend = AppsBackend(connectors, [connector_tool("beta", "Beta App")])
    codex_home, repo_root = temp_dir(tmp_path, "home"), temp_dir(tmp_path, "repo")
    async with serve_asgi(backend.app()) as server_url:
        write_connectors_config(codex_home, server_url)
        write_chatgpt_auth(codex_home, "chatgpt-token")
        write_plugin_marketplace(repo_root, "debug", "sample-plugin", "./sample-plugin")
        write_plugin_source(repo_root, "sample-plugin", ["alpha", "beta"])
        marketplace_path = repo_root / ".agents/plugins/marketplace.json"

        response = await plugin_read(codex_home, marketplace_path, "sample-plugin")

    assert [(app["id"], app["needsAuth"]) for app in response["plugin"]["apps"]] == [
        ("alpha", True),
        ("beta", False),
    ]


async def test_plugin_read_accepts_legacy_string_default_prompt(tmp_path: Path) -> None:
    """A single-string defaultPrompt is read as a one-item list."""
    codex_home, repo_root = temp_dir(tmp_path, "home"), temp_dir(tmp_path, "repo")
    plugin_root = repo_root / "plugins/demo-plugin"
    (repo_root / ".git").mkdir()
    (repo_root / ".agents/plugins").mkdir(parents=True)
    (plugin_root / ".codex-plugin").mkdir(parents=True)
    (repo_root / ".agents/plugins/marketplace.json").write_text(DEMO_MARKETPLACE)
    (plugin_root / ".codex-plugin/plugin.json").write_text(
        '{\n  "name": "demo-plugin",\n  "interface": {\n'
        '    "defaultPrompt": "Starter prompt for trying a plugin"\n  }\n}'
    )
    write_plugins_enabled_config(codex_home)
    marketplace_path = repo_root / ".agents/plugins/marketplace.json"

    response = await plugin_read(codex_home, marketplace_path, "demo-plugin")

    assert response["plugin"]["summary"]["interface"]["defaultPrompt"] == [
        "Starter prompt for trying a plugin"
    ]


async def test_plugin_read_returns_invalid_request_when_plugin_is_missing(tmp_path: Path) -> None:
    """Asking for a plugin the marketplace does not list is an invalid request naming it."""
    codex_home, repo_root = temp_dir(tmp_path, "home"), temp_dir(tmp_path, "repo")
    (repo_root / ".git").mkdir()
    (repo_root / ".agents/plugins").mkdir(parents=True)
    (repo_root / ".agents/plugins/marketplace.json").write_text(DEMO_MARKETPLACE)
    write_plugins_enabled_config(codex_home)
    marketplace_path = repo_root / ".agents/plugins/marketplace.json"

    error = await plugin_read(codex_home, marketplace_path, "missing-plugin", fails=True)

    assert error["code"] == -32600
    assert "plugin `missing-plugin` was not found" in error["message"]


async def test_plugin_read_returns_invalid_request_when_plugin_manifest_is_missing(
    tmp_path: Path,
) -> None:
    """A listed plugin whose folder has no manifest is an invalid request saying so."""
    codex_home, repo_root = temp_dir(tmp_path, "home"), temp_dir(tmp_path, "repo")
    plugin_root = repo_root / "plugins/demo-plugin"
    (repo_root / ".git").mkdir()
    (repo_root / ".agents/plugins").mkdir(parents=True)
    plugin_root.mkdir(parents=True)
    (repo_root / ".agents/plugins/marketplace.json").write_text(DEMO_MARKETPLACE)
    write_plugins_enabled_config(codex_home)
    marketplace_path = repo_root / ".agents/plugins/marketplace.json"

    error = await plugin_read(codex_home, marketplace_path, "demo-plugin", fails=True)

    assert error["code"] == -32600
    assert "missing or invalid .codex-plugin/plugin.json" in error["message"]
