"""Streaming client for the Responses API: one POST, its SSE events, and request retries.

`ResponsesClient.stream(body)` posts to ``{base_url}/responses`` and yields each SSE event as a
dict until ``response.completed``. Connect errors, 429 and 5xx answers are retried up to
``request_max_retries`` times (honouring ``Retry-After``, otherwise exponential backoff with
jitter). What happens after the stream opened is reported, not retried, here:

* the stream ends (or breaks) before ``response.completed``, or the server sends
  ``response.failed`` / ``error`` with a transient cause → `StreamInterrupted` (the turn loop
  retries the whole request up to ``stream_max_retries`` times);
* anything that retrying cannot fix → `UpstreamError` (the turn fails with its wire error).

Error messages name the condition and the HTTP status, never the API key (any echo of it in an
upstream body is masked).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import importlib
import logging
import random
import ssl
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from http import HTTPStatus
from types import TracebackType
from typing import Any

import certifi
import httpx
import orjson
from httpx_sse import EventSource, SSEError

from parley.agent.settings import ProviderSettings

log = logging.getLogger(__name__)

HIGH_DEMAND_MESSAGE = "We're currently experiencing high demand, which may cause temporary errors."
STREAM_CLOSED_MESSAGE = "stream closed before response.completed"
CONTEXT_WINDOW_MESSAGE = (
    "The model's context window is full. Start a new thread or clear earlier history before "
    "retrying."
)
QUOTA_MESSAGE = "Quota exceeded. Check your plan and billing details."
# A `Retry-After` asking for longer than this is waited for this long only.
MAX_RETRY_AFTER_S = 60.0
STREAM_IDLE_MESSAGE = "idle timeout waiting for SSE"


class UpstreamError(Exception):
    """The model provider failed in a way that ends the turn."""

    def __init__(
        self,
        message: str,
        codex_error_info: str | dict[str, Any] | None,
        additional_details: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.codex_error_info = codex_error_info
        self.additional_details = additional_details

    def to_turn_error(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "codexErrorInfo": self.codex_error_info,
            "additionalDetails": self.additional_details,
        }


class StreamInterrupted(Exception):
    """The response stream stopped before completing; retrying the request may succeed."""

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status


def backoff_delay(attempt: int, base_s: float) -> float:
    """Delay before retry number `attempt` (1-based): base·2^(attempt-1), ±10% jitter."""
    return float(base_s * (2 ** (attempt - 1)) * random.uniform(0.9, 1.1))


def retry_after_s(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(when.timestamp() - time.time(), 0.0), MAX_RETRY_AFTER_S)


def _status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _upstream_error_body(body: bytes) -> tuple[str, str | None, str | None]:
    """(message, code, type) from an error body, or the body text itself."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
        err = parsed["error"]
        message = err.get("message")
        code = err.get("code")
        kind = err.get("type")
        return (
            str(message) if message else "",
            str(code) if code else None,
            str(kind) if kind else None,
        )
    return body.decode("utf-8", "replace").strip()[:500], None, None


def _is_loopback(url: str) -> bool:
    host = httpx.URL(url).host
    return host in ("localhost", "::1") or host.startswith("127.")


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context (and one read of the certificate bundle) per process, shared by every
    turn's HTTP client: loading the bundle costs more than a whole local round trip."""
    return ssl.create_default_context(cafile=certifi.where())


# What httpx imports only when its first client is made or its first request sent.
_LAZY_HTTP_MODULES = (
    "httpcore",
    "httpcore._async.http11",
    "httpcore._backends.anyio",
    "anyio._backends._asyncio",
    "h11",
)


def warm_http_stack() -> None:
    """Build the shared TLS context and import what httpx leaves to its first request, ahead
    of the first turn (see `parley.server.preload`)."""
    for name in _LAZY_HTTP_MODULES:
        importlib.import_module(name)
    tls_context()


