"""Test support for Parley's integration tests: real local stand-ins and a real client.

* `sse` — builders for scripted Responses API event streams.
* `mock_responses` — HTTP server for `/v1/responses`, `/v1/realtime/calls` and `/v1/models`.
* `mock_realtime` — scripted Realtime API WebSocket server.
* `app_server` — runs `parley app-server` as a subprocess and talks JSON-RPC to it.
* `codex_config` — writes the spec tests' `config.toml`.
* `schema` — validates messages against the 0.120 protocol schema.

Import the modules directly (`from support.mock_realtime import …`); `tests/` is on `sys.path`
because `tests/conftest.py` lives there.
"""
