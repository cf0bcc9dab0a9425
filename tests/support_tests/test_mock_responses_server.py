"""The mock Responses server acts like upstream's sequence mock, seen from a plain HTTP client."""

from __future__ import annotations

import asyncio
import time

import httpx
import orjson
import pytest
from support.mock_responses import (
    MockResponsesServer,
    ScriptedResponse,
    create_final_assistant_message_sse_response,
    create_mock_responses_server_sequence_unchecked,
    create_shell_command_sse_response,
    ev_assistant_message,
    ev_completed,
    ev_output_text_delta,
    ev_response_created,
    sse,
)
from support.sse import shell_command_arguments


def body_with(text: str) -> str:
    return sse([ev_response_created("resp-1"), ev_assistant_message("msg-1", text)])


async def test_sse_frames_events_like_upstream() -> None:
    """Each event is `event:` plus `data:` (compact JSON) and a blank line; bare types lack data."""
    assert sse([{"type": "response.created", "response": {"id": "r"}}, {"type": "done"}]) == (
        'event: response.created\ndata: {"type":"response.created","response":{"id":"r"}}\n\n'
        "event: done\n\n"
    )


async def test_builders_match_upstream_shapes() -> None:
    """The canned turn bodies carry the exact upstream events."""
    assert ev_completed("resp-1") == {
        "type": "response.completed",
        "response": {
            "id": "resp-1",
            "usage": {
                "input_tokens": 0,
                "input_tokens_details": None,
                "output_tokens": 0,
                "output_tokens_details": None,
                "total_tokens": 0,
            },
        },
    }
    assert create_final_assistant_message_sse_response("hi") == sse(
        [ev_response_created("resp-1"), ev_assistant_message("msg-1", "hi"), ev_completed("resp-1")]
    )
    shell = create_shell_command_sse_response(
        ["printf", "realtime-tool-ok"], None, 5000, "shell_call"
    )
    data = [orjson.loads(line[6:]) for line in shell.splitlines() if line.startswith("data: ")]
    call = data[1]["item"]
    assert call == {
        "type": "function_call",
        "call_id": "shell_call",
        "name": "shell_command",
        "arguments": '{"command":"printf realtime-tool-ok","workdir":null,"timeout_ms":5000}',
    }
    assert orjson.loads(shell_command_arguments(["sh", "-c", "echo 'a b'"], "/w", None)) == {
        "command": "sh -c 'echo '\"'\"'a b'\"'\"''",
        "workdir": "/w",
        "timeout_ms": None,
    }


async def test_sequence_answers_in_order_then_500() -> None:
    """Bodies are served in order as text/event-stream; past the end every request gets a 500."""
    server = await create_mock_responses_server_sequence_unchecked(
        [body_with("one"), body_with("two")]
    )
    try:
        async with httpx.AsyncClient(base_url=server.uri) as client:
            first = await client.post(
                "/v1/responses", json={"n": 1}, headers={"Authorization": "Bearer k"}
            )
            second = await client.post("/v1/responses?x=1", json={"n": 2})
            third = await client.post("/api/codex/responses", json={"n": 3})
        assert first.status_code == 200
        assert first.headers["content-type"] == "text/event-stream"
        assert first.text == body_with("one")
        assert second.text == body_with("two")
        assert third.status_code == 500
        assert "no scripted response" in third.text
        assert server.responses_requests() == [{"n": 1}, {"n": 2}, {"n": 3}]
        recorded = server.requests()
        assert [r.path for r in recorded] == [
            "/v1/responses",
            "/v1/responses",
            "/api/codex/responses",
        ]
        assert recorded[0].query is None
        assert recorded[1].query == "x=1"
        assert recorded[0].header("authorization") == "Bearer k"
        assert recorded[0].method == "POST"
        assert orjson.loads(recorded[0].body) == {"n": 1}
    finally:
        await server.stop()


async def test_gate_holds_only_the_first_response() -> None:
    """The first answer waits for the gate; a second request is answered while it waits."""
    gate = asyncio.Event()
    async with (
        MockResponsesServer([body_with("first"), body_with("second")], gate=gate) as server,
        httpx.AsyncClient(base_url=server.uri, timeout=5) as client,
    ):
        first = asyncio.ensure_future(client.post("/v1/responses", json={"n": 1}))
        await server.wait_for_responses_requests(1)
        await asyncio.sleep(0.2)
        assert not first.done()
        second = await client.post("/v1/responses", json={"n": 2})
        assert second.text == body_with("second")
        assert not first.done()
        gate.set()
        assert (await first).text == body_with("first")


