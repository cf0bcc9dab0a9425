"""pytest twins of upstream `app-server/tests/suite/v2/client_metadata.rs`.

Every test of the file runs here: the WebSocket one against the mock Responses WebSocket server
of `tests/support/mock_realtime.py` (upstream's `start_websocket_server`, which serves both).

Upstream delays the first answer by two seconds so the steer lands while it is pending; here the
mock server holds that answer until the steer was acknowledged (a gate), which is the same
ordering without depending on time.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from support.mock_realtime import start_websocket_server
from support.mock_responses import MockResponsesServer
from support.sse import ev_assistant_message, ev_completed, ev_response_created, sse


def create_config_toml(codex_home: Path, server_uri: str, supports_websockets: bool) -> None:
    (codex_home / "config.toml").write_text(
        f"""
model = "mock-model"
approval_policy = "never"
sandbox_mode = "read-only"

model_provider = "mock_provider"

[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "{server_uri}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
supports_websockets = {"true" if supports_websockets else "false"}
"""
    )


def parse_json_header(value: str | None) -> dict:
    assert value is not None, "missing x-codex-turn-metadata header"
    parsed = json.loads(value)
    assert isinstance(parsed, dict)
    return parsed


async def test_turn_start_forwards_client_metadata_to_responses_request_v2(
    spawn_app_server, codex_home
) -> None:
    """turn/start's responsesapiClientMetadata reaches the request's turn metadata header."""
    body = sse(
        [
            ev_response_created("resp-1"),
            ev_assistant_message("msg-1", "Done"),
            ev_completed("resp-1"),
        ]
    )
    async with MockResponsesServer([body]) as server:
        create_config_toml(codex_home, server.uri, supports_websockets=False)
        mcp = await spawn_app_server()
        await mcp.initialize()
        thread = await mcp.start_thread({})

        client_metadata = {"fiber_run_id": "fiber-start-123", "origin": "gaas"}
        result = await mcp.request(
            "turn/start",
            {
                "threadId": thread["id"],
                "input": [{"type": "text", "text": "Hello", "text_elements": []}],
                "responsesapiClientMetadata": client_metadata,
            },
        )
        turn = result["turn"]
        await mcp.read_stream_until_notification_message("turn/completed")

        [request] = server.responses_request_records()
        metadata = parse_json_header(request.header("x-codex-turn-metadata"))
        assert metadata["fiber_run_id"] == "fiber-start-123"
        assert metadata["origin"] == "gaas"
        assert metadata["turn_id"] == turn["id"]
        assert "session_id" in metadata


async def test_turn_steer_updates_client_metadata_on_follow_up_responses_request_v2(
    spawn_app_server, codex_home
) -> None:
    """A steer's metadata replaces the turn's for the follow-up request of the same turn."""
    first = sse(
        [
            ev_response_created("resp-1"),
            ev_assistant_message("msg-1", "Working"),
            ev_completed("resp-1"),
        ]
    )
    second = sse(
        [
            ev_response_created("resp-2"),
            ev_assistant_message("msg-2", "Done"),
            ev_completed("resp-2"),
        ]
    )
    gate = asyncio.Event()
    async with MockResponsesServer([first, second], gate=gate) as server:
        create_config_toml(codex_home, server.uri, supports_websockets=False)
        mcp = await spawn_app_server()
        await mcp.initialize()
        thread = await mcp.start_thread({})

        result = await mcp.request(
            "turn/start",
            {
                "threadId": thread["id"],
                "input": [{"type": "text", "text": "Run sleep", "text_elements": []}],
                "responsesapiClientMetadata": {"fiber_run_id": "fiber-start-123"},
            },
        )
        turn_id = result["turn"]["id"]
        await mcp.read_stream_until_notification_message("turn/started")
        await server.wait_for_responses_requests(1)

        await mcp.request(
            "turn/steer",
            {
                "threadId": thread["id"],
                "input": [{"type": "text", "text": "Focus on the failure", "text_elements": []}],
                "responsesapiClientMetadata": {
                    "fiber_run_id": "fiber-steer-456",
                    "origin": "gaas",
                },
                "expectedTurnId": turn_id,
            },
        )
        gate.set()
        await mcp.read_stream_until_notification_message("turn/completed")

        requests = server.responses_request_records()
        assert len(requests) == 2
        first_metadata = parse_json_header(requests[0].header("x-codex-turn-metadata"))
        assert first_metadata["fiber_run_id"] == "fiber-start-123"
        assert first_metadata["turn_id"] == turn_id
        second_metadata = parse_json_header(requests[1].header("x-codex-turn-metadata"))
        assert second_metadata["fiber_run_id"] == "fiber-steer-456"
        assert second_metadata["origin"] == "gaas"
        assert second_metadata["turn_id"] == turn_id


async def test_turn_start_forwards_client_metadata_to_responses_websocket_request_body_v2(
    spawn_app_server, codex_home
) -> None:
    """Over the Responses WebSocket the metadata travels in the request frame's client_metadata,
    after a warm-up frame that generates nothing and that the request builds on."""
    websocket_server = await start_websocket_server(
        [
            [
                [ev_response_created("warm-1"), ev_completed("warm-1")],
                [
                    ev_response_created("resp-1"),
                    ev_assistant_message("msg-1", "Done"),
                    ev_completed("resp-1"),
                ],
            ]
        ]
    )
    try:
        create_config_toml(
            codex_home,
            websocket_server.uri.replace("ws://", "http://", 1),
            supports_websockets=True,
        )
        mcp = await spawn_app_server()
        await mcp.initialize()
        thread = await mcp.start_thread({})

        client_metadata = {"fiber_run_id": "fiber-start-123", "origin": "gaas"}
        result = await mcp.request(
            "turn/start",
            {
                "threadId": thread["id"],
                "input": [{"type": "text", "text": "Hello", "text_elements": []}],
                "responsesapiClientMetadata": client_metadata,
            },
        )
        turn = result["turn"]
        await mcp.read_stream_until_notification_message("turn/completed")

        warmup = (await websocket_server.wait_for_request(0, 0)).body_json()
        request = (await websocket_server.wait_for_request(0, 1)).body_json()

        assert warmup["type"] == "response.create"
        assert warmup["generate"] is False
        assert request["type"] == "response.create"
        assert request["previous_response_id"] == "warm-1"

        metadata = parse_json_header(request["client_metadata"].get("x-codex-turn-metadata"))
        assert metadata["fiber_run_id"] == "fiber-start-123"
        assert metadata["origin"] == "gaas"
        assert metadata["turn_id"] == turn["id"]
        assert "session_id" in metadata
    finally:
        await websocket_server.shutdown()
