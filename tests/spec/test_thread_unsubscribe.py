"""pytest twins of upstream `app-server/tests/suite/v2/thread_unsubscribe.rs` (4 tests): the last
subscriber leaving unloads the thread (`thread/closed`, then `notLoaded`), interrupting a running
turn; a later resume starts from the rollout. Nothing here is out of scope.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from support.app_server import AppServerProcess, SpawnAppServer
from support.mock_responses import MockResponsesServer
from support.sse import (
    create_final_assistant_message_sse_response,
    create_shell_command_sse_response,
    ev_failed,
    sse,
)
from support.thread_harness import (
    config_contents,
    create_mock_responses_server_repeating_assistant,
    text_input,
)


def create_config_toml(codex_home: Path, server_uri: str) -> None:
    text = config_contents(server_uri).replace(
        'sandbox_mode = "read-only"', 'sandbox_mode = "danger-full-access"'
    )
    (codex_home / "config.toml").write_text(text)


async def start_thread(mcp: AppServerProcess) -> str:
    result = await mcp.request("thread/start", {"model": "mock-model"})
    thread_id: str = result["thread"]["id"]
    return thread_id


async def wait_for_command_execution_item_started(mcp: AppServerProcess) -> None:
    while True:
        started = await mcp.read_notification("item/started")
        if started["item"]["type"] == "commandExecution":
            return


async def wait_for_thread_status_not_loaded(mcp: AppServerProcess, thread_id: str) -> Any:
    while True:
        changed = await mcp.read_notification("thread/status/changed")
        if changed["threadId"] == thread_id and changed["status"] == {"type": "notLoaded"}:
            return changed


async def wait_for_responses_request_count_to_stabilize(
    server: MockResponsesServer, expected_count: int, settle_seconds: float
) -> None:
    """Upstream's helper: the count reaches `expected_count` and stays there a while."""
    loop = asyncio.get_running_loop()
    stable_since: float | None = None
    deadline = loop.time() + 10
    while loop.time() < deadline:
        count = len(server.responses_request_records())
        assert count <= expected_count, f"expected exactly {expected_count} requests, got {count}"
        if count == expected_count:
            if stable_since is None:
                stable_since = loop.time()
            elif loop.time() - stable_since >= settle_seconds:
                return
        else:
            stable_since = None
        await asyncio.sleep(0.01)
    raise AssertionError("the /responses request count did not settle")


async def _ready(
    spawn_app_server: SpawnAppServer, codex_home: Path, server: MockResponsesServer
) -> AppServerProcess:
    create_config_toml(codex_home, server.uri)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    return mcp


async def test_thread_unsubscribe_unloads_thread_and_emits_thread_closed_notification(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    mcp = await _ready(spawn_app_server, codex_home, server)
    thread_id = await start_thread(mcp)
    result = await mcp.request("thread/unsubscribe", {"threadId": thread_id})
    assert result["status"] == "unsubscribed"
    closed = await mcp.read_notification("thread/closed")
    assert closed["threadId"] == thread_id
    changed = await wait_for_thread_status_not_loaded(mcp, thread_id)
    assert changed["threadId"] == thread_id
    assert changed["status"] == {"type": "notLoaded"}
    loaded = await mcp.request("thread/loaded/list", {})
    assert loaded["data"] == []
    assert loaded["nextCursor"] is None
    await server.stop()


async def test_thread_unsubscribe_during_turn_interrupts_turn_and_emits_thread_closed(
    spawn_app_server: SpawnAppServer, tmp_path: Path
) -> None:
    codex_home = tmp_path / "codex_home"
    codex_home.mkdir()
    working_directory = tmp_path / "workdir"
    working_directory.mkdir()
    server = await MockResponsesServer(
        [
            create_shell_command_sse_response(
                ["sleep", "10"], str(working_directory), 10_000, "call_sleep"
            ),
            create_final_assistant_message_sse_response("Done"),
        ]
    ).start()
    mcp = await _ready(spawn_app_server, codex_home, server)
    thread_id = await start_thread(mcp)
    await mcp.request(
        "turn/start",
        {"threadId": thread_id, "input": text_input("run sleep"), "cwd": str(working_directory)},
    )
    await wait_for_command_execution_item_started(mcp)
    result = await mcp.request("thread/unsubscribe", {"threadId": thread_id})
    assert result["status"] == "unsubscribed"
    closed = await mcp.read_notification("thread/closed")
    assert closed["threadId"] == thread_id
    await wait_for_responses_request_count_to_stabilize(server, 1, 0.2)
    await server.stop()


async def test_thread_unsubscribe_clears_cached_status_before_resume(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await MockResponsesServer(
        [sse([ev_failed("resp-1", "server_error", "simulated failure")])]
    ).start()
    mcp = await _ready(spawn_app_server, codex_home, server)
    thread_id = await start_thread(mcp)
    await mcp.request("turn/start", {"threadId": thread_id, "input": text_input("fail this turn")})
    await mcp.read_notification("error")
    read = await mcp.request("thread/read", {"threadId": thread_id, "includeTurns": False})
    assert read["thread"]["status"] == {"type": "systemError"}
    result = await mcp.request("thread/unsubscribe", {"threadId": thread_id})
    assert result["status"] == "unsubscribed"
    await mcp.read_notification("thread/closed")
    resume = await mcp.request("thread/resume", {"threadId": thread_id})
    assert resume["thread"]["status"] == {"type": "idle"}
    await server.stop()


async def test_thread_unsubscribe_reports_not_loaded_after_thread_is_unloaded(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    mcp = await _ready(spawn_app_server, codex_home, server)
    thread_id = await start_thread(mcp)
    first = await mcp.request("thread/unsubscribe", {"threadId": thread_id})
    assert first["status"] == "unsubscribed"
    await mcp.read_notification("thread/closed")
    second = await mcp.request("thread/unsubscribe", {"threadId": thread_id})
    assert second["status"] == "notLoaded"
    await server.stop()
