"""pytest twin of upstream `app-server/tests/suite/v2/mcp_server_elicitation.rs` (1 test).

The tool lives on the built-in `codex_apps` server of a ChatGPT sign-in: the test writes the
sign-in to `auth.json` and serves the connector directory and the apps MCP endpoint on a local
port (`support.apps_backend`, under `chatgpt_base_url`), as the Rust test does. Nothing is out
of scope.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.app_server import AppServerProcess
from support.apps_backend import AppsBackend, app_info, elicitation_apps_server, write_chatgpt_auth
from support.mcp_servers import ELICITATION_MESSAGE, serve_asgi
from support.mock_responses import MockResponsesServer
from support.sse import (
    ev_assistant_message,
    ev_completed,
    ev_function_call,
    ev_response_created,
    sse,
)

DEFAULT_READ_TIMEOUT = 10.0
TOOL_NAME = "calendar_confirm_action"
QUALIFIED_TOOL_NAME = "mcp__codex_apps__calendar_confirm_action"
TOOL_CALL_ID = "call-calendar-confirm"


def write_config_toml(codex_home: Path, responses_uri: str, apps_url: str) -> None:
    (codex_home / "config.toml").write_text(
        f"""
model = "mock-model"
approval_policy = "untrusted"
sandbox_mode = "read-only"

model_provider = "mock_provider"
chatgpt_base_url = "{apps_url}"
mcp_oauth_credentials_store = "file"

[features]
apps = true

[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "{responses_uri}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""
    )


def text_input(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text, "text_elements": []}]


async def test_mcp_server_elicitation_round_trip(codex_home: Path) -> None:
    """A `codex_apps` tool's form elicitation reaches the client with the thread and turn ids;
    the client's accept (with content) goes back to the server, `serverRequest/resolved` comes
    before `turn/completed`, and the tool's text output reaches the model."""
    script = [
        sse(
            [
                ev_response_created("resp-0"),
                ev_assistant_message("msg-0", "Warmup"),
                ev_completed("resp-0"),
            ]
        ),
        sse(
            [
                ev_response_created("resp-1"),
                ev_function_call(TOOL_CALL_ID, QUALIFIED_TOOL_NAME, json.dumps({})),
                ev_completed("resp-1"),
            ]
        ),
        sse(
            [
                ev_response_created("resp-2"),
                ev_assistant_message("msg-1", "Done"),
                ev_completed("resp-2"),
            ]
        ),
    ]
    backend = AppsBackend([app_info("calendar", "Calendar", description="Calendar connector")])
    async with (
        MockResponsesServer(script) as responses,
        serve_asgi(backend.app(elicitation_apps_server(backend, TOOL_NAME))) as apps_url,
    ):
        write_config_toml(codex_home, responses.uri, apps_url)
        write_chatgpt_auth(codex_home, "chatgpt-token")
        async with AppServerProcess(codex_home) as mcp:
            await mcp.initialize()
            started = await mcp.request(
                "thread/start", {"model": "mock-model"}, DEFAULT_READ_TIMEOUT
            )
            thread_id = started["thread"]["id"]

            await mcp.request(
                "turn/start",
                {
                    "threadId": thread_id,
                    "input": text_input("Warm up connectors."),
                    "model": "mock-model",
                },
                DEFAULT_READ_TIMEOUT,
            )
            warmup = await mcp.read_notification("turn/completed", DEFAULT_READ_TIMEOUT)
            assert warmup["threadId"] == thread_id
            assert warmup["turn"]["status"] == "completed"

            turn = (
                await mcp.request(
                    "turn/start",
                    {
                        "threadId": thread_id,
                        "input": text_input(
                            "Use [$calendar](app://calendar) to run the calendar tool."
                        ),
                        "model": "mock-model",
                    },
                    DEFAULT_READ_TIMEOUT,
                )
            )["turn"]

            request = await mcp.read_stream_until_request_message(timeout=DEFAULT_READ_TIMEOUT)
            assert request["method"] == "mcpServer/elicitation/request"
            assert request["params"] == {
                "threadId": thread_id,
                "turnId": turn["id"],
                "serverName": "codex_apps",
                "mode": "form",
                "_meta": None,
                "message": ELICITATION_MESSAGE,
                "requestedSchema": {
                    "type": "object",
                    "properties": {"confirmed": {"type": "boolean"}},
                    "required": ["confirmed"],
                },
            }
            await mcp.send_response(
                request["id"],
                {"action": "accept", "content": {"confirmed": True}, "_meta": None},
            )

            completed = await mcp.read_notification("turn/completed", DEFAULT_READ_TIMEOUT)
            assert completed["threadId"] == thread_id
            assert completed["turn"]["id"] == turn["id"]
            assert completed["turn"]["status"] == "completed"
            # In arrival order: the request's resolution, then the turn's end.
            after_answer = [
                m
                for m in mcp.received_messages()
                if m.get("method") in ("serverRequest/resolved", "turn/completed")
            ][-2:]
            assert [m["method"] for m in after_answer] == [
                "serverRequest/resolved",
                "turn/completed",
            ], "serverRequest/resolved should arrive first"
            assert after_answer[0]["params"] == {"threadId": thread_id, "requestId": request["id"]}

    requests = responses.responses_requests()
    assert len(requests) == 3
    outputs = [
        item
        for item in requests[2]["input"]
        if item.get("type") == "function_call_output" and item.get("call_id") == TOOL_CALL_ID
    ]
    assert len(outputs) == 1
    output = outputs[0]["output"]
    assert isinstance(output, str), "function_call_output output should be a JSON string"
    assert json.loads(output) == [{"type": "text", "text": "accepted"}]
