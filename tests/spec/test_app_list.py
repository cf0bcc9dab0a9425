"""pytest twins of upstream `app-server/tests/suite/v2/app_list.rs`: the API-key cases.

Out of scope — every other test in the file signs in with ChatGPT and lists apps from the
ChatGPT apps directory service (and its `codex_apps` MCP server), which an API-key user never
reaches: `list_apps_uses_thread_feature_flag_when_thread_id_is_provided`,
`list_apps_reports_is_enabled_from_config`,
`list_apps_emits_updates_and_returns_after_both_lists_load`,
`list_apps_waits_for_accessible_data_before_emitting_directory_updates`,
`list_apps_does_not_emit_empty_interim_updates`, `list_apps_paginates_results`,
`list_apps_force_refetch_preserves_previous_cache_on_failure`,
`list_apps_force_refetch_patches_updates_from_cached_snapshots`,
`experimental_feature_enablement_set_refreshes_apps_list_when_apps_turn_on`.
"""

from __future__ import annotations

from pathlib import Path

from support.app_server import AppServerProcess
from support.mcp_servers import serve_http, status_server

DEFAULT_TIMEOUT = 10.0


def write_connectors_config(codex_home: Path, base_url: str) -> None:
    (codex_home / "config.toml").write_text(
        f"""
chatgpt_base_url = "{base_url}"
mcp_oauth_credentials_store = "file"

[features]
connectors = true
"""
    )


async def test_list_apps_returns_empty_when_connectors_disabled(codex_home: Path) -> None:
    """Without the connectors feature the app list is empty."""
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        response = await mcp.request(
            "app/list",
            {"limit": 50, "cursor": None, "threadId": None, "forceRefetch": False},
            DEFAULT_TIMEOUT,
        )
    assert response["data"] == []
    assert response["nextCursor"] is None


async def test_list_apps_returns_empty_with_api_key_auth(codex_home: Path) -> None:
    """An API-key user sees no apps, even with connectors enabled and a directory reachable."""
    # Stands in for upstream's apps server (a directory listing plus a connector MCP server):
    # with an API key it must not be consulted at all.
    async with serve_http(status_server("beta_tool")) as server_url:
        write_connectors_config(codex_home, server_url)
        (codex_home / "auth.json").write_text(
            '{"auth_mode":"apikey","OPENAI_API_KEY":"test-api-key","tokens":null,'
            '"last_refresh":null}'
        )
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            response = await mcp.request(
                "app/list",
                {"limit": 50, "cursor": None, "threadId": None, "forceRefetch": False},
                DEFAULT_TIMEOUT,
            )
    assert response["data"] == []
    assert response["nextCursor"] is None
