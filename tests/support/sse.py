"""Builders for scripted Responses API server-sent-event bodies.

Twins of the upstream test helpers (`core_test_support::responses::{sse, ev_*}` and
`app_test_support::create_*_sse_response`): each `ev_*` returns one event as a JSON object and
`sse()` frames a list of them as the body the mock Responses server streams back. Nothing here does
I/O; serving the bodies is `mock_responses.py`'s job.
"""

from __future__ import annotations

import shlex
from typing import Any

import orjson

Event = dict[str, Any]


def sse(events: list[Event]) -> str:
    """Frame events as an SSE body: `event: <type>` then `data: <json>` and a blank line.

    As upstream, an event that has nothing but its `type` is written without a `data:` line.
    """
    out: list[str] = []
    for event in events:
        kind = event["type"]
        out.append(f"event: {kind}\n")
        if len(event) == 1:
            out.append("\n")
        else:
            out.append(f"data: {orjson.dumps(event).decode()}\n\n")
    return "".join(out)


def split_sse_events(body: str) -> list[str]:
    """Split an SSE body into its events, each keeping its terminating blank line."""
    chunks: list[str] = []
    rest = body
    while rest:
        end = rest.find("\n\n")
        if end < 0:
            chunks.append(rest)
            break
        chunks.append(rest[: end + 2])
        rest = rest[end + 2 :]
    return chunks


def ev_response_created(response_id: str) -> Event:
    """`response.created` for the given response id."""
    return {"type": "response.created", "response": {"id": response_id}}


def ev_completed(response_id: str) -> Event:
    """`response.completed` with all-zero usage, exactly as upstream scripts it."""
    return ev_completed_with_tokens(response_id, 0)


def ev_completed_with_tokens(response_id: str, total_tokens: int) -> Event:
    """`response.completed` whose usage counts `total_tokens` input tokens."""
    return {
        "type": "response.completed",
        "response": {
            "id": response_id,
            "usage": {
                "input_tokens": total_tokens,
                "input_tokens_details": None,
                "output_tokens": 0,
                "output_tokens_details": None,
                "total_tokens": total_tokens,
            },
        },
    }


def ev_assistant_message(item_id: str, text: str) -> Event:
    """`response.output_item.done` carrying one finished assistant message."""
    return {
        "type": "response.output_item.done",
        "item": {
            "type": "message",
            "role": "assistant",
            "id": item_id,
            "content": [{"type": "output_text", "text": text}],
        },
    }


def ev_message_item_added(item_id: str, text: str) -> Event:
    """`response.output_item.added` announcing an assistant message (streamed by deltas)."""
    return {
        "type": "response.output_item.added",
        "item": {
            "type": "message",
            "role": "assistant",
            "id": item_id,
            "content": [{"type": "output_text", "text": text}],
        },
    }


def ev_output_text_delta(delta: str) -> Event:
    """`response.output_text.delta` with one chunk of assistant text."""
    return {"type": "response.output_text.delta", "delta": delta}


def ev_function_call(call_id: str, name: str, arguments: str) -> Event:
    """`response.output_item.done` carrying a function call; `arguments` is a JSON string."""
    return {
        "type": "response.output_item.done",
        "item": {
            "type": "function_call",
            "call_id": call_id,
            "name": name,
            "arguments": arguments,
        },
    }


def ev_failed(response_id: str, code: str, message: str) -> Event:
    """`response.failed` with an error code and message."""
    return {
        "type": "response.failed",
        "response": {"id": response_id, "error": {"code": code, "message": message}},
    }


def create_final_assistant_message_sse_response(text: str) -> str:
    """A whole turn whose model answer is one assistant message (`resp-1`, `msg-1`)."""
    return sse(
        [
            ev_response_created("resp-1"),
            ev_assistant_message("msg-1", text),
            ev_completed("resp-1"),
        ]
    )


