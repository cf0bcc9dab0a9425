"""pytest twins of upstream `app-server/tests/suite/v2/thread_status.rs` (2 tests):
`thread/status/changed` follows a turn (active, then idle) and honours the client's
notification opt-out. Nothing here is out of scope (`collaboration_modes` in upstream's config
is a feature flag Parley ignores; the tests do not depend on it).
"""

from __future__ import annotations

from pathlib import Path

from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer
from support.sse import create_final_assistant_message_sse_response
from support.thread_harness import text_input


def create_config_toml(codex_home: Path, server_uri: str) -> None:
    (codex_home / "config.toml").write_text(
        f"""
model = "mock-model"
approval_policy = "untrusted"
sandbox_mode = "read-only"
model_provider = "mock_provider"
[features]
collaboration_modes = true
[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "{server_uri}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""
    )


async def test_thread_status_changed_emits_runtime_updates(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await MockResponsesServer(
        [create_final_assistant_message_sse_response("done")]
    ).start()
    create_config_toml(codex_home, server.uri)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize()
    thread = (await mcp.request("thread/start", {"model": "mock-model"}))["thread"]
    await mcp.request(
        "turn/start",
        {
            "threadId": thread["id"],
            "input": text_input("collect status updates"),
            "model": "mock-model",
        },
    )
    saw_active_running = False
    saw_idle_after_turn = False
    while not (saw_active_running and saw_idle_after_turn):
        changed = await mcp.read_notification("thread/status/changed")
        if changed["threadId"] != thread["id"]:
            continue
        if changed["status"]["type"] == "active":
            saw_active_running = True
        elif saw_active_running:
            saw_idle_after_turn = True
    assert saw_active_running
    assert saw_idle_after_turn
    await mcp.read_notification("turn/completed")
    await server.stop()


async def test_thread_status_changed_can_be_opted_out(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    server = await MockResponsesServer(
        [create_final_assistant_message_sse_response("done")]
    ).start()
    create_config_toml(codex_home, server.uri)
    mcp = await spawn_app_server(codex_home=codex_home)
    await mcp.initialize(
        "codex_vscode",
        client_title="Codex VS Code Extension",
        opt_out=["thread/status/changed"],
    )
    thread = (await mcp.request("thread/start", {"model": "mock-model"}))["thread"]
    await mcp.request(
        "turn/start",
        {"threadId": thread["id"], "input": text_input("run once"), "model": "mock-model"},
    )
    await mcp.read_notification("turn/completed")
    await mcp.expect_no_notification("thread/status/changed", within=0.5)
    await server.stop()
