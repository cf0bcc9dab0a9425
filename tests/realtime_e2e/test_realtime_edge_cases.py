"""Realtime behaviour the spec tests leave open, answered as the 0.120.0 reference answers it.

Every test drives the real `parley app-server` subprocess (each message it writes is checked
against the 0.120 schema by `AppServerProcess`) against real local servers: the scripted
`support.mock_realtime` WebSocket server where a script is enough, the hand-driven
`LiveUpstream` where the test must push events at will, see every TCP accept, or see a
connection end, and `support.mock_responses` for `/v1/responses` and WebRTC call creation.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from spec.test_realtime_conversation import (
    DEFAULT_TIMEOUT,
    RealtimeTestVersion,
    SpecEnv,
    append_audio_params,
    assert_invalid_request,
    assert_v1_session_update,
    assert_v2_function_call_output,
    assert_v2_progress_update,
    assert_v2_response_create,
    assert_v2_session_update,
    open_realtime_sideband_connection,
    read_response,
    realtime_sideband_connection,
    realtime_start_params,
    response_request_contains_text,
    session_updated,
    start_thread,
    v2_background_agent_tool_call,
    webrtc_transport,
)
from support.mock_realtime import WebSocketConnectionConfig
from support.sse import create_final_assistant_message_sse_response

from .rig import (
    CLIENT_NAME,
    HIGH_DEMAND,
    NOT_RUNNING,
    READ_RESET,
    REALTIME_MODEL,
    V2_VOICES,
    Json,
    Rig,
    audio_append,
    audio_params,
    start_rig,
    text_input,
    user_text_item,
)
from .upstream import LiveUpstream

SETTLE_S = 0.3


def realtime_requests_for(thread_id: str) -> list[tuple[str, Json]]:
    """One well-formed request per thread-scoped realtime method."""
    return [
        ("thread/realtime/start", realtime_start_params(thread_id)),
        ("thread/realtime/appendText", {"threadId": thread_id, "text": "hello"}),
        ("thread/realtime/appendAudio", append_audio_params(thread_id)),
        ("thread/realtime/stop", {"threadId": thread_id}),
    ]


async def start_established(rig: Rig, upstream: LiveUpstream, index: int = 0) -> Json:
    """Start realtime on the rig's thread and wait until connection `index` got session.update."""
    await rig.start_realtime()
    started = await rig.notification("thread/realtime/started")
    connection = await upstream.wait_for_connection(index)
    frames = await connection.wait_for_frames(1)
    assert_v2_session_update(frames[0])
    return started


# -- 1 -------------------------------------------------------------------------------------------


