"""pytest twins of upstream `app-server/tests/suite/v2/output_schema.rs` (both tests).

The mock Responses server records the request; the twin checks its `text.format`.
"""

from __future__ import annotations

from pathlib import Path

from support.agent_steps import assistant_turn, create_config_toml, start_turn
from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer

OUTPUT_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
    "additionalProperties": False,
}
EXPECTED_FORMAT = {
    "name": "codex_output_schema",
    "type": "json_schema",
    "strict": True,
    "schema": OUTPUT_SCHEMA,
}


async def test_turn_start_accepts_output_schema_v2(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A turn's `outputSchema` reaches the model request as a strict JSON-schema text format."""
    responses_server.push(assistant_turn("resp-1", "msg-1", "Done"))
    create_config_toml(codex_home, responses_server.uri, "never")
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({})
    await start_turn(mcp, thread["id"], "Hello", outputSchema=OUTPUT_SCHEMA)
    await mcp.read_notification("turn/completed")
    (payload,) = responses_server.responses_requests()
    assert "text" in payload, "request missing text field"
    assert payload["text"]["format"] == EXPECTED_FORMAT


async def test_turn_start_output_schema_is_per_turn_v2(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """The schema applies to its own turn only: the next turn's request has no format."""
    responses_server.push(assistant_turn("resp-1", "msg-1", "Done"))
    create_config_toml(codex_home, responses_server.uri, "never")
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({})
    await start_turn(mcp, thread["id"], "Hello", outputSchema=OUTPUT_SCHEMA)
    await mcp.read_notification("turn/completed")
    payload1 = responses_server.responses_requests()[0]
    assert payload1.get("text", {}).get("format") == EXPECTED_FORMAT

    responses_server.push(assistant_turn("resp-2", "msg-2", "Done"))
    await start_turn(mcp, thread["id"], "Hello again", outputSchema=None)
    await mcp.read_notification("turn/completed")
    payload2 = responses_server.responses_requests()[1]
    assert (payload2.get("text") or {}).get("format") is None
