"""The agent calls MCP tools: real stdio and HTTP servers (written with the MCP SDK, see
`support.mcp_servers`), the real app-server subprocess and a scripted Responses API.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from support.app_server import AppServerProcess
from support.mcp_servers import (
    ELICITATION_MESSAGE,
    TEST_RESOURCE_TEXT,
    agent_config_toml,
    http_config,
    resource_server,
    serve_http,
    stdio_config,
)
from support.mcp_turns import (
    call_then_answer,
    completed_items,
    output_sent_to_model,
    run_turn,
    start,
)
from support.mock_responses import MockResponsesServer
from support.sse import (
    ev_assistant_message,
    ev_completed,
    ev_function_call,
    ev_response_created,
    sse,
)


async def test_the_agent_calls_a_stdio_mcp_tool(codex_home: Path) -> None:
    """A configured stdio server starts with the thread, its tool is offered as
    mcp__<server>__<tool>, and the call shows as an mcpToolCall item whose result reaches the
    model."""
    async with MockResponsesServer(
        call_then_answer("call-1", "mcp__tools__echo", {"text": "hi"})
    ) as responses:
        server, thread_id = await start(
            codex_home, responses, agent_config_toml(responses.uri, stdio_config("tools", "echo"))
        )
        try:
            statuses = [
                await server.read_notification("mcpServer/startupStatus/updated") for _ in range(2)
            ]
            assert statuses == [
                {"name": "tools", "status": "starting", "error": None},
                {"name": "tools", "status": "ready", "error": None},
            ]
            turn = await run_turn(server, thread_id)
            completed = await server.read_notification("turn/completed")
            assert (
                completed["turn"]["id"] == turn["id"] and completed["turn"]["status"] == "completed"
            )
            [item] = completed_items(server, "mcpToolCall")
            assert item["server"] == "tools" and item["tool"] == "echo"
            assert item["status"] == "completed" and item["error"] is None
            assert item["arguments"] == {"text": "hi"}
            assert item["result"]["content"] == [{"type": "text", "text": "echo: hi"}]
            assert isinstance(item["durationMs"], int)
            first_request = responses.responses_requests()[0]
            names = [tool["name"] for tool in first_request["tools"]]
            assert "mcp__tools__echo" in names and "mcp__tools__add" in names
            output = output_sent_to_model(responses, "call-1")
            assert orjson.loads(output) == {"result": "echo: hi"} or "echo: hi" in output
        finally:
            await server.close()


async def test_a_crashing_server_fails_its_call_and_the_turn_goes_on(codex_home: Path) -> None:
    """A server that dies during a call fails that call with a clear error; the turn completes
    and the other server keeps working."""
    script = [
        sse(
            [
                ev_response_created("resp-1"),
                ev_function_call("call-crash", "mcp__fragile__crash", "{}"),
                ev_completed("resp-1"),
            ]
        ),
        sse(
            [
                ev_response_created("resp-2"),
                ev_function_call("call-echo", "mcp__tools__echo", '{"text": "still here"}'),
                ev_completed("resp-2"),
            ]
        ),
        sse(
            [
                ev_response_created("resp-3"),
                ev_assistant_message("msg-1", "Done"),
                ev_completed("resp-3"),
            ]
        ),
    ]
    async with MockResponsesServer(script) as responses:
        servers = stdio_config("fragile", "crash") + stdio_config("tools", "echo")
        server, thread_id = await start(
            codex_home, responses, agent_config_toml(responses.uri, servers)
        )
        try:
            await run_turn(server, thread_id)
            completed = await server.read_notification("turn/completed")
            assert completed["turn"]["status"] == "completed"
            crash, echo = completed_items(server, "mcpToolCall")
            assert crash["status"] == "failed" and crash["tool"] == "crash"
            assert "crash" in crash["error"]["message"] and "failed" in crash["error"]["message"]
            assert echo["status"] == "completed"
            assert "failed" in output_sent_to_model(responses, "call-crash")
        finally:
            await server.close()


async def test_a_hanging_tool_times_out_with_a_clear_error(codex_home: Path) -> None:
    """A tool that never answers fails after the server's tool_timeout_sec; the turn completes."""
    async with MockResponsesServer(call_then_answer("call-1", "mcp__stuck__hang", {})) as responses:
        servers = stdio_config("stuck", "hang", tool_timeout_sec=1)
        server, thread_id = await start(
            codex_home, responses, agent_config_toml(responses.uri, servers)
        )
        try:
            await run_turn(server, thread_id)
            completed = await server.read_notification("turn/completed", 30)
            assert completed["turn"]["status"] == "completed"
            [item] = completed_items(server, "mcpToolCall")
            assert item["status"] == "failed"
            assert "timed out after 1 seconds" in item["error"]["message"]
        finally:
            await server.close()


