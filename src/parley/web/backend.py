"""Where the page's JSON-RPC goes: an app-server in this process, or one at `--listen-url`.

A `Backend` opens one `Link` per browser socket. A link takes JSON-RPC lines from the page
(`send`) and hands the app-server's lines back through the `write` callback it was opened
with; `closed` is set when the app-server side ends the link. Neither kind parses messages.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from parley.server.session import AppServer, ClientSession

Write = Callable[[bytes], None]


class Link(Protocol):
    """One page's connection to the app-server."""

    closed: asyncio.Event

    async def send(self, line: bytes) -> None: ...

    async def close(self) -> None: ...


class Backend(Protocol):
    """Opens links; `describe` says what it is, for the page's status line."""

    def describe(self) -> str: ...

    async def open(self, write: Write) -> Link: ...


class _LocalLink:
    def __init__(self, session: ClientSession) -> None:
        self._session = session
        self.closed = asyncio.Event()

    async def send(self, line: bytes) -> None:
        await self._session.receive_line(line)

    async def close(self) -> None:
        if not self.closed.is_set():
            self.closed.set()
            self._session.close()


class LocalBackend:
    """An app-server running in this process: each link is one client session of it."""

    def __init__(self, server: AppServer) -> None:
        self.server = server

    def describe(self) -> str:
        return "app-server in this process"

    async def open(self, write: Write) -> Link:
        return _LocalLink(self.server.connect(write))


class _RemoteLink:
    def __init__(self, ws: ClientConnection, write: Write) -> None:
        self._ws = ws
        self.closed = asyncio.Event()
        self._reader = asyncio.create_task(self._read(write))

    async def _read(self, write: Write) -> None:
        try:
            async for message in self._ws:
                write(message.encode() if isinstance(message, str) else message)
        except ConnectionClosed:
            pass
        finally:
            self.closed.set()

    async def send(self, line: bytes) -> None:
        try:
            await self._ws.send(line.decode("utf-8", "replace"))
        except ConnectionClosed:
            self.closed.set()

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._ws.close()
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader
        self.closed.set()


class RemoteBackend:
    """A running `parley app-server --listen ws://…`: each link is one WebSocket to it, sending
    `token` (if any) as `Authorization: Bearer` for a listener started with `--ws-auth`."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.url = url
        self._token = token

    def describe(self) -> str:
        return f"app-server at {self.url}"

    async def open(self, write: Write) -> Link:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else None
        ws = await connect(
            self.url, additional_headers=headers, max_size=64 * 1024 * 1024, compression=None
        )
        return _RemoteLink(ws, write)
