"""Compaction through the real app-server: the summary request and what the model sees after."""

from __future__ import annotations

from pathlib import Path

from support.agent_steps import create_config_toml, message_input_texts, start_turn
from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer
from support.sse import ev_assistant_message, ev_completed_with_tokens, sse

from parley.agent.compaction import SUMMARY_FRAME


def reply(text: str, tokens: int) -> str:
    return sse([ev_assistant_message("m", text), ev_completed_with_tokens("r", tokens)])


async def test_summary_request_then_history_restarts_from_the_summary(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """Past the limit, the next turn first asks for a summary (with the configured prompt),
    then continues from the user's words and the summary instead of the old answers."""
    responses_server.push(
        reply("OLD_ANSWER", 5_000), reply("THE_SUMMARY", 10), reply("NEW_ANSWER", 10)
    )
    create_config_toml(
        codex_home,
        responses_server.uri,
        extra='compact_prompt = "Summarize please."\nmodel_auto_compact_token_limit = 1000',
    )
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({})
    await start_turn(mcp, thread["id"], "first question")
    await mcp.read_notification("turn/completed")
    await start_turn(mcp, thread["id"], "second question")
    await mcp.read_notification("turn/completed")
    _, summary_request, next_request = responses_server.responses_requests()
    assert message_input_texts(summary_request, "user")[-1] == "Summarize please."
    after = message_input_texts(next_request, "user")
    assert "first question" in after and "second question" in after
    assert SUMMARY_FRAME + "THE_SUMMARY" in after
    assert "OLD_ANSWER" not in str(next_request["input"])
