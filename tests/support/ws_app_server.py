"""A real `parley app-server --listen ws://…` and a raw JSON-RPC WebSocket client for it.

Twin of the upstream `connection_handling_websocket` helpers: the server is started with
`--listen ws://127.0.0.1:0` (or any URL and extra flags) and the bound address is read from
what it prints on stderr; clients connect with optional `Authorization: Bearer` and `Origin`
headers, and a refused handshake is checked by its HTTP status.
"""

# Reads take their own deadline so a timeout can report what was received instead.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from support.app_server import AppServerProcess, SpawnAppServer

DEFAULT_READ_TIMEOUT = 10.0
_BOUND = re.compile(r"ws://(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d+)")

Address = tuple[str, int]


async def spawn_websocket_server(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    listen_url: str = "ws://127.0.0.1:0",
    extra_args: Sequence[str] = (),
    env: dict[str, str | None] | None = None,
) -> tuple[AppServerProcess, Address]:
    """Start the listener and wait until it reports the address it bound."""
    process = await spawn_app_server(
        codex_home=codex_home,
        args=["--listen", listen_url, *extra_args],
        env=env or {},
        validate_schema=False,
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEFAULT_READ_TIMEOUT
    while True:
        match = _BOUND.search(process.stderr_text())
        if match is not None:
            return process, (match.group(1).strip("[]"), int(match.group(2)))
        if process.returncode is not None or loop.time() >= deadline:
            raise AssertionError(
                "the websocket app-server never reported its address:\n" + process.stderr_text()
            )
        await asyncio.sleep(0.02)


def connectable(address: Address) -> Address:
    """A wildcard bind is reached through loopback."""
    host, port = address
    if host == "0.0.0.0":
        return ("127.0.0.1", port)
    if host == "::":
        return ("::1", port)
    return address


def ws_url(address: Address) -> str:
    host, port = connectable(address)
    return f"ws://[{host}]:{port}" if ":" in host else f"ws://{host}:{port}"


def request_headers(bearer_token: str | None, origin: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if bearer_token is not None:
        headers["Authorization"] = f"Bearer {bearer_token}"
    if origin is not None:
        headers["Origin"] = origin
    return headers


async def connect_websocket(
    address: Address, bearer_token: str | None = None, **kwargs: Any
) -> ClientConnection:
    """Connect (retrying while the listener comes up) with an optional bearer token."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEFAULT_READ_TIMEOUT
    while True:
        try:
            return await connect(
                ws_url(address),
                additional_headers=request_headers(bearer_token, None),
                max_size=None,
                **kwargs,
            )
        except OSError:
            if loop.time() >= deadline:
                raise
            await asyncio.sleep(0.05)


async def handshake_status(
    address: Address,
    bearer_token: str | None = None,
    origin: str | None = None,
    host: str | None = None,
) -> int:
    """The HTTP status of a WebSocket handshake (101 when it was accepted)."""
    headers = request_headers(bearer_token, origin)
    url, target = ws_url(address), {}
    if host is not None:
        # Ask for `host` (its name goes in the Host header) but dial the listener's address.
        url = f"ws://{host}"
        target = dict(zip(("host", "port"), connectable(address), strict=True))
    try:
        socket = await connect(url, additional_headers=headers, **target)
    except InvalidStatus as exc:
        return exc.response.status_code
    await socket.close()
    return 101


async def assert_websocket_connect_rejected(
    address: Address,
    bearer_token: str | None,
    origin: str | None = None,
    expected_status: int = 401,
) -> None:
    status = await handshake_status(address, bearer_token, origin)
    assert status == expected_status, f"handshake answered {status}, expected {expected_status}"


def signed_bearer_token(shared_secret: bytes, claims: dict[str, Any]) -> str:
    """An HS256 JWT built by hand (not with the library the server uses)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    payload = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(orjson.dumps(claims))
    signature = hmac.new(shared_secret, payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{b64(signature)}"


class WsRpc:
    """JSON-RPC over one WebSocket with upstream's read helpers (messages are not buffered:
    a read skips what does not match, as upstream's do)."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    async def send_request(self, method: str, request_id: int, params: Any) -> None:
        message: dict[str, Any] = {"id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        await self.socket.send(orjson.dumps(message).decode())

    async def send_initialize_request(self, request_id: int, client_name: str) -> None:
        await self.send_request(
            "initialize",
            request_id,
            {
                "clientInfo": {
                    "name": client_name,
                    "title": "WebSocket Test Client",
                    "version": "0.1.0",
                },
                "capabilities": None,
            },
        )

    async def read_jsonrpc_message(self, timeout: float = DEFAULT_READ_TIMEOUT) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            raw = await self.socket.recv()
        message = orjson.loads(raw)
        assert isinstance(message, dict)
        return message

    async def read_response_for_id(self, request_id: int) -> dict[str, Any]:
        while True:
            message = await self.read_jsonrpc_message()
            if "result" in message and message.get("id") == request_id:
                return message

    async def read_error_for_id(self, request_id: int) -> dict[str, Any]:
        while True:
            message = await self.read_jsonrpc_message()
            if "error" in message and message.get("id") == request_id:
                return message

    async def assert_no_message(self, wait_for: float) -> None:
        try:
            async with asyncio.timeout(wait_for):
                frame = await self.socket.recv()
        except TimeoutError:
            return
        raise AssertionError(f"unexpected frame while waiting for silence: {frame!r}")
