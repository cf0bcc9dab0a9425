"""Where the realtime conversation connects: WebSocket URL, call-create URL, call id.

Pure string work on configured base URLs and the call-create `Location` header. It opens no
connection and reads no configuration itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}
# Provider query parameters may not override what the realtime URL itself decides.
_RESERVED_QUERY_KEYS = frozenset({"intent", "model"})


class RealtimeUrlError(ValueError):
    """A configured base URL cannot be turned into a realtime URL."""


def normalize_realtime_path(path: str) -> str:
    """Point a base path at the realtime endpoint, keeping unrecognised custom paths as they are."""
    if path in ("", "/"):
        return "/v1/realtime"
    if path.endswith("/realtime"):
        return path
    if path.endswith("/realtime/"):
        return path[:-1]
    if path.endswith("/v1"):
        return path + "/realtime"
    if path.endswith("/v1/"):
        return path + "realtime"
    return path


def realtime_ws_url(
    base_url: str,
    *,
    intent: str | None,
    model: str | None = None,
    call_id: str | None = None,
    provider_query: Iterable[tuple[str, str]] = (),
) -> str:
    """Build the upstream WebSocket URL: normalised path, ws scheme, then the query pairs.

    Existing query pairs come first, then `intent` (v1 only), then `model` (WebSocket
    transport) or `call_id` (WebRTC sideband), then the provider's own query parameters.
    """
    parts = urlsplit(base_url)
    scheme = _SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise RealtimeUrlError(f"unsupported realtime api_url scheme: {parts.scheme}")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if intent is not None:
        pairs.append(("intent", intent))
    if model is not None:
        pairs.append(("model", model))
    if call_id is not None:
        pairs.append(("call_id", call_id))
    pairs.extend((k, v) for k, v in provider_query if k not in _RESERVED_QUERY_KEYS)
    path = normalize_realtime_path(parts.path)
    return urlunsplit((scheme, parts.netloc, path, urlencode(pairs), ""))


def realtime_call_url(provider_base_url: str) -> str:
    """The WebRTC call-create endpoint under the model provider's base URL."""
    return provider_base_url.rstrip("/") + "/realtime/calls"


def call_id_from_location(location: str | None) -> str | None:
    """The call id is the last path segment of `Location`, query and fragment removed."""
    if not location:
        return None
    path = location.split("#", 1)[0].split("?", 1)[0]
    if "://" in path:
        path = urlsplit(path).path
    segments = [segment for segment in path.split("/") if segment]
    return segments[-1] if segments else None
