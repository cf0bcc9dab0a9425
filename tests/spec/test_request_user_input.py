"""pytest twin of upstream `app-server/tests/suite/v2/request_user_input.rs` (its one test)."""

from __future__ import annotations

from pathlib import Path

from support.agent_steps import create_config_toml, start_turn, wait_resolved_before_turn_completed
from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer, create_final_assistant_message_sse_response
from support.sse import create_request_user_input_sse_response


async def test_request_user_input_round_trip(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """The model's question reaches the client; the answer resolves the request."""
    responses_server.push(
        create_request_user_input_sse_response("call1"),
        create_final_assistant_message_sse_response("done"),
    )
    create_config_toml(codex_home, responses_server.uri, "untrusted", sandbox_mode="read-only")
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model"})
    turn = await start_turn(
        mcp,
        thread["id"],
        "ask something",
        model="mock-model",
        effort="medium",
        collaborationMode={
            "mode": "plan",
            "settings": {
                "model": "mock-model",
                "reasoning_effort": "medium",
                "developer_instructions": None,
            },
        },
    )
    request = await mcp.read_stream_until_request_message()
    assert request["method"] == "item/tool/requestUserInput"
    params = request["params"]
    assert params["threadId"] == thread["id"]
    assert params["turnId"] == turn["id"]
    assert params["itemId"] == "call1"
    assert len(params["questions"]) == 1
    await mcp.send_response(request["id"], {"answers": {"confirm_path": {"answers": ["yes"]}}})
    await wait_resolved_before_turn_completed(mcp, thread["id"], request["id"])
