"""pytest twin of upstream `app-server/tests/suite/v2/request_permissions.rs` (its one test)."""

from __future__ import annotations

from pathlib import Path

from support.agent_steps import create_config_toml, start_turn, wait_resolved_before_turn_completed
from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer, create_final_assistant_message_sse_response
from support.sse import create_request_permissions_sse_response


async def test_request_permissions_round_trip(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """The model's permission request reaches the client with absolute paths; the grant
    resolves it and the turn completes."""
    responses_server.push(
        create_request_permissions_sse_response("call1"),
        create_final_assistant_message_sse_response("done"),
    )
    create_config_toml(
        codex_home,
        responses_server.uri,
        "untrusted",
        {"request_permissions_tool": True},
        sandbox_mode="read-only",
    )
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model"})
    turn = await start_turn(mcp, thread["id"], "pick a directory", model="mock-model")
    request = await mcp.read_stream_until_request_message()
    assert request["method"] == "item/permissions/requestApproval"
    params = request["params"]
    assert params["threadId"] == thread["id"]
    assert params["turnId"] == turn["id"]
    assert params["itemId"] == "call1"
    assert params["reason"] == "Select a workspace root"
    requested_writes = params["permissions"]["fileSystem"]["write"]
    assert requested_writes, "request should include write permissions"
    assert len(requested_writes) == 2
    await mcp.send_response(
        request["id"],
        {
            "permissions": {
                "network": None,
                "fileSystem": {"read": None, "write": [requested_writes[0]]},
            },
            "scope": "turn",
        },
    )
    await wait_resolved_before_turn_completed(mcp, thread["id"], request["id"])
