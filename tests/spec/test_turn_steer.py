"""pytest twins of upstream `app-server/tests/suite/v2/turn_steer.rs` (all 3 tests).

Same scripted traffic (a `sleep 10` shell command keeps the turn running) and assertions,
against the real `parley app-server` subprocess and the mock Responses server.
"""

from __future__ import annotations

from pathlib import Path

from support.agent_steps import (
    create_config_toml,
    interrupt_turn_and_wait_for_aborted,
    start_turn,
    text_input,
)
from support.app_server import AppServerProcess, SpawnAppServer
from support.mock_responses import MockResponsesServer, create_shell_command_sse_response

MAX_USER_INPUT_TEXT_CHARS = 1 << 20
INVALID_PARAMS_ERROR_CODE = -32602
INPUT_TOO_LARGE_ERROR_CODE = "input_too_large"


def config(codex_home: Path, uri: str) -> None:
    create_config_toml(codex_home, uri, "never", sandbox_mode="danger-full-access")


async def running_sleep_turn(
    tmp_path: Path, server: MockResponsesServer, spawn: SpawnAppServer
) -> tuple[AppServerProcess, str, str]:
    codex_home = tmp_path / "codex_home"
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    server.push(
        create_shell_command_sse_response(["sleep", "10"], str(workdir), 10_000, "call_sleep")
    )
    config(codex_home, server.uri)
    mcp = await spawn(codex_home=codex_home)
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model"})
    turn = await start_turn(mcp, thread["id"], "run sleep", cwd=str(workdir))
    await mcp.read_notification("turn/started")
    return mcp, thread["id"], turn["id"]


async def test_turn_steer_requires_active_turn(
    tmp_path: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """Steering a thread with no running turn is refused with -32600."""
    codex_home = tmp_path / "codex_home"
    config(codex_home, responses_server.uri)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model"})
    error = await mcp.request_error(
        "turn/steer",
        {
            "threadId": thread["id"],
            "input": text_input("steer"),
            "expectedTurnId": "turn-does-not-exist",
        },
    )
    assert error["code"] == -32600


async def test_turn_steer_rejects_oversized_text_input(
    tmp_path: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """Steering input over the size limit is refused with -32602 and the sizes as data."""
    mcp, thread_id, turn_id = await running_sleep_turn(tmp_path, responses_server, spawn_app_server)
    oversized = "x" * (MAX_USER_INPUT_TEXT_CHARS + 1)
    error = await mcp.request_error(
        "turn/steer",
        {"threadId": thread_id, "input": text_input(oversized), "expectedTurnId": turn_id},
    )
    assert error["code"] == INVALID_PARAMS_ERROR_CODE
    assert error["message"] == (
        f"Input exceeds the maximum length of {MAX_USER_INPUT_TEXT_CHARS} characters."
    )
    data = error["data"]
    assert data["input_error_code"] == INPUT_TOO_LARGE_ERROR_CODE
    assert data["max_chars"] == MAX_USER_INPUT_TEXT_CHARS
    assert data["actual_chars"] == len(oversized)
    await interrupt_turn_and_wait_for_aborted(mcp, thread_id, turn_id)


async def test_turn_steer_returns_active_turn_id(
    tmp_path: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """Steering the running turn answers with that turn's id."""
    mcp, thread_id, turn_id = await running_sleep_turn(tmp_path, responses_server, spawn_app_server)
    steer = await mcp.request(
        "turn/steer",
        {"threadId": thread_id, "input": text_input("steer"), "expectedTurnId": turn_id},
    )
    assert steer["turnId"] == turn_id
    await interrupt_turn_and_wait_for_aborted(mcp, thread_id, steer["turnId"])
