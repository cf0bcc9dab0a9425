"""The WebSocket transport (`--listen ws://HOST:PORT`): one JSON-RPC connection per socket.

Each frame carries one JSON-RPC message, whatever its layout. Plain HTTP
`GET /readyz` and `GET /healthz` answer 200 so supervisors can probe the listener.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

log = logging.getLogger(__name__)

# session factory: given a write callback, returns (on_line, on_close)
SessionFactory = Callable[
    [Callable[[bytes], None]], tuple[Callable[[bytes], Awaitable[None]], Callable[[], None]]
]


def _health(connection: ServerConnection, request: Request) -> Response | None:
    path = request.path.split("?", 1)[0]
    if path in ("/readyz", "/healthz"):
        return Response(HTTPStatus.OK, "OK", Headers([("Content-Type", "text/plain")]), b"ok\n")
    if "upgrade" not in request.headers.get("Connection", "").lower():
        return Response(
            HTTPStatus.NOT_FOUND,
            "Not Found",
            Headers([("Content-Type", "text/plain")]),
            b"not found: connect with a WebSocket, or GET /readyz or /healthz\n",
        )
    return None


async def listen_websocket(host: str, port: int, make_session: SessionFactory) -> Server:
    async def handler(connection: ServerConnection) -> None:
        outgoing: asyncio.Queue[bytes | None] = asyncio.Queue()

        def write(data: bytes) -> None:
            outgoing.put_nowait(data)

        on_line, on_close = make_session(write)

        async def sender() -> None:
            while True:
                data = await outgoing.get()
                if data is None:
                    return
                try:
                    await connection.send(data.rstrip(b"\n").decode("utf-8"))
                except ConnectionClosed:
                    return

        send_task = asyncio.create_task(sender())
        try:
            async for message in connection:
                # One frame is one message, however it is laid out (pretty-printed JSON too).
                raw = message.encode("utf-8") if isinstance(message, str) else message
                await on_line(raw.replace(b"\r", b"").replace(b"\n", b" "))
        except ConnectionClosed:
            pass
        finally:
            on_close()
            outgoing.put_nowait(None)
            await send_task

    return await serve(
        handler, host, port, process_request=_health, compression=None, max_size=64 * 1024 * 1024
    )
