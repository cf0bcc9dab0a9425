"""pytest twins of upstream `app-server/tests/suite/v2/app_list.rs` (11 tests).

Each test serves the apps backend on a local port as the Rust test does (`support.apps_backend`:
the connector directory plus the `codex_apps` MCP server, written with the MCP SDK), points
`chatgpt_base_url` at it, writes the sign-in (`auth.json`) and talks to the real
`parley app-server` subprocess. Nothing is out of scope.

One deliberate difference: upstream orders the two lists with delays (the directory or the tool
listing answers 300 ms late) and proves an update did not come by waiting 150 ms for it. Here
the backend holds a list back until the test releases it (`directory_gate` / `tools_gate`), so
the order is certain on any machine, and "no such update" is shown by the next update being
the expected one (notifications arrive in order).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from support.app_server import AppServerProcess
from support.apps_backend import AppsBackend, app_info, connector_tool, write_chatgpt_auth
from support.mcp_servers import serve_asgi

DEFAULT_TIMEOUT = 10.0
LIST_PARAMS: dict[str, Any] = {
    "limit": None,
    "cursor": None,
    "threadId": None,
    "forceRefetch": False,
}


def write_connectors_config(codex_home: Path, base_url: str) -> None:
    (codex_home / "config.toml").write_text(
        f"""
chatgpt_base_url = "{base_url}"
mcp_oauth_credentials_store = "file"

[features]
connectors = true
"""
    )


def write_api_key_auth(codex_home: Path) -> None:
    (codex_home / "auth.json").write_text(
        '{"auth_mode":"apikey","OPENAI_API_KEY":"test-api-key","tokens":null,"last_refresh":null}'
    )


async def app_list(mcp: AppServerProcess, **params: Any) -> Any:
    return await mcp.request("app/list", {**LIST_PARAMS, **params}, DEFAULT_TIMEOUT)


async def read_app_list_updated(mcp: AppServerProcess) -> list[dict[str, Any]]:
    params = await mcp.read_notification("app/list/updated", DEFAULT_TIMEOUT)
    data: list[dict[str, Any]] = params["data"]
    return data


async def released(event: asyncio.Event, gate: asyncio.Event) -> None:
    """Open `gate` once `event` happened (a safety-net deadline only)."""
    await asyncio.wait_for(event.wait(), DEFAULT_TIMEOUT)
    gate.set()


def beta_connector() -> dict[str, Any]:
    return app_info("beta", "Beta", description="Beta connector")


def accessible(app_id: str, name: str, install_url: str, **fields: Any) -> dict[str, Any]:
    return app_info(app_id, name, installUrl=install_url, isAccessible=True, **fields)


def alpha_and_beta() -> list[dict[str, Any]]:
    return [
        app_info(
            "alpha",
            "Alpha",
            description="Alpha connector",
            logoUrl="https://example.com/alpha.png",
        ),
        app_info("beta", "beta"),
    ]


ALPHA_EXPECTED = app_info(
    "alpha",
    "Alpha",
    description="Alpha connector",
    logoUrl="https://example.com/alpha.png",
    installUrl="https://chatgpt.com/apps/alpha/alpha",
)


async def test_list_apps_returns_empty_when_connectors_disabled(codex_home: Path) -> None:
    """Without a sign-in (and the connectors feature) the app list is empty."""
    async with AppServerProcess(codex_home) as mcp:
        await mcp.initialize()
        response = await app_list(mcp, limit=50)
    assert response["data"] == []
    assert response["nextCursor"] is None


async def test_list_apps_returns_empty_with_api_key_auth(codex_home: Path) -> None:
    """An API-key user sees no apps, even with connectors enabled and a directory reachable."""
    backend = AppsBackend([beta_connector()], [connector_tool("beta", "Beta App")])
    async with serve_asgi(backend.app()) as server_url:
        write_connectors_config(codex_home, server_url)
        write_api_key_auth(codex_home)
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            response = await app_list(mcp, limit=50)
    assert response["data"] == []
    assert response["nextCursor"] is None


async def test_list_apps_uses_thread_feature_flag_when_thread_id_is_provided(
    codex_home: Path,
) -> None:
    """With a threadId the thread's own apps feature decides, not the file as it is now."""
    backend = AppsBackend([beta_connector()], [connector_tool("beta", "Beta App")])
    async with serve_asgi(backend.app()) as server_url:
        write_connectors_config(codex_home, server_url)
        write_chatgpt_auth(codex_home, "chatgpt-token")
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            thread = (await mcp.request("thread/start", {}, DEFAULT_TIMEOUT))["thread"]
            (codex_home / "config.toml").write_text(
                f"""
chatgpt_base_url = "{server_url}"
mcp_oauth_credentials_store = "file"

[features]
connectors = false
"""
            )
            global_response = await app_list(mcp)
            thread_response = await app_list(mcp, threadId=thread["id"])
    assert global_response["data"] == []
    assert global_response["nextCursor"] is None
    assert any(app["id"] == "beta" for app in thread_response["data"])
    assert thread_response["nextCursor"] is None


