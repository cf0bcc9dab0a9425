"""The test-suite's schema checker accepts what the reference sends and rejects the rest."""

from __future__ import annotations

from typing import Any

import pytest
from support.schema import SchemaValidator, shared_validator

THREAD_ID = "01a20d04-72aa-7591-9ade-219167859ce2"


def thread(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "id": THREAD_ID,
        "forkedFromId": None,
        "preview": "",
        "ephemeral": False,
        "modelProvider": "mock_provider",
        "createdAt": 1795514725,
        "updatedAt": 1795514725,
        "status": {"type": "idle"},
        "path": "/home/u/.codex/sessions/2026/11/24/rollout.jsonl",
        "cwd": "/work",
        "cliVersion": "0.120.0",
        "source": "vscode",
        "agentNickname": None,
        "agentRole": None,
        "gitInfo": None,
        "name": None,
        "turns": [],
    }
    value.update(changes)
    return value


@pytest.fixture
def validator() -> SchemaValidator:
    return shared_validator()


def test_thread_started_with_session_id_is_valid(validator: SchemaValidator) -> None:
    """`thread/started` as Parley sends it, with the extra `sessionId`, passes the schema."""
    validator.validate_notification(
        {"method": "thread/started", "params": {"thread": thread(sessionId=THREAD_ID)}}
    )


def test_thread_started_with_bad_status_is_rejected(validator: SchemaValidator) -> None:
    """A thread status the protocol does not have fails, and the message points at it."""
    message = {"method": "thread/started", "params": {"thread": thread(status={"type": "nap"})}}
    with pytest.raises(AssertionError, match=r"params\.thread\.status"):
        validator.validate_notification(message)


def test_thread_started_without_id_is_rejected(validator: SchemaValidator) -> None:
    """A thread without its id fails with the missing property named."""
    bad = thread()
    del bad["id"]
    with pytest.raises(AssertionError, match="'id' is a required property"):
        validator.validate_notification({"method": "thread/started", "params": {"thread": bad}})


def test_unknown_notification_is_rejected(validator: SchemaValidator) -> None:
    """A notification method 0.120 does not have is reported as such."""
    with pytest.raises(AssertionError, match=r"not a 0\.120 server notification"):
        validator.validate_notification({"method": "thread/nope", "params": {}})


def test_item_notification_with_timestamps_is_valid(validator: SchemaValidator) -> None:
    """`item/started` with Parley's extra `startedAtMs` passes the schema."""
    item = {
        "type": "agentMessage",
        "id": "msg-1",
        "text": "",
        "phase": None,
        "memoryCitation": None,
    }
    validator.validate_notification(
        {
            "method": "item/started",
            "params": {"threadId": THREAD_ID, "turnId": "u", "item": item, "startedAtMs": 1},
        }
    )


def test_response_checked_against_method_result(validator: SchemaValidator) -> None:
    """A `thread/start` result must be a full ThreadStartResponse."""
    result = {
        "thread": thread(sessionId=THREAD_ID),
        "model": "mock-model",
        "modelProvider": "mock_provider",
        "serviceTier": None,
        "cwd": "/work",
        "approvalPolicy": "never",
        "approvalsReviewer": "user",
        "sandbox": {"type": "dangerFullAccess"},
        "reasoningEffort": None,
    }
    validator.validate_response("thread/start", result)
    validator.validate_response("thread/realtime/start", {})
    validator.validate_response(
        "initialize",
        {
            "userAgent": "x/0.120.0",
            "codexHome": "/h",
            "platformFamily": "unix",
            "platformOs": "linux",
        },
    )
    incomplete = {key: value for key, value in result.items() if key != "approvalPolicy"}
    with pytest.raises(AssertionError, match="'approvalPolicy' is a required property"):
        validator.validate_response("thread/start", incomplete)


def test_server_request_checked_by_method(validator: SchemaValidator) -> None:
    """An approval request needs its ids and command; a missing one is named."""
    params = {"threadId": THREAD_ID, "turnId": "u", "itemId": "call-1", "command": "ls", "cwd": "/"}
    validator.validate_server_request(
        {"id": 0, "method": "item/commandExecution/requestApproval", "params": params}
    )
    del params["itemId"]
    with pytest.raises(AssertionError, match="'itemId' is a required property"):
        validator.validate_server_request(
            {"id": 0, "method": "item/commandExecution/requestApproval", "params": params}
        )
