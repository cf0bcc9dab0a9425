"""The `parley web` HTTP server: the page's files, and its JSON-RPC socket to the app-server.

Routes, all on 127.0.0.1:

* `GET /` and `GET /static/<file>` — the single-page client (package data, never fetched from
  anywhere else); only the Host header is checked, as these files hold no data.
* `GET /api/session` — what the page needs to start (initial thread, which app-server); needs
  the run's token as `Authorization: Bearer …`.
* `GET /rpc` — a WebSocket carrying one JSON-RPC message per text frame to and from the
  app-server (`backend.Link`); needs the token as a subprotocol and the page's own Origin.
  What goes to the page is queued as on the app-server's own transports (`QueuedSender`):
  output audio beyond 1 MiB waiting is dropped with a `thread/realtime/error`, and a page
  that stops reading altogether is disconnected, instead of the queue growing without bound.

Access decisions are `access.AccessPolicy`'s; this module only moves bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final

from aiohttp import WSMsgType, web

from parley.rpc.outgoing import MAX_QUEUED_BYTES
from parley.rpc.sender import QueuedSender
from parley.rpc.ws_auth import Refusal
from parley.web.access import RPC_PROTOCOL, AccessPolicy, new_token
from parley.web.backend import Backend

log = logging.getLogger(__name__)

_CONTENT_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
_SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self'; media-src 'self' blob: mediastream:; "
        "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_MAX_FRAME: Final = 16 * 1024 * 1024


def _static_files() -> dict[str, tuple[bytes, str]]:
    root = resources.files("parley.web") / "static"
    files: dict[str, tuple[bytes, str]] = {}
    for entry in root.iterdir():
        suffix = "." + entry.name.rpartition(".")[2]
        if entry.is_file() and suffix in _CONTENT_TYPES:
            files[entry.name] = (entry.read_bytes(), _CONTENT_TYPES[suffix])
    return files


@dataclass
class WebStats:
    """Counts for tests and the shutdown line."""

    sockets_opened: int = 0
    refused: int = 0


class WebServer:
    """Serves the page and bridges its socket to `backend`; `start()` binds, `close()` stops."""

    def __init__(
        self, backend: Backend, *, thread_id: str | None = None, label: str | None = None
    ) -> None:
        self.backend = backend
        self.thread_id = thread_id
        self.label = label or backend.describe()
        self.token = new_token()
        self.port = 0
        self.stats = WebStats()
        self._files = _static_files()
        self._policy: AccessPolicy | None = None
        self._runner: web.AppRunner | None = None
        self._sockets: set[web.WebSocketResponse] = set()

    @property
    def policy(self) -> AccessPolicy:
        assert self._policy is not None, "start() first"
        return self._policy

    @property
    def url(self) -> str:
        """The page's address, carrying the token in the fragment."""
        return f"http://127.0.0.1:{self.port}/#token={self.token}"

    async def start(self, port: int = 0) -> None:
        app = web.Application(client_max_size=_MAX_FRAME)
        app.router.add_get("/", self._index)
        app.router.add_get("/static/{name}", self._static)
        app.router.add_get("/api/session", self._session)
        app.router.add_get("/rpc", self._rpc)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.create_server(("127.0.0.1", port))
        await web.SockSite(runner, sock).start()
        self._runner = runner
        self.port = int(sock.getsockname()[1])
        self._policy = AccessPolicy(self.token, self.port)

    async def close(self) -> None:
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"parley web is shutting down")
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    # --- routes -------------------------------------------------------------------------

    def _refuse(self, refusal: Refusal) -> web.Response:
        self.stats.refused += 1
        log.info("refused a request: %s", refusal.reason)
        return web.Response(status=refusal.status, text=refusal.reason + "\n")

    def _file(self, name: str) -> web.Response:
        body, content_type = self._files[name]
        return web.Response(body=body, headers={"Content-Type": content_type, **_SECURITY_HEADERS})

    async def _index(self, request: web.Request) -> web.Response:
        refusal = self.policy.check_page(request.headers)
        return self._refuse(refusal) if refusal else self._file("index.html")

    async def _static(self, request: web.Request) -> web.Response:
        refusal = self.policy.check_page(request.headers)
        if refusal:
            return self._refuse(refusal)
        name = request.match_info["name"]
        if name not in self._files:
            return web.Response(status=404, text="not found\n")
        return self._file(name)

    async def _session(self, request: web.Request) -> web.Response:
        refusal = self.policy.check_api(request.headers)
        if refusal:
            return self._refuse(refusal)
        body: dict[str, Any] = {"thread": self.thread_id, "backend": self.label}
        return web.json_response(body, headers=_SECURITY_HEADERS)

    async def _rpc(self, request: web.Request) -> web.StreamResponse:
        refusal = self.policy.check_socket(request.headers)
        if refusal:
            return self._refuse(refusal)
        ws = web.WebSocketResponse(
            protocols=(RPC_PROTOCOL,), max_msg_size=_MAX_FRAME, autoping=True, heartbeat=None
        )
        if not ws.can_prepare(request).ok:
            return web.Response(status=426, text="expected a WebSocket upgrade\n")
        await ws.prepare(request)
        self.stats.sockets_opened += 1
        self._sockets.add(ws)

        async def send(data: bytes) -> None:
            await ws.send_str(data.rstrip(b"\n").decode("utf-8", "replace"))

        sender = QueuedSender(send)
        try:
            link = await self.backend.open(sender.write)
        except Exception as exc:  # the remote app-server is down or refused us
            log.warning("cannot reach the app-server: %s", type(exc).__name__)
            await ws.close(code=1011, message=b"cannot reach the app-server")
            self._sockets.discard(ws)
            return ws

        async def send_then_close() -> None:
            await sender.run()
            if sender.overflowed:
                reason = f"the page stopped reading: more than {MAX_QUEUED_BYTES >> 20} MiB waiting"
                await ws.close(code=1008, message=reason.encode())

        async def watch_link() -> None:
            await link.closed.wait()
            await ws.close(code=1011, message=b"the app-server closed the connection")

        send_task = asyncio.create_task(send_then_close())
        watch_task = asyncio.create_task(watch_link())
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    line = message.data.encode("utf-8").replace(b"\r", b"").replace(b"\n", b" ")
                    await link.send(line)
                elif message.type == WSMsgType.BINARY:
                    await link.send(bytes(message.data).replace(b"\n", b" "))
                else:
                    break
        finally:
            await link.close()
            sender.close()
            watch_task.cancel()
            with contextlib.suppress(BaseException):
                await send_task
            with contextlib.suppress(BaseException):
                await watch_task
            self._sockets.discard(ws)
        return ws
