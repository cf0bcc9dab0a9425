"""Who gets into `parley web`: the token and same-origin rules, checked as plain values."""

from __future__ import annotations

from parley.web.access import AccessPolicy, new_token

POLICY = AccessPolicy(token="s3cret-token", port=8123)
HOST = {"Host": "127.0.0.1:8123"}


def test_tokens_are_fresh_and_usable_as_a_websocket_subprotocol() -> None:
    """Each run gets a new, long token made only of characters a subprotocol name allows."""
    first, second = new_token(), new_token()
    assert first != second and len(first) >= 32
    assert all(c.isalnum() or c in "-_" for c in first)


def test_the_page_itself_needs_only_the_right_host() -> None:
    """Static files load for 127.0.0.1 and localhost, not for a rebound foreign name."""
    assert POLICY.check_page(HOST) is None
    assert POLICY.check_page({"Host": "localhost:8123"}) is None
    refusal = POLICY.check_page({"Host": "evil.example:8123"})
    assert refusal is not None and refusal.status == 421


def test_api_requests_need_the_bearer_token() -> None:
    """The session endpoint answers only to `Authorization: Bearer <token>`."""
    assert POLICY.check_api({**HOST, "Authorization": "Bearer s3cret-token"}) is None
    for bad in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "s3cret-token"}):
        refusal = POLICY.check_api({**HOST, **bad})
        assert refusal is not None and refusal.status == 403


def test_the_socket_needs_the_token_as_a_subprotocol_and_the_same_origin() -> None:
    """The JSON-RPC socket: token offered as `parley-token.<token>`, Origin the page's own."""
    good = {**HOST, "Sec-WebSocket-Protocol": "parley, parley-token.s3cret-token"}
    assert POLICY.check_socket(good) is None
    assert POLICY.check_socket({**good, "Origin": "http://127.0.0.1:8123"}) is None
    other_site = POLICY.check_socket({**good, "Origin": "http://127.0.0.1:9999"})
    assert other_site is not None and other_site.status == 403
    wrong = POLICY.check_socket({**HOST, "Sec-WebSocket-Protocol": "parley, parley-token.x"})
    assert wrong is not None and wrong.status == 403
    missing = POLICY.check_socket({**HOST, "Sec-WebSocket-Protocol": "parley"})
    assert missing is not None and missing.status == 403
    two = "parley-token.x, parley-token.s3cret-token"
    assert POLICY.check_socket({**HOST, "Sec-WebSocket-Protocol": two}) is not None
