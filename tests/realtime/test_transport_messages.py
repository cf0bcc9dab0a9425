"""Pure pieces of the transport: the call-create body, headers and error messages."""

from __future__ import annotations

from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response

from parley.realtime.transport import (
    call_error_message,
    call_headers,
    describe_connect_failure,
    multipart_body,
    upstream_headers,
)


def test_multipart_body_is_byte_exact() -> None:
    """The form has the offer verbatim, then the session JSON, with CRLF framing."""
    body = multipart_body("v=offer\r\n", b'{"a":1}')
    assert body == (
        b"--codex-realtime-call-boundary\r\n"
        b'Content-Disposition: form-data; name="sdp"\r\n'
        b"Content-Type: application/sdp\r\n"
        b"\r\n"
        b"v=offer\r\n"
        b"\r\n"
        b"--codex-realtime-call-boundary\r\n"
        b'Content-Disposition: form-data; name="session"\r\n'
        b"Content-Type: application/json\r\n"
        b"\r\n"
        b'{"a":1}\r\n'
        b"--codex-realtime-call-boundary--\r\n"
    )


def test_headers() -> None:
    """Handshake and call headers carry originator, auth only with a key, and the session id."""
    assert upstream_headers("client", "sk-1", "sess") == [
        ("originator", "client"),
        ("authorization", "Bearer sk-1"),
        ("x-session-id", "sess"),
    ]
    assert upstream_headers("client", None, "sess") == [
        ("originator", "client"),
        ("x-session-id", "sess"),
    ]
    headers = call_headers(session_id="s", api_key=None, user_agent="ua/1", originator="o")
    assert headers == {
        "x-session-id": "s",
        "Content-Type": "multipart/form-data; boundary=codex-realtime-call-boundary",
        "Accept": "*/*",
        "User-Agent": "ua/1",
        "originator": "o",
    }


def test_call_error_messages() -> None:
    """Call-create failures read as the reference's messages."""
    url = "http://h/v1/realtime/calls"
    assert call_error_message(500, b"boom", url) == (
        "We're currently experiencing high demand, which may cause temporary errors."
    )
    assert call_error_message(400, b"bad offer", url) == "bad offer"
    assert call_error_message(429, b"", url) == (
        "exceeded retry limit, last status: 429 Too Many Requests"
    )
    assert call_error_message(401, b'{"error":{"message":"no key"}}', url) == (
        f"unexpected status 401 Unauthorized: no key, url: {url}"
    )
    assert call_error_message(503, b"down", url) == (
        f"unexpected status 503 Service Unavailable: down, url: {url}"
    )


def test_connect_failure_descriptions() -> None:
    """Refused connections and refused handshakes are described like the reference."""
    assert describe_connect_failure(ConnectionRefusedError(111, "x")) == (
        "IO error: Connection refused (os error 111)"
    )
    response = Response(404, "Not Found", Headers())
    assert describe_connect_failure(InvalidStatus(response)) == "HTTP error: 404 Not Found"
