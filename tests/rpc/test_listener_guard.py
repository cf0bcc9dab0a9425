"""Unit tests of the WebSocket handshake checks: Origin, Host (DNS rebinding) and --ws-auth."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from typing import Any

import orjson
import pytest

from parley.rpc.ws_auth import (
    MIN_SHARED_SECRET_BYTES,
    Refusal,
    WsAuthArgs,
    WsAuthConfigError,
    WsAuthMode,
    WsAuthPolicy,
    policy_from_args,
)
from parley.rpc.ws_handshake import HandshakeGuard, host_name

SECRET = b"0123456789abcdef0123456789abcdef"
NOW = 1_800_000_000


def _jwt(claims: dict[str, Any], secret: bytes = SECRET, alg: str = "HS256") -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(orjson.dumps({"alg": alg, "typ": "JWT"})) + "." + b64(orjson.dumps(claims))
    signature = hmac.new(secret, head.encode(), hashlib.sha256).digest()
    return f"{head}.{b64(signature)}"


def _signed_policy(**kwargs: Any) -> WsAuthPolicy:
    fields: dict[str, Any] = {"issuer": "iss-1", "audience": "aud-1", "max_clock_skew_s": 5}
    fields.update(kwargs)
    return WsAuthPolicy(
        mode=WsAuthMode.SIGNED_BEARER_TOKEN, shared_secret=SECRET, clock=lambda: NOW, **fields
    )


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    token = tmp_path / "token"
    token.write_text("tok\n")
    return token


def test_a_browser_origin_is_refused_with_403_and_no_origin_is_served() -> None:
    """Any Origin header (only browsers send one) is refused; a plain client passes."""
    guard = HandshakeGuard(listen_host="127.0.0.1")
    refused = guard.check(
        {"host": "127.0.0.1:4500", "origin": "https://evil.example"}, upgrade=True
    )
    assert refused == Refusal(403, "requests with an Origin header are refused")
    assert guard.check({"host": "127.0.0.1:4500"}, upgrade=True) is None
    # Health probes are guarded the same way.
    assert guard.check({"host": "127.0.0.1", "origin": "null"}, upgrade=False) is not None


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:4500", "localhost:4500", "LOCALHOST", "[::1]:4500", "app.localhost:1", "127.9.9.9"],
)
def test_loopback_host_headers_are_accepted(host: str) -> None:
    """Loopback names and addresses always mean this machine, whatever the bind address."""
    assert HandshakeGuard(listen_host="127.0.0.1").check({"host": host}, upgrade=True) is None


@pytest.mark.parametrize(
    "host", ["evil.example:4500", "evil.example", "10.0.0.5:4500", "[fe80::1]"]
)
def test_a_foreign_host_is_refused_as_dns_rebinding(host: str) -> None:
    """A page whose name was re-pointed at 127.0.0.1 still sends its own name: refused."""
    refusal = HandshakeGuard(listen_host="127.0.0.1").check({"host": host}, upgrade=True)
    assert refusal == Refusal(403, "unexpected Host header")


def test_the_listeners_own_name_and_address_are_accepted() -> None:
    """A name written in --listen, its bound address, and for a wildcard bind any IP literal."""
    named = HandshakeGuard(listen_host="devbox.lan", bound_ips=("192.168.1.7",))
    assert named.check({"host": "devbox.lan:4500"}, upgrade=True) is None
    assert named.check({"host": "192.168.1.7:4500"}, upgrade=True) is None
    assert named.check({"host": "192.168.1.8:4500"}, upgrade=True) is not None
    wildcard = HandshakeGuard(listen_host="0.0.0.0", bound_ips=("0.0.0.0",))
    assert wildcard.check({"host": "10.1.2.3:4500"}, upgrade=True) is None
    assert wildcard.check({"host": "rebound.example:4500"}, upgrade=True) is not None


def test_a_request_without_host_is_refused() -> None:
    assert HandshakeGuard(listen_host="127.0.0.1").check({}, upgrade=True) == Refusal(
        400, "missing Host header"
    )


def test_host_name_strips_port_brackets_and_case() -> None:
    assert host_name("[::1]:80") == "::1"
    assert host_name("Example.COM.:8080") == "example.com"
    assert host_name("::1") == "::1"


def test_capability_token_checks_the_bearer_header(token_file: Path) -> None:
    """Missing, malformed and wrong tokens get 401 with the reference's reasons."""
    policy = policy_from_args(WsAuthArgs(mode="capability-token", token_file=token_file))
    assert policy.authorize("Bearer tok") is None
    assert policy.authorize("bearer   tok ") is None
    assert policy.authorize(None) == Refusal(401, "missing websocket bearer token")
    assert policy.authorize("Basic tok") == Refusal(401, "invalid authorization header")
    assert policy.authorize("Bearer ") == Refusal(401, "invalid authorization header")
    assert policy.authorize("Bearer tok2") == Refusal(401, "invalid websocket bearer token")
    guard = HandshakeGuard(listen_host="127.0.0.1", auth=policy)
    # Health probes need no token; upgrades do.
    assert guard.check({"host": "127.0.0.1"}, upgrade=False) is None
    assert guard.check({"host": "127.0.0.1"}, upgrade=True) is not None


