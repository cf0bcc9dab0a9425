"""The stdio transport: read newline-delimited JSON from stdin, write lines to stdout.

It only moves bytes: each line goes to the session, each outgoing line is written in order.
Reading ends at EOF, which ends the server (as the reference does).
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

# A line longer than this is refused rather than buffered without bound.
MAX_LINE_BYTES = 64 * 1024 * 1024


def _is_regular_file(fd: int) -> bool:
    return stat.S_ISREG(os.fstat(fd).st_mode)


async def open_stdio() -> tuple[asyncio.StreamReader, Callable[[bytes], None]]:
    """Non-blocking stdin/stdout; regular files (redirections) are handled without pipes."""
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

        def write_file(data: bytes) -> None:
            out.write(data)

        return reader, write_file
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(stdout_fd, "wb", 0)
    )
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)

    def write(data: bytes) -> None:
        if not writer.is_closing():
            writer.write(data)

    return reader, write


async def pump_lines(
    reader: asyncio.StreamReader, on_line: Callable[[bytes], Awaitable[None]]
) -> None:
    """Feed each line to `on_line` until EOF; an over-long line is skipped, not fatal."""
    while True:
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                await on_line(exc.partial)
            return
        except asyncio.LimitOverrunError as exc:
            log.error("dropping a line longer than %d bytes", MAX_LINE_BYTES)
            await reader.readexactly(exc.consumed)
            continue
        await on_line(line)
