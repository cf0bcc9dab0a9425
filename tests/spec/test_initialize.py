"""pytest twins of upstream `app-server/tests/suite/v2/initialize.rs` (5 tests).

`codex-app-server-test-notify-capture` is ported as `tests/support/notify_capture.py` (run with
this interpreter). Nothing in the file is out of scope.
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys
from pathlib import Path

from support.app_server import ReadTimeout
from support.mock_responses import (
    create_final_assistant_message_sse_response,
    create_mock_responses_server_sequence_unchecked,
)

NOTIFY_CAPTURE = Path(__file__).resolve().parent.parent / "support" / "notify_capture.py"


def create_config_toml_with_extra(
    codex_home: Path, server_uri: str, approval_policy: str, extra: str = ""
) -> None:
    (codex_home / "config.toml").write_text(
        f"""
model = "mock-model"
approval_policy = "{approval_policy}"
sandbox_mode = "read-only"

model_provider = "mock_provider"

{extra}

[features]
shell_snapshot = false

[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "{server_uri}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""
    )


def create_config_toml(codex_home: Path, server_uri: str, approval_policy: str) -> None:
    create_config_toml_with_extra(codex_home, server_uri, approval_policy)


def toml_basic_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def test_initialize_uses_client_info_name_as_originator(spawn_app_server, codex_home) -> None:
    """The user agent starts with the client's name; codexHome and platform are reported."""
    server = await create_mock_responses_server_sequence_unchecked([])
    try:
        create_config_toml(codex_home, server.uri, "never")
        mcp = await spawn_app_server()
        result = await mcp.initialize(
            "codex_vscode", client_title="Codex VS Code Extension", client_version="0.1.0"
        )
        assert result["userAgent"].startswith("codex_vscode/")
        assert result["codexHome"] == str(codex_home.resolve())
        assert result["platformFamily"] == "unix"
        assert result["platformOs"] == platform.system().lower()
    finally:
        await server.stop()


async def test_initialize_respects_originator_override_env_var(
    spawn_app_server, codex_home
) -> None:
    """CODEX_INTERNAL_ORIGINATOR_OVERRIDE replaces the client's name as originator."""
    server = await create_mock_responses_server_sequence_unchecked([])
    try:
        create_config_toml(codex_home, server.uri, "never")
        mcp = await spawn_app_server(
            env={"CODEX_INTERNAL_ORIGINATOR_OVERRIDE": "codex_originator_via_env_var"}
        )
        result = await mcp.initialize(
            "codex_vscode", client_title="Codex VS Code Extension", client_version="0.1.0"
        )
        assert result["userAgent"].startswith("codex_originator_via_env_var/")
        assert result["codexHome"] == str(codex_home.resolve())
        assert result["platformFamily"] == "unix"
        assert result["platformOs"] == platform.system().lower()
    finally:
        await server.stop()


async def test_initialize_rejects_invalid_client_name(spawn_app_server, codex_home) -> None:
    """A client name that cannot be an HTTP header value is refused, quoting it."""
    server = await create_mock_responses_server_sequence_unchecked([])
    try:
        create_config_toml(codex_home, server.uri, "never")
        mcp = await spawn_app_server(env={"CODEX_INTERNAL_ORIGINATOR_OVERRIDE": None})
        error = await mcp.request_error(
            "initialize",
            {
                "clientInfo": {"name": "bad\rname", "title": "Bad Client", "version": "0.1.0"},
                "capabilities": {"experimentalApi": True},
            },
        )
        assert error["code"] == -32600
        assert error["message"] == (
            "Invalid clientInfo.name: 'bad\rname'. Must be a valid HTTP header value."
        )
        assert error.get("data") is None
    finally:
        await server.stop()


async def test_initialize_opt_out_notification_methods_filters_notifications(
    spawn_app_server, codex_home
) -> None:
    """A method named in optOutNotificationMethods is never sent."""
    server = await create_mock_responses_server_sequence_unchecked([])
    try:
        create_config_toml(codex_home, server.uri, "never")
        mcp = await spawn_app_server()
        await mcp.initialize(
            "codex_vscode",
            experimental_api=True,
            opt_out=["thread/started"],
            client_title="Codex VS Code Extension",
        )
        request_id = await mcp.send_request("thread/start", {})
        await mcp.read_stream_until_response_message(request_id)
        assert not [m for m in mcp.received_messages() if m.get("method") == "thread/started"], (
            "thread/started should be filtered by optOutNotificationMethods"
        )
        try:
            await mcp.read_stream_until_notification_message("thread/started", timeout=0.5)
        except ReadTimeout:
            pass
        else:
            raise AssertionError("thread/started should be filtered by optOutNotificationMethods")
    finally:
        await server.stop()


async def test_turn_start_notify_payload_includes_initialize_client_name(
    spawn_app_server, codex_home
) -> None:
    """The notify program runs after the turn and its payload names the client."""
    server = await create_mock_responses_server_sequence_unchecked(
        [create_final_assistant_message_sse_response("Done")]
    )
    try:
        notify_file = codex_home / "notify.json"
        notify_argv = [sys.executable, str(NOTIFY_CAPTURE), str(notify_file)]
        create_config_toml_with_extra(
            codex_home,
            server.uri,
            "never",
            "notify = [" + ", ".join(toml_basic_string(a) for a in notify_argv) + "]",
        )
        mcp = await spawn_app_server()
        await mcp.initialize("xcode", client_title="Xcode", client_version="1.0.0")

        thread = await mcp.start_thread({})
        await mcp.request(
            "turn/start",
            {
                "threadId": thread["id"],
                "input": [{"type": "text", "text": "Hello", "text_elements": []}],
            },
        )
        await mcp.read_stream_until_notification_message("turn/completed")

        await wait_for_path_exists(notify_file, timeout=5.0)
        payload = json.loads(notify_file.read_text())
        assert payload["client"] == "xcode"
    finally:
        await server.stop()


async def wait_for_path_exists(path: Path, timeout: float) -> None:  # noqa: ASYNC109
    """Twin of `fs_wait::wait_for_path_exists`: the notify program runs detached, so its file
    appears some time after turn/completed; fail if it has not after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(path.exists):
        if loop.time() > deadline:
            raise AssertionError(f"{path} did not appear within {timeout}s")
        await asyncio.sleep(0.02)
