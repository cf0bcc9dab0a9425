"""pytest twin of upstream `app-server/tests/suite/v2/thread_rollback.rs` (1 test): rolling back
drops the last turns from the thread and, through its rollout, from a later resume. Nothing here
is out of scope.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer
from support.sse import create_final_assistant_message_sse_response
from support.thread_harness import create_config_toml, run_turn, start_thread


def _assert_first_turn_only(thread: dict[str, Any]) -> None:
    assert len(thread["turns"]) == 1
    assert thread["status"] == {"type": "idle"}
    items = thread["turns"][0]["items"]
    assert len(items) == 2
    assert items[0]["type"] == "userMessage"
    assert items[0]["content"] == [{"type": "text", "text": "First", "text_elements": []}]


async def test_thread_rollback_drops_last_turns_and_persists_to_rollout(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await MockResponsesServer(
        [create_final_assistant_message_sse_response("Done") for _ in range(3)]
    ).start()
    create_config_toml(codex_home, server.uri)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = (await start_thread(mcp))["thread"]
    await run_turn(mcp, thread["id"], "First")
    await run_turn(mcp, thread["id"], "Second")

    result = await mcp.request("thread/rollback", {"threadId": thread["id"], "numTurns": 1})
    rolled_back = result["thread"]
    assert "name" in rolled_back and rolled_back["name"] is None
    _assert_first_turn_only(rolled_back)

    resumed = (await mcp.request("thread/resume", {"threadId": thread["id"]}))["thread"]
    _assert_first_turn_only(resumed)
    await server.stop()
