"""Voice round trip that edits a file: a realtime (v2, WebSocket) voice model delegates a request
to the background agent, whose delegated turn answers with an `apply_patch` call. The client
sees the `fileChange` item with its diff, the file changes on disk, and the result handed back
to the voice model (the text it is given to speak) summarises the change.

Real sockets throughout: the scripted Realtime API (`support.mock_realtime`), the scripted
Responses API (`support.mock_responses`) and the `parley app-server` subprocess.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from support.app_server import AppServerProcess
from support.codex_config import realtime_config_toml
from support.mock_realtime import (
    WebSocketConnectionConfig,
    WebSocketTestServer,
    start_websocket_server_with_headers,
)
from support.mock_responses import MockResponsesServer
from support.sse import (
    ev_apply_patch_function_call,
    ev_assistant_message,
    ev_completed,
    ev_response_created,
    sse,
)

Json = Any
CALL_ID = "call_voice_edit"
# Deliberately terse: the summary the voice model speaks must not depend on the agent's wording.
AGENT_FINAL = "Done."
PATCH = """*** Begin Patch
*** Update File: notes.txt
@@
 shopping list
-milk
+oat milk
+bread
*** End Patch"""


def delegated_turn_script() -> list[str]:
    return [
        sse(
            [
                ev_response_created("resp-1"),
                ev_apply_patch_function_call("patch-call", PATCH),
                ev_completed("resp-1"),
            ]
        ),
        sse(
            [
                ev_response_created("resp-2"),
                ev_assistant_message("msg-1", AGENT_FINAL),
                ev_completed("resp-2"),
            ]
        ),
    ]


def delegate_frame(prompt: str) -> Json:
    """The voice model's `background_agent` call, as the Realtime API reports it."""
    return {
        "type": "conversation.item.done",
        "item": {
            "id": "item_call",
            "type": "function_call",
            "name": "background_agent",
            "call_id": CALL_ID,
            "arguments": orjson.dumps({"prompt": prompt}).decode(),
        },
    }


async def next_item(client: AppServerProcess, method: str, kind: str) -> Json:
    while True:
        message = await client.read_stream_until_notification_message(method)
        item = message["params"]["item"]
        if item["type"] == kind:
            return message["params"]


async def call_output(realtime: WebSocketTestServer) -> str:
    """The `function_call_output` answering the voice model's call (the text it speaks)."""
    index = 1
    while True:
        frame = (await realtime.wait_for_request(0, index)).body_json()
        item = frame.get("item", {}) if isinstance(frame, dict) else {}
        if (
            frame.get("type") == "conversation.item.create"
            and item.get("type") == "function_call_output"
            and item.get("call_id") == CALL_ID
        ):
            output: str = item["output"]
            return output
        index += 1


async def test_a_spoken_request_edits_a_file_and_the_voice_model_is_told_what_changed(
    codex_home: Path, tmp_path: Path
) -> None:
    """Spoken "edit my notes" -> background agent -> apply_patch -> fileChange item -> summary."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    notes = workspace / "notes.txt"
    notes.write_text("shopping list\nmilk\n")
    realtime = await start_websocket_server_with_headers(
        [
            WebSocketConnectionConfig(
                requests=[
                    [
                        {"type": "session.updated", "session": {"id": "sess_edit"}},
                        delegate_frame("replace milk with oat milk and add bread to my notes"),
                    ]
                ],
                close_after_requests=False,
                record_after_requests=True,
            )
        ]
    )
    async with MockResponsesServer(delegated_turn_script()) as responses:
        config = realtime_config_toml(
            responses.uri, realtime.uri, True, None, "v2", sandbox="workspace-write"
        )
        (codex_home / "config.toml").write_text(config)
        try:
            async with AppServerProcess(codex_home) as client:
                await client.initialize()
                await client.login_with_api_key("sk-test-key")
                thread = await client.start_thread({"cwd": str(workspace)})
                await client.request(
                    "thread/realtime/start",
                    {"threadId": thread["id"], "sessionId": None, "transport": None, "voice": None},
                )

                started = await next_item(client, "item/started", "fileChange")
                completed = await next_item(client, "item/completed", "fileChange")
                for params in (started, completed):
                    assert params["threadId"] == thread["id"]
                    [change] = params["item"]["changes"]
                    assert change["path"] == str(notes)
                    assert change["kind"]["type"] == "update"
                    assert "-milk" in change["diff"] and "+oat milk" in change["diff"]
                    assert "+bread" in change["diff"]
                assert started["item"]["id"] == completed["item"]["id"] == "patch-call"
                assert completed["item"]["status"] == "completed"
                turn = await client.read_notification("turn/completed")
                assert turn["turn"]["status"] == "completed"
                assert notes.read_text() == "shopping list\noat milk\nbread\n"

                # The model saw the patch succeed; the voice model is told what changed.
                follow_up = responses.responses_requests()[1]
                outputs = [i for i in follow_up["input"] if i.get("type") == "function_call_output"]
                assert outputs and outputs[-1]["call_id"] == "patch-call"
                spoken = await call_output(realtime)
                assert AGENT_FINAL in spoken
                assert "notes.txt" in spoken
                assert "updated" in spoken.lower()
                assert "2 lines added" in spoken and "1 line removed" in spoken
                await client.request("thread/realtime/stop", {"threadId": thread["id"]})
        finally:
            await realtime.shutdown()
