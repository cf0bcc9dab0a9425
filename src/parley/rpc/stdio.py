"""The stdio transport: read newline-delimited JSON from stdin, write lines to stdout.

It only moves bytes: each line goes to the session, each outgoing line is queued
(`QueuedSender`, bounded) and written in order as fast as the client reads stdout.
Reading ends at EOF, which ends the server (as the reference does).

A line longer than `MAX_LINE_BYTES` is never buffered whole: its first bytes are kept to find
the request id, the rest is read and thrown away up to the newline, and the client gets a
-32600 answer for it. Framing stays in step: nothing after the limit on that line is executed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
from collections.abc import Awaitable, Callable
from typing import Final

from parley.rpc.sender import QueuedSender

log = logging.getLogger(__name__)

MAX_LINE_BYTES: Final = 64 * 1024 * 1024
# How much of an oversized line is kept to find its id.
_OVERSIZED_PREFIX_BYTES: Final = 4096


def _is_regular_file(fd: int) -> bool:
    return stat.S_ISREG(os.fstat(fd).st_mode)


async def open_stdio() -> tuple[asyncio.StreamReader, QueuedSender]:
    """Non-blocking stdin/stdout; regular files (redirections) are handled without pipes.

    The caller runs the returned sender's `run()` as the writer task."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=MAX_LINE_BYTES, loop=loop)
    stdin_fd, stdout_fd = sys.stdin.fileno(), sys.stdout.fileno()
    if _is_regular_file(stdin_fd):
        reader.feed_data(os.read(stdin_fd, os.fstat(stdin_fd).st_size) or b"")
        reader.feed_eof()
    else:
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader, loop=loop), os.fdopen(stdin_fd, "rb", 0)
        )
    if _is_regular_file(stdout_fd):
        out = os.fdopen(stdout_fd, "wb", 0)

        async def write_file(data: bytes) -> None:
            out.write(data)

        return reader, QueuedSender(write_file)
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(stdout_fd, "wb", 0)
    )
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)

    async def write(data: bytes) -> None:
        if writer.is_closing():
            raise ConnectionError("stdout is closed")
        writer.write(data)
        await writer.drain()

    return reader, QueuedSender(write)


async def pump_lines(
    reader: asyncio.StreamReader,
    on_line: Callable[[bytes], Awaitable[None]],
    on_oversized: Callable[[bytes], Awaitable[None]],
) -> None:
    """Feed each line to `on_line` until EOF; a line over the limit goes to `on_oversized`
    (with its first bytes only) once its end has been read and discarded."""
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                await on_line(exc.partial)
            return
        except asyncio.LimitOverrunError as exc:
            log.error("discarding a line longer than %d bytes", MAX_LINE_BYTES)
            prefix = (await reader.readexactly(exc.consumed))[:_OVERSIZED_PREFIX_BYTES]
            if not await _discard_rest_of_line(reader):
                await on_oversized(prefix)
                return
            await on_oversized(prefix)
            continue
        await on_line(line)


async def _discard_rest_of_line(reader: asyncio.StreamReader) -> bool:
    """Read and drop bytes up to and including the next newline; False at EOF."""
    while True:
        try:
            await reader.readuntil(b"\n")
            return True
        except asyncio.IncompleteReadError:
            return False
        except asyncio.LimitOverrunError as exc:
            await reader.readexactly(exc.consumed)
