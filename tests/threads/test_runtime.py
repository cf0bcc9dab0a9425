"""ThreadRuntime behaviour that needs no sockets: numbering, approvals routing, settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parley.agent.settings import ProviderSettings
from parley.threads.runtime import ThreadRuntime, ThreadSettings
from parley.threads.store import StoredTurn, ThreadStore


def _thread(tmp_path: Path, turns: list[StoredTurn] | None = None) -> ThreadRuntime:
    settings = ThreadSettings(
        model="m",
        model_provider="p",
        provider=ProviderSettings(base_url="http://127.0.0.1:9/v1"),
        cwd=tmp_path,
        sandbox_mode="read-only",
        approval_policy="never",
    )
    store = ThreadStore(tmp_path)
    meta = {"id": "01a21751-fb18-7e71-9842-6182b96a091e", "preview": "", "createdAt": 0}
    return ThreadRuntime(
        meta=meta,
        settings=settings,
        config=None,  # type: ignore[arg-type]  # only read while realtime runs
        log_=store.create(meta),
        api_key=lambda: None,
        turns=turns,
    )


class _Peer:
    client_name = "unit"
    user_agent = "unit/0"

    def __init__(self, answer: dict[str, Any] | None) -> None:
        self.answer = answer
        self.asked = 0

    def notify(self, method: str, params: dict[str, Any]) -> None:
        pass

    async def request(self, method: str, params: dict[str, Any]) -> Any:
        self.asked += 1
        if self.answer is None:
            raise ConnectionError("client disconnected")
        return self.answer


def test_delegated_turn_ids_continue_after_a_resume(tmp_path: Path) -> None:
    """A resumed thread numbers its next voice-delegated turn after the ones it already had."""
    earlier = [StoredTurn(id="auto-compact-1"), StoredTurn(id="x"), StoredTurn(id="auto-compact-2")]
    thread = _thread(tmp_path, turns=earlier)
    assert thread._auto_turns == 2


async def test_approval_goes_to_a_client_that_can_answer(tmp_path: Path) -> None:
    """If the first client on a thread has gone away, the next one is asked instead."""
    thread = _thread(tmp_path)
    gone, present = _Peer(None), _Peer({"decision": "accept"})
    thread.subscribe(gone)
    thread.subscribe(present)
    assert await thread.request_client("item/commandExecution/requestApproval", {}) == {
        "decision": "accept"
    }
    assert (gone.asked, present.asked) == (1, 1)
    thread.unsubscribe(present)
    with pytest.raises(ConnectionError):
        await thread.request_client("item/commandExecution/requestApproval", {})


def test_changed_settings_are_recorded_for_a_resume(tmp_path: Path) -> None:
    """Settings a turn changed (model, sandbox) survive in the thread's record."""
    thread = _thread(tmp_path)
    thread.settings.model = "other-model"
    thread.settings.sandbox_mode = "danger-full-access"
    thread.remember_settings()
    path = ThreadStore(tmp_path).find(thread.id)
    assert path is not None
    stored = ThreadStore(tmp_path).load(path)
    assert stored is not None
    assert stored.meta["model"] == "other-model"
    assert stored.meta["sandboxMode"] == "danger-full-access"
