"""pytest twins of upstream `app-server/tests/suite/v2/experimental_feature_list.rs` (6 tests).

The expected feature metadata is the reference's registry (names, stages, defaults), read from
Parley's data file `parley/catalog/features.json`; with an empty CODEX_HOME every feature is at
its default, which is what upstream's `ConfigBuilder` yields. Nothing in the file is out of
scope.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from support.app_server import AppServerProcess


def feature_registry() -> list[dict[str, Any]]:
    text = resources.files("parley.catalog").joinpath("features.json").read_text("utf-8")
    return json.loads(text)["features"]


async def set_experimental_feature_enablement(
    mcp: AppServerProcess, enablement: dict[str, bool]
) -> Any:
    return await mcp.request("experimentalFeature/enablement/set", {"enablement": enablement})


async def read_config(mcp: AppServerProcess, cwd: str | None) -> Any:
    return await mcp.request("config/read", {"includeLayers": False, "cwd": cwd})


def feature(config_read: Any, name: str) -> Any:
    return (config_read["config"].get("features") or {}).get(name)


async def test_experimental_feature_list_returns_feature_metadata_with_stage(
    spawn_app_server,
) -> None:
    """Every feature is listed with its stage, texts for beta ones, and its state."""
    mcp = await spawn_app_server()
    await mcp.initialize()

    actual = await mcp.request("experimentalFeature/list", {})

    expected = [
        {
            "name": spec["name"],
            "stage": spec["stage"],
            "displayName": spec.get("displayName"),
            "description": spec.get("description"),
            "announcement": spec.get("announcement"),
            "enabled": spec["defaultEnabled"],
            "defaultEnabled": spec["defaultEnabled"],
        }
        for spec in feature_registry()
    ]
    assert actual == {"data": expected, "nextCursor": None}


async def test_experimental_feature_enablement_set_applies_to_global_and_thread_config_reads(
    spawn_app_server, codex_home
) -> None:
    """A runtime enablement shows in config/read, with and without a cwd."""
    project_cwd = codex_home / "project"
    project_cwd.mkdir()
    mcp = await spawn_app_server()
    await mcp.initialize()

    actual = await set_experimental_feature_enablement(mcp, {"apps": True})
    assert actual == {"enablement": {"apps": True}}

    for cwd in (None, str(project_cwd)):
        assert feature(await read_config(mcp, cwd), "apps") is True


async def test_experimental_feature_enablement_set_does_not_override_user_config(
    spawn_app_server, codex_home
) -> None:
    """The user's own [features] entry wins over a runtime enablement."""
    (codex_home / "config.toml").write_text("[features]\napps = false\n")
    mcp = await spawn_app_server()
    await mcp.initialize()

    actual = await set_experimental_feature_enablement(mcp, {"apps": True})
    assert actual == {"enablement": {"apps": True}}

    assert feature(await read_config(mcp, None), "apps") is False


async def test_experimental_feature_enablement_set_only_updates_named_features(
    spawn_app_server,
) -> None:
    """A second call changes the features it names and keeps the earlier ones."""
    mcp = await spawn_app_server()
    await mcp.initialize()

    await set_experimental_feature_enablement(mcp, {"apps": True})
    named = {
        "plugins": True,
        "tool_search": True,
        "tool_suggest": True,
        "tool_call_mcp_elicitation": False,
    }
    actual = await set_experimental_feature_enablement(mcp, named)
    assert actual == {"enablement": named}

    read = await read_config(mcp, None)
    assert feature(read, "apps") is True
    assert feature(read, "plugins") is True
    assert feature(read, "tool_search") is True
    assert feature(read, "tool_suggest") is True
    assert feature(read, "tool_call_mcp_elicitation") is False


async def test_experimental_feature_enablement_set_empty_map_is_no_op(spawn_app_server) -> None:
    """An empty map changes nothing and echoes an empty map."""
    mcp = await spawn_app_server()
    await mcp.initialize()

    await set_experimental_feature_enablement(mcp, {"apps": True})
    actual = await set_experimental_feature_enablement(mcp, {})
    assert actual == {"enablement": {}}

    assert feature(await read_config(mcp, None), "apps") is True


async def test_experimental_feature_enablement_set_rejects_non_allowlisted_feature(
    spawn_app_server,
) -> None:
    """Only the allow-listed features can be switched at runtime; the error lists them."""
    mcp = await spawn_app_server()
    await mcp.initialize()

    error = await mcp.request_error(
        "experimentalFeature/enablement/set", {"enablement": {"personality": True}}
    )

    assert error["code"] == -32600
    assert "unsupported feature enablement `personality`" in error["message"]
    assert "apps, plugins, tool_search, tool_suggest, tool_call_mcp_elicitation" in error["message"]
