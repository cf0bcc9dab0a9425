"""pytest twin of upstream `app-server/tests/suite/v2/thread_unarchive.rs` (1 test): unarchiving
moves the rollout back under `sessions/`, bumps `updatedAt` and answers the thread as not
loaded, with `name: null` on the wire. Nothing here is out of scope.
"""

from __future__ import annotations

import os
from pathlib import Path

from support.app_server import SpawnAppServer
from support.rollout import find_archived_thread_path_by_id_str, find_thread_path_by_id_str
from support.thread_harness import (
    create_config_toml,
    create_mock_responses_server_repeating_assistant,
    run_turn,
    start_thread,
)


def _exists(path: Path) -> bool:
    return path.exists()


def assert_paths_match_on_disk(actual: Path, expected: Path) -> None:
    assert actual.resolve() == expected.resolve()


async def test_thread_unarchive_moves_rollout_back_into_sessions_directory(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = (await start_thread(mcp))["thread"]
    rollout_path = Path(thread["path"])
    await run_turn(mcp, thread["id"], "materialize")
    found = find_thread_path_by_id_str(codex_home, thread["id"])
    assert found is not None
    assert_paths_match_on_disk(found, rollout_path)

    await mcp.request("thread/archive", {"threadId": thread["id"]})
    archived_path = find_archived_thread_path_by_id_str(codex_home, thread["id"])
    assert archived_path is not None and _exists(archived_path)
    old_timestamp = 1
    os.utime(archived_path, (old_timestamp, old_timestamp))

    result = await mcp.request("thread/unarchive", {"threadId": thread["id"]})
    unarchived = await mcp.read_notification("thread/unarchived")
    assert unarchived["threadId"] == thread["id"]
    assert result["thread"]["updatedAt"] > old_timestamp, "expected updated_at to be bumped"
    assert result["thread"]["status"] == {"type": "notLoaded"}
    assert "name" in result["thread"] and result["thread"]["name"] is None
    assert _exists(rollout_path), f"expected rollout path {rollout_path} to be restored"
    assert not _exists(archived_path)
    await server.stop()
