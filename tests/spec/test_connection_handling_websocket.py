"""Twins of upstream `app-server-tests/suite/v2/connection_handling_websocket.rs`.

Each test starts the real `parley app-server --listen ws://…` against the mock Responses server
and drives it over real WebSockets, with the upstream test's traffic and assertions. All of the
upstream file's tests run here; none is out of scope.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
from support.app_server import SpawnAppServer
from support.mock_responses import create_mock_responses_server_sequence_unchecked
from support.thread_harness import create_config_toml
from support.ws_app_server import (
    DEFAULT_READ_TIMEOUT,
    WsRpc,
    assert_websocket_connect_rejected,
    connect_websocket,
    connectable,
    signed_bearer_token,
    spawn_websocket_server,
)


async def test_websocket_transport_routes_per_connection_handshake_and_responses(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Handshakes, errors and replies stay on their own connection, even with equal ids."""
    server = await create_mock_responses_server_sequence_unchecked([])
    try:
        create_config_toml(codex_home, server.uri, "never")
        process, bind_addr = await spawn_websocket_server(spawn_app_server, codex_home)
        ws1 = WsRpc(await connect_websocket(bind_addr))
        ws2 = WsRpc(await connect_websocket(bind_addr))

        await ws1.send_initialize_request(1, "ws_client_one")
        first_init = await ws1.read_response_for_id(1)
        assert first_init["id"] == 1

        # Initialize responses are request-scoped and must not leak to other connections.
        await ws2.assert_no_message(0.25)

        await ws2.send_request("config/read", 2, {"includeLayers": False})
        not_initialized = await ws2.read_error_for_id(2)
        assert not_initialized["error"]["message"] == "Not initialized"

        await ws2.send_initialize_request(3, "ws_client_two")
        second_init = await ws2.read_response_for_id(3)
        assert second_init["id"] == 3

        # Same request id on different connections routes independently.
        await ws1.send_request("config/read", 77, {"includeLayers": False})
        await ws2.send_request("config/read", 77, {"includeLayers": False})
        ws1_config = await ws1.read_response_for_id(77)
        ws2_config = await ws2.read_response_for_id(77)
        assert ws1_config["id"] == 77
        assert ws2_config["id"] == 77
        assert "config" in ws1_config["result"]
        assert "config" in ws2_config["result"]
        process.kill()
    finally:
        await server.stop()


