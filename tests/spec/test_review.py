"""pytest twins of upstream `app-server/tests/suite/v2/review.rs` (all 6 of its tests).

`review_start_exec_approval_item_id_matches_command_execution_item` is `#[ignore]`d upstream as
flaky; its twin runs here (nothing in it depends on timing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from support.agent_steps import create_config_toml, start_turn
from support.app_server import AppServerProcess, SpawnAppServer
from support.mock_responses import MockResponsesServer, create_final_assistant_message_sse_response
from support.sse import create_shell_command_sse_response

INVALID_REQUEST_ERROR_CODE = -32600
REPEATS = 8  # upstream's mock answers every request with the same message

Json = Any


def config(codex_home: Path, uri: str, approval_policy: str = "never") -> None:
    create_config_toml(
        codex_home, uri, approval_policy, {"shell_snapshot": False}, sandbox_mode="read-only"
    )


def repeating_assistant(server: MockResponsesServer, text: str) -> None:
    server.push(*[create_final_assistant_message_sse_response(text)] * REPEATS)


async def start_default_thread(mcp: AppServerProcess) -> str:
    thread = await mcp.start_thread({"model": "mock-model"})
    await mcp.read_notification("thread/started")
    return str(thread["id"])


async def setup(
    codex_home: Path, server: MockResponsesServer, spawn: SpawnAppServer, approval: str = "never"
) -> tuple[AppServerProcess, str]:
    config(codex_home, server.uri, approval)
    mcp = await spawn()
    await mcp.initialize()
    return mcp, await start_default_thread(mcp)


async def wait_for_item_type(mcp: AppServerProcess, method: str, kind: str) -> Json:
    for _ in range(10):
        item = (await mcp.read_notification(method))["item"]
        if item["type"] == kind:
            return item
    return None


async def test_review_start_runs_review_turn_and_emits_code_review_item(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """An inline review turn shows entered/exited review mode items with the findings."""
    review_payload = orjson.dumps(
        {
            "findings": [
                {
                    "title": "Prefer Stylize helpers",
                    "body": "Use .dim()/.bold() chaining instead of manual Style.",
                    "confidence_score": 0.9,
                    "priority": 1,
                    "code_location": {
                        "absolute_file_path": "/tmp/file.rs",
                        "line_range": {"start": 10, "end": 20},
                    },
                }
            ],
            "overall_correctness": "good",
            "overall_explanation": "Looks solid overall with minor polish suggested.",
            "overall_confidence_score": 0.75,
        }
    ).decode()
    repeating_assistant(responses_server, review_payload)
    mcp, thread_id = await setup(codex_home, responses_server, spawn_app_server)
    result = await mcp.request(
        "review/start",
        {
            "threadId": thread_id,
            "delivery": "inline",
            "target": {"type": "commit", "sha": "1234567deadbeef", "title": "Tidy UI colors"},
        },
    )
    assert result["reviewThreadId"] == thread_id
    turn_id = result["turn"]["id"]
    assert result["turn"]["status"] == "inProgress"
    entered = await wait_for_item_type(mcp, "item/started", "enteredReviewMode")
    assert entered is not None, "did not observe enteredReviewMode item"
    assert entered["id"] == turn_id
    assert entered["review"] == "commit 1234567: Tidy UI colors"
    exited = await wait_for_item_type(mcp, "item/completed", "exitedReviewMode")
    assert exited is not None, "did not observe a code review item"
    assert exited["id"] == turn_id
    assert "Prefer Stylize helpers" in exited["review"]
    assert "/tmp/file.rs:10-20" in exited["review"]


async def test_review_start_exec_approval_item_id_matches_command_execution_item(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A command the reviewer wants to run asks for approval under the id of its command item."""
    responses_server.push(
        create_shell_command_sse_response(
            ["git", "rev-parse", "HEAD"], None, 5000, "review-call-1"
        ),
        create_final_assistant_message_sse_response("done"),
    )
    mcp, thread_id = await setup(codex_home, responses_server, spawn_app_server, "untrusted")
    result = await mcp.request(
        "review/start",
        {
            "threadId": thread_id,
            "delivery": "inline",
            "target": {
                "type": "commit",
                "sha": "1234567deadbeef",
                "title": "Check review approvals",
            },
        },
    )
    turn_id = result["turn"]["id"]
    request = await mcp.read_stream_until_request_message()
    assert request["method"] == "item/commandExecution/requestApproval"
    params = request["params"]
    assert params["itemId"] == "review-call-1"
    assert params["turnId"] == turn_id
    command_item = await wait_for_item_type(mcp, "item/started", "commandExecution")
    assert command_item is not None, "did not observe command execution item"
    assert command_item["id"] == params["itemId"]
    await mcp.send_response(request["id"], {"decision": "approved"})
    await mcp.read_notification("turn/completed")


