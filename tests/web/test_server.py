"""The `parley web` server over real sockets: files, the session endpoint and the JSON-RPC
socket, bridged to an app-server in the process or to a running `parley app-server`."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from unittest.mock import ANY

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin, Subprotocol

from parley.config import load_config
from parley.rpc.connection import DroppableLine, encode
from parley.rpc.websocket import listen_websocket
from parley.rpc.ws_auth import WsAuthMode, WsAuthPolicy
from parley.rpc.ws_handshake import HandshakeGuard
from parley.server.session import AppServer
from parley.web import LocalBackend, RemoteBackend, WebServer
from parley.web.access import RPC_PROTOCOL

AUDIO_DELTA = "thread/realtime/outputAudio/delta"

INITIALIZE = {
    "id": 1,
    "method": "initialize",
    "params": {"clientInfo": {"name": "web-test", "title": None, "version": "0"}},
}


@pytest.fixture
async def page_server(tmp_path: Path) -> AsyncIterator[WebServer]:
    app = AppServer(load_config(tmp_path))
    server = WebServer(LocalBackend(app), thread_id="thread-from-cli")
    await server.start()
    yield server
    await server.close()
    await app.shutdown()


def _rpc_url(server: WebServer) -> str:
    return f"ws://127.0.0.1:{server.port}/rpc"


async def test_the_page_and_its_files_are_served_without_any_network(
    page_server: WebServer,
) -> None:
    """/ and its scripts come from the package, with a same-origin-only security policy."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{page_server.port}") as http:
        index = await http.get("/")
        assert index.status_code == 200 and "<title>Parley</title>" in index.text
        assert "default-src 'self'" in index.headers["content-security-policy"]
        for name in ("app.js", "app.css", "audio-worklets.js"):
            assert (await http.get(f"/static/{name}")).status_code == 200
        assert (await http.get("/static/../access.py")).status_code == 404
        for name in ("index.html", "app.js", "app.css", "audio-worklets.js"):
            source = (await http.get("/" if name == "index.html" else f"/static/{name}")).text
            assert "https://" not in source and "cdn" not in source.lower(), name


async def test_the_session_endpoint_needs_the_token(page_server: WebServer) -> None:
    """Only a request with the run's token learns the thread the CLI asked for."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{page_server.port}") as http:
        assert (await http.get("/api/session")).status_code == 403
        bad = await http.get("/api/session", headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 403
        good = await http.get(
            "/api/session", headers={"Authorization": f"Bearer {page_server.token}"}
        )
        assert good.status_code == 200 and good.json()["thread"] == "thread-from-cli"


async def test_the_socket_refuses_a_wrong_token_and_another_origin(
    page_server: WebServer,
) -> None:
    """Without the token, or from another site's page, the WebSocket handshake fails (403)."""
    for protocols, origin in (
        (["parley", "parley-token.wrong"], None),
        (["parley"], None),
        (["parley", f"parley-token.{page_server.token}"], "http://127.0.0.1:1"),
    ):
        with pytest.raises(InvalidStatus) as refused:
            await connect(_rpc_url(page_server), subprotocols=protocols, origin=origin)  # type: ignore[arg-type]
        assert refused.value.response.status_code == 403
    assert page_server.stats.refused == 3
    assert page_server.stats.sockets_opened == 0


async def test_the_socket_carries_json_rpc_to_the_in_process_app_server(
    page_server: WebServer,
) -> None:
    """With the token and the page's origin, JSON-RPC flows: initialize is answered."""
    async with connect(
        _rpc_url(page_server),
        subprotocols=["parley", f"parley-token.{page_server.token}"],  # type: ignore[list-item]
        origin=f"http://127.0.0.1:{page_server.port}",  # type: ignore[arg-type]
    ) as ws:
        assert ws.subprotocol == "parley"
        await ws.send(json.dumps(INITIALIZE))
        reply = json.loads(await ws.recv())
        assert reply["id"] == 1 and "userAgent" in reply["result"]


