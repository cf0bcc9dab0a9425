"""pytest twins of upstream `app-server/tests/suite/v2/plugin_list.rs`.

Each test lays out local marketplaces (`.agents/plugins/marketplace.json`), plugin manifests and
the installed-plugin cache in temporary directories exactly as the Rust test does, starts the
real `parley app-server` subprocess and sends the same `plugin/list` request.

Out of scope — Parley reads a ChatGPT sign-in but has no client for the remote plugin service
(both tests check how Parley syncs the curated marketplace with the remote plugin list served
by a local mock):
* `plugin_list_force_remote_sync_reconciles_curated_plugin_state`
* `app_server_startup_remote_plugin_sync_runs_once`

The featured-plugins twins serve upstream's wiremock answer from a local Starlette app that counts
requests (`FeaturedEndpoint`), standing in for the ChatGPT backend.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from support.app_server import AppServerProcess
from support.mcp_servers import serve_asgi

DEFAULT_TIMEOUT = 10.0
TEST_CURATED_PLUGIN_SHA = "0123456789abcdef0123456789abcdef01234567"


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


def write_plugin_sync_config(codex_home: Path, base_url: str) -> None:
    (codex_home / "config.toml").write_text(
        f"""
chatgpt_base_url = "{base_url}"

[features]
plugins = true

[plugins."linear@openai-curated"]
enabled = false

[plugins."gmail@openai-curated"]
enabled = false

[plugins."calendar@openai-curated"]
enabled = true
"""
    )


def write_openai_curated_marketplace(codex_home: Path, plugin_names: list[str]) -> None:
    curated_root = codex_home / ".tmp/plugins"
    (curated_root / ".git").mkdir(parents=True)
    (curated_root / ".agents/plugins").mkdir(parents=True)
    plugins = ",\n".join(
        f'{{\n      "name": "{name}",\n      "source": {{\n        "source": "local",\n'
        f'        "path": "./plugins/{name}"\n      }}\n    }}'
        for name in plugin_names
    )
    (curated_root / ".agents/plugins/marketplace.json").write_text(
        f'{{\n  "name": "openai-curated",\n  "plugins": [\n{plugins}\n  ]\n}}'
    )
    for name in plugin_names:
        plugin_root = curated_root / f"plugins/{name}/.codex-plugin"
        plugin_root.mkdir(parents=True)
        (plugin_root / "plugin.json").write_text(f'{{"name":"{name}"}}')
    (codex_home / ".tmp/plugins.sha").write_text(f"{TEST_CURATED_PLUGIN_SHA}\n")


class FeaturedEndpoint:
    """`GET /backend-api/plugins/featured?platform=codex` answering `ids`, counting requests."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = ids
        self.count = 0
        self.counted = asyncio.Condition()
        self.app = Starlette(
            routes=[Route("/backend-api/plugins/featured", self._featured, methods=["GET"])]
        )

    async def _featured(self, request: Request) -> Response:
        if request.query_params.get("platform") != "codex":
            return Response(status_code=404)
        async with self.counted:
            self.count += 1
            self.counted.notify_all()
        return JSONResponse(self.ids)

    async def wait_for_count(self, expected: int) -> None:
        """Until `expected` requests arrived (a safety deadline only), failing on more."""
        async with asyncio.timeout(DEFAULT_TIMEOUT), self.counted:
            await self.counted.wait_for(lambda: self.count >= expected)
        assert self.count == expected, f"expected exactly {expected} requests, got {self.count}"


def home_env(codex_home: Path) -> dict[str, str | None]:
    return {"HOME": str(codex_home), "USERPROFILE": str(codex_home)}


async def plugin_list(mcp: AppServerProcess, params: dict[str, Any]) -> Any:
    return await mcp.request("plugin/list", params, DEFAULT_TIMEOUT)


