"""Integration-test fixtures: the shared `spawn_app_server`, plus a check on what servers log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from support.app_server import AppServerProcess, SpawnAppServer


@pytest.fixture
async def spawn_app_server(spawn_app_server: SpawnAppServer) -> AsyncIterator[SpawnAppServer]:
    """The shared fixture; at teardown, no server this test started may have logged a traceback."""
    started: list[AppServerProcess] = []

    async def spawn(**kwargs: Any) -> AppServerProcess:
        process = await spawn_app_server(**kwargs)
        started.append(process)
        return process

    yield spawn
    for process in started:
        stderr = process.stderr_text()
        assert "Traceback" not in stderr, f"app-server logged a traceback:\n{stderr[-4000:]}"
