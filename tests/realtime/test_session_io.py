"""RealtimeConversation against real local servers: a scripted WebSocket and an HTTP API.

The thread layer is a recording fake: it collects notifications and delegated text, and the
tests play the thread's turn notifications back through `on_thread_event` by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from support.mock_realtime import (
    WebSocketConnectionConfig,
    WebSocketTestServer,
    start_websocket_server,
    start_websocket_server_with_headers,
)
from support.mock_responses import MockResponsesServer

from parley.realtime.session import (
    MAX_QUEUED_AUDIO_FRAMES,
    RealtimeConversation,
    RealtimeSettings,
    StartRequest,
)

THREAD = "01a20d04-72aa-7591-9ade-219167859ce2"
STARTUP_CONTEXT_HEADER = "Startup context from Codex."
ACK = "This was sent to steer the previous background agent task."
TIMEOUT = 5.0

V2_CALL_SESSION = (
    '{"tool_choice":"auto","type":"realtime","model":"gpt-realtime-1.5","instructions":"backend '
    'prompt\\n\\nstartup context","output_modalities":["audio"],"audio":{"input":{"format":'
    '{"type":"audio/pcm","rate":24000},"noise_reduction":{"type":"near_field"},"turn_detection":'
    '{"type":"server_vad","interrupt_response":true,"create_response":true}},"output":{"format":'
    '{"type":"audio/pcm","rate":24000},"voice":"marin"}},"tools":[{"type":"function","name":'
    '"background_agent","description":"Send a user request to the background agent. Use this as '
    "the default action. If the background agent is idle, this starts a new task and returns the "
    "final result to the user. If the background agent is already working on a task, this sends "
    "the request as guidance to steer that previous task. If the user asks to do something next, "
    "later, after this, or once current work finishes, call this tool so the work is actually "
    'queued instead of merely promising to do it later.","parameters":{"type":"object",'
    '"properties":{"prompt":{"type":"string","description":"The user request to delegate to the '
    'background agent."}},"required":["prompt"],"additionalProperties":false}}]}'
)
V1_CALL_SESSION = (
    '{"audio":{"input":{"format":{"type":"audio/pcm","rate":24000}},"output":{"voice":"cove"}},'
    '"type":"quicksilver","model":"gpt-realtime-1.5","instructions":"backend prompt\\n\\nstartup '
    'context"}'
)


class FakeThread:
    """Records what the conversation does to its thread; waits per method, FIFO."""

    def __init__(self, cwd: Path) -> None:
        self.thread_id = THREAD
        self.cwd = cwd
        self.notifications: list[tuple[str, dict[str, Any]]] = []
        self.delegated: list[str] = []
        self.active_turn = False
        self.turns: list[tuple[str, str]] = []
        self._cursor: dict[str, int] = {}
        self._changed = asyncio.Event()

    def emit(self, method: str, params: dict[str, Any]) -> None:
        self.notifications.append((method, params))
        self._changed.set()

    def delegate(self, text: str) -> None:
        self.delegated.append(text)
        self._changed.set()

    def has_active_turn(self) -> bool:
        return self.active_turn

    def prior_turns(self) -> list[tuple[str, str]]:
        return list(self.turns)

    def of(self, method: str) -> list[dict[str, Any]]:
        return [params for m, params in self.notifications if m == method]

    async def next(self, method: str) -> dict[str, Any]:
        """The next not-yet-read notification with this method."""
        index = self._cursor.get(method, 0)
        async with asyncio.timeout(TIMEOUT):
            while len(self.of(method)) <= index:
                self._changed.clear()
                await self._changed.wait()
        self._cursor[method] = index + 1
        return self.of(method)[index]

    async def delegated_text(self, count: int = 1) -> list[str]:
        async with asyncio.timeout(TIMEOUT):
            while len(self.delegated) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.delegated

    # The thread layer's notifications for a delegated turn, played back by hand.
    def run_turn(
        self, conversation: RealtimeConversation, turn_id: str, messages: list[str], status: str
    ) -> None:
        conversation.on_thread_event(
            "turn/started", {"threadId": THREAD, "turn": {"id": turn_id, "status": "inProgress"}}
        )
        for index, text in enumerate(messages):
            item = {"type": "agentMessage", "id": f"msg-{index}", "text": text}
            conversation.on_thread_event(
                "item/completed", {"item": item, "threadId": THREAD, "turnId": turn_id}
            )
        conversation.on_thread_event(
            "turn/completed", {"threadId": THREAD, "turn": {"id": turn_id, "status": status}}
        )


@pytest.fixture
def thread(tmp_path: Path) -> FakeThread:
    return FakeThread(tmp_path)


@pytest.fixture
async def http_api() -> AsyncIterator[MockResponsesServer]:
    async with MockResponsesServer() as server:
        yield server


def settings_for(
    realtime: WebSocketTestServer | str, http_api: MockResponsesServer | str, version: str = "v2"
) -> RealtimeSettings:
    ws = realtime if isinstance(realtime, str) else realtime.uri
    http = http_api if isinstance(http_api, str) else http_api.uri
    return RealtimeSettings(
        version=version,
        session_type="conversational",
        config_voice=None,
        ws_base_url=ws,
        provider_base_url=f"{http}/v1",
        model="gpt-realtime-1.5",
        backend_prompt_override="backend prompt",
        startup_context_override="startup context",
        api_key="sk-test-key",
        originator="codex-app-server-tests",
        user_agent="codex-app-server-tests/0.120.0 (Linux; x86_64)",
        request_max_retries=0,
    )


def websocket_start(**changes: Any) -> StartRequest:
    request = StartRequest(
        prompt="backend prompt",
        prompt_present=True,
        session_id=None,
        transport="websocket",
        offer_sdp=None,
        voice=None,
    )
    return replace(request, **changes)


def webrtc_start(offer: str = "v=offer\r\n") -> StartRequest:
    return websocket_start(transport="webrtc", offer_sdp=offer)


def session_updated(session_id: str) -> dict[str, Any]:
    return {
        "type": "session.updated",
        "session": {"id": session_id, "instructions": "backend prompt"},
    }


def tool_call(call_id: str, prompt: str) -> dict[str, Any]:
    return {
        "type": "conversation.item.done",
        "item": {
            "id": f"item_{call_id}",
            "type": "function_call",
            "name": "background_agent",
            "call_id": call_id,
            "arguments": orjson.dumps({"prompt": prompt}).decode(),
        },
    }


def user_text_item(text: str) -> dict[str, Any]:
    return {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        },
    }


def progress(text: str) -> dict[str, Any]:
    return user_text_item(f"{text}\n\nUpdate from background agent (task hasn't finished yet):")


def function_output(call_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "conversation.item.create",
        "item": {
            "type": "function_call_output",
            "call_id": call_id,
            "output": f'"Agent Final Message":\n\n{text}',
        },
    }


AUDIO = {"data": "BQYH", "sampleRate": 24000, "numChannels": 1, "samplesPerChannel": 480}
RESPONSE_CREATE = {"type": "response.create"}


async def frame(server: WebSocketTestServer, index: int, connection: int = 0) -> Any:
    return (await server.wait_for_request(connection, index, timeout=TIMEOUT)).body_json()


async def assert_no_notification(thread: FakeThread, method: str, wait: float = 0.1) -> None:
    await asyncio.sleep(wait)
    assert thread.of(method) == [], thread.notifications


@contextlib.asynccontextmanager
async def conversation_for(
    thread: FakeThread, settings: RealtimeSettings
) -> AsyncIterator[RealtimeConversation]:
    conversation = RealtimeConversation(thread, settings)
    try:
        yield conversation
    finally:
        await conversation.close_silently()


# --- WebSocket transport --------------------------------------------------------------------------


async def test_websocket_session_streams_v2_notifications(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """Twin of realtime_conversation_streams_v2_notifications at the session level."""
    realtime = await start_websocket_server(
        [
            [
                [session_updated("sess_backend")],
                [],
                [
                    {
                        "type": "response.output_audio.delta",
                        "delta": "AQID",
                        "sample_rate": 24000,
                        "channels": 1,
                        "samples_per_channel": 512,
                    },
                    {
                        "type": "conversation.item.added",
                        "item": {
                            "type": "message",
                            "role": "assistant",
                            "content": [{"type": "text", "text": "hi"}],
                        },
                    },
                    {
                        "type": "conversation.item.input_audio_transcription.delta",
                        "delta": "delegate now",
                    },
                    {"type": "response.output_text.delta", "delta": "working"},
                    {
                        "type": "conversation.item.done",
                        "item": {
                            "id": "item_2",
                            "type": "function_call",
                            "name": "background_agent",
                            "call_id": "handoff_1",
                            "arguments": '{"input_transcript":"delegate now"}',
                        },
                    },
                    {"type": "error", "message": "upstream boom"},
                ],
                [],
            ]
        ]
    )
    settings = replace(settings_for(realtime, http_api), startup_context_override=None)
    async with conversation_for(thread, settings) as conversation:
        conversation.start(websocket_start(prompt=None, prompt_present=False, voice="cedar"))
        started = await thread.next("thread/realtime/started")
        assert started == {"threadId": THREAD, "sessionId": THREAD, "version": "v2"}
        session_update = await frame(realtime, 0)
        assert session_update["type"] == "session.update"
        assert session_update["session"]["audio"]["output"]["voice"] == "cedar"
        instructions = session_update["session"]["instructions"]
        assert instructions.startswith("backend prompt")
        assert STARTUP_CONTEXT_HEADER in instructions

        conversation.append_audio(AUDIO)
        conversation.append_text("hello")

        audio = await thread.next("thread/realtime/outputAudio/delta")
        assert audio == {
            "threadId": THREAD,
            "audio": {
                "data": "AQID",
                "sampleRate": 24000,
                "numChannels": 1,
                "samplesPerChannel": 512,
                "itemId": None,
            },
        }
        assert (await thread.next("thread/realtime/itemAdded"))["item"]["type"] == "message"
        first = await thread.next("thread/realtime/transcriptUpdated")
        assert (first["role"], first["text"]) == ("user", "delegate now")
        second = await thread.next("thread/realtime/transcriptUpdated")
        assert (second["role"], second["text"]) == ("assistant", "working")
        handoff = (await thread.next("thread/realtime/itemAdded"))["item"]
        assert handoff == {
            "type": "handoff_request",
            "handoff_id": "handoff_1",
            "item_id": "item_2",
            "input_transcript": "delegate now",
            "active_transcript": [],
        }
        error = await thread.next("thread/realtime/error")
        assert error == {"threadId": THREAD, "message": "upstream boom"}
        closed = await thread.next("thread/realtime/closed")
        assert closed == {"threadId": THREAD, "reason": "error"}
        assert thread.delegated == ["delegate now"]
        assert not conversation.is_running

        connection = realtime.single_connection()
        assert len(connection) == 3
        assert connection[0].body_json()["session"]["instructions"] == instructions
        assert sorted(r.body_json()["type"] for r in connection[1:]) == [
            "conversation.item.create",
            "input_audio_buffer.append",
        ]
        methods = [m for m, _ in thread.notifications]
        assert methods.index("thread/realtime/error") < methods.index("thread/realtime/closed")
    await realtime.shutdown()


async def test_websocket_handshake_url_and_headers(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """The handshake asks for the model, carries originator/auth/session id and nothing extra."""
    realtime = await start_websocket_server_with_headers(
        [WebSocketConnectionConfig(requests=[[]], close_after_requests=False)]
    )
    async with conversation_for(thread, settings_for(realtime, http_api)) as conversation:
        conversation.start(websocket_start(session_id="sess_custom"))
        started = await thread.next("thread/realtime/started")
        assert started["sessionId"] == "sess_custom"
        handshake = realtime.single_handshake()
        assert handshake.uri() == "/v1/realtime?model=gpt-realtime-1.5"
        assert handshake.header("originator") == "codex-app-server-tests"
        assert handshake.header("authorization") == "Bearer sk-test-key"
        assert handshake.header("x-session-id") == "sess_custom"
        for absent in ("user-agent", "sec-websocket-extensions", "sec-websocket-protocol"):
            assert handshake.header(absent) is None
    await realtime.shutdown()


async def test_v1_websocket_url_has_intent(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """A v1 session asks for the quicksilver intent before the model."""
    realtime = await start_websocket_server_with_headers(
        [WebSocketConnectionConfig(requests=[[]], close_after_requests=False)]
    )
    settings = settings_for(realtime, http_api, version="v1")
    async with conversation_for(thread, settings) as conversation:
        conversation.start(websocket_start())
        assert (await thread.next("thread/realtime/started"))["version"] == "v1"
        assert realtime.single_handshake().uri() == (
            "/v1/realtime?intent=quicksilver&model=gpt-realtime-1.5"
        )
        assert (await frame(realtime, 0))["session"]["type"] == "quicksilver"
    await realtime.shutdown()


async def test_stop_emits_closed_requested(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """Stopping a running session reports closed{requested}; stopping again reports it again."""
    realtime = await start_websocket_server([[[session_updated("sess_backend")], []]])
    async with conversation_for(thread, settings_for(realtime, http_api)) as conversation:
        conversation.start(websocket_start())
        await thread.next("thread/realtime/started")
        assert conversation.is_running
        await conversation.stop()
        assert thread.of("thread/realtime/closed") == [{"threadId": THREAD, "reason": "requested"}]
        assert not conversation.is_running
        await conversation.stop()
        assert len(thread.of("thread/realtime/closed")) == 2
        await assert_no_notification(thread, "thread/realtime/error")
    await realtime.shutdown()


async def test_input_before_the_socket_is_up_follows_session_update(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """Text and audio appended right after start arrive after session.update, in order."""
    realtime = await start_websocket_server_with_headers(
        [
            WebSocketConnectionConfig(
                requests=[[], [], [], []], accept_delay=0.2, close_after_requests=False
            )
        ]
    )
    async with conversation_for(thread, settings_for(realtime, http_api)) as conversation:
        conversation.start(websocket_start())
        assert conversation.is_running
        conversation.append_text("early text")
        conversation.append_audio(AUDIO)
        conversation.mirror_user_text("typed text")
        assert (await frame(realtime, 0))["type"] == "session.update"
        assert await frame(realtime, 1) == user_text_item("early text")
        assert await frame(realtime, 2) == {"type": "input_audio_buffer.append", "audio": "BQYH"}
        assert await frame(realtime, 3) == user_text_item("typed text")
        await thread.next("thread/realtime/started")
    await realtime.shutdown()


async def test_upstream_close_reports_transport_closed(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """When upstream closes the socket, clients get closed{transport_closed} and no error."""
    realtime = await start_websocket_server([[[session_updated("s")]]])
    async with conversation_for(thread, settings_for(realtime, http_api)) as conversation:
        conversation.start(websocket_start())
        closed = await thread.next("thread/realtime/closed")
        assert closed == {"threadId": THREAD, "reason": "transport_closed"}
        assert thread.of("thread/realtime/error") == []
        assert not conversation.is_running
    await realtime.shutdown()


async def test_upstream_drop_reports_error_then_closed(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """A connection dropped without a close frame is an error, then closed{error}."""
    realtime = await start_websocket_server_with_headers(
        [WebSocketConnectionConfig(requests=[[]], close_after_requests=False)]
    )
    async with conversation_for(thread, settings_for(realtime, http_api)) as conversation:
        conversation.start(websocket_start())
        await thread.next("thread/realtime/started")
        await frame(realtime, 0)
        await realtime.shutdown()
        error = await thread.next("thread/realtime/error")
        assert error["message"] == (
            "stream disconnected before completion: failed to read websocket message: "
            "WebSocket protocol error: Connection reset without closing handshake"
        )
        assert (await thread.next("thread/realtime/closed"))["reason"] == "error"


async def test_binary_frame_is_an_error(thread: FakeThread, http_api: MockResponsesServer) -> None:
    """Upstream binary frames end the session with an error."""

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.receive()
        await ws.send_bytes(b"\x00\x01")
        await ws.receive()
        return ws

    app = web.Application()
    app.router.add_get("/v1/realtime", handler)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        settings = settings_for(f"ws://127.0.0.1:{port}", http_api)
        async with conversation_for(thread, settings) as conversation:
            conversation.start(websocket_start())
            error = await thread.next("thread/realtime/error")
            assert error["message"] == "unexpected binary realtime websocket event"
            assert (await thread.next("thread/realtime/closed"))["reason"] == "error"
    finally:
        await runner.cleanup()


async def test_restart_replaces_the_session_silently(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """Starting again tears the old session down without a closed notification."""
    realtime = await start_websocket_server_with_headers(
        [
            WebSocketConnectionConfig(requests=[[], []], close_after_requests=False),
            WebSocketConnectionConfig(requests=[[], []], close_after_requests=False),
        ]
    )
    async with conversation_for(thread, settings_for(realtime, http_api)) as conversation:
        conversation.start(websocket_start())
        await thread.next("thread/realtime/started")
        conversation.start(websocket_start())
        await thread.next("thread/realtime/started")
        conversation.append_text("to the new one")
        assert await frame(realtime, 1, connection=1) == user_text_item("to the new one")
        await assert_no_notification(thread, "thread/realtime/closed")
        await conversation.close_silently()
        await assert_no_notification(thread, "thread/realtime/closed")
        assert not conversation.is_running
    await realtime.shutdown()


# --- start failures -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_connection_refused_reports_only_an_error(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """A refused connection is reported as an error, never as closed."""
    settings = settings_for(f"ws://127.0.0.1:{_free_port()}", http_api)
    async with conversation_for(thread, settings) as conversation:
        conversation.start(websocket_start())
        error = await thread.next("thread/realtime/error")
        assert error["message"] == (
            "stream disconnected before completion: failed to connect realtime websocket: "
            "IO error: Connection refused (os error 111)"
        )
        await assert_no_notification(thread, "thread/realtime/closed")
        assert thread.of("thread/realtime/started") == []
        assert not conversation.is_running


async def test_handshake_refusal_reports_http_status(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """A handshake answered with 404 is reported with the status line."""
    settings = settings_for(http_api.uri.replace("http", "ws"), http_api)
    async with conversation_for(thread, settings) as conversation:
        conversation.start(websocket_start())
        error = await thread.next("thread/realtime/error")
        assert error["message"] == (
            "stream disconnected before completion: failed to connect realtime websocket: "
            "HTTP error: 404 Not Found"
        )
        await assert_no_notification(thread, "thread/realtime/closed")


async def test_websocket_needs_an_api_key(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """Without an API key the WebSocket transport fails before connecting."""
    realtime = await start_websocket_server([[[]]])
    settings = replace(settings_for(realtime, http_api), api_key=None)
    async with conversation_for(thread, settings) as conversation:
        conversation.start(websocket_start())
        error = await thread.next("thread/realtime/error")
        assert error == {
            "threadId": THREAD,
            "message": "realtime conversation requires API key auth",
        }
        assert not await realtime.wait_for_handshakes(1, timeout=0.1)
    await realtime.shutdown()


async def test_wrong_version_voice_fails_without_connecting(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """A v2 voice on a v1 session is refused before any connection."""
    realtime = await start_websocket_server([[[]]])
    settings = settings_for(realtime, http_api, version="v1")
    async with conversation_for(thread, settings) as conversation:
        conversation.start(websocket_start(voice="cedar"))
        error = await thread.next("thread/realtime/error")
        assert error["message"] == (
            "realtime voice `cedar` is not supported for v1; supported voices: "
            "juniper, maple, spruce, ember, vale, breeze, arbor, sol, cove"
        )
        assert not await realtime.wait_for_handshakes(1, timeout=0.1)
    await realtime.shutdown()


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            500,
            "boom",
            "We're currently experiencing high demand, which may cause temporary errors.",
        ),
        (400, "bad offer sdp", "bad offer sdp"),
        (
            401,
            '{"error":{"message":"Incorrect API key"}}',
            "unexpected status 401 Unauthorized: Incorrect API key, url: {base}/v1/realtime/calls",
        ),
        (429, "slow down", "exceeded retry limit, last status: 429 Too Many Requests"),
    ],
)
async def test_call_create_errors_report_only_an_error(
    thread: FakeThread, http_api: MockResponsesServer, status: int, body: str, expected: str
) -> None:
    """A failed WebRTC call create is one error notification; no sideband, no closed."""
    http_api.mount_realtime_calls(status=status, body=body)
    realtime = await start_websocket_server([[[]]])
    async with conversation_for(thread, settings_for(realtime, http_api)) as conversation:
        conversation.start(webrtc_start())
        error = await thread.next("thread/realtime/error")
        assert error["message"] == expected.format(base=http_api.uri)
        await assert_no_notification(thread, "thread/realtime/closed")
        assert thread.of("thread/realtime/sdp") == []
        assert not await realtime.wait_for_handshakes(1, timeout=0.05)
    await realtime.shutdown()


async def test_call_create_without_location(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """A call answer without Location cannot be joined and is reported."""
    http_api.mount_realtime_calls(status=200, headers={})
    realtime = await start_websocket_server([[[]]])
    async with conversation_for(thread, settings_for(realtime, http_api)) as conversation:
        conversation.start(webrtc_start())
        error = await thread.next("thread/realtime/error")
        assert error["message"] == (
            "stream disconnected before completion: realtime call response missing Location"
        )
    await realtime.shutdown()


# --- WebRTC transport -----------------------------------------------------------------------------


async def test_webrtc_start_posts_offer_then_emits_started_and_sdp(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """Twin of realtime_webrtc_start_emits_sdp_notification: byte-exact form, sideband join."""
    http_api.mount_realtime_calls(headers={"Location": "/v1/realtime/calls/rtc_app_test"})
    realtime = await start_websocket_server_with_headers(
        [
            WebSocketConnectionConfig(
                requests=[[session_updated("sess_webrtc")]], close_after_requests=False
            )
        ]
    )
    async with conversation_for(thread, settings_for(realtime, http_api)) as conversation:
        conversation.start(webrtc_start())
        started = await thread.next("thread/realtime/started")
        assert started == {"threadId": THREAD, "sessionId": THREAD, "version": "v2"}
        sdp = await thread.next("thread/realtime/sdp")
        assert sdp == {"threadId": THREAD, "sdp": "v=answer\r\n"}
        methods = [m for m, _ in thread.notifications]
        assert methods[:2] == ["thread/realtime/started", "thread/realtime/sdp"]

        session_update = await frame(realtime, 0)
        assert session_update["type"] == "session.update"
        assert "startup context" in session_update["session"]["instructions"]
        assert realtime.single_handshake().uri() == "/v1/realtime?call_id=rtc_app_test"

        request = http_api.single_call_request()
        assert request.path == "/v1/realtime/calls"
        assert request.query is None
        assert request.header("content-type") == (
            "multipart/form-data; boundary=codex-realtime-call-boundary"
        )
        assert request.header("authorization") == "Bearer sk-test-key"
        assert request.header("x-session-id") == THREAD
        assert request.header("originator") == "codex-app-server-tests"
        assert request.header("accept") == "*/*"
        assert request.header("user-agent") == "codex-app-server-tests/0.120.0 (Linux; x86_64)"
        assert request.body_text() == (
            "--codex-realtime-call-boundary\r\n"
            'Content-Disposition: form-data; name="sdp"\r\n'
            "Content-Type: application/sdp\r\n"
            "\r\n"
            "v=offer\r\n"
            "\r\n"
            "--codex-realtime-call-boundary\r\n"
            'Content-Disposition: form-data; name="session"\r\n'
            "Content-Type: application/json\r\n"
            "\r\n"
            f"{V2_CALL_SESSION}\r\n"
            "--codex-realtime-call-boundary--\r\n"
        )

        await assert_no_notification(thread, "thread/realtime/closed")
        await conversation.stop()
        assert thread.of("thread/realtime/closed") == [{"threadId": THREAD, "reason": "requested"}]
    await realtime.shutdown()


async def test_webrtc_v1_joins_sideband_with_intent(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """Twin of webrtc_v1_start_posts_offer_returns_sdp_and_joins_sideband."""
    http_api.mount_realtime_calls()
    realtime = await start_websocket_server_with_headers(
        [
            WebSocketConnectionConfig(
                requests=[[session_updated("sess_v1_webrtc")]], close_after_requests=False
            )
        ]
    )
    settings = settings_for(realtime, http_api, version="v1")
    async with conversation_for(thread, settings) as conversation:
        conversation.start(webrtc_start())
        started = await thread.next("thread/realtime/started")
        assert started == {"threadId": THREAD, "sessionId": THREAD, "version": "v1"}
        assert (await thread.next("thread/realtime/sdp"))["sdp"] == "v=answer\r\n"
        body = http_api.single_call_request().body_text()
        assert (
            f'name="session"\r\nContent-Type: application/json\r\n\r\n{V1_CALL_SESSION}\r\n' in body
        )
        assert realtime.single_handshake().uri() == (
            "/v1/realtime?intent=quicksilver&call_id=rtc_e2e"
        )
        session_update = await frame(realtime, 0)
        assert session_update["session"]["type"] == "quicksilver"
        assert session_update["session"]["audio"]["output"]["voice"] == "cove"
        assert "tools" not in session_update["session"]
        await assert_no_notification(thread, "thread/realtime/closed")
    await realtime.shutdown()


async def test_webrtc_without_api_key_omits_authorization(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """WebRTC works without an API key; neither leg sends Authorization."""
    http_api.mount_realtime_calls()
    realtime = await start_websocket_server_with_headers(
        [WebSocketConnectionConfig(requests=[[]], close_after_requests=False)]
    )
    settings = replace(settings_for(realtime, http_api), api_key=None)
    async with conversation_for(thread, settings) as conversation:
        conversation.start(webrtc_start())
        await thread.next("thread/realtime/sdp")
        assert http_api.single_call_request().header("authorization") is None
        assert realtime.single_handshake().header("authorization") is None
    await realtime.shutdown()


async def test_webrtc_v1_handoff_delegates_and_appends_result(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """Twin of webrtc_v1_handoff_request_delegates_and_appends_result."""
    http_api.mount_realtime_calls()
    realtime = await start_websocket_server(
        [
            [
                [
                    session_updated("sess_v1_handoff"),
                    {"type": "conversation.input_transcript.delta", "delta": "delegate from v1"},
                    {
                        "type": "conversation.handoff.requested",
                        "handoff_id": "handoff_v1",
                        "item_id": "item_v1",
                        "input_transcript": "delegate from v1",
                    },
                ],
                [],
            ]
        ]
    )
    settings = settings_for(realtime, http_api, version="v1")
    async with conversation_for(thread, settings) as conversation:
        conversation.start(webrtc_start())
        await thread.next("thread/realtime/started")
        assert await thread.delegated_text() == ["user: delegate from v1"]
        handoff = (await thread.next("thread/realtime/itemAdded"))["item"]
        assert handoff["active_transcript"] == [{"role": "user", "text": "delegate from v1"}]
        thread.run_turn(conversation, "auto-compact-1", ["delegated from v1"], "completed")
        assert await frame(realtime, 1) == {
            "type": "conversation.handoff.append",
            "handoff_id": "handoff_v1",
            "output_text": '"Agent Final Message":\n\ndelegated from v1',
        }
    await realtime.shutdown()


async def test_webrtc_v2_forwards_audio_and_text(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """Twin of webrtc_v2_forwards_audio_and_text_between_client_and_sideband."""
    http_api.mount_realtime_calls()
    realtime = await start_websocket_server(
        [
            [
                [session_updated("sess_v2_stream")],
                [],
                [
                    {
                        "type": "conversation.item.input_audio_transcription.delta",
                        "delta": "transcribed audio",
                    },
                    {
                        "type": "response.output_audio.delta",
                        "delta": "AQID",
                        "sample_rate": 24000,
                        "channels": 1,
                        "samples_per_channel": 512,
                    },
                ],
            ]
        ]
    )
    async with conversation_for(thread, settings_for(realtime, http_api)) as conversation:
        conversation.start(webrtc_start())
        await thread.next("thread/realtime/sdp")
        assert (await frame(realtime, 0))["session"]["tools"][0]["name"] == "background_agent"
        conversation.append_audio(AUDIO)
        conversation.append_text("hello")
        transcript = await thread.next("thread/realtime/transcriptUpdated")
        assert transcript["text"] == "transcribed audio"
        assert (await thread.next("thread/realtime/outputAudio/delta"))["audio"]["data"] == "AQID"
        requests = [await frame(realtime, 1), await frame(realtime, 2)]
        assert {"type": "input_audio_buffer.append", "audio": "BQYH"} in requests
        assert user_text_item("hello") in requests
    await realtime.shutdown()


@pytest.mark.parametrize("finish", ["response.done", "response.cancelled"])
async def test_webrtc_v2_text_input_is_append_only(
    thread: FakeThread, http_api: MockResponsesServer, finish: str
) -> None:
    """Twin of the append-only text tests: text never adds a response.create."""
    http_api.mount_realtime_calls()
    realtime = await start_websocket_server(
        [
            [
                [session_updated("sess_v2_response_queue")],
                [
                    {"type": "response.created", "response": {"id": "resp_active"}},
                    {"type": "response.output_text.delta", "delta": "active response started"},
                ],
                [],
                [{"type": finish, "response": {"id": "resp_active"}}],
            ]
        ]
    )
    async with conversation_for(thread, settings_for(realtime, http_api)) as conversation:
        conversation.start(webrtc_start())
        await thread.next("thread/realtime/sdp")
        conversation.append_text("first")
        assert await frame(realtime, 1) == user_text_item("first")
        transcript = await thread.next("thread/realtime/transcriptUpdated")
        assert transcript["text"] == "active response started"
        conversation.append_text("second")
        assert await frame(realtime, 2) == user_text_item("second")
        conversation.append_audio(AUDIO)
        assert await frame(realtime, 3) == {"type": "input_audio_buffer.append", "audio": "BQYH"}
        await asyncio.sleep(0.1)
        assert len(realtime.single_connection()) == 4
    await realtime.shutdown()


async def test_webrtc_v2_tool_call_returns_progress_output_and_response_create(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """Twin of webrtc_v2_background_agent_tool_call_delegates_and_returns_function_output."""
    http_api.mount_realtime_calls()
    realtime = await start_websocket_server(
        [
            [
                [session_updated("sess_v2_tool"), tool_call("call_v2", "delegate from v2")],
                [],
                [],
                [],
            ]
        ]
    )
    async with conversation_for(thread, settings_for(realtime, http_api)) as conversation:
        conversation.start(webrtc_start())
        assert await thread.delegated_text() == ["delegate from v2"]
        thread.run_turn(conversation, "auto-compact-1", ["delegated from v2"], "completed")
        assert await frame(realtime, 1) == progress("delegated from v2")
        assert await frame(realtime, 2) == function_output("call_v2", "delegated from v2")
        assert await frame(realtime, 3) == RESPONSE_CREATE
        outputs = [
            r
            for r in realtime.single_connection()
            if r.body_json().get("item", {}).get("type") == "function_call_output"
        ]
        assert len(outputs) == 1
    await realtime.shutdown()


async def test_webrtc_v2_steering_ack_requests_response_create(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """Twin of webrtc_v2_background_agent_steering_ack_requests_response_create."""
    http_api.mount_realtime_calls()
    realtime = await start_websocket_server(
        [
            [
                [
                    session_updated("sess_v2_steering_ack"),
                    tool_call("call_active", "start a task"),
                    tool_call("call_steer", "steer the active task"),
                ],
                [],
                [],
                [],
                [],
            ]
        ]
    )
    async with conversation_for(thread, settings_for(realtime, http_api)) as conversation:
        conversation.start(webrtc_start())
        assert (await frame(realtime, 0))["session"]["type"] == "realtime"
        assert await frame(realtime, 1) == function_output("call_steer", ACK)
        assert await frame(realtime, 2) == RESPONSE_CREATE
        assert await thread.delegated_text(2) == ["start a task", "steer the active task"]
        thread.run_turn(conversation, "auto-compact-1", ["first task finished"], "completed")
        assert await frame(realtime, 3) == progress("first task finished")
        assert await frame(realtime, 4) == function_output("call_active", "first task finished")
    await realtime.shutdown()


async def test_webrtc_v2_tool_call_does_not_block_sideband_audio(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """Twin of webrtc_v2_tool_call_does_not_block_sideband_audio."""
    http_api.mount_realtime_calls()
    realtime = await start_websocket_server(
        [
            [
                [
                    session_updated("sess_v2_nonblocking"),
                    tool_call("call_audio", "delegate while audio continues"),
                    {
                        "type": "response.output_audio.delta",
                        "delta": "CQoL",
                        "sample_rate": 24000,
                        "channels": 1,
                        "samples_per_channel": 256,
                    },
                ],
                [],
                [],
            ]
        ]
    )
    async with conversation_for(thread, settings_for(realtime, http_api)) as conversation:
        conversation.start(webrtc_start())
        await thread.delegated_text()
        conversation.on_thread_event("turn/started", {"turn": {"id": "auto-compact-1"}})
        audio = await thread.next("thread/realtime/outputAudio/delta")
        assert audio["audio"]["data"] == "CQoL"
        thread.run_turn(conversation, "auto-compact-1", ["late delegated result"], "completed")
        assert await frame(realtime, 1) == progress("late delegated result")
        assert await frame(realtime, 2) == function_output("call_audio", "late delegated result")
    await realtime.shutdown()


async def test_frames_are_sent_as_text(thread: FakeThread, http_api: MockResponsesServer) -> None:
    """Every upstream frame is a WebSocket text frame holding compact JSON."""
    seen: list[tuple[web.WSMsgType, str]] = []
    done = asyncio.Event()

    async def handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            seen.append((message.type, message.data if isinstance(message.data, str) else ""))
            if len(seen) == 2:
                done.set()
        return ws

    app = web.Application()
    app.router.add_get("/v1/realtime", handler)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        settings = settings_for(f"ws://127.0.0.1:{port}", http_api)
        async with conversation_for(thread, settings) as conversation:
            conversation.start(websocket_start())
            await thread.next("thread/realtime/started")
            conversation.append_audio(AUDIO)
            async with asyncio.timeout(TIMEOUT):
                await done.wait()
        assert [kind for kind, _ in seen] == [web.WSMsgType.TEXT, web.WSMsgType.TEXT]
        assert seen[1][1] == '{"type":"input_audio_buffer.append","audio":"BQYH"}'
    finally:
        await runner.cleanup()


async def test_stop_while_connecting(thread: FakeThread, http_api: MockResponsesServer) -> None:
    """Stopping before the socket is up cancels the connect and reports closed{requested}."""
    realtime = await start_websocket_server_with_headers(
        [WebSocketConnectionConfig(requests=[[]], accept_delay=1.0)]
    )
    async with conversation_for(thread, settings_for(realtime, http_api)) as conversation:
        conversation.start(websocket_start())
        await asyncio.sleep(0.05)
        assert conversation.is_running
        await conversation.stop()
        assert thread.of("thread/realtime/closed") == [{"threadId": THREAD, "reason": "requested"}]
        await assert_no_notification(thread, "thread/realtime/started", wait=0.2)
        assert thread.of("thread/realtime/error") == []
    await realtime.shutdown()


async def test_prompt_null_with_generated_context(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """A null prompt and no config prompt leave only the generated startup context."""
    thread.turns = [("what is in src?", "Two packages.")]
    realtime = await start_websocket_server_with_headers(
        [WebSocketConnectionConfig(requests=[[]], close_after_requests=False)]
    )
    settings = replace(
        settings_for(realtime, http_api),
        backend_prompt_override="   ",
        startup_context_override=None,
    )
    async with conversation_for(thread, settings) as conversation:
        conversation.start(websocket_start(prompt=None, prompt_present=True))
        instructions = (await frame(realtime, 0))["session"]["instructions"]
        assert instructions.startswith(STARTUP_CONTEXT_HEADER)
        assert "User:\nwhat is in src?\n\nAssistant:\nTwo packages." in instructions
        assert f"Current working directory: {thread.cwd}" in instructions
    await realtime.shutdown()


async def test_disabled_startup_context_and_default_prompt(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """An empty startup-context override disables it; an absent prompt uses the default."""
    realtime = await start_websocket_server_with_headers(
        [WebSocketConnectionConfig(requests=[[]], close_after_requests=False)]
    )
    settings = replace(
        settings_for(realtime, http_api), backend_prompt_override=None, startup_context_override=""
    )
    async with conversation_for(thread, settings) as conversation:
        conversation.start(websocket_start(prompt=None, prompt_present=False))
        instructions = (await frame(realtime, 0))["session"]["instructions"]
        assert instructions.startswith("You are Codex")
        assert STARTUP_CONTEXT_HEADER not in instructions
    await realtime.shutdown()


async def test_call_create_retries_before_giving_up(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """With retries allowed, a throttled call create is tried again before failing."""
    http_api.mount_realtime_calls(status=429, body="")
    settings = replace(settings_for("ws://127.0.0.1:1", http_api), request_max_retries=1)
    async with conversation_for(thread, settings) as conversation:
        conversation.start(webrtc_start())
        error = await thread.next("thread/realtime/error")
        assert error["message"] == "exceeded retry limit, last status: 429 Too Many Requests"
        assert len(http_api.call_requests()) == 2


def test_settings_repr_hides_the_api_key() -> None:
    """The API key never shows up in the settings' repr."""
    settings = settings_for("ws://127.0.0.1:1", "http://127.0.0.1:1")
    assert "sk-test-key" not in repr(settings)


