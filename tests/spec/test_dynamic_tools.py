"""pytest twins of upstream `app-server/tests/suite/v2/dynamic_tools.rs` (all 4 tests).

Client-defined tools given on thread/start reach model requests (unless deferred), and a call
to one round-trips through the client (`item/tool/call`) back to the model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from support.agent_steps import create_config_toml, start_turn
from support.app_server import AppServerProcess, SpawnAppServer
from support.mock_responses import MockResponsesServer, create_final_assistant_message_sse_response
from support.sse import ev_completed, ev_function_call, ev_response_created, sse

Json = Any

INPUT_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}


def dynamic_tool(name: str, description: str, defer_loading: bool = False) -> Json:
    return {
        "name": name,
        "description": description,
        "inputSchema": INPUT_SCHEMA,
        "deferLoading": defer_loading,
    }


def find_tool(body: Json, name: str) -> Json:
    return next((tool for tool in body.get("tools") or [] if tool.get("name") == name), None)


def function_call_output_raw_output(body: Json, call_id: str) -> Json:
    for item in body.get("input") or []:
        if item.get("type") == "function_call_output" and item.get("call_id") == call_id:
            return item.get("output")
    return None


async def wait_for_dynamic_tool(mcp: AppServerProcess, method: str, call_id: str) -> Json:
    while True:
        params = await mcp.read_notification(method)
        item = params["item"]
        if item["type"] == "dynamicToolCall" and item["id"] == call_id:
            return params


async def start(
    codex_home: Path, server: MockResponsesServer, spawn: SpawnAppServer, tool: Json
) -> tuple[AppServerProcess, str]:
    create_config_toml(codex_home, server.uri, "never")
    mcp = await spawn()
    await mcp.initialize()
    thread = await mcp.start_thread({"dynamicTools": [tool]})
    return mcp, thread["id"]


async def test_thread_start_injects_dynamic_tools_into_model_requests(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A dynamic tool's description and schema are offered to the model."""
    responses_server.push(create_final_assistant_message_sse_response("Done"))
    tool = dynamic_tool("demo_tool", "Demo dynamic tool")
    mcp, thread_id = await start(codex_home, responses_server, spawn_app_server, tool)
    await start_turn(mcp, thread_id, "Hello")
    await mcp.read_notification("turn/completed")
    body = responses_server.responses_requests()[0]
    found = find_tool(body, "demo_tool")
    assert found is not None, "expected dynamic tool to be injected into request"
    assert found.get("description") == "Demo dynamic tool"
    assert found.get("parameters") == INPUT_SCHEMA


async def test_thread_start_keeps_hidden_dynamic_tools_out_of_model_requests(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A deferred dynamic tool is not sent to the model."""
    responses_server.push(create_final_assistant_message_sse_response("Done"))
    tool = dynamic_tool("hidden_tool", "Hidden dynamic tool", defer_loading=True)
    mcp, thread_id = await start(codex_home, responses_server, spawn_app_server, tool)
    await start_turn(mcp, thread_id, "Hello")
    await mcp.read_notification("turn/completed")
    bodies = responses_server.responses_requests()
    assert all(find_tool(body, "hidden_tool") is None for body in bodies), (
        "hidden dynamic tool should not be sent to the model"
    )


async def round_trip(
    codex_home: Path,
    server: MockResponsesServer,
    spawn: SpawnAppServer,
    call_id: str,
    content_items: list[Json],
) -> tuple[Json, Json, str, str]:
    """Runs one dynamic tool call answered with `content_items`; returns the started and
    completed notifications and the thread and turn ids."""
    tool_args = {"city": "Paris"}
    server.push(
        sse(
            [
                ev_response_created("resp-1"),
                ev_function_call(call_id, "demo_tool", orjson.dumps(tool_args).decode()),
                ev_completed("resp-1"),
            ]
        ),
        create_final_assistant_message_sse_response("Done"),
    )
    mcp, thread_id = await start(codex_home, server, spawn, dynamic_tool("demo_tool", "Demo"))
    turn = await start_turn(mcp, thread_id, "Run the tool")
    started = await wait_for_dynamic_tool(mcp, "item/started", call_id)
    request = await mcp.read_stream_until_request_message()
    assert request["method"] == "item/tool/call"
    assert request["params"] == {
        "threadId": thread_id,
        "turnId": turn["id"],
        "callId": call_id,
        "tool": "demo_tool",
        "arguments": tool_args,
    }
    await mcp.send_response(request["id"], {"contentItems": content_items, "success": True})
    completed = await wait_for_dynamic_tool(mcp, "item/completed", call_id)
    await mcp.read_notification("turn/completed")
    return started, completed, thread_id, turn["id"]


async def test_dynamic_tool_call_round_trip_sends_text_content_items_to_model(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A text answer completes the item and reaches the model as plain text output."""
    call_id = "dyn-call-1"
    content = [{"type": "inputText", "text": "dynamic-ok"}]
    started, completed, thread_id, turn_id = await round_trip(
        codex_home, responses_server, spawn_app_server, call_id, content
    )
    assert started["threadId"] == thread_id
    assert started["turnId"] == turn_id
    item = started["item"]
    assert item["id"] == call_id
    assert item["tool"] == "demo_tool"
    assert item["arguments"] == {"city": "Paris"}
    assert item["status"] == "inProgress"
    assert item.get("contentItems") is None
    assert item.get("success") is None
    assert item.get("durationMs") is None

    assert completed["threadId"] == thread_id
    assert completed["turnId"] == turn_id
    item = completed["item"]
    assert item["id"] == call_id
    assert item["tool"] == "demo_tool"
    assert item["arguments"] == {"city": "Paris"}
    assert item["status"] == "completed"
    assert item["contentItems"] == content
    assert item["success"] is True
    assert item["durationMs"] is not None

    outputs = [
        output
        for body in responses_server.responses_requests()
        if (output := function_call_output_raw_output(body, call_id)) is not None
    ]
    assert outputs, "expected function_call_output in follow-up request"
    assert outputs[0] == "dynamic-ok"


async def test_dynamic_tool_call_round_trip_sends_content_items_to_model(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """Text and image items reach the model as content items."""
    call_id = "dyn-call-items-1"
    content = [
        {"type": "inputText", "text": "dynamic-ok"},
        {"type": "inputImage", "imageUrl": "data:image/png;base64,AAA"},
    ]
    started, completed, thread_id, turn_id = await round_trip(
        codex_home, responses_server, spawn_app_server, call_id, content
    )
    assert started["threadId"] == thread_id
    assert started["turnId"] == turn_id
    assert completed["threadId"] == thread_id
    assert completed["turnId"] == turn_id
    item = completed["item"]
    assert item["status"] == "completed"
    assert item["contentItems"] == content
    assert item["success"] is True
    outputs = [
        output
        for body in responses_server.responses_requests()
        if (output := function_call_output_raw_output(body, call_id)) is not None
    ]
    assert outputs, "expected function_call_output output in follow-up request"
    assert outputs[0] == [
        {"type": "input_text", "text": "dynamic-ok"},
        {"type": "input_image", "image_url": "data:image/png;base64,AAA"},
    ]
