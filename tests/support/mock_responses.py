"""A scripted stand-in for the OpenAI HTTP API (Responses, realtime call creation, models).

`MockResponsesServer` is a real aiohttp server on 127.0.0.1 (ephemeral port) running in the test's
event loop. It is the twin of upstream's `create_mock_responses_server_sequence_unchecked(bodies)`
plus the wiremock mounts the realtime tests add to it:

* every `POST …/responses` gets the next scripted response, in order; once the script is used up
  it answers HTTP 500 with a body saying so (upstream's responder panics, which fails the request);
* an optional gate holds the first `/responses` answer until the test releases it (the twin of the
  spec's `GatedSseResponse`; later requests are answered at once);
* `mount_realtime_calls()` answers `POST /v1/realtime/calls` (WebRTC call creation);
* `GET …/models` answers a small model list.

Every request is recorded (method, path, query, headers, raw body, parsed JSON). What the server
does not do: validate request bodies, or speak WebSocket (that is `mock_realtime.py`).
"""

# Waiting helpers take their own deadline so a timeout can say what was seen instead.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import orjson
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from .sse import (
    create_final_assistant_message_sse_response,
    create_shell_command_sse_response,
    ev_assistant_message,
    ev_completed,
    ev_completed_with_tokens,
    ev_failed,
    ev_function_call,
    ev_message_item_added,
    ev_output_text_delta,
    ev_response_created,
    split_sse_events,
    sse,
)

__all__ = [
    "MockResponsesServer",
    "RecordedRequest",
    "ScriptedResponse",
    "create_final_assistant_message_sse_response",
    "create_mock_responses_server_sequence_unchecked",
    "create_shell_command_sse_response",
    "ev_assistant_message",
    "ev_completed",
    "ev_completed_with_tokens",
    "ev_failed",
    "ev_function_call",
    "ev_message_item_added",
    "ev_output_text_delta",
    "ev_response_created",
    "sse",
]

SSE_CONTENT_TYPE = "text/event-stream"
DEFAULT_MODELS_PAYLOAD: dict[str, Any] = {
    "object": "list",
    "data": [{"id": "mock-model", "object": "model", "created": 0, "owned_by": "parley-tests"}],
}
# How often a held-open stream checks whether the client went away.
_DISCONNECT_POLL_S = 0.02


