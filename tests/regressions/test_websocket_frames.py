"""Regressions: the WebSocket transport (`--listen ws://…`) against a real client socket."""

# The client's reads take their own deadline.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import orjson
from integration.helpers import free_port, write_config
from support.app_server import SpawnAppServer
from websockets.asyncio.client import ClientConnection, connect


async def _connect_when_ready(port: int, timeout: float = 10.0) -> ClientConnection:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            return await connect(f"ws://127.0.0.1:{port}")
        except OSError:
            if loop.time() >= deadline:
                raise
            await asyncio.sleep(0.05)


async def _reply(socket: ClientConnection, request_id: int, timeout: float = 3.0) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            message = orjson.loads(await socket.recv())
            if message.get("id") == request_id and "method" not in message:
                return message


INIT = {
    "clientInfo": {"name": "pretty-client", "title": None, "version": "1.0.0"},
    "capabilities": {"experimentalApi": True},
}


async def test_a_pretty_printed_message_in_one_frame_is_answered(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """One WebSocket frame is one JSON-RPC message, even when the client pretty-prints it
    (`JSON.stringify(msg, null, 2)`): the server answers it instead of dropping it."""
    write_config(codex_home)
    port = free_port()
    server = await spawn_app_server(
        codex_home=codex_home, args=["--listen", f"ws://127.0.0.1:{port}"]
    )
    socket = await _connect_when_ready(port)
    try:
        pretty = orjson.dumps(
            {"id": 1, "method": "initialize", "params": INIT}, option=orjson.OPT_INDENT_2
        )
        assert b"\n" in pretty
        await socket.send(pretty.decode())
        reply = await _reply(socket, 1)
        assert reply["result"]["userAgent"].startswith("pretty-client/")
    finally:
        await socket.close()
        os.kill(server.pid, signal.SIGTERM)
        await server.wait_for_exit(timeout=5.0)
        await server.close(check=False)
