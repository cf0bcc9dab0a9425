"""Approval requests for shell commands and what each answer does to the command and the turn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from parley.agent.turn import AgentSessionState, TurnSettings, run_turn
from parley.tools.sandbox import check

from .turn_harness import FakeTurnIO, ResponsesScript, answer, shell_call, user_text

Settings = Callable[..., TurnSettings]
needs_sandbox = pytest.mark.skipif(check() is not None, reason=f"no sandbox: {check()}")
APPROVAL = "item/commandExecution/requestApproval"


async def test_untrusted_accept_runs_the_command(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings, tmp_path: Path
) -> None:
    """Under `untrusted`, a writing command runs only after the user accepts it."""
    responses.push(shell_call("touch made.txt", call_id="c1"), answer("made it"))
    io.decisions = ["accept"]

    result = await run_turn(io, make_settings(approval_policy="untrusted"), user_text("make"))

    assert result.status == "completed"
    method, params = io.approval_requests[0]
    assert method == APPROVAL
    assert params["itemId"] == "c1"
    assert params["threadId"] == io.thread_id and params["turnId"] == io.turn_id
    assert params["command"] == "/bin/bash -lc 'touch made.txt'"
    assert params["cwd"] == str(tmp_path)
    assert params["commandActions"] == [{"type": "unknown", "command": "touch made.txt"}]
    assert (tmp_path / "made.txt").exists()
    assert io.items("item/completed", "commandExecution")[0]["status"] == "completed"


async def test_untrusted_decline_skips_the_command(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings, tmp_path: Path
) -> None:
    """A declined command is not run, its item is declined and the model is told."""
    responses.push(shell_call("touch made.txt", call_id="c1"), answer("ok, not doing it"))
    io.decisions = ["decline"]

    result = await run_turn(io, make_settings(approval_policy="untrusted"), user_text("make"))

    assert result.status == "completed"
    assert not (tmp_path / "made.txt").exists()
    item = io.items("item/completed", "commandExecution")[0]
    assert item["status"] == "declined" and item["exitCode"] is None
    output = responses.seen[1].body["input"][-1]
    assert output["type"] == "function_call_output" and "rejected by user" in output["output"]


async def test_cancel_interrupts_the_turn(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings, tmp_path: Path
) -> None:
    """Answering `cancel` declines the command and ends the turn as interrupted."""
    responses.push(shell_call("touch made.txt"), answer("never sent"))
    io.decisions = ["cancel"]

    result = await run_turn(io, make_settings(approval_policy="untrusted"), user_text("make"))

    assert result.status == "interrupted" and result.error is None
    assert not (tmp_path / "made.txt").exists()
    assert len(responses.seen) == 1
    assert io.items("item/completed", "commandExecution")[0]["status"] == "declined"


async def test_known_safe_commands_are_not_asked(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """Under `untrusted`, a read-only command such as printf runs without asking."""
    responses.push(shell_call("printf hi"), answer("ok"))

    result = await run_turn(io, make_settings(approval_policy="untrusted"), user_text("say"))

    assert result.status == "completed"
    assert io.approval_requests == []


async def test_accept_for_session_is_remembered(
    responses: ResponsesScript, make_settings: Settings, tmp_path: Path
) -> None:
    """A command accepted for the session is not asked about again in a later turn."""
    state = AgentSessionState()
    first, second = FakeTurnIO(), FakeTurnIO(turn_id="turn-2")
    first.agent_state = state
    second.agent_state = state
    first.decisions = ["acceptForSession"]
    responses.push(shell_call("touch a.txt"), answer("1"), shell_call("touch a.txt"), answer("2"))
    settings = make_settings(approval_policy="untrusted")

    await run_turn(first, settings, user_text("one"))
    await run_turn(second, settings, user_text("two"))

    assert len(first.approval_requests) == 1 and second.approval_requests == []
    assert second.items("item/completed", "commandExecution")[0]["status"] == "completed"
    # Token usage accumulates across the two turns of the thread.
    last_total = second.params("thread/tokenUsage/updated")[-1]["tokenUsage"]["total"]
    assert last_total["inputTokens"] == 40


async def test_no_client_to_ask_declines(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings, tmp_path: Path
) -> None:
    """When no client can answer an approval request the command is declined, not run."""
    responses.push(shell_call("touch made.txt"), answer("ok"))

    result = await run_turn(io, make_settings(approval_policy="untrusted"), user_text("make"))

    assert result.status == "completed"
    assert not (tmp_path / "made.txt").exists()
    assert io.items("item/completed", "commandExecution")[0]["status"] == "declined"


async def test_on_request_escalation_runs_outside_the_sandbox(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings, tmp_path: Path
) -> None:
    """Under `on-request`, a command asking for escalation runs unsandboxed once approved."""
    responses.push(
        shell_call(
            "echo x > out.txt",
            sandbox_permissions="require_escalated",
            justification="needs to write the report",
        ),
        answer("written"),
    )
    io.decisions = ["accept"]
    settings = make_settings(sandbox_mode="read-only", approval_policy="on-request")

    result = await run_turn(io, settings, user_text("write"))

    assert result.status == "completed"
    assert io.approval_requests[0][1]["reason"] == "needs to write the report"
    assert (tmp_path / "out.txt").read_text() == "x\n"
    tool = responses.seen[0].body["tools"][0]
    assert "sandbox_permissions" in tool["parameters"]["properties"]


@needs_sandbox
async def test_on_failure_asks_to_rerun_without_sandbox(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings, tmp_path: Path
) -> None:
    """Under `on-failure`, a write blocked by the sandbox is rerun unsandboxed once approved."""
    responses.push(shell_call("echo x > out.txt"), answer("written"))
    io.decisions = ["accept"]
    settings = make_settings(sandbox_mode="read-only", approval_policy="on-failure")

    result = await run_turn(io, settings, user_text("write"))

    assert result.status == "completed"
    assert len(io.approval_requests) == 1
    assert (tmp_path / "out.txt").read_text() == "x\n"
    assert io.items("item/completed", "commandExecution")[0]["status"] == "completed"


async def test_missing_sandbox_refuses_confined_commands(
    responses: ResponsesScript,
    io: FakeTurnIO,
    make_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without bubblewrap a sandboxed command is refused with the reason, never run unconfined."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    responses.push(shell_call("echo x > out.txt"), answer("could not"))

    result = await run_turn(io, make_settings(sandbox_mode="workspace-write"), user_text("w"))

    assert result.status == "completed"
    item = io.items("item/completed", "commandExecution")[0]
    assert item["status"] == "failed"
    assert "bubblewrap" in item["aggregatedOutput"]
    assert not (tmp_path / "out.txt").exists()
    assert "not run" in responses.seen[1].body["input"][-1]["output"]
