"""pytest twins of upstream `app-server/tests/suite/v2/config_rpc.rs` (11 tests).

Each twin writes the same `config.toml` (and managed/project files), drives the real
`parley app-server` over stdio with the same requests and asserts what the Rust test asserts.
`set_project_trust_level` becomes the `[projects."<dir>"] trust_level = "trusted"` entry it
writes; `test_path_buf_with_windows` / `test_tmp_path_buf` are their Unix values. Every test of
the file runs offline: none is out of scope.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.app_server import AppServerProcess

Json = Any


def write_config(codex_home: Path, contents: str) -> None:
    (codex_home / "config.toml").write_text(contents, encoding="utf-8")


def user_source(codex_home: Path) -> dict[str, str]:
    return {"type": "user", "file": str(codex_home.resolve() / "config.toml")}


def assert_layers_user_then_optional_system(layers: list[Json], user_file: str) -> None:
    first = 1 if layers and layers[0]["name"]["type"] == "legacyManagedConfigTomlFromMdm" else 0
    assert len(layers) == first + 2
    assert layers[first]["name"] == {"type": "user", "file": user_file}
    assert layers[first + 1]["name"]["type"] == "system"


def assert_layers_managed_user_then_optional_system(
    layers: list[Json], managed_file: str, user_file: str
) -> None:
    first = 1 if layers and layers[0]["name"]["type"] == "legacyManagedConfigTomlFromMdm" else 0
    assert len(layers) == first + 3
    assert layers[first]["name"] == {
        "type": "legacyManagedConfigTomlFromFile",
        "file": managed_file,
    }
    assert layers[first + 1]["name"] == {"type": "user", "file": user_file}
    assert layers[first + 2]["name"]["type"] == "system"


async def read_config(mcp: AppServerProcess, include_layers: bool, cwd: str | None = None) -> Json:
    return await mcp.request("config/read", {"includeLayers": include_layers, "cwd": cwd})


async def test_config_read_returns_effective_and_layers(spawn_app_server, codex_home) -> None:
    """config/read reports the user file's model with its origin, and the user and system
    layers."""
    write_config(codex_home, '\nmodel = "gpt-user"\nsandbox_mode = "workspace-write"\n')
    user_file = str(codex_home.resolve() / "config.toml")
    mcp = await spawn_app_server()
    await mcp.initialize()

    read = await read_config(mcp, include_layers=True)

    assert read["config"]["model"] == "gpt-user"
    assert read["origins"]["model"]["name"] == user_source(codex_home)
    assert_layers_user_then_optional_system(read["layers"], user_file)


async def test_config_read_includes_tools(spawn_app_server, codex_home) -> None:
    """[tools] settings are read back with the origin of each leaf."""
    write_config(
        codex_home,
        """
model = "gpt-user"

[tools.web_search]
context_size = "low"
allowed_domains = ["example.com"]

[tools]
view_image = false
""",
    )
    user_file = str(codex_home.resolve() / "config.toml")
    mcp = await spawn_app_server()
    await mcp.initialize()

    read = await read_config(mcp, include_layers=True)

    tools = read["config"]["tools"]
    assert tools["web_search"] == {"context_size": "low", "allowed_domains": ["example.com"]}
    assert tools["view_image"] is False
    for key in (
        "tools.web_search.context_size",
        "tools.web_search.allowed_domains.0",
        "tools.view_image",
    ):
        assert read["origins"][key]["name"] == user_source(codex_home)
    assert_layers_user_then_optional_system(read["layers"], user_file)


async def test_config_read_includes_nested_web_search_tool_config(
    spawn_app_server, codex_home
) -> None:
    """A web search location table is returned whole."""
    write_config(
        codex_home,
        """
web_search = "live"

