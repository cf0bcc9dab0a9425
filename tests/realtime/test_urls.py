"""URL normalisation for the realtime WebSocket, the call-create URL and call ids."""

from __future__ import annotations

import pytest

from parley.realtime.urls import (
    RealtimeUrlError,
    call_id_from_location,
    normalize_realtime_path,
    realtime_call_url,
    realtime_ws_url,
)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("", "/v1/realtime"),
        ("/", "/v1/realtime"),
        ("/v1", "/v1/realtime"),
        ("/v1/", "/v1/realtime"),
        ("/v1/realtime", "/v1/realtime"),
        ("/v1/realtime/", "/v1/realtime"),
        ("/proxy/realtime", "/proxy/realtime"),
        ("/custom/base", "/custom/base"),
    ],
)
def test_path_normalisation(path: str, expected: str) -> None:
    """Base paths are pointed at the realtime endpoint; unknown custom paths are kept."""
    assert normalize_realtime_path(path) == expected


def test_websocket_urls() -> None:
    """v2 adds the model, v1 adds intent first, existing query pairs stay in front."""
    assert (
        realtime_ws_url("ws://127.0.0.1:9", intent=None, model="gpt-realtime-1.5")
        == "ws://127.0.0.1:9/v1/realtime?model=gpt-realtime-1.5"
    )
    assert (
        realtime_ws_url("ws://127.0.0.1:9", intent="quicksilver", model="gpt-realtime-1.5")
        == "ws://127.0.0.1:9/v1/realtime?intent=quicksilver&model=gpt-realtime-1.5"
    )
    assert (
        realtime_ws_url("http://h/v1?foo=bar", intent=None, model="m")
        == "ws://h/v1/realtime?foo=bar&model=m"
    )
    assert realtime_ws_url("https://api.example.com/v1/", intent=None, model="m") == (
        "wss://api.example.com/v1/realtime?model=m"
    )


def test_sideband_urls_use_call_id() -> None:
    """The WebRTC sideband joins with call_id instead of model."""
    assert (
        realtime_ws_url("ws://127.0.0.1:9", intent=None, call_id="rtc_app_test")
        == "ws://127.0.0.1:9/v1/realtime?call_id=rtc_app_test"
    )
    assert (
        realtime_ws_url("ws://127.0.0.1:9", intent="quicksilver", call_id="rtc_e2e")
        == "ws://127.0.0.1:9/v1/realtime?intent=quicksilver&call_id=rtc_e2e"
    )


def test_provider_query_cannot_override_intent_or_model() -> None:
    """Provider query parameters are appended, except intent and model."""
    url = realtime_ws_url(
        "wss://h",
        intent=None,
        model="m",
        provider_query=[("api-version", "1"), ("model", "x"), ("intent", "y")],
    )
    assert url == "wss://h/v1/realtime?model=m&api-version=1"


def test_unsupported_scheme() -> None:
    """Only http(s) and ws(s) base URLs are accepted."""
    with pytest.raises(RealtimeUrlError, match="unsupported realtime api_url scheme: ftp"):
        realtime_ws_url("ftp://h", intent=None, model="m")


def test_call_url_and_ids() -> None:
    """Calls go under the provider base; the id is the Location's last path segment."""
    assert realtime_call_url("http://127.0.0.1:5/v1") == "http://127.0.0.1:5/v1/realtime/calls"
    assert realtime_call_url("http://127.0.0.1:5/v1/") == "http://127.0.0.1:5/v1/realtime/calls"
    assert call_id_from_location("/v1/realtime/calls/rtc_e2e") == "rtc_e2e"
    assert call_id_from_location("rtc_plain") == "rtc_plain"
    assert call_id_from_location("https://x/v1/realtime/calls/rtc_abs?foo=1") == "rtc_abs"
    assert call_id_from_location(None) is None
    assert call_id_from_location("") is None