class ResponsesClient:
    """One turn's connection to the provider; use as an async context manager."""

    def __init__(
        self,
        provider: ProviderSettings,
        api_key: str | None,
        headers: dict[str, str],
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._provider = provider
        self._api_key = api_key
        self._headers = dict(headers)
        self._sleep = sleep
        self._http: httpx.AsyncClient | None = None
        # The model the provider says served the latest response (`OpenAI-Model` header).
        self.served_model: str | None = None

    async def __aenter__(self) -> ResponsesClient:
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(30.0, read=self._provider.stream_idle_timeout_s),
            verify=tls_context(),
            # Proxy settings from the environment apply, except to a provider on this machine.
            trust_env=not _is_loopback(self._provider.responses_url),
        )
        # As the reference: no compressed streams are asked for.
        del self._http.headers["accept-encoding"]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def set_header(self, name: str, value: str) -> None:
        """Change a header for the following requests (e.g. turn metadata a steer updated)."""
        self._headers[name] = value

    def redact(self, text: str) -> str:
        if self._api_key and len(self._api_key) >= 4:
            text = text.replace(self._api_key, "[REDACTED]")
        return text

    def backoff(self, attempt: int) -> float:
        return backoff_delay(attempt, self._provider.retry_base_delay_s)

    def _request_headers(self) -> dict[str, str]:
        headers = {
            **dict(self._provider.headers),
            **self._headers,
            "Accept": "text/event-stream",
            "Content-Type": "application/json",
        }
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    async def stream(self, body: dict[str, Any]) -> AsyncGenerator[dict[str, Any], None]:
        """Yields the SSE events of one response, ending with `response.completed`."""
        if self._http is None:
            raise RuntimeError("ResponsesClient used outside `async with`")
        url = self._provider.responses_url
        payload = orjson.dumps(body)
        max_retries = max(self._provider.request_max_retries, 0)
        attempt = 0
        while True:
            request = self._http.build_request(
                "POST",
                url,
                content=payload,
                headers=self._request_headers(),
                params=dict(self._provider.query_params) or None,
            )
            try:
                response = await self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                if attempt < max_retries:
                    attempt += 1
                    log.info("responses request failed (%s); retry %d", type(exc).__name__, attempt)
                    await self._sleep(self.backoff(attempt))
                    continue
                raise UpstreamError(
                    f"error sending request for url ({url}): {type(exc).__name__}",
                    {"httpConnectionFailed": {"httpStatusCode": None}},
                ) from None
            try:
                if response.status_code != 200:
                    body_bytes = await response.aread()
                    status = response.status_code
                    retryable = status == 429 or status >= 500
                    if retryable and attempt < max_retries:
                        attempt += 1
                        delay = retry_after_s(response.headers.get("retry-after"))
                        log.info("responses answered %d; retry %d", status, attempt)
                        await self._sleep(delay if delay is not None else self.backoff(attempt))
                        continue
                    raise self._status_error(status, body_bytes, retried=attempt > 0)
                self.served_model = (
                    response.headers.get("openai-model")
                    or response.headers.get("x-openai-model")
                    or None
                )
                async with contextlib.aclosing(self._events(response)) as events:
                    async for event in events:
                        yield event
                return
            finally:
                await response.aclose()

    async def _events(self, response: httpx.Response) -> AsyncGenerator[dict[str, Any], None]:
        source = EventSource(response)
        loop = asyncio.get_running_loop()
        idle_s = self._provider.stream_idle_timeout_s
        sse_events = source.aiter_sse()
        deadline = loop.time() + idle_s
        try:
            while True:
                # Only events with a JSON object count as activity: a stream of keep-alive
                # comments or empty events is idle.
                try:
                    async with asyncio.timeout_at(deadline):
                        sse = await anext(sse_events)
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    log.info("responses stream idle for %.1f s", idle_s)
                    raise StreamInterrupted(STREAM_IDLE_MESSAGE, response.status_code) from None
                if not sse.data:
                    continue
                try:
                    event = orjson.loads(sse.data)
                except orjson.JSONDecodeError:
                    continue
                if not isinstance(event, dict):
                    continue
                deadline = loop.time() + idle_s
                event.setdefault("type", sse.event)
                kind = event.get("type")
                if kind in ("response.failed", "error", "response.incomplete"):
                    raise self._failure(event)
                yield event
                if kind == "response.completed":
                    return
        except (httpx.TransportError, SSEError) as exc:
            log.info("responses stream broke: %s", type(exc).__name__)
            raise StreamInterrupted(STREAM_CLOSED_MESSAGE, response.status_code) from None
        raise StreamInterrupted(STREAM_CLOSED_MESSAGE, response.status_code)

    def _failure(self, event: dict[str, Any]) -> Exception:
        error: Any = None
        if event.get("type") == "error":
            error = event.get("error", event)
        else:
            response = event.get("response")
            if isinstance(response, dict):
                error = response.get("error")
                if error is None and event.get("type") == "response.incomplete":
                    details = response.get("incomplete_details") or {}
                    reason = details.get("reason") if isinstance(details, dict) else None
                    error = {"message": f"Incomplete response returned, reason: {reason}"}
        error = error if isinstance(error, dict) else {}
        message = self.redact(str(error.get("message") or "response.failed event received"))
        code = error.get("code")
        if code == "context_length_exceeded":
            return UpstreamError(CONTEXT_WINDOW_MESSAGE, "contextWindowExceeded")
        if code in ("insufficient_quota", "usage_not_included"):
            return UpstreamError(QUOTA_MESSAGE, "usageLimitExceeded")
        if code in ("invalid_prompt", "invalid_request_error"):
            return UpstreamError(message, "badRequest")
        return StreamInterrupted(message)

    def _status_error(self, status: int, body: bytes, *, retried: bool) -> UpstreamError:
        message, code, kind = _upstream_error_body(body)
        message = self.redact(message)
        status_text = _status_text(status)
        detail = f": {message}" if message else ""
        if status == 500:
            return UpstreamError(HIGH_DEMAND_MESSAGE, "internalServerError")
        if status == 401:
            return UpstreamError(f"unexpected status {status_text}{detail}", "unauthorized")
        if status == 400:
            if code == "context_length_exceeded":
                return UpstreamError(CONTEXT_WINDOW_MESSAGE, "contextWindowExceeded")
            return UpstreamError(f"unexpected status {status_text}{detail}", "badRequest")
        if status == 429 and (code in ("insufficient_quota",) or kind == "usage_limit_reached"):
            return UpstreamError(QUOTA_MESSAGE, "usageLimitExceeded")
        if retried and (status == 429 or status >= 500):
            return UpstreamError(
                f"exceeded retry limit, last status: {status_text}",
                {"responseTooManyFailedAttempts": {"httpStatusCode": status}},
                message or None,
            )
        return UpstreamError(
            f"unexpected status {status_text}{detail}",
            {"responseStreamConnectionFailed": {"httpStatusCode": status}},
        )