async def test_plugin_list_skips_invalid_marketplace_file_and_reports_error(tmp_path: Path) -> None:
    """A marketplace file that is not JSON is skipped and reported as a load error."""
    codex_home, repo_root = temp_dir(tmp_path, "home"), temp_dir(tmp_path, "repo")
    (repo_root / ".git").mkdir()
    (repo_root / ".agents/plugins").mkdir(parents=True)
    write_plugins_enabled_config(codex_home)
    marketplace_path = repo_root / ".agents/plugins/marketplace.json"
    marketplace_path.write_text("{not json")

    async with AppServerProcess(codex_home, env=home_env(codex_home)) as mcp:
        await mcp.initialize()
        response = await plugin_list(mcp, {"cwds": [str(repo_root)], "forceRemoteSync": False})

    assert all(m["path"] != str(marketplace_path) for m in response["marketplaces"])
    assert len(response["marketplaceLoadErrors"]) == 1
    assert response["marketplaceLoadErrors"][0]["marketplacePath"] == str(marketplace_path)
    assert "invalid marketplace file" in response["marketplaceLoadErrors"][0]["message"]


async def test_plugin_list_rejects_relative_cwds(tmp_path: Path) -> None:
    """A relative cwd is an invalid request."""
    codex_home = temp_dir(tmp_path, "home")
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        error = await mcp.request_error("plugin/list", {"cwds": ["relative-root"]}, DEFAULT_TIMEOUT)
    assert error["code"] == -32600
    assert "Invalid request" in error["message"]


async def test_plugin_list_keeps_valid_marketplaces_when_another_marketplace_fails_to_load(
    tmp_path: Path,
) -> None:
    """One broken marketplace does not hide the others."""
    codex_home = temp_dir(tmp_path, "home")
    valid_repo_root, invalid_repo_root = temp_dir(tmp_path, "valid"), temp_dir(tmp_path, "invalid")
    (valid_repo_root / ".git").mkdir()
    (valid_repo_root / ".agents/plugins").mkdir(parents=True)
    (valid_repo_root / "plugins/valid-plugin/.codex-plugin").mkdir(parents=True)
    (invalid_repo_root / ".git").mkdir()
    (invalid_repo_root / ".agents/plugins").mkdir(parents=True)
    write_plugins_enabled_config(codex_home)
    valid_marketplace_path = valid_repo_root / ".agents/plugins/marketplace.json"
    invalid_marketplace_path = invalid_repo_root / ".agents/plugins/marketplace.json"
    valid_plugin_path = valid_repo_root / "plugins/valid-plugin"
    valid_marketplace_path.write_text(
        """{
  "name": "valid-marketplace",
  "plugins": [
    {
      "name": "valid-plugin",
      "source": {
        "source": "local",
        "path": "./plugins/valid-plugin"
      }
    }
  ]
}"""
    )
    (valid_plugin_path / ".codex-plugin/plugin.json").write_text('{"name":"valid-plugin"}')
    invalid_marketplace_path.write_text("{not json")

    async with AppServerProcess(codex_home, env=home_env(codex_home)) as mcp:
        await mcp.initialize()
        response = await plugin_list(
            mcp,
            {"cwds": [str(valid_repo_root), str(invalid_repo_root)], "forceRemoteSync": False},
        )

    assert response["marketplaces"] == [
        {
            "name": "valid-marketplace",
            "path": str(valid_marketplace_path),
            "interface": None,
            "plugins": [
                {
                    "id": "valid-plugin@valid-marketplace",
                    "name": "valid-plugin",
                    "source": {"type": "local", "path": str(valid_plugin_path)},
                    "installed": False,
                    "enabled": False,
                    "installPolicy": "AVAILABLE",
                    "authPolicy": "ON_INSTALL",
                    "interface": None,
                }
            ],
        }
    ]
    assert len(response["marketplaceLoadErrors"]) == 1
    assert response["marketplaceLoadErrors"][0]["marketplacePath"] == str(invalid_marketplace_path)
    assert "invalid marketplace file" in response["marketplaceLoadErrors"][0]["message"]
    assert response["remoteSyncError"] is None
    assert response["featuredPluginIds"] == []


