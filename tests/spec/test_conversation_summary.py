"""pytest twins of upstream `app-server/tests/suite/conversation_summary.rs`
(`getConversationSummary`, a v1-era method the reference still serves beside v2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.rollout import create_fake_rollout, rollout_path

FILENAME_TS = "2025-01-02T12-00-00"
META_RFC3339 = "2025-01-02T12:00:00Z"
PREVIEW = "Summarize this conversation"
MODEL_PROVIDER = "openai"


def expected_summary(conversation_id: str, path: Path) -> dict[str, Any]:
    return {
        "conversationId": conversation_id,
        "path": str(path),
        "preview": PREVIEW,
        "timestamp": META_RFC3339,
        "updatedAt": META_RFC3339,
        "modelProvider": MODEL_PROVIDER,
        "cwd": "/",
        "cliVersion": "0.0.0",
        "source": "cli",
        "gitInfo": None,
    }


async def test_get_conversation_summary_by_thread_id_reads_rollout(
    spawn_app_server, codex_home
) -> None:
    """A stored thread's summary by its id: preview, timestamps, provider, cwd, source."""
    conversation_id = create_fake_rollout(
        codex_home, FILENAME_TS, META_RFC3339, PREVIEW, MODEL_PROVIDER
    )
    expected = expected_summary(
        conversation_id, rollout_path(codex_home, FILENAME_TS, conversation_id).resolve()
    )
    mcp = await spawn_app_server()
    await mcp.initialize()

    received = await mcp.request("getConversationSummary", {"conversationId": conversation_id})

    assert received["summary"] == expected


async def test_get_conversation_summary_by_relative_rollout_path_resolves_from_codex_home(
    spawn_app_server, codex_home
) -> None:
    """A rollout path relative to CODEX_HOME is found there."""
    conversation_id = create_fake_rollout(
        codex_home, FILENAME_TS, META_RFC3339, PREVIEW, MODEL_PROVIDER
    )
    path = rollout_path(codex_home, FILENAME_TS, conversation_id)
    relative = path.relative_to(codex_home)
    expected = expected_summary(conversation_id, path.resolve())
    mcp = await spawn_app_server()
    await mcp.initialize()

    received = await mcp.request("getConversationSummary", {"rolloutPath": str(relative)})

    assert received["summary"] == expected


async def test_get_conversation_summary_errors_name_what_is_wrong(
    spawn_app_server, codex_home
) -> None:
    """Not upstream's: an unknown id, a missing file and empty params fail as the reference
    fails them, and the server keeps serving."""
    mcp = await spawn_app_server()
    await mcp.initialize()
    unknown = "00000000-0000-0000-0000-000000000000"

    missing_thread = await mcp.request_error("getConversationSummary", {"conversationId": unknown})
    missing_file = await mcp.request_error("getConversationSummary", {"rolloutPath": "nope.jsonl"})
    no_params = await mcp.request_error("getConversationSummary", {})

    assert missing_thread == {
        "code": -32600,
        "message": f"no rollout found for conversation id {unknown}",
    }
    assert missing_file["code"] == -32600  # the reference says -32603: Parley's on purpose
    assert missing_file["message"].startswith(
        f"failed to load conversation summary from {codex_home / 'nope.jsonl'}: "
    )
    assert no_params["code"] == -32600
    assert "GetConversationSummaryParams" in no_params["message"]
    assert (await mcp.request("getAuthStatus", {}))["authMethod"] is None
