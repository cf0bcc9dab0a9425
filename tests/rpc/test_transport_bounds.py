"""The transports with real sockets and pipes: a client that stops reading is cut off, not
buffered for without limit; a reading client gets everything in order."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from parley.rpc.outgoing import OutgoingQueue
from parley.rpc.sender import QueuedSender
from parley.rpc.websocket import MAX_MESSAGE_BYTES, listen_websocket
from parley.rpc.ws_handshake import HandshakeGuard

LINE = b"z" * 100_000 + b"\n"


def _flooding_session(
    count: int,
) -> Callable[
    [Callable[[bytes], None]], tuple[Callable[[bytes], Awaitable[None]], Callable[[], None]]
]:
    """A session that answers any message with `count` big lines, yielding between them."""

    def make(
        write: Callable[[bytes], None],
    ) -> tuple[Callable[[bytes], Awaitable[None]], Callable[[], None]]:
        async def on_line(line: bytes) -> None:
            for _ in range(count):
                write(LINE)
                await asyncio.sleep(0)

        return on_line, lambda: None

    return make


async def test_a_websocket_client_that_stops_reading_is_disconnected_with_1008() -> None:
    """Past the queue limit the server closes the connection (policy violation) instead of
    holding the backlog in memory."""
    server = await listen_websocket(
        "127.0.0.1",
        0,
        _flooding_session(400),  # 40 MB: far more than socket buffers plus the 1 MiB limit
        HandshakeGuard(listen_host="127.0.0.1"),
        queue_factory=lambda: OutgoingQueue(audio_drop_bytes=64_000, max_bytes=1024 * 1024),
    )
    port = server.sockets[0].getsockname()[1]
    try:
        # max_queue=1: the client library stops reading the socket once one message waits.
        async with connect(f"ws://127.0.0.1:{port}", max_queue=1, max_size=None) as client:
            await client.send("flood")
            await asyncio.sleep(0)  # the test does not read: the server's queue fills up
            with pytest.raises(ConnectionClosed) as closed:
                async with asyncio.timeout(30):
                    while True:
                        await client.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    finally:
        server.close()
        await server.wait_closed()


async def test_the_stdio_sender_stops_when_a_pipe_reader_stops_reading() -> None:
    """On stdio the same limit applies: the sender reports the overflow (the server then ends)."""
    loop = asyncio.get_running_loop()
    read_fd, write_fd = os.pipe()
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(write_fd, "wb", 0)
    )
    writer = asyncio.StreamWriter(transport, protocol, None, loop)

    async def send(data: bytes) -> None:
        writer.write(data)
        await writer.drain()

    sender = QueuedSender(send, OutgoingQueue(max_bytes=1024 * 1024))
    run = asyncio.create_task(sender.run())
    try:
        for _ in range(100):  # 10 MB into a pipe nobody reads
            sender.write(LINE)
            await asyncio.sleep(0)
        async with asyncio.timeout(10):
            await run
        assert sender.overflowed
        assert sender.queue.queued_bytes <= 1024 * 1024 + len(LINE)
    finally:
        transport.close()
        os.close(read_fd)


async def test_a_reading_client_gets_every_line_in_order() -> None:
    """Lines are delivered in the order written, the last one after a flush on close."""
    got: list[bytes] = []

    async def send(data: bytes) -> None:
        got.append(data)
        await asyncio.sleep(0)

    sender = QueuedSender(send)
    run = asyncio.create_task(sender.run())
    for n in range(50):
        sender.write(b"%d\n" % n)
    sender.close()
    await run
    assert got == [b"%d\n" % n for n in range(50)]


async def test_a_websocket_message_over_the_size_limit_closes_with_1009() -> None:
    """One frame larger than `MAX_MESSAGE_BYTES` is refused (message too big), not buffered."""
    server = await listen_websocket(
        "127.0.0.1", 0, _flooding_session(0), HandshakeGuard(listen_host="127.0.0.1")
    )
    port = server.sockets[0].getsockname()[1]
    try:
        client = await connect(f"ws://127.0.0.1:{port}", max_size=None)
        with pytest.raises(ConnectionClosed) as closed:
            await client.send(b" " * (MAX_MESSAGE_BYTES + 1))
            async with asyncio.timeout(30):
                await client.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    finally:
        server.close()
        await server.wait_closed()