[tools.web_search]
context_size = "high"
allowed_domains = ["example.com"]
location = { country = "US", city = "New York", timezone = "America/New_York" }
""",
    )
    mcp = await spawn_app_server()
    await mcp.initialize()

    read = await read_config(mcp, include_layers=False)

    web_search = read["config"]["tools"]["web_search"]
    assert web_search["context_size"] == "high"
    assert web_search["allowed_domains"] == ["example.com"]
    location = web_search["location"]
    assert {k: location.get(k) for k in ("country", "region", "city", "timezone")} == {
        "country": "US",
        "region": None,
        "city": "New York",
        "timezone": "America/New_York",
    }


async def test_config_read_ignores_bool_web_search_tool_config(
    spawn_app_server, codex_home
) -> None:
    """`[tools] web_search = true` is not a web search table: tools.web_search reads as none."""
    write_config(codex_home, "\n[tools]\nweb_search = true\n")
    mcp = await spawn_app_server()
    await mcp.initialize()

    read = await read_config(mcp, include_layers=False)

    assert "tools" in read["config"]
    assert read["config"]["tools"].get("web_search") is None


async def test_config_read_includes_apps(spawn_app_server, codex_home) -> None:
    """[apps.<id>] settings are read back with their origins."""
    write_config(
        codex_home,
        """
[apps.app1]
enabled = false
destructive_enabled = false
default_tools_approval_mode = "prompt"
""",
    )
    user_file = str(codex_home.resolve() / "config.toml")
    mcp = await spawn_app_server()
    await mcp.initialize()

    read = await read_config(mcp, include_layers=True)

    apps = read["config"]["apps"]
    assert apps.get("_default") is None and apps.get("default") is None
    app1 = apps["app1"]
    assert app1["enabled"] is False
    assert app1["destructive_enabled"] is False
    assert app1.get("open_world_enabled") is None
    assert app1["default_tools_approval_mode"] == "prompt"
    assert app1.get("default_tools_enabled") is None
    assert app1.get("tools") is None
    for key in ("enabled", "destructive_enabled", "default_tools_approval_mode"):
        assert read["origins"][f"apps.app1.{key}"]["name"] == user_source(codex_home)
    assert_layers_user_then_optional_system(read["layers"], user_file)


async def test_config_read_includes_project_layers_for_cwd(
    spawn_app_server, codex_home, tmp_path
) -> None:
    """With a cwd in a trusted project, its .codex/config.toml is a layer and its values win."""
    workspace = tmp_path / "workspace"
    project_config_dir = workspace / ".codex"
    project_config_dir.mkdir(parents=True)
    (project_config_dir / "config.toml").write_text('\nmodel_reasoning_effort = "high"\n')
    write_config(
        codex_home,
        f'model = "gpt-user"\n\n[projects.{json.dumps(str(workspace))}]\ntrust_level = "trusted"\n',
    )
    mcp = await spawn_app_server()
    await mcp.initialize()

    read = await read_config(mcp, include_layers=True, cwd=str(workspace))

    assert read["config"]["model_reasoning_effort"] == "high"
    assert read["origins"]["model_reasoning_effort"]["name"] == {
        "type": "project",
        "dotCodexFolder": str(project_config_dir),
    }


async def test_config_read_includes_system_layer_and_overrides(
    spawn_app_server, codex_home
) -> None:
    """A managed config file beats the user file key by key, down to array items."""
    user_dir = "/user"
    system_dir = "/system"
    write_config(
        codex_home,
        f"""
model = "gpt-user"
approval_policy = "on-request"
sandbox_mode = "workspace-write"

[sandbox_workspace_write]
writable_roots = [{json.dumps(user_dir)}]
network_access = true
""",
    )
    user_file = str(codex_home.resolve() / "config.toml")
    managed_path = codex_home / "managed_config.toml"
    managed_path.write_text(
        f"""
model = "gpt-system"
approval_policy = "never"

