"""pytest twins of upstream `app-server/tests/suite/v2/thread_metadata_update.rs` (6 tests).

Patching a thread's Git metadata works for loaded, stored and archived threads and is kept
where the Codex CLI reads it too (the rollout's `session_meta`). Three upstream tests are about
"repairing" a row missing from the reference's private SQLite state DB; Parley keeps no such
row (its listing index is rebuilt from the files), so their twins check the same outcome on a
thread whose index entry is missing: the index file is deleted before the update.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from support.app_server import AppServerProcess, SpawnAppServer
from support.rollout import create_fake_rollout, rollout_path
from support.thread_harness import (
    create_config_toml,
    create_mock_responses_server_repeating_assistant,
    start_thread,
)

INDEX_FILE = "parley_thread_index.sqlite"


def drop_index(codex_home: Path) -> None:
    (codex_home / INDEX_FILE).unlink(missing_ok=True)


async def ready(spawn_app_server: SpawnAppServer, codex_home: Path) -> AppServerProcess:
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    return mcp


async def update(mcp: AppServerProcess, thread_id: str, git_info: dict[str, Any]) -> Any:
    return (
        await mcp.request("thread/metadata/update", {"threadId": thread_id, "gitInfo": git_info})
    )["thread"]


def git(sha: str | None = None, branch: str | None = None, origin: str | None = None) -> Any:
    return {"sha": sha, "branch": branch, "originUrl": origin}


async def test_thread_metadata_update_patches_git_branch_and_returns_updated_thread(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    mcp = await ready(spawn_app_server, codex_home)
    thread = (await start_thread(mcp))["thread"]
    updated = await update(mcp, thread["id"], {"branch": "feature/sidebar-pr"})
    assert updated["id"] == thread["id"]
    assert updated["gitInfo"] == git(branch="feature/sidebar-pr")
    assert updated["status"] == {"type": "idle"}
    read = (await mcp.request("thread/read", {"threadId": thread["id"]}))["thread"]
    assert read["gitInfo"] == git(branch="feature/sidebar-pr")
    assert read["status"] == {"type": "idle"}
    await server.stop()


async def test_thread_metadata_update_rejects_empty_git_info_patch(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    mcp = await ready(spawn_app_server, codex_home)
    thread = (await start_thread(mcp))["thread"]
    error = await mcp.request_error(
        "thread/metadata/update", {"threadId": thread["id"], "gitInfo": {}}
    )
    assert error["message"] == "gitInfo must include at least one field"
    await server.stop()


async def test_thread_metadata_update_repairs_missing_sqlite_row_for_stored_thread(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    drop_index(codex_home)
    preview = "Stored thread preview"
    thread_id = create_fake_rollout(
        codex_home, "2025-01-05T12-00-00", "2025-01-05T12:00:00Z", preview, "mock_provider"
    )
    mcp = await ready(spawn_app_server, codex_home)
    updated = await update(mcp, thread_id, {"branch": "feature/stored-thread"})
    assert updated["id"] == thread_id
    assert updated["preview"] == preview
    assert updated["createdAt"] == 1736078400
    assert updated["gitInfo"] == git(branch="feature/stored-thread")
    await server.stop()


async def test_thread_metadata_update_repairs_loaded_thread_without_resetting_summary(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    preview = "Loaded thread preview"
    thread_id = create_fake_rollout(
        codex_home, "2025-01-06T08-30-00", "2025-01-06T08:30:00Z", preview, "mock_provider"
    )
    mcp = await ready(spawn_app_server, codex_home)
    await mcp.request("thread/list", {"modelProviders": ["mock_provider"]})  # index it
    await mcp.request("thread/resume", {"threadId": thread_id})
    drop_index(codex_home)
    updated = await update(mcp, thread_id, {"branch": "feature/loaded-thread"})
    assert updated["id"] == thread_id
    assert updated["preview"] == preview
    assert updated["createdAt"] == 1736152200
    assert updated["gitInfo"] == git(branch="feature/loaded-thread")
    await server.stop()


async def test_thread_metadata_update_repairs_missing_sqlite_row_for_archived_thread(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    preview = "Archived thread preview"
    thread_id = create_fake_rollout(
        codex_home, "2025-01-06T08-30-00", "2025-01-06T08:30:00Z", preview, "mock_provider"
    )
    archived_dir = codex_home / "archived_sessions"
    archived_dir.mkdir(parents=True)
    source = rollout_path(codex_home, "2025-01-06T08-30-00", thread_id)
    shutil.move(source, archived_dir / source.name)
    mcp = await ready(spawn_app_server, codex_home)
    updated = await update(mcp, thread_id, {"branch": "feature/archived-thread"})
    assert updated["id"] == thread_id
    assert updated["preview"] == preview
    assert updated["createdAt"] == 1736152200
    assert updated["gitInfo"] == git(branch="feature/archived-thread")
    await server.stop()


async def test_thread_metadata_update_can_clear_stored_git_fields(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    thread_id = create_fake_rollout(
        codex_home,
        "2025-01-07T09-15-00",
        "2025-01-07T09:15:00Z",
        "Thread preview",
        "mock_provider",
        {
            "commit_hash": "abc123",
            "branch": "feature/sidebar-pr",
            "repository_url": "git@example.com:openai/codex.git",
        },
    )
    mcp = await ready(spawn_app_server, codex_home)
    updated = await update(mcp, thread_id, {"sha": None, "branch": None, "originUrl": None})
    assert updated["id"] == thread_id
    assert updated["gitInfo"] is None
    read = (await mcp.request("thread/read", {"threadId": thread_id}))["thread"]
    assert read["gitInfo"] is None
    await server.stop()
