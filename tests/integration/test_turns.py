"""Agent turns through a real `parley app-server` against the mock Responses server."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

import orjson
import pytest
from support.app_server import AppServerProcess, SpawnAppServer
from support.mock_responses import MockResponsesServer, ScriptedResponse
from support.sse import (
    create_final_assistant_message_sse_response,
    create_shell_command_sse_response,
    ev_assistant_message,
    ev_completed,
    ev_completed_with_tokens,
    ev_message_item_added,
    ev_output_text_delta,
    ev_response_created,
    sse,
)

from parley.tools.sandbox import check as sandbox_problem

from .helpers import (
    API_KEY,
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

APPROVAL = "item/commandExecution/requestApproval"
HIGH_DEMAND = "We're currently experiencing high demand, which may cause temporary errors."
needs_sandbox = pytest.mark.skipif(
    sandbox_problem() is not None, reason=f"bubblewrap cannot confine here: {sandbox_problem()}"
)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The thread's working directory (empty, private to the test)."""
    path = tmp_path / "workspace"
    path.mkdir()
    return path


def methods(server: AppServerProcess) -> list[str]:
    return [m["method"] for m in notifications(server)]


def in_order(sequence: list[str], expected: list[str]) -> bool:
    """`expected` occurs in `sequence` as a subsequence."""
    it = iter(sequence)
    return all(any(x == wanted for x in it) for wanted in expected)


def function_call_outputs(body: dict[str, Any]) -> dict[str, str]:
    return {
        item["call_id"]: item["output"]
        for item in body["input"]
        if item.get("type") == "function_call_output"
    }


def user_texts(body: dict[str, Any]) -> list[str]:
    """The plain texts of the user messages in a Responses request body."""
    texts = []
    for item in body["input"]:
        if item.get("type") == "message" and item.get("role") == "user":
            texts += [c["text"] for c in item["content"] if c.get("type") == "input_text"]
    return texts


def shell_call(command: list[str], call_id: str = "call-1") -> str:
    return create_shell_command_sse_response(command, None, None, call_id)


async def test_plain_answer_turn(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """A turn shows the user's message, the model's answer and token usage, then completes."""
    responses_server.push(
        sse(
            [
                ev_response_created("resp-1"),
                ev_assistant_message("msg-1", "Hello world"),
                ev_completed_with_tokens("resp-1", 42),
            ]
        )
    )
    server, thread = await ready_server(
        spawn_app_server, codex_home, responses_server, workspace=workspace
    )

    turn = await start_turn(server, thread["id"], "say hello")
    completed = await wait_turn_completed(server, turn["id"])

    assert turn["status"] == "inProgress" and turn["items"] == []
    assert completed["status"] == "completed" and completed["error"] is None
    assert in_order(
        methods(server),
        [
            "turn/started",
            "item/started",
            "item/completed",
            "item/started",
            "item/completed",
            "thread/tokenUsage/updated",
            "turn/completed",
        ],
    )
    started_turn = (await server.read_notification("turn/started"))["turn"]
    assert started_turn["id"] == turn["id"] and started_turn["startedAt"] is not None
    user_started = items(server, "item/started", "userMessage")
    user_done = items(server, "item/completed", "userMessage")
    assert [p["item"]["content"] for p in user_done] == [user_text("say hello")]
    agent_started = items(server, "item/started", "agentMessage")
    agent_done = items(server, "item/completed", "agentMessage")
    assert [p["item"]["id"] for p in agent_done] == ["msg-1"]
    assert agent_done[0]["item"]["text"] == "Hello world"
    for params in user_started + agent_started:
        assert isinstance(params["startedAtMs"], int)
        assert params["threadId"] == thread["id"] and params["turnId"] == turn["id"]
    for params in user_done + agent_done:
        assert isinstance(params["completedAtMs"], int)
    usage = (await server.read_notification("thread/tokenUsage/updated"))["tokenUsage"]
    assert usage["last"]["inputTokens"] == 42 and usage["total"]["totalTokens"] == 42

    (request,) = responses_server.responses_request_records()
    body = request.body_json()
    assert request.path == "/v1/responses"
    assert request.header("authorization") == f"Bearer {API_KEY}"
    assert request.header("originator") == "codex-app-server-tests"
    assert request.header("session_id") == thread["id"]
    assert body["model"] == "mock-model" and body["stream"] is True
    assert body["input"][-1] == {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "say hello"}],
    }
    await server.close()


