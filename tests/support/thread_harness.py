"""Shared steps of the thread twins (`tests/spec/test_thread_*.py`): upstream's config files,
its repeating mock model, and small request helpers over `AppServerProcess`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from .app_server import AppServerProcess
from .mock_responses import MockResponsesServer, RecordedRequest, ScriptedResponse
from .sse import ev_assistant_message, ev_completed, ev_response_created, sse


def config_contents(server_uri: str, approval_policy: str = "never") -> str:
    """The `config.toml` most upstream tests use: a mock provider at `server_uri` with no
    retries, a read-only sandbox."""
    return f"""
model = "mock-model"
approval_policy = "{approval_policy}"
sandbox_mode = "read-only"

model_provider = "mock_provider"

[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "{server_uri}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""


def create_config_toml(codex_home: Path, server_uri: str, approval_policy: str = "never") -> None:
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(config_contents(server_uri, approval_policy))


def create_minimal_config(codex_home: Path) -> None:
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text('\nmodel = "mock-model"\napproval_policy = "never"\n')


class RepeatingResponsesServer(MockResponsesServer):
    """Answers every `/responses` request with the same body (upstream's
    `create_mock_responses_server_repeating_assistant`)."""

    def __init__(self, body: str) -> None:
        super().__init__([])
        self._body = body

    async def _answer_responses(
        self, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse:
        self._script.append(ScriptedResponse(self._body))
        return await super()._answer_responses(request, record)


async def create_mock_responses_server_repeating_assistant(message: str) -> MockResponsesServer:
    body = sse(
        [
            ev_response_created("resp-1"),
            ev_assistant_message("msg-1", message),
            ev_completed("resp-1"),
        ]
    )
    return await RepeatingResponsesServer(body).start()


async def start_thread(mcp: AppServerProcess, **params: Any) -> dict[str, Any]:
    """`thread/start` with `model: mock-model` (plus `params`); returns the whole result."""
    result: dict[str, Any] = await mcp.request("thread/start", {"model": "mock-model", **params})
    return result


async def run_turn(mcp: AppServerProcess, thread_id: str, text: str) -> dict[str, Any]:
    """`turn/start` with one text input, then wait for `turn/completed`; returns its params."""
    await mcp.request(
        "turn/start",
        {"threadId": thread_id, "input": [{"type": "text", "text": text, "text_elements": []}]},
    )
    completed: dict[str, Any] = await mcp.read_notification("turn/completed")
    return completed


def text_input(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text, "text_elements": []}]
