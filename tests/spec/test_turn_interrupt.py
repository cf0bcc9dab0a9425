"""pytest twins of upstream `app-server/tests/suite/v2/turn_interrupt.rs` (both tests).

Upstream sleeps a second to let the command start before interrupting; the twin waits for the
command's `item/started` instead (the same moment, without depending on timing).
"""

from __future__ import annotations

from pathlib import Path

from support.agent_steps import create_config_toml, start_turn, wait_for_item
from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer, create_shell_command_sse_response


async def test_turn_interrupt_aborts_running_turn(
    tmp_path: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """Interrupting a turn that runs `sleep 10` ends it as interrupted."""
    codex_home = tmp_path / "codex_home"
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    responses_server.push(
        create_shell_command_sse_response(["sleep", "10"], str(workdir), 10_000, "call_sleep")
    )
    create_config_toml(codex_home, responses_server.uri, "never", sandbox_mode="danger-full-access")
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model"})
    turn = await start_turn(mcp, thread["id"], "run sleep", cwd=str(workdir))
    await wait_for_item(mcp, "item/started", "commandExecution")
    result = await mcp.request("turn/interrupt", {"threadId": thread["id"], "turnId": turn["id"]})
    assert result == {}
    completed = await mcp.read_notification("turn/completed")
    assert completed["threadId"] == thread["id"]
    assert completed["turn"]["status"] == "interrupted"


async def test_turn_interrupt_resolves_pending_command_approval_request(
    tmp_path: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """Interrupting while an approval is pending resolves the request and ends the turn."""
    codex_home = tmp_path / "codex_home"
    workdir = tmp_path / "workdir"
    workdir.mkdir()
    responses_server.push(
        create_shell_command_sse_response(
            ["python3", "-c", "print(42)"], str(workdir), 10_000, "call_python_approval"
        )
    )
    create_config_toml(codex_home, responses_server.uri, "untrusted", sandbox_mode="read-only")
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model"})
    turn = await start_turn(mcp, thread["id"], "run python", cwd=str(workdir))
    request = await mcp.read_stream_until_request_message()
    assert request["method"] == "item/commandExecution/requestApproval"
    assert request["params"]["itemId"] == "call_python_approval"
    assert request["params"]["threadId"] == thread["id"]
    assert request["params"]["turnId"] == turn["id"]
    result = await mcp.request("turn/interrupt", {"threadId": thread["id"], "turnId": turn["id"]})
    assert result == {}
    resolved = await mcp.read_notification("serverRequest/resolved")
    assert resolved["threadId"] == thread["id"]
    assert resolved["requestId"] == request["id"]
    completed = await mcp.read_notification("turn/completed")
    assert completed["threadId"] == thread["id"]
    assert completed["turn"]["status"] == "interrupted"
