"""A small JSON-RPC client over one WebSocket to `parley app-server --listen ws://…`, the twin
of upstream's `connect_websocket` / `send_request` / `read_*` test helpers.
"""

# Waiting helpers take their own deadline so a timeout fails the test instead of hanging it.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect

Message = dict[str, Any]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class WsRpcClient:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._buffer: list[Message] = []

    @classmethod
    async def connect(cls, port: int, timeout: float = 10.0) -> WsRpcClient:
        """Connect, retrying while the server is still starting."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                return cls(await connect(f"ws://127.0.0.1:{port}"))
            except OSError:
                if loop.time() >= deadline:
                    raise
                await asyncio.sleep(0.05)

    async def send_request(self, method: str, request_id: int, params: Any = None) -> None:
        message: Message = {"id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        await self.connection.send(orjson.dumps(message).decode())

    async def send_notification(self, method: str) -> None:
        await self.connection.send(orjson.dumps({"method": method}).decode())

    async def read_until(
        self, predicate: Callable[[Message], bool], timeout: float = 10.0
    ) -> Message:
        for message in self._buffer:
            if predicate(message):
                self._buffer.remove(message)
                return message
        async with asyncio.timeout(timeout):
            while True:
                message = orjson.loads(await self.connection.recv())
                if predicate(message):
                    return message
                self._buffer.append(message)

    async def read_response_for_id(self, request_id: int) -> Message:
        message = await self.read_until(lambda m: m.get("id") == request_id and "method" not in m)
        assert "result" in message, f"request {request_id} failed: {message}"
        return message

    async def read_notification_for_method(self, method: str) -> Message:
        return await self.read_until(lambda m: m.get("method") == method and "id" not in m)

    async def initialize(self, name: str, request_id: int = 1) -> None:
        params = {
            "clientInfo": {"name": name, "title": None, "version": "0.1.0"},
            "capabilities": {"experimentalApi": True},
        }
        await self.send_request("initialize", request_id, params)
        await self.read_response_for_id(request_id)
        await self.send_notification("initialized")

    async def close(self) -> None:
        await self.connection.close()
