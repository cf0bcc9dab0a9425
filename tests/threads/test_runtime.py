"""ThreadRuntime behaviour that needs no sockets: numbering, approvals routing, settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from parley.agent.settings import ProviderSettings
from parley.config import load_config
from parley.threads import rollout
from parley.threads.record import ThreadRecord, load_rollout
from parley.threads.runtime import ThreadInfo, ThreadRuntime, ThreadSettings

THREAD_ID = "01a21751-fb18-7e71-9842-6182b96a091e"


def _thread(tmp_path: Path, lines: list[rollout.RolloutLine] | None = None) -> ThreadRuntime:
    settings = ThreadSettings(
        model="m",
        model_provider="p",
        provider=ProviderSettings(base_url="http://127.0.0.1:9/v1"),
        cwd=tmp_path,
        sandbox_mode="read-only",
        approval_policy="never",
    )
    path = tmp_path / f"rollout-2025-01-01T00-00-00-{THREAD_ID}.jsonl"
    return ThreadRuntime(
        info=ThreadInfo(
            id=THREAD_ID, created_at=0, cwd=str(tmp_path), model_provider="p", cli_version="0"
        ),
        settings=settings,
        config=load_config(tmp_path),
        record=ThreadRecord(path, materialized=True, lines=lines or []),
        api_key=lambda: None,
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
    earlier = [
        rollout.task_started(turn_id, 1) for turn_id in ("auto-compact-1", "x", "auto-compact-2")
    ]
    thread = _thread(tmp_path, lines=earlier)
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
    """Settings a turn changed (model, sandbox) are in the turn's `turn_context` line, which a
    resume reads back."""
    thread = _thread(tmp_path)
    thread.record.append(
        rollout.session_meta_line(
            rollout.SessionMeta(
                id=THREAD_ID,
                timestamp="2025-01-01T00:00:00.000Z",
                cwd=str(tmp_path),
                originator="t",
                cli_version="0",
            )
        )
    )
    thread.settings.model = "other-model"
    thread.settings.sandbox_mode = "danger-full-access"
    thread.record.append(thread._turn_context("turn-1"))
    assert thread.path is not None
    ctx = load_rollout(thread.path).latest_turn_context
    assert ctx is not None
    assert ctx["model"] == "other-model"
    assert ctx["sandbox_policy"] == {"type": "danger-full-access"}
