"""`parley simulate` as a user runs it: a subprocess that prints where it listens and serves."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

TIMEOUT = 15.0


@pytest.fixture
async def simulate(tmp_path: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    """`python -m parley simulate --port 0`, killed at teardown if it is still running."""
    env = dict(os.environ)
    env.pop("OPENAI_API_KEY", None)
    env["CODEX_HOME"] = str(tmp_path / "codex-home")
    env["PYTHONUNBUFFERED"] = "1"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "parley",
        "simulate",
        "--port",
        "0",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()


async def read_banner(proc: asyncio.subprocess.Process) -> str:
    """Everything printed up to and including the "Press Ctrl-C to stop." line."""
    assert proc.stdout is not None
    lines: list[str] = []
    async with asyncio.timeout(TIMEOUT):
        while not lines or lines[-1] != "Press Ctrl-C to stop.":
            raw = await proc.stdout.readline()
            if not raw:
                assert proc.stderr is not None
                stderr = (await proc.stderr.read()).decode(errors="replace")
                raise AssertionError(f"simulate exited early: {lines!r}\n{stderr}")
            lines.append(raw.decode().rstrip("\n"))
    return "\n".join(lines)


async def test_simulate_prints_its_urls_and_config_and_serves_models(
    simulate: asyncio.subprocess.Process,
) -> None:
    """`parley simulate --port 0` picks a free port, prints its URLs and a working config.toml
    snippet, answers GET /v1/models and realtime sockets, and stops cleanly on Ctrl-C."""
    banner = await read_banner(simulate)

    listening = re.search(r"listening on (http://127\.0\.0\.1:(\d+)) ", banner)
    assert listening, banner
    base, port = listening.group(1), int(listening.group(2))
    assert port > 0
    assert f"base_url: {base}/v1\n" in banner
    ws_url = f"ws://127.0.0.1:{port}/v1/realtime"
    assert "Realtime API WebSocket:" in banner and ws_url in banner

    snippet = banner.split("Add this to $CODEX_HOME/config.toml:\n", 1)[1]
    snippet = snippet.split("\nLog in with any API key", 1)[0]
    config = tomllib.loads(snippet)
    assert config["model_provider"] == "parley_simulator"
    assert config["model_providers"]["parley_simulator"]["base_url"] == f"{base}/v1"
    assert config["model_providers"]["parley_simulator"]["wire_api"] == "responses"
    assert config["experimental_realtime_ws_base_url"] == ws_url
    assert config["realtime"]["version"] == "v2"
    assert config["features"]["realtime_conversation"] is True

    async with aiohttp.ClientSession() as http, asyncio.timeout(TIMEOUT):
        async with http.get(f"{base}/v1/models") as response:
            assert response.status == 200
            models = await response.json()
        assert models["object"] == "list"
        assert {m["id"] for m in models["data"]} >= {config["model"], "gpt-realtime-1.5"}
        async with http.ws_connect(f"{ws_url}?model=gpt-realtime-1.5") as ws:
            first = await ws.receive_json()
        assert first["type"] == "session.created"
        assert first["session"]["type"] == "realtime"

    simulate.send_signal(signal.SIGINT)
    assert simulate.stdout is not None
    async with asyncio.timeout(TIMEOUT):
        rest = (await simulate.stdout.read()).decode()
        assert await simulate.wait() == 0
    assert "Simulator stopped." in rest