async def test_plugin_list_accepts_omitted_cwds(tmp_path: Path) -> None:
    """Without cwds only home-scoped marketplaces are listed, and the request succeeds."""
    codex_home = temp_dir(tmp_path, "home")
    (codex_home / ".agents/plugins").mkdir(parents=True)
    write_plugins_enabled_config(codex_home)
    (codex_home / ".agents/plugins/marketplace.json").write_text(
        """{
  "name": "codex-curated",
  "plugins": [
    {
      "name": "home-plugin",
      "source": {
        "source": "local",
        "path": "./home-plugin"
      }
    }
  ]
}"""
    )
    async with AppServerProcess(codex_home, env=home_env(codex_home)) as mcp:
        await mcp.initialize()
        response = await plugin_list(mcp, {"cwds": None, "forceRemoteSync": False})
    assert isinstance(response["marketplaces"], list)


async def test_plugin_list_includes_install_and_enabled_state_from_config(tmp_path: Path) -> None:
    """Installed comes from the cache plus a config entry; enabled from the config entry."""
    codex_home, repo_root = temp_dir(tmp_path, "home"), temp_dir(tmp_path, "repo")
    (repo_root / ".git").mkdir()
    (repo_root / ".agents/plugins").mkdir(parents=True)
    write_installed_plugin(codex_home, "codex-curated", "enabled-plugin")
    write_installed_plugin(codex_home, "codex-curated", "disabled-plugin")
    (repo_root / ".agents/plugins/marketplace.json").write_text(
        """{
  "name": "codex-curated",
  "interface": {
    "displayName": "ChatGPT Official"
  },
  "plugins": [
    {
      "name": "enabled-plugin",
      "source": {
        "source": "local",
        "path": "./enabled-plugin"
      }
    },
    {
      "name": "disabled-plugin",
      "source": {
        "source": "local",
        "path": "./disabled-plugin"
      }
    },
    {
      "name": "uninstalled-plugin",
      "source": {
        "source": "local",
        "path": "./uninstalled-plugin"
      }
    }
  ]
}"""
    )
    (codex_home / "config.toml").write_text(
        """[features]
plugins = true

[plugins."enabled-plugin@codex-curated"]
enabled = true

[plugins."disabled-plugin@codex-curated"]
enabled = false
"""
    )
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        response = await plugin_list(mcp, {"cwds": [str(repo_root)], "forceRemoteSync": False})

    marketplace = next(
        m
        for m in response["marketplaces"]
        if m["path"] == str(repo_root / ".agents/plugins/marketplace.json")
    )
    assert marketplace["name"] == "codex-curated"
    assert (marketplace["interface"] or {}).get("displayName") == "ChatGPT Official"
    plugins = marketplace["plugins"]
    assert len(plugins) == 3
    expected = [
        ("enabled-plugin@codex-curated", "enabled-plugin", True, True),
        ("disabled-plugin@codex-curated", "disabled-plugin", True, False),
        ("uninstalled-plugin@codex-curated", "uninstalled-plugin", False, False),
    ]
    for plugin, (plugin_id, name, installed, enabled) in zip(plugins, expected, strict=True):
        assert plugin["id"] == plugin_id
        assert plugin["name"] == name
        assert plugin["installed"] is installed
        assert plugin["enabled"] is enabled
        assert plugin["installPolicy"] == "AVAILABLE"
        assert plugin["authPolicy"] == "ON_INSTALL"