async def test_realtime_methods_on_unknown_or_malformed_thread_ids_are_invalid_requests(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """Realtime start/appendText/appendAudio/stop naming a thread that does not exist, or an id
    that is not a UUID, are rejected as invalid requests and nothing connects upstream."""
    rig = await start_rig(env, upstream.uri)
    unknown = str(uuid.uuid4())
    for method, params in realtime_requests_for(unknown):
        request_id = await rig.mcp.send_request(method, params)
        error = await rig.mcp.read_stream_until_error_message(request_id, timeout=DEFAULT_TIMEOUT)
        assert_invalid_request(error, f"thread not found: {unknown}")
    for method, params in realtime_requests_for("not-a-uuid"):
        request_id = await rig.mcp.send_request(method, params)
        error = await rig.mcp.read_stream_until_error_message(request_id, timeout=DEFAULT_TIMEOUT)
        assert error["error"]["code"] == -32600, (method, error)
        assert error["error"]["message"].startswith("invalid thread id"), (method, error)

    await rig.list_voices_still_works()
    assert upstream.tcp_accepts == 0
    realtime = [m for m in rig.mcp.received_messages() if "thread/realtime/" in m.get("method", "")]
    assert realtime == []
    await rig.finish()


# -- 2 -------------------------------------------------------------------------------------------


async def test_second_start_replaces_the_session_silently(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """Starting realtime again on a thread drops the first upstream connection without a closed
    notification, and the new session is the one that gets configured and receives text."""
    rig = await start_rig(env, upstream.uri)
    await start_established(rig, upstream, 0)
    first = upstream.connections[0]

    await rig.start_realtime()
    second_started = await rig.notification("thread/realtime/started")
    assert second_started == {
        "threadId": rig.thread_id,
        "sessionId": rig.thread_id,
        "version": "v2",
    }
    second = await upstream.wait_for_connection(1)
    assert_v2_session_update((await second.wait_for_frames(1))[0])
    await first.wait_ended()

    await rig.append_text("after the restart")
    frames = await second.wait_for_frames(2)
    assert frames[1] == user_text_item("after the restart")

    await rig.mcp.expect_no_notification("thread/realtime/closed", within=SETTLE_S)
    assert rig.all_notifications("thread/realtime/error") == []
    assert first.frame_types() == ["session.update"]
    assert len(upstream.connections) == 2
    await rig.finish()


# -- 3 -------------------------------------------------------------------------------------------


async def test_stop_without_a_session_reports_closed_requested(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """Stopping realtime on a thread where it never started succeeds and still reports the
    conversation closed as requested."""
    rig = await start_rig(env, upstream.uri)
    await rig.stop()
    closed = await rig.notification("thread/realtime/closed")
    assert closed == {"threadId": rig.thread_id, "reason": "requested"}

    await rig.mcp.expect_no_notification("thread/realtime/error", within=SETTLE_S)
    assert upstream.tcp_accepts == 0
    await rig.finish()


# -- 4 -------------------------------------------------------------------------------------------


async def test_input_sent_before_the_socket_is_up_is_delivered_after_session_update(
    env: SpecEnv,
) -> None:
    """Text and audio appended right after start, while the upstream connection is still being
    accepted, are accepted and reach upstream after session.update, each kind in order."""
    realtime_server = await env.start_websocket_server_with_headers(
        [
            WebSocketConnectionConfig(
                requests=[[session_updated("sess_early")]],
                accept_delay=0.5,
                close_after_requests=False,
                record_after_requests=True,
            )
        ]
    )
    rig = await start_rig(env, realtime_server.uri)

    start_params = realtime_start_params(rig.thread_id, prompt="backend prompt")
    ids = [await rig.mcp.send_request("thread/realtime/start", start_params)]
    early = [
        ("thread/realtime/appendText", {"threadId": rig.thread_id, "text": "first early"}),
        ("thread/realtime/appendAudio", audio_params(rig.thread_id, "AAAA")),
        ("thread/realtime/appendText", {"threadId": rig.thread_id, "text": "second early"}),
        ("thread/realtime/appendAudio", audio_params(rig.thread_id, "BBBB")),
    ]
    for method, params in early:
        ids.append(await rig.mcp.send_request(method, params))
    for request_id in ids:
        assert await read_response(rig.mcp, request_id) == {}
    # All five were answered before the (delayed) session was announced.
    assert rig.all_notifications("thread/realtime/started") == []

    await rig.notification("thread/realtime/started")
    await realtime_server.wait_for_request(0, 4)
    await asyncio.sleep(SETTLE_S)
    frames = [r.body_json() for r in realtime_server.single_connection()]
    assert len(frames) == 5, frames
    assert_v2_session_update(frames[0])
    texts = [f for f in frames[1:] if f.get("type") == "conversation.item.create"]
    audio = [f for f in frames[1:] if f.get("type") == "input_audio_buffer.append"]
    assert texts == [user_text_item("first early"), user_text_item("second early")]
    assert audio == [audio_append("AAAA"), audio_append("BBBB")]
    assert rig.all_notifications("error") == []
    assert rig.all_notifications("thread/realtime/error") == []
    await rig.finish()


# -- 5 -------------------------------------------------------------------------------------------


async def test_append_after_upstream_closed_reports_not_running(env: SpecEnv) -> None:
    """Once upstream has closed the session, appending text or audio still succeeds but reports
    "conversation is not running" as an error notification, and a stop reports closed again."""
    realtime_server = await env.start_websocket_server_with_headers(
        [realtime_sideband_connection([[session_updated("sess_gone")]])]
    )
    rig = await start_rig(env, realtime_server.uri)
    await rig.start_realtime()
    await rig.notification("thread/realtime/started")
    closed = await rig.notification("thread/realtime/closed")
    assert closed == {"threadId": rig.thread_id, "reason": "transport_closed"}

    await rig.append_text("anyone there?")
    status = await rig.notification("thread/status/changed")
    assert status == {"threadId": rig.thread_id, "status": {"type": "systemError"}}
    error = await rig.notification("error")
    assert error["error"] == {
        "message": NOT_RUNNING,
        "codexErrorInfo": "badRequest",
        "additionalDetails": None,
    }
    assert error["willRetry"] is False
    assert error["threadId"] == rig.thread_id
    assert isinstance(error["turnId"], str) and error["turnId"]
    assert rig.index_of("thread/status/changed") < rig.index_of("error")

    await rig.append_audio("CCCC")
    error = await rig.notification("error")
    assert error["error"]["message"] == NOT_RUNNING

    await rig.stop()
    closed = await rig.notification("thread/realtime/closed")
    assert closed == {"threadId": rig.thread_id, "reason": "requested"}

    assert rig.all_notifications("thread/realtime/error") == []
    frames = [r.body_json() for r in realtime_server.single_connection()]
    assert [f["type"] for f in frames] == ["session.update"]
    await rig.finish()


# -- 6 -------------------------------------------------------------------------------------------


async def test_upstream_close_during_delegation_keeps_turn_and_server_alive(env: SpecEnv) -> None:
    """When upstream closes the session while a delegated turn waits for the model, the client
    is told the transport closed (no error), the turn still completes, and realtime can be
    started again on the same thread."""
    gate = asyncio.Event()
    responses = await env.create_mock_responses_server_sequence_unchecked(
        [create_final_assistant_message_sse_response("finished after the close")], gate=gate
    )
    restarted = open_realtime_sideband_connection([[session_updated("sess_again")]])
    restarted.record_after_requests = True
    realtime_server = await env.start_websocket_server_with_headers(
        [
            realtime_sideband_connection(
                [
                    [
                        session_updated("sess_closing"),
                        v2_background_agent_tool_call("call_close", "delegate then close"),
                    ]
                ]
            ),
            restarted,
        ]
    )
    rig = await start_rig(env, realtime_server.uri, responses=responses)
    await rig.start_realtime()
    await rig.notification("thread/realtime/started")

    handoff = await rig.notification("thread/realtime/itemAdded")
    assert handoff["item"]["type"] == "handoff_request"
    assert handoff["item"]["handoff_id"] == "call_close"
    turn_started = await rig.notification("turn/started")
    closed = await rig.notification("thread/realtime/closed")
    assert closed == {"threadId": rig.thread_id, "reason": "transport_closed"}
    await responses.wait_for_responses_requests(1)
    assert response_request_contains_text(responses.responses_requests()[0], "delegate then close")

    gate.set()
    turn_completed = await rig.notification("turn/completed")
    assert turn_completed["turn"]["id"] == turn_started["turn"]["id"]
    assert turn_completed["turn"]["status"] == "completed"

    await rig.start_realtime()
    again = await rig.notification("thread/realtime/started")
    assert again["threadId"] == rig.thread_id
    assert_v2_session_update((await realtime_server.wait_for_request(1, 0)).body_json())
    await rig.list_voices_still_works()

    assert rig.all_notifications("thread/realtime/error") == []
    connections = realtime_server.connections()
    assert [r.body_json()["type"] for r in connections[0]] == ["session.update"]
    assert [r.body_json()["type"] for r in connections[1]] == ["session.update"]
    await rig.finish()


# -- 7 -------------------------------------------------------------------------------------------


async def test_upstream_tcp_drop_reports_error_then_closed(env: SpecEnv) -> None:
    """When the upstream connection drops without a WebSocket close, the client gets a realtime
    error and then closed with reason "error", and the server keeps serving."""
    realtime_server = await env.start_websocket_server_with_headers(
        [open_realtime_sideband_connection([[session_updated("sess_drop")]])]
    )
    rig = await start_rig(env, realtime_server.uri)
    await rig.start_realtime()
    await rig.notification("thread/realtime/started")
    await realtime_server.wait_for_request(0, 0)

    # A kept-open connection is dropped by `shutdown()` without a Close frame.
    await realtime_server.shutdown()

    error = await rig.notification("thread/realtime/error")
    assert error == {"threadId": rig.thread_id, "message": READ_RESET}
    closed = await rig.notification("thread/realtime/closed")
    assert closed == {"threadId": rig.thread_id, "reason": "error"}
    assert rig.index_of("thread/realtime/error") < rig.index_of("thread/realtime/closed")

    await rig.list_voices_still_works()
    await rig.finish()


# -- 8 -------------------------------------------------------------------------------------------


async def test_two_threads_keep_their_realtime_sessions_apart(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """Two threads with realtime at once each talk only to their own upstream connection, and
    stopping one leaves the other running."""
    rig = await start_rig(env, upstream.uri)
    thread_a = rig.thread_id
    thread_b = await start_thread(rig.mcp)

    await rig.start_realtime(thread_a)
    assert (await rig.notification("thread/realtime/started"))["threadId"] == thread_a
    conn_a = await upstream.wait_for_connection(0)
    await rig.start_realtime(thread_b)
    assert (await rig.notification("thread/realtime/started"))["threadId"] == thread_b
    conn_b = await upstream.wait_for_connection(1)
    assert conn_a.header("x-session-id") == thread_a
    assert conn_b.header("x-session-id") == thread_b

    await rig.append_text("for A", thread_a)
    await rig.append_audio("QUFB", thread_a)
    await rig.append_text("for B", thread_b)
    await rig.append_audio("QkJC", thread_b)
    frames_a = await conn_a.wait_for_frames(3)
    frames_b = await conn_b.wait_for_frames(3)
    assert_v2_session_update(frames_a[0])
    assert_v2_session_update(frames_b[0])
    assert sorted(map(repr, frames_a[1:])) == sorted(
        map(repr, [user_text_item("for A"), audio_append("QUFB")])
    )
    assert sorted(map(repr, frames_b[1:])) == sorted(
        map(repr, [user_text_item("for B"), audio_append("QkJC")])
    )

    # Upstream events reach the client tagged with their own thread.
    await conn_b.send({"type": "response.output_audio_transcript.delta", "delta": "only B"})
    transcript = await rig.notification("thread/realtime/transcriptUpdated")
    assert transcript == {"threadId": thread_b, "role": "assistant", "text": "only B"}

    await rig.stop(thread_a)
    closed = await rig.notification("thread/realtime/closed")
    assert closed == {"threadId": thread_a, "reason": "requested"}
    await conn_a.wait_ended()

    await rig.append_text("B still running", thread_b)
    frames_b = await conn_b.wait_for_frames(4)
    assert frames_b[3] == user_text_item("B still running")
    await conn_b.send({"type": "response.output_text.delta", "delta": "B answers"})
    transcript = await rig.notification("thread/realtime/transcriptUpdated")
    assert transcript == {"threadId": thread_b, "role": "assistant", "text": "B answers"}

    await asyncio.sleep(SETTLE_S)
    assert not conn_b.ended.is_set()
    assert len(conn_a.frames) == 3
    assert rig.all_notifications("thread/realtime/closed") == [closed]
    assert rig.all_notifications("thread/realtime/error") == []
    assert rig.all_notifications("error") == []
    await rig.finish()


# -- 9 -------------------------------------------------------------------------------------------


def assert_handshake_headers(headers: dict[str, str], session_id: str) -> None:
    assert headers["authorization"] == "Bearer sk-test-key"
    assert headers["originator"] == CLIENT_NAME
    assert headers["x-session-id"] == session_id
    for absent in (
        "user-agent",
        "openai-beta",
        "sec-websocket-protocol",
        "sec-websocket-extensions",
    ):
        assert absent not in headers, f"unexpected handshake header {absent}: {headers[absent]}"


async def test_v2_websocket_handshake_url_headers_and_session_id(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """A v2 WebSocket session connects to /v1/realtime?model=… with the API key, the client name
    as originator and the thread id (or the requested session id) as x-session-id, and reports
    that session id when started."""
    rig = await start_rig(env, upstream.uri)
    started = await start_established(rig, upstream, 0)
    assert started == {"threadId": rig.thread_id, "sessionId": rig.thread_id, "version": "v2"}
    conn = upstream.connections[0]
    assert conn.request_uri == f"/v1/realtime?model={REALTIME_MODEL}"
    assert_handshake_headers(conn.headers, rig.thread_id)

    other_thread = await start_thread(rig.mcp)
    await rig.start_realtime(other_thread, session_id="custom-session-42")
    started = await rig.notification("thread/realtime/started")
    assert started == {"threadId": other_thread, "sessionId": "custom-session-42", "version": "v2"}
    conn = await upstream.wait_for_connection(1)
    assert conn.request_uri == f"/v1/realtime?model={REALTIME_MODEL}"
    assert_handshake_headers(conn.headers, "custom-session-42")
    await rig.finish()


async def test_v1_websocket_handshake_url_has_quicksilver_intent(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """A v1 WebSocket session connects to /v1/realtime?intent=quicksilver&model=… with the same
    headers and announces version v1."""
    rig = await start_rig(env, upstream.uri, version=RealtimeTestVersion.V1)
    await rig.start_realtime()
    started = await rig.notification("thread/realtime/started")
    assert started == {"threadId": rig.thread_id, "sessionId": rig.thread_id, "version": "v1"}
    conn = await upstream.wait_for_connection(0)
    assert conn.request_uri == f"/v1/realtime?intent=quicksilver&model={REALTIME_MODEL}"
    assert_handshake_headers(conn.headers, rig.thread_id)
    assert_v1_session_update((await conn.wait_for_frames(1))[0])
    await rig.finish()


async def test_websocket_start_without_login_reports_api_key_required(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """Without an API-key login, a WebSocket realtime start reports that API key auth is
    required and never connects upstream."""
    rig = await start_rig(env, upstream.uri, api_key=None)
    await rig.start_realtime()
    error = await rig.notification("thread/realtime/error")
    assert error == {
        "threadId": rig.thread_id,
        "message": "realtime conversation requires API key auth",
    }
    await rig.mcp.expect_no_notification("thread/realtime/started", within=SETTLE_S)
    assert rig.all_notifications("thread/realtime/closed") == []
    assert upstream.tcp_accepts == 0
    await rig.finish()


# -- 10 ------------------------------------------------------------------------------------------


async def test_v1_voice_on_v2_session_is_rejected_before_connecting(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """Asking a v2 session for a v1-only voice reports an error naming the voice and listing the
    v2 voices, and nothing connects upstream."""
    rig = await start_rig(env, upstream.uri)
    await rig.start_realtime(voice="cove")
    error = await rig.notification("thread/realtime/error")
    assert error == {
        "threadId": rig.thread_id,
        "message": "realtime voice `cove` is not supported for v2; supported voices: "
        + ", ".join(V2_VOICES),
    }
    await rig.mcp.expect_no_notification("thread/realtime/started", within=SETTLE_S)
    assert rig.all_notifications("thread/realtime/closed") == []
    assert upstream.tcp_accepts == 0
    await rig.finish()


# -- 11 ------------------------------------------------------------------------------------------


async def test_typed_turn_text_is_mirrored_but_handoff_text_is_not(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """While a v2 session runs, text typed into turn/start is also appended to the realtime
    conversation (without asking for a response), while text that came from a realtime handoff
    is not sent back."""
    responses = await env.create_mock_responses_server_sequence_unchecked(
        [
            create_final_assistant_message_sse_response("typed reply"),
            create_final_assistant_message_sse_response("delegated reply"),
        ]
    )
    rig = await start_rig(env, upstream.uri, responses=responses)
    await start_established(rig, upstream, 0)
    conn = upstream.connections[0]

    request_id = await rig.mcp.send_request(
        "turn/start", {"threadId": rig.thread_id, "input": text_input("typed hello")}
    )
    await read_response(rig.mcp, request_id)
    frames = await conn.wait_for_frames(2)
    assert frames[1] == user_text_item("typed hello")
    typed_turn = (await rig.notification("turn/started"))["turn"]["id"]
    assert (await rig.notification("turn/completed"))["turn"]["id"] == typed_turn
    await asyncio.sleep(SETTLE_S)
    assert conn.frame_types() == ["session.update", "conversation.item.create"], conn.frames

    await conn.send(v2_background_agent_tool_call("call_mirror", "delegated words"))
    delegated_turn = (await rig.notification("turn/started"))["turn"]["id"]
    assert delegated_turn != typed_turn
    turn_completed = await rig.notification("turn/completed")
    assert turn_completed["turn"]["id"] == delegated_turn
    assert turn_completed["turn"]["status"] == "completed"
    frames = await conn.wait_for_frames(5)
    assert_v2_progress_update(frames[2], "delegated reply")
    assert_v2_function_call_output(frames[3], "call_mirror", "delegated reply")
    assert_v2_response_create(frames[4])
    await asyncio.sleep(SETTLE_S)
    assert len(conn.frames) == 5, conn.frames
    assert user_text_item("delegated words") not in conn.frames

    requests = responses.responses_requests()
    assert len(requests) == 2
    assert response_request_contains_text(requests[1], "delegated words")
    await rig.finish()


# -- 12 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("log_level", ["warning", "debug"])
async def test_api_key_never_leaks_to_client_or_logs(
    env: SpecEnv, upstream: LiveUpstream, log_level: str
) -> None:
    """The API key is used upstream but never appears in any message to the client or in the
    server's log (at the default level or PARLEY_LOG=debug), even when the realtime session
    errors and a WebRTC call fails."""
    secret = "sk-test-secret-123"
    rig = await start_rig(env, upstream.uri, api_key=secret, log_level=log_level)
    await start_established(rig, upstream, 0)
    conn = upstream.connections[0]
    assert conn.header("authorization") == f"Bearer {secret}"

    await conn.send({"type": "error", "error": {"message": "upstream rejected the session"}})
    error = await rig.notification("thread/realtime/error")
    assert error["message"] == "upstream rejected the session"
    closed = await rig.notification("thread/realtime/closed")
    assert closed["reason"] == "error"

    rig.responses.mount_realtime_calls(status=500, headers={}, body="boom")
    await rig.start_realtime(transport=webrtc_transport("v=offer\r\n"))
    error = await rig.notification("thread/realtime/error")
    assert error["message"] == HIGH_DEMAND
    call = rig.responses.single_call_request()
    assert call.header("authorization") == f"Bearer {secret}"

    await rig.finish()
    for message in rig.mcp.received_messages():
        text = repr(message)
        assert secret not in text, f"API key leaked to the client: {text}"
        assert "secret-123" not in text, f"part of the API key leaked to the client: {text}"
    stderr = rig.mcp.stderr_text()
    if log_level == "debug":
        assert stderr, "expected PARLEY_LOG=debug to produce some log output"
    leaked = [line for line in stderr.splitlines() if "secret-123" in line]
    assert leaked == [], "API key leaked to the server log:\n" + "\n".join(leaked)


# -- 13 ------------------------------------------------------------------------------------------


async def test_webrtc_call_create_failures_are_reported_as_errors(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """A WebRTC start whose call creation fails (400, 401, or no Location) reports the reason as
    a realtime error, without closed, started or any sideband connection."""
    rig = await start_rig(env, upstream.uri)
    offer = webrtc_transport("v=offer\r\n")
    calls_url = f"{rig.responses.uri}/v1/realtime/calls"

    rig.responses.mount_realtime_calls(status=400, headers={}, body="bad sdp")
    await rig.start_realtime(transport=offer)
    error = await rig.notification("thread/realtime/error")
    assert error == {"threadId": rig.thread_id, "message": "bad sdp"}

    rig.responses.mount_realtime_calls(
        status=401,
        headers={"Content-Type": "application/json"},
        body='{"error":{"message":"nope"}}',
    )
    await rig.start_realtime(transport=offer)
    message = (await rig.notification("thread/realtime/error"))["message"]
    assert message.startswith("unexpected status 401"), message
    assert "nope" in message
    assert message == f"unexpected status 401 Unauthorized: nope, url: {calls_url}"

    rig.responses.mount_realtime_calls(status=200, headers={}, body="v=answer\r\n")
    await rig.start_realtime(transport=offer)
    message = (await rig.notification("thread/realtime/error"))["message"]
    assert "Location" in message
    assert message == (
        "stream disconnected before completion: realtime call response missing Location"
    )

    await rig.mcp.expect_no_notification("thread/realtime/closed", within=SETTLE_S)
    assert rig.all_notifications("thread/realtime/started") == []
    assert rig.all_notifications("thread/realtime/sdp") == []
    assert len(rig.responses.call_requests()) == 3
    assert upstream.tcp_accepts == 0
    await rig.finish()


# -- 14 ------------------------------------------------------------------------------------------


async def test_stop_during_delegated_turn_lets_the_turn_finish(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """Stopping realtime while a delegated turn waits for the model closes the session at once,
    yet the turn still completes afterwards and the server keeps serving."""
    gate = asyncio.Event()
    responses = await env.create_mock_responses_server_sequence_unchecked(
        [create_final_assistant_message_sse_response("answer nobody hears")], gate=gate
    )
    rig = await start_rig(env, upstream.uri, responses=responses)
    await start_established(rig, upstream, 0)
    conn = upstream.connections[0]
    await conn.send(v2_background_agent_tool_call("call_stop", "work while I stop"))
    turn_started = await rig.notification("turn/started")
    await responses.wait_for_responses_requests(1)

    await rig.stop()
    closed = await rig.notification("thread/realtime/closed")
    assert closed == {"threadId": rig.thread_id, "reason": "requested"}
    await conn.wait_ended()

    gate.set()
    turn_completed = await rig.notification("turn/completed")
    assert turn_completed["turn"]["id"] == turn_started["turn"]["id"]
    assert turn_completed["turn"]["status"] == "completed"
    assert turn_completed["turn"]["error"] is None

    await rig.list_voices_still_works()
    await start_established(rig, upstream, 1)
    await asyncio.sleep(SETTLE_S)
    assert upstream.connections[1].frame_types() == ["session.update"]
    assert conn.frame_types() == ["session.update"]
    assert rig.all_notifications("thread/realtime/error") == []
    assert len(rig.all_notifications("thread/realtime/closed")) == 1
    await rig.finish()


# -- 15 ------------------------------------------------------------------------------------------


async def test_stdin_eof_with_open_session_exits_promptly_and_closes_upstream(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """Closing the server's stdin while a realtime session is open makes it exit 0 promptly and
    the upstream connection ends."""
    rig = await start_rig(env, upstream.uri)
    await start_established(rig, upstream, 0)
    conn = upstream.connections[0]

    await rig.mcp.close_stdin()
    # "Promptly" means it does not wait for the upstream session to end on its own; the bound
    # is a safety net for a loaded machine, not a measurement.
    status = await rig.mcp.wait_for_exit(timeout=30.0)
    assert status == 0, rig.mcp.stderr_text()[-4000:]
    await conn.wait_ended(timeout=2.0)
    await rig.finish()
