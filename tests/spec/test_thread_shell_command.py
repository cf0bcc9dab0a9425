"""pytest twins of upstream `app-server/tests/suite/v2/thread_shell_command.rs` (both tests).

A user-run command is a `commandExecution` item with source `userShell`: a turn of its own on an
idle thread, or part of the running turn; either way it is kept in the thread's history.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from support.agent_steps import create_config_toml, start_turn
from support.app_server import AppServerProcess, SpawnAppServer
from support.mock_responses import (
    MockResponsesServer,
    create_final_assistant_message_sse_response,
    create_shell_command_sse_response,
)

from parley.tools.shell import display_command, shell_argv, user_shell

Json = Any


def current_shell_output_command(text: str) -> tuple[str, str]:
    return f"printf '%s\\n' {shlex.quote(text)}", f"{text}\n"


async def wait_for_command_execution(
    mcp: AppServerProcess, method: str, expected_id: str | None = None, source: str | None = None
) -> Json:
    while True:
        params = await mcp.read_notification(method)
        item = params["item"]
        if item["type"] != "commandExecution":
            continue
        if expected_id is not None and item["id"] != expected_id:
            continue
        if source is not None and item["source"] != source:
            continue
        return params


async def wait_for_command_execution_output_delta(mcp: AppServerProcess, item_id: str) -> Json:
    while True:
        params = await mcp.read_notification("item/commandExecution/outputDelta")
        if params["itemId"] == item_id:
            return params


def config(codex_home: Path, uri: str, approval: str) -> None:
    create_config_toml(codex_home, uri, approval, sandbox_mode="read-only")


async def test_thread_shell_command_runs_as_standalone_turn_and_persists_history(
    tmp_path: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """On an idle thread the command runs as its own turn and is kept in the thread."""
    codex_home = tmp_path / "codex_home"
    (tmp_path / "workspace").mkdir()
    config(codex_home, responses_server.uri, "never")
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = await mcp.start_thread({"persistExtendedHistory": True})
    shell_command, expected_output = current_shell_output_command("hello from bang")
    result = await mcp.request(
        "thread/shellCommand", {"threadId": thread["id"], "command": shell_command}
    )
    assert result == {}
    started = await wait_for_command_execution(mcp, "item/started")
    command_id = started["item"]["id"]
    assert started["item"]["source"] == "userShell"
    assert started["item"]["status"] == "inProgress"
    delta = await wait_for_command_execution_output_delta(mcp, command_id)
    assert delta["delta"].rstrip("\r\n") == expected_output.rstrip("\r\n")
    completed = await wait_for_command_execution(mcp, "item/completed", command_id)
    item = completed["item"]
    assert item["id"] == command_id
    assert item["source"] == "userShell"
    assert item["status"] == "completed"
    assert item["aggregatedOutput"] == expected_output
    assert item["exitCode"] == 0
    await mcp.read_notification("turn/completed")

    read = await mcp.request("thread/read", {"threadId": thread["id"], "includeTurns": True})
    turns = read["thread"]["turns"]
    assert len(turns) == 1
    persisted = next(i for i in turns[0]["items"] if i["type"] == "commandExecution")
    assert persisted["source"] == "userShell"
    assert persisted["status"] == "completed"
    assert persisted["aggregatedOutput"] == expected_output


async def test_thread_shell_command_uses_existing_active_turn(
    tmp_path: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """While a turn waits for an approval, a user command joins that turn."""
    codex_home = tmp_path / "codex_home"
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    responses_server.push(
        create_shell_command_sse_response(
            ["python3", "-c", "print(42)"], None, 5000, "call-approve"
        ),
        create_final_assistant_message_sse_response("done"),
    )
    config(codex_home, responses_server.uri, "untrusted")
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = await mcp.start_thread({"persistExtendedHistory": True})
    shell_command, expected_output = current_shell_output_command("active turn bang")
    turn = await start_turn(mcp, thread["id"], "run python", cwd=str(workspace))
    agent_started = await wait_for_command_execution(mcp, "item/started", "call-approve")
    assert agent_started["item"]["source"] == "agent"
    expected_command = display_command(
        shell_argv(user_shell(), "python3 -c 'print(42)'", login=True)
    )
    assert agent_started["item"]["command"] == expected_command
    request = await mcp.read_stream_until_request_message()
    assert request["method"] == "item/commandExecution/requestApproval"

    result = await mcp.request(
        "thread/shellCommand", {"threadId": thread["id"], "command": shell_command}
    )
    assert result == {}
    started = await wait_for_command_execution(mcp, "item/started", source="userShell")
    assert started["turnId"] == turn["id"]
    command_id = started["item"]["id"]
    completed = await wait_for_command_execution(mcp, "item/completed", command_id)
    assert completed["turnId"] == turn["id"]
    assert completed["item"]["source"] == "userShell"
    assert completed["item"]["aggregatedOutput"] == expected_output

    await mcp.send_response(request["id"], {"decision": "decline"})
    await mcp.read_notification("turn/completed")
    read = await mcp.request("thread/read", {"threadId": thread["id"], "includeTurns": True})
    turns = read["thread"]["turns"]
    assert len(turns) == 1
    assert any(
        item["type"] == "commandExecution"
        and item["source"] == "userShell"
        and item.get("aggregatedOutput") == expected_output
        for item in turns[0]["items"]
    ), "expected active-turn shell command to be persisted on the existing turn"
