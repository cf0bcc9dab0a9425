"""Fixtures of the regression tests: the spec twins' `env` and a hand-driven upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from realtime_e2e.upstream import LiveUpstream

# Reused, not copied: the spec twins' harness fixture, registered here for this folder.
from spec.test_realtime_conversation import env  # noqa: F401


@pytest.fixture
async def upstream() -> AsyncIterator[LiveUpstream]:
    """A started `LiveUpstream` (the Realtime API WebSocket, driven by the test)."""
    async with LiveUpstream() as server:
        yield server