async def test_listen_url_bridges_to_a_running_app_server(tmp_path: Path) -> None:
    """`--listen-url`: each page socket becomes one WebSocket to the running app-server, with
    the `--ws-auth` bearer token when one is given."""
    app = AppServer(load_config(tmp_path))
    listener_token = "listener-capability-token"
    guard = HandshakeGuard(
        listen_host="127.0.0.1",
        auth=WsAuthPolicy(
            mode=WsAuthMode.CAPABILITY_TOKEN,
            token_sha256=hashlib.sha256(listener_token.encode()).digest(),
        ),
    )

    def make_session(write):  # type: ignore[no-untyped-def]
        session = app.connect(write)
        return session.receive_line, session.close

    listener = await listen_websocket("127.0.0.1", 0, make_session, guard)
    port = listener.sockets[0].getsockname()[1]
    guard.bound_ips = ("127.0.0.1",)
    server = WebServer(RemoteBackend(f"ws://127.0.0.1:{port}", listener_token))
    await server.start()
    try:
        async with connect(
            _rpc_url(server),
            subprotocols=["parley", f"parley-token.{server.token}"],  # type: ignore[list-item]
        ) as ws:
            await ws.send(json.dumps(INITIALIZE))
            reply = json.loads(await ws.recv())
            assert reply["id"] == 1 and "userAgent" in reply["result"]
    finally:
        await server.close()
        listener.close()
        await listener.wait_closed()
        await app.shutdown()


class _FloodLink:
    """A link whose app-server side sends a burst of output audio the moment it opens."""

    def __init__(self) -> None:
        self.closed = asyncio.Event()

    async def send(self, line: bytes) -> None:
        pass

    async def close(self) -> None:
        self.closed.set()


class _FloodBackend:
    """Writes `count` output-audio notifications (each a `DroppableLine`, as the app-server's
    sessions mark them) at once, with no chance for the page socket to take any in between."""

    def __init__(self, count: int) -> None:
        self.count = count

    def describe(self) -> str:
        return "flooding test backend"

    async def open(self, write: Callable[[bytes], None]) -> _FloodLink:
        audio = {"data": "A" * 16_000, "sampleRate": 24000, "numChannels": 1}
        for index in range(self.count):
            params = {"threadId": "thr", "audio": {**audio, "samplesPerChannel": index}}
            line = DroppableLine(encode({"method": AUDIO_DELTA, "params": params}))
            line.thread_id = "thr"
            write(line)
        write(encode({"method": "thread/realtime/closed", "params": {"threadId": "thr"}}))
        return _FloodLink()


async def test_output_audio_the_page_cannot_take_is_dropped_and_reported() -> None:
    """Output audio beyond what may wait for the page is dropped, the page is told once with a
    thread/realtime/error, and what follows the burst (not droppable) still arrives."""
    server = WebServer(_FloodBackend(200))
    await server.start()
    try:
        protocols = [Subprotocol(RPC_PROTOCOL), Subprotocol(f"parley-token.{server.token}")]
        origin = Origin(f"http://127.0.0.1:{server.port}")
        async with connect(_rpc_url(server), subprotocols=protocols, origin=origin) as ws:
            received = []
            while not received or received[-1]["method"] != "thread/realtime/closed":
                received.append(json.loads(await ws.recv()))
    finally:
        await server.close()
    audio = [m for m in received if m["method"] == AUDIO_DELTA]
    errors = [m for m in received if m["method"] == "thread/realtime/error"]
    assert 0 < len(audio) < 200
    assert [a["params"]["audio"]["samplesPerChannel"] for a in audio] == list(range(len(audio)))
    assert errors == [
        {"method": "thread/realtime/error", "params": {"threadId": "thr", "message": ANY}}
    ]
    assert errors[0]["params"]["message"].startswith("output audio dropped")
