"""pytest twins of upstream `app-server/tests/suite/v2/thread_name_websocket.rs` (2 tests):
naming a thread, loaded or only stored, is announced to every WebSocket client and recorded once
in its rollout (a `thread_name_updated` event). Nothing here is out of scope.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.app_server import AppServerProcess, SpawnAppServer
from support.rollout import create_fake_rollout_with_text_elements, find_thread_path_by_id_str
from support.thread_harness import (
    create_config_toml,
    create_mock_responses_server_repeating_assistant,
)
from support.ws_client import WsRpcClient, free_port


def create_rollout(codex_home: Path, filename_ts: str) -> str:
    return create_fake_rollout_with_text_elements(
        codex_home, filename_ts, "2025-01-05T12:00:00Z", "Saved user message", [], "mock_provider"
    )


def assert_thread_name_updated(notification: dict[str, Any], thread_id: str, name: str) -> None:
    assert notification["params"]["threadId"] == thread_id
    assert notification["params"]["threadName"] == name


def thread_name_update_rollout_count(codex_home: Path, conversation_id: str) -> int:
    path = find_thread_path_by_id_str(codex_home, conversation_id)
    assert path is not None, "rollout path"
    count = 0
    for line in path.read_text().splitlines():
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue
        payload = value.get("payload") or {}
        if value.get("type") == "event_msg" and payload.get("type") == "thread_name_updated":
            count += 1
    return count


async def spawn_websocket_server(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> tuple[AppServerProcess, int]:
    port = free_port()
    process = await spawn_app_server(
        codex_home=codex_home, args=["--listen", f"ws://127.0.0.1:{port}"]
    )
    return process, port


async def initialize_both_clients(ws1: WsRpcClient, ws2: WsRpcClient) -> None:
    await ws1.initialize("ws1")
    await ws2.initialize("ws2")


async def test_thread_name_updated_broadcasts_for_loaded_threads(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    conversation_id = create_rollout(codex_home, "2025-01-05T12-00-00")
    _process, port = await spawn_websocket_server(spawn_app_server, codex_home)
    ws1 = await WsRpcClient.connect(port)
    ws2 = await WsRpcClient.connect(port)
    await initialize_both_clients(ws1, ws2)

    await ws1.send_request("thread/resume", 10, {"threadId": conversation_id})
    resume = await ws1.read_response_for_id(10)
    assert resume["result"]["thread"]["id"] == conversation_id

    renamed = "Loaded rename"
    await ws1.send_request("thread/name/set", 11, {"threadId": conversation_id, "name": renamed})
    await ws1.read_response_for_id(11)
    assert_thread_name_updated(
        await ws1.read_notification_for_method("thread/name/updated"), conversation_id, renamed
    )
    assert_thread_name_updated(
        await ws2.read_notification_for_method("thread/name/updated"), conversation_id, renamed
    )
    assert thread_name_update_rollout_count(codex_home, conversation_id) == 1
    await ws1.close()
    await ws2.close()
    await server.stop()


async def test_thread_name_updated_broadcasts_for_not_loaded_threads(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await create_mock_responses_server_repeating_assistant("Done")
    create_config_toml(codex_home, server.uri)
    conversation_id = create_rollout(codex_home, "2025-01-05T12-05-00")
    _process, port = await spawn_websocket_server(spawn_app_server, codex_home)
    ws1 = await WsRpcClient.connect(port)
    ws2 = await WsRpcClient.connect(port)
    await initialize_both_clients(ws1, ws2)

    renamed = "Stored rename"
    await ws1.send_request("thread/name/set", 20, {"threadId": conversation_id, "name": renamed})
    await ws1.read_response_for_id(20)
    assert_thread_name_updated(
        await ws1.read_notification_for_method("thread/name/updated"), conversation_id, renamed
    )
    assert_thread_name_updated(
        await ws2.read_notification_for_method("thread/name/updated"), conversation_id, renamed
    )
    assert thread_name_update_rollout_count(codex_home, conversation_id) == 1
    await ws1.close()
    await ws2.close()
    await server.stop()
