"""pytest twins of upstream `app-server/tests/suite/v2/thread_read.rs` (7 tests).

Each twin keeps the upstream name, drives the real `parley app-server` over stdio against a
local mock Responses server, seeds rollout files exactly as upstream's harness does
(`support.rollout`), and asserts what upstream asserts. Nothing here is out of scope.
"""

from __future__ import annotations

from pathlib import Path

from support.app_server import AppServerProcess, SpawnAppServer
from support.mock_responses import MockResponsesServer
from support.rollout import create_fake_rollout_with_text_elements
from support.sse import ev_failed, sse
from support.thread_harness import (
    create_config_toml,
    create_mock_responses_server_repeating_assistant,
    start_thread,
    text_input,
)

TEXT_ELEMENTS = [{"byte_range": {"start": 0, "end": 5}, "placeholder": "<note>"}]


def _exists(path: str) -> bool:
    return Path(path).exists()


async def _seeded(
    spawn_app_server: SpawnAppServer, codex_home: Path, elements: list[dict[str, object]]
) -> tuple[AppServerProcess, MockResponsesServer, str]:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    conversation_id = create_fake_rollout_with_text_elements(
        codex_home,
        "2025-01-05T12-00-00",
        "2025-01-05T12:00:00Z",
        "Saved user message",
        elements,
        "mock_provider",
    )
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    return mcp, server, conversation_id


async def test_thread_read_returns_summary_without_turns(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    mcp, server, conversation_id = await _seeded(spawn_app_server, codex_home, TEXT_ELEMENTS)
    thread = (
        await mcp.request("thread/read", {"threadId": conversation_id, "includeTurns": False})
    )["thread"]
    assert thread["id"] == conversation_id
    assert thread["preview"] == "Saved user message"
    assert thread["modelProvider"] == "mock_provider"
    assert thread["ephemeral"] is False, "stored rollouts should not be ephemeral"
    assert Path(thread["path"]).is_absolute()
    assert thread["cwd"] == "/"
    assert thread["cliVersion"] == "0.0.0"
    assert thread["source"] == "cli"
    assert thread["gitInfo"] is None
    assert thread["turns"] == []
    assert thread["status"] == {"type": "notLoaded"}
    await server.stop()


async def test_thread_read_can_include_turns(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    mcp, server, conversation_id = await _seeded(spawn_app_server, codex_home, TEXT_ELEMENTS)
    thread = (
        await mcp.request("thread/read", {"threadId": conversation_id, "includeTurns": True})
    )["thread"]
    assert len(thread["turns"]) == 1
    turn = thread["turns"][0]
    assert turn["status"] == "completed"
    assert len(turn["items"]) == 1, "expected user message item"
    item = turn["items"][0]
    assert item["type"] == "userMessage"
    assert item["content"] == [
        {
            "type": "text",
            "text": "Saved user message",
            "text_elements": [{"byteRange": {"start": 0, "end": 5}, "placeholder": "<note>"}],
        }
    ]
    assert thread["status"] == {"type": "notLoaded"}
    await server.stop()


async def test_thread_read_returns_forked_from_id_for_forked_threads(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    mcp, server, conversation_id = await _seeded(spawn_app_server, codex_home, [])
    forked = (await mcp.request("thread/fork", {"threadId": conversation_id}))["thread"]
    thread = (await mcp.request("thread/read", {"threadId": forked["id"], "includeTurns": False}))[
        "thread"
    ]
    assert thread["forkedFromId"] == conversation_id
    await server.stop()


async def test_thread_read_loaded_thread_returns_precomputed_path_before_materialization(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = (await start_thread(mcp))["thread"]
    thread_path = thread["path"]
    assert thread_path is not None
    assert not _exists(thread_path), "fresh thread rollout should not be materialized yet"
    read = (await mcp.request("thread/read", {"threadId": thread["id"], "includeTurns": False}))[
        "thread"
    ]
    assert read["id"] == thread["id"]
    assert read["path"] == thread_path
    assert read["preview"] == ""
    assert read["turns"] == []
    assert read["status"] == {"type": "idle"}
    await server.stop()


async def test_thread_name_set_is_reflected_in_read_list_and_resume(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    mcp, server, conversation_id = await _seeded(spawn_app_server, codex_home, [])
    new_name = "My renamed thread"
    assert (
        await mcp.request("thread/name/set", {"threadId": conversation_id, "name": new_name})
    ) == {}
    notification = await mcp.read_notification("thread/name/updated")
    assert notification["threadId"] == conversation_id
    assert notification["threadName"] == new_name

    thread = (
        await mcp.request("thread/read", {"threadId": conversation_id, "includeTurns": False})
    )["thread"]
    assert thread["id"] == conversation_id
    assert thread["name"] == new_name, "thread/read must serialize `thread.name` on the wire"
    assert thread["ephemeral"] is False

    listed = await mcp.request("thread/list", {"limit": 50, "modelProviders": ["mock_provider"]})
    match = [t for t in listed["data"] if t["id"] == conversation_id]
    assert match, "thread/list should include the created thread"
    assert match[0]["name"] == new_name
    assert match[0]["ephemeral"] is False

    resumed = (await mcp.request("thread/resume", {"threadId": conversation_id}))["thread"]
    assert resumed["id"] == conversation_id
    assert resumed["name"] == new_name
    assert resumed["ephemeral"] is False
    await server.stop()


async def test_thread_read_include_turns_rejects_unmaterialized_loaded_thread(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = (await start_thread(mcp))["thread"]
    assert not _exists(thread["path"]), "fresh thread rollout should not be materialized yet"
    error = await mcp.request_error("thread/read", {"threadId": thread["id"], "includeTurns": True})
    assert "includeTurns is unavailable before first user message" in error["message"]
    await server.stop()


async def test_thread_read_reports_system_error_idle_flag_after_failed_turn(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await MockResponsesServer(
        [sse([ev_failed("resp-1", "server_error", "simulated failure")])]
    ).start()
    create_config_toml(codex_home, server.uri)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = (await start_thread(mcp))["thread"]
    await mcp.request(
        "turn/start", {"threadId": thread["id"], "input": text_input("fail this turn")}
    )
    await mcp.read_notification("error")
    read = (await mcp.request("thread/read", {"threadId": thread["id"], "includeTurns": False}))[
        "thread"
    ]
    assert read["status"] == {"type": "systemError"}
    await server.stop()
