"""While a client shows an out-of-band elicitation (thread/increment_elicitation) the thread's
timeout clocks stand still: an MCP tool call outlives its `tool_timeout_sec`, and answers once
its server does; with no pause the same call times out.

The tool is `wait` of the stdio test server: it answers once a file the test creates exists.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support.mcp_servers import agent_config_toml, stdio_config
from support.mcp_turns import call_then_answer, completed_items, run_turn, start
from support.mock_responses import MockResponsesServer

from parley.agent.pause import ElicitationPause

TOOL_TIMEOUT_SEC = 0.5
# How long the paused call is left running: several tool timeouts. Waiting here cannot make the
# test pass wrongly (an unpaused clock would have failed the call long before).
PAUSED_FOR_SEC = 4 * TOOL_TIMEOUT_SEC


def waiter_config(responses_uri: str) -> str:
    return agent_config_toml(
        responses_uri, stdio_config("waiter", "wait", tool_timeout_sec=TOOL_TIMEOUT_SEC)
    )


async def test_a_paused_thread_lets_a_tool_call_outlive_its_timeout(
    codex_home: Path, tmp_path: Path
) -> None:
    flag = tmp_path / "flag"
    script = call_then_answer("call-1", "mcp__waiter__wait", {"path": str(flag)})
    async with MockResponsesServer(script) as responses:
        server, thread_id = await start(codex_home, responses, waiter_config(responses.uri))
        try:
            params = {"threadId": thread_id}
            assert await server.request("thread/increment_elicitation", params) == {
                "count": 1,
                "paused": True,
            }
            await run_turn(server, thread_id)
            await server.read_stream_until_matching_notification(
                "the mcpToolCall item/started",
                lambda m: (
                    m.get("method") == "item/started"
                    and m["params"]["item"]["type"] == "mcpToolCall"
                ),
            )
            await asyncio.sleep(PAUSED_FOR_SEC)
            assert completed_items(server, "mcpToolCall") == []
            assert await server.request("thread/decrement_elicitation", params) == {
                "count": 0,
                "paused": False,
            }
            flag.touch()
            await server.read_notification("turn/completed")
            [item] = completed_items(server, "mcpToolCall")
            assert item["status"] == "completed", item
        finally:
            await server.close()


async def test_without_a_pause_the_same_call_times_out(codex_home: Path, tmp_path: Path) -> None:
    script = call_then_answer("call-1", "mcp__waiter__wait", {"path": str(tmp_path / "never")})
    async with MockResponsesServer(script) as responses:
        server, thread_id = await start(codex_home, responses, waiter_config(responses.uri))
        try:
            await run_turn(server, thread_id)
            await server.read_notification("turn/completed")
            [item] = completed_items(server, "mcpToolCall")
            assert item["status"] == "failed"
            assert "timed out" in item["error"]["message"]
        finally:
            await server.close()


async def test_the_pause_clock_counts_only_unpaused_time() -> None:
    """`ElicitationPause.wait_for` times out after its seconds of unpaused time only."""
    pause = ElicitationPause()
    never = asyncio.get_running_loop().create_future()
    pause.increment()
    waiting = asyncio.ensure_future(pause.wait_for(asyncio.shield(never), 0.05))
    await asyncio.sleep(0.3)  # six timeouts' worth, all paused
    assert not waiting.done()
    pause.decrement()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(waiting, 10)
    with pytest.raises(ValueError, match="already zero"):
        pause.decrement()
    never.cancel()
