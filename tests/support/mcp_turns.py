"""Steps of the MCP agent tests: start a signed-in app-server with a config, run a turn, script
a model that calls one tool, and read what reached the model and the client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from support.app_server import AppServerProcess
from support.mock_responses import MockResponsesServer
from support.sse import (
    ev_assistant_message,
    ev_completed,
    ev_function_call,
    ev_response_created,
    sse,
)

API_KEY = "sk-test-key"


def call_then_answer(call_id: str, tool: str, arguments: dict[str, Any]) -> list[str]:
    """The model calls `tool`, then answers "Done" once it has the output."""
    return [
        sse(
            [
                ev_response_created("resp-1"),
                ev_function_call(call_id, tool, orjson.dumps(arguments).decode()),
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


async def start(
    codex_home: Path, responses: MockResponsesServer, config: str
) -> tuple[AppServerProcess, str]:
    (codex_home / "config.toml").write_text(config)
    server = await AppServerProcess.spawn(codex_home)
    await server.initialize()
    await server.login_with_api_key(API_KEY)
    thread = await server.start_thread({})
    return server, thread["id"]


async def run_turn(server: AppServerProcess, thread_id: str, text: str = "go") -> dict[str, Any]:
    result = await server.request(
        "turn/start",
        {"threadId": thread_id, "input": [{"type": "text", "text": text, "text_elements": []}]},
    )
    return result["turn"]


def completed_items(server: AppServerProcess, item_type: str) -> list[dict[str, Any]]:
    return [
        m["params"]["item"]
        for m in server.received_messages()
        if m.get("method") == "item/completed" and m["params"]["item"]["type"] == item_type
    ]


def output_sent_to_model(responses: MockResponsesServer, call_id: str) -> str:
    for body in responses.responses_requests():
        for item in body["input"]:
            if item.get("type") == "function_call_output" and item.get("call_id") == call_id:
                return str(item["output"])
    raise AssertionError(f"no function_call_output for {call_id}")
