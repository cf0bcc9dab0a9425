"""Turns whose model answers in text: items, deltas, reasoning, usage and the request sent."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

from parley.agent.turn import TurnSettings, run_turn

from .turn_harness import (
    FakeTurnIO,
    ResponsesScript,
    answer,
    ev_completed,
    ev_created,
    ev_message,
    ev_message_added,
    ev_text_delta,
    user_text,
)

Settings = Callable[..., TurnSettings]


async def test_plain_answer_completes_turn(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """A text answer shows the user message, the agent message and token usage, then completes."""
    responses.push(answer("hello there"))

    result = await run_turn(io, make_settings(), user_text("say hello"))

    assert result.status == "completed"
    assert result.error is None
    assert result.last_agent_message == "hello there"
    # The reference's order, rate-limit snapshots included (unknown figures are null).
    assert io.methods() == [
        "item/started",
        "item/completed",
        "account/rateLimits/updated",
        "item/started",
        "item/completed",
        "thread/tokenUsage/updated",
        "account/rateLimits/updated",
    ]
    assert io.params("account/rateLimits/updated")[0] == {
        "rateLimits": {
            "limitId": "codex",
            "limitName": None,
            "primary": None,
            "secondary": None,
            "credits": None,
            "planType": None,
        }
    }
    user_started = io.params("item/started")[0]
    assert user_started["item"]["type"] == "userMessage"
    assert user_started["item"]["content"] == user_text("say hello")
    assert isinstance(user_started["startedAtMs"], int)
    agent = io.items("item/completed", "agentMessage")[0]
    assert agent == {
        "type": "agentMessage",
        "id": "msg-1",
        "text": "hello there",
        "phase": None,
        "memoryCitation": None,
    }
    # Without deltas, item/started already carries the full text (as the reference does).
    assert io.items("item/started", "agentMessage")[0]["text"] == "hello there"
    assert isinstance(io.params("item/completed")[-1]["completedAtMs"], int)
    usage = io.params("thread/tokenUsage/updated")[0]["tokenUsage"]
    assert usage["last"] == {
        "totalTokens": 15,
        "inputTokens": 10,
        "cachedInputTokens": 2,
        "outputTokens": 5,
        "reasoningOutputTokens": 1,
    }
    assert usage["total"] == usage["last"]
    assert io.recorded == [
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "say hello"}],
        },
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "hello there"}],
        },
    ]


async def test_request_carries_headers_and_body(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings, tmp_path: Path
) -> None:
    """The Responses request has the reference's headers and body shape, and context parts."""
    responses.push(answer("ok"))
    settings = make_settings(
        developer_context=("<realtime_conversation>\nx\n</realtime_conversation>",)
    )

    await run_turn(io, settings, user_text("say hello"))

    seen = responses.seen[0]
    headers = {k.lower(): v for k, v in seen.headers.items()}
    assert headers["authorization"] == "Bearer sk-test-key"
    assert headers["accept"] == "text/event-stream"
    assert headers["originator"] == "codex-app-server-tests"
    assert headers["user-agent"] == "codex-app-server-tests/0.1.0"
    assert headers["session_id"] == io.thread_id
    assert headers["x-client-request-id"] == io.thread_id
    body = seen.body
    assert body["model"] == "mock-model"
    assert body["stream"] is True and body["store"] is False
    assert body["tool_choice"] == "auto" and body["parallel_tool_calls"] is False
    assert body["include"] == [] and body["prompt_cache_key"] == io.thread_id
    assert [t["name"] for t in body["tools"]] == [
        "shell_command",
        "update_plan",
        "apply_patch",
        "view_image",
    ]
    assert body["instructions"]
    developer, environment, user = body["input"]
    assert developer["role"] == "developer"
    assert "<permissions instructions>" in developer["content"][0]["text"]
    assert developer["content"][1]["text"].startswith("<realtime_conversation>")
    env_text = environment["content"][0]["text"]
    assert environment["role"] == "user" and env_text.startswith("<environment_context>")
    assert f"<cwd>{tmp_path}</cwd>" in env_text and "<shell>bash</shell>" in env_text
    assert user == {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "say hello"}],
    }


