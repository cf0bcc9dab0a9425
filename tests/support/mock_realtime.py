"""A scripted stand-in for the OpenAI Realtime API WebSocket (the "sideband").

Twin of upstream `core_test_support::responses::start_websocket_server[_with_headers]`. A real
server on 127.0.0.1 (ephemeral port) in the test's event loop, speaking WebSocket through the
sans-IO `websockets.server.ServerProtocol` so that the script fully controls when bytes move.

Script semantics (as upstream):

* Each accepted TCP connection takes the next `WebSocketConnectionConfig`, in accept order. When
  none is left the connection is closed at once, without a handshake.
* `accept_delay` sleeps after the TCP accept, before the handshake is read and answered. The
  handshake's request URI (path and query) and headers are recorded; `response_headers` are added
  to the 101 answer.
* For each batch in `requests`, in order: wait for **one** client data frame, record it (if it is
  JSON), then send the batch's events as JSON text frames. So batch *k* goes out only after the
  client's *k*-th frame (0-based), and the client's frame *k* is the `request_index` *k* of
  `wait_for_request`. A client frame that is not JSON still uses up its batch but is not recorded
  (see `ignored_messages()`); ping/pong are answered and never count.
* After the last batch: `close_after_requests=True` sends a Close frame without a code and closes
  the TCP connection (after at most a second for the client's Close); `False` keeps the connection
  open until `shutdown()`, which then drops it without a Close frame. Frames the client sends on a
  kept-open connection are read (so pings and a client Close are answered) but not recorded,
  because upstream does not read them; set `record_after_requests=True` to record them as well.
* If the client goes away mid-script, the script for that connection stops.

Deliberate differences from upstream: connections are served concurrently (upstream serves them
one at a time, so a second connection waits until the first closes), and the listener keeps
accepting (and dropping) connections after the configured ones are used. A batch item that is a
`str` is sent verbatim (to script malformed upstream frames).
"""

# Waiting helpers take their own deadline so a timeout can say what was seen instead.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

import orjson
from websockets.exceptions import InvalidState
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import SEND_EOF
from websockets.server import ServerProtocol

__all__ = [
    "WebSocketConnectionConfig",
    "WebSocketHandshake",
    "WebSocketRequest",
    "WebSocketTestServer",
    "start_websocket_server",
    "start_websocket_server_with_headers",
]

DEFAULT_TIMEOUT = 10.0
# How long a closing connection waits for the client's Close frame before dropping TCP.
_CLOSE_GRACE_S = 1.0
_READ_CHUNK = 1 << 16

ServerEvent = dict[str, Any] | str
_T = TypeVar("_T")


@dataclass
class WebSocketConnectionConfig:
    """The script for one connection; see the module docstring."""

    requests: list[list[ServerEvent]]
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    accept_delay: float | None = None
    close_after_requests: bool = True
    # Parley extension: on a kept-open connection, also record frames sent after the script.
    record_after_requests: bool = False


@dataclass(frozen=True)
class WebSocketRequest:
    """One JSON frame the client sent."""

    text: str
    body: Any
    # `time.perf_counter()` when the frame was recorded (for benchmarks).
    received_at: float = field(default_factory=time.perf_counter, compare=False, repr=False)

    def body_json(self) -> Any:
        """The frame's JSON value (a copy, so callers may mutate it)."""
        return copy.deepcopy(self.body)


