"""pytest twins of upstream `app-server/tests/suite/v2/plan_item.rs` (both tests).

A Plan-mode turn whose model message carries a `<proposed_plan>` block shows the block as a
`plan` item streamed with `item/plan/delta`; without a block there is no plan item.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.agent_steps import create_config_toml, start_turn
from support.app_server import AppServerProcess, SpawnAppServer
from support.mock_responses import MockResponsesServer
from support.sse import (
    ev_assistant_message,
    ev_completed,
    ev_message_item_added,
    ev_output_text_delta,
    ev_response_created,
    sse,
)

Json = Any


async def start_plan_mode_turn(mcp: AppServerProcess) -> Json:
    thread = await mcp.start_thread({"model": "mock-model"})
    collaboration_mode = {
        "mode": "plan",
        "settings": {
            "model": "mock-model",
            "reasoning_effort": None,
            "developer_instructions": None,
        },
    }
    return await start_turn(mcp, thread["id"], "Plan this", collaborationMode=collaboration_mode)


async def collect_turn_notifications(
    mcp: AppServerProcess,
) -> tuple[list[Json], list[Json], list[Json], Json]:
    """(started items, completed items, plan deltas, turn/completed params), in arrival order."""
    completed_turn = await mcp.read_notification("turn/completed")
    started, completed, deltas = [], [], []
    for message in mcp.received_messages():
        method = message.get("method")
        if method == "item/started":
            started.append(message["params"]["item"])
        elif method == "item/completed":
            completed.append(message["params"]["item"])
        elif method == "item/plan/delta":
            deltas.append(message["params"])
    return started, completed, deltas, completed_turn


async def test_plan_mode_uses_proposed_plan_block_for_plan_item(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """The `<proposed_plan>` block becomes the turn's plan item; the message is still shown."""
    plan_block = "<proposed_plan>\n# Final plan\n- first\n- second\n</proposed_plan>\n"
    full_message = f"Preface\n{plan_block}Postscript"
    responses_server.push(
        sse(
            [
                ev_response_created("resp-1"),
                ev_message_item_added("msg-1", ""),
                ev_output_text_delta(full_message),
                ev_assistant_message("msg-1", full_message),
                ev_completed("resp-1"),
            ]
        )
    )
    create_config_toml(codex_home, responses_server.uri, "never", {"collaboration_modes": True})
    mcp = await spawn_app_server()
    await mcp.initialize()
    turn = await start_plan_mode_turn(mcp)
    _, completed_items, plan_deltas, turn_completed = await collect_turn_notifications(mcp)
    await responses_server.wait_for_responses_requests(1)
    assert len(responses_server.responses_requests()) == 1
    assert turn_completed["turn"]["id"] == turn["id"]
    assert turn_completed["turn"]["status"] == "completed"

    expected_plan_id = f"{turn['id']}-plan"
    expected_plan = {
        "type": "plan",
        "id": expected_plan_id,
        "text": "# Final plan\n- first\n- second\n",
    }
    streamed_plan = "".join(delta["delta"] for delta in plan_deltas)
    assert streamed_plan == "# Final plan\n- first\n- second\n"
    assert all(delta["itemId"] == expected_plan_id for delta in plan_deltas)
    plan_items = [item for item in completed_items if item["type"] == "plan"]
    assert plan_items == [expected_plan]
    assert any(item["type"] == "agentMessage" for item in completed_items), (
        "agent message items should still be emitted alongside the plan item"
    )


async def test_plan_mode_without_proposed_plan_does_not_emit_plan_item(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A Plan-mode answer without a block has no plan item and no plan deltas."""
    responses_server.push(
        sse(
            [
                ev_response_created("resp-1"),
                ev_assistant_message("msg-1", "Done"),
                ev_completed("resp-1"),
            ]
        )
    )
    create_config_toml(codex_home, responses_server.uri, "never", {"collaboration_modes": True})
    mcp = await spawn_app_server()
    await mcp.initialize()
    await start_plan_mode_turn(mcp)
    _, completed_items, plan_deltas, _ = await collect_turn_notifications(mcp)
    await responses_server.wait_for_responses_requests(1)
    assert len(responses_server.responses_requests()) == 1
    assert not any(item["type"] == "plan" for item in completed_items)
    assert plan_deltas == []
