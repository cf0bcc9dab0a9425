"""Fixtures for the simulator tests: a running simulator with unpaced (instant) audio."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import pytest

from parley.simulator import Simulator, SimulatorConfig, serve


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A simulator on a free local port that streams spoken answers without pacing."""
    simulator = await serve("127.0.0.1", 0, config=SimulatorConfig(speed=math.inf))
    try:
        yield simulator
    finally:
        await simulator.close()
