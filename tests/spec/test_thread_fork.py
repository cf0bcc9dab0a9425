"""pytest twins of upstream `app-server/tests/suite/v2/thread_fork.rs`.

Twinned here (3): `thread_fork_creates_new_thread_and_emits_started`,
`thread_fork_rejects_unmaterialized_thread`,
`thread_fork_ephemeral_remains_pathless_and_omits_listing`.

Pending on other engineers' features (no twin yet, not skipped):
- `thread_fork_tracks_thread_initialized_analytics`: pending on analytics.
- `thread_fork_surfaces_cloud_requirements_load_errors`: pending on cloud requirements (ChatGPT
  sign-in and a cloud service).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.app_server import AppServerProcess, SpawnAppServer
from support.rollout import create_fake_rollout
from support.thread_harness import (
    create_config_toml,
    create_mock_responses_server_repeating_assistant,
    run_turn,
    start_thread,
)

PREVIEW = "Saved user message"


def _read(path: Path) -> str:
    return path.read_text()


def _exists(path: Path) -> bool:
    return path.exists()


async def _started_without_status_change(mcp: AppServerProcess, thread_id: str) -> Any:
    """The `thread/started` notification, checking no status change for the thread came first."""
    message = await mcp.read_stream_until_notification_message("thread/started")
    for earlier in mcp.received_messages():
        if earlier is message:
            break
        if earlier.get("method") == "thread/status/changed":
            assert earlier["params"]["threadId"] != thread_id, (
                "thread/fork should introduce the thread without a preceding thread/status/changed"
            )
    return message["params"]


def _assert_single_user_turn(thread: dict[str, Any], status: str) -> None:
    assert len(thread["turns"]) == 1, "expected forked thread to include one turn"
    turn = thread["turns"][0]
    assert turn["status"] == status
    assert len(turn["items"]) == 1, "expected user message item"
    assert turn["items"][0]["type"] == "userMessage"
    assert turn["items"][0]["content"] == [{"type": "text", "text": PREVIEW, "text_elements": []}]


async def test_thread_fork_creates_new_thread_and_emits_started(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    conversation_id = create_fake_rollout(
        codex_home, "2025-01-05T12-00-00", "2025-01-05T12:00:00Z", PREVIEW, "mock_provider"
    )
    original_path = (
        codex_home / "sessions/2025/01/05" / f"rollout-2025-01-05T12-00-00-{conversation_id}.jsonl"
    )
    assert _exists(original_path)
    original_contents = _read(original_path)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()

    thread = (await mcp.request("thread/fork", {"threadId": conversation_id}))["thread"]
    assert "name" in thread and thread["name"] is None, "forked threads do not inherit a name"
    assert _read(original_path) == original_contents, "fork should not mutate the original"
    assert thread["id"] != conversation_id
    assert thread["forkedFromId"] == conversation_id
    assert thread["preview"] == PREVIEW
    assert thread["modelProvider"] == "mock_provider"
    assert thread["status"] == {"type": "idle"}
    thread_path = Path(thread["path"])
    assert thread_path.is_absolute()
    assert thread_path != original_path
    assert Path(thread["cwd"]).is_absolute()
    assert thread["source"] == "vscode"
    _assert_single_user_turn(thread, "interrupted")

    started = await _started_without_status_change(mcp, thread["id"])
    assert "name" in started["thread"] and started["thread"]["name"] is None
    assert started["thread"] == thread
    await server.stop()


async def test_thread_fork_rejects_unmaterialized_thread(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = (await start_thread(mcp))["thread"]
    error = await mcp.request_error("thread/fork", {"threadId": thread["id"]})
    assert "no rollout found for thread id" in error["message"], error["message"]
    await server.stop()


async def test_thread_fork_ephemeral_remains_pathless_and_omits_listing(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    conversation_id = create_fake_rollout(
        codex_home, "2025-01-05T12-00-00", "2025-01-05T12:00:00Z", PREVIEW, "mock_provider"
    )
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = (await mcp.request("thread/fork", {"threadId": conversation_id, "ephemeral": True}))[
        "thread"
    ]
    fork_thread_id = thread["id"]
    assert thread["ephemeral"] is True, "ephemeral forks should be marked explicitly"
    assert thread["path"] is None, "ephemeral forks should not expose a path"
    assert thread["preview"] == PREVIEW
    assert thread["status"] == {"type": "idle"}
    assert thread["name"] is None
    _assert_single_user_turn(thread, "completed")

    started = await _started_without_status_change(mcp, fork_thread_id)
    assert started["thread"]["ephemeral"] is True
    assert started["thread"] == thread

    listed = await mcp.request("thread/list", {"limit": 10})
    ids = [candidate["id"] for candidate in listed["data"]]
    assert fork_thread_id not in ids, "ephemeral forks should not appear in thread/list"
    assert conversation_id in ids, "persistent source thread should remain listed"

    await run_turn(mcp, fork_thread_id, "continue")
    await server.stop()
