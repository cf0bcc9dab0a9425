"""A realtime conversation sends the credential of the provider its thread talks to.

As for the thread's turns: a provider with `env_key` gets that variable's value (never the
stored login key), a provider without one gets the login. Checked on the realtime WebSocket
handshake a local server records.
"""

from __future__ import annotations

import json
from pathlib import Path

from support.mock_realtime import WebSocketConnectionConfig, start_websocket_server_with_headers
from support.mock_responses import MockResponsesServer

SESSION_UPDATED = {"type": "session.updated", "session": {"id": "sess_1", "instructions": "x"}}


def config_text(responses_uri: str, realtime_uri: str) -> str:
    return f"""
model = "mock-model"
approval_policy = "never"
model_provider = "corp"
experimental_realtime_ws_base_url = "{realtime_uri}"

[features]
realtime_conversation = true

[model_providers.corp]
name = "corp"
base_url = "{responses_uri}/v1"
env_key = "CORP_REALTIME_KEY"

[model_providers.plain]
name = "plain"
base_url = "{responses_uri}/v1"
"""


async def start_realtime(mcp, provider: str) -> None:
    thread = (await mcp.request("thread/start", {"modelProvider": provider}))["thread"]
    await mcp.request(
        "thread/realtime/start",
        {"threadId": thread["id"], "prompt": "hello", "sessionId": None},
    )
    await mcp.read_stream_until_notification_message("thread/realtime/started")


async def test_realtime_uses_the_thread_providers_own_credential(
    spawn_app_server, codex_home: Path
) -> None:
    """The env_key provider's realtime session carries its own key; the provider without one
    carries the login key; neither key shows up in what the client receives."""
    connections = [
        WebSocketConnectionConfig(requests=[[SESSION_UPDATED]], close_after_requests=False)
        for _ in range(2)
    ]
    realtime = await start_websocket_server_with_headers(connections)
    try:
        async with MockResponsesServer([]) as responses:
            (codex_home / "config.toml").write_text(config_text(responses.uri, realtime.uri))
            (codex_home / "auth.json").write_text(json.dumps({"OPENAI_API_KEY": "sk-login"}))
            mcp = await spawn_app_server(env={"CORP_REALTIME_KEY": "corp-realtime-secret"})
            await mcp.initialize()

            await start_realtime(mcp, "corp")
            await start_realtime(mcp, "plain")

            first, second = realtime.handshakes()
            assert first.header("authorization") == "Bearer corp-realtime-secret"
            assert second.header("authorization") == "Bearer sk-login"
            seen = json.dumps(mcp.received_messages())
            assert "corp-realtime-secret" not in seen
            assert "sk-login" not in seen
            await mcp.close()
    finally:
        await realtime.shutdown()
