"""A small asyncio client for a Parley (or Codex) app-server, used by `parley demo` and `voice`."""

from parley.client.app_server_client import (
    WS_TOKEN_ENV,
    AppServerClient,
    RpcCallError,
    websocket_token,
)

__all__ = ["WS_TOKEN_ENV", "AppServerClient", "RpcCallError", "websocket_token"]