async def test_list_apps_reports_is_enabled_from_config(codex_home: Path) -> None:
    """`[apps.<id>] enabled = false` shows as isEnabled false."""
    backend = AppsBackend([beta_connector()], [connector_tool("beta", "Beta App")])
    async with serve_asgi(backend.app()) as server_url:
        (codex_home / "config.toml").write_text(
            f"""
chatgpt_base_url = "{server_url}"

[features]
connectors = true

[apps.beta]
enabled = false
"""
        )
        write_chatgpt_auth(codex_home, "chatgpt-token")
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            response = await app_list(mcp)
    assert response["nextCursor"] is None
    assert len(response["data"]) == 1
    assert response["data"][0]["id"] == "beta"
    assert response["data"][0]["isEnabled"] is False


async def test_list_apps_emits_updates_and_returns_after_both_lists_load(
    codex_home: Path,
) -> None:
    """The connected apps come first as an update of their own, then the merged list (directory
    details, connected first) as an update and as the answer."""
    alpha_branding = {
        "category": "PRODUCTIVITY",
        "developer": "Acme",
        "website": "https://acme.example",
        "privacyPolicy": "https://acme.example/privacy",
        "termsOfService": "https://acme.example/terms",
        "isDiscoverableApp": True,
    }
    alpha_app_metadata = {
        "review": {"status": "APPROVED"},
        "categories": ["PRODUCTIVITY"],
        "subCategories": ["WRITING"],
        "seoDescription": "Alpha connector",
        "screenshots": [
            {
                "url": "https://example.com/alpha-screenshot.png",
                "fileId": "file_123",
                "userPrompt": "Summarize this draft",
            }
        ],
        "developer": "Acme",
        "version": "1.2.3",
        "versionId": "version_123",
        "versionNotes": "Fixes and improvements",
        "firstPartyType": "internal",
        "firstPartyRequiresInstall": True,
        "showInComposerWhenUnlinked": True,
    }
    alpha_labels = {"feature": "beta", "source": "directory"}
    connectors = [
        app_info(
            "alpha",
            "Alpha",
            description="Alpha connector",
            logoUrl="https://example.com/alpha.png",
            branding=alpha_branding,
            appMetadata=alpha_app_metadata,
            labels=alpha_labels,
        ),
        app_info("beta", "beta"),
    ]
    backend = AppsBackend(connectors, [connector_tool("beta", "Beta App")])
    # Upstream delays the directory 300 ms; here it waits for the first update.
    backend.directory_gate = asyncio.Event()
    async with serve_asgi(backend.app()) as server_url:
        write_connectors_config(codex_home, server_url)
        write_chatgpt_auth(codex_home, "chatgpt-token")
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            request_id = await mcp.send_request("app/list", LIST_PARAMS)

            first_update = await read_app_list_updated(mcp)
            assert first_update == [
                accessible("beta", "Beta App", "https://chatgpt.com/apps/beta-app/beta")
            ]
            backend.directory_gate.set()

            expected_merged = [
                accessible("beta", "Beta App", "https://chatgpt.com/apps/beta/beta"),
                app_info(
                    "alpha",
                    "Alpha",
                    description="Alpha connector",
                    logoUrl="https://example.com/alpha.png",
                    branding=alpha_branding,
                    appMetadata=alpha_app_metadata,
                    labels=alpha_labels,
                    installUrl="https://chatgpt.com/apps/alpha/alpha",
                ),
            ]
            second_update = await read_app_list_updated(mcp)
            assert second_update == expected_merged

            response = await mcp.read_stream_until_response_message(request_id, DEFAULT_TIMEOUT)
    assert response["result"]["data"] == expected_merged
    assert response["result"]["nextCursor"] is None