async def test_base_instructions_override_and_history(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """A thread's earlier turns and its instruction override reach the model."""
    earlier = [
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "first ask"}],
        },
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "sure"}],
        },
    ]
    io.prior = list(earlier)
    responses.push(answer("ok"))

    await run_turn(io, make_settings(base_instructions="be terse"), user_text("second ask"))

    body = responses.seen[0].body
    assert body["instructions"] == "be terse"
    assert body["input"][2:4] == earlier
    assert body["input"][4]["content"][0]["text"] == "second ask"


async def test_streamed_text_arrives_as_deltas(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """Streamed output text reaches the client as agentMessage deltas before the full message."""
    responses.push(
        [
            ev_created(),
            ev_message_added("msg-1"),
            ev_text_delta("msg-1", "Hello "),
            ev_text_delta("msg-1", "world"),
            ev_message("msg-1", "Hello world"),
            ev_completed(),
        ]
    )

    result = await run_turn(io, make_settings(), user_text("say hello"))

    assert result.status == "completed"
    assert io.items("item/started", "agentMessage")[0]["text"] == ""
    assert [p["delta"] for p in io.params("item/agentMessage/delta")] == ["Hello ", "world"]
    assert all(p["itemId"] == "msg-1" for p in io.params("item/agentMessage/delta"))
    assert io.items("item/completed", "agentMessage")[0]["text"] == "Hello world"
    methods = io.methods()
    assert methods.index("item/agentMessage/delta") < methods.index("thread/tokenUsage/updated")


async def test_reasoning_summary_is_streamed(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings
) -> None:
    """A reasoning summary is shown as a reasoning item with summary deltas."""
    responses.push(
        [
            ev_created(),
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {"type": "reasoning", "id": "rs-1", "summary": []},
            },
            {
                "type": "response.reasoning_summary_part.added",
                "item_id": "rs-1",
                "summary_index": 0,
            },
            {
                "type": "response.reasoning_summary_text.delta",
                "item_id": "rs-1",
                "summary_index": 0,
                "delta": "Thinking",
            },
            {
                "type": "response.output_item.done",
                "item": {
                    "type": "reasoning",
                    "id": "rs-1",
                    "summary": [{"type": "summary_text", "text": "Thinking"}],
                },
            },
            ev_message("msg-1", "done"),
            ev_completed(),
        ]
    )

    await run_turn(io, make_settings(), user_text("think"))

    assert io.params("item/reasoning/summaryPartAdded")[0]["summaryIndex"] == 0
    delta = io.params("item/reasoning/summaryTextDelta")[0]
    assert delta["delta"] == "Thinking" and delta["itemId"] == "rs-1"
    assert io.items("item/completed", "reasoning")[0] == {
        "type": "reasoning",
        "id": "rs-1",
        "summary": ["Thinking"],
        "content": [],
    }
    # Reasoning is not replayed to a store=false API.
    assert all(item.get("type") != "reasoning" for item in io.recorded)


async def test_image_inputs_pass_through(
    responses: ResponsesScript, io: FakeTurnIO, make_settings: Settings, tmp_path: Path
) -> None:
    """Image and local image inputs reach the model as input_image parts."""
    png = tmp_path / "pic.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    responses.push(answer("nice"))
    user_input: list[dict[str, Any]] = [
        {"type": "text", "text": "look", "text_elements": []},
        {"type": "image", "url": "https://example.com/a.png"},
        {"type": "localImage", "path": str(png)},
    ]

    await run_turn(io, make_settings(), user_input)

    content = responses.seen[0].body["input"][-1]["content"]
    assert content[0] == {"type": "input_text", "text": "look"}
    assert content[1] == {"type": "input_image", "image_url": "https://example.com/a.png"}
    encoded = base64.b64encode(png.read_bytes()).decode()
    assert content[2] == {"type": "input_image", "image_url": f"data:image/png;base64,{encoded}"}
    assert io.items("item/started", "userMessage")[0]["content"] == user_input
