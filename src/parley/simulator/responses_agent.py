"""A deterministic scripted agent behind the simulated Responses API (sans-IO).

`decide(request)` reads a `POST /v1/responses` body and chooses one reply; `reply_events`
spells it as the Responses streaming events. Rules, applied to the latest user message (text
parts that are whole `<tag>…</tag>` context blocks, like `<environment_context>`, are skipped):

1. The input ends with a `function_call_output` → summarise it in text ("I ran `ls -la`. It
   printed 12 lines: …").
2. The message asks for a command and no tool call has been made since it → call the shell
   tool. A command is asked for by ``run `CMD` `` / ``execute `CMD` `` (backticks), by
   ``run: CMD`` (to the end of the line), or by a few spoken phrases: "list (the) files" →
   `ls -la`, "where am I" / "current directory" → `pwd`, "what's the date/time" → `date`.
   The tool is `shell_command` (`{"command", "workdir": null, "timeout_ms": 10000}`), unless
   the request offers only `exec_command` (`{"cmd"}`) or `shell` (`{"command": [argv]}`).
3. Otherwise → a text acknowledgement that repeats the request.

It never touches the network or a shell; it only writes the events a real model would.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import orjson

Event = dict[str, Any]

SHELL_TIMEOUT_MS: Final = 10_000
_BACKTICK_COMMAND: Final = re.compile(r"\b(?:run|execute)\b\s*:?\s*`([^`]+)`", re.IGNORECASE)
_COLON_COMMAND: Final = re.compile(r"\b(?:run|execute)\s*:\s*(\S[^\n]*)", re.IGNORECASE)
_SPOKEN_COMMANDS: Final = (
    (re.compile(r"\blist\s+(?:all\s+)?(?:of\s+)?(?:the\s+|my\s+)?files\b", re.I), "ls -la"),
    (re.compile(r"\bwhere am i\b|\b(?:current|working) directory\b", re.I), "pwd"),
    (re.compile(r"\bwhat(?:'s| is) the (?:date|time)\b", re.I), "date"),
)
_CONTEXT_BLOCK: Final = re.compile(r"^\s*<([\w-]+)>.*</\1>\s*$", re.DOTALL)
_SUMMARY_LINES: Final = 3
_SUMMARY_LINE_CHARS: Final = 80


@dataclass(frozen=True, slots=True)
class ToolCall:
    """Call a shell tool with this command."""

    command: str
    tool: str = "shell_command"

    def arguments(self) -> str:
        """The JSON arguments string for `tool`."""
        if self.tool == "exec_command":
            return orjson.dumps({"cmd": self.command}).decode()
        if self.tool == "shell":
            return orjson.dumps(
                {"command": ["bash", "-lc", self.command], "timeout_ms": SHELL_TIMEOUT_MS}
            ).decode()
        return orjson.dumps(
            {"command": self.command, "workdir": None, "timeout_ms": SHELL_TIMEOUT_MS}
        ).decode()


@dataclass(frozen=True, slots=True)
class TextReply:
    """Answer in text."""

    text: str


Reply = ToolCall | TextReply


# --- reading the request ----------------------------------------------------------------------


def _items(request: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = request.get("input")
    if isinstance(raw, str):
        return [{"type": "message", "role": "user", "content": raw}]
    if isinstance(raw, list):
        return [item for item in raw if isinstance(item, dict)]
    return []


def _message_text(item: Mapping[str, Any]) -> str:
    content = item.get("content")
    if isinstance(content, str):
        return "" if _CONTEXT_BLOCK.match(content) else content
    texts: list[str] = []
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                if not _CONTEXT_BLOCK.match(part["text"]):
                    texts.append(part["text"])
    return "\n".join(texts)


def _is_user_message(item: Mapping[str, Any]) -> bool:
    return item.get("type", "message") == "message" and item.get("role") == "user"


def latest_user_request(request: Mapping[str, Any]) -> tuple[int, str]:
    """Index and text of the latest user message with real content (-1, "" if none)."""
    items = _items(request)
    for index in range(len(items) - 1, -1, -1):
        if _is_user_message(items[index]):
            text = _message_text(items[index]).strip()
            if text:
                return index, text
    return -1, ""


def requested_command(text: str) -> str | None:
    """The shell command a user message asks to run, if any."""
    if match := _BACKTICK_COMMAND.search(text):
        return match.group(1).strip() or None
    if match := _COLON_COMMAND.search(text):
        return match.group(1).strip() or None
    for pattern, command in _SPOKEN_COMMANDS:
        if pattern.search(text):
            return command
    return None


def _offered_tool(request: Mapping[str, Any]) -> str | None:
    tools = request.get("tools")
    if not isinstance(tools, list) or not tools:
        return "shell_command"
    names = {
        str(tool.get("name"))
        for tool in tools
        if isinstance(tool, dict) and tool.get("type", "function") == "function"
    }
    for name in ("shell_command", "exec_command", "shell"):
        if name in names:
            return name
    return None


def _command_of_call(item: Mapping[str, Any]) -> str:
    try:
        arguments = orjson.loads(str(item.get("arguments", "")))
    except orjson.JSONDecodeError:
        return str(item.get("arguments", ""))
    if isinstance(arguments, dict):
        command = arguments.get("command", arguments.get("cmd"))
        if isinstance(command, list):
            return " ".join(str(part) for part in command[2:] or command)
        if isinstance(command, str):
            return command
    return str(item.get("arguments", ""))


def _output_text(output: Any) -> str:
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        return "".join(str(part.get("text", "")) for part in output if isinstance(part, dict))
    if isinstance(output, dict):
        return str(output.get("content", output.get("output", "")))
    return ""


def _parse_tool_output(output: str) -> tuple[int | None, str]:
    """(exit code, printed text) from the common shell-tool output formats."""
    try:
        decoded = orjson.loads(output)
    except orjson.JSONDecodeError:
        decoded = None
    if isinstance(decoded, dict) and isinstance(decoded.get("output"), str):
        metadata = decoded.get("metadata")
        code = metadata.get("exit_code") if isinstance(metadata, dict) else None
        return (code if isinstance(code, int) else None), decoded["output"]
    code_match = re.search(r"(?:^|\n)(?:Exit code|Process exited with code):?\s*(-?\d+)", output)
    code = int(code_match.group(1)) if code_match else None
    _, marker, printed = output.partition("Output:\n")
    return code, printed if marker else output


def summarise_tool_output(command: str, output: str) -> str:
    """A short spoken-style summary of what a command printed."""
    code, printed = _parse_tool_output(output)
    lines = [line for line in printed.splitlines() if line.strip()]
    shown = [
        line if len(line) <= _SUMMARY_LINE_CHARS else line[: _SUMMARY_LINE_CHARS - 1] + "…"
        for line in lines[:_SUMMARY_LINES]
    ]
    head = f"I ran `{command}`." if command else "I ran the command."
    if code not in (None, 0):
        head = f"I ran `{command}`, but it failed with exit code {code}."
    if not lines:
        return f"{head} It printed nothing."
    noun = "line" if len(lines) == 1 else "lines"
    more = "; …" if len(lines) > len(shown) else ""
    return f"{head} It printed {len(lines)} {noun}: " + "; ".join(shown) + more


def decide(request: Mapping[str, Any]) -> Reply:
    """The scripted agent's next move for this request body."""
    items = _items(request)
    user_index, text = latest_user_request(request)
    if items and items[-1].get("type") == "function_call_output":
        call_id = items[-1].get("call_id")
        call = next(
            (
                item
                for item in reversed(items)
                if item.get("type") == "function_call" and item.get("call_id") == call_id
            ),
            None,
        )
        ran = _command_of_call(call) if call is not None else ""
        return TextReply(summarise_tool_output(ran, _output_text(items[-1].get("output"))))
    command = requested_command(text)
    called_since = any(item.get("type") == "function_call" for item in items[user_index + 1 :])
    if command is not None and not called_since:
        tool = _offered_tool(request)
        if tool is None:
            return TextReply(f"I would run `{command}`, but no shell tool is available.")
        return ToolCall(command, tool)
    if not text:
        return TextReply("Hello! I'm Parley's offline simulated agent. How can I help?")
    return TextReply(
        f"You asked: {text.strip()}. I'm Parley's offline simulated agent, so I can only run "
        "shell commands: ask me to run `ls -la`, for example."
    )


