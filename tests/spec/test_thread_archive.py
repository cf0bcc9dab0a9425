"""pytest twins of upstream `app-server/tests/suite/v2/thread_archive.rs` (2 tests): archiving
needs a rollout (written with the first turn), moves it into `archived_sessions/`, and unloads
the thread so a later resume starts clean. Nothing here is out of scope.
"""

from __future__ import annotations

from pathlib import Path

from support.app_server import SpawnAppServer
from support.rollout import find_thread_path_by_id_str
from support.thread_harness import (
    create_config_toml,
    create_mock_responses_server_repeating_assistant,
    run_turn,
    start_thread,
    text_input,
)


def _exists(path: Path) -> bool:
    return path.exists()


def assert_paths_match_on_disk(actual: Path, expected: Path) -> None:
    assert actual.resolve() == expected.resolve()


async def test_thread_archive_requires_materialized_rollout(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = (await start_thread(mcp))["thread"]
    assert thread["id"]
    rollout_path = Path(thread["path"])
    assert not _exists(rollout_path), f"fresh thread rollout should not exist yet at {rollout_path}"
    assert find_thread_path_by_id_str(codex_home, thread["id"]) is None

    error = await mcp.request_error("thread/archive", {"threadId": thread["id"]})
    assert "no rollout found for thread id" in error["message"], error["message"]

    await run_turn(mcp, thread["id"], "materialize")
    assert _exists(rollout_path), f"expected rollout path {rollout_path} to exist"
    discovered = find_thread_path_by_id_str(codex_home, thread["id"])
    assert discovered is not None
    assert_paths_match_on_disk(discovered, rollout_path)

    assert await mcp.request("thread/archive", {"threadId": thread["id"]}) == {}
    archived = await mcp.read_notification("thread/archived")
    assert archived["threadId"] == thread["id"]
    archived_rollout_path = codex_home / "archived_sessions" / rollout_path.name
    assert not _exists(rollout_path), f"expected rollout path {rollout_path} to be moved"
    assert _exists(archived_rollout_path)
    await server.stop()


async def test_thread_archive_clears_stale_subscriptions_before_resume(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    primary = await spawn_app_server(codex_home=codex_home)
    await primary.initialize()
    thread = (await start_thread(primary))["thread"]
    await run_turn(primary, thread["id"], "materialize")
    primary.clear_message_buffer()

    assert await primary.request("thread/archive", {"threadId": thread["id"]}) == {}
    await primary.read_notification("thread/archived")
    await primary.request("thread/unarchive", {"threadId": thread["id"]})
    await primary.read_notification("thread/unarchived")
    primary.clear_message_buffer()

    secondary = await spawn_app_server(codex_home=codex_home)
    await secondary.initialize()
    resume = await secondary.request("thread/resume", {"threadId": thread["id"]})
    assert resume["thread"]["status"] == {"type": "idle"}
    primary.clear_message_buffer()
    secondary.clear_message_buffer()

    await secondary.request(
        "turn/start", {"threadId": thread["id"], "input": text_input("secondary turn")}
    )
    await primary.expect_no_notification("turn/started", within=0.25)
    await secondary.read_notification("turn/completed")
    await server.stop()