@dataclass(frozen=True)
class ScriptedResponse:
    """One scripted answer to a `/responses` request.

    `body` is sent with `status` and `content_type` (plus `headers`). For streaming variations:
    `event_delay` sleeps between SSE events (a trickling stream); `cut_after` sends only that many
    events and then drops the TCP connection mid-body (no chunked terminator, no
    `response.completed`); `hold` keeps the stream open and silent after the events until the event
    is set, the client disconnects or the server stops; `gate` delays the whole answer (nothing, not
    even the status line, is sent) until set.
    """

    body: str
    status: int = 200
    content_type: str = SSE_CONTENT_TYPE
    headers: Mapping[str, str] = field(default_factory=dict)
    event_delay: float = 0.0
    cut_after: int | None = None
    hold: asyncio.Event | None = None
    gate: asyncio.Event | None = None

    @classmethod
    def stream(
        cls,
        body: str,
        *,
        event_delay: float = 0.0,
        cut_after: int | None = None,
        hold: asyncio.Event | None = None,
        gate: asyncio.Event | None = None,
    ) -> ScriptedResponse:
        """An SSE answer, optionally trickled, cut, held open or gated."""
        return cls(body, event_delay=event_delay, cut_after=cut_after, hold=hold, gate=gate)

    @classmethod
    def error(
        cls,
        status: int,
        body: str = "",
        *,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> ScriptedResponse:
        """A plain HTTP error, e.g. `error(429, '{...}', headers={"Retry-After": "1"})`."""
        return cls(body, status=status, content_type=content_type, headers=dict(headers or {}))

    @property
    def streams(self) -> bool:
        return self.event_delay > 0 or self.cut_after is not None or self.hold is not None


@dataclass
class RecordedRequest:
    """One HTTP request the mock received, as it arrived."""

    method: str
    path: str
    query: str | None
    headers: CIMultiDictProxy[str]
    body: bytes
    json: Any
    # Set once the mock finished answering (fully sent, cut, or the client went away).
    finished: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    # True if the client closed the connection before the answer was complete.
    client_disconnected: bool = False
    # `time.perf_counter()` when the request (body included) had arrived, and when the answer
    # was done (for a streamed answer: after its last byte was written); for benchmarks.
    received_at: float = field(default_factory=time.perf_counter, repr=False)
    answered_at: float | None = field(default=None, repr=False)

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        return self.headers.get(name)

    def body_json(self) -> Any:
        """The body parsed as JSON; raises if it was not JSON."""
        return orjson.loads(self.body)

    def body_text(self) -> str:
        return self.body.decode("utf-8")


@dataclass(frozen=True)
class _CallsMount:
    status: int
    headers: Mapping[str, str]
    body: str


class MockResponsesServer:
    """The mock OpenAI HTTP API; see the module docstring.

    `bodies` are served in order; each is an SSE body string or a `ScriptedResponse`. `gate`, if
    given, is awaited before answering the first `/responses` request.
    """

    def __init__(
        self,
        bodies: Sequence[str | ScriptedResponse] = (),
        *,
        gate: asyncio.Event | None = None,
        models_payload: Any = None,
    ) -> None:
        self._script: list[ScriptedResponse] = [
            b if isinstance(b, ScriptedResponse) else ScriptedResponse(b) for b in bodies
        ]
        self._gate = gate
        self._models_payload = DEFAULT_MODELS_PAYLOAD if models_payload is None else models_payload
        self._requests: list[RecordedRequest] = []
        self._responses_served = 0
        self._calls_mount: _CallsMount | None = None
        self._matching: list[tuple[Callable[[RecordedRequest], bool], ScriptedResponse]] = []
        self._call_requests: list[RecordedRequest] = []
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self._port: int | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> MockResponsesServer:
        app = web.Application(client_max_size=1 << 30)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(app, shutdown_timeout=0.5, handle_signals=False, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self._closing.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> MockResponsesServer:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def uri(self) -> str:
        """`http://127.0.0.1:PORT` (no trailing slash, no `/v1`)."""
        if self._port is None:
            raise RuntimeError("MockResponsesServer is not started")
        return f"http://127.0.0.1:{self._port}"

    # -- scripting -------------------------------------------------------------------------------

    def push(self, *bodies: str | ScriptedResponse) -> None:
        """Append more scripted `/responses` answers."""
        for body in bodies:
            self._script.append(
                body if isinstance(body, ScriptedResponse) else ScriptedResponse(body)
            )

    def mount_once_matching(
        self, matches: Callable[[RecordedRequest], bool], body: str | ScriptedResponse
    ) -> None:
        """Answer the first `/responses` request `matches` accepts with `body`, once (upstream's
        `mount_sse_once_match`). Matching mounts are tried in the order mounted, before the
        in-order script; for requests that may arrive in any order (e.g. two threads)."""
        scripted = body if isinstance(body, ScriptedResponse) else ScriptedResponse(body)
        self._matching.append((matches, scripted))

    def mount_realtime_calls(
        self,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        body: str = "v=answer\r\n",
    ) -> None:
        """Answer `POST /v1/realtime/calls` with this status, headers and body (replacing any
        earlier mount); requests are captured for `call_requests()`."""
        if headers is None:
            headers = {"Location": "/v1/realtime/calls/rtc_e2e"} if status < 400 else {}
        self._calls_mount = _CallsMount(status, dict(headers), body)

    # -- inspection ------------------------------------------------------------------------------

    def requests(self) -> list[RecordedRequest]:
        """Every request received, in arrival order."""
        return list(self._requests)

    def responses_request_records(self) -> list[RecordedRequest]:
        """The requests whose path ends in `/responses`, in arrival order."""
        return [r for r in self._requests if r.path.endswith("/responses")]

    def responses_requests(self) -> list[Any]:
        """The parsed JSON bodies of the `/responses` requests (upstream `responses_requests`)."""
        return [r.body_json() for r in self.responses_request_records()]

    def call_requests(self) -> list[RecordedRequest]:
        """The requests `mount_realtime_calls()` answered."""
        return list(self._call_requests)

    def single_call_request(self) -> RecordedRequest:
        """The one realtime call request; fails unless there was exactly one."""
        assert len(self._call_requests) == 1, (
            f"expected one realtime call request, got {len(self._call_requests)}"
        )
        return self._call_requests[0]

    async def wait_for_responses_requests(self, count: int, timeout: float = 10.0) -> None:
        """Wait until at least `count` `/responses` requests arrived."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.responses_request_records()) < count:
            if loop.time() >= deadline:
                raise AssertionError(
                    f"expected {count} /responses requests within {timeout}s, "
                    f"got {len(self.responses_request_records())}"
                )
            await asyncio.sleep(0.01)

    # -- serving ---------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            parsed: Any = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            parsed = None
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=request.query_string or None,
            headers=CIMultiDictProxy(CIMultiDict(request.headers)),
            body=body,
            json=parsed,
        )
        self._requests.append(record)
        try:
            if request.method == "POST" and request.path.endswith("/responses"):
                return await self._answer_responses(request, record)
            if (
                request.method == "POST"
                and request.path == "/v1/realtime/calls"
                and self._calls_mount is not None
            ):
                self._call_requests.append(record)
                mount = self._calls_mount
                return web.Response(status=mount.status, headers=mount.headers, text=mount.body)
            if request.method == "GET" and request.path.endswith("/models"):
                return web.json_response(self._models_payload)
            return web.Response(
                status=404,
                text=f"mock responses server: nothing mounted for {request.method} {request.path}",
            )
        finally:
            record.answered_at = time.perf_counter()
            record.finished.set()

    async def _answer_responses(
        self, request: web.Request, record: RecordedRequest
    ) -> web.StreamResponse:
        matched = next(
            (i for i, (matches, _) in enumerate(self._matching) if matches(record)), None
        )
        if matched is not None:
            scripted = self._matching.pop(matched)[1]
        else:
            index = self._responses_served
            self._responses_served += 1
            if index == 0 and self._gate is not None:
                await self._wait_or_closing(self._gate)
            if index >= len(self._script):
                return web.Response(
                    status=500,
                    text=f"mock responses server: no scripted response for /responses request "
                    f"#{index + 1} (the script has {len(self._script)})",
                )
            scripted = self._script[index]
        if scripted.gate is not None:
            await self._wait_or_closing(scripted.gate)
        headers: CIMultiDict[str] = CIMultiDict({"content-type": scripted.content_type})
        headers.update(scripted.headers)
        if not scripted.streams:
            return web.Response(
                status=scripted.status, headers=headers, body=scripted.body.encode()
            )
        return await self._stream(request, record, scripted, headers)

    async def _stream(
        self,
        request: web.Request,
        record: RecordedRequest,
        scripted: ScriptedResponse,
        headers: CIMultiDict[str],
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=scripted.status, headers=headers)
        await response.prepare(request)
        events = split_sse_events(scripted.body)
        try:
            for n, event in enumerate(events):
                if scripted.cut_after is not None and n >= scripted.cut_after:
                    break
                if n > 0 and scripted.event_delay > 0:
                    await asyncio.sleep(scripted.event_delay)
                await response.write(event.encode())
            if scripted.cut_after is not None:
                if request.transport is not None:
                    request.transport.abort()
                return response
            if scripted.hold is not None:
                await self._hold_open(request, scripted.hold)
                if _client_gone(request):
                    record.client_disconnected = True
                    return response
            await response.write_eof()
        except ConnectionResetError:
            record.client_disconnected = True
        return response

    async def _hold_open(self, request: web.Request, hold: asyncio.Event) -> None:
        while not hold.is_set() and not self._closing.is_set() and not _client_gone(request):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hold.wait(), _DISCONNECT_POLL_S)

    async def _wait_or_closing(self, event: asyncio.Event) -> None:
        waiters = {asyncio.ensure_future(event.wait()), asyncio.ensure_future(self._closing.wait())}
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()


def _client_gone(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def create_mock_responses_server_sequence_unchecked(
    bodies: Sequence[str | ScriptedResponse], *, gate: asyncio.Event | None = None
) -> MockResponsesServer:
    """Start a `MockResponsesServer` serving `bodies` in order (the upstream helper's twin)."""
    return await MockResponsesServer(bodies, gate=gate).start()
