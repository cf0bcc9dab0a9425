"""A small asyncio client for a Parley (or Codex) app-server, used by `parley demo` and `voice`."""

from parley.client.app_server_client import AppServerClient, RpcCallError

__all__ = ["AppServerClient", "RpcCallError"]
