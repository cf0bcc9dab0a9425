"""The `parley` command line: config errors, global flags, WebSocket transport, schema export."""

# The WebSocket client's reads take their own deadline, as the support client's do.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from support.app_server import SpawnAppServer
from support.mock_realtime import WebSocketConnectionConfig, WebSocketTestServer
from support.schema import SchemaValidator
from websockets.asyncio.client import ClientConnection, connect

from .helpers import API_KEY, free_port, write_config

PARLEY = [sys.executable, "-m", "parley"]


async def run_parley(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run `python -m parley ARGS` to completion; returns (status, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        *PARLEY,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


CONFIG_FLAG_FORMS = {
    "c-before": (["-c", 'model="flag-model"'], []),
    "c-after": ([], ["-c", 'model="flag-model"']),
    "config-before": (["--config", 'model="flag-model"'], []),
    "config-eq-after": ([], ['--config=model="flag-model"']),
}


@pytest.mark.parametrize("form", list(CONFIG_FLAG_FORMS))
async def test_config_override_flag_on_either_side(
    spawn_app_server: SpawnAppServer, codex_home: Path, form: str
) -> None:
    """`-c/--config key=value` overrides config.toml whether it comes before or after app-server."""
    before, after = CONFIG_FLAG_FORMS[form]
    write_config(codex_home)
    server = await spawn_app_server(
        codex_home=codex_home, command=[*PARLEY, *before, "app-server", *after]
    )
    await server.initialize()
    result = await server.request("thread/start", {})
    assert result["model"] == "flag-model"
    await server.close()


@pytest.mark.parametrize("side", ["before", "after"])
async def test_enable_flag_turns_realtime_on(
    spawn_app_server: SpawnAppServer, codex_home: Path, side: str
) -> None:
    """`--enable realtime_conversation` on either side of app-server lets realtime start."""
    session_updated = {"type": "session.updated", "session": {"id": "sess_1"}}
    upstream = await WebSocketTestServer(
        [WebSocketConnectionConfig(requests=[[session_updated]], close_after_requests=False)]
    ).start()
    try:
        flag = ["--enable", "realtime_conversation"]
        command = (
            [*PARLEY, *flag, "app-server"] if side == "before" else [*PARLEY, "app-server", *flag]
        )
        write_config(codex_home, realtime_uri=upstream.uri, realtime_enabled=False)
        server = await spawn_app_server(codex_home=codex_home, command=command)
        await server.initialize()
        await server.login_with_api_key(API_KEY)
        thread = await server.start_thread()

        result = await server.request("thread/realtime/start", {"threadId": thread["id"]})
        started = await server.read_notification("thread/realtime/started")
        stop = await server.request("thread/realtime/stop", {"threadId": thread["id"]})
        closed = await server.read_notification("thread/realtime/closed")

        assert result == {}
        assert started["threadId"] == thread["id"] and started["version"] == "v2"
        assert stop == {}
        assert closed == {"threadId": thread["id"], "reason": "requested"}
        await server.close()
    finally:
        await upstream.shutdown()


async def test_realtime_is_refused_without_the_feature(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Without the realtime feature, thread/realtime/start says the thread does not support it."""
    write_config(codex_home, realtime_uri="ws://127.0.0.1:9", realtime_enabled=False)
    server = await spawn_app_server(codex_home=codex_home)
    await server.initialize()
    thread = await server.start_thread()
    error = await server.request_error("thread/realtime/start", {"threadId": thread["id"]})
    assert error == {
        "code": -32600,
        "message": f"thread {thread['id']} does not support realtime conversation",
    }
    await server.close()


# ---- WebSocket transport ---------------------------------------------------------------------


class WsClient:
    """A JSON-RPC client over one WebSocket, checking every server message against the schema."""

    def __init__(self, socket: ClientConnection, validator: SchemaValidator) -> None:
        self.socket = socket
        self.validator = validator
        self.received: list[dict[str, Any]] = []
        self._methods: dict[Any, str] = {}
        self._next_id = 0

    async def request(self, method: str, params: Any) -> dict[str, Any]:
        """Send a request and return the whole answer (result or error)."""
        request_id = self._next_id
        self._next_id += 1
        self._methods[request_id] = method
        await self.socket.send(orjson.dumps({"id": request_id, "method": method, "params": params}))
        return await self.read(lambda m: m.get("id") == request_id and "method" not in m)

    async def notify(self, method: str) -> None:
        await self.socket.send(orjson.dumps({"method": method}))

    async def read(self, predicate: Any, timeout: float = 10.0) -> dict[str, Any]:
        for message in self.received:
            if predicate(message):
                self.received.remove(message)
                return message
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.socket.recv()
                message = orjson.loads(raw)
                self._check(message)
                if predicate(message):
                    return message
                self.received.append(message)

    def _check(self, message: dict[str, Any]) -> None:
        assert isinstance(message, dict) and "jsonrpc" not in message
        if "method" in message and "id" not in message:
            self.validator.validate_notification(message)
        elif "method" in message:
            self.validator.validate_server_request(message)
        elif "result" in message:
            self.validator.validate_response(self._methods[message["id"]], message["result"])


async def test_websocket_listener_serves_health_and_independent_clients(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """With --listen ws://…, /readyz and /healthz answer 200 and two clients work independently."""
    write_config(codex_home)
    port = free_port()
    server = await spawn_app_server(
        codex_home=codex_home, args=["--listen", f"ws://127.0.0.1:{port}"]
    )
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:

        async def status_of(path: str) -> int | None:
            try:
                async with http.get(base + path) as response:
                    return response.status
            except aiohttp.ClientError:
                return None

        ready: list[int | None] = []

        async def probe() -> None:
            ready.append(await status_of("/readyz"))

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while ready[-1:] != [200] and loop.time() < deadline:
            await probe()
            if ready[-1] != 200:
                await asyncio.sleep(0.05)
        assert ready[-1] == 200, f"/readyz never answered 200{server.stderr_text()}"
        assert await status_of("/healthz") == 200

    validator = SchemaValidator()
    async with (
        connect(f"ws://127.0.0.1:{port}") as socket_a,
        connect(f"ws://127.0.0.1:{port}") as socket_b,
    ):
        a, b = WsClient(socket_a, validator), WsClient(socket_b, validator)
        init_a = await a.request("initialize", _init_params("client-a"))
        init_b = await b.request("initialize", _init_params("client-b"))
        await a.notify("initialized")
        await b.notify("initialized")
        assert init_a["result"]["userAgent"].startswith("client-a/")
        assert init_b["result"]["userAgent"].startswith("client-b/")

        again = await a.request("initialize", _init_params("client-a"))
        assert again["error"] == {"code": -32600, "message": "Already initialized"}

        thread_a = (await a.request("thread/start", {}))["result"]["thread"]
        thread_b = (await b.request("thread/start", {}))["result"]["thread"]
        started_a = await a.read(lambda m: m.get("method") == "thread/started")
        started_b = await b.read(lambda m: m.get("method") == "thread/started")

        assert thread_a["id"] != thread_b["id"]
        assert started_a["params"]["thread"]["id"] == thread_a["id"]
        assert started_b["params"]["thread"]["id"] == thread_b["id"]
        voices = await b.request("thread/realtime/listVoices", {})
        assert voices["result"]["voices"]["defaultV2"] == "marin"
        # Neither client saw the other's thread announced.
        for client, other in ((a, thread_b), (b, thread_a)):
            leaked = [
                m
                for m in client.received
                if m.get("method") == "thread/started"
                and m["params"]["thread"]["id"] == other["id"]
            ]
            assert leaked == []

    os.kill(server.pid, signal.SIGTERM)
    assert await server.wait_for_exit(timeout=5.0) == 0
    assert "Traceback" not in server.stderr_text()
    await server.close()


def _init_params(name: str) -> dict[str, Any]:
    return {
        "clientInfo": {"name": name, "title": None, "version": "1.0.0"},
        "capabilities": {"experimentalApi": True},
    }


# ---- generate-json-schema ---------------------------------------------------------------------


def _schema_texts(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): p.read_text(encoding="utf-8")
        for p in directory.rglob("*.json")
    }


async def test_generate_json_schema_writes_the_protocol(tmp_path: Path) -> None:
    """generate-json-schema writes JSON Schema files; --experimental adds the realtime methods."""
    stable_dir, experimental_dir = tmp_path / "stable", tmp_path / "experimental"
    env = {"CODEX_HOME": str(tmp_path / "home")}

    stable = await run_parley(
        "app-server", "generate-json-schema", "--out", str(stable_dir), env=env
    )
    experimental = await run_parley(
        "app-server",
        "generate-json-schema",
        "--out",
        str(experimental_dir),
        "--experimental",
        env=env,
    )

    assert stable[0] == 0, stable[2]
    assert experimental[0] == 0, experimental[2]
    stable_files = _schema_texts(stable_dir)
    experimental_files = _schema_texts(experimental_dir)
    assert "ClientRequest.json" in stable_files
    for text in [*stable_files.values(), *experimental_files.values()]:
        json.loads(text)
    # Request methods appear as exact JSON strings (notifications such as
    # `thread/realtime/started` are not filtered, as in the reference).
    assert '"thread/start"' in stable_files["ClientRequest.json"]
    assert not any('"thread/realtime/start"' in text for text in stable_files.values())
    assert not any('"thread/realtime/listVoices"' in text for text in stable_files.values())
    assert '"thread/realtime/start"' in experimental_files["ClientRequest.json"]
    assert '"thread/realtime/listVoices"' in experimental_files["ClientRequest.json"]
    assert set(stable_files) < set(experimental_files)


async def test_websocket_drops_malformed_frames_and_keeps_serving(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """A WebSocket frame that is not a JSON-RPC message gets no reply; the connection goes on."""
    write_config(codex_home)
    port = free_port()
    server = await spawn_app_server(
        codex_home=codex_home, args=["--listen", f"ws://127.0.0.1:{port}"]
    )
    socket = await _connect_when_ready(port)
    try:
        client = WsClient(socket, SchemaValidator())
        await client.request("initialize", _init_params("client-a"))
        await socket.send("this is not json")
        await socket.send('[{"id":51,"method":"thread/realtime/listVoices","params":{}}]')
        await socket.send(b'{"id":52,"method":"thread/realtime/listVoices","params":{"x":"\xff"}}')
        voices = await client.request("thread/realtime/listVoices", {})
        assert voices["result"]["voices"]["defaultV1"] == "cove"
        assert [m for m in client.received if m.get("id") in (51, 52)] == []
    finally:
        await socket.close()
    os.kill(server.pid, signal.SIGTERM)
    assert await server.wait_for_exit(timeout=5.0) == 0
    await server.close()


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