async def test_list_apps_waits_for_accessible_data_before_emitting_directory_updates(
    codex_home: Path,
) -> None:
    """Until the connected apps are known, no update lists directory apps alone."""
    backend = AppsBackend(alpha_and_beta(), [connector_tool("beta", "Beta App")])
    # Upstream delays the tool listing 300 ms; here it waits for the directory's answer.
    backend.tools_gate = asyncio.Event()
    expected = [
        accessible("beta", "Beta App", "https://chatgpt.com/apps/beta/beta"),
        ALPHA_EXPECTED,
    ]
    async with serve_asgi(backend.app()) as server_url:
        write_connectors_config(codex_home, server_url)
        write_chatgpt_auth(codex_home, "chatgpt-token", chatgpt_user_id="user-directory-first")
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            release = asyncio.create_task(released(backend.directory_answered, backend.tools_gate))
            request_id = await mcp.send_request("app/list", LIST_PARAMS)
            while True:
                update = await read_app_list_updated(mcp)
                if update == expected:
                    break
                assert update and all(app["isAccessible"] for app in update), (
                    "unexpected directory-only app/list update before accessible apps loaded"
                )
            response = await mcp.read_stream_until_response_message(request_id, DEFAULT_TIMEOUT)
            await release
    assert response["result"]["data"] == expected
    assert response["result"]["nextCursor"] is None


async def test_list_apps_does_not_emit_empty_interim_updates(codex_home: Path) -> None:
    """No connected apps and the directory still loading: no (empty) update until both are in."""
    connectors = [app_info("alpha", "Alpha", description="Alpha connector")]
    backend = AppsBackend(connectors, [])
    # Upstream delays the directory 300 ms and waits 150 ms for an update that must not come;
    # here the directory answers only once the (empty) tool list went out, and the first
    # update must be the final list.
    backend.directory_gate = asyncio.Event()
    expected = [
        app_info(
            "alpha",
            "Alpha",
            description="Alpha connector",
            installUrl="https://chatgpt.com/apps/alpha/alpha",
        )
    ]
    async with serve_asgi(backend.app()) as server_url:
        write_connectors_config(codex_home, server_url)
        write_chatgpt_auth(codex_home, "chatgpt-token", chatgpt_user_id="user-empty-interim")
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            release = asyncio.create_task(released(backend.tools_listed, backend.directory_gate))
            request_id = await mcp.send_request("app/list", LIST_PARAMS)
            update = await read_app_list_updated(mcp)
            assert update == expected, "unexpected interim app/list update"
            response = await mcp.read_stream_until_response_message(request_id, DEFAULT_TIMEOUT)
            await release
    assert response["result"]["data"] == expected
    assert response["result"]["nextCursor"] is None


async def test_list_apps_paginates_results(codex_home: Path) -> None:
    """`limit` pages the merged list; the cursor it returns gives the next page."""
    backend = AppsBackend(alpha_and_beta(), [connector_tool("beta", "Beta App")])
    async with serve_asgi(backend.app()) as server_url:
        write_connectors_config(codex_home, server_url)
        write_chatgpt_auth(codex_home, "chatgpt-token")
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            first = await app_list(mcp, limit=1)
            assert first["data"] == [
                accessible("beta", "Beta App", "https://chatgpt.com/apps/beta/beta")
            ]
            next_cursor = first["nextCursor"]
            assert next_cursor is not None, "missing cursor"
            while True:
                update = await read_app_list_updated(mcp)
                if len(update) == 2 and any(app["isAccessible"] for app in update):
                    break
            second = await app_list(mcp, limit=1, cursor=next_cursor)
    assert second["data"] == [
        app_info(
            "alpha",
            "Alpha",
            description="Alpha connector",
            logoUrl="https://example.com/alpha.png",
            installUrl="https://chatgpt.com/apps/alpha/alpha",
        )
    ]
    assert second["nextCursor"] is None


async def test_list_apps_force_refetch_preserves_previous_cache_on_failure(
    codex_home: Path,
) -> None:
    """A refetch that fails is an error, and the cached list stays as it was."""
    connectors = [app_info("beta", "Beta App", description="Beta connector")]
    backend = AppsBackend(connectors, [connector_tool("beta", "Beta App")])
    async with serve_asgi(backend.app()) as server_url:
        write_connectors_config(codex_home, server_url)
        write_chatgpt_auth(codex_home, "chatgpt-token")
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            initial = await app_list(mcp)
            assert initial["nextCursor"] is None
            assert len(initial["data"]) == 1
            assert all(app["isAccessible"] for app in initial["data"])

            write_chatgpt_auth(codex_home, "chatgpt-token-invalid")
            error = await mcp.request_error(
                "app/list", {**LIST_PARAMS, "forceRefetch": True}, DEFAULT_TIMEOUT
            )
            assert "failed to" in error["message"]

            cached = await app_list(mcp)
    assert cached["data"] == initial["data"]
    assert cached["nextCursor"] is None


