"""Regressions: microphone audio while the Realtime upstream is slow to read."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import orjson
import pytest
from realtime_e2e.rig import audio_params, start_rig
from spec.test_realtime_conversation import SpecEnv
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.server import ServerProtocol

CHUNKS = 420
CHUNK_CHARS = 64 * 1024


class PausedUpstream:
    """A Realtime WebSocket that accepts the handshake, then does not read until `resume()`
    (a congested link); afterwards it counts every text frame it gets."""

    def __init__(self) -> None:
        self.texts: list[bytes] = []
        self.resumed = asyncio.Event()
        self.handshakes = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> PausedUpstream:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    @property
    def uri(self) -> str:
        assert self._server is not None
        return f"ws://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        protocol = ServerProtocol(max_size=None)
        with contextlib.suppress(ConnectionError):
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                protocol.receive_data(data)
                requests = [e for e in protocol.events_received() if isinstance(e, Request)]
                if requests:
                    protocol.send_response(protocol.accept(requests[0]))
                    for chunk in protocol.data_to_send():
                        writer.write(chunk)
                    await writer.drain()
                    self.handshakes += 1
                    break
            await self.resumed.wait()
            while True:
                data = await reader.read(1 << 20)
                if not data:
                    return
                protocol.receive_data(data)
                for event in protocol.events_received():
                    if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                        self.texts.append(event.data)

    def resume(self) -> None:
        self.resumed.set()

    async def close(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        if self._server is not None:
            self._server.close()


@pytest.fixture
async def paused_upstream() -> AsyncIterator[PausedUpstream]:
    server = await PausedUpstream().start()
    try:
        yield server
    finally:
        await server.close()


async def test_audio_sent_while_upstream_is_congested_is_not_silently_dropped(
    env: SpecEnv, paused_upstream: PausedUpstream
) -> None:
    """Audio appended while the upstream link is congested either reaches it once the link
    drains, or the client is told that audio was dropped; it is never lost without a word."""
    rig = await start_rig(env, paused_upstream.uri, log_level="warning")
    await rig.start_realtime()
    await rig.notification("thread/realtime/started")

    payload = "A" * CHUNK_CHARS
    lines = []
    for n in range(CHUNKS):
        lines.append(
            orjson.dumps(
                {
                    "id": 10_000 + n,
                    "method": "thread/realtime/appendAudio",
                    "params": audio_params(rig.thread_id, payload),
                }
            )
        )
    await rig.mcp.send_raw_bytes(b"\n".join(lines) + b"\n")
    for n in range(CHUNKS):
        await rig.mcp.read_stream_until_response_message(10_000 + n)

    paused_upstream.resume()
    # Wait until the upstream has read everything that is coming (the count stops growing).
    seen = -1
    while len(paused_upstream.texts) != seen:
        seen = len(paused_upstream.texts)
        await asyncio.sleep(0.4)
    audio = [t for t in paused_upstream.texts if b"input_audio_buffer.append" in t]
    told = rig.all_notifications("thread/realtime/error") + rig.all_notifications("error")
    dropped_in_log = "dropping realtime input audio" in rig.mcp.stderr_text()
    await rig.finish()
    assert len(audio) == CHUNKS or told, (
        f"{CHUNKS - len(audio)} of {CHUNKS} audio chunks never reached upstream and the client "
        f"was not told (server log mentions drops: {dropped_in_log})"
    )
