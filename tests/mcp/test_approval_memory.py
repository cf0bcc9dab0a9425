"""An approval the user gives "for this session" is remembered for the rest of the thread, as
the reference remembers it; "always" also writes `approval_mode = "approve"` to the config.

The tool is `add` of the stdio `echo` server (it has no read-only hint, so it asks first); the
real app-server subprocess runs two turns against a scripted Responses API, each calling it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import orjson
from support.app_server import AppServerProcess
from support.mcp_servers import agent_config_toml, stdio_config
from support.mcp_turns import completed_items, output_sent_to_model, run_turn, start
from support.mock_responses import MockResponsesServer
from support.sse import (
    ev_assistant_message,
    ev_completed,
    ev_function_call,
    ev_response_created,
    sse,
)

ADD = "mcp__tools__add"


def two_turns_calling_add() -> list[str]:
    script = []
    for turn in (1, 2):
        script.append(
            sse(
                [
                    ev_response_created(f"resp-{turn}a"),
                    ev_function_call(
                        f"call-{turn}", ADD, orjson.dumps({"a": turn, "b": 2}).decode()
                    ),
                    ev_completed(f"resp-{turn}a"),
                ]
            )
        )
        script.append(
            sse(
                [
                    ev_response_created(f"resp-{turn}b"),
                    ev_assistant_message(f"msg-{turn}", "Done"),
                    ev_completed(f"resp-{turn}b"),
                ]
            )
        )
    return script


async def approve(server: AppServerProcess, meta: dict[str, Any] | None) -> dict[str, Any]:
    """Answer the next approval request with accept (and `meta`); returns its params."""
    request = await server.read_stream_until_request_message("mcpServer/elicitation/request")
    await server.send_response(request["id"], {"action": "accept", "content": {}, "_meta": meta})
    params: dict[str, Any] = request["params"]
    return params


def approval_requests(server: AppServerProcess) -> list[dict[str, Any]]:
    return [
        m for m in server.received_messages() if m.get("method") == "mcpServer/elicitation/request"
    ]


async def run_two_turns(codex_home: Path, meta: dict[str, Any] | None) -> tuple[Any, list[Any]]:
    """Two turns each calling `add`; the first approval is answered with `meta`, any later one
    with a plain accept. Returns (the first request's params, every approval request)."""
    async with MockResponsesServer(two_turns_calling_add()) as responses:
        config = agent_config_toml(
            responses.uri, stdio_config("tools", "echo"), approval="on-request"
        )
        server, thread_id = await start(codex_home, responses, config)
        try:
            await run_turn(server, thread_id)
            first = await approve(server, meta)
            await server.read_notification("turn/completed")
            await run_turn(server, thread_id)
            if meta is None:
                await approve(server, None)
            await server.read_notification("turn/completed")
            assert "3" in output_sent_to_model(responses, "call-1")
            assert "4" in output_sent_to_model(responses, "call-2")
            assert [i["status"] for i in completed_items(server, "mcpToolCall")] == [
                "completed",
                "completed",
            ]
            return first, approval_requests(server)
        finally:
            await server.close()


async def test_the_approval_request_offers_to_remember(codex_home: Path) -> None:
    """An `auto` tool's approval request offers "session" and "always" in `_meta.persist`; a
    plain accept is not remembered: the next call asks again."""
    first, requests = await run_two_turns(codex_home, None)
    assert first["_meta"]["codex_approval_kind"] == "mcp_tool_call"
    assert first["_meta"]["persist"] == ["session", "always"]
    assert len(requests) == 2


async def test_allow_for_session_is_not_asked_again_in_the_thread(codex_home: Path) -> None:
    """Accepting with `persist: "session"` runs the tool and later calls of it in the thread
    run without asking; the config file is left alone."""
    _, requests = await run_two_turns(codex_home, {"persist": "session"})
    assert len(requests) == 1
    config = tomllib.loads((codex_home / "config.toml").read_text())
    assert "tools" not in config["mcp_servers"]["tools"]


async def test_allow_always_is_written_to_the_config(codex_home: Path) -> None:
    """Accepting with `persist: "always"` is remembered and written as the tool's
    `approval_mode = "approve"`."""
    _, requests = await run_two_turns(codex_home, {"persist": "always"})
    assert len(requests) == 1
    config = tomllib.loads((codex_home / "config.toml").read_text())
    assert config["mcp_servers"]["tools"]["tools"]["add"]["approval_mode"] == "approve"


async def test_a_prompt_tool_offers_nothing_to_remember(codex_home: Path) -> None:
    """A tool configured `approval_mode = "prompt"` asks every time and offers no `persist`."""
    async with MockResponsesServer(two_turns_calling_add()) as responses:
        servers = (
            stdio_config("tools", "echo")
            + '\n[mcp_servers.tools.tools.add]\napproval_mode = "prompt"\n'
        )
        config = agent_config_toml(responses.uri, servers, approval="on-request")
        server, thread_id = await start(codex_home, responses, config)
        try:
            await run_turn(server, thread_id)
            first = await approve(server, {"persist": "session"})
            await server.read_notification("turn/completed")
            await run_turn(server, thread_id)
            await approve(server, None)
            await server.read_notification("turn/completed")
        finally:
            await server.close()
    assert "persist" not in first["_meta"]
