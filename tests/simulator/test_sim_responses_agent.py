"""Unit tests of the scripted Responses agent: request bodies in, replies and SSE events out."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from parley.simulator.responses_agent import (
    ResponseIds,
    ResponsesAgent,
    TextReply,
    ToolCall,
    decide,
    reply_events,
    requested_command,
    summarise_tool_output,
)

SHELL_TOOL = {"type": "function", "name": "shell_command", "parameters": {}}


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def request(*items: dict[str, Any], tools: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    env = user("<environment_context>\n  <cwd>/tmp</cwd>\n</environment_context>")
    return {
        "model": "sim-agent",
        "input": [env, *items],
        "tools": tools or [SHELL_TOOL],
        "stream": True,
    }


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("please run `ls -la` now", "ls -la"),
        ("Execute `git status`", "git status"),
        ("run: printf hello\nthanks", "printf hello"),
        ("list the files", "ls -la"),
        ("where am I", "pwd"),
        ("tell me a joke", None),
    ],
)
def test_requested_command(text: str, command: str | None) -> None:
    """Backticks, `run:` and a few spoken phrases name a command; other text does not."""
    assert requested_command(text) == command


def test_command_request_calls_shell_command() -> None:
    """'run `ls -la`' with no tool call yet is answered by a shell_command call."""
    reply = decide(request(user("run `ls -la`")))
    assert reply == ToolCall("ls -la", "shell_command")
    assert orjson.loads(reply.arguments()) == {
        "command": "ls -la",
        "workdir": None,
        "timeout_ms": 10000,
    }


def test_tool_output_is_summarised() -> None:
    """A request ending with the command's output gets a text summary of what it printed."""
    call = {
        "type": "function_call",
        "name": "shell_command",
        "call_id": "call_1",
        "arguments": '{"command":"ls -la","workdir":null,"timeout_ms":10000}',
    }
    output = {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": "Exit code: 0\nWall time: 0.1 seconds\nOutput:\ntotal 8\na.txt\nb.txt\n",
    }
    reply = decide(request(user("run `ls -la`"), call, output))
    assert reply == TextReply("I ran `ls -la`. It printed 3 lines: total 8; a.txt; b.txt")


def test_summary_mentions_failures_and_empty_output() -> None:
    """Non-zero exit codes and silent commands are summarised as such."""
    failed = summarise_tool_output("false", "Exit code: 1\nWall time: 0 seconds\nOutput:\n")
    assert failed == "I ran `false`, but it failed with exit code 1. It printed nothing."
    many = summarise_tool_output("seq 5", "1\n2\n3\n4\n5\n")
    assert many == "I ran `seq 5`. It printed 5 lines: 1; 2; 3; …"


def test_other_requests_are_acknowledged_in_text() -> None:
    """A request without a command is answered in text that repeats it."""
    reply = decide(request(user("tell me a joke")))
    assert isinstance(reply, TextReply) and "tell me a joke" in reply.text


def test_no_second_call_after_the_first() -> None:
    """Once a call was made for the latest message, the agent does not call again."""
    call = {"type": "function_call", "name": "shell_command", "call_id": "c", "arguments": "{}"}
    assert isinstance(decide(request(user("run `ls`"), call)), TextReply)


def test_other_shell_tools_are_used_when_offered() -> None:
    """If only exec_command is offered the agent calls it with a `cmd` argument."""
    reply = decide(request(user("run `pwd`"), tools=[{"type": "function", "name": "exec_command"}]))
    assert isinstance(reply, ToolCall) and orjson.loads(reply.arguments()) == {"cmd": "pwd"}


def test_text_reply_events() -> None:
    """A text answer streams added, deltas, the assistant message and completed with usage."""
    ids = ResponseIds("resp_1", "msg_1", "call_1")
    text = "I ran `ls`. It printed 2 lines: a; b"
    events = reply_events(request(user("x")), TextReply(text), ids)
    kinds = [e["type"] for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta") == text
    assert kinds.count("response.output_text.delta") > 1
    done = next(e for e in events if e["type"] == "response.output_item.done")
    assert done["item"] == {
        "id": "msg_1",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
    usage = events[-1]["response"]["usage"]
    assert set(usage) == {
        "input_tokens",
        "input_tokens_details",
        "output_tokens",
        "output_tokens_details",
        "total_tokens",
    }
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))


def test_tool_call_events() -> None:
    """A tool call streams output_item.added and output_item.done with the function_call item."""
    events = reply_events(
        request(user("x")), ToolCall("ls -la"), ResponseIds("r", "fc_1", "call_9")
    )
    done = next(e for e in events if e["type"] == "response.output_item.done")["item"]
    assert done["type"] == "function_call" and done["name"] == "shell_command"
    assert done["call_id"] == "call_9"
    assert done["arguments"] == '{"command":"ls -la","workdir":null,"timeout_ms":10000}'
    assert events[-1]["type"] == "response.completed"


def test_agent_ids_are_sequential() -> None:
    """The agent numbers its responses, items and calls deterministically."""
    agent = ResponsesAgent()
    first = agent.stream(request(user("run `ls`")))
    second = agent.complete(request(user("hello")))
    assert first[0]["response"]["id"] == "resp_sim1"
    assert second["id"] == "resp_sim2" and second["output"][0]["id"] == "msg_sim2"