def test_signed_bearer_tokens_are_checked_claim_by_claim() -> None:
    """exp (required), nbf, iss and aud are checked with the clock skew; alg must be HS256."""
    policy = _signed_policy()
    good = {"exp": NOW + 60, "iss": "iss-1", "aud": "aud-1"}
    assert policy.authorize("Bearer " + _jwt(good)) is None
    assert policy.authorize("Bearer " + _jwt(good | {"aud": ["x", "aud-1"]})) is None
    assert policy.authorize("Bearer " + _jwt(good | {"exp": NOW - 3})) is None  # within skew
    cases = {
        "expired websocket jwt": good | {"exp": NOW - 30},
        "websocket jwt is not valid yet": good | {"nbf": NOW + 30},
        "websocket jwt issuer mismatch": good | {"iss": "other"},
        "websocket jwt audience mismatch": good | {"aud": "other"},
    }
    for reason, claims in cases.items():
        assert policy.authorize("Bearer " + _jwt(claims)) == Refusal(401, reason), reason
    no_exp = {"iss": "iss-1", "aud": "aud-1"}
    for token in (
        _jwt(no_exp),
        _jwt(good, secret=b"x" * 32),
        _jwt(good, alg="none"),
        "not-a-jwt",
        _jwt(good | {"exp": "soon"}),
    ):
        assert policy.authorize("Bearer " + token) == Refusal(401, "invalid websocket jwt")


def test_signed_bearer_without_issuer_or_audience_ignores_those_claims() -> None:
    policy = _signed_policy(issuer=None, audience=None)
    assert policy.authorize("Bearer " + _jwt({"exp": NOW + 5, "aud": "anything"})) is None


def test_flag_combinations_are_checked_as_the_reference(tmp_path: Path) -> None:
    """Flags for the other mode, a missing file, a short or empty secret: clear errors."""
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET)
    short = tmp_path / "short"
    short.write_text("too-short\n")
    empty = tmp_path / "empty"
    empty.write_text("  \n")
    bad = {
        "require `--ws-auth capability-token` or": WsAuthArgs(token_file=secret),
        "require `--ws-auth signed-bearer-token`": WsAuthArgs(
            mode="capability-token", token_file=secret, issuer="x"
        ),
        "`--ws-token-file` is required": WsAuthArgs(mode="capability-token"),
        "`--ws-shared-secret-file` is required": WsAuthArgs(mode="signed-bearer-token"),
        f"must be at least {MIN_SHARED_SECRET_BYTES} bytes": WsAuthArgs(
            mode="signed-bearer-token", shared_secret_file=short
        ),
        "must not be empty": WsAuthArgs(mode="capability-token", token_file=empty),
        "failed to read websocket auth secret": WsAuthArgs(
            mode="capability-token", token_file=tmp_path / "missing"
        ),
    }
    for expected, args in bad.items():
        with pytest.raises(WsAuthConfigError, match=expected.replace("`", ".")):
            policy_from_args(args)
    policy = policy_from_args(WsAuthArgs(mode="signed-bearer-token", shared_secret_file=secret))
    assert policy.max_clock_skew_s == 30 and policy.issuer is None
    assert "0123" not in repr(policy)  # the secret never shows in reprs (logs)