@dataclass(frozen=True)
class WebSocketHandshake:
    """The HTTP upgrade request of one accepted connection."""

    request_uri: str
    headers: tuple[tuple[str, str], ...]

    def uri(self) -> str:
        """Path plus query, e.g. `/v1/realtime?call_id=rtc_app_test`."""
        return self.request_uri

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class _Peer:
    """Moves bytes between an asyncio stream pair and a sans-IO `ServerProtocol`."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.protocol = ServerProtocol(extensions=[ServerPerMessageDeflateFactory()], max_size=None)
        self.messages: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self._fragments: list[bytes] = []
        self._fragment_opcode: Opcode | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self.eof = asyncio.Event()

    def _flush(self) -> None:
        for chunk in self.protocol.data_to_send():
            if self.writer.is_closing():
                return
            if chunk == SEND_EOF:
                if self.writer.can_write_eof():
                    self.writer.write_eof()
            else:
                self.writer.write(chunk)

    async def read_handshake(self) -> Request | None:
        while True:
            data = await self.reader.read(_READ_CHUNK)
            if data:
                self.protocol.receive_data(data)
            else:
                self.protocol.receive_eof()
            for event in self.protocol.events_received():
                if isinstance(event, Request):
                    return event
            self._flush()
            if not data or self.protocol.handshake_exc is not None:
                return None

    async def answer_handshake(
        self, request: Request, extra_headers: list[tuple[str, str]], on_accept: Callable[[], None]
    ) -> bool:
        """Answer the upgrade; `on_accept` runs just before a 101 is sent."""
        response = self.protocol.accept(request)
        accepted = response.status_code == 101
        if accepted:
            for name, value in extra_headers:
                # Replace, as upstream's `HeaderMap::insert` does.
                if name in response.headers:
                    del response.headers[name]
                response.headers[name] = value
            on_accept()
        self.protocol.send_response(response)
        self._flush()
        await self.writer.drain()
        if accepted:
            self._reader_task = asyncio.ensure_future(self._read_frames())
        return accepted

    async def _read_frames(self) -> None:
        try:
            while True:
                data = await self.reader.read(_READ_CHUNK)
                if data:
                    self.protocol.receive_data(data)
                else:
                    self.protocol.receive_eof()
                for event in self.protocol.events_received():
                    if isinstance(event, Frame):
                        self._on_frame(event)
                self._flush()
                if not data:
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            self.eof.set()
            self.messages.put_nowait(None)

    def _on_frame(self, frame: Frame) -> None:
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            self._fragment_opcode = frame.opcode
            self._fragments = [frame.data]
        elif frame.opcode is Opcode.CONT:
            self._fragments.append(frame.data)
        elif frame.opcode is Opcode.CLOSE:
            # The client is leaving; the script must not wait for the TCP close to notice.
            self.messages.put_nowait(None)
            return
        else:
            return
        if frame.fin:
            data = b"".join(self._fragments)
            self._fragments = []
            message: str | bytes = (
                data.decode("utf-8", "replace") if self._fragment_opcode is Opcode.TEXT else data
            )
            self.messages.put_nowait(message)

    async def next_message(self) -> str | bytes | None:
        """The client's next data message, or None once it closed or went away."""
        if self.eof.is_set() and self.messages.empty():
            return None
        return await self.messages.get()

    async def send_text(self, text: str) -> bool:
        try:
            self.protocol.send_text(text.encode("utf-8"))
        except InvalidState:
            return False
        self._flush()
        try:
            await self.writer.drain()
        except (ConnectionError, OSError):
            return False
        return True

    async def close(self) -> None:
        """Send a Close frame without a code, then close the TCP connection."""
        with contextlib.suppress(InvalidState):
            self.protocol.send_close()
            self._flush()
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.drain()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.eof.wait(), _CLOSE_GRACE_S)
        self.abort()

    def abort(self) -> None:
        """Drop the TCP connection without a Close frame."""
        if self._reader_task is not None:
            self._reader_task.cancel()
        transport = self.writer.transport
        if not transport.is_closing():
            transport.abort()


