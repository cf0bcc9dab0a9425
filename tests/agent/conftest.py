"""Fixtures for the turn engine tests (the harness itself is `turn_harness.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from parley.agent.turn import ProviderSettings, TurnSettings

from .turn_harness import FakeTurnIO, ResponsesScript


@pytest.fixture
async def responses() -> AsyncIterator[ResponsesScript]:
    script = ResponsesScript()
    await script.start()
    try:
        yield script
    finally:
        await script.stop()


@pytest.fixture
def io() -> FakeTurnIO:
    return FakeTurnIO()


@pytest.fixture
def make_settings(
    responses: ResponsesScript, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., TurnSettings]:
    monkeypatch.setenv("SHELL", "/bin/bash")

    def make(**overrides: Any) -> TurnSettings:
        provider = ProviderSettings(
            base_url=overrides.pop("base_url", responses.base_url),
            request_max_retries=overrides.pop("request_max_retries", 0),
            stream_max_retries=overrides.pop("stream_max_retries", 0),
            retry_base_delay_s=0.01,
        )
        values: dict[str, Any] = {
            "model": "mock-model",
            "provider": provider,
            "api_key": "sk-test-key",
            "cwd": tmp_path,
            "sandbox_mode": "danger-full-access",
            "approval_policy": "never",
            "originator": "codex-app-server-tests",
            "user_agent": "codex-app-server-tests/0.1.0",
        }
        values.update(overrides)
        return TurnSettings(**values)

    return make
