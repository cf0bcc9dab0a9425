"""Fixtures: a simulator in the test's event loop and a real `parley app-server` pointed at it."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.simulator import Simulator, SimulatorConfig, VoiceModelConfig, serve

from .harness import Launch, Voice, VoiceClient, codex_config


@pytest.fixture
async def launch(tmp_path: Path, codex_home: Path) -> AsyncIterator[Launch]:
    """Start the simulator and the app-server (`await launch(speed=…, version=…)`); both are
    shut down at teardown, where the app-server must exit 0 without having logged a traceback."""
    sims: list[Simulator] = []
    clients: list[VoiceClient] = []

    async def start(
        *,
        speed: float = math.inf,
        version: str = "v2",
        sandbox: str = "danger-full-access",
    ) -> Voice:
        config = SimulatorConfig(speed=speed, voice=VoiceModelConfig(input_transcript_deltas=False))
        sim = await serve("127.0.0.1", 0, config=config)
        sims.append(sim)
        (codex_home / "config.toml").write_text(
            codex_config(sim, version=version, sandbox=sandbox), encoding="utf-8"
        )
        workspace = tmp_path / "workspace"
        workspace.mkdir(exist_ok=True)
        client = VoiceClient(codex_home, cwd=workspace)
        clients.append(client)
        await client.start()
        await client.open_thread(workspace)
        return Voice(sim, client, workspace)

    statuses: list[int | None] = []
    try:
        yield start
    finally:
        for client in clients:
            statuses.append(await client.close(check=False))
        for sim in sims:
            await sim.close()
    for client, status in zip(clients, statuses, strict=True):
        stderr = client.stderr_text()
        assert "Traceback" not in stderr, f"app-server logged a traceback:\n{stderr[-4000:]}"
        assert status == 0, f"app-server exited with {status}:\n{stderr[-4000:]}"
