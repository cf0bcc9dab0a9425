"""Unified exec through the real app-server: a process outlives its call, takes input from
`write_stdin`, and `thread/backgroundTerminals/clean` ends it."""

from __future__ import annotations

from pathlib import Path

import orjson
from support.agent_steps import create_config_toml, start_turn, wait_for_item
from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer, create_final_assistant_message_sse_response
from support.sse import ev_completed, ev_function_call, ev_response_created, sse


def call(call_id: str, name: str, arguments: dict[str, object]) -> str:
    return sse(
        [
            ev_response_created("r"),
            ev_function_call(call_id, name, orjson.dumps(arguments).decode()),
            ev_completed("r"),
        ]
    )


def output_of(body: dict[str, object], call_id: str) -> str:
    for item in body["input"]:  # type: ignore[attr-defined]
        if item.get("type") == "function_call_output" and item.get("call_id") == call_id:
            return str(item["output"])
    raise AssertionError(f"no output for {call_id}")


async def test_process_keeps_running_takes_input_and_is_cleaned(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """`cat` keeps running after exec_command; write_stdin echoes through it; clean ends it."""
    responses_server.push(
        call("c1", "exec_command", {"cmd": "cat", "yield_time_ms": 250}),
        call("c2", "write_stdin", {"session_id": 1000, "chars": "hello\n", "yield_time_ms": 2000}),
        create_final_assistant_message_sse_response("done"),
    )
    create_config_toml(
        codex_home, responses_server.uri, "never", {"unified_exec": True}, "danger-full-access"
    )
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({})
    await start_turn(mcp, thread["id"], "run cat")
    started = await wait_for_item(mcp, "item/started", "commandExecution")
    assert started["processId"] == "1000"
    await mcp.read_notification("turn/completed")
    bodies = responses_server.responses_requests()
    names = [tool["name"] for tool in bodies[0]["tools"]]
    assert "exec_command" in names and "write_stdin" in names and "shell_command" not in names
    assert "Process running with session ID 1000" in output_of(bodies[1], "c1")
    assert "hello" in output_of(bodies[2], "c2")

    assert await mcp.request("thread/backgroundTerminals/clean", {"threadId": thread["id"]}) == {}
    completed = await wait_for_item(mcp, "item/completed", "commandExecution")
    assert completed["processId"] == "1000"
    assert completed["status"] == "failed"  # killed
    assert "hello" in completed["aggregatedOutput"]


async def test_tty_runs_under_a_pseudo_terminal_and_output_is_capped(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """`tty: true` gives the process a terminal (input echoed back, `test -t` true), without it
    there is none; `max_output_tokens` caps what the model gets (about 4 bytes a token)."""
    probe = "if test -t 0 && test -t 1; then echo on-a-tty; else echo no-tty; fi"
    responses_server.push(
        call("t1", "exec_command", {"cmd": probe, "tty": True, "yield_time_ms": 5000}),
        call("t2", "exec_command", {"cmd": probe, "yield_time_ms": 5000}),
        call("t3", "exec_command", {"cmd": "head -n 1", "tty": True, "yield_time_ms": 250}),
        call("t4", "write_stdin", {"session_id": 1002, "chars": "typed\n", "yield_time_ms": 5000}),
        call(
            "t5",
            "exec_command",
            {"cmd": "printf 'x%.0s' $(seq 1 2000)", "max_output_tokens": 25},
        ),
        create_final_assistant_message_sse_response("done"),
    )
    create_config_toml(codex_home, responses_server.uri, "never", {"unified_exec": True})
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({})
    await start_turn(mcp, thread["id"], "probe the terminal")
    await mcp.read_notification("turn/completed")
    bodies = responses_server.responses_requests()
    assert "on-a-tty" in output_of(bodies[1], "t1")
    assert "no-tty" in output_of(bodies[2], "t2")
    # A terminal echoes what is typed, and `head` reads the line and exits.
    answer = output_of(bodies[4], "t4")
    assert answer.count("typed") == 2, answer
    assert "Process exited with code 0" in answer
    capped = output_of(bodies[5], "t5").split("Output:\n", 1)[1]
    assert 0 < capped.count("x") <= 100, capped