class WebSocketTestServer:
    """The scripted Realtime WebSocket server; see the module docstring."""

    def __init__(self, connections: list[WebSocketConnectionConfig]) -> None:
        self._pending: deque[WebSocketConnectionConfig] = deque(connections)
        self._connections: list[list[WebSocketRequest]] = []
        self._handshakes: list[WebSocketHandshake] = []
        self._ignored: list[tuple[int, str | bytes]] = []
        # Per connection, `time.perf_counter()` after each scripted batch was sent (benchmarks).
        self._batch_sent_at: list[list[float]] = []
        self._updated = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._peers: set[_Peer] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._port: int | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> WebSocketTestServer:
        self._server = await asyncio.start_server(self._on_connect, "127.0.0.1", 0)
        self._port = self._server.sockets[0].getsockname()[1]
        return self

    async def shutdown(self) -> None:
        """Stop listening and drop every connection still open (no Close frame)."""
        if self._server is not None:
            self._server.close()
        for peer in list(self._peers):
            peer.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            server, self._server = self._server, None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 1.0)

    async def __aenter__(self) -> WebSocketTestServer:
        if self._server is None:
            await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.shutdown()

    @property
    def uri(self) -> str:
        """`ws://127.0.0.1:PORT`."""
        if self._port is None:
            raise RuntimeError("WebSocketTestServer is not started")
        return f"ws://127.0.0.1:{self._port}"

    # -- inspection ------------------------------------------------------------------------------

    def connections(self) -> list[list[WebSocketRequest]]:
        """The recorded JSON frames, one list per accepted connection."""
        return [list(frames) for frames in self._connections]

    def single_connection(self) -> list[WebSocketRequest]:
        """The frames of the only connection; fails unless there was exactly one."""
        assert len(self._connections) == 1, f"expected 1 connection, got {len(self._connections)}"
        return list(self._connections[0])

    def handshakes(self) -> list[WebSocketHandshake]:
        return list(self._handshakes)

    def single_handshake(self) -> WebSocketHandshake:
        """The only handshake; fails unless there was exactly one."""
        assert len(self._handshakes) == 1, f"expected 1 handshake, got {len(self._handshakes)}"
        return self._handshakes[0]

    def batch_sent_times(self, connection_index: int = 0) -> list[float]:
        """`time.perf_counter()` after each scripted batch of that connection went out."""
        if connection_index < len(self._batch_sent_at):
            return list(self._batch_sent_at[connection_index])
        return []

    def ignored_messages(self) -> list[tuple[int, str | bytes]]:
        """(connection index, message) for client data frames that were not JSON."""
        return list(self._ignored)

    async def wait_for_request(
        self, connection_index: int, request_index: int, timeout: float = DEFAULT_TIMEOUT
    ) -> WebSocketRequest:
        """Wait until connection `connection_index` recorded its frame `request_index`."""

        def found() -> WebSocketRequest | None:
            if connection_index < len(self._connections):
                frames = self._connections[connection_index]
                if request_index < len(frames):
                    return frames[request_index]
            return None

        try:
            return await self._wait_until(found, timeout)
        except TimeoutError:
            raise AssertionError(
                f"no websocket request {request_index} on connection {connection_index} within "
                f"{timeout}s; recorded so far: {self._describe()}"
            ) from None

    async def wait_for_handshakes(self, expected: int, timeout: float = DEFAULT_TIMEOUT) -> bool:
        """True once at least `expected` handshakes were seen, False after `timeout`."""
        try:
            await self._wait_until(
                lambda: True if len(self._handshakes) >= expected else None, timeout
            )
        except TimeoutError:
            return False
        return True

    async def wait_for_handshake(
        self, index: int = 0, timeout: float = DEFAULT_TIMEOUT
    ) -> WebSocketHandshake:
        """Wait for handshake number `index` (0-based) and return it."""
        if not await self.wait_for_handshakes(index + 1, timeout):
            raise AssertionError(
                f"no websocket handshake {index} within {timeout}s (saw {len(self._handshakes)})"
            )
        return self._handshakes[index]

    async def _wait_until(self, probe: Callable[[], _T | None], timeout: float) -> _T:
        async with asyncio.timeout(timeout):
            while True:
                value = probe()
                if value is not None:
                    return value
                await self._updated.wait()

    def _notify(self) -> None:
        self._updated.set()
        self._updated = asyncio.Event()

    def _describe(self) -> str:
        parts = []
        for index, frames in enumerate(self._connections):
            types = [
                f.body.get("type") if isinstance(f.body, dict) else type(f.body).__name__
                for f in frames
            ]
            parts.append(f"connection {index}: {types}")
        return "; ".join(parts) or "no connections"

    # -- serving ---------------------------------------------------------------------------------

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        peer = _Peer(reader, writer)
        self._peers.add(peer)
        try:
            config = self._pending.popleft() if self._pending else None
            if config is None:
                return
            await self._serve(peer, config)
        except (ConnectionError, OSError):
            pass
        finally:
            peer.abort()
            self._peers.discard(peer)
            if task is not None:
                self._tasks.discard(task)

    async def _serve(self, peer: _Peer, config: WebSocketConnectionConfig) -> None:
        if config.accept_delay:
            await asyncio.sleep(config.accept_delay)
        request = await peer.read_handshake()
        if request is None:
            return
        if not await self._accept(peer, request, config):
            return
        index = len(self._connections) - 1
        for batch in config.requests:
            message = await peer.next_message()
            if message is None:
                return
            self._record(index, message)
            for event in batch:
                text = event if isinstance(event, str) else orjson.dumps(event).decode()
                if not await peer.send_text(text):
                    break
            self._batch_sent_at[index].append(time.perf_counter())
        if config.close_after_requests:
            await peer.close()
            return
        while (message := await peer.next_message()) is not None:
            if config.record_after_requests:
                self._record(index, message)
        # The client left; keep nothing open on our side either.

    async def _accept(
        self, peer: _Peer, request: Request, config: WebSocketConnectionConfig
    ) -> bool:
        def record_handshake() -> None:
            # Recorded before the 101 goes out, as upstream's handshake callback does; a failed
            # upgrade is neither recorded nor given a connection log.
            self._handshakes.append(
                WebSocketHandshake(
                    request_uri=request.path,
                    headers=tuple((k.lower(), v) for k, v in request.headers.raw_items()),
                )
            )
            self._connections.append([])
            self._batch_sent_at.append([])
            self._notify()

        return await peer.answer_handshake(request, config.response_headers, record_handshake)

    def _record(self, connection_index: int, message: str | bytes) -> None:
        try:
            body = orjson.loads(message)
        except orjson.JSONDecodeError:
            self._ignored.append((connection_index, message))
            return
        text = message if isinstance(message, str) else message.decode("utf-8", "replace")
        self._connections[connection_index].append(WebSocketRequest(text=text, body=body))
        self._notify()


async def start_websocket_server(connections: list[list[list[ServerEvent]]]) -> WebSocketTestServer:
    """Start a server whose connections close after their batches (upstream defaults)."""
    return await start_websocket_server_with_headers(
        [WebSocketConnectionConfig(requests=batches) for batches in connections]
    )


async def start_websocket_server_with_headers(
    connections: list[WebSocketConnectionConfig],
) -> WebSocketTestServer:
    """Start a server with full per-connection configs."""
    return await WebSocketTestServer(connections).start()
