"""Who may use `parley web`'s API: the capability token and same-origin checks, with no I/O.

Every run makes a fresh random token. The page learns it from its URL fragment (which browsers
never send to a server) and presents it on each API request: as `Authorization: Bearer …` on
plain requests, or as the WebSocket subprotocol `parley-token.…` on the JSON-RPC socket (so it
never appears in a URL or a log). On top of the token, requests that a browser makes on behalf
of another site are refused: the `Origin` header, when present, must be the page's own origin,
and the `Host` header must name the loopback address the server is bound to (which defeats DNS
rebinding). Static files carry no data and need no token.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from parley.rpc.ws_auth import Refusal

TOKEN_PROTOCOL_PREFIX: Final = "parley-token."
RPC_PROTOCOL: Final = "parley"


def new_token() -> str:
    """A fresh capability token (URL-safe, valid as a WebSocket subprotocol name)."""
    return secrets.token_urlsafe(24)


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """The token and the origins of one `parley web` run."""

    token: str
    port: int
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost")

    @property
    def origins(self) -> frozenset[str]:
        return frozenset(f"http://{host}:{self.port}" for host in self.hosts)

    def _host_ok(self, host: str | None) -> bool:
        return host is not None and host.lower() in {f"{h}:{self.port}" for h in self.hosts}

    def check_page(self, headers: Mapping[str, str]) -> Refusal | None:
        """A static file: only the Host is checked (a rebinding attacker's name is refused)."""
        if not self._host_ok(headers.get("Host")):
            return Refusal(421, "unexpected Host header")
        return None

    def check_api(self, headers: Mapping[str, str]) -> Refusal | None:
        """A plain API request: right Host, same Origin (if sent), `Bearer <token>`."""
        refusal = self._check_site(headers)
        if refusal is not None:
            return refusal
        scheme, _, presented = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not self._token_ok(presented.strip()):
            return Refusal(403, "missing or wrong access token")
        return None

    def check_socket(self, headers: Mapping[str, str]) -> Refusal | None:
        """The JSON-RPC WebSocket: right Host, same Origin (if sent), token as a subprotocol."""
        refusal = self._check_site(headers)
        if refusal is not None:
            return refusal
        offered = [p.strip() for p in (headers.get("Sec-WebSocket-Protocol") or "").split(",")]
        presented = [
            p[len(TOKEN_PROTOCOL_PREFIX) :] for p in offered if p.startswith(TOKEN_PROTOCOL_PREFIX)
        ]
        if len(presented) != 1 or not self._token_ok(presented[0]):
            return Refusal(403, "missing or wrong access token")
        return None

    def _check_site(self, headers: Mapping[str, str]) -> Refusal | None:
        if not self._host_ok(headers.get("Host")):
            return Refusal(421, "unexpected Host header")
        origin = headers.get("Origin")
        if origin is not None and origin.lower() not in self.origins:
            return Refusal(403, "requests from other sites are refused")
        return None

    def _token_ok(self, presented: str) -> bool:
        return hmac.compare_digest(presented.encode(), self.token.encode())
