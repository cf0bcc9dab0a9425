"""Regressions (issue 8, items 11 and 12): Responses streams that stall, keep-alive forever, ask
for a day's wait, or break after one message and come back with another."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
from support.app_server import AppServerProcess, SpawnAppServer
from support.mock_responses import MockResponsesServer, ScriptedResponse
from support.sse import ev_assistant_message, ev_completed, ev_response_created, sse

from parley.agent.responses import (
    MAX_RETRY_AFTER_S,
    STREAM_IDLE_MESSAGE,
    ResponsesClient,
    retry_after_s,
)
from parley.agent.settings import ProviderSettings

API_KEY = "sk-test-key"


def _write_config(
    codex_home: Path, uri: str, *, stream_max_retries: int = 0, idle_ms: int | None = None
) -> None:
    idle = f"stream_idle_timeout_ms = {idle_ms}\n" if idle_ms is not None else ""
    (codex_home / "config.toml").write_text(
        f"""
model = "mock-model"
approval_policy = "never"
sandbox_mode = "read-only"
model_provider = "mock_provider"

[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "{uri}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = {stream_max_retries}
{idle}"""
    )


async def _run_turn(server: AppServerProcess, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start a thread and a turn; the thread and the `turn/completed` turn."""
    await server.initialize()
    await server.login_with_api_key(API_KEY)
    thread = await server.start_thread()
    await server.request(
        "turn/start",
        {"threadId": thread["id"], "input": [{"type": "text", "text": text, "text_elements": []}]},
    )
    completed = await server.read_notification("turn/completed", timeout=20.0)
    return thread, completed["turn"]


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _message(item_id: str, text: str) -> str:
    return sse([ev_response_created("r"), ev_assistant_message(item_id, text), ev_completed("r")])


async def test_a_stalled_stream_fails_the_turn_after_the_configured_idle_time(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """`stream_idle_timeout_ms` ends a stream that went silent (not after 300 s)."""
    hold = asyncio.Event()
    body = sse([ev_response_created("r")])
    async with MockResponsesServer([ScriptedResponse.stream(body, hold=hold)]) as responses:
        _write_config(codex_home, responses.uri, idle_ms=300)
        server = await spawn_app_server(codex_home=codex_home)
        _, turn = await _run_turn(server, "hello")
        hold.set()
        assert turn["status"] == "failed"
        assert STREAM_IDLE_MESSAGE in turn["error"]["message"]
        await server.close()


async def test_a_keep_alive_only_stream_fails_the_turn_after_the_configured_idle_time(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """SSE comments keep bytes flowing but are not events: the stream is still idle."""
    body = sse([ev_response_created("r")]) + ": keep-alive\n\n" * 600  # a minute of pings
    scripted = ScriptedResponse.stream(body, event_delay=0.1)
    async with MockResponsesServer([scripted]) as responses:
        _write_config(codex_home, responses.uri, idle_ms=500)
        server = await spawn_app_server(codex_home=codex_home)
        _, turn = await _run_turn(server, "hello")
        assert turn["status"] == "failed"
        assert STREAM_IDLE_MESSAGE in turn["error"]["message"]
        await server.close()


async def test_a_stream_cut_after_one_message_and_retried_keeps_only_the_retry(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Message A arrives, the stream breaks, the retry answers B: the stored turn and the
    rollout hold B only, as the model's history does."""
    first = ScriptedResponse.stream(
        sse([ev_response_created("r1"), ev_assistant_message("msg-a", "ANSWER-A")]), cut_after=2
    )
    async with MockResponsesServer([first, _message("msg-b", "ANSWER-B")]) as responses:
        _write_config(codex_home, responses.uri, stream_max_retries=1)
        server = await spawn_app_server(codex_home=codex_home)
        thread, turn = await _run_turn(server, "hello")
        assert turn["status"] == "completed"
        read = await server.request("thread/read", {"threadId": thread["id"], "includeTurns": True})
        stored = read["thread"]["turns"][-1]["items"]
        texts = [item.get("text") for item in stored if item["type"] == "agentMessage"]
        assert texts == ["ANSWER-B"]
        await server.close()
    rollout = _read(Path(thread["path"]))
    assert b"ANSWER-B" in rollout
    assert b"ANSWER-A" not in rollout
    second_request = responses.responses_requests()[1]
    assert b"ANSWER-A" not in orjson.dumps(second_request)


async def test_retry_after_is_capped() -> None:
    """`Retry-After: 100000` (or a far date) is waited for `MAX_RETRY_AFTER_S` at most."""
    assert retry_after_s("100000") == MAX_RETRY_AFTER_S
    assert retry_after_s("Wed, 21 Oct 2099 07:28:00 GMT") == MAX_RETRY_AFTER_S
    assert retry_after_s("2") == 2.0
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    busy = ScriptedResponse.error(429, "{}", headers={"Retry-After": "100000"})
    async with MockResponsesServer([busy, _message("m", "ok")]) as responses:
        provider = ProviderSettings(base_url=responses.uri + "/v1", request_max_retries=1)
        async with ResponsesClient(provider, API_KEY, {}, sleep=sleep) as client:
            events = [event async for event in client.stream({"model": "m"})]
    assert events[-1]["type"] == "response.completed"
    assert slept == [MAX_RETRY_AFTER_S]
