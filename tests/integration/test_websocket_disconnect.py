"""A WebSocket client that goes away takes its realtime conversation with it, and only it."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from realtime_e2e.upstream import LiveUpstream
from support.app_server import SpawnAppServer
from support.schema import SchemaValidator

from integration.helpers import free_port, write_config
from integration.test_cli_and_transports import WsClient, _connect_when_ready, _init_params


async def _start_realtime(client: WsClient) -> str:
    await client.request("initialize", _init_params(f"client-{id(client)}"))
    await client.notify("initialized")
    login = {"type": "apiKey", "apiKey": "sk-test-key"}
    assert "result" in await client.request("account/login/start", login)
    thread: dict[str, Any] = (await client.request("thread/start", {}))["result"]["thread"]
    started = await client.request("thread/realtime/start", {"threadId": thread["id"]})
    assert started == {"id": started["id"], "result": {}}
    await client.read(lambda m: m.get("method") == "thread/realtime/started")
    return str(thread["id"])


async def test_client_disconnect_closes_only_its_realtime_session(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """When one WebSocket client disconnects, its upstream socket closes; another client's lives."""
    async with LiveUpstream() as upstream:
        write_config(codex_home, realtime_uri=upstream.uri, realtime_enabled=True)
        port = free_port()
        server = await spawn_app_server(
            codex_home=codex_home, args=["--listen", f"ws://127.0.0.1:{port}"]
        )
        first_socket = await _connect_when_ready(port)
        second_socket = await _connect_when_ready(port)
        first = WsClient(first_socket, SchemaValidator())
        second = WsClient(second_socket, SchemaValidator())
        await _start_realtime(first)
        first_upstream = await upstream.wait_for_connection(0)
        second_thread = await _start_realtime(second)
        second_upstream = await upstream.wait_for_connection(1)

        await first_socket.close()
        await first_upstream.wait_ended(timeout=5.0)

        assert not second_upstream.ended.is_set()
        reply = await second.request(
            "thread/realtime/appendText", {"threadId": second_thread, "text": "still here"}
        )
        assert reply["result"] == {}
        frames = await second_upstream.wait_for_frames(2)  # session.update, then the text
        assert frames[1]["item"]["content"][0]["text"] == "still here"
        await second_socket.close()
        await second_upstream.wait_ended(timeout=5.0)
        os.kill(server.pid, signal.SIGTERM)
        assert await server.wait_for_exit(timeout=5.0) == 0
