"""pytest twins of upstream `app-server/tests/suite/v2/thread_list.rs` (21 tests).

Rollouts are seeded exactly as upstream's harness writes them (`support.rollout`) and listed
through the real `parley app-server` over stdio. `thread_list_respects_search_term_filter` seeds
the reference's private SQLite state DB upstream; its twin tests the same behaviour on Parley's
own index (which needs no seeding: it is rebuilt from the files). Nothing here is out of scope.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from support.app_server import AppServerProcess, SpawnAppServer
from support.mock_responses import MockResponsesServer
from support.rollout import (
    create_fake_rollout,
    create_fake_rollout_with_source,
    rollout_path,
    set_mtime,
)
from support.sse import create_final_assistant_message_sse_response, ev_failed, sse
from support.thread_harness import (
    create_config_toml,
    create_minimal_config,
    start_thread,
    text_input,
)

Json = dict[str, Any]
MOCK = ["mock_provider"]


async def init_mcp(spawn_app_server: SpawnAppServer, codex_home: Path) -> AppServerProcess:
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    return mcp


async def list_threads(
    mcp: AppServerProcess,
    cursor: str | None,
    limit: int | None,
    providers: list[str] | None,
    source_kinds: list[str] | None,
    archived: bool | None,
    sort_key: str | None = None,
) -> Json:
    params: Json = {
        "cursor": cursor,
        "limit": limit,
        "sortKey": sort_key,
        "modelProviders": providers,
        "sourceKinds": source_kinds,
        "archived": archived,
        "cwd": None,
        "searchTerm": None,
    }
    result: Json = await mcp.request("thread/list", params)
    return result


def create_fake_rollouts(
    codex_home: Path,
    count: int,
    provider_for_index: Callable[[int], str],
    timestamp_for_index: Callable[[int], tuple[str, str]],
    preview: str,
) -> list[str]:
    ids = []
    for i in range(count):
        ts_file, ts_rfc = timestamp_for_index(i)
        ids.append(create_fake_rollout(codex_home, ts_file, ts_rfc, preview, provider_for_index(i)))
    return ids


def timestamp_at(
    year: int, month: int, day: int, hour: int, minute: int, second: int
) -> tuple[str, str]:
    return (
        f"{year:04}-{month:02}-{day:02}T{hour:02}-{minute:02}-{second:02}",
        f"{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z",
    )


def set_rollout_cwd(path: Path, cwd: Path) -> None:
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    assert first["type"] == "session_meta", f"rollout at {path} does not start with session meta"
    first["payload"]["cwd"] = str(cwd)
    lines[0] = json.dumps(first, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")


def rfc_seconds(text: str) -> int:
    import datetime as dt

    return int(dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def ids_of(page: Json) -> list[str]:
    return [thread["id"] for thread in page["data"]]


def by_uuid_desc(ids: list[str]) -> list[str]:
    return sorted(ids, key=uuid.UUID, reverse=True)


async def test_thread_list_basic_empty(spawn_app_server: SpawnAppServer, codex_home: Path) -> None:
    create_minimal_config(codex_home)
    mcp = await init_mcp(spawn_app_server, codex_home)
    page = await list_threads(mcp, None, 10, MOCK, None, None)
    assert page["data"] == []
    assert page["nextCursor"] is None


async def test_thread_list_reports_system_error_idle_flag_after_failed_turn(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await MockResponsesServer(
        [
            create_final_assistant_message_sse_response("seeded"),
            sse([ev_failed("resp-2", "server_error", "simulated failure")]),
        ]
    ).start()
    create_config_toml(codex_home, server.uri)
    mcp = await init_mcp(spawn_app_server, codex_home)
    thread = (await start_thread(mcp))["thread"]
    await mcp.request("turn/start", {"threadId": thread["id"], "input": text_input("seed history")})
    await mcp.read_notification("turn/completed")
    await mcp.request("turn/start", {"threadId": thread["id"], "input": text_input("fail turn")})
    await mcp.read_notification("error")
    page = await list_threads(mcp, None, 10, MOCK, ["appServer", "cli", "vscode"], None)
    listed = [t for t in page["data"] if t["id"] == thread["id"]]
    assert listed, "expected started thread to be listed"
    assert listed[0]["status"] == {"type": "systemError"}
    await server.stop()


def _assert_hello_summary(thread: Json) -> None:
    assert thread["preview"] == "Hello"
    assert thread["modelProvider"] == "mock_provider"
    assert thread["createdAt"] > 0
    assert thread["updatedAt"] == thread["createdAt"]
    assert thread["cwd"] == "/"
    assert thread["cliVersion"] == "0.0.0"
    assert thread["source"] == "cli"
    assert thread["gitInfo"] is None
    assert thread["status"] == {"type": "notLoaded"}


async def test_thread_list_pagination_next_cursor_none_on_last_page(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    create_fake_rollout(
        codex_home, "2025-01-02T12-00-00", "2025-01-02T12:00:00Z", "Hello", "mock_provider"
    )
    create_fake_rollout(
        codex_home, "2025-01-01T13-00-00", "2025-01-01T13:00:00Z", "Hello", "mock_provider"
    )
    create_fake_rollout(
        codex_home, "2025-01-01T12-00-00", "2025-01-01T12:00:00Z", "Hello", "mock_provider"
    )
    mcp = await init_mcp(spawn_app_server, codex_home)
    page1 = await list_threads(mcp, None, 2, MOCK, None, None)
    assert len(page1["data"]) == 2
    for thread in page1["data"]:
        _assert_hello_summary(thread)
    cursor1 = page1["nextCursor"]
    assert cursor1 is not None, "expected nextCursor on first page"
    page2 = await list_threads(mcp, cursor1, 2, MOCK, None, None)
    assert len(page2["data"]) <= 2
    for thread in page2["data"]:
        _assert_hello_summary(thread)
    assert page2["nextCursor"] is None, "expected nextCursor to be null on last page"


async def test_thread_list_respects_provider_filter(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    create_fake_rollout(
        codex_home, "2025-01-02T10-00-00", "2025-01-02T10:00:00Z", "X", "mock_provider"
    )
    create_fake_rollout(
        codex_home, "2025-01-02T11-00-00", "2025-01-02T11:00:00Z", "X", "other_provider"
    )
    mcp = await init_mcp(spawn_app_server, codex_home)
    page = await list_threads(mcp, None, 10, ["other_provider"], None, None)
    assert len(page["data"]) == 1
    assert page["nextCursor"] is None
    thread = page["data"][0]
    assert thread["preview"] == "X"
    assert thread["modelProvider"] == "other_provider"
    expected_ts = rfc_seconds("2025-01-02T11:00:00Z")
    assert thread["createdAt"] == expected_ts
    assert thread["updatedAt"] == expected_ts
    assert thread["cwd"] == "/"
    assert thread["cliVersion"] == "0.0.0"
    assert thread["source"] == "cli"
    assert thread["gitInfo"] is None


async def test_thread_list_respects_cwd_filter(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    filtered_id = create_fake_rollout(
        codex_home, "2025-01-02T10-00-00", "2025-01-02T10:00:00Z", "filtered", "mock_provider"
    )
    unfiltered_id = create_fake_rollout(
        codex_home, "2025-01-02T11-00-00", "2025-01-02T11:00:00Z", "unfiltered", "mock_provider"
    )
    target_cwd = codex_home / "target-cwd"
    target_cwd.mkdir(parents=True)
    set_rollout_cwd(rollout_path(codex_home, "2025-01-02T10-00-00", filtered_id), target_cwd)
    mcp = await init_mcp(spawn_app_server, codex_home)
    page = await mcp.request(
        "thread/list",
        {"limit": 10, "modelProviders": MOCK, "cwd": str(target_cwd)},
    )
    assert page["nextCursor"] is None
    assert len(page["data"]) == 1
    assert page["data"][0]["id"] == filtered_id
    assert page["data"][0]["id"] != unfiltered_id
    assert page["data"][0]["cwd"] == str(target_cwd)


async def test_thread_list_respects_search_term_filter(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    (codex_home / "config.toml").write_text(
        '\nmodel = "mock-model"\napproval_policy = "never"\n'
        "suppress_unstable_features_warning = true\n\n[features]\nsqlite = true\n"
    )
    older_match = create_fake_rollout(
        codex_home, "2025-01-02T10-00-00", "2025-01-02T10:00:00Z", "match: needle", "mock_provider"
    )
    create_fake_rollout(
        codex_home, "2025-01-02T11-00-00", "2025-01-02T11:00:00Z", "no hit here", "mock_provider"
    )
    newer_match = create_fake_rollout(
        codex_home, "2025-01-02T12-00-00", "2025-01-02T12:00:00Z", "needle suffix", "mock_provider"
    )
    # Upstream seeds the reference's state DB here; Parley's index is rebuilt from the files.
    mcp = await init_mcp(spawn_app_server, codex_home)
    page = await mcp.request(
        "thread/list", {"limit": 10, "modelProviders": MOCK, "searchTerm": "needle"}
    )
    assert page["nextCursor"] is None
    assert ids_of(page) == [newer_match, older_match]


async def test_thread_list_empty_source_kinds_defaults_to_interactive_only(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    cli_id = create_fake_rollout(
        codex_home, "2025-02-01T10-00-00", "2025-02-01T10:00:00Z", "CLI", "mock_provider"
    )
    exec_id = create_fake_rollout_with_source(
        codex_home,
        "2025-02-01T11-00-00",
        "2025-02-01T11:00:00Z",
        "Exec",
        "mock_provider",
        None,
        "exec",
    )
    mcp = await init_mcp(spawn_app_server, codex_home)
    page = await list_threads(mcp, None, 10, MOCK, [], None)
    assert page["nextCursor"] is None
    assert ids_of(page) == [cli_id]
    assert cli_id != exec_id
    assert page["data"][0]["source"] == "cli"


def _thread_spawn(parent: str) -> Json:
    return {
        "subagent": {
            "thread_spawn": {
                "parent_thread_id": parent,
                "depth": 1,
                "agent_path": None,
                "agent_nickname": None,
                "agent_role": None,
            }
        }
    }


async def test_thread_list_filters_by_source_kind_subagent_thread_spawn(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    cli_id = create_fake_rollout(
        codex_home, "2025-02-01T10-00-00", "2025-02-01T10:00:00Z", "CLI", "mock_provider"
    )
    subagent_id = create_fake_rollout_with_source(
        codex_home,
        "2025-02-01T11-00-00",
        "2025-02-01T11:00:00Z",
        "SubAgent",
        "mock_provider",
        None,
        _thread_spawn(str(uuid.uuid4())),
    )
    mcp = await init_mcp(spawn_app_server, codex_home)
    page = await list_threads(mcp, None, 10, MOCK, ["subAgentThreadSpawn"], None)
    assert page["nextCursor"] is None
    assert ids_of(page) == [subagent_id]
    assert cli_id != subagent_id
    assert "subAgent" in page["data"][0]["source"]


async def test_thread_list_filters_by_subagent_variant(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    parent = str(uuid.uuid4())
    review_id = create_fake_rollout_with_source(
        codex_home,
        "2025-02-02T09-00-00",
        "2025-02-02T09:00:00Z",
        "Review",
        "mock_provider",
        None,
        {"subagent": "review"},
    )
    compact_id = create_fake_rollout_with_source(
        codex_home,
        "2025-02-02T10-00-00",
        "2025-02-02T10:00:00Z",
        "Compact",
        "mock_provider",
        None,
        {"subagent": "compact"},
    )
    spawn_id = create_fake_rollout_with_source(
        codex_home,
        "2025-02-02T11-00-00",
        "2025-02-02T11:00:00Z",
        "Spawn",
        "mock_provider",
        None,
        _thread_spawn(parent),
    )
    other_id = create_fake_rollout_with_source(
        codex_home,
        "2025-02-02T12-00-00",
        "2025-02-02T12:00:00Z",
        "Other",
        "mock_provider",
        None,
        {"subagent": {"other": "custom"}},
    )
    mcp = await init_mcp(spawn_app_server, codex_home)
    for kind, expected in (
        ("subAgentReview", review_id),
        ("subAgentCompact", compact_id),
        ("subAgentThreadSpawn", spawn_id),
        ("subAgentOther", other_id),
    ):
        page = await list_threads(mcp, None, 10, MOCK, [kind], None)
        assert ids_of(page) == [expected], kind


async def test_thread_list_fetches_until_limit_or_exhausted(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    create_fake_rollouts(
        codex_home,
        24,
        lambda i: "skip_provider" if i < 16 else "target_provider",
        lambda i: timestamp_at(2025, 3, 30 - i, 12, 0, 0),
        "Hello",
    )
    mcp = await init_mcp(spawn_app_server, codex_home)
    page = await list_threads(mcp, None, 8, ["target_provider"], None, None)
    assert len(page["data"]) == 8, "should keep paging until the requested count is filled"
    assert all(t["modelProvider"] == "target_provider" for t in page["data"])
    assert page["nextCursor"] is None


async def test_thread_list_enforces_max_limit(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    create_fake_rollouts(
        codex_home,
        105,
        lambda _: "mock_provider",
        lambda i: timestamp_at(2025, 5 + i // 28, i % 28 + 1, 0, 0, 0),
        "Hello",
    )
    mcp = await init_mcp(spawn_app_server, codex_home)
    page = await list_threads(mcp, None, 200, MOCK, None, None)
    assert len(page["data"]) == 100, "limit should be clamped to the maximum page size"
    assert page["nextCursor"] is not None


async def test_thread_list_stops_when_not_enough_filtered_results_exist(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    create_fake_rollouts(
        codex_home,
        22,
        lambda i: "skip_provider" if i < 15 else "target_provider",
        lambda i: timestamp_at(2025, 4, 28 - i, 8, 0, 0),
        "Hello",
    )
    mcp = await init_mcp(spawn_app_server, codex_home)
    page = await list_threads(mcp, None, 10, ["target_provider"], None, None)
    assert len(page["data"]) == 7, "all available filtered threads should be returned"
    assert all(t["modelProvider"] == "target_provider" for t in page["data"])
    assert page["nextCursor"] is None


async def test_thread_list_includes_git_info(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    git_info = {
        "commit_hash": "abc123",
        "branch": "main",
        "repository_url": "https://example.com/repo.git",
    }
    conversation_id = create_fake_rollout(
        codex_home,
        "2025-02-01T09-00-00",
        "2025-02-01T09:00:00Z",
        "Git info preview",
        "mock_provider",
        git_info,
    )
    mcp = await init_mcp(spawn_app_server, codex_home)
    page = await list_threads(mcp, None, 10, MOCK, None, None)
    thread = next(t for t in page["data"] if t["id"] == conversation_id)
    assert thread["gitInfo"] == {
        "sha": "abc123",
        "branch": "main",
        "originUrl": "https://example.com/repo.git",
    }
    assert thread["source"] == "cli"
    assert thread["cwd"] == "/"
    assert thread["cliVersion"] == "0.0.0"


async def test_thread_list_default_sorts_by_created_at(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    id_a = create_fake_rollout(
        codex_home, "2025-01-02T12-00-00", "2025-01-02T12:00:00Z", "Hello", "mock_provider"
    )
    id_b = create_fake_rollout(
        codex_home, "2025-01-01T13-00-00", "2025-01-01T13:00:00Z", "Hello", "mock_provider"
    )
    id_c = create_fake_rollout(
        codex_home, "2025-01-01T12-00-00", "2025-01-01T12:00:00Z", "Hello", "mock_provider"
    )
    mcp = await init_mcp(spawn_app_server, codex_home)
    page = await list_threads(mcp, None, 10, MOCK, None, None, sort_key=None)
    assert ids_of(page) == [id_a, id_b, id_c]


def _three_with_mtimes(codex_home: Path, day: str, mtimes: list[str]) -> list[str]:
    ids = []
    for hour, mtime in zip(("10", "11", "12"), mtimes, strict=True):
        ts_file, ts_rfc = f"{day}T{hour}-00-00", f"{day}T{hour}:00:00Z"
        thread_id = create_fake_rollout(codex_home, ts_file, ts_rfc, "Hello", "mock_provider")
        set_mtime(rollout_path(codex_home, ts_file, thread_id), mtime)
        ids.append(thread_id)
    return ids


async def test_thread_list_sort_updated_at_orders_by_mtime(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    id_old, id_mid, id_new = _three_with_mtimes(
        codex_home,
        "2025-01-01",
        ["2025-01-03T00:00:00Z", "2025-01-02T00:00:00Z", "2025-01-01T00:00:00Z"],
    )
    mcp = await init_mcp(spawn_app_server, codex_home)
    page = await list_threads(mcp, None, 10, MOCK, None, None, sort_key="updated_at")
    assert ids_of(page) == [id_old, id_mid, id_new]


async def test_thread_list_updated_at_paginates_with_cursor(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    id_a, id_b, id_c = _three_with_mtimes(
        codex_home,
        "2025-02-01",
        ["2025-02-03T00:00:00Z", "2025-02-02T00:00:00Z", "2025-02-01T00:00:00Z"],
    )
    mcp = await init_mcp(spawn_app_server, codex_home)
    page1 = await list_threads(mcp, None, 2, MOCK, None, None, sort_key="updated_at")
    assert ids_of(page1) == [id_a, id_b]
    cursor1 = page1["nextCursor"]
    assert cursor1 is not None, "expected nextCursor on first page"
    page2 = await list_threads(mcp, cursor1, 2, MOCK, None, None, sort_key="updated_at")
    assert ids_of(page2) == [id_c]
    assert page2["nextCursor"] is None


async def test_thread_list_created_at_tie_breaks_by_uuid(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    id_a = create_fake_rollout(
        codex_home, "2025-02-01T10-00-00", "2025-02-01T10:00:00Z", "Hello", "mock_provider"
    )
    id_b = create_fake_rollout(
        codex_home, "2025-02-01T10-00-00", "2025-02-01T10:00:00Z", "Hello", "mock_provider"
    )
    mcp = await init_mcp(spawn_app_server, codex_home)
    page = await list_threads(mcp, None, 10, MOCK, None, None)
    assert ids_of(page) == by_uuid_desc([id_a, id_b])


async def test_thread_list_updated_at_tie_breaks_by_uuid(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    id_a = create_fake_rollout(
        codex_home, "2025-02-01T10-00-00", "2025-02-01T10:00:00Z", "Hello", "mock_provider"
    )
    id_b = create_fake_rollout(
        codex_home, "2025-02-01T11-00-00", "2025-02-01T11:00:00Z", "Hello", "mock_provider"
    )
    set_mtime(rollout_path(codex_home, "2025-02-01T10-00-00", id_a), "2025-02-03T00:00:00Z")
    set_mtime(rollout_path(codex_home, "2025-02-01T11-00-00", id_b), "2025-02-03T00:00:00Z")
    mcp = await init_mcp(spawn_app_server, codex_home)
    page = await list_threads(mcp, None, 10, MOCK, None, None, sort_key="updated_at")
    assert ids_of(page) == by_uuid_desc([id_a, id_b])


async def test_thread_list_updated_at_uses_mtime(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    thread_id = create_fake_rollout(
        codex_home, "2025-02-01T10-00-00", "2025-02-01T10:00:00Z", "Hello", "mock_provider"
    )
    set_mtime(rollout_path(codex_home, "2025-02-01T10-00-00", thread_id), "2025-02-05T00:00:00Z")
    mcp = await init_mcp(spawn_app_server, codex_home)
    page = await list_threads(mcp, None, 10, MOCK, None, None, sort_key="updated_at")
    thread = next(t for t in page["data"] if t["id"] == thread_id)
    assert thread["createdAt"] == rfc_seconds("2025-02-01T10:00:00Z")
    assert thread["updatedAt"] == rfc_seconds("2025-02-05T00:00:00Z")


async def test_thread_list_archived_filter(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    active_id = create_fake_rollout(
        codex_home, "2025-03-01T10-00-00", "2025-03-01T10:00:00Z", "Active", "mock_provider"
    )
    archived_id = create_fake_rollout(
        codex_home, "2025-03-01T09-00-00", "2025-03-01T09:00:00Z", "Archived", "mock_provider"
    )
    archived_dir = codex_home / "archived_sessions"
    archived_dir.mkdir(parents=True)
    source = rollout_path(codex_home, "2025-03-01T09-00-00", archived_id)
    shutil.move(source, archived_dir / source.name)
    mcp = await init_mcp(spawn_app_server, codex_home)
    page = await list_threads(mcp, None, 10, MOCK, None, None)
    assert ids_of(page) == [active_id]
    page = await list_threads(mcp, None, 10, MOCK, None, True)
    assert ids_of(page) == [archived_id]


async def test_thread_list_invalid_cursor_returns_error(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    create_minimal_config(codex_home)
    mcp = await init_mcp(spawn_app_server, codex_home)
    error = await mcp.request_error(
        "thread/list", {"cursor": "not-a-cursor", "limit": 2, "modelProviders": MOCK}
    )
    assert error["code"] == -32600
    assert error["message"] == "invalid cursor: not-a-cursor"
