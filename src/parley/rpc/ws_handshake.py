"""Which HTTP requests the WebSocket listener serves: browsers and rebound names are refused.

Checked for every request, health probes included, before anything else:

1. ``Origin`` present → ``403``, as the reference: only browsers send it, and no web page has
   business driving an app-server (clients and SDKs send none).
2. ``Host`` that is neither a loopback name/address nor the listener's own address → ``403``.
   A page on ``evil.example`` whose name was re-pointed at 127.0.0.1 (DNS rebinding) still
   sends ``Host: evil.example``. IP literals cannot be rebound, so with a wildcard bind
   (``0.0.0.0``, ``::``) any IP literal is the listener's own; a name is accepted only when it
   is the one written in ``--listen``.
3. the ``--ws-auth`` bearer check (`WsAuthPolicy`) → ``401``.

Pure: headers in, a `Refusal` or None out.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Final

from parley.rpc.ws_auth import Refusal, WsAuthPolicy

FORBIDDEN: Final = 403
BAD_REQUEST: Final = 400
_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def host_name(host_header: str) -> str:
    """The host part of a `Host` header, lower case, without port or IPv6 brackets."""
    value = host_header.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else value
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def is_loopback_host(name: str) -> bool:
    """A name or address that always means this machine."""
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    ip = _ip(name)
    return ip is not None and ip.is_loopback


@dataclass
class HandshakeGuard:
    """The checks for one listener: its address as written and as bound, and its auth policy.

    `bound_ips` is filled in once the socket is bound."""

    listen_host: str
    bound_ips: tuple[str, ...] = ()
    auth: WsAuthPolicy = field(default_factory=WsAuthPolicy)

    def check(self, headers: dict[str, str], *, upgrade: bool) -> Refusal | None:
        """`headers` keys are lower case; `upgrade` says the request asks for a WebSocket."""
        if "origin" in headers:
            return Refusal(FORBIDDEN, "requests with an Origin header are refused")
        host = headers.get("host")
        if host is None:
            return Refusal(BAD_REQUEST, "missing Host header")
        if not self.host_allowed(host_name(host)):
            return Refusal(FORBIDDEN, "unexpected Host header")
        if upgrade:
            return self.auth.authorize(headers.get("authorization"))
        return None

    def host_allowed(self, name: str) -> bool:
        if is_loopback_host(name) or name == host_name(self.listen_host):
            return True
        ip = _ip(name)
        if ip is None:
            return False
        bound = [_ip(address) for address in (*self.bound_ips, host_name(self.listen_host))]
        return any(b is not None and (b.is_unspecified or b == ip) for b in bound)
