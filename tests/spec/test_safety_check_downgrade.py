"""pytest twins of upstream `app-server/tests/suite/v2/safety_check_downgrade.rs` (both tests).

When the provider serves another model than the one asked for (its `OpenAI-Model` response
header, or the headers echoed in `response.created`), the turn reports `model/rerouted`, and no
warning is shown as a user message item.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.agent_steps import create_config_toml, start_turn
from support.app_server import AppServerProcess, SpawnAppServer
from support.mock_responses import MockResponsesServer, ScriptedResponse
from support.sse import ev_assistant_message, ev_completed, ev_response_created, sse

REQUESTED_MODEL = "gpt-5.1-codex-max"
SERVER_MODEL = "gpt-5.2-codex"

Json = Any


def config(codex_home: Path, uri: str) -> None:
    create_config_toml(
        codex_home,
        uri,
        "never",
        {"remote_models": False, "personality": True},
        sandbox_mode="read-only",
    )
    text = (codex_home / "config.toml").read_text()
    (codex_home / "config.toml").write_text(
        text.replace('model = "mock-model"', f'model = "{REQUESTED_MODEL}"', 1)
    )


def is_warning_user_message_item(item: Json) -> bool:
    if item.get("type") != "userMessage":
        return False
    return any(
        part.get("type") == "text" and str(part.get("text", "")).startswith("Warning: ")
        for part in item.get("content", [])
    )


async def collect_turn_notifications_and_validate_no_warning_item(mcp: AppServerProcess) -> Json:
    await mcp.read_notification("turn/completed")
    rerouted = None
    for message in mcp.received_messages():
        method = message.get("method")
        if method == "model/rerouted":
            rerouted = message["params"]
        elif method in ("item/started", "item/completed"):
            assert not is_warning_user_message_item(message["params"]["item"])
        elif method == "turn/completed":
            break
    assert rerouted is not None, "expected model/rerouted notification before turn/completed"
    return rerouted


async def run(
    codex_home: Path, server: MockResponsesServer, spawn: SpawnAppServer, text: str
) -> tuple[Json, str, str]:
    config(codex_home, server.uri)
    mcp = await spawn()
    await mcp.initialize()
    thread = await mcp.start_thread({"model": REQUESTED_MODEL})
    turn = await start_turn(mcp, thread["id"], text)
    rerouted = await collect_turn_notifications_and_validate_no_warning_item(mcp)
    return rerouted, thread["id"], turn["id"]


async def test_openai_model_header_mismatch_emits_model_rerouted_notification_v2(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """An `OpenAI-Model` header naming another model reports the reroute."""
    body = sse(
        [
            ev_response_created("resp-1"),
            ev_assistant_message("msg-1", "Done"),
            ev_completed("resp-1"),
        ]
    )
    responses_server.push(ScriptedResponse(body, headers={"OpenAI-Model": SERVER_MODEL}))
    rerouted, thread_id, turn_id = await run(
        codex_home, responses_server, spawn_app_server, "trigger safeguard"
    )
    assert rerouted == {
        "threadId": thread_id,
        "turnId": turn_id,
        "fromModel": REQUESTED_MODEL,
        "toModel": SERVER_MODEL,
        "reason": "highRiskCyberActivity",
    }


async def test_response_model_field_mismatch_emits_model_rerouted_notification_v2_when_header_matches_requested(  # noqa: E501
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A matching header but another model in `response.created`'s headers reports it too."""
    body = sse(
        [
            {
                "type": "response.created",
                "response": {"id": "resp-1", "headers": {"OpenAI-Model": SERVER_MODEL}},
            },
            ev_assistant_message("msg-1", "Done"),
            ev_completed("resp-1"),
        ]
    )
    responses_server.push(ScriptedResponse(body, headers={"OpenAI-Model": REQUESTED_MODEL}))
    rerouted, thread_id, turn_id = await run(
        codex_home, responses_server, spawn_app_server, "trigger response model check"
    )
    assert rerouted == {
        "threadId": thread_id,
        "turnId": turn_id,
        "fromModel": REQUESTED_MODEL,
        "toModel": SERVER_MODEL,
        "reason": "highRiskCyberActivity",
    }
