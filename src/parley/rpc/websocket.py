"""The WebSocket transport (`--listen ws://HOST:PORT`): one JSON-RPC connection per socket.

Every HTTP request is first checked by the `HandshakeGuard` (Origin, Host, `--ws-auth`; see
`rpc/ws_handshake.py`). Plain HTTP `GET /readyz` and `GET /healthz` then answer 200 so
supervisors can probe the listener. Each frame carries one JSON-RPC message, whatever its
layout; a frame over `MAX_MESSAGE_BYTES` closes the connection (1009, message too big).
Outgoing lines go through a bounded `QueuedSender`; a client that lets `MAX_QUEUED_BYTES` pile
up is disconnected with close code 1008.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Final

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from parley.rpc.outgoing import MAX_QUEUED_BYTES, OutgoingQueue
from parley.rpc.sender import QueuedSender
from parley.rpc.ws_auth import Refusal
from parley.rpc.ws_handshake import BAD_REQUEST, HandshakeGuard

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES: Final = 64 * 1024 * 1024
_SINGLE_HEADERS: Final = ("host", "origin", "authorization")

# session factory: given a write callback, returns (on_line, on_close)
SessionFactory = Callable[
    [Callable[[bytes], None]], tuple[Callable[[bytes], Awaitable[None]], Callable[[], None]]
]


def _text_response(status: int, body: str) -> Response:
    return Response(
        status,
        HTTPStatus(status).phrase,
        Headers([("Content-Type", "text/plain; charset=utf-8")]),
        (body + "\n").encode(),
    )


def _headers_of(request: Request) -> dict[str, str] | Refusal:
    """The headers the guard reads, lower-cased; a repeated one is refused, not guessed at."""
    found: dict[str, str] = {}
    for name in _SINGLE_HEADERS:
        values = request.headers.get_all(name)
        if len(values) > 1:
            return Refusal(BAD_REQUEST, f"repeated {name} header")
        if values:
            found[name] = values[0]
    return found


def _gatekeeper(
    guard: HandshakeGuard,
) -> Callable[[ServerConnection, Request], Response | None]:
    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        upgrade = "upgrade" in request.headers.get("Connection", "").lower()
        headers = _headers_of(request)
        refusal = headers if isinstance(headers, Refusal) else guard.check(headers, upgrade=upgrade)
        if refusal is not None:
            log.warning("refusing a websocket listener request: %s", refusal.reason)
            return _text_response(refusal.status, refusal.reason)
        path = request.path.split("?", 1)[0]
        if path in ("/readyz", "/healthz"):
            return _text_response(HTTPStatus.OK, "ok")
        if not upgrade:
            return _text_response(
                HTTPStatus.NOT_FOUND,
                "not found: connect with a WebSocket, or GET /readyz or /healthz",
            )
        return None

    return process_request


async def listen_websocket(
    host: str,
    port: int,
    make_session: SessionFactory,
    guard: HandshakeGuard,
    *,
    queue_factory: Callable[[], OutgoingQueue] = OutgoingQueue,
) -> Server:
    async def handler(connection: ServerConnection) -> None:
        async def send(data: bytes) -> None:
            try:
                await connection.send(data.rstrip(b"\n").decode("utf-8"))
            except ConnectionClosed as exc:
                raise ConnectionError("websocket closed") from exc

        sender = QueuedSender(send, queue_factory())
        on_line, on_close = make_session(sender.write)
        send_task = asyncio.create_task(_send_then_close(sender, connection))
        try:
            async for message in connection:
                # One frame is one message, however it is laid out (pretty-printed JSON too).
                raw = message.encode("utf-8") if isinstance(message, str) else message
                await on_line(raw.replace(b"\r", b"").replace(b"\n", b" "))
        except ConnectionClosed:
            pass
        finally:
            on_close()
            sender.close()
            with contextlib.suppress(asyncio.CancelledError):
                await send_task

    return await serve(
        handler,
        host,
        port,
        process_request=_gatekeeper(guard),
        compression=None,
        max_size=MAX_MESSAGE_BYTES,
    )


async def _send_then_close(sender: QueuedSender, connection: ServerConnection) -> None:
    await sender.run()
    if sender.overflowed:
        await connection.close(
            CloseCode.POLICY_VIOLATION,
            f"client stopped reading: more than {MAX_QUEUED_BYTES // (1024 * 1024)} MiB waiting",
        )