async def test_websocket_transport_serves_health_endpoints_on_same_listener(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """/readyz and /healthz answer 200 on the port that also takes WebSocket clients."""
    server = await create_mock_responses_server_sequence_unchecked([])
    try:
        create_config_toml(codex_home, server.uri, "never")
        process, bind_addr = await spawn_websocket_server(spawn_app_server, codex_home)
        host, port = connectable(bind_addr)
        async with aiohttp.ClientSession() as client:
            async with client.get(f"http://{host}:{port}/readyz") as readyz:
                assert readyz.status == 200
            async with client.get(f"http://{host}:{port}/healthz") as healthz:
                assert healthz.status == 200

        ws = WsRpc(await connect_websocket(bind_addr))
        await ws.send_initialize_request(1, "ws_health_client")
        init = await ws.read_response_for_id(1)
        assert init["id"] == 1
        process.kill()
    finally:
        await server.stop()


async def test_websocket_transport_rejects_browser_origin_without_auth(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """A client without Origin is served; a handshake carrying a browser Origin gets 403."""
    server = await create_mock_responses_server_sequence_unchecked([])
    try:
        create_config_toml(codex_home, server.uri, "never")
        process, bind_addr = await spawn_websocket_server(spawn_app_server, codex_home)

        ws = WsRpc(await connect_websocket(bind_addr))
        await ws.send_initialize_request(1, "ws_loopback_client")
        init = await ws.read_response_for_id(1)
        assert init["id"] == 1
        await ws.socket.close()

        await assert_websocket_connect_rejected(
            bind_addr, None, origin="https://evil.example", expected_status=403
        )
        process.kill()
    finally:
        await server.stop()


async def test_websocket_transport_rejects_missing_and_invalid_capability_tokens(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """With --ws-auth capability-token, no token and a wrong token get 401; the right one works."""
    server = await create_mock_responses_server_sequence_unchecked([])
    try:
        token_file = codex_home / "app-server-token"
        token_file.write_text("super-secret-token\n")
        create_config_toml(codex_home, server.uri, "never")
        auth_args = ["--ws-auth", "capability-token", "--ws-token-file", str(token_file)]
        process, bind_addr = await spawn_websocket_server(
            spawn_app_server, codex_home, "ws://127.0.0.1:0", auth_args
        )

        await assert_websocket_connect_rejected(bind_addr, None)
        await assert_websocket_connect_rejected(bind_addr, "wrong-token")

        ws = WsRpc(await connect_websocket(bind_addr, "super-secret-token"))
        await ws.send_initialize_request(1, "ws_auth_client")
        init = await ws.read_response_for_id(1)
        assert init["id"] == 1
        process.kill()
    finally:
        await server.stop()


async def test_websocket_transport_verifies_signed_short_lived_bearer_tokens(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Expired, malformed, not-yet-valid, wrong-issuer, wrong-audience and wrongly signed JWTs
    are refused with 401; a valid one connects."""
    server = await create_mock_responses_server_sequence_unchecked([])
    try:
        shared_secret_file = codex_home / "app-server-signing-secret"
        shared_secret = b"0123456789abcdef0123456789abcdef"
        shared_secret_file.write_bytes(shared_secret + b"\n")
        create_config_toml(codex_home, server.uri, "never")
        auth_args = [
            "--ws-auth",
            "signed-bearer-token",
            "--ws-shared-secret-file",
            str(shared_secret_file),
            "--ws-issuer",
            "codex-enroller",
            "--ws-audience",
            "codex-app-server",
            "--ws-max-clock-skew-seconds",
            "1",
        ]
        process, bind_addr = await spawn_websocket_server(
            spawn_app_server, codex_home, "ws://127.0.0.1:0", auth_args
        )

        def now() -> int:
            return int(time.time())

        expired_token = signed_bearer_token(
            shared_secret,
            {"exp": now() - 30, "iss": "codex-enroller", "aud": "codex-app-server"},
        )
        await assert_websocket_connect_rejected(bind_addr, expired_token)

        await assert_websocket_connect_rejected(bind_addr, "not-a-jwt")

        not_yet_valid_token = signed_bearer_token(
            shared_secret,
            {
                "exp": now() + 60,
                "nbf": now() + 30,
                "iss": "codex-enroller",
                "aud": "codex-app-server",
            },
        )
        await assert_websocket_connect_rejected(bind_addr, not_yet_valid_token)

        wrong_issuer_token = signed_bearer_token(
            shared_secret,
            {"exp": now() + 60, "iss": "someone-else", "aud": "codex-app-server"},
        )
        await assert_websocket_connect_rejected(bind_addr, wrong_issuer_token)

        wrong_audience_token = signed_bearer_token(
            shared_secret,
            {"exp": now() + 60, "iss": "codex-enroller", "aud": "wrong-audience"},
        )
        await assert_websocket_connect_rejected(bind_addr, wrong_audience_token)

        wrong_signature_token = signed_bearer_token(
            b"fedcba9876543210fedcba9876543210",
            {"exp": now() + 60, "iss": "codex-enroller", "aud": "codex-app-server"},
        )
        await assert_websocket_connect_rejected(bind_addr, wrong_signature_token)

        valid_token = signed_bearer_token(
            shared_secret,
            {"exp": now() + 60, "iss": "codex-enroller", "aud": "codex-app-server"},
        )
        ws = WsRpc(await connect_websocket(bind_addr, valid_token))
        await ws.send_initialize_request(1, "ws_signed_auth_client")
        init = await ws.read_response_for_id(1)
        assert init["id"] == 1
        process.kill()
    finally:
        await server.stop()


async def test_websocket_transport_rejects_short_signed_bearer_secret_configuration(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """A signed-bearer secret shorter than 32 bytes stops the server at start-up, saying so."""
    server = await create_mock_responses_server_sequence_unchecked([])
    try:
        shared_secret_file = codex_home / "app-server-signing-secret"
        shared_secret_file.write_text("too-short\n")
        create_config_toml(codex_home, server.uri, "never")
        process = await spawn_app_server(
            codex_home=codex_home,
            args=[
                "--listen",
                "ws://127.0.0.1:0",
                "--ws-auth",
                "signed-bearer-token",
                "--ws-shared-secret-file",
                str(shared_secret_file),
            ],
            validate_schema=False,
        )
        status = await process.wait_for_exit(timeout=DEFAULT_READ_TIMEOUT)
        assert status != 0, "short shared secret should fail websocket server startup"
        stderr = process.stderr_text()
        assert "must be at least 32 bytes" in stderr, f"unexpected stderr: {stderr}"
    finally:
        await server.stop()


async def test_websocket_transport_allows_unauthenticated_non_loopback_startup_by_default(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Binding 0.0.0.0 without --ws-auth starts (with a warning) and serves clients."""
    server = await create_mock_responses_server_sequence_unchecked([])
    try:
        create_config_toml(codex_home, server.uri, "never")
        process, bind_addr = await spawn_websocket_server(
            spawn_app_server, codex_home, "ws://0.0.0.0:0", []
        )
        ws = WsRpc(await connect_websocket(bind_addr))
        await ws.send_initialize_request(1, "ws_non_loopback_default_client")
        init = await ws.read_response_for_id(1)
        assert init["id"] == 1
        process.kill()
    finally:
        await server.stop()


async def test_websocket_disconnect_unloads_last_subscribed_thread(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """When the only client subscribed to a thread disconnects, the thread is unloaded."""
    server = await create_mock_responses_server_sequence_unchecked([])
    try:
        create_config_toml(codex_home, server.uri, "never")
        process, bind_addr = await spawn_websocket_server(spawn_app_server, codex_home)

        ws1 = WsRpc(await connect_websocket(bind_addr))
        await ws1.send_initialize_request(1, "ws_thread_owner")
        await ws1.read_response_for_id(1)

        await ws1.send_request("thread/start", 2, {"model": "mock-model"})
        thread_id = (await ws1.read_response_for_id(2))["result"]["thread"]["id"]
        await ws1.send_request("thread/loaded/list", 3, {})
        loaded = (await ws1.read_response_for_id(3))["result"]
        assert sorted(loaded["data"]) == [thread_id]
        assert loaded.get("nextCursor") is None

        await ws1.socket.close()

        ws2 = WsRpc(await connect_websocket(bind_addr))
        await ws2.send_initialize_request(4, "ws_reconnect_client")
        await ws2.read_response_for_id(4)

        next_id = 5
        async with asyncio.timeout(DEFAULT_READ_TIMEOUT):
            while True:
                await ws2.send_request("thread/loaded/list", next_id, {})
                response = (await ws2.read_response_for_id(next_id))["result"]
                next_id += 1
                if sorted(response["data"]) == []:
                    break
                await asyncio.sleep(0.05)
        process.kill()
    finally:
        await server.stop()
