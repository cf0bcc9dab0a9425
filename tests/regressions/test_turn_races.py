"""Regressions: turn lifecycle races seen through the real `parley app-server` subprocess."""

from __future__ import annotations

import asyncio
import os
import random
import signal
from pathlib import Path
from typing import Any

import orjson
import pytest
from integration.helpers import (
    describe_processes,
    eventually,
    items,
    notifications,
    processes_with_argument,
    ready_server,
    start_turn,
    user_text,
    wait_turn_completed,
)
from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer, ScriptedResponse
from support.sse import (
    create_final_assistant_message_sse_response,
    create_shell_command_sse_response,
    ev_message_item_added,
    ev_output_text_delta,
    ev_response_created,
    sse,
)

APPROVAL = "item/commandExecution/requestApproval"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


def _user_texts(body: dict[str, Any]) -> list[str]:
    texts = []
    for item in body["input"]:
        if item.get("type") == "message" and item.get("role") == "user":
            texts += [c["text"] for c in item["content"] if c.get("type") == "input_text"]
    return texts


async def test_turn_start_right_after_interrupt_starts_a_new_turn(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """A client that interrupts a turn and at once starts another gets a new turn that runs,
    instead of having its input folded into the turn it just interrupted (and lost)."""
    hold = asyncio.Event()
    partial = sse(
        [ev_response_created("r1"), ev_message_item_added("msg-1", ""), ev_output_text_delta("x")]
    )
    responses_server.push(
        ScriptedResponse.stream(partial, hold=hold),
        create_final_assistant_message_sse_response("second answer"),
    )
    server, thread = await ready_server(
        spawn_app_server, codex_home, responses_server, workspace=workspace
    )
    turn = await start_turn(server, thread["id"], "talk slowly")
    await server.read_notification("item/agentMessage/delta")

    # Both requests in one write, as a client's "stop and send this instead" does.
    interrupt = {
        "id": 900,
        "method": "turn/interrupt",
        "params": {"threadId": thread["id"], "turnId": turn["id"]},
    }
    restart = {
        "id": 901,
        "method": "turn/start",
        "params": {"threadId": thread["id"], "input": user_text("do this instead")},
    }
    await server.send_raw_bytes(orjson.dumps(interrupt) + b"\n" + orjson.dumps(restart) + b"\n")
    await server.read_stream_until_response_message(900)
    reply = await server.read_stream_until_response_message(901)
    new_turn = reply["result"]["turn"]
    first = await wait_turn_completed(server, turn["id"])
    hold.set()

    assert first["status"] == "interrupted"
    assert new_turn["id"] != turn["id"], "turn/start was folded into the interrupted turn"
    second = await wait_turn_completed(server, new_turn["id"])
    assert second["status"] == "completed"
    bodies = responses_server.responses_requests()
    assert _user_texts(bodies[-1])[-1] == "do this instead"
    await server.close()


async def test_steer_right_after_interrupt_is_refused(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """turn/steer naming a turn the client has just interrupted is refused rather than accepted
    into a turn that will never send another model request."""
    hold = asyncio.Event()
    partial = sse(
        [ev_response_created("r1"), ev_message_item_added("msg-1", ""), ev_output_text_delta("x")]
    )
    responses_server.push(ScriptedResponse.stream(partial, hold=hold))
    server, thread = await ready_server(
        spawn_app_server, codex_home, responses_server, workspace=workspace
    )
    turn = await start_turn(server, thread["id"], "talk slowly")
    await server.read_notification("item/agentMessage/delta")

    interrupt = {
        "id": 900,
        "method": "turn/interrupt",
        "params": {"threadId": thread["id"], "turnId": turn["id"]},
    }
    steer = {
        "id": 901,
        "method": "turn/steer",
        "params": {
            "threadId": thread["id"],
            "input": user_text("and also this"),
            "expectedTurnId": turn["id"],
        },
    }
    await server.send_raw_bytes(orjson.dumps(interrupt) + b"\n" + orjson.dumps(steer) + b"\n")
    await server.read_stream_until_response_message(900)
    reply = await server.read_stream_until_error_message(901)
    hold.set()
    assert reply["error"]["code"] == -32600
    await wait_turn_completed(server, turn["id"])
    await server.close()


async def test_interrupt_while_approval_is_pending_completes_the_command_item(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """Interrupting a turn whose command waits for approval closes the command's item (every
    item/started gets its item/completed before turn/completed) and never runs the command."""
    responses_server.push(
        create_shell_command_sse_response(["touch", "made.txt"], None, None, "call-1")
    )
    server, thread = await ready_server(
        spawn_app_server,
        codex_home,
        responses_server,
        workspace=workspace,
        sandbox="danger-full-access",
        approval="untrusted",
    )
    turn = await start_turn(server, thread["id"], "make a file")
    request = await server.read_stream_until_request_message(APPROVAL)

    await server.request("turn/interrupt", {"threadId": thread["id"], "turnId": turn["id"]})
    completed = await wait_turn_completed(server, turn["id"])
    await server.read_notification("serverRequest/resolved")
    # A late answer to the dropped request must not run anything.
    await server.send_response(request["id"], {"decision": "accept"})
    await server.request("account/read", {})

    assert completed["status"] == "interrupted"
    assert not (workspace / "made.txt").exists()
    started = [p["item"]["id"] for p in items(server, "item/started", "commandExecution")]
    done = [p["item"]["id"] for p in items(server, "item/completed", "commandExecution")]
    assert started == ["call-1"]
    assert done == ["call-1"], (
        "the command item was started but never completed: "
        + orjson.dumps(notifications(server)).decode()[-2000:]
    )
    await server.close()


async def test_interrupt_of_a_running_command_completes_its_item(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """Interrupting a turn while its command runs still closes the command's item."""
    marker = f"30.{random.randrange(10**8):08d}"
    responses_server.push(create_shell_command_sse_response(["sleep", marker], None, None, "c1"))
    server, thread = await ready_server(
        spawn_app_server,
        codex_home,
        responses_server,
        workspace=workspace,
        sandbox="danger-full-access",
    )
    turn = await start_turn(server, thread["id"], "wait")
    assert await eventually(lambda: processes_with_argument(marker))
    await server.request("turn/interrupt", {"threadId": thread["id"], "turnId": turn["id"]})
    await wait_turn_completed(server, turn["id"])

    done = [p["item"]["id"] for p in items(server, "item/completed", "commandExecution")]
    assert done == ["c1"], "the running command's item was never completed"
    await server.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
async def test_terminating_the_stdio_server_kills_running_commands(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
    signum: int,
) -> None:
    """An editor that stops the app-server with SIGTERM (or closes its terminal: SIGHUP) leaves
    no agent command running, as closing stdin does."""
    marker = f"30.{random.randrange(10**8):08d}"
    responses_server.push(create_shell_command_sse_response(["sleep", marker], None, None, "c1"))
    server, thread = await ready_server(
        spawn_app_server,
        codex_home,
        responses_server,
        workspace=workspace,
        sandbox="danger-full-access",
    )
    await start_turn(server, thread["id"], "wait")
    assert await eventually(lambda: processes_with_argument(marker))

    os.kill(server.pid, signum)
    await server.wait_for_exit(timeout=5.0)
    left = await eventually(lambda: not processes_with_argument(marker), timeout=2.0)
    survivors = processes_with_argument(marker)
    described = describe_processes(survivors)
    for pid in survivors:  # clean up what the server left behind
        os.kill(pid, signal.SIGKILL)
    assert left, f"left running after the server was signalled:\n{described}"


async def test_sigint_on_the_stdio_server_exits_quietly_and_kills_commands(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """Ctrl-C on a terminal-run app-server ends it without a traceback and leaves no command."""
    marker = f"30.{random.randrange(10**8):08d}"
    responses_server.push(create_shell_command_sse_response(["sleep", marker], None, None, "c1"))
    server, thread = await ready_server(
        spawn_app_server,
        codex_home,
        responses_server,
        workspace=workspace,
        sandbox="danger-full-access",
    )
    await start_turn(server, thread["id"], "wait")
    assert await eventually(lambda: processes_with_argument(marker))

    os.kill(server.pid, signal.SIGINT)
    await server.wait_for_exit(timeout=5.0)
    left = await eventually(lambda: not processes_with_argument(marker), timeout=2.0)
    survivors = processes_with_argument(marker)
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert left
    assert "Traceback" not in server.stderr_text(), server.stderr_text()[-3000:]


async def test_turn_start_overrides_apply_to_the_turn(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """turn/start's `model` and `approvalPolicy` overrides are honoured: a client that asks for
    `untrusted` on a turn is asked before a writing command runs, and the model it names is
    the one requested."""
    responses_server.push(
        create_shell_command_sse_response(["touch", "made.txt"], None, None, "call-1"),
        create_final_assistant_message_sse_response("done"),
    )
    server, thread = await ready_server(
        spawn_app_server,
        codex_home,
        responses_server,
        workspace=workspace,
        sandbox="danger-full-access",
        approval="never",
    )
    result = await server.request(
        "turn/start",
        {
            "threadId": thread["id"],
            "input": user_text("make a file"),
            "approvalPolicy": "untrusted",
            "model": "other-model",
        },
    )
    turn = result["turn"]
    try:
        request = await server.read_stream_until_request_message(APPROVAL, timeout=3.0)
    except AssertionError:
        request = None
    if request is not None:
        await server.send_response(request["id"], {"decision": "decline"})
    await wait_turn_completed(server, turn["id"])

    bodies = responses_server.responses_requests()
    assert request is not None, "the command ran without the approval the turn asked for"
    assert not (workspace / "made.txt").exists()
    assert bodies[0]["model"] == "other-model", bodies[0]["model"]
    await server.close()


async def test_turn_start_sandbox_override_confines_the_command(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """A turn started with `sandboxPolicy: readOnly` on a full-access thread cannot write."""
    responses_server.push(
        create_shell_command_sse_response(["touch", "made.txt"], None, None, "call-1"),
        create_final_assistant_message_sse_response("done"),
    )
    server, thread = await ready_server(
        spawn_app_server,
        codex_home,
        responses_server,
        workspace=workspace,
        sandbox="danger-full-access",
        approval="never",
    )
    result = await server.request(
        "turn/start",
        {
            "threadId": thread["id"],
            "input": user_text("make a file"),
            "sandboxPolicy": {"type": "readOnly"},
        },
    )
    await wait_turn_completed(server, result["turn"]["id"])
    assert not (workspace / "made.txt").exists(), "a read-only turn wrote a file"
    await server.close()


async def test_a_rejected_turn_start_changes_no_thread_setting(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """A turn/start refused for a bad `cwd` leaves the thread as it was: its sandbox is not
    widened to the `dangerFullAccess` the same refused request asked for."""
    server, thread = await ready_server(
        spawn_app_server, codex_home, responses_server, workspace=workspace
    )
    error = await server.request_error(
        "turn/start",
        {
            "threadId": thread["id"],
            "input": user_text("escalate"),
            "model": "other-model",
            "sandboxPolicy": {"type": "dangerFullAccess"},
            "cwd": "not/an/absolute/dir",
        },
    )
    # A turn writes the thread's rollout, which a resume needs (as the reference).
    responses_server.push(create_final_assistant_message_sse_response("ok"))
    turn = await start_turn(server, thread["id"], "hello")
    await wait_turn_completed(server, turn["id"])
    resumed = await server.request("thread/resume", {"threadId": thread["id"]})
    await server.close()
    assert error["code"] == -32600
    assert resumed["sandbox"]["type"] == "readOnly", resumed["sandbox"]
    assert resumed["model"] == "mock-model", resumed["model"]
