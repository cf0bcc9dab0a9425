"""How a turn rides out and reports upstream failures: retries, stream cuts, errors."""

from __future__ import annotations

import socket
from collections.abc import Callable

from parley.agent.turn import TurnSettings, run_turn

from .turn_harness import (
    FakeTurnIO,
    Reply,
    ResponsesScript,
    answer,
    ev_created,
    ev_failed,
    ev_message,
    ev_message_added,
    ev_text_delta,
    user_text,
)

Settings = Callable[..., TurnSettings]
HIGH_DEMAND = "We're currently experiencing high demand, which may cause temporary errors."


async def test_retries_a_500_then_succeeds(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """A transient HTTP 500 is retried and the turn completes normally."""
    responses.push(Reply.error(500, '{"error":{"message":"boom"}}'), answer("recovered"))

    result = await run_turn(io, make_settings(request_max_retries=2), user_text("hi"))

    assert result.status == "completed" and result.last_agent_message == "recovered"
    assert len(responses.seen) == 2
    assert "error" not in io.methods()


async def test_honours_retry_after(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """A 429 with Retry-After waits that long before the next attempt."""
    responses.push(Reply.error(429, "{}", headers={"Retry-After": "0.3"}), answer("ok"))

    result = await run_turn(io, make_settings(request_max_retries=1), user_text("hi"))

    assert result.status == "completed"
    assert responses.seen[1].at - responses.seen[0].at >= 0.29


async def test_500_without_retries_fails_like_the_reference(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """With no retries left, an HTTP 500 fails the turn with the reference's message."""
    responses.push(Reply.error(500, "oops"))

    result = await run_turn(io, make_settings(request_max_retries=0), user_text("hi"))

    assert result.status == "failed"
    assert result.error == {
        "message": HIGH_DEMAND,
        "codexErrorInfo": "internalServerError",
        "additionalDetails": None,
    }
    assert len(responses.seen) == 1


async def test_failure_after_all_retries(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """When every retry fails, the turn fails after request_max_retries + 1 attempts."""
    responses.push(*[Reply.error(503, "busy") for _ in range(3)])

    result = await run_turn(io, make_settings(request_max_retries=2), user_text("hi"))

    assert result.status == "failed" and result.error is not None
    assert result.error["message"] == "exceeded retry limit, last status: 503 Service Unavailable"
    assert result.error["codexErrorInfo"] == {
        "responseTooManyFailedAttempts": {"httpStatusCode": 503}
    }
    assert len(responses.seen) == 3


async def test_stream_cut_is_retried_without_repeating_text(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """A stream dropped before response.completed is retried; the client sees the text once."""
    responses.push(
        Reply.sse(
            [ev_created(), ev_message_added("msg-1"), ev_text_delta("msg-1", "Hel")], abort=True
        ),
        [
            ev_created(),
            ev_message_added("msg-1"),
            ev_text_delta("msg-1", "Hel"),
            ev_text_delta("msg-1", "lo"),
            *answer("Hello")[1:],
        ],
    )

    result = await run_turn(io, make_settings(stream_max_retries=2), user_text("hi"))

    assert result.status == "completed"
    assert len(responses.seen) == 2
    assert "".join(p["delta"] for p in io.params("item/agentMessage/delta")) == "Hello"
    assert len(io.items("item/started", "agentMessage")) == 1
    assert len(io.items("item/completed", "agentMessage")) == 1
    retry = io.params("error")[0]
    assert retry["willRetry"] is True
    assert retry["error"]["message"] == "Reconnecting... 1/2"
    assert retry["error"]["additionalDetails"] == (
        "stream disconnected before completion: stream closed before response.completed"
    )


async def test_stream_ending_early_fails_after_retries(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """A stream that keeps ending before response.completed fails with the reference's message."""
    responses.push(*[[ev_created(), ev_message("msg-1", "partial")] for _ in range(2)])

    result = await run_turn(io, make_settings(stream_max_retries=1), user_text("hi"))

    assert result.status == "failed"
    assert result.error == {
        "message": "stream disconnected before completion: stream closed before response.completed",
        "codexErrorInfo": "other",
        "additionalDetails": None,
    }
    assert len(responses.seen) == 2


async def test_response_failed_reports_its_message(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """A response.failed event fails the turn with the upstream message."""
    responses.push([ev_created(), ev_failed("the model fell over")])

    result = await run_turn(io, make_settings(), user_text("hi"))

    assert result.status == "failed"
    assert result.error == {
        "message": "stream disconnected before completion: the model fell over",
        "codexErrorInfo": "other",
        "additionalDetails": None,
    }


async def test_api_key_never_appears_in_errors(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """An upstream error echoing the API key is reported without the key."""
    responses.push(
        Reply.error(401, '{"error":{"message":"Incorrect API key provided: sk-test-key"}}')
    )

    result = await run_turn(io, make_settings(), user_text("hi"))

    assert result.status == "failed" and result.error is not None
    assert result.error["codexErrorInfo"] == "unauthorized"
    assert "sk-test-key" not in str(result.error)
    assert "401 Unauthorized" in result.error["message"]
    assert all("sk-test-key" not in str(p) for _, p in io.notifications)


async def test_unreachable_provider_fails_clearly(io: FakeTurnIO, make_settings: Settings) -> None:
    """A provider that refuses connections fails the turn with a connection error."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(base_url=f"http://127.0.0.1:{port}/v1", request_max_retries=1)

    result = await run_turn(io, settings, user_text("hi"))

    assert result.status == "failed" and result.error is not None
    assert result.error["codexErrorInfo"] == {"httpConnectionFailed": {"httpStatusCode": None}}
    assert f"127.0.0.1:{port}/v1/responses" in result.error["message"]