async def test_plugin_list_uses_home_config_for_enabled_state(tmp_path: Path) -> None:
    """A project's own config does not override the enabled state in the user's config."""
    codex_home = temp_dir(tmp_path, "home")
    (codex_home / ".agents/plugins").mkdir(parents=True)
    write_installed_plugin(codex_home, "codex-curated", "shared-plugin")
    marketplace = """{
  "name": "codex-curated",
  "plugins": [
    {
      "name": "shared-plugin",
      "source": {
        "source": "local",
        "path": "./shared-plugin"
      }
    }
  ]
}"""
    (codex_home / ".agents/plugins/marketplace.json").write_text(marketplace)
    workspace_enabled = temp_dir(tmp_path, "workspace-enabled")
    (workspace_enabled / ".git").mkdir()
    (workspace_enabled / ".agents/plugins").mkdir(parents=True)
    (workspace_enabled / ".agents/plugins/marketplace.json").write_text(marketplace)
    (workspace_enabled / ".codex").mkdir()
    (workspace_enabled / ".codex/config.toml").write_text(
        '[plugins."shared-plugin@codex-curated"]\nenabled = false\n'
    )
    # The twin of `set_project_trust_level(.., Trusted)`: the user's config trusts the project.
    (codex_home / "config.toml").write_text(
        '[features]\nplugins = true\n\n[plugins."shared-plugin@codex-curated"]\nenabled = true\n'
        f'\n[projects."{workspace_enabled}"]\ntrust_level = "trusted"\n'
    )
    workspace_default = temp_dir(tmp_path, "workspace-default")

    async with AppServerProcess(codex_home, env=home_env(codex_home)) as mcp:
        await mcp.initialize()
        response = await plugin_list(
            mcp,
            {"cwds": [str(workspace_enabled), str(workspace_default)], "forceRemoteSync": False},
        )

    shared_plugin = next(
        p for m in response["marketplaces"] for p in m["plugins"] if p["name"] == "shared-plugin"
    )
    assert shared_plugin["id"] == "shared-plugin@codex-curated"
    assert shared_plugin["installed"] is True
    assert shared_plugin["enabled"] is True


async def test_plugin_list_returns_plugin_interface_with_absolute_asset_paths(
    tmp_path: Path,
) -> None:
    """A plugin's interface comes from its manifest, with asset paths made absolute and the
    marketplace's category winning."""
    codex_home, repo_root = temp_dir(tmp_path, "home"), temp_dir(tmp_path, "repo")
    plugin_root = repo_root / "plugins/demo-plugin"
    (repo_root / ".git").mkdir()
    (repo_root / ".agents/plugins").mkdir(parents=True)
    (plugin_root / ".codex-plugin").mkdir(parents=True)
    write_plugins_enabled_config(codex_home)
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
      "Starter prompt for trying a plugin",
      "Find my next action"
    ],
    "brandColor": "#3B82F6",
    "composerIcon": "./assets/icon.png",
    "logo": "./assets/logo.png",
    "screenshots": ["./assets/screenshot1.png", "./assets/screenshot2.png"]
  }
}"""
    )
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        response = await plugin_list(mcp, {"cwds": [str(repo_root)], "forceRemoteSync": False})

    plugin = next(
        p for m in response["marketplaces"] for p in m["plugins"] if p["name"] == "demo-plugin"
    )
    assert plugin["id"] == "demo-plugin@codex-curated"
    assert plugin["installed"] is False
    assert plugin["enabled"] is False
    assert plugin["installPolicy"] == "AVAILABLE"
    assert plugin["authPolicy"] == "ON_INSTALL"
    interface = plugin["interface"]
    assert interface["displayName"] == "Plugin Display Name"
    assert interface["category"] == "Design"
    assert interface["websiteUrl"] == "https://openai.com/"
    assert interface["privacyPolicyUrl"] == "https://openai.com/policies/row-privacy-policy/"
    assert interface["termsOfServiceUrl"] == "https://openai.com/policies/row-terms-of-use/"
    assert interface["defaultPrompt"] == [
        "Starter prompt for trying a plugin",
        "Find my next action",
    ]
    assert interface["composerIcon"] == str(plugin_root / "assets/icon.png")
    assert interface["logo"] == str(plugin_root / "assets/logo.png")
    assert interface["screenshots"] == [
        str(plugin_root / "assets/screenshot1.png"),
        str(plugin_root / "assets/screenshot2.png"),
    ]


async def test_plugin_list_accepts_legacy_string_default_prompt(tmp_path: Path) -> None:
    """A single-string defaultPrompt is read as a one-item list."""
    codex_home, repo_root = temp_dir(tmp_path, "home"), temp_dir(tmp_path, "repo")
    plugin_root = repo_root / "plugins/demo-plugin"
    (repo_root / ".git").mkdir()
    (repo_root / ".agents/plugins").mkdir(parents=True)
    (plugin_root / ".codex-plugin").mkdir(parents=True)
    write_plugins_enabled_config(codex_home)
    (repo_root / ".agents/plugins/marketplace.json").write_text(
        """{
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
    )
    (plugin_root / ".codex-plugin/plugin.json").write_text(
        """{
  "name": "demo-plugin",
  "interface": {
    "defaultPrompt": "Starter prompt for trying a plugin"
  }
}"""
    )
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        response = await plugin_list(mcp, {"cwds": [str(repo_root)], "forceRemoteSync": False})
    plugin = next(
        p for m in response["marketplaces"] for p in m["plugins"] if p["name"] == "demo-plugin"
    )
    assert plugin["interface"]["defaultPrompt"] == ["Starter prompt for trying a plugin"]