def shell_command_arguments(command: list[str], workdir: str | None, timeout_ms: int | None) -> str:
    """The JSON `arguments` string of a `shell_command` call running `command`.

    The argv is joined into one POSIX-shell-quoted string. Python's quoting style can differ from
    the Rust `shlex` crate's for arguments that need quotes, but both parse back to the same argv;
    for plain words (the spec's `printf realtime-tool-ok`) the text is identical.
    """
    if any("\0" in arg for arg in command):
        raise ValueError("a shell_command argument cannot contain a NUL byte")
    return orjson.dumps(
        {"command": shlex.join(command), "workdir": workdir, "timeout_ms": timeout_ms}
    ).decode()


def create_shell_command_sse_response(
    command: list[str], workdir: str | None, timeout_ms: int | None, call_id: str
) -> str:
    """A turn whose model asks to run `command` through the `shell_command` tool."""
    return sse(
        [
            ev_response_created("resp-1"),
            ev_function_call(
                call_id, "shell_command", shell_command_arguments(command, workdir, timeout_ms)
            ),
            ev_completed("resp-1"),
        ]
    )


def ev_custom_tool_call(call_id: str, name: str, tool_input: str) -> Event:
    """`response.output_item.done` carrying a freeform (custom) tool call."""
    return {
        "type": "response.output_item.done",
        "item": {"type": "custom_tool_call", "call_id": call_id, "name": name, "input": tool_input},
    }


def ev_apply_patch_shell_command_call_via_heredoc(call_id: str, patch: str) -> Event:
    """A `shell_command` call whose script feeds `patch` to `apply_patch` through a heredoc."""
    arguments = orjson.dumps({"command": f"apply_patch <<'EOF'\n{patch}\nEOF\n"}).decode()
    return ev_function_call(call_id, "shell_command", arguments)


def ev_apply_patch_function_call(call_id: str, patch: str) -> Event:
    """An `apply_patch` function call (`{"input": PATCH}`)."""
    return ev_function_call(call_id, "apply_patch", orjson.dumps({"input": patch}).decode())


def create_apply_patch_sse_response(patch: str, call_id: str) -> str:
    """A turn whose model applies `patch` through `shell_command` + heredoc, as upstream's."""
    return sse(
        [
            ev_response_created("resp-1"),
            ev_apply_patch_shell_command_call_via_heredoc(call_id, patch),
            ev_completed("resp-1"),
        ]
    )


def create_exec_command_sse_response(call_id: str) -> str:
    """A turn whose model runs `/bin/sh -c echo hi` through unified exec (`exec_command`)."""
    arguments = orjson.dumps({"cmd": "/bin/sh -c echo hi", "yield_time_ms": 500}).decode()
    return sse(
        [
            ev_response_created("resp-1"),
            ev_function_call(call_id, "exec_command", arguments),
            ev_completed("resp-1"),
        ]
    )


def create_request_user_input_sse_response(call_id: str) -> str:
    """A turn whose model asks the user one multiple-choice question (`confirm_path`)."""
    arguments = orjson.dumps(
        {
            "questions": [
                {
                    "id": "confirm_path",
                    "header": "Confirm",
                    "question": "Proceed with the plan?",
                    "options": [
                        {"label": "Yes (Recommended)", "description": "Continue the current plan."},
                        {"label": "No", "description": "Stop and revisit the approach."},
                    ],
                }
            ]
        }
    ).decode()
    return sse(
        [
            ev_response_created("resp-1"),
            ev_function_call(call_id, "request_user_input", arguments),
            ev_completed("resp-1"),
        ]
    )


def create_request_permissions_sse_response(call_id: str) -> str:
    """A turn whose model asks for write access to `.` and `../shared`."""
    arguments = orjson.dumps(
        {
            "reason": "Select a workspace root",
            "permissions": {"file_system": {"write": [".", "../shared"]}},
        }
    ).decode()
    return sse(
        [
            ev_response_created("resp-1"),
            ev_function_call(call_id, "request_permissions", arguments),
            ev_completed("resp-1"),
        ]
    )
