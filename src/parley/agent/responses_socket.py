"""The Responses API over a WebSocket, for a provider with `supports_websockets = true`.

The reference's second transport, in the same shape as `ResponsesClient` (which it extends and
falls back to): one socket per turn to ``{base_url}/responses`` (``ws``/``wss``, the provider's
query parameters, headers and credential on the handshake, plus the beta header naming the
protocol version). When the socket opens, a warm-up ``response.create`` with
``"generate": false`` carries the first request's body and is awaited to
``response.completed``; each request is then a ``response.create`` frame that names the previous
response (``previous_response_id``) and carries only the input added since (the previous input
plus what that response returned must be a prefix of the new input, and every other field must
be unchanged; otherwise the full body is sent, unchained). The headers that describe the turn
(`x-codex-turn-metadata`, `x-codex-window-id`) travel in the frame's ``client_metadata``.

Server frames are the same JSON events as the SSE stream and end at ``response.completed``; an
``error`` event or a failed/incomplete response is reported as `ResponsesClient` reports it. A
socket that closes or idles mid-response is `StreamInterrupted` (the turn's stream retries apply;
the next attempt reconnects and warms up again). A socket that cannot be opened switches this
turn to HTTP (SSE), as the reference falls back to HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from parley.agent.responses import (
    STREAM_CLOSED_MESSAGE,
    STREAM_IDLE_MESSAGE,
    ResponsesClient,
    StreamInterrupted,
    _is_loopback,
    tls_context,
)

log = logging.getLogger(__name__)

BETA_HEADER_VALUE = "responses_websockets=2026-02-06"
# Headers that describe the turn: in the frame's `client_metadata` rather than per request.
CLIENT_METADATA_HEADERS = ("x-codex-window-id", "x-codex-turn-metadata")
OPEN_TIMEOUT_S = 30.0
MAX_FRAME = 64 * 1024 * 1024


def socket_url(responses_url: str, query: tuple[tuple[str, str], ...]) -> str:
    """``http(s)://…/responses`` as ``ws(s)://…/responses`` with the provider's query."""
    if responses_url.startswith("https://"):
        url = "wss://" + responses_url[len("https://") :]
    elif responses_url.startswith("http://"):
        url = "ws://" + responses_url[len("http://") :]
    else:
        url = responses_url
    return f"{url}?{urlencode(query)}" if query else url


@dataclass
class Chain:
    """What the socket already holds: the last request and what its response added."""

    request: dict[str, Any] | None = None
    response_id: str | None = None
    added: list[dict[str, Any]] = field(default_factory=list)

    def frame(self, body: dict[str, Any]) -> dict[str, Any]:
        """The ``response.create`` frame for `body` (chained when it extends the last one)."""
        frame = {"type": "response.create", **body}
        previous = self.request
        if previous is None or not self.response_id:
            return frame
        if {k: v for k, v in previous.items() if k != "input"} != {
            k: v for k, v in body.items() if k != "input"
        }:
            return frame
        baseline = [*previous.get("input", []), *self.added]
        current = body.get("input", [])
        if current[: len(baseline)] != baseline:
            return frame
        return {
            **frame,
            "previous_response_id": self.response_id,
            "input": current[len(baseline) :],
        }

    def sent(self, body: dict[str, Any]) -> None:
        self.request, self.response_id, self.added = body, None, []

    def saw(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "response.output_item.done" and isinstance(event.get("item"), dict):
            self.added.append(event["item"])
        elif kind in ("response.created", "response.completed"):
            response = event.get("response")
            if isinstance(response, dict) and isinstance(response.get("id"), str):
                self.response_id = response["id"]


class ResponsesSocketClient(ResponsesClient):
    """One turn's Responses WebSocket (HTTP when it cannot be opened)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._socket: ClientConnection | None = None
        self._use_http = False
        self._chain = Chain()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._close()
        await super().__aexit__(exc_type, exc, tb)

    async def _close(self) -> None:
        socket, self._socket = self._socket, None
        self._chain = Chain()
        if socket is not None:
            with contextlib.suppress(Exception):
                await socket.close()

    def _handshake_headers(self) -> list[tuple[str, str]]:
        headers = {
            **dict(self._provider.headers),
            **self._headers,
            "OpenAI-Beta": BETA_HEADER_VALUE,
        }
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return list(headers.items())

    def _client_metadata(self) -> dict[str, str]:
        lowered = {name.lower(): value for name, value in self._headers.items()}
        return {name: lowered[name] for name in CLIENT_METADATA_HEADERS if name in lowered}

    async def _open(self) -> ClientConnection | None:
        url = socket_url(self._provider.responses_url, self._provider.query_params)
        try:
            socket = await connect(
                url,
                additional_headers=self._handshake_headers(),
                user_agent_header=None,
                ssl=tls_context() if url.startswith("wss://") else None,
                proxy=None if _is_loopback(self._provider.responses_url) else True,
                open_timeout=OPEN_TIMEOUT_S,
                ping_interval=None,
                max_size=MAX_FRAME,
            )
        except (OSError, TimeoutError, WebSocketException) as exc:
            log.warning(
                "responses websocket to %s failed (%s); using HTTP for this turn",
                self._provider.name,
                type(exc).__name__,
            )
            return None
        model = socket.response.headers.get("openai-model") if socket.response else None
        self.served_model = model or self.served_model
        return socket

    async def stream(self, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        if not self._use_http and self._socket is None:
            self._socket = await self._open()
            self._use_http = self._socket is None
            if self._socket is not None:
                # The warm-up: the server prepares this body without generating anything.
                warm_up = {**body, "generate": False}
                async for _event in self._exchange(warm_up):
                    pass
                self._chain.request = body
        if self._use_http:
            async with contextlib.aclosing(super().stream(body)) as events:
                async for event in events:
                    yield event
            return
        async for event in self._exchange(body):
            yield event

    async def _exchange(self, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        socket = self._socket
        if socket is None:
            raise StreamInterrupted(STREAM_CLOSED_MESSAGE)
        frame = self._chain.frame({k: v for k, v in body.items() if k != "generate"})
        if "generate" in body:
            frame["generate"] = body["generate"]
        frame["client_metadata"] = self._client_metadata()
        self._chain.sent({k: v for k, v in body.items() if k != "generate"})
        try:
            await socket.send(orjson.dumps(frame).decode())
            while True:
                event = await self._next_event(socket)
                kind = event.get("type")
                if kind in ("response.failed", "error", "response.incomplete"):
                    self._chain = Chain()  # nothing to build on
                    raise self._failure(event)
                self._chain.saw(event)
                yield event
                if kind == "response.completed":
                    return
        except ConnectionClosed:
            log.info("responses websocket closed before response.completed")
            await self._close()
            raise StreamInterrupted(STREAM_CLOSED_MESSAGE) from None

    async def _next_event(self, socket: ClientConnection) -> dict[str, Any]:
        idle_s = self._provider.stream_idle_timeout_s
        while True:
            try:
                async with asyncio.timeout(idle_s):
                    message = await socket.recv()
            except TimeoutError:
                log.info("responses websocket idle for %.1f s", idle_s)
                await self._close()
                raise StreamInterrupted(STREAM_IDLE_MESSAGE) from None
            try:
                event = orjson.loads(message)
            except orjson.JSONDecodeError:
                continue
            if isinstance(event, dict):
                return event
