"""Turns where the model runs shell commands, and what interrupts and steering do to them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from parley.agent.turn import TurnSettings, run_turn
from parley.tools.sandbox import check

from .turn_harness import (
    FakeTurnIO,
    Reply,
    ResponsesScript,
    answer,
    ev_completed,
    ev_created,
    ev_function_call,
    ev_message,
    ev_message_added,
    ev_text_delta,
    live_processes,
    shell_call,
    user_text,
    wait_until,
)

Settings = Callable[..., TurnSettings]
needs_sandbox = pytest.mark.skipif(check() is not None, reason=f"no sandbox: {check()}")


async def test_shell_command_runs_and_output_reaches_model(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings, tmp_path: Path
) -> None:
    """A shell call is shown as a commandExecution item and its output is sent back to the model."""
    responses.push(shell_call("printf realtime-tool-ok", call_id="shell_call"), answer("done"))

    result = await run_turn(io, make_settings(), user_text("run it"))

    assert result.status == "completed" and result.last_agent_message == "done"
    started = io.items("item/started", "commandExecution")[0]
    assert started == {
        "type": "commandExecution",
        "id": "shell_call",
        "command": "/bin/bash -lc 'printf realtime-tool-ok'",
        "cwd": str(tmp_path),
        "processId": None,
        "source": "agent",
        "status": "inProgress",
        "commandActions": [{"type": "unknown", "command": "printf realtime-tool-ok"}],
        "aggregatedOutput": None,
        "exitCode": None,
        "durationMs": None,
    }
    deltas = "".join(p["delta"] for p in io.params("item/commandExecution/outputDelta"))
    assert deltas == "realtime-tool-ok"
    completed = io.items("item/completed", "commandExecution")[0]
    assert completed["status"] == "completed"
    assert completed["aggregatedOutput"] == "realtime-tool-ok"
    assert completed["exitCode"] == 0 and isinstance(completed["durationMs"], int)

    second = responses.seen[1].body["input"]
    call, output = second[-2], second[-1]
    assert call["type"] == "function_call" and call["call_id"] == "shell_call"
    assert output["type"] == "function_call_output" and output["call_id"] == "shell_call"
    assert output["output"].startswith("Exit code: 0\nWall time: ")
    assert output["output"].endswith(" seconds\nOutput:\nrealtime-tool-ok")
    assert "realtime-tool-ok" in responses.seen[1].text()
    assert [i["type"] for i in io.recorded] == [
        "message",
        "function_call",
        "function_call_output",
        "message",
    ]


async def test_failing_command_is_reported_failed(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """A command exiting non-zero completes its item as failed with the exit code."""
    responses.push(shell_call("echo oops >&2; exit 3"), answer("it failed"))

    result = await run_turn(io, make_settings(), user_text("run it"))

    assert result.status == "completed"
    completed = io.items("item/completed", "commandExecution")[0]
    assert completed["status"] == "failed" and completed["exitCode"] == 3
    assert completed["aggregatedOutput"] == "oops\n"
    assert responses.seen[1].body["input"][-1]["output"].startswith("Exit code: 3\n")


@needs_sandbox
async def test_read_only_turn_cannot_write_the_workspace(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings, tmp_path: Path
) -> None:
    """In a read-only thread a command's write fails, nothing is written and the turn goes on."""
    (tmp_path / "probe.txt").write_text("readable")
    responses.push(
        shell_call("cat probe.txt", call_id="c1"),
        shell_call("echo x > f.txt", call_id="c2"),
        answer("done"),
    )

    result = await run_turn(io, make_settings(sandbox_mode="read-only"), user_text("try"))

    assert result.status == "completed"
    read, write = io.items("item/completed", "commandExecution")
    assert read["status"] == "completed" and "readable" in read["aggregatedOutput"]
    assert write["status"] == "failed" and write["exitCode"] != 0
    assert "Read-only file system" in write["aggregatedOutput"]
    assert not (tmp_path / "f.txt").exists()


async def test_interrupt_mid_stream_closes_the_stream(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """Interrupting while the model streams closes the HTTP stream and completes no message."""
    hold = asyncio.Event()
    responses.push(
        Reply.sse(
            [ev_created(), ev_message_added("msg-1"), ev_text_delta("msg-1", "Hel")], hold=hold
        )
    )
    task = asyncio.create_task(run_turn(io, make_settings(), user_text("talk")))
    await wait_until(lambda: bool(io.params("item/agentMessage/delta")))

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    await asyncio.wait_for(responses.seen[0].disconnected.wait(), 2)
    assert not io.items("item/completed", "agentMessage")
    hold.set()


async def test_interrupt_mid_command_kills_the_process_tree(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """Interrupting a running command kills it and everything it started, even a setsid'd child."""
    command = "(setsid sleep 4711.1 &); sleep 4711.2"
    responses.push(shell_call(command))
    task = asyncio.create_task(run_turn(io, make_settings(), user_text("run it")))
    await wait_until(lambda: len(live_processes("sleep 4711.")) >= 2)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    await wait_until(lambda: not live_processes("4711."), within=15)  # a safety net only
    # History stays consistent for the next turn: the call has an (aborted) output.
    assert [i["type"] for i in io.recorded][-2:] == ["function_call", "function_call_output"]
    assert io.recorded[-1]["output"].startswith("aborted")


async def test_command_timeout_is_reported_to_model(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """A command running past its timeout_ms is killed and reported as timed out."""
    responses.push(shell_call("sleep 4712.5", timeout_ms=300), answer("gave up"))

    result = await run_turn(io, make_settings(), user_text("wait"))

    assert result.status == "completed"
    completed = io.items("item/completed", "commandExecution")[0]
    assert completed["status"] == "failed" and completed["exitCode"] == 124
    assert (
        "command timed out after 300 milliseconds" in responses.seen[1].body["input"][-1]["output"]
    )
    assert not live_processes("4712.5")


async def test_steering_reaches_the_next_request_of_the_turn(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """Steering sent while the model answers is shown and sent in a second request of the turn."""
    hold = asyncio.Event()
    responses.push(
        Reply.sse(
            [ev_created(), ev_message("msg-1", "first answer")], hold=hold, then=[ev_completed()]
        ),
        answer("second answer", item_id="msg-2"),
    )
    task = asyncio.create_task(run_turn(io, make_settings(), user_text("start working")))
    await wait_until(lambda: bool(io.items("item/completed", "agentMessage")))
    io.steering.append(user_text("steer me left"))
    hold.set()

    result = await task

    assert result.status == "completed" and result.last_agent_message == "second answer"
    inputs = responses.seen[1].body["input"]
    assert [m["content"][0]["text"] for m in inputs[-3:]] == [
        "start working",
        "first answer",
        "steer me left",
    ]
    order = [
        (p["item"]["type"], p["item"].get("text") or p["item"].get("content"))
        for m, p in io.notifications
        if m == "item/completed"
    ]
    assert order == [
        ("userMessage", user_text("start working")),
        ("agentMessage", "first answer"),
        ("userMessage", user_text("steer me left")),
        ("agentMessage", "second answer"),
    ]


async def test_unknown_tool_gets_an_error_output(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """A call to a tool Parley does not offer is answered with an error the model can read."""
    responses.push(
        [ev_created(), ev_function_call("c9", "web_fetch", {"url": "x"}), ev_completed()],
        answer("ok"),
    )

    result = await run_turn(io, make_settings(), user_text("go"))

    assert result.status == "completed"
    assert responses.seen[1].body["input"][-1] == {
        "type": "function_call_output",
        "call_id": "c9",
        "output": "unsupported call: web_fetch",
    }