async def test_audio_the_writer_cannot_take_is_dropped_with_one_error_per_burst(
    thread: FakeThread, http_api: MockResponsesServer
) -> None:
    """Audio appended faster than it can be written waits up to MAX_QUEUED_AUDIO_FRAMES; the
    rest is dropped and the client is told once per burst. Once the queue drained, audio
    flows again, and a new burst is reported again."""
    realtime = await start_websocket_server_with_headers(
        [
            WebSocketConnectionConfig(
                requests=[[session_updated("s")]],
                close_after_requests=False,
                record_after_requests=True,
            )
        ]
    )
    async with conversation_for(thread, settings_for(realtime, http_api)) as conversation:
        conversation.start(websocket_start())
        await thread.next("thread/realtime/started")
        assert (await frame(realtime, 0))["type"] == "session.update"
        # No await in between: the writer cannot take any of it before the last append.
        for _ in range(MAX_QUEUED_AUDIO_FRAMES + 50):
            conversation.append_audio(AUDIO)
        [error] = thread.of("thread/realtime/error")
        assert error["threadId"] == THREAD
        assert error["message"].startswith("input audio dropped")
        assert (await frame(realtime, MAX_QUEUED_AUDIO_FRAMES))["type"] == (
            "input_audio_buffer.append"
        )
        conversation.append_audio(AUDIO)
        await frame(realtime, MAX_QUEUED_AUDIO_FRAMES + 1)  # flowing again
        for _ in range(MAX_QUEUED_AUDIO_FRAMES + 1):
            conversation.append_audio(AUDIO)
        assert len(thread.of("thread/realtime/error")) == 2
    await realtime.shutdown()