async def test_a_server_that_never_starts_is_reported_and_skipped(codex_home: Path) -> None:
    """A server that does not finish starting within startup_timeout_sec is reported as failed
    with the reference's advice, and turns run without its tools."""
    script = [
        sse(
            [
                ev_response_created("resp-1"),
                ev_assistant_message("msg-1", "Hi"),
                ev_completed("resp-1"),
            ]
        )
    ]
    async with MockResponsesServer(script) as responses:
        servers = stdio_config("sleepy", "slow-start", startup_timeout_sec=1) + stdio_config(
            "tools", "echo"
        )
        server, thread_id = await start(
            codex_home, responses, agent_config_toml(responses.uri, servers)
        )
        try:
            await run_turn(server, thread_id)
            completed = await server.read_notification("turn/completed", 30)
            assert completed["turn"]["status"] == "completed"
            statuses = [
                m["params"]
                for m in server.received_messages()
                if m.get("method") == "mcpServer/startupStatus/updated"
            ]
            failed = [s for s in statuses if s["status"] == "failed"]
            assert [s["name"] for s in failed] == ["sleepy"]
            assert failed[0]["error"].startswith(
                "MCP client for `sleepy` timed out after 1 seconds."
            )
            assert "startup_timeout_sec" in failed[0]["error"]
            names = [tool["name"] for tool in responses.responses_requests()[0]["tools"]]
            assert "mcp__tools__echo" in names
            assert not any(name.startswith("mcp__sleepy__") for name in names)
        finally:
            await server.close()


async def test_a_tool_that_may_change_things_asks_first_and_a_refusal_is_reported(
    codex_home: Path,
) -> None:
    """A tool without a read-only annotation is only run after the user agrees, through an
    mcpServer/elicitation/request; a decline fails the call with the reference's message."""
    async with MockResponsesServer(
        call_then_answer("call-1", "mcp__tools__add", {"a": 1, "b": 2})
    ) as responses:
        config = agent_config_toml(
            responses.uri, stdio_config("tools", "echo"), approval="on-request"
        )
        server, thread_id = await start(codex_home, responses, config)
        try:
            turn = await run_turn(server, thread_id)
            request = await server.read_stream_until_request_message()
            assert request["method"] == "mcpServer/elicitation/request"
            params = request["params"]
            assert params["threadId"] == thread_id and params["turnId"] == turn["id"]
            assert params["serverName"] == "tools" and params["mode"] == "form"
            assert params["_meta"]["codex_approval_kind"] == "mcp_tool_call"
            assert "add" in params["message"]
            await server.send_response(request["id"], {"action": "decline", "content": None})
            completed = await server.read_notification("turn/completed")
            assert completed["turn"]["status"] == "completed"
            [item] = completed_items(server, "mcpToolCall")
            assert item["status"] == "failed"
            assert item["error"]["message"] == "user rejected MCP tool call"
            resolved = await server.read_notification("serverRequest/resolved")
            assert resolved == {"threadId": thread_id, "requestId": request["id"]}
        finally:
            await server.close()


async def test_an_approved_call_runs(codex_home: Path) -> None:
    """When the user accepts, the call runs and its result reaches the model."""
    async with MockResponsesServer(
        call_then_answer("call-1", "mcp__tools__add", {"a": 1, "b": 2})
    ) as responses:
        config = agent_config_toml(
            responses.uri, stdio_config("tools", "echo"), approval="on-request"
        )
        server, thread_id = await start(codex_home, responses, config)
        try:
            await run_turn(server, thread_id)
            request = await server.read_stream_until_request_message()
            await server.send_response(request["id"], {"action": "accept", "content": {}})
            completed = await server.read_notification("turn/completed")
            assert completed["turn"]["status"] == "completed"
            [item] = completed_items(server, "mcpToolCall")
            assert item["status"] == "completed"
            assert "3" in output_sent_to_model(responses, "call-1")
        finally:
            await server.close()


