"""Regressions: realtime session lifecycle through the real app-server and local upstreams."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
from collections.abc import AsyncIterator

import pytest
from realtime_e2e.rig import Rig, start_rig
from realtime_e2e.upstream import LiveUpstream
from spec.test_realtime_conversation import (
    SpecEnv,
    assert_v2_session_update,
    webrtc_transport,
)

_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class DeafUpstream:
    """A WebSocket server that completes the opening handshake and then never writes again:
    it does not answer a Close frame (a stalled peer, or one behind a broken proxy)."""

    def __init__(self) -> None:
        self.accepted = 0
        self.disconnected = 0
        self.changed = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> DeafUpstream:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    @property
    def uri(self) -> str:
        assert self._server is not None
        return f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        head = await reader.readuntil(b"\r\n\r\n")
        key = ""
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "sec-websocket-key":
                key = value.strip()
        accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
        writer.write(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        self.accepted += 1
        self.changed.set()
        with contextlib.suppress(ConnectionError):
            while await reader.read(65536):
                pass
        self.disconnected += 1

    async def close(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        if self._server is not None:
            self._server.close()


@pytest.fixture
async def deaf_upstream() -> AsyncIterator[DeafUpstream]:
    server = await DeafUpstream().start()
    try:
        yield server
    finally:
        await server.close()


async def _wait_accepted(upstream: DeafUpstream, count: int) -> None:
    async with asyncio.timeout(5.0):
        while upstream.accepted < count:
            upstream.changed.clear()
            await upstream.changed.wait()


async def test_stop_reports_closed_promptly_even_if_upstream_does_not_ack_the_close(
    env: SpecEnv, deaf_upstream: DeafUpstream
) -> None:
    """`thread/realtime/stop` is followed at once by `closed{requested}`; it does not wait for
    the upstream to finish the WebSocket closing handshake first."""
    rig = await start_rig(env, deaf_upstream.uri)
    await rig.start_realtime()
    await rig.notification("thread/realtime/started")
    await rig.stop()
    await rig.notification("thread/realtime/closed")
    # Parley gives up on an unanswered close only after its close timeout, and only then drops
    # the connection: `closed` arriving while the connection still stands shows it did not wait.
    assert deaf_upstream.disconnected == 0, "closed was reported only after the close handshake"
    await rig.finish()


async def test_closed_of_a_stopped_session_never_follows_the_next_sessions_started(
    env: SpecEnv, deaf_upstream: DeafUpstream
) -> None:
    """Stop, then start again at once: the `closed` of the old session comes before the new
    session's `started`, so a client does not take the new session for closed."""
    rig = await start_rig(env, deaf_upstream.uri)
    await rig.start_realtime()
    await rig.notification("thread/realtime/started")

    await rig.stop()
    await rig.start_realtime()
    await rig.notification("thread/realtime/closed")
    await _wait_accepted(deaf_upstream, 2)
    await asyncio.sleep(0.3)
    started = rig.index_of("thread/realtime/started")
    methods = [
        m.get("method")
        for m in rig.mcp.received_messages()
        if str(m.get("method", "")).startswith("thread/realtime/")
    ]
    assert methods == [
        "thread/realtime/started",
        "thread/realtime/closed",
        "thread/realtime/started",
    ], methods
    assert started >= 0
    await rig.finish()


async def test_realtime_errors_never_carry_the_api_key(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """An upstream that echoes the API key in an error (a call-create failure body or a realtime
    `error` event) does not get the key into client notifications; the Responses path already
    masks it the same way."""
    secret = "sk-test-secret-123456"
    rig: Rig = await start_rig(env, upstream.uri, api_key=secret)

    rig.responses.mount_realtime_calls(
        status=401,
        headers={"Content-Type": "application/json"},
        body='{"error":{"message":"Incorrect API key provided: ' + secret + '"}}',
    )
    await rig.start_realtime(transport=webrtc_transport("v=offer\r\n"))
    await rig.notification("thread/realtime/error")
    rig.responses.mount_realtime_calls(status=400, headers={}, body=f"bad key {secret}")
    await rig.start_realtime(transport=webrtc_transport("v=offer\r\n"))
    await rig.notification("thread/realtime/error")

    await rig.start_realtime()
    await rig.notification("thread/realtime/started")
    connection = await upstream.wait_for_connection(0)
    assert_v2_session_update((await connection.wait_for_frames(1))[0])
    await connection.send({"type": "error", "error": {"message": f"bad auth {secret}"}})
    await rig.notification("thread/realtime/closed")

    leaked = [m for m in rig.mcp.received_messages() if secret in repr(m)]
    await rig.finish()
    assert leaked == [], f"API key sent to the client: {leaked}"


async def test_not_running_status_matches_what_thread_read_reports(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """appendText with no session announces `systemError` once (the reference only sends a
    status change when the status changes) and `thread/read` then reports the same status."""
    rig = await start_rig(env, upstream.uri)
    await rig.append_text("nobody listens")
    await rig.notification("error")
    await rig.append_text("still nobody")
    await rig.notification("error")

    statuses = rig.all_notifications("thread/status/changed")
    read = await rig.mcp.request("thread/read", {"threadId": rig.thread_id})
    await rig.finish()
    assert read["thread"]["status"] == statuses[-1]["status"], (read["thread"]["status"], statuses)
    assert len(statuses) == 1, statuses
