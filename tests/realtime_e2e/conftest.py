"""Fixtures of the realtime end-to-end tests: the spec twins' `env` (app-server processes and mock
servers that are always shut down) and a hand-driven upstream WebSocket server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

# Reused, not copied: the spec twins' harness fixture, registered here for this folder.
from spec.test_realtime_conversation import env  # noqa: F401

from .upstream import LiveUpstream


@pytest.fixture
async def upstream() -> AsyncIterator[LiveUpstream]:
    """A started `LiveUpstream` (the Realtime API WebSocket, driven by the test)."""
    async with LiveUpstream() as server:
        yield server
