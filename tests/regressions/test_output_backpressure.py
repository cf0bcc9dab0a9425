"""Regressions (issue 8, item 8): a client that stops reading while realtime audio streams.

The upstream sends ~96 MiB of output audio as fast as it can while the client reads nothing
(stdio: the stdout pipe is left unread; WebSocket: the client library stops reading the
socket). The server's memory must not follow: late audio is dropped, the client is told once
with `thread/realtime/error`, and what cannot be dropped (the transcript that follows) still
arrives once the client reads again.
"""

from __future__ import annotations

import asyncio
import base64
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from integration.helpers import API_KEY, write_config
from realtime_e2e.upstream import LiveUpstream, UpstreamConnection
from support.app_server import SpawnAppServer
from support.ws_app_server import connect_websocket, spawn_websocket_server

from parley.rpc.outgoing import AUDIO_DROPPED_MESSAGE

CHUNK = base64.b64encode(b"\x01\x02" * 24_576).decode()  # 64 KiB of base64, ~1 s of audio
CHUNKS = 1_500  # ~96 MiB
FINAL_TRANSCRIPT = "all audio sent"
# How much the server's peak memory may grow while the flood passes through.
GROWTH_LIMIT_BYTES = 40 * 1024 * 1024


def _memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


async def _flood(connection: UpstreamConnection) -> None:
    for _ in range(CHUNKS):
        await connection.send(
            {"type": "response.output_audio.delta", "delta": CHUNK, "item_id": "item-1"}
        )
    await connection.send(
        {"type": "response.output_audio_transcript.delta", "delta": FINAL_TRANSCRIPT}
    )


def _assert_bounded(received: list[dict[str, Any]], pid: int, baseline_kib: int) -> None:
    peak_growth = (_memory_kib(pid, "VmHWM") - baseline_kib) * 1024
    assert peak_growth < GROWTH_LIMIT_BYTES, f"server memory grew by {peak_growth >> 20} MiB"
    audio = [m for m in received if m.get("method") == "thread/realtime/outputAudio/delta"]
    notices = [
        m
        for m in received
        if m.get("method") == "thread/realtime/error"
        and m["params"]["message"] == AUDIO_DROPPED_MESSAGE
    ]
    assert len(audio) < CHUNKS, "every audio chunk was kept for a client that was not reading"
    assert len(notices) >= 1, "audio was dropped without telling the client"


def _is_final(message: dict[str, Any]) -> bool:
    return message.get("method") == "thread/realtime/transcriptUpdated" and (
        FINAL_TRANSCRIPT in orjson.dumps(message).decode()
    )


@pytest.fixture
async def upstream() -> AsyncIterator[LiveUpstream]:
    async with LiveUpstream() as server:
        yield server


async def _start_realtime(
    request: Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]],
) -> str:
    await request(
        "initialize",
        {
            "clientInfo": {"name": "slow-reader", "title": None, "version": "1"},
            "capabilities": {"experimentalApi": True},
        },
    )
    await request("account/login/start", {"type": "apiKey", "apiKey": API_KEY})
    thread_id = str((await request("thread/start", {}))["result"]["thread"]["id"])
    assert "result" in await request("thread/realtime/start", {"threadId": thread_id})
    return thread_id


async def test_a_websocket_client_that_stops_reading_does_not_grow_server_memory(
    spawn_app_server: SpawnAppServer, codex_home: Path, upstream: LiveUpstream
) -> None:
    write_config(codex_home, realtime_uri=upstream.uri, realtime_enabled=True)
    process, address = await spawn_websocket_server(spawn_app_server, codex_home)
    socket = await connect_websocket(address, max_queue=1)
    received: list[dict[str, Any]] = []
    next_id = 0

    async def request(method: str, params: dict[str, Any]) -> dict[str, Any]:
        nonlocal next_id
        next_id += 1
        await socket.send(orjson.dumps({"id": next_id, "method": method, "params": params}))
        while True:
            message = orjson.loads(await socket.recv())
            if message.get("id") == next_id and "method" not in message:
                return dict(message)
            received.append(message)

    await _start_realtime(request)
    connection = await upstream.wait_for_connection(0)
    baseline = _memory_kib(process.pid, "VmRSS")
    await _flood(connection)  # the test reads nothing meanwhile
    async with asyncio.timeout(60):
        while not received or not _is_final(received[-1]):
            received.append(orjson.loads(await socket.recv()))
    _assert_bounded(received, process.pid, baseline)
    await socket.close()
    process.kill()


async def test_a_stdio_client_that_stops_reading_does_not_grow_server_memory(
    codex_home: Path, upstream: LiveUpstream
) -> None:
    write_config(codex_home, realtime_uri=upstream.uri, realtime_enabled=True)
    env = {**os.environ, "CODEX_HOME": str(codex_home)}
    env.pop("OPENAI_API_KEY", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "parley",
        "app-server",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env=env,
        limit=1 << 20,
    )
    assert process.stdin is not None and process.stdout is not None
    stdin, stdout = process.stdin, process.stdout
    received: list[dict[str, Any]] = []
    next_id = 0

    async def request(method: str, params: dict[str, Any]) -> dict[str, Any]:
        nonlocal next_id
        next_id += 1
        stdin.write(orjson.dumps({"id": next_id, "method": method, "params": params}) + b"\n")
        await stdin.drain()
        while True:
            message = orjson.loads(await stdout.readline())
            if message.get("id") == next_id and "method" not in message:
                return dict(message)
            received.append(message)

    try:
        await _start_realtime(request)
        connection = await upstream.wait_for_connection(0)
        baseline = _memory_kib(process.pid, "VmRSS")
        await _flood(connection)  # stdout is not read meanwhile: the pipe fills up
        async with asyncio.timeout(60):
            while not received or not _is_final(received[-1]):
                received.append(orjson.loads(await stdout.readline()))
        _assert_bounded(received, process.pid, baseline)
    finally:
        process.kill()
        await process.wait()