async def test_review_start_rejects_empty_base_branch(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A blank base branch is refused (-32600)."""
    repeating_assistant(responses_server, "Done")
    mcp, thread_id = await setup(codex_home, responses_server, spawn_app_server)
    error = await mcp.request_error(
        "review/start",
        {
            "threadId": thread_id,
            "delivery": "inline",
            "target": {"type": "baseBranch", "branch": "   "},
        },
    )
    assert error["code"] == INVALID_REQUEST_ERROR_CODE
    assert "branch must not be empty" in error["message"], error["message"]


async def test_review_start_with_detached_delivery_returns_new_thread_id(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A detached review runs on a new thread, announced by thread/started before any status."""
    review_payload = orjson.dumps(
        {
            "findings": [],
            "overall_correctness": "ok",
            "overall_explanation": "detached review",
            "overall_confidence_score": 0.5,
        }
    ).decode()
    repeating_assistant(responses_server, review_payload)
    mcp, thread_id = await setup(codex_home, responses_server, spawn_app_server)
    await start_turn(mcp, thread_id, "materialize rollout")
    await mcp.read_notification("turn/completed")
    mcp.clear_message_buffer()
    result = await mcp.request(
        "review/start",
        {
            "threadId": thread_id,
            "delivery": "detached",
            "target": {"type": "custom", "instructions": "detached review"},
        },
    )
    assert result["turn"]["status"] == "inProgress"
    review_thread_id = result["reviewThreadId"]
    assert review_thread_id != thread_id, "detached review should run on a different thread"
    started = await mcp.read_notification("thread/started")
    for message in mcp.received_messages():
        if message.get("method") == "thread/started":
            break
        if message.get("method") == "thread/status/changed":
            assert message["params"]["threadId"] != review_thread_id, (
                "detached review threads should be introduced without a preceding "
                "thread/status/changed"
            )
    assert started["thread"]["id"] == review_thread_id


async def test_review_start_rejects_empty_commit_sha(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """A blank commit sha is refused (-32600)."""
    repeating_assistant(responses_server, "Done")
    mcp, thread_id = await setup(codex_home, responses_server, spawn_app_server)
    error = await mcp.request_error(
        "review/start",
        {
            "threadId": thread_id,
            "delivery": "inline",
            "target": {"type": "commit", "sha": "\t", "title": None},
        },
    )
    assert error["code"] == INVALID_REQUEST_ERROR_CODE
    assert "sha must not be empty" in error["message"], error["message"]


async def test_review_start_rejects_empty_custom_instructions(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """Blank custom instructions are refused (-32600)."""
    repeating_assistant(responses_server, "Done")
    mcp, thread_id = await setup(codex_home, responses_server, spawn_app_server)
    error = await mcp.request_error(
        "review/start",
        {
            "threadId": thread_id,
            "delivery": "inline",
            "target": {"type": "custom", "instructions": "\n\n"},
        },
    )
    assert error["code"] == INVALID_REQUEST_ERROR_CODE
    assert "instructions must not be empty" in error["message"], error["message"]
