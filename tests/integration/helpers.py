"""Shared set-up for the integration tests: a config for the mock provider and a ready server.

Every test owns its CODEX_HOME (the `codex_home` fixture) and its workspace directory, so the
tests can run in any order or in parallel.
"""

# Waiting helpers take their own deadline, as the support client's do.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path
from typing import Any

from support.app_server import AppServerProcess, SpawnAppServer
from support.mock_responses import MockResponsesServer

API_KEY = "sk-test-key"
MODEL = "mock-model"
PROVIDER = "mock_provider"
# A base URL nothing listens on, for tests that never reach the model.
UNUSED_PROVIDER_URI = "http://127.0.0.1:9"
CONFIG_FILE = "config.toml"


def config_toml(
    responses_uri: str = UNUSED_PROVIDER_URI,
    *,
    sandbox: str = "read-only",
    approval: str = "never",
    request_max_retries: int = 0,
    requires_openai_auth: bool = False,
    realtime_uri: str | None = None,
    realtime_enabled: bool = False,
) -> str:
    """The config.toml text the tests run with: the mock provider and the given policies."""
    realtime = (
        f'experimental_realtime_ws_base_url = "{realtime_uri}"\n'
        'experimental_realtime_ws_backend_prompt = "backend prompt"\n'
        if realtime_uri is not None
        else ""
    )
    return f"""
model = "{MODEL}"
approval_policy = "{approval}"
sandbox_mode = "{sandbox}"
model_provider = "{PROVIDER}"
{realtime}
[features]
realtime_conversation = {"true" if realtime_enabled else "false"}

[model_providers.{PROVIDER}]
name = "Mock provider for test"
base_url = "{responses_uri}/v1"
wire_api = "responses"
request_max_retries = {request_max_retries}
stream_max_retries = 0
requires_openai_auth = {"true" if requires_openai_auth else "false"}
"""


def write_config(codex_home: Path, responses_uri: str = UNUSED_PROVIDER_URI, **kwargs: Any) -> Path:
    """Write `<codex_home>/config.toml` (see `config_toml`) and return its path."""
    path = codex_home / CONFIG_FILE
    path.write_text(config_toml(responses_uri, **kwargs), encoding="utf-8")
    return path


def user_text(text: str) -> list[dict[str, Any]]:
    """A `turn/start` input holding one text item."""
    return [{"type": "text", "text": text, "text_elements": []}]


async def ready_server(
    spawn: SpawnAppServer,
    codex_home: Path,
    responses: MockResponsesServer | None = None,
    *,
    workspace: Path | None = None,
    env: dict[str, str | None] | None = None,
    **config: Any,
) -> tuple[AppServerProcess, dict[str, Any]]:
    """Config written, server started, initialized, logged in, one thread started in `workspace`.

    Returns the server and the new thread object; the login notifications and `thread/started`
    are consumed. (HOME is already an empty directory: see `tests/conftest.py`.)
    """
    uri = responses.uri if responses is not None else UNUSED_PROVIDER_URI
    write_config(codex_home, uri, **config)
    server = await spawn(codex_home=codex_home, env=env)
    await server.initialize()
    await server.login_with_api_key(API_KEY)
    await server.read_notification("account/login/completed")
    await server.read_notification("account/updated")
    params: dict[str, Any] = {}
    if workspace is not None:
        params["cwd"] = str(workspace)
    thread = await server.start_thread(params)
    await server.read_notification("thread/started")
    return server, thread


async def start_turn(server: AppServerProcess, thread_id: str, text: str) -> dict[str, Any]:
    """`turn/start` with one text item; returns the turn object of the reply."""
    result = await server.request("turn/start", {"threadId": thread_id, "input": user_text(text)})
    turn: dict[str, Any] = result["turn"]
    return turn


async def wait_turn_completed(
    server: AppServerProcess, turn_id: str, timeout: float = 15.0
) -> dict[str, Any]:
    """The turn object of the next `turn/completed`, which must be `turn_id`'s."""
    params = await server.read_notification("turn/completed", timeout)
    turn: dict[str, Any] = params["turn"]
    assert turn["id"] == turn_id, f"turn/completed for another turn: {turn!r}"
    return turn


def notifications(server: AppServerProcess, method: str | None = None) -> list[dict[str, Any]]:
    """Every notification received so far (consumed or not), optionally only `method`'s params."""
    out = []
    for message in server.received_messages():
        if "id" in message or "method" not in message:
            continue
        if method is None:
            out.append(message)
        elif message["method"] == method:
            out.append(message.get("params"))
    return out


def items(server: AppServerProcess, method: str, item_type: str) -> list[dict[str, Any]]:
    """The params of every `item/started`/`item/completed` received so far for `item_type`."""
    return [p for p in notifications(server, method) if p["item"]["type"] == item_type]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def processes_with_argument(argument: str) -> list[int]:
    """Pids of live (non-zombie) processes one of whose argv entries contains `argument`."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if state != b"Z" and any(argument.encode() in arg for arg in argv):
            pids.append(int(entry))
    return pids


def describe_processes(pids: list[int]) -> str:
    """`pid state argv` lines for failure messages."""
    lines = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0].decode()
        except OSError:
            argv, state = "(gone)", "-"
        lines.append(f"  {pid} {state} {argv}")
    return "\n".join(lines) or "  (none)"


async def eventually(predicate: Any, timeout: float = 5.0, interval: float = 0.05) -> bool:
    """Poll `predicate()` until it is true or `timeout` passes; returns its last value."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        if predicate():
            return True
        if loop.time() >= deadline:
            return bool(predicate())
        await asyncio.sleep(interval)
