"""pytest twins of upstream `app-server/tests/suite/v2/compaction.rs`.

Out of scope: `auto_compaction_remote_emits_started_and_completed_items` needs ChatGPT sign-in
(remote compaction through `/responses/compact` is only used with ChatGPT auth, which Parley does
not offer); Parley always compacts with a summary request to the Responses API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.app_server import AppServerProcess, SpawnAppServer
from support.mock_responses import MockResponsesServer
from support.sse import ev_assistant_message, ev_completed_with_tokens, sse

AUTO_COMPACT_LIMIT = 1_000
COMPACT_PROMPT = "Summarize the conversation."
INVALID_REQUEST_ERROR_CODE = -32600

Json = Any


def write_mock_responses_config_toml(
    codex_home: Path, server_uri: str, auto_compact_limit: int, compact_prompt: str
) -> None:
    """Upstream's `write_mock_responses_config_toml` (no features, mock provider, API key)."""
    (codex_home / "config.toml").write_text(
        f"""
model = "mock-model"
approval_policy = "never"
sandbox_mode = "read-only"
compact_prompt = "{compact_prompt}"
model_auto_compact_token_limit = {auto_compact_limit}

model_provider = "mock_provider"

[features]

[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "{server_uri}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
supports_websockets = false
""",
        encoding="utf-8",
    )


async def start_thread(mcp: AppServerProcess) -> str:
    thread = await mcp.start_thread({"model": "mock-model"})
    return str(thread["id"])


async def send_turn_and_wait(mcp: AppServerProcess, thread_id: str, text: str) -> str:
    result = await mcp.request(
        "turn/start",
        {"threadId": thread_id, "input": [{"type": "text", "text": text, "text_elements": []}]},
    )
    turn_id = str(result["turn"]["id"])
    while True:
        completed = await mcp.read_notification("turn/completed")
        if completed["turn"]["id"] == turn_id:
            return turn_id


async def wait_for_context_compaction(mcp: AppServerProcess, method: str) -> Json:
    while True:
        params = await mcp.read_notification(method)
        if params["item"]["type"] == "contextCompaction":
            return params


def reply(item_id: str, text: str, response_id: str, total_tokens: int) -> str:
    return sse(
        [ev_assistant_message(item_id, text), ev_completed_with_tokens(response_id, total_tokens)]
    )


async def test_auto_compaction_local_emits_started_and_completed_items(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """Past the token limit, the thread compacts itself: one contextCompaction item."""
    responses_server.push(
        reply("m1", "FIRST_REPLY", "r1", 70_000),
        reply("m2", "SECOND_REPLY", "r2", 330_000),
        reply("m3", "LOCAL_SUMMARY", "r3", 200),
        reply("m4", "FINAL_REPLY", "r4", 120),
    )
    write_mock_responses_config_toml(
        codex_home, responses_server.uri, AUTO_COMPACT_LIMIT, COMPACT_PROMPT
    )
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread_id = await start_thread(mcp)
    for message in ["first", "second", "third"]:
        await send_turn_and_wait(mcp, thread_id, message)
    started = await wait_for_context_compaction(mcp, "item/started")
    completed = await wait_for_context_compaction(mcp, "item/completed")
    assert started["threadId"] == thread_id
    assert completed["threadId"] == thread_id
    assert started["item"]["id"] == completed["item"]["id"]


async def test_thread_compact_start_triggers_compaction_and_returns_empty_response(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """thread/compact/start answers `{}` and the compaction shows as an item."""
    responses_server.push(reply("m1", "MANUAL_COMPACT_SUMMARY", "r1", 200))
    write_mock_responses_config_toml(
        codex_home, responses_server.uri, AUTO_COMPACT_LIMIT, COMPACT_PROMPT
    )
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread_id = await start_thread(mcp)
    assert await mcp.request("thread/compact/start", {"threadId": thread_id}) == {}
    started = await wait_for_context_compaction(mcp, "item/started")
    completed = await wait_for_context_compaction(mcp, "item/completed")
    assert started["threadId"] == thread_id
    assert completed["threadId"] == thread_id
    assert started["item"]["id"] == completed["item"]["id"]


async def test_thread_compact_start_rejects_invalid_thread_id(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A malformed thread id is refused with -32600 naming it as invalid."""
    write_mock_responses_config_toml(
        codex_home, responses_server.uri, AUTO_COMPACT_LIMIT, COMPACT_PROMPT
    )
    mcp = await spawn_app_server()
    await mcp.initialize()
    error = await mcp.request_error("thread/compact/start", {"threadId": "not-a-thread-id"})
    assert error["code"] == INVALID_REQUEST_ERROR_CODE
    assert "invalid thread id" in error["message"]


async def test_thread_compact_start_rejects_unknown_thread_id(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A well-formed id of no loaded thread is refused with -32600 `thread not found`."""
    write_mock_responses_config_toml(
        codex_home, responses_server.uri, AUTO_COMPACT_LIMIT, COMPACT_PROMPT
    )
    mcp = await spawn_app_server()
    await mcp.initialize()
    error = await mcp.request_error(
        "thread/compact/start", {"threadId": "67e55044-10b1-426f-9247-bb680e5fe0c8"}
    )
    assert error["code"] == INVALID_REQUEST_ERROR_CODE
    assert "thread not found" in error["message"]