# --- writing the response ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResponseIds:
    """The ids one response uses (the caller makes them unique and deterministic)."""

    response_id: str
    item_id: str
    call_id: str


def text_chunks(text: str, words_per_chunk: int = 3) -> list[str]:
    """Deltas of a few words each, concatenating exactly to `text`."""
    words = re.findall(r"\s*\S+\s*", text) or [text]
    return ["".join(words[i : i + words_per_chunk]) for i in range(0, len(words), words_per_chunk)]


def usage(request: Mapping[str, Any], output_text: str) -> dict[str, Any]:
    """Deterministic token counts (~4 bytes of JSON or text per token)."""
    input_tokens = (len(orjson.dumps(request.get("input", ""))) + 3) // 4
    output_tokens = (len(output_text) + 3) // 4
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }


def output_item(reply: Reply, ids: ResponseIds) -> dict[str, Any]:
    """The finished output item for `reply`."""
    if isinstance(reply, ToolCall):
        return {
            "id": ids.item_id,
            "type": "function_call",
            "status": "completed",
            "name": reply.tool,
            "call_id": ids.call_id,
            "arguments": reply.arguments(),
        }
    return {
        "id": ids.item_id,
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": reply.text, "annotations": []}],
    }


def response_object(
    request: Mapping[str, Any],
    ids: ResponseIds,
    *,
    status: str,
    output: Sequence[dict[str, Any]],
    created_at: int,
    usage_: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `response` object of `response.created` / `response.completed` (and non-streaming)."""
    return {
        "id": ids.response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "model": request.get("model") or "sim-agent",
        "output": list(output),
        "parallel_tool_calls": bool(request.get("parallel_tool_calls", False)),
        "tool_choice": request.get("tool_choice", "auto"),
        "usage": usage_,
    }


def reply_events(
    request: Mapping[str, Any], reply: Reply, ids: ResponseIds, *, created_at: int = 0
) -> list[Event]:
    """The Responses streaming events for `reply`, with sequence numbers."""
    final = output_item(reply, ids)
    events: list[Event] = [
        {
            "type": "response.created",
            "response": response_object(
                request, ids, status="in_progress", output=[], created_at=created_at
            ),
        },
        {
            "type": "response.in_progress",
            "response": response_object(
                request, ids, status="in_progress", output=[], created_at=created_at
            ),
        },
    ]
    if isinstance(reply, ToolCall):
        added = {**final, "status": "in_progress", "arguments": ""}
        events += [
            {"type": "response.output_item.added", "output_index": 0, "item": added},
            {
                "type": "response.function_call_arguments.delta",
                "item_id": ids.item_id,
                "output_index": 0,
                "delta": final["arguments"],
            },
            {
                "type": "response.function_call_arguments.done",
                "item_id": ids.item_id,
                "output_index": 0,
                "arguments": final["arguments"],
            },
        ]
        spoken = final["arguments"]
    else:
        added = {**final, "status": "in_progress", "content": []}
        where = {"item_id": ids.item_id, "output_index": 0, "content_index": 0}
        events += [
            {"type": "response.output_item.added", "output_index": 0, "item": added},
            {
                "type": "response.content_part.added",
                **where,
                "part": {"type": "output_text", "text": "", "annotations": []},
            },
        ]
        events += [
            {"type": "response.output_text.delta", **where, "delta": chunk}
            for chunk in text_chunks(reply.text)
        ]
        events += [
            {"type": "response.output_text.done", **where, "text": reply.text},
            {
                "type": "response.content_part.done",
                **where,
                "part": {"type": "output_text", "text": reply.text, "annotations": []},
            },
        ]
        spoken = reply.text
    events += [
        {"type": "response.output_item.done", "output_index": 0, "item": final},
        {
            "type": "response.completed",
            "response": response_object(
                request,
                ids,
                status="completed",
                output=[final],
                created_at=created_at,
                usage_=usage(request, spoken),
            ),
        },
    ]
    return [{**event, "sequence_number": n} for n, event in enumerate(events)]


class ResponsesAgent:
    """The scripted agent with id bookkeeping: one instance per simulator."""

    def __init__(self) -> None:
        self._count = 0

    def _ids(self, reply: Reply) -> ResponseIds:
        self._count += 1
        n = self._count
        item = f"fc_sim{n}" if isinstance(reply, ToolCall) else f"msg_sim{n}"
        return ResponseIds(f"resp_sim{n}", item, f"call_sim{n}")

    def stream(self, request: Mapping[str, Any], *, created_at: int = 0) -> list[Event]:
        """Streaming events answering `request`."""
        reply = decide(request)
        return reply_events(request, reply, self._ids(reply), created_at=created_at)

    def complete(self, request: Mapping[str, Any], *, created_at: int = 0) -> dict[str, Any]:
        """The whole response object (a request with `"stream": false`)."""
        reply = decide(request)
        ids = self._ids(reply)
        final = output_item(reply, ids)
        spoken = reply.text if isinstance(reply, TextReply) else reply.arguments()
        return response_object(
            request,
            ids,
            status="completed",
            output=[final],
            created_at=created_at,
            usage_=usage(request, spoken),
        )
