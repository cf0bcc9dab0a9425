"""Regressions: JSON-RPC error answers compared with the reference's documented ones."""

from __future__ import annotations

from pathlib import Path

from integration.helpers import write_config
from support.app_server import SpawnAppServer


async def test_malformed_params_are_reported_before_the_experimental_gate(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """As the reference: an experimental method called without the capability *and* with
    malformed params gets the params error (they are decoded first), not the gate error."""
    write_config(codex_home)
    server = await spawn_app_server(codex_home=codex_home)
    await server.initialize(experimental_api=False)
    error = await server.request_error("thread/realtime/appendText", {})
    await server.close()
    # Parley names every missing field (the reference stops at the first one).
    assert error == {
        "code": -32600,
        "message": "Invalid request: missing field `text`; missing field `threadId`",
    }