async def test_a_server_elicitation_is_forwarded_to_the_client(codex_home: Path) -> None:
    """A question a server asks during a call reaches the client as
    mcpServer/elicitation/request; the answer goes back to the server, then serverRequest/resolved
    comes before turn/completed."""
    async with MockResponsesServer(
        call_then_answer("call-1", "mcp__asker__confirm", {})
    ) as responses:
        config = agent_config_toml(
            responses.uri, stdio_config("asker", "elicit"), approval="on-request"
        )
        server, thread_id = await start(codex_home, responses, config)
        try:
            turn = await run_turn(server, thread_id)
            request = await server.read_stream_until_request_message()
            params = request["params"]
            assert params["threadId"] == thread_id and params["turnId"] == turn["id"]
            assert params["serverName"] == "asker"
            assert params["mode"] == "form" and params["message"] == ELICITATION_MESSAGE
            assert params["requestedSchema"]["properties"]["confirmed"]["type"] == "boolean"
            await server.send_response(
                request["id"], {"action": "accept", "content": {"confirmed": True}}
            )
            await server.read_notification("turn/completed")
            methods = [
                m["method"]
                for m in server.received_messages()
                if m.get("method") in ("serverRequest/resolved", "turn/completed")
            ]
            assert methods == ["serverRequest/resolved", "turn/completed"]
            assert orjson.loads(output_sent_to_model(responses, "call-1")) == {"result": "accepted"}
        finally:
            await server.close()


async def test_a_resource_is_read_through_the_threads_connection(codex_home: Path) -> None:
    """mcpServer/resource/read returns the server's text and blob parts as they were sent."""
    async with MockResponsesServer([]) as responses, serve_http(resource_server()) as url:
        config = agent_config_toml(responses.uri, http_config("docs", url))
        server, thread_id = await start(codex_home, responses, config)
        try:
            result = await server.request(
                "mcpServer/resource/read",
                {"threadId": thread_id, "server": "docs", "uri": "test://codex/resource"},
            )
            assert result["contents"][0] == {
                "uri": "test://codex/resource",
                "mimeType": "text/markdown",
                "text": TEST_RESOURCE_TEXT,
            }
            assert result["contents"][1]["blob"] == "YmluYXJ5LXJlc291cmNl"
            error = await server.request_error(
                "mcpServer/resource/read",
                {"threadId": thread_id, "server": "nope", "uri": "test://codex/resource"},
            )
            assert "nope" in error["message"]
        finally:
            await server.close()


async def test_reload_applies_at_the_next_turn(codex_home: Path) -> None:
    """After config/mcpServer/reload a thread's next turn offers the servers the file names now."""
    script = [
        sse(
            [
                ev_response_created(f"resp-{i}"),
                ev_assistant_message(f"msg-{i}", "ok"),
                ev_completed(f"resp-{i}"),
            ]
        )
        for i in (1, 2)
    ]
    async with MockResponsesServer(script) as responses:
        server, thread_id = await start(codex_home, responses, agent_config_toml(responses.uri, ""))
        try:
            await run_turn(server, thread_id)
            await server.read_notification("turn/completed")
            (codex_home / "config.toml").write_text(
                agent_config_toml(responses.uri, stdio_config("late", "echo"))
            )
            assert await server.request("config/mcpServer/reload", None) == {}
            await run_turn(server, thread_id)
            await server.read_notification("turn/completed")
            first, second = responses.responses_requests()
            assert not any(t["name"].startswith("mcp__") for t in first["tools"])
            assert "mcp__late__echo" in [t["name"] for t in second["tools"]]
        finally:
            await server.close()


async def test_oauth_login_is_answered_without_a_browser(codex_home: Path) -> None:
    """mcpServer/oauth/login names an unknown server, refuses stdio servers, and explains that
    an HTTP server needs a token because no browser sign-in is possible."""
    config = agent_config_toml(
        "http://127.0.0.1:9",
        stdio_config("local", "echo") + http_config("remote", "http://127.0.0.1:9"),
    )
    (codex_home / "config.toml").write_text(config)
    async with AppServerProcess(codex_home) as server:
        await server.initialize()
        missing = await server.request_error("mcpServer/oauth/login", {"name": "ghost"})
        assert (
            missing["code"] == -32600 and missing["message"] == "No MCP server named 'ghost' found."
        )
        stdio = await server.request_error("mcpServer/oauth/login", {"name": "local"})
        assert stdio["message"] == "OAuth login is only supported for streamable HTTP servers."
        http = await server.request_error("mcpServer/oauth/login", {"name": "remote"})
        assert http["code"] == -32603
        assert http["message"].startswith("failed to login to MCP server 'remote':")
