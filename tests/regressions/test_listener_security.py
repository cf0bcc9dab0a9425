"""Regressions (issue 8, item 6): what a web page, a rebound DNS name or an unauthenticated
client can do to `parley app-server --listen ws://…`."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from support.app_server import SpawnAppServer
from support.thread_harness import create_config_toml
from support.ws_app_server import (
    connectable,
    handshake_status,
    spawn_websocket_server,
    ws_url,
)
from websockets.exceptions import InvalidStatus

from parley.client import WS_TOKEN_ENV, AppServerClient, websocket_token

UNUSED_PROVIDER = "http://127.0.0.1:9"


async def test_a_rebound_dns_name_is_refused_and_loopback_names_are_served(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """A page on evil.example whose name now points at 127.0.0.1 sends `Host: evil.example`:
    refused with 403, handshake and health probe alike; `localhost` and the address work."""
    create_config_toml(codex_home, UNUSED_PROVIDER, "never")
    process, address = await spawn_websocket_server(spawn_app_server, codex_home)
    port = address[1]
    assert await handshake_status(address, host=f"evil.example:{port}") == 403
    assert await handshake_status(address, host=f"localhost:{port}") == 101
    assert await handshake_status(address) == 101
    host, port = connectable(address)
    async with aiohttp.ClientSession() as http:
        probe = f"http://{host}:{port}/readyz"
        async with http.get(probe, headers={"Host": "evil.example"}) as response:
            assert response.status == 403
        async with http.get(probe, headers={"Origin": "https://evil.example"}) as response:
            assert response.status == 403
        async with http.get(probe) as response:
            assert response.status == 200
    process.kill()


async def test_an_origin_is_refused_even_with_a_valid_token(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """A browser page that learned the token still cannot connect: Origin is checked first."""
    create_config_toml(codex_home, UNUSED_PROVIDER, "never")
    token = codex_home / "token"
    token.write_text("s3cret-token\n")
    process, address = await spawn_websocket_server(
        spawn_app_server,
        codex_home,
        extra_args=["--ws-auth", "capability-token", "--ws-token-file", str(token)],
    )
    assert await handshake_status(address, "s3cret-token", origin="http://127.0.0.1:1") == 403
    assert await handshake_status(address, "s3cret-token") == 101
    process.kill()


async def test_a_non_loopback_bind_without_auth_warns(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Binding 0.0.0.0 without --ws-auth says on stderr that anyone reaching it can drive it."""
    create_config_toml(codex_home, UNUSED_PROVIDER, "never")
    process, _ = await spawn_websocket_server(spawn_app_server, codex_home, "ws://0.0.0.0:0")
    stderr = process.stderr_text()
    assert "non-loopback websocket listener without auth" in stderr
    assert "--ws-auth" in stderr
    process.kill()


async def test_parleys_own_client_authenticates_with_a_token_file_or_the_environment(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`parley voice --listen-url … --ws-token-file F` (or $PARLEY_WS_TOKEN) gets in; without
    a token the handshake is refused with 401."""
    create_config_toml(codex_home, UNUSED_PROVIDER, "never")
    token = tmp_path / "token"
    token.write_text("client-token\n")
    process, address = await spawn_websocket_server(
        spawn_app_server,
        codex_home,
        extra_args=["--ws-auth", "capability-token", "--ws-token-file", str(token)],
    )
    url = ws_url(address)

    monkeypatch.delenv(WS_TOKEN_ENV, raising=False)
    assert websocket_token(None) is None
    refused = AppServerClient()
    with pytest.raises(InvalidStatus) as status:
        await refused.connect_websocket(url, websocket_token(None))
    assert status.value.response.status_code == 401

    for chosen in (websocket_token(token), None):
        if chosen is None:
            monkeypatch.setenv(WS_TOKEN_ENV, "client-token")
            chosen = websocket_token(None)
        client = AppServerClient()
        await client.connect_websocket(url, chosen)
        result = await client.initialize("parley-voice")
        assert "userAgent" in result
        await client.close()
    process.kill()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ws-auth", "capability-token"], "`--ws-token-file` is required"),
        (["--ws-issuer", "x"], "websocket auth flags require"),
        (["--ws-auth", "bogus"], "invalid choice"),
    ],
)
async def test_unusable_auth_flags_stop_the_server_with_a_clear_message(
    spawn_app_server: SpawnAppServer, codex_home: Path, args: list[str], message: str
) -> None:
    create_config_toml(codex_home, UNUSED_PROVIDER, "never")
    process = await spawn_app_server(
        codex_home=codex_home, args=["--listen", "ws://127.0.0.1:0", *args], validate_schema=False
    )
    assert await process.wait_for_exit(timeout=10.0) == 2
    assert message in process.stderr_text()
