"""The writer task of one connection: drains its `OutgoingQueue` as fast as the client reads.

`write()` never waits (handlers and notifications call it from anywhere); `run()` sends queued
lines one at a time through the transport's `send`, which waits while the client is not
reading. When the queue overflows (`MAX_QUEUED_BYTES`), `run()` ends and `overflowed` is set,
and the transport closes the connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from parley.rpc.outgoing import OutgoingQueue

log = logging.getLogger(__name__)


class QueuedSender:
    def __init__(
        self, send: Callable[[bytes], Awaitable[None]], queue: OutgoingQueue | None = None
    ) -> None:
        self._send = send
        self.queue = queue if queue is not None else OutgoingQueue()
        self._ready = asyncio.Event()
        self._closing = False
        self._overflow = asyncio.Event()
        self.overflowed = False

    def write(self, data: bytes) -> None:
        if self._closing or self.overflowed:
            return
        if not self.queue.push(data):
            self.overflowed = True
            self._overflow.set()
            log.error(
                "disconnecting a client that stopped reading: more than %d bytes of replies "
                "and notifications waiting",
                self.queue.max_bytes,
            )
        self._ready.set()

    def close(self) -> None:
        """Send what is queued, then end `run()`."""
        self._closing = True
        self._ready.set()

    async def run(self) -> None:
        """Send until closed (after flushing), overflowed (a send in progress is abandoned),
        or the client is gone (send raised)."""
        overflow = asyncio.ensure_future(self._overflow.wait())
        try:
            while not self.overflowed:
                line = self.queue.pop()
                if line is None:
                    if self._closing:
                        return
                    self._ready.clear()
                    await self._ready.wait()
                    continue
                sending = asyncio.ensure_future(self._send(line))
                await asyncio.wait({sending, overflow}, return_when=asyncio.FIRST_COMPLETED)
                if not sending.done():
                    sending.cancel()
                    return
                try:
                    sending.result()
                except (ConnectionError, OSError) as exc:
                    log.info("client connection lost while writing: %s", type(exc).__name__)
                    return
        finally:
            overflow.cancel()