async def test_http_error_with_retry_after() -> None:
    """A scripted error answer keeps its status, headers and body; the next one is normal."""
    async with (
        MockResponsesServer(
            [
                ScriptedResponse.error(
                    429, '{"error":{"message":"slow down"}}', headers={"Retry-After": "1"}
                ),
                body_with("ok"),
            ]
        ) as server,
        httpx.AsyncClient(base_url=server.uri) as client,
    ):
        limited = await client.post("/v1/responses", json={})
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "1"
        assert limited.headers["content-type"] == "application/json"
        assert limited.json() == {"error": {"message": "slow down"}}
        assert (await client.post("/v1/responses", json={})).text == body_with("ok")


async def test_cut_stream_drops_the_connection_mid_body() -> None:
    """`cut_after` sends that many events, then the body ends abruptly."""
    body = sse([ev_response_created("r"), ev_output_text_delta("a"), ev_completed("r")])
    async with (
        MockResponsesServer([ScriptedResponse.stream(body, cut_after=1)]) as server,
        httpx.AsyncClient(base_url=server.uri) as client,
    ):
        received = b""
        with pytest.raises(httpx.RemoteProtocolError):
            async with client.stream("POST", "/v1/responses", json={}) as response:
                async for chunk in response.aiter_raw():
                    received += chunk
        assert received.decode() == sse([ev_response_created("r")])


async def test_trickled_stream_spaces_events() -> None:
    """`event_delay` sleeps between events; the whole body still arrives."""
    body = sse([ev_response_created("r"), ev_output_text_delta("a"), ev_completed("r")])
    async with (
        MockResponsesServer([ScriptedResponse.stream(body, event_delay=0.15)]) as server,
        httpx.AsyncClient(base_url=server.uri) as client,
    ):
        started = time.monotonic()
        response = await client.post("/v1/responses", json={})
        assert time.monotonic() - started >= 0.3
        assert response.text == body


async def test_held_stream_notices_the_client_leaving() -> None:
    """A held-open silent stream stays open until the client disconnects, which is recorded."""
    hold = asyncio.Event()
    body = sse([ev_response_created("r")])
    async with (
        MockResponsesServer([ScriptedResponse.stream(body, hold=hold)]) as server,
        httpx.AsyncClient(base_url=server.uri) as client,
    ):
        async with client.stream("POST", "/v1/responses", json={}) as response:
            chunk = await anext(response.aiter_raw())
            assert chunk.decode() == body
        record = server.responses_request_records()[0]
        await asyncio.wait_for(record.finished.wait(), 2)
        assert record.client_disconnected
        assert not hold.is_set()


async def test_held_stream_finishes_when_released() -> None:
    """Releasing the hold ends the body normally."""
    hold = asyncio.Event()
    body = sse([ev_response_created("r"), ev_completed("r")])
    async with (
        MockResponsesServer([ScriptedResponse.stream(body, hold=hold)]) as server,
        httpx.AsyncClient(base_url=server.uri) as client,
    ):
        request = asyncio.ensure_future(client.post("/v1/responses", json={}))
        await asyncio.sleep(0.2)
        assert not request.done()
        hold.set()
        assert (await request).text == body
        assert not server.responses_request_records()[0].client_disconnected


async def test_realtime_calls_mount_captures_requests() -> None:
    """`POST /v1/realtime/calls` gets the mounted answer and is captured byte for byte."""
    async with (
        MockResponsesServer() as server,
        httpx.AsyncClient(base_url=server.uri) as client,
    ):
        server.mount_realtime_calls()
        content = b'--b\r\nContent-Disposition: form-data; name="sdp"\r\n\r\nv=offer\r\n--b--\r\n'
        answer = await client.post(
            "/v1/realtime/calls",
            content=content,
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
        assert answer.status_code == 200
        assert answer.headers["location"] == "/v1/realtime/calls/rtc_e2e"
        assert answer.text == "v=answer\r\n"
        request = server.single_call_request()
        assert request.path == "/v1/realtime/calls"
        assert request.query is None
        assert request.headers["content-type"] == "multipart/form-data; boundary=b"
        assert request.header("Content-Type") == "multipart/form-data; boundary=b"
        assert request.body == content
        assert server.responses_requests() == []

        server.mount_realtime_calls(status=500, body="boom")
        failed = await client.post("/v1/realtime/calls", content=b"x")
        assert (failed.status_code, failed.text) == (500, "boom")
        assert "location" not in failed.headers
        assert len(server.call_requests()) == 2


async def test_models_and_unmounted_paths() -> None:
    """`GET /v1/models` lists the mock model; anything else unmounted is a 404."""
    async with (
        MockResponsesServer() as server,
        httpx.AsyncClient(base_url=server.uri) as client,
    ):
        models = await client.get("/v1/models")
        assert models.status_code == 200
        assert [m["id"] for m in models.json()["data"]] == ["mock-model"]
        assert (await client.post("/v1/realtime/calls")).status_code == 404
        assert (await client.get("/v1/nothing")).status_code == 404
