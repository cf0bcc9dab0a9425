"""Network legs of a realtime session: the upstream WebSocket and the WebRTC call create.

Thin wrappers around `websockets` and `httpx` that shape requests exactly as the Realtime
API expects and turn failures into client-facing messages. They hold no session state and
never put credentials into a message or a log line.
"""

from __future__ import annotations

import asyncio
import errno as errno_names
import logging
import os
import random
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final

import httpx
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, InvalidURI, WebSocketException

from parley.realtime.urls import call_id_from_location

logger = logging.getLogger(__name__)

CALL_BOUNDARY: Final = "codex-realtime-call-boundary"
CALL_CONTENT_TYPE: Final = f"multipart/form-data; boundary={CALL_BOUNDARY}"
STREAM_DISCONNECTED: Final = "stream disconnected before completion: "
HIGH_DEMAND_MESSAGE: Final = (
    "We're currently experiencing high demand, which may cause temporary errors."
)
MISSING_LOCATION_MESSAGE: Final = STREAM_DISCONNECTED + "realtime call response missing Location"
READ_RESET_MESSAGE: Final = (
    STREAM_DISCONNECTED
    + "failed to read websocket message: WebSocket protocol error: "
    + "Connection reset without closing handshake"
)
WS_OPEN_TIMEOUT: Final = 30.0
WS_CLOSE_TIMEOUT: Final = 2.0
# Realtime frames can be large (audio); the upstream is trusted not to abuse this.
WS_MAX_MESSAGE: Final = 64 * 1024 * 1024
CALL_TIMEOUT: Final = httpx.Timeout(30.0, connect=10.0)
RETRY_BASE_DELAY: Final = 0.2


