"""Parley: an app-server that lets a person talk to a coding agent.

Speaks the Codex app-server protocol v2 (JSON-RPC 2.0 over stdio or WebSocket).
"""

__version__ = "0.1.0"

# The protocol version Parley's wire format follows (the reference release).
PROTOCOL_VERSION = "0.120.0"
