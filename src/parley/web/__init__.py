"""`parley web`: a single-page voice client served on 127.0.0.1, and the server behind it.

`server.WebServer` serves the page (plain HTML, CSS and JavaScript in `static/`, shipped as
package data: no build step, nothing fetched from the network) and bridges the page's
JSON-RPC WebSocket to an app-server (`backend`), admitting only requests that carry the run's
capability token from the page's own origin (`access`). The page speaks the app-server
protocol itself; nothing here interprets it.
"""

from __future__ import annotations

from parley.web.access import AccessPolicy, new_token
from parley.web.backend import Backend, LocalBackend, RemoteBackend
from parley.web.server import WebServer

__all__ = [
    "AccessPolicy",
    "Backend",
    "LocalBackend",
    "RemoteBackend",
    "WebServer",
    "new_token",
]