class RealtimeConnectError(Exception):
    """Opening a realtime leg failed; `message` is safe to show to clients."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- WebSocket -------------------------------------------------------------------------------


def upstream_headers(
    originator: str, api_key: str | None, session_id: str
) -> list[tuple[str, str]]:
    """Handshake headers: originator, bearer auth (when there is a key), session id."""
    headers = [("originator", originator)]
    if api_key:
        headers.append(("authorization", f"Bearer {api_key}"))
    headers.append(("x-session-id", session_id))
    return headers


def _io_error(exc: OSError) -> str:
    code = exc.errno
    if code is not None and code in errno_names.errorcode:
        return f"IO error: {os.strerror(code)} (os error {code})"
    return f"IO error: {exc}"


def describe_connect_failure(exc: BaseException) -> str:
    """Why the handshake failed, phrased like the reference (no headers, no body)."""
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        return f"HTTP error: {status} {_reason(status, exc.response.reason_phrase)}"
    if isinstance(exc, InvalidURI):
        return f"URL error: {exc.uri}"
    if isinstance(exc, TimeoutError):
        return "IO error: connection timed out"
    if isinstance(exc, OSError):
        return _io_error(exc)
    if isinstance(exc, WebSocketException):
        return f"WebSocket protocol error: {exc}"
    return str(exc) or type(exc).__name__


async def connect_upstream(url: str, headers: list[tuple[str, str]]) -> ClientConnection:
    """Open the realtime WebSocket: no compression, no subprotocol, no User-Agent, no pings."""
    try:
        return await connect(
            url,
            additional_headers=headers,
            compression=None,
            user_agent_header=None,
            proxy=None,
            open_timeout=WS_OPEN_TIMEOUT,
            # The Realtime API keeps the connection alive itself; a peer that stops reading
            # must not make us time out and end the conversation.
            ping_interval=None,
            close_timeout=WS_CLOSE_TIMEOUT,
            max_size=WS_MAX_MESSAGE,
        )
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        message = describe_connect_failure(exc)
        logger.info("realtime websocket connect failed: %s", message)
        raise RealtimeConnectError(
            f"{STREAM_DISCONNECTED}failed to connect realtime websocket: {message}"
        ) from None


# --- WebRTC call create ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallAnswer:
    """What call creation returns: the answer SDP and the id used to join the sideband."""

    sdp: str
    call_id: str


def multipart_body(offer_sdp: str, session_json: bytes) -> bytes:
    """The call-create form, byte-exact: the offer verbatim, then the session JSON."""
    boundary = f"--{CALL_BOUNDARY}\r\n".encode()
    return b"".join(
        [
            boundary,
            b'Content-Disposition: form-data; name="sdp"\r\n',
            b"Content-Type: application/sdp\r\n\r\n",
            offer_sdp.encode(),
            b"\r\n",
            boundary,
            b'Content-Disposition: form-data; name="session"\r\n',
            b"Content-Type: application/json\r\n\r\n",
            session_json,
            b"\r\n",
            f"--{CALL_BOUNDARY}--\r\n".encode(),
        ]
    )


def call_headers(
    *, session_id: str, api_key: str | None, user_agent: str, originator: str
) -> dict[str, str]:
    headers = {"x-session-id": session_id}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    headers["Content-Type"] = CALL_CONTENT_TYPE
    headers["Accept"] = "*/*"
    headers["User-Agent"] = user_agent
    headers["originator"] = originator
    return headers


def _reason(status: int, fallback: str = "") -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return fallback


def call_error_message(status: int, body: bytes, url: str) -> str:
    """The client-facing message for a failed call create."""
    if status == HTTPStatus.INTERNAL_SERVER_ERROR:
        return HIGH_DEMAND_MESSAGE
    text = body.decode("utf-8", errors="replace")
    if status == HTTPStatus.BAD_REQUEST:
        return text
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return f"exceeded retry limit, last status: {status} {_reason(status)}"
    detail = text
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        error = parsed.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            detail = error["message"]
    return f"unexpected status {status} {_reason(status)}: {detail}, url: {url}"


def _retryable(status: int) -> bool:
    return status == HTTPStatus.TOO_MANY_REQUESTS or status >= 500


def _backoff(attempt: int) -> float:
    delay: float = RETRY_BASE_DELAY * (2**attempt) * random.uniform(0.9, 1.1)
    return delay


async def create_call(
    url: str,
    *,
    offer_sdp: str,
    session_json: bytes,
    headers: dict[str, str],
    max_retries: int,
    client: httpx.AsyncClient | None = None,
) -> CallAnswer:
    """POST the offer and session; return the answer SDP and call id, or raise with a message."""
    body = multipart_body(offer_sdp, session_json)
    owned = client is None
    http = client if client is not None else _call_client()
    try:
        attempt = 0
        while True:
            try:
                response = await http.post(url, content=body, headers=headers)
            except httpx.InvalidURL:
                raise RealtimeConnectError(
                    f"{STREAM_DISCONNECTED}builder error for url ({url})"
                ) from None
            except httpx.HTTPError as exc:
                if attempt < max_retries:
                    await asyncio.sleep(_backoff(attempt))
                    attempt += 1
                    continue
                logger.info("realtime call create failed: %s", type(exc).__name__)
                raise RealtimeConnectError(
                    f"{STREAM_DISCONNECTED}error sending request for url ({url})"
                ) from None
            if response.is_success:
                break
            if _retryable(response.status_code) and attempt < max_retries:
                await asyncio.sleep(_backoff(attempt))
                attempt += 1
                continue
            raise RealtimeConnectError(
                call_error_message(response.status_code, response.content, url)
            )
    finally:
        if owned:
            await http.aclose()
    call_id = call_id_from_location(response.headers.get("location"))
    if call_id is None:
        raise RealtimeConnectError(MISSING_LOCATION_MESSAGE)
    return CallAnswer(sdp=response.content.decode("utf-8", errors="replace"), call_id=call_id)


def _call_client() -> httpx.AsyncClient:
    http = httpx.AsyncClient(timeout=CALL_TIMEOUT)
    del http.headers["accept-encoding"]  # as the reference: no compressed answers asked for
    return http
