"""What a review leaves in the thread: only its result (the reviewer's conversation stays out),
on the thread itself when inline and on a fork of it when detached."""

from __future__ import annotations

from pathlib import Path

import orjson
from support.agent_steps import assistant_turn, create_config_toml, message_input_texts, start_turn
from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer

from parley.agent.review import REVIEW_RESULT_INTRO

FINDINGS = orjson.dumps(
    {
        "findings": [
            {
                "title": "Off-by-one in pager",
                "body": "The last page is skipped.",
                "confidence_score": 0.8,
                "priority": 1,
                "code_location": {
                    "absolute_file_path": "/src/pager.py",
                    "line_range": {"start": 3, "end": 4},
                },
            }
        ],
        "overall_correctness": "patch is incorrect",
        "overall_explanation": "One bug.",
        "overall_confidence_score": 0.7,
    }
).decode()
REVIEW_TARGET = {"type": "custom", "instructions": "look at the pager"}


async def test_an_inline_review_leaves_its_result_for_the_next_turn(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """After an inline review, the next turn's request carries the findings as one message,
    and none of the reviewer's own instructions or task."""
    responses_server.push(
        assistant_turn("r1", "m1", "hi"),
        assistant_turn("r2", "m2", FINDINGS),
        assistant_turn("r3", "m3", "fixing"),
    )
    create_config_toml(codex_home, responses_server.uri)
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({})
    await start_turn(mcp, thread["id"], "hello")
    await mcp.read_notification("turn/completed")
    await mcp.request(
        "review/start", {"threadId": thread["id"], "delivery": "inline", "target": REVIEW_TARGET}
    )
    await mcp.read_notification("turn/completed")
    await start_turn(mcp, thread["id"], "fix the first finding")
    await mcp.read_notification("turn/completed")
    review_request, follow_up = responses_server.responses_requests()[1:]
    task_texts = message_input_texts(review_request, "user")
    assert not any("hello" in text for text in task_texts), task_texts  # afresh
    user_texts = message_input_texts(follow_up, "user")
    results = [text for text in user_texts if text.startswith(REVIEW_RESULT_INTRO)]
    assert len(results) == 1 and "Off-by-one in pager" in results[0]
    assert task_texts[-1] not in user_texts  # the review task is not kept
    assert follow_up["instructions"] != review_request["instructions"]


async def test_a_detached_review_runs_on_a_fork_and_leaves_the_thread_alone(
    codex_home: Path, responses_server: MockResponsesServer, spawn_app_server: SpawnAppServer
) -> None:
    """The detached review thread is a fork of the reviewed one; the result lands there only."""
    responses_server.push(
        assistant_turn("r1", "m1", "hi"),
        assistant_turn("r2", "m2", FINDINGS),
        assistant_turn("r3", "m3", "ok"),
    )
    create_config_toml(codex_home, responses_server.uri)
    mcp = await spawn_app_server()
    await mcp.initialize()
    thread = await mcp.start_thread({})
    await start_turn(mcp, thread["id"], "hello")
    await mcp.read_notification("turn/completed")
    result = await mcp.request(
        "review/start",
        {"threadId": thread["id"], "delivery": "detached", "target": REVIEW_TARGET},
    )
    review_thread = (await mcp.read_notification("thread/started"))["thread"]
    while review_thread["id"] == thread["id"]:
        review_thread = (await mcp.read_notification("thread/started"))["thread"]
    assert review_thread["id"] == result["reviewThreadId"] != thread["id"]
    assert review_thread["forkedFromId"] == thread["id"]
    await mcp.read_notification("turn/completed")
    await start_turn(mcp, thread["id"], "carry on")
    await mcp.read_notification("turn/completed")
    follow_up = responses_server.responses_requests()[-1]
    assert "hello" in message_input_texts(follow_up, "user")
    assert not any(
        text.startswith(REVIEW_RESULT_INTRO) for text in message_input_texts(follow_up, "user")
    )
