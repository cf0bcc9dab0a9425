"""pytest twins of upstream `app-server/tests/suite/v2/thread_loaded_list.rs` (2 tests): the ids
of loaded threads, sorted, paged with `limit` and a cursor. Nothing here is out of scope.
"""

from __future__ import annotations

from pathlib import Path

from support.app_server import AppServerProcess, SpawnAppServer
from support.thread_harness import (
    create_config_toml,
    create_mock_responses_server_repeating_assistant,
    start_thread,
)


async def _thread_id(mcp: AppServerProcess) -> str:
    thread_id: str = (await start_thread(mcp))["thread"]["id"]
    return thread_id


async def test_thread_loaded_list_returns_loaded_thread_ids(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread_id = await _thread_id(mcp)
    result = await mcp.request("thread/loaded/list", {})
    assert sorted(result["data"]) == [thread_id]
    assert result["nextCursor"] is None
    await server.stop()


async def test_thread_loaded_list_paginates(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    expected = sorted([await _thread_id(mcp), await _thread_id(mcp)])
    first = await mcp.request("thread/loaded/list", {"cursor": None, "limit": 1})
    assert first["data"] == [expected[0]]
    assert first["nextCursor"] == expected[0]
    second = await mcp.request("thread/loaded/list", {"cursor": first["nextCursor"], "limit": 1})
    assert second["data"] == [expected[1]]
    assert second["nextCursor"] is None
    await server.stop()
