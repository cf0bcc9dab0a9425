"""The Responses API over a WebSocket (`supports_websockets = true`): frames chained on the
previous response within a turn, the handshake carrying the provider's credential and headers,
and HTTP used when no socket can be opened."""

from __future__ import annotations

import json
from pathlib import Path

from support.mock_realtime import start_websocket_server
from support.mock_responses import MockResponsesServer
from support.sse import (
    create_final_assistant_message_sse_response,
    ev_assistant_message,
    ev_completed,
    ev_function_call,
    ev_response_created,
)

from parley.agent.responses_socket import Chain, socket_url


def config_text(base_url: str) -> str:
    return f"""
model = "mock-model"
approval_policy = "never"
sandbox_mode = "danger-full-access"
model_provider = "sock"

[model_providers.sock]
name = "socket provider"
base_url = "{base_url}/v1"
env_key = "SOCK_KEY"
query_params = {{ "api-version" = "7" }}
http_headers = {{ "X-Team" = "voice" }}
request_max_retries = 0
stream_max_retries = 0
supports_websockets = true
"""


async def run_one_turn(mcp) -> None:
    """A thread and one turn that must complete."""
    await mcp.initialize()
    thread = await mcp.start_thread({})
    await mcp.request(
        "turn/start", {"threadId": thread["id"], "input": [{"type": "text", "text": "go"}]}
    )
    completed = await mcp.read_stream_until_notification_message("turn/completed")
    assert completed["params"]["turn"]["status"] == "completed"


def test_frames_chain_only_on_an_unchanged_request_that_extends_the_last() -> None:
    """Values in, frames out: the delta after the last input plus the response's items."""
    chain = Chain()
    first = {"model": "m", "input": [{"role": "user", "content": "a"}]}
    assert chain.frame(first) == {"type": "response.create", **first}
    chain.sent(first)
    call = {"type": "function_call", "call_id": "c1", "name": "t", "arguments": "{}"}
    chain.saw({"type": "response.created", "response": {"id": "r1"}})
    chain.saw({"type": "response.output_item.done", "item": call})
    output = {"type": "function_call_output", "call_id": "c1", "output": "ok"}
    follow_up = {"model": "m", "input": [*first["input"], call, output]}
    assert chain.frame(follow_up) == {
        "type": "response.create",
        "model": "m",
        "previous_response_id": "r1",
        "input": [output],
    }
    other_model = {**follow_up, "model": "n"}
    assert "previous_response_id" not in chain.frame(other_model)
    rewritten = {"model": "m", "input": [{"role": "user", "content": "b"}, output]}
    assert "previous_response_id" not in chain.frame(rewritten)


def test_socket_url_keeps_path_and_query() -> None:
    assert socket_url("https://h/v1/responses", (("a", "1"),)) == "wss://h/v1/responses?a=1"
    assert socket_url("http://127.0.0.1:9/v1/responses", ()) == "ws://127.0.0.1:9/v1/responses"


async def test_a_turn_with_a_tool_call_chains_its_requests_on_one_socket(
    spawn_app_server, codex_home: Path
) -> None:
    """Warm-up, then the first request on it, then the tool output alone on top of the first
    response; the handshake carries the provider's key, headers, query and the beta header."""
    server = await start_websocket_server(
        [
            [
                [ev_response_created("warm-1"), ev_completed("warm-1")],
                [
                    ev_response_created("resp-1"),
                    ev_function_call("call-1", "shell_command", json.dumps({"command": "true"})),
                    ev_completed("resp-1"),
                ],
                [
                    ev_response_created("resp-2"),
                    ev_assistant_message("msg-1", "Done"),
                    ev_completed("resp-2"),
                ],
            ]
        ]
    )
    try:
        (codex_home / "config.toml").write_text(config_text(server.uri.replace("ws://", "http://")))
        mcp = await spawn_app_server(env={"SOCK_KEY": "sock-secret"})
        await run_one_turn(mcp)

        frames = [request.body_json() for request in server.single_connection()]
        assert [frame.get("previous_response_id") for frame in frames] == [None, "warm-1", "resp-1"]
        assert frames[0]["generate"] is False
        assert frames[1]["input"] == []
        [output] = frames[2]["input"]
        assert output["type"] == "function_call_output"
        assert output["call_id"] == "call-1"

        handshake = server.single_handshake()
        assert handshake.uri() == "/v1/responses?api-version=7"
        assert handshake.header("authorization") == "Bearer sock-secret"
        assert handshake.header("x-team") == "voice"
        assert handshake.header("openai-beta") == "responses_websockets=2026-02-06"
        await mcp.close()
    finally:
        await server.shutdown()


async def test_a_provider_without_a_socket_is_used_over_http(
    spawn_app_server, codex_home: Path
) -> None:
    """An endpoint that refuses the upgrade is asked over HTTP (SSE) instead."""
    async with MockResponsesServer([create_final_assistant_message_sse_response("Done")]) as api:
        (codex_home / "config.toml").write_text(config_text(api.uri))
        mcp = await spawn_app_server(env={"SOCK_KEY": "sock-secret"})
        await run_one_turn(mcp)
        upgrade, request = api.responses_request_records()
        assert (upgrade.method, upgrade.header("upgrade")) == ("GET", "websocket")
        assert request.method == "POST"
        assert request.header("authorization") == "Bearer sock-secret"
        await mcp.close()