async def test_plugin_list_force_remote_sync_returns_remote_sync_error_on_fail_open(
    tmp_path: Path,
) -> None:
    """Without ChatGPT sign-in a forced sync fails open: the local state is listed and the
    reason is reported."""
    codex_home = temp_dir(tmp_path, "home")
    write_plugin_sync_config(codex_home, "https://chatgpt.com/backend-api/")
    write_openai_curated_marketplace(codex_home, ["linear"])
    write_installed_plugin(codex_home, "openai-curated", "linear")

    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        response = await plugin_list(mcp, {"cwds": None, "forceRemoteSync": True})

    assert "chatgpt authentication required" in (response["remoteSyncError"] or "")
    curated = next(m for m in response["marketplaces"] if m["name"] == "openai-curated")
    assert [(p["id"], p["installed"], p["enabled"]) for p in curated["plugins"]] == [
        ("linear@openai-curated", True, False)
    ]


async def test_plugin_list_fetches_featured_plugin_ids_without_chatgpt_auth(tmp_path: Path) -> None:
    """Featured plugin ids are fetched without a ChatGPT sign-in and listed."""
    codex_home = temp_dir(tmp_path, "home")
    featured = FeaturedEndpoint(["linear@openai-curated"])
    async with serve_asgi(featured.app) as server_url:
        write_plugin_sync_config(codex_home, f"{server_url}/backend-api/")
        write_openai_curated_marketplace(codex_home, ["linear", "gmail"])
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            response = await plugin_list(mcp, {"cwds": None, "forceRemoteSync": False})
    assert response["featuredPluginIds"] == ["linear@openai-curated"]
    assert response["remoteSyncError"] is None


async def test_plugin_list_uses_warmed_featured_plugin_ids_cache_on_first_request(
    tmp_path: Path,
) -> None:
    """The ids fetched at start-up serve the first listing: exactly one request is made."""
    codex_home = temp_dir(tmp_path, "home")
    featured = FeaturedEndpoint(["linear@openai-curated"])
    async with serve_asgi(featured.app) as server_url:
        write_plugin_sync_config(codex_home, f"{server_url}/backend-api/")
        write_openai_curated_marketplace(codex_home, ["linear", "gmail"])
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            await featured.wait_for_count(1)
            response = await plugin_list(mcp, {"cwds": None, "forceRemoteSync": False})
        assert featured.count == 1
    assert response["featuredPluginIds"] == ["linear@openai-curated"]
    assert response["remoteSyncError"] is None
