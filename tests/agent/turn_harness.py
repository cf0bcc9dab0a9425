"""Test harness for the turn engine: a scripted Responses SSE server on 127.0.0.1, a fake TurnIO.

`ResponsesScript` is a real aiohttp server: each `POST /v1/responses` gets the next scripted
`Reply` (an SSE body, optionally trickled, held open, ended early or cut at the TCP level; or an
HTTP error). Every request is recorded with its headers and JSON body.

`FakeTurnIO` is the thread layer's seam as a plain recording object: notifications are checked
against the 0.120 schema as they are emitted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import orjson
from aiohttp import web

SCHEMA_DIRS = (
    Path(__file__).resolve().parents[2] / "src" / "parley" / "protocol" / "schema",
    Path("/work/shared/spec/app-server-schema-0.120.0"),
)


def _schema(name: str) -> dict[str, Any]:
    for directory in SCHEMA_DIRS:
        path = directory / name
        if path.is_file():
            loaded: dict[str, Any] = orjson.loads(path.read_bytes())
            return loaded
    raise FileNotFoundError(f"schema {name} not found in {SCHEMA_DIRS}")


_validators: dict[str, jsonschema.Draft7Validator] = {}


def validate(schema_name: str, value: Any) -> None:
    validator = _validators.get(schema_name)
    if validator is None:
        validator = jsonschema.Draft7Validator(_schema(schema_name))
        _validators[schema_name] = validator
    validator.validate(value)


def validate_notification(method: str, params: dict[str, Any]) -> None:
    validate("ServerNotification.json", {"method": method, "params": params})


# ---- SSE event builders ------------------------------------------------------------------


def ev_created(response_id: str = "resp-1") -> dict[str, Any]:
    return {"type": "response.created", "response": {"id": response_id}}


def ev_completed(response_id: str = "resp-1", input_tokens: int = 10) -> dict[str, Any]:
    return {
        "type": "response.completed",
        "response": {
            "id": response_id,
            "usage": {
                "input_tokens": input_tokens,
                "input_tokens_details": {"cached_tokens": 2},
                "output_tokens": 5,
                "output_tokens_details": {"reasoning_tokens": 1},
                "total_tokens": input_tokens + 5,
            },
        },
    }


def ev_message_added(item_id: str) -> dict[str, Any]:
    return {
        "type": "response.output_item.added",
        "output_index": 0,
        "item": {"type": "message", "role": "assistant", "id": item_id, "content": []},
    }


def ev_text_delta(item_id: str, delta: str) -> dict[str, Any]:
    return {"type": "response.output_text.delta", "item_id": item_id, "delta": delta}


def ev_message(item_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "response.output_item.done",
        "item": {
            "type": "message",
            "role": "assistant",
            "id": item_id,
            "content": [{"type": "output_text", "text": text}],
        },
    }


def ev_function_call(call_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "response.output_item.done",
        "item": {
            "type": "function_call",
            "call_id": call_id,
            "name": name,
            "arguments": orjson.dumps(arguments).decode(),
        },
    }


def ev_failed(message: str, code: str = "server_error") -> dict[str, Any]:
    return {
        "type": "response.failed",
        "response": {"id": "resp-1", "error": {"code": code, "message": message}},
    }


def answer(text: str, item_id: str = "msg-1") -> list[dict[str, Any]]:
    """A whole response whose model output is one assistant message."""
    return [ev_created(), ev_message(item_id, text), ev_completed()]


def shell_call(command: str, call_id: str = "call-1", **extra: Any) -> list[dict[str, Any]]:
    """A whole response whose model output is one `shell_command` call."""
    arguments = {"command": command, "workdir": None, "timeout_ms": 5000, **extra}
    return [ev_created(), ev_function_call(call_id, "shell_command", arguments), ev_completed()]


def sse_body(events: list[dict[str, Any]]) -> bytes:
    return b"".join(
        f"event: {e['type']}\ndata: {orjson.dumps(e).decode()}\n\n".encode() for e in events
    )


# ---- the scripted server -------------------------------------------------------------------


@dataclass
class Reply:
    """One scripted answer to `POST /v1/responses`."""

    events: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    body: bytes | None = None  # raw body for error answers
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # between events
    hold: asyncio.Event | None = None  # after the events, stay open until set
    then: list[dict[str, Any]] = field(default_factory=list)  # events sent after the hold
    abort: bool = False  # after the events, drop the TCP connection

    @classmethod
    def sse(cls, events: list[dict[str, Any]], **kwargs: Any) -> Reply:
        return cls(events=events, **kwargs)

    @classmethod
    def error(cls, status: int, body: str = "", headers: dict[str, str] | None = None) -> Reply:
        return cls(status=status, body=body.encode(), headers=dict(headers or {}))


@dataclass
class Seen:
    headers: dict[str, str]
    body: dict[str, Any]
    at: float
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)

    def text(self) -> str:
        return orjson.dumps(self.body).decode()


class ResponsesScript:
    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.seen: list[Seen] = []
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._arrived = asyncio.Condition()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def push(self, *replies: Reply | list[dict[str, Any]]) -> None:
        for reply in replies:
            self.replies.append(reply if isinstance(reply, Reply) else Reply.sse(reply))

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/responses", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for_requests(self, count: int, within: float = 10.0) -> None:
        async def arrived() -> None:
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.seen) >= count)

        await asyncio.wait_for(arrived(), within)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        loop = asyncio.get_running_loop()
        seen = Seen(dict(request.headers), await request.json(), loop.time())
        index = len(self.seen)
        async with self._arrived:
            self.seen.append(seen)
            self._arrived.notify_all()
        if index >= len(self.replies):
            return web.Response(status=500, text="script exhausted")
        reply = self.replies[index]
        if reply.body is not None:
            return web.Response(status=reply.status, body=reply.body, headers=reply.headers)
        response = web.StreamResponse(
            status=reply.status, headers={"Content-Type": "text/event-stream", **reply.headers}
        )
        await response.prepare(request)
        try:
            for n, event in enumerate(reply.events):
                if n and reply.delay:
                    await asyncio.sleep(reply.delay)
                await response.write(sse_body([event]))
            if reply.abort and request.transport is not None:
                request.transport.abort()
                return response
            if reply.hold is not None:
                while not reply.hold.is_set():
                    if request.transport is None or request.transport.is_closing():
                        seen.disconnected.set()
                        return response
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(reply.hold.wait(), 0.02)
            for event in reply.then:
                await response.write(sse_body([event]))
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            seen.disconnected.set()
            raise
        return response


# ---- the fake thread layer -----------------------------------------------------------------


@dataclass
class FakeTurnIO:
    thread_id: str = "019a0000-0000-7000-8000-000000000001"
    turn_id: str = "019a0000-0000-7000-8000-0000000000aa"
    prior: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    recorded: list[dict[str, Any]] = field(default_factory=list)
    steering: list[list[dict[str, Any]]] = field(default_factory=list)
    decisions: list[Any] = field(default_factory=list)  # answers to approval requests, in order
    approval_requests: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    on_emit: Callable[[str, dict[str, Any]], None] | None = None
    agent_state: Any = None  # the optional per-thread AgentSessionState

    def emit(self, method: str, params: dict[str, Any]) -> None:
        validate_notification(method, params)
        if not method.startswith("account/"):  # account notifications name no thread
            assert params["threadId"] == self.thread_id and params["turnId"] == self.turn_id
        self.notifications.append((method, params))
        if self.on_emit is not None:
            self.on_emit(method, params)

    async def request_client(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        validate("CommandExecutionRequestApprovalParams.json", params)
        self.approval_requests.append((method, params))
        if not self.decisions:
            raise ConnectionError("no client")
        decision = self.decisions.pop(0)
        response = {"decision": decision}
        validate("CommandExecutionRequestApprovalResponse.json", response)
        return response

    def history(self) -> list[dict[str, Any]]:
        return list(self.prior)

    def record(self, item: dict[str, Any]) -> None:
        self.recorded.append(item)

    def take_steering(self) -> list[list[dict[str, Any]]]:
        taken, self.steering = self.steering, []
        return taken

    # -- inspection --
    def methods(self) -> list[str]:
        return [m for m, _ in self.notifications]

    def items(self, method: str, kind: str) -> list[dict[str, Any]]:
        return [
            p["item"] for m, p in self.notifications if m == method and p["item"]["type"] == kind
        ]

    def params(self, method: str) -> list[dict[str, Any]]:
        return [p for m, p in self.notifications if m == method]


def user_text(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text, "text_elements": []}]


def live_processes(marker: str) -> list[int]:
    """Pids of non-zombie processes whose command line contains `marker`."""
    found: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        state = stat[stat.rfind(")") + 2]
        if marker.encode() in cmdline and state not in "ZX" and int(entry) != os.getpid():
            found.append(int(entry))
    return found


async def wait_until(predicate: Callable[[], bool], within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)