async def test_list_apps_force_refetch_patches_updates_from_cached_snapshots(
    codex_home: Path,
) -> None:
    """A refetch first shows the cached list, never an update made only of apps not connected
    while it loads, then the fresh list."""
    initial_connectors = [
        app_info("alpha", "Alpha", description="Alpha v1"),
        app_info("beta", "Beta App", description="Beta v1"),
    ]
    backend = AppsBackend(initial_connectors, [connector_tool("beta", "Beta App")])
    backend.directory_gate = asyncio.Event()
    async with serve_asgi(backend.app()) as server_url:
        write_connectors_config(codex_home, server_url)
        write_chatgpt_auth(codex_home, "chatgpt-token")
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            warm_request = await mcp.send_request("app/list", LIST_PARAMS)
            warm_first = await read_app_list_updated(mcp)
            assert warm_first == [
                accessible("beta", "Beta App", "https://chatgpt.com/apps/beta-app/beta")
            ]
            backend.directory_gate.set()

            warm_second = await read_app_list_updated(mcp)
            snapshot = [
                accessible(
                    "beta",
                    "Beta App",
                    "https://chatgpt.com/apps/beta-app/beta",
                    description="Beta v1",
                ),
                app_info(
                    "alpha",
                    "Alpha",
                    description="Alpha v1",
                    installUrl="https://chatgpt.com/apps/alpha/alpha",
                ),
            ]
            assert warm_second == snapshot
            warm = await mcp.read_stream_until_response_message(warm_request, DEFAULT_TIMEOUT)
            assert warm["result"]["data"] == warm_second
            assert warm["result"]["nextCursor"] is None

            backend.set_connectors([app_info("alpha", "Alpha", description="Alpha v2")])
            backend.set_tools([])
            backend.directory_gate = asyncio.Event()
            backend.tools_listed.clear()

            refetch_request = await mcp.send_request(
                "app/list", {**LIST_PARAMS, "forceRefetch": True}
            )
            first_update = await read_app_list_updated(mcp)
            assert first_update == snapshot
            # Upstream waits 150 ms for an inaccessible-only update that must not come; here the
            # directory answers once the new (empty) tool list went out, and the next update
            # must be the final list.
            await asyncio.wait_for(backend.tools_listed.wait(), DEFAULT_TIMEOUT)
            backend.directory_gate.set()
            expected_final = [
                app_info(
                    "alpha",
                    "Alpha",
                    description="Alpha v2",
                    installUrl="https://chatgpt.com/apps/alpha/alpha",
                )
            ]
            second_update = await read_app_list_updated(mcp)
            assert second_update == expected_final, (
                "unexpected inaccessible-only app/list update during force refetch"
            )
            refetch = await mcp.read_stream_until_response_message(refetch_request, DEFAULT_TIMEOUT)
    assert refetch["result"]["data"] == expected_final
    assert refetch["result"]["nextCursor"] is None


async def test_experimental_feature_enablement_set_refreshes_apps_list_when_apps_turn_on(
    codex_home: Path,
) -> None:
    """Turning the apps feature on fetches both lists afresh and sends the result."""
    backend = AppsBackend([app_info("alpha", "Alpha", description="Alpha v1")], [])
    async with serve_asgi(backend.app()) as server_url:
        write_connectors_config(codex_home, server_url)
        write_chatgpt_auth(codex_home, "chatgpt-token", chatgpt_user_id="user-enable-refresh")
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            await mcp.request(
                "experimentalFeature/enablement/set",
                {"enablement": {"apps": False}},
                DEFAULT_TIMEOUT,
            )
            backend.set_connectors([app_info("alpha", "Alpha", description="Alpha v2")])
            backend.set_tools([connector_tool("alpha", "Alpha App")])
            await mcp.request(
                "experimentalFeature/enablement/set",
                {"enablement": {"apps": True}},
                DEFAULT_TIMEOUT,
            )
            update = await read_app_list_updated(mcp)
    assert update == [
        accessible(
            "alpha",
            "Alpha",
            "https://chatgpt.com/apps/alpha/alpha",
            description="Alpha v2",
        )
    ]
