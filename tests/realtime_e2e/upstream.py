"""A hand-driven stand-in for the Realtime API WebSocket, for tests that need to see or cause
what the scripted `support.mock_realtime` server cannot: when a connection ends (and whether a
Close frame came first), every TCP accept (even one that never sends a handshake), and upstream
events pushed at a moment the test chooses.

A real server on 127.0.0.1 (ephemeral port) in the test's event loop, speaking WebSocket through
the sans-IO `websockets.server.ServerProtocol`. Every handshake is accepted (no extensions, no
subprotocol); every JSON text frame the client sends is recorded, in order, per connection.
Nothing is sent unless the test calls `send()`; `close()` sends a Close frame with the given
code; `abort()` drops the TCP connection without a Close frame. While `hold_handshakes` is set,
handshakes wait (the client stays connecting) until `release_handshakes()`.
"""

# Waiting helpers take their own deadline so a timeout can say what was seen instead.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

import orjson
from websockets.exceptions import InvalidState
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import SEND_EOF
from websockets.server import ServerProtocol

DEFAULT_TIMEOUT = 10.0
_READ_CHUNK = 1 << 16
_T = TypeVar("_T")


class UpstreamConnection:
    """One accepted WebSocket connection: its handshake, the client's frames, how it ended."""

    def __init__(
        self,
        server: LiveUpstream,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self._server = server
        self._reader = reader
        self._writer = writer
        self._protocol = ServerProtocol(max_size=None)
        self._fragments: list[bytes] = []
        self._fragment_opcode: Opcode | None = None
        self.request_uri: str = ""
        self.headers: dict[str, str] = {}
        self.frames: list[Any] = []
        self.non_json_frames: list[str | bytes] = []
        self.close_frame_received = False
        self.ended = asyncio.Event()

    # -- inspection ------------------------------------------------------------------------------

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def frame_types(self) -> list[Any]:
        return [f.get("type") if isinstance(f, dict) else f for f in self.frames]

    async def wait_for_frames(self, count: int, timeout: float = DEFAULT_TIMEOUT) -> list[Any]:
        """Wait until at least `count` JSON frames arrived; returns all frames so far."""
        try:
            await self._server.wait_until(
                lambda: True if len(self.frames) >= count else None, timeout
            )
        except TimeoutError:
            raise AssertionError(
                f"expected {count} frame(s) on {self.request_uri} within {timeout}s, got "
                f"{len(self.frames)}: {self.frame_types()}"
            ) from None
        return list(self.frames)

    async def wait_ended(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until the client went away (Close frame, FIN or reset)."""
        try:
            await asyncio.wait_for(self.ended.wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"upstream connection {self.request_uri} still open after {timeout}s"
            ) from None

    # -- acting ----------------------------------------------------------------------------------

    async def send(self, event: dict[str, Any] | str) -> None:
        """Send one upstream event as a JSON text frame (a `str` is sent verbatim)."""
        text = event if isinstance(event, str) else orjson.dumps(event).decode()
        self._protocol.send_text(text.encode())
        self._flush()
        await self._writer.drain()

    async def send_binary(self, data: bytes) -> None:
        self._protocol.send_binary(data)
        self._flush()
        await self._writer.drain()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake with a Close frame carrying `code` and `reason`."""
        self._protocol.send_close(code, reason)
        self._flush()
        await self._writer.drain()

    def abort(self) -> None:
        """Drop the TCP connection at once, without a Close frame."""
        if not self._writer.transport.is_closing():
            self._writer.transport.abort()

    # -- serving ---------------------------------------------------------------------------------

    def _flush(self) -> None:
        for chunk in self._protocol.data_to_send():
            if self._writer.transport.is_closing():
                return
            if chunk == SEND_EOF:
                if self._writer.can_write_eof():
                    self._writer.write_eof()
            else:
                self._writer.write(chunk)

    async def _handshake(self) -> bool:
        while True:
            data = await self._reader.read(_READ_CHUNK)
            if data:
                self._protocol.receive_data(data)
            else:
                self._protocol.receive_eof()
            for event in self._protocol.events_received():
                if isinstance(event, Request):
                    return await self._accept(event)
            self._flush()
            if not data or self._protocol.handshake_exc is not None:
                return False

    async def _accept(self, request: Request) -> bool:
        if not self._server.handshakes_allowed.is_set():
            self._server.handshakes_waiting += 1
            self._server.notify()
            await self._server.handshakes_allowed.wait()
        response = self._protocol.accept(request)
        if response.status_code == 101:
            self.request_uri = request.path
            self.headers = {k.lower(): v for k, v in request.headers.raw_items()}
            self._server.connections.append(self)
            self._server.notify()
        self._protocol.send_response(response)
        self._flush()
        await self._writer.drain()
        return response.status_code == 101

    async def _pump(self) -> None:
        while True:
            data = await self._reader.read(_READ_CHUNK)
            if data:
                self._protocol.receive_data(data)
            else:
                self._protocol.receive_eof()
            for event in self._protocol.events_received():
                if isinstance(event, Frame):
                    self._on_frame(event)
            with contextlib.suppress(InvalidState):
                self._flush()
            if not data:
                return

    def _on_frame(self, frame: Frame) -> None:
        if frame.opcode is Opcode.CLOSE:
            self.close_frame_received = True
            return
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            self._fragment_opcode = frame.opcode
            self._fragments = [frame.data]
        elif frame.opcode is Opcode.CONT:
            self._fragments.append(frame.data)
        else:
            return
        if not frame.fin:
            return
        data = b"".join(self._fragments)
        self._fragments = []
        if self._fragment_opcode is not Opcode.TEXT:
            self.non_json_frames.append(data)
            return
        try:
            self.frames.append(orjson.loads(data))
        except orjson.JSONDecodeError:
            self.non_json_frames.append(data.decode("utf-8", "replace"))
        self._server.notify()

    async def serve(self) -> None:
        try:
            if await self._handshake():
                await self._pump()
        except (ConnectionError, OSError):
            pass
        finally:
            self.abort()
            self.ended.set()
            self._server.notify()


class LiveUpstream:
    """The hand-driven Realtime WebSocket server; see the module docstring."""

    def __init__(self) -> None:
        self.connections: list[UpstreamConnection] = []
        # Every TCP connection accepted, handshake or not.
        self.tcp_accepts = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()
        self.handshakes_allowed = asyncio.Event()
        self.handshakes_allowed.set()
        self.handshakes_waiting = 0

    async def start(self) -> LiveUpstream:
        self._server = await asyncio.start_server(self._on_connect, "127.0.0.1", 0)
        return self

    @property
    def uri(self) -> str:
        assert self._server is not None, "LiveUpstream is not started"
        port = self._server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    async def shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in self.connections:
            connection.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            server, self._server = self._server, None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 1.0)

    async def __aenter__(self) -> LiveUpstream:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, probe: Callable[[], _T | None], timeout: float) -> _T:
        async with asyncio.timeout(timeout):
            while True:
                value = probe()
                if value is not None:
                    return value
                await self._changed.wait()

    async def wait_for_connection(
        self, index: int, timeout: float = DEFAULT_TIMEOUT
    ) -> UpstreamConnection:
        """Wait for the `index`-th (0-based) accepted WebSocket connection."""
        try:
            return await self.wait_until(
                lambda: self.connections[index] if len(self.connections) > index else None,
                timeout,
            )
        except TimeoutError:
            raise AssertionError(
                f"no upstream connection {index} within {timeout}s "
                f"(saw {len(self.connections)}, {self.tcp_accepts} TCP accepts)"
            ) from None

    def hold_handshakes(self) -> None:
        self.handshakes_allowed.clear()

    def release_handshakes(self) -> None:
        self.handshakes_allowed.set()

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.tcp_accepts += 1
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await UpstreamConnection(self, reader, writer).serve()
        finally:
            if task is not None:
                self._tasks.discard(task)
