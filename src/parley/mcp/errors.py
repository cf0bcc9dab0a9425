"""The MCP error type, in a module of its own so importing it does not load the MCP SDK (the
SDK is imported only when a server is actually configured)."""

from __future__ import annotations


class McpCallError(Exception):
    """A request to an MCP server failed; the message is for the user and the model."""