async def test_streamed_answer_arrives_as_deltas(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """A streamed model answer reaches the client as agentMessage deltas, then the full text."""
    body = sse(
        [
            ev_response_created("resp-1"),
            ev_message_item_added("msg-1", ""),
            ev_output_text_delta("Hello "),
            ev_output_text_delta("world"),
            ev_assistant_message("msg-1", "Hello world"),
            ev_completed("resp-1"),
        ]
    )
    responses_server.push(ScriptedResponse.stream(body, event_delay=0.05))
    server, thread = await ready_server(
        spawn_app_server, codex_home, responses_server, workspace=workspace
    )

    turn = await start_turn(server, thread["id"], "say hello")
    completed = await wait_turn_completed(server, turn["id"])

    assert completed["status"] == "completed"
    deltas = notifications(server, "item/agentMessage/delta")
    assert [d["delta"] for d in deltas] == ["Hello ", "world"]
    assert {d["itemId"] for d in deltas} == {"msg-1"}
    assert [p["item"]["text"] for p in items(server, "item/completed", "agentMessage")] == [
        "Hello world"
    ]
    sequence = methods(server)
    assert in_order(
        sequence,
        ["item/started", "item/agentMessage/delta", "item/agentMessage/delta", "item/completed"],
    )
    await server.close()


async def test_shell_command_runs_and_its_output_goes_back_to_the_model(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """With full access a model's shell command runs, is shown, and its output goes back."""
    responses_server.push(
        shell_call(["printf", "realtime-tool-ok"]),
        create_final_assistant_message_sse_response("done"),
    )
    server, thread = await ready_server(
        spawn_app_server,
        codex_home,
        responses_server,
        workspace=workspace,
        sandbox="danger-full-access",
    )

    turn = await start_turn(server, thread["id"], "run the tool")
    completed = await wait_turn_completed(server, turn["id"])

    assert completed["status"] == "completed"
    (started,) = items(server, "item/started", "commandExecution")
    (done,) = items(server, "item/completed", "commandExecution")
    assert started["item"]["id"] == "call-1" and started["item"]["status"] == "inProgress"
    assert started["item"]["aggregatedOutput"] is None
    assert done["item"]["status"] == "completed", orjson.dumps(done).decode()
    assert done["item"]["aggregatedOutput"] == "realtime-tool-ok"
    assert done["item"]["exitCode"] == 0
    assert done["item"]["cwd"] == str(workspace)
    assert "printf realtime-tool-ok" in done["item"]["command"]
    bodies = responses_server.responses_requests()
    assert len(bodies) == 2
    assert "realtime-tool-ok" in function_call_outputs(bodies[1])["call-1"]
    assert [p["item"]["text"] for p in items(server, "item/completed", "agentMessage")] == ["done"]
    await server.close()


@needs_sandbox
async def test_read_only_sandbox_blocks_writes(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """In the read-only sandbox a command that writes a file fails and the file is not created."""
    responses_server.push(
        shell_call(["sh", "-c", "echo x > f.txt"]),
        create_final_assistant_message_sse_response("could not write"),
    )
    server, thread = await ready_server(
        spawn_app_server, codex_home, responses_server, workspace=workspace, sandbox="read-only"
    )

    turn = await start_turn(server, thread["id"], "write a file")
    completed = await wait_turn_completed(server, turn["id"])

    assert completed["status"] == "completed"
    (done,) = items(server, "item/completed", "commandExecution")
    assert done["item"]["status"] == "failed"
    assert done["item"]["exitCode"] not in (None, 0)
    assert not (workspace / "f.txt").exists()
    assert len(responses_server.responses_requests()) == 2
    await server.close()


async def test_steer_while_the_response_is_held(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """Steering a running turn adds the text to the next model request of that same turn."""
    gate = asyncio.Event()
    responses_server.push(
        ScriptedResponse(create_final_assistant_message_sse_response("first answer"), gate=gate),
        create_final_assistant_message_sse_response("steered answer"),
    )
    server, thread = await ready_server(
        spawn_app_server, codex_home, responses_server, workspace=workspace
    )
    turn = await start_turn(server, thread["id"], "start working")
    await responses_server.wait_for_responses_requests(1)

    steer = await server.request(
        "turn/steer",
        {
            "threadId": thread["id"],
            "input": user_text("steer me left"),
            "expectedTurnId": turn["id"],
        },
    )
    gate.set()
    completed = await wait_turn_completed(server, turn["id"])

    assert steer == {"turnId": turn["id"]}
    assert completed["status"] == "completed"
    bodies = responses_server.responses_requests()
    assert len(bodies) == 2
    assert "steer me left" not in user_texts(bodies[0])
    assert user_texts(bodies[1])[-1] == "steer me left"
    assert "first answer" in orjson.dumps(bodies[1]["input"]).decode()
    users = [p["item"]["content"] for p in items(server, "item/completed", "userMessage")]
    assert users == [user_text("start working"), user_text("steer me left")]
    assert len(notifications(server, "turn/completed")) == 1
    # Both answers are shown, although (as with upstream's helpers) both responses name their
    # message `msg-1`: item ids are only unique within one response.
    agent = [p["item"]["text"] for p in items(server, "item/completed", "agentMessage")]
    assert agent == ["first answer", "steered answer"], "the steered answer was never shown"
    await server.close()


async def test_steer_with_the_wrong_expected_turn_is_refused(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """turn/steer naming another turn than the running one is refused with both ids."""
    gate = asyncio.Event()
    responses_server.push(
        ScriptedResponse(create_final_assistant_message_sse_response("answer"), gate=gate)
    )
    server, thread = await ready_server(
        spawn_app_server, codex_home, responses_server, workspace=workspace
    )
    turn = await start_turn(server, thread["id"], "start working")
    await responses_server.wait_for_responses_requests(1)

    error = await server.request_error(
        "turn/steer",
        {"threadId": thread["id"], "input": user_text("nope"), "expectedTurnId": "wrong"},
    )
    gate.set()
    completed = await wait_turn_completed(server, turn["id"])

    assert error == {
        "code": -32600,
        "message": f"expected active turn id `wrong` but found `{turn['id']}`",
    }
    assert completed["status"] == "completed"
    assert len(responses_server.responses_requests()) == 1
    await server.close()


async def test_interrupt_mid_stream(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """Interrupting a streaming turn answers {}, ends it as interrupted and the thread goes on."""
    hold = asyncio.Event()
    partial = sse(
        [
            ev_response_created("resp-1"),
            ev_message_item_added("msg-1", ""),
            ev_output_text_delta("partial "),
        ]
    )
    responses_server.push(
        ScriptedResponse.stream(partial, hold=hold),
        create_final_assistant_message_sse_response("second turn answer"),
    )
    server, thread = await ready_server(
        spawn_app_server, codex_home, responses_server, workspace=workspace
    )
    turn = await start_turn(server, thread["id"], "talk slowly")
    await server.read_notification("item/agentMessage/delta")

    result = await server.request(
        "turn/interrupt", {"threadId": thread["id"], "turnId": turn["id"]}
    )
    completed = await wait_turn_completed(server, turn["id"])

    assert result == {}
    assert completed["status"] == "interrupted" and completed["error"] is None
    assert items(server, "item/completed", "agentMessage") == []
    statuses = [p["status"] for p in notifications(server, "thread/status/changed")]
    assert statuses[-1] == {"type": "idle"}
    assert in_order(methods(server), ["turn/started", "thread/status/changed", "turn/completed"])
    record = responses_server.responses_request_records()[0]
    await asyncio.wait_for(record.finished.wait(), 5.0)
    assert record.client_disconnected, "the interrupted Responses stream was left open"

    turn2 = await start_turn(server, thread["id"], "again")
    assert (await wait_turn_completed(server, turn2["id"]))["status"] == "completed"
    hold.set()
    await server.close()


@pytest.mark.parametrize(
    "sandbox", ["danger-full-access", pytest.param("read-only", marks=needs_sandbox)]
)
async def test_interrupt_kills_a_running_command(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
    sandbox: str,
) -> None:
    """Interrupting a turn while a long command runs leaves no process of that command behind."""
    marker = f"30.{random.randrange(10**8):08d}"
    responses_server.push(shell_call(["sleep", marker]))
    server, thread = await ready_server(
        spawn_app_server, codex_home, responses_server, workspace=workspace, sandbox=sandbox
    )
    turn = await start_turn(server, thread["id"], "wait a while")
    await server.read_notification("item/started")  # the user message
    await server.read_notification("item/started")  # the command
    assert await eventually(lambda: processes_with_argument(marker)), (
        f"sleep never started{server.stderr_text()[-3000:]}"
    )

    result = await server.request(
        "turn/interrupt", {"threadId": thread["id"], "turnId": turn["id"]}
    )
    completed = await wait_turn_completed(server, turn["id"])

    assert result == {}
    assert completed["status"] == "interrupted", orjson.dumps(notifications(server)).decode()
    assert await eventually(lambda: not processes_with_argument(marker), timeout=5.0), (
        f"left running:\n{describe_processes(processes_with_argument(marker))}"
    )
    await server.close()


async def test_stdin_eof_during_a_turn_exits_and_leaves_no_command_behind(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """A client that quits while a command runs ends the server (status 0) and the command."""
    marker = f"30.{random.randrange(10**8):08d}"
    responses_server.push(shell_call(["sleep", marker]))
    server, thread = await ready_server(
        spawn_app_server,
        codex_home,
        responses_server,
        workspace=workspace,
        sandbox="danger-full-access",
    )
    await start_turn(server, thread["id"], "wait a while")
    assert await eventually(lambda: processes_with_argument(marker)), (
        f"sleep never started{server.stderr_text()[-3000:]}"
    )

    await server.close_stdin()
    status = await server.wait_for_exit(timeout=5.0)

    assert status == 0
    assert await eventually(lambda: not processes_with_argument(marker), timeout=3.0), (
        f"left running after the server exited:\n"
        f"{describe_processes(processes_with_argument(marker))}"
    )
    await server.close()


async def test_http_500_fails_the_turn(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """When the model answers HTTP 500 and retries are off, the turn fails with a clear error."""
    responses_server.push(ScriptedResponse.error(500, '{"error":{"message":"boom"}}'))
    server, thread = await ready_server(
        spawn_app_server,
        codex_home,
        responses_server,
        workspace=workspace,
        request_max_retries=0,
    )

    turn = await start_turn(server, thread["id"], "say hello")
    error = await server.read_notification("error")
    completed = await wait_turn_completed(server, turn["id"])

    assert error["error"]["message"] == HIGH_DEMAND
    assert error["error"]["codexErrorInfo"] == "internalServerError"
    assert error["willRetry"] is False
    assert error["threadId"] == thread["id"] and error["turnId"] == turn["id"]
    assert completed["status"] == "failed"
    assert completed["error"] == error["error"]
    statuses = [p["status"] for p in notifications(server, "thread/status/changed")]
    assert statuses[-1] == {"type": "systemError"}
    assert len(responses_server.responses_request_records()) == 1
    await server.close()


async def test_http_500_is_retried_when_retries_are_allowed(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """With one request retry, a single HTTP 500 is retried and the turn completes normally."""
    responses_server.push(
        ScriptedResponse.error(500, '{"error":{"message":"boom"}}'),
        create_final_assistant_message_sse_response("recovered"),
    )
    server, thread = await ready_server(
        spawn_app_server,
        codex_home,
        responses_server,
        workspace=workspace,
        request_max_retries=1,
    )

    turn = await start_turn(server, thread["id"], "say hello")
    completed = await wait_turn_completed(server, turn["id"])

    assert completed["status"] == "completed"
    assert len(responses_server.responses_request_records()) == 2
    assert [p["item"]["text"] for p in items(server, "item/completed", "agentMessage")] == [
        "recovered"
    ]
    assert notifications(server, "error") == []
    await server.close()


@pytest.mark.parametrize("decision", ["accept", "decline"])
async def test_untrusted_command_asks_for_approval(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
    decision: str,
) -> None:
    """Under `untrusted` the client is asked first; accept runs the command, decline does not."""
    responses_server.push(
        shell_call(["touch", "made.txt"]),
        create_final_assistant_message_sse_response("finished"),
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
    assert not (workspace / "made.txt").exists(), "the command ran before it was approved"
    await server.send_response(request["id"], {"decision": decision})
    completed = await wait_turn_completed(server, turn["id"])
    resolved = await server.read_notification("serverRequest/resolved")

    assert resolved == {"threadId": thread["id"], "requestId": request["id"]}
    params = request["params"]
    assert params["threadId"] == thread["id"] and params["turnId"] == turn["id"]
    assert params["itemId"] == "call-1"
    assert "touch made.txt" in params["command"]
    assert params["cwd"] == str(workspace)
    assert completed["status"] == "completed"
    (done,) = items(server, "item/completed", "commandExecution")
    bodies = responses_server.responses_requests()
    assert len(bodies) == 2
    output = function_call_outputs(bodies[1])["call-1"]
    if decision == "accept":
        assert done["item"]["status"] == "completed", orjson.dumps(done).decode()
        assert done["item"]["exitCode"] == 0
        assert (workspace / "made.txt").exists()
    else:
        assert done["item"]["status"] == "declined"
        assert done["item"]["exitCode"] is None
        assert not (workspace / "made.txt").exists()
        assert "rejected" in output or "declined" in output
    await server.close()


async def test_turn_start_on_a_busy_thread_joins_the_running_turn(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    workspace: Path,
) -> None:
    """A second turn/start while a turn runs is not lost: it joins that turn's next request."""
    gate = asyncio.Event()
    responses_server.push(
        ScriptedResponse(create_final_assistant_message_sse_response("first answer"), gate=gate),
        create_final_assistant_message_sse_response("second answer"),
    )
    server, thread = await ready_server(
        spawn_app_server, codex_home, responses_server, workspace=workspace
    )
    turn = await start_turn(server, thread["id"], "start working")
    await responses_server.wait_for_responses_requests(1)

    joined = await start_turn(server, thread["id"], "also do this")
    gate.set()
    completed = await wait_turn_completed(server, turn["id"])

    assert joined["id"] == turn["id"] and joined["status"] == "inProgress"
    assert completed["status"] == "completed"
    bodies = responses_server.responses_requests()
    assert len(bodies) == 2
    assert user_texts(bodies[1])[-1] == "also do this"
    assert len(notifications(server, "turn/started")) == 1
    assert len(notifications(server, "turn/completed")) == 1
    await server.close()
