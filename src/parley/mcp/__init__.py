"""MCP servers from the user's config: their settings, connections (through the official MCP
Python SDK), the names their tools get in front of the model, and the per-thread set of
connections the agent calls through. Nothing here speaks the app-server protocol; the handlers
in `server/handlers/mcp.py` do."""
