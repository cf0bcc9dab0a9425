"""Regressions: `ThreadRuntime` turn lifecycle, in-process with a scripted agent loop."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from parley.agent.settings import ProviderSettings
from parley.agent.turn import TurnResult
from parley.config import load_config
from parley.threads import runtime as runtime_module
from parley.threads.record import ThreadRecord
from parley.threads.runtime import ThreadInfo, ThreadRuntime, ThreadSettings


class _Peer:
    client_name = "unit"
    user_agent = "unit/0"

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.seen.append((method, params))

    async def request(self, method: str, params: dict[str, Any]) -> Any:
        raise ConnectionError("no approvals in this test")

    def completed(self) -> list[str]:
        return [p["turn"]["id"] for m, p in self.seen if m == "turn/completed"]


def _thread(tmp_path: Path) -> ThreadRuntime:
    settings = ThreadSettings(
        model="m",
        model_provider="p",
        provider=ProviderSettings(base_url="http://127.0.0.1:9/v1"),
        cwd=tmp_path,
        sandbox_mode="read-only",
        approval_policy="never",
    )
    return ThreadRuntime(
        info=ThreadInfo(
            id="thread-1", created_at=0, cwd=str(tmp_path), model_provider="p", cli_version="0"
        ),
        settings=settings,
        config=load_config(tmp_path),
        record=ThreadRecord(None, materialized=False),
        api_key=lambda: None,
    )


async def _slow_to_stop_turn(io: Any, settings: Any, user_input: Any) -> TurnResult:
    """A model request that, once cancelled, takes a moment to wind down (closing streams)."""
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(asyncio.sleep(0.3))
        raise
    raise AssertionError("unreachable")


async def test_a_turn_interrupted_while_queued_behind_an_interrupted_turn_still_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Interrupt A, start B (it waits for A to wind down), interrupt B: both A and B end with
    `turn/completed`, so a client waiting for B's completion is not left hanging."""
    monkeypatch.setattr(runtime_module, "run_turn", _slow_to_stop_turn)
    thread = _thread(tmp_path)
    peer = _Peer()
    thread.subscribe(peer)

    a = thread.start_turn([{"type": "text", "text": "a", "text_elements": []}])["id"]
    await asyncio.sleep(0.05)
    thread.interrupt(a)
    b = thread.start_turn([{"type": "text", "text": "b", "text_elements": []}])["id"]
    assert b != a
    await asyncio.sleep(0.05)  # B is now waiting for A
    thread.interrupt(b)
    await asyncio.sleep(0.6)

    assert peer.completed() == [a, b], peer.seen
    assert thread.active is None
