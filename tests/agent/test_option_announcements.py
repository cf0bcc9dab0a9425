"""Mode and personality text reach the model once, when they change, as history (the reference
appends a developer message on a change rather than resending the text with every request)."""

from __future__ import annotations

from pathlib import Path

from support.agent_steps import assistant_turn, create_config_toml, message_input_texts, start_turn
from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer

from parley.agent.turn_options import personality_base_section, personality_instructions

PLAN = {"mode": "plan", "settings": {"model": "mock-model", "reasoning_effort": None}}


def count(texts: list[str], marker: str) -> int:
    return sum(1 for text in texts if marker in text)


async def test_mode_and_personality_text_is_added_once_and_again_only_on_a_change(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """Turn 1 chooses Plan mode and `friendly`; turn 2 changes nothing (no new text); turn 3
    switches to `pragmatic` (only the personality is added again)."""
    responses_server.push(*[assistant_turn(f"r{n}", f"m{n}", "Done") for n in (1, 2, 3)])
    create_config_toml(codex_home, responses_server.uri, "never", {"personality": True})
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model"})
    await start_turn(mcp, thread["id"], "one", personality="friendly", collaborationMode=PLAN)
    await mcp.read_notification("turn/completed")
    await start_turn(mcp, thread["id"], "two")
    await mcp.read_notification("turn/completed")
    await start_turn(mcp, thread["id"], "three", personality="pragmatic")
    await mcp.read_notification("turn/completed")
    first, second, third = (
        message_input_texts(body, "developer") for body in responses_server.responses_requests()
    )
    assert count(first, "<collaboration_mode>") == 1
    assert first.count(personality_instructions("friendly")) == 1
    # Nothing changed: the history carries the same text once, nothing is added.
    assert second.count(personality_instructions("friendly")) == 1
    assert count(second, "<collaboration_mode>") == 1
    # The personality changed: the new text is added after the old one, the mode is not.
    assert third.count(personality_instructions("friendly")) == 1
    assert third.count(personality_instructions("pragmatic")) == 1
    assert count(third, "<collaboration_mode>") == 1
    assert third.index(personality_instructions("friendly")) < third.index(
        personality_instructions("pragmatic")
    )


async def test_a_new_threads_configured_personality_is_in_its_base_instructions(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """`thread/start` with a personality: it is part of the instructions, not an update."""
    responses_server.push(assistant_turn("r1", "m1", "Done"))
    create_config_toml(codex_home, responses_server.uri, "never", {"personality": True})
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model", "personality": "friendly"})
    await start_turn(mcp, thread["id"], "hello")
    await mcp.read_notification("turn/completed")
    (body,) = responses_server.responses_requests()
    assert personality_base_section("friendly") in body["instructions"]
    assert count(message_input_texts(body, "developer"), "<personality_spec>") == 0


async def test_mode_text_comes_back_after_a_rollback_drops_it(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """The turn that carried the mode text is rolled back: the next turn adds it again."""
    responses_server.push(*[assistant_turn(f"r{n}", f"m{n}", "Done") for n in (1, 2)])
    create_config_toml(codex_home, responses_server.uri, "never")
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({"model": "mock-model"})
    await start_turn(mcp, thread["id"], "one", collaborationMode=PLAN)
    await mcp.read_notification("turn/completed")
    await mcp.request("thread/rollback", {"threadId": thread["id"], "numTurns": 1})
    await start_turn(mcp, thread["id"], "two")
    await mcp.read_notification("turn/completed")
    second = message_input_texts(responses_server.responses_requests()[1], "developer")
    assert count(second, "<collaboration_mode>") == 1
