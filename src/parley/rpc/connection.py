"""Sans-IO JSON-RPC connection core: lines in, typed events out; messages in, lines out.

It owns what is per-connection and protocol-level: parsing and framing, id bookkeeping for
server→client requests, the initialize handshake state, the experimentalApi gate and the
notification opt-out list. It does no I/O and knows nothing about methods' meaning; the
stdio and WebSocket transports are thin loops that feed it bytes and write what it returns.

Wire rules (as the reference release): newline-delimited JSON; `"jsonrpc"` accepted on input
and never written; request ids are echoed with their JSON type (int or string); a line that is
not a JSON-RPC message is dropped without a reply.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from parley.rpc.errors import ClientError, RpcError

RequestId = int | str


@dataclass(frozen=True)
class Request:
    """A client request; `params` is None when the key was absent."""

    id: RequestId
    method: str
    params: Any


@dataclass(frozen=True)
class Notification:
    method: str
    params: Any


@dataclass(frozen=True)
class Response:
    """A client's answer to a server→client request; `method` is the request it answers."""

    id: RequestId
    method: str | None
    result: Any


@dataclass(frozen=True)
class ErrorResponse:
    id: RequestId | None
    method: str | None
    error: Any


@dataclass(frozen=True)
class Malformed:
    """A line that is not a JSON-RPC message; logged and dropped, never answered."""

    reason: str


Event = Request | Notification | Response | ErrorResponse | Malformed


class HandshakeState(enum.Enum):
    NEW = "new"
    INITIALIZED = "initialized"


def _is_valid_id(value: object) -> bool:
    # bool is an int subclass in Python but not a valid JSON-RPC id.
    return (isinstance(value, int) and not isinstance(value, bool)) or isinstance(value, str)


# Notifications a slow client may lose (see `rpc/outgoing.py`): realtime output audio, which is
# worthless once late. Everything else is delivered or the client is disconnected.
DROPPABLE_NOTIFICATIONS = frozenset({"thread/realtime/outputAudio/delta"})


class DroppableLine(bytes):
    """A framed notification the outgoing queue may drop; knows its thread for the notice."""

    thread_id: str | None = None


_ID_SCAN_BYTES = 4096
# An id among the first keys (after "jsonrpc" and/or "method", which clients put first).
_LEADING_ID = re.compile(
    rb'^\s*\{(?:\s*"(?:jsonrpc|method)"\s*:\s*"[^"\\]{0,200}"\s*,){0,2}'
    rb'\s*"id"\s*:\s*(-?\d{1,18}|"(?:[^"\\]|\\.){0,200}")\s*[,}]'
)


def _leading_id(prefix: bytes) -> RequestId | None:
    """The request id when it is among the first keys of the object, else None."""
    match = _LEADING_ID.match(prefix[:_ID_SCAN_BYTES])
    if match is None:
        return None
    try:
        value = orjson.loads(match.group(1))
    except orjson.JSONDecodeError:
        return None
    return value if _is_valid_id(value) else None


def encode(message: dict[str, Any]) -> bytes:
    """Serialise one message as a compact JSON line."""
    return orjson.dumps(message) + b"\n"


@dataclass
class ClientInfo:
    name: str = "unknown"
    title: str | None = None
    version: str = ""


@dataclass
class RpcConnection:
    """State of one client connection (stdio or one WebSocket)."""

    state: HandshakeState = HandshakeState.NEW
    client: ClientInfo = field(default_factory=ClientInfo)
    experimental_api: bool = False
    opt_out: frozenset[str] = frozenset()
    _next_server_request_id: int = 0
    _pending: dict[RequestId, str] = field(default_factory=dict)

    # ---- input -------------------------------------------------------------------------
    def receive_line(self, line: bytes) -> Event:
        """Parse one line into an event. Never raises."""
        stripped = line.strip()
        if not stripped:
            return Malformed("blank line")
        try:
            message = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            return Malformed(f"not JSON: {exc}")
        if not isinstance(message, dict):
            return Malformed("not a JSON object (batches are not supported)")
        method = message.get("method")
        has_id = "id" in message
        if isinstance(method, str):
            if has_id:
                if not _is_valid_id(message["id"]):
                    return Malformed("request id must be an integer or a string")
                return Request(message["id"], method, message.get("params"))
            return Notification(method, message.get("params"))
        if has_id and ("result" in message or "error" in message):
            rid = message["id"]
            if not _is_valid_id(rid) and not ("error" in message and rid is None):
                return Malformed("response id must be an integer or a string")
            original = self._pending.pop(rid, None) if _is_valid_id(rid) else None
            if "result" in message:
                return Response(rid, original, message["result"])
            return ErrorResponse(rid, original, message["error"])
        return Malformed("neither a request, a notification nor a response")

    def oversized_line(self, prefix: bytes, limit: int) -> bytes:
        """The -32600 answer to a line longer than `limit`, whose rest was discarded unread.

        The id is taken from the line's first bytes when it is there (`{"id":7,"method":…`);
        otherwise the error carries `"id": null`, as JSON-RPC says for an unreadable request."""
        request_id = _leading_id(prefix)
        error = ClientError(
            f"Invalid request: message exceeds the {limit // (1024 * 1024)} MiB line limit "
            "and was discarded"
        )
        return encode({"error": error.to_wire(), "id": request_id})

    def is_pending(self, request_id: RequestId) -> bool:
        return request_id in self._pending

    # ---- gates -------------------------------------------------------------------------
    def accept_initialize(
        self, client: ClientInfo, experimental_api: bool, opt_out: Iterable[str]
    ) -> None:
        if self.state is HandshakeState.INITIALIZED:
            raise ClientError("Already initialized")
        self.client = client
        self.experimental_api = experimental_api
        self.opt_out = frozenset(opt_out)
        self.state = HandshakeState.INITIALIZED

    def require_initialized(self) -> None:
        if self.state is not HandshakeState.INITIALIZED:
            raise ClientError("Not initialized")

    def require_experimental(self, method: str) -> None:
        if not self.experimental_api:
            raise ClientError(f"{method} requires experimentalApi capability")

    # ---- output ------------------------------------------------------------------------
    def response(self, request_id: RequestId, result: Any) -> bytes:
        return encode({"id": request_id, "result": result})

    def error(self, request_id: RequestId, error: RpcError) -> bytes:
        return encode({"error": error.to_wire(), "id": request_id})

    def notification(self, method: str, params: Any) -> bytes | None:
        """The line for a notification, or None when the client opted out of it."""
        if method in self.opt_out:
            return None
        if params is None:
            return encode({"method": method})
        line = encode({"method": method, "params": params})
        if method in DROPPABLE_NOTIFICATIONS:
            droppable = DroppableLine(line)
            thread_id = params.get("threadId") if isinstance(params, dict) else None
            droppable.thread_id = thread_id if isinstance(thread_id, str) else None
            return droppable
        return line

    def server_request(self, method: str, params: Any) -> tuple[RequestId, bytes]:
        """Allocate an id for a server→client request and frame it."""
        request_id = self._next_server_request_id
        self._next_server_request_id += 1
        self._pending[request_id] = method
        return request_id, encode({"id": request_id, "method": method, "params": params})

    def forget(self, request_id: RequestId) -> None:
        self._pending.pop(request_id, None)
