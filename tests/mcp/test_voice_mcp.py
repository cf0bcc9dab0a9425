"""Voice round trip through an MCP tool: a realtime (v2, WebSocket) voice model delegates a
request to the background agent, whose delegated turn calls a tool of an MCP server from the
config; the tool's answer goes back to the voice model as the call's output.

Real sockets throughout: the scripted Realtime API (`support.mock_realtime`), the scripted
Responses API (`support.mock_responses`), a stdio MCP server written with the MCP SDK
(`support.mcp_servers`) and the `parley app-server` subprocess.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from support.app_server import AppServerProcess
from support.codex_config import realtime_config_toml
from support.mcp_servers import stdio_config
from support.mock_realtime import WebSocketConnectionConfig, start_websocket_server_with_headers
from support.mock_responses import MockResponsesServer
from support.sse import (
    ev_assistant_message,
    ev_completed,
    ev_function_call,
    ev_response_created,
    sse,
)

CALL_ID = "call_voice_mcp"
ANSWER = "The tool said echo: from voice"


def delegated_turn_script() -> list[str]:
    return [
        sse(
            [
                ev_response_created("resp-1"),
                ev_function_call("mcp-call", "mcp__tools__echo", '{"text": "from voice"}'),
                ev_completed("resp-1"),
            ]
        ),
        sse(
            [
                ev_response_created("resp-2"),
                ev_assistant_message("msg-1", ANSWER),
                ev_completed("resp-2"),
            ]
        ),
    ]


def is_call_output(frame: object) -> bool:
    return (
        isinstance(frame, dict)
        and frame.get("type") == "conversation.item.create"
        and frame.get("item", {}).get("type") == "function_call_output"
        and frame["item"].get("call_id") == CALL_ID
    )


async def test_the_voice_models_request_is_answered_through_an_mcp_tool(codex_home: Path) -> None:
    """Spoken request -> background agent -> mcp__tools__echo -> answer back to the voice model."""
    delegate = {
        "type": "conversation.item.done",
        "item": {
            "id": "item_call",
            "type": "function_call",
            "name": "background_agent",
            "call_id": CALL_ID,
            "arguments": orjson.dumps({"prompt": "echo from voice with the tool"}).decode(),
        },
    }
    realtime = await start_websocket_server_with_headers(
        [
            WebSocketConnectionConfig(
                requests=[[{"type": "session.updated", "session": {"id": "sess_mcp"}}, delegate]],
                close_after_requests=False,
                record_after_requests=True,
            )
        ]
    )
    async with MockResponsesServer(delegated_turn_script()) as responses:
        config = realtime_config_toml(responses.uri, realtime.uri, True, None, "v2")
        (codex_home / "config.toml").write_text(config + "\n" + stdio_config("tools", "echo"))
        try:
            async with AppServerProcess(codex_home) as client:
                await client.initialize()
                await client.login_with_api_key("sk-test-key")
                thread = await client.start_thread({})
                await client.request(
                    "thread/realtime/start",
                    {"threadId": thread["id"], "sessionId": None, "transport": None, "voice": None},
                )
                item = await client.read_stream_until_notification_message("item/completed")
                while item["params"]["item"]["type"] != "mcpToolCall":
                    item = await client.read_stream_until_notification_message("item/completed")
                tool_call = item["params"]["item"]
                assert (tool_call["server"], tool_call["tool"]) == ("tools", "echo")
                assert tool_call["status"] == "completed"
                assert tool_call["result"]["content"] == [
                    {"type": "text", "text": "echo: from voice"}
                ]
                completed = await client.read_notification("turn/completed")
                assert completed["turn"]["status"] == "completed"

                # The Responses API got the tool's output; the voice model got the final answer.
                follow_up = responses.responses_requests()[1]
                outputs = [i for i in follow_up["input"] if i.get("type") == "function_call_output"]
                assert "echo: from voice" in outputs[-1]["output"]
                index = 1
                while True:
                    frame = (await realtime.wait_for_request(0, index)).body_json()
                    if is_call_output(frame):
                        break
                    index += 1
                assert ANSWER in frame["item"]["output"]
                await client.request("thread/realtime/stop", {"threadId": thread["id"]})
        finally:
            await realtime.shutdown()
