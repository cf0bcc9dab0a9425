"""Who may open a WebSocket connection: the `--ws-auth` policies, as plain values and checks.

Two modes, with the reference's flags and answers:

* ``capability-token`` (``--ws-token-file``): the client sends ``Authorization: Bearer <token>``
  with the token in the file; compared by SHA-256 digest in constant time.
* ``signed-bearer-token`` (``--ws-shared-secret-file``, ``--ws-issuer``, ``--ws-audience``,
  ``--ws-max-clock-skew-seconds``): the bearer is an HS256 JWT signed with the shared secret
  (at least 32 bytes), with ``exp`` required and ``nbf``, ``iss`` and ``aud`` checked when
  present or configured, allowing the clock skew (30 s by default).

A refused handshake is answered ``401`` with a short reason that never quotes the token.
This module reads the secret files once at start-up and does no other I/O.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

DEFAULT_MAX_CLOCK_SKEW_S: Final = 30
MIN_SHARED_SECRET_BYTES: Final = 32
UNAUTHORIZED: Final = 401


class WsAuthConfigError(Exception):
    """The `--ws-*` flags cannot be used; the message says which flag and why."""


class WsAuthMode(enum.Enum):
    CAPABILITY_TOKEN = "capability-token"
    SIGNED_BEARER_TOKEN = "signed-bearer-token"


@dataclass(frozen=True)
class WsAuthArgs:
    """The `--ws-*` flags as given on the command line."""

    mode: str | None = None
    token_file: Path | None = None
    shared_secret_file: Path | None = None
    issuer: str | None = None
    audience: str | None = None
    max_clock_skew_s: int | None = None


@dataclass(frozen=True)
class Refusal:
    """A handshake that must not be upgraded: the HTTP status and a short reason."""

    status: int
    reason: str


@dataclass(frozen=True)
class WsAuthPolicy:
    """How bearer tokens are checked; `mode` None means no authentication is asked for."""

    mode: WsAuthMode | None = None
    token_sha256: bytes = field(default=b"", repr=False)
    shared_secret: bytes = field(default=b"", repr=False)
    issuer: str | None = None
    audience: str | None = None
    max_clock_skew_s: int = DEFAULT_MAX_CLOCK_SKEW_S
    clock: Callable[[], float] = time.time

    def authorize(self, authorization: str | None) -> Refusal | None:
        """None when the `Authorization` header value lets the client in."""
        if self.mode is None:
            return None
        token = _bearer_token(authorization)
        if isinstance(token, Refusal):
            return token
        if self.mode is WsAuthMode.CAPABILITY_TOKEN:
            digest = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
            if hmac.compare_digest(digest, self.token_sha256):
                return None
            return Refusal(UNAUTHORIZED, "invalid websocket bearer token")
        return self._verify_jwt(token)

    def _verify_jwt(self, token: str) -> Refusal | None:
        import jwt  # only a signed-bearer-token listener needs it (and it is slow to import)

        try:
            claims = jwt.decode(
                token,
                self.shared_secret,
                algorithms=["HS256"],
                options={
                    "require": ["exp"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except jwt.PyJWTError:
            return Refusal(UNAUTHORIZED, "invalid websocket jwt")
        now = self.clock()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            return Refusal(UNAUTHORIZED, "invalid websocket jwt")
        if nbf is not None and (not isinstance(nbf, int | float) or isinstance(nbf, bool)):
            return Refusal(UNAUTHORIZED, "invalid websocket jwt")
        if now > exp + self.max_clock_skew_s:
            return Refusal(UNAUTHORIZED, "expired websocket jwt")
        if nbf is not None and now < nbf - self.max_clock_skew_s:
            return Refusal(UNAUTHORIZED, "websocket jwt is not valid yet")
        if self.issuer is not None and claims.get("iss") != self.issuer:
            return Refusal(UNAUTHORIZED, "websocket jwt issuer mismatch")
        if self.audience is not None and not _audience_matches(claims.get("aud"), self.audience):
            return Refusal(UNAUTHORIZED, "websocket jwt audience mismatch")
        return None


def policy_from_args(args: WsAuthArgs) -> WsAuthPolicy:
    """Check the flag combination and read the secret files, as the reference does."""
    signed_only = (
        args.shared_secret_file is not None
        or args.issuer is not None
        or args.audience is not None
        or args.max_clock_skew_s is not None
    )
    if args.mode is None:
        if args.token_file is not None or signed_only:
            raise WsAuthConfigError(
                "websocket auth flags require `--ws-auth capability-token` or "
                "`--ws-auth signed-bearer-token`"
            )
        return WsAuthPolicy()
    if args.mode == WsAuthMode.CAPABILITY_TOKEN.value:
        if signed_only:
            raise WsAuthConfigError(
                "`--ws-shared-secret-file`, `--ws-issuer`, `--ws-audience`, and "
                "`--ws-max-clock-skew-seconds` require `--ws-auth signed-bearer-token`"
            )
        if args.token_file is None:
            raise WsAuthConfigError(
                "`--ws-token-file` is required when `--ws-auth capability-token` is set"
            )
        token = read_secret(args.token_file)
        return WsAuthPolicy(
            mode=WsAuthMode.CAPABILITY_TOKEN,
            token_sha256=hashlib.sha256(token).digest(),
        )
    if args.mode == WsAuthMode.SIGNED_BEARER_TOKEN.value:
        if args.token_file is not None:
            raise WsAuthConfigError(
                "`--ws-token-file` requires `--ws-auth capability-token`, not `signed-bearer-token`"
            )
        if args.shared_secret_file is None:
            raise WsAuthConfigError(
                "`--ws-shared-secret-file` is required when `--ws-auth signed-bearer-token` is set"
            )
        secret = read_secret(args.shared_secret_file)
        if len(secret) < MIN_SHARED_SECRET_BYTES:
            raise WsAuthConfigError(
                f"signed websocket bearer secret {args.shared_secret_file} must be at least "
                f"{MIN_SHARED_SECRET_BYTES} bytes"
            )
        skew = args.max_clock_skew_s
        if skew is not None and skew < 0:
            raise WsAuthConfigError("`--ws-max-clock-skew-seconds` must not be negative")
        return WsAuthPolicy(
            mode=WsAuthMode.SIGNED_BEARER_TOKEN,
            shared_secret=secret,
            issuer=_blank_to_none(args.issuer),
            audience=_blank_to_none(args.audience),
            max_clock_skew_s=DEFAULT_MAX_CLOCK_SKEW_S if skew is None else skew,
        )
    raise WsAuthConfigError(
        f"`--ws-auth {args.mode}`: expected `capability-token` or `signed-bearer-token`"
    )


def read_secret(path: Path) -> bytes:
    """The file's content without surrounding whitespace; never empty."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise WsAuthConfigError(
            f"failed to read websocket auth secret {path}: {exc.strerror or exc}"
        ) from None
    secret = raw.strip()
    if not secret:
        raise WsAuthConfigError(f"websocket auth secret {path} must not be empty")
    return secret


def _bearer_token(authorization: str | None) -> str | Refusal:
    if authorization is None:
        return Refusal(UNAUTHORIZED, "missing websocket bearer token")
    scheme, sep, token = authorization.partition(" ")
    token = token.strip()
    if not sep or scheme.lower() != "bearer" or not token:
        return Refusal(UNAUTHORIZED, "invalid authorization header")
    return token


def _audience_matches(claim: object, expected: str) -> bool:
    if isinstance(claim, str):
        return claim == expected
    if isinstance(claim, list):
        return expected in claim
    return False


def _blank_to_none(value: str | None) -> str | None:
    return value.strip() if value is not None and value.strip() else None
