"""spawn_agent starts a real sub-agent: its own thread (followed by the client, marked as
spawned by the parent), a first turn with the task on the chosen model and effort, and the
parent's model is told the new agent's id. A sub-agent may not spawn one of its own."""

from __future__ import annotations

from pathlib import Path

import orjson
from support.agent_steps import create_config_toml, start_turn
from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer, RecordedRequest
from support.sse import (
    ev_assistant_message,
    ev_completed,
    ev_function_call,
    ev_response_created,
    sse,
)

from parley.agent.collab import DEPTH_LIMIT_MESSAGE, SpawnArgs, SpawnError, resolve_role


def call(call_id: str, arguments: dict[str, str]) -> str:
    return sse(
        [
            ev_response_created("r"),
            ev_function_call(call_id, "spawn_agent", orjson.dumps(arguments).decode()),
            ev_completed("r"),
        ]
    )


def answer(text: str) -> str:
    return sse([ev_response_created("r"), ev_assistant_message("m", text), ev_completed("r")])


def has(text: str, *, without: str | None = None) -> object:
    def matches(request: RecordedRequest) -> bool:
        body = request.body_text()
        return text in body and (without is None or without not in body)

    return matches


async def test_the_sub_agent_runs_its_task_on_its_own_thread_and_cannot_spawn_again(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """Parent spawns "count the files" on gpt-5.1/low; the child's request uses them, its thread
    says who spawned it, its own spawn attempt is refused; the parent gets the child's id."""
    server = responses_server
    server.mount_once_matching(has("start a helper"), call("spawn-1", {
        "message": "count the files", "model": "gpt-5.1", "reasoning_effort": "low",
    }))  # fmt: skip
    server.mount_once_matching(
        has("count the files", without="spawn-1"), call("spawn-2", {"message": "grandchild"})
    )
    server.mount_once_matching(has("spawn-2"), answer("child done"))
    server.mount_once_matching(has("spawn-1"), answer("parent done"))
    create_config_toml(codex_home, server.uri, "never", {"multi_agent": True})
    mcp = await spawn_app_server()
    await mcp.initialize()
    parent = await mcp.start_thread({"model": "gpt-5.2-codex"})
    await start_turn(mcp, parent["id"], "start a helper")

    item = (await mcp.read_notification("item/completed"))["item"]
    while item["type"] != "collabAgentToolCall":
        item = (await mcp.read_notification("item/completed"))["item"]
    [child_id] = item["receiverThreadIds"]
    done = {}
    while len(done) < 2:
        completed = await mcp.read_notification("turn/completed")
        done[completed["threadId"]] = completed["turn"]["status"]
    assert done == {parent["id"]: "completed", child_id: "completed"}
    child = (await mcp.request("thread/read", {"threadId": child_id}))["thread"]
    assert child["source"]["subAgent"]["thread_spawn"]["parent_thread_id"] == parent["id"]
    assert child["source"]["subAgent"]["thread_spawn"]["depth"] == 1
    assert child["agentNickname"]

    bodies = {r.body_text(): r.json for r in server.responses_request_records()}
    child_first = next(b for t, b in bodies.items() if "count the files" in t and "spawn-" not in t)
    assert child_first["model"] == "gpt-5.1"
    assert child_first["reasoning"]["effort"] == "low"
    child_follow_up = next(b for t, b in bodies.items() if "spawn-2" in t)
    refused = [i for i in child_follow_up["input"] if i.get("call_id") == "spawn-2"][-1]
    assert refused["output"] == DEPTH_LIMIT_MESSAGE
    parent_follow_up = next(b for t, b in bodies.items() if "spawn-1" in t and "start a" in t)
    output = [i for i in parent_follow_up["input"] if i.get("call_id") == "spawn-1"][-1]
    assert orjson.loads(output["output"]) == {
        "agent_id": child["id"],
        "nickname": child["agentNickname"],
    }


def test_arguments_and_roles_are_checked() -> None:
    """An empty task, an unknown role or a bad effort is refused with a message for the model."""
    for arguments, message in (
        ('{"message": "  "}', "Empty message can't be sent to an agent"),
        ('{"message": "x", "reasoning_effort": "huge"}', "unknown reasoning_effort 'huge'"),
        ("[", "failed to parse function arguments"),
    ):
        try:
            SpawnArgs.parse(arguments)
        except SpawnError as exc:
            assert message in str(exc)
        else:
            raise AssertionError(f"{arguments} was accepted")
    try:
        resolve_role({}, Path("/nonexistent"), "nobody")
    except SpawnError as exc:
        assert str(exc) == "unknown agent_type 'nobody'"
    assert resolve_role({}, Path("/nonexistent"), "explorer").model is None