[sandbox_workspace_write]
writable_roots = [{json.dumps(system_dir)}]
"""
    )
    managed = {"type": "legacyManagedConfigTomlFromFile", "file": str(managed_path)}
    mcp = await spawn_app_server(env={"CODEX_APP_SERVER_MANAGED_CONFIG_PATH": str(managed_path)})
    await mcp.initialize()

    read = await read_config(mcp, include_layers=True)
    config, origins = read["config"], read["origins"]

    assert config["model"] == "gpt-system"
    assert origins["model"]["name"] == managed
    assert config["approval_policy"] == "never"
    assert origins["approval_policy"]["name"] == managed
    assert config["sandbox_mode"] == "workspace-write"
    assert origins["sandbox_mode"]["name"] == user_source(codex_home)
    sandbox = config["sandbox_workspace_write"]
    assert sandbox["writable_roots"] == [system_dir]
    assert origins["sandbox_workspace_write.writable_roots.0"]["name"] == managed
    assert sandbox["network_access"] is True
    assert origins["sandbox_workspace_write.network_access"]["name"] == user_source(codex_home)
    assert_layers_managed_user_then_optional_system(read["layers"], str(managed_path), user_file)


async def test_config_value_write_replaces_value(spawn_app_server, codex_home) -> None:
    """A write with the version just read replaces the value; the next read sees it."""
    write_config(codex_home, '\nmodel = "gpt-old"\n')
    mcp = await spawn_app_server(codex_home=codex_home.resolve())
    await mcp.initialize()

    read = await read_config(mcp, include_layers=False)
    expected_version = read["origins"]["model"]["version"]

    write = await mcp.request(
        "config/value/write",
        {
            "filePath": None,
            "keyPath": "model",
            "value": "gpt-new",
            "mergeStrategy": "replace",
            "expectedVersion": expected_version,
        },
    )
    assert write["status"] == "ok"
    assert write["filePath"] == str(codex_home.resolve() / "config.toml")
    assert write.get("overriddenMetadata") is None

    verify = await read_config(mcp, include_layers=False)
    assert verify["config"]["model"] == "gpt-new"


async def test_config_read_after_pipelined_write_sees_written_value(
    spawn_app_server, codex_home
) -> None:
    """A read sent right behind a write, before its answer, already sees the written value."""
    write_config(codex_home, '\nmodel = "gpt-old"\n')
    mcp = await spawn_app_server(codex_home=codex_home.resolve())
    await mcp.initialize()

    write_id = await mcp.send_request(
        "config/value/write",
        {
            "filePath": None,
            "keyPath": "model",
            "value": "gpt-new",
            "mergeStrategy": "replace",
            "expectedVersion": None,
        },
    )
    read_id = await mcp.send_request("config/read", {"includeLayers": False, "cwd": None})

    write = (await mcp.read_stream_until_response_message(write_id))["result"]
    assert write["status"] == "ok"
    read = (await mcp.read_stream_until_response_message(read_id))["result"]
    assert read["config"]["model"] == "gpt-new"


async def test_config_value_write_rejects_version_conflict(spawn_app_server, codex_home) -> None:
    """A stale expected version is refused with `configVersionConflict`."""
    write_config(codex_home, '\nmodel = "gpt-old"\n')
    mcp = await spawn_app_server()
    await mcp.initialize()

    error = await mcp.request_error(
        "config/value/write",
        {
            "filePath": str(codex_home / "config.toml"),
            "keyPath": "model",
            "value": "gpt-new",
            "mergeStrategy": "replace",
            "expectedVersion": "sha256:stale",
        },
    )
    assert (error.get("data") or {}).get("config_write_error_code") == "configVersionConflict"


async def test_config_batch_write_applies_multiple_edits(spawn_app_server, codex_home) -> None:
    """Several edits in one batch all land, tables included."""
    write_config(codex_home, "")
    home = codex_home.resolve()
    mcp = await spawn_app_server(codex_home=home)
    await mcp.initialize()
    writable_root = "/tmp"

    batch = await mcp.request(
        "config/batchWrite",
        {
            "filePath": str(home / "config.toml"),
            "edits": [
                {
                    "keyPath": "sandbox_mode",
                    "value": "workspace-write",
                    "mergeStrategy": "replace",
                },
                {
                    "keyPath": "sandbox_workspace_write",
                    "value": {"writable_roots": [writable_root], "network_access": False},
                    "mergeStrategy": "replace",
                },
            ],
            "expectedVersion": None,
            "reloadUserConfig": False,
        },
    )
    assert batch["status"] == "ok"
    assert batch["filePath"] == str(home / "config.toml")

    read = await read_config(mcp, include_layers=False)
    assert read["config"]["sandbox_mode"] == "workspace-write"
    sandbox = read["config"]["sandbox_workspace_write"]
    assert sandbox["writable_roots"] == [writable_root]
    assert sandbox["network_access"] is False
