"""pytest twins of upstream `app-server/tests/suite/v2/command_exec.rs` (13 tests, all here).

Each twin starts the real `parley app-server` (over stdio, or over a WebSocket for the
connection-scoping test) with upstream's `config.toml` (read-only sandbox, so commands run under
bubblewrap) pointing at a real mock Responses server, and sends the same `command/exec*` traffic
with the same assertions. Upstream's helpers keep their names below.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets
from support.app_server import AppServerProcess, SpawnAppServer
from support.mock_responses import (
    MockResponsesServer,
    create_mock_responses_server_sequence_unchecked,
)
from support.thread_harness import create_config_toml

DEFAULT_READ_TIMEOUT = 10.0
Json = Any


@pytest.fixture
async def server() -> AsyncIterator[MockResponsesServer]:
    mock = await create_mock_responses_server_sequence_unchecked([])
    try:
        yield mock
    finally:
        await mock.stop()


def exec_params(command: list[str], process_id: str | None, **overrides: Any) -> Json:
    """`CommandExecParams` with upstream's spelled-out defaults (None fields are sent as null)."""
    params: Json = {
        "command": command,
        "processId": process_id,
        "tty": False,
        "streamStdin": False,
        "streamStdoutStderr": False,
        "outputBytesCap": None,
        "disableOutputCap": False,
        "disableTimeout": False,
        "timeoutMs": None,
        "cwd": None,
        "env": None,
        "size": None,
        "sandboxPolicy": None,
    }
    params.update(overrides)
    return params


async def initialized(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    server: MockResponsesServer,
    env: dict[str, str | None] | None = None,
) -> AppServerProcess:
    create_config_toml(codex_home, server.uri, "never")
    mcp = await spawn_app_server(codex_home=codex_home, env=env or {})
    await asyncio.wait_for(mcp.initialize(), DEFAULT_READ_TIMEOUT)
    return mcp


async def read_command_exec_delta(mcp: AppServerProcess) -> Json:
    return await mcp.read_notification("command/exec/outputDelta")


async def read_command_exec_output_until_contains(
    mcp: AppServerProcess, process_id: str, stream: str, expected: str
) -> str:
    deadline = time.monotonic() + DEFAULT_READ_TIMEOUT
    collected = ""
    while True:
        remaining = max(deadline - time.monotonic(), 0.01)
        delta = await mcp.read_notification("command/exec/outputDelta", timeout=remaining)
        assert delta["processId"] == process_id
        assert delta["stream"] == stream
        collected += base64.b64decode(delta["deltaBase64"]).decode().replace("\r", "")
        if expected in collected:
            return collected


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


async def test_command_exec_without_streams_can_be_terminated(
    spawn_app_server: SpawnAppServer, codex_home: Path, server: MockResponsesServer
) -> None:
    """A buffered command with a processId can be terminated; it answers with a failure."""
    mcp = await initialized(spawn_app_server, codex_home, server)
    process_id = "sleep-1"
    command_request_id = await mcp.send_request(
        "command/exec", exec_params(["sh", "-lc", "sleep 30"], process_id)
    )
    terminate_request_id = await mcp.send_request(
        "command/exec/terminate", {"processId": process_id}
    )
    terminate_response = await mcp.read_stream_until_response_message(terminate_request_id)
    assert terminate_response["result"] == {}
    response = (await mcp.read_stream_until_response_message(command_request_id))["result"]
    assert response["exitCode"] != 0, "terminated command should not succeed"
    assert response["stdout"] == ""
    assert response["stderr"] == ""


async def test_command_exec_without_process_id_keeps_buffered_compatibility(
    spawn_app_server: SpawnAppServer, codex_home: Path, server: MockResponsesServer
) -> None:
    """Without a processId the command's stdout and stderr come back in the answer."""
    mcp = await initialized(spawn_app_server, codex_home, server)
    command_request_id = await mcp.send_request(
        "command/exec",
        exec_params(["sh", "-lc", "printf 'legacy-out'; printf 'legacy-err' >&2"], None),
    )
    response = (await mcp.read_stream_until_response_message(command_request_id))["result"]
    assert response == {"exitCode": 0, "stdout": "legacy-out", "stderr": "legacy-err"}


async def test_command_exec_env_overrides_merge_with_server_environment_and_support_unset(
    spawn_app_server: SpawnAppServer, codex_home: Path, server: MockResponsesServer
) -> None:
    """`env` overrides the server's variables per key, adds new ones, and null unsets one."""
    mcp = await initialized(
        spawn_app_server, codex_home, server, env={"COMMAND_EXEC_BASELINE": "server"}
    )
    script = (
        'printf \'%s|%s|%s|%s\' "$COMMAND_EXEC_BASELINE" "$COMMAND_EXEC_EXTRA" '
        '"${RUST_LOG-unset}" "$CODEX_HOME"'
    )
    command_request_id = await mcp.send_request(
        "command/exec",
        exec_params(
            ["/bin/sh", "-lc", script],
            None,
            env={
                "COMMAND_EXEC_BASELINE": "request",
                "COMMAND_EXEC_EXTRA": "added",
                "RUST_LOG": None,
            },
        ),
    )
    response = (await mcp.read_stream_until_response_message(command_request_id))["result"]
    assert response == {
        "exitCode": 0,
        "stdout": f"request|added|unset|{codex_home}",
        "stderr": "",
    }


async def test_command_exec_rejects_disable_timeout_with_timeout_ms(
    spawn_app_server: SpawnAppServer, codex_home: Path, server: MockResponsesServer
) -> None:
    """`disableTimeout` and `timeoutMs` together are refused."""
    mcp = await initialized(spawn_app_server, codex_home, server)
    command_request_id = await mcp.send_request(
        "command/exec",
        exec_params(
            ["sh", "-lc", "sleep 1"], "invalid-timeout-1", disableTimeout=True, timeoutMs=1_000
        ),
    )
    error = await mcp.read_stream_until_error_message(command_request_id)
    assert error["error"]["message"] == "command/exec cannot set both timeoutMs and disableTimeout"


async def test_command_exec_rejects_disable_output_cap_with_output_bytes_cap(
    spawn_app_server: SpawnAppServer, codex_home: Path, server: MockResponsesServer
) -> None:
    """`disableOutputCap` and `outputBytesCap` together are refused."""
    mcp = await initialized(spawn_app_server, codex_home, server)
    command_request_id = await mcp.send_request(
        "command/exec",
        exec_params(
            ["sh", "-lc", "sleep 1"], "invalid-cap-1", outputBytesCap=1024, disableOutputCap=True
        ),
    )
    error = await mcp.read_stream_until_error_message(command_request_id)
    assert (
        error["error"]["message"]
        == "command/exec cannot set both outputBytesCap and disableOutputCap"
    )


async def test_command_exec_rejects_negative_timeout_ms(
    spawn_app_server: SpawnAppServer, codex_home: Path, server: MockResponsesServer
) -> None:
    """A negative `timeoutMs` is refused, quoting the value."""
    mcp = await initialized(spawn_app_server, codex_home, server)
    command_request_id = await mcp.send_request(
        "command/exec", exec_params(["sh", "-lc", "sleep 1"], "negative-timeout-1", timeoutMs=-1)
    )
    error = await mcp.read_stream_until_error_message(command_request_id)
    assert error["error"]["message"] == "command/exec timeoutMs must be non-negative, got -1"


async def test_command_exec_without_process_id_rejects_streaming(
    spawn_app_server: SpawnAppServer, codex_home: Path, server: MockResponsesServer
) -> None:
    """Streaming needs a processId to address the output to."""
    mcp = await initialized(spawn_app_server, codex_home, server)
    command_request_id = await mcp.send_request(
        "command/exec", exec_params(["sh", "-lc", "cat"], None, streamStdoutStderr=True)
    )
    error = await mcp.read_stream_until_error_message(command_request_id)
    assert (
        error["error"]["message"]
        == "command/exec tty or streaming requires a client-supplied processId"
    )


async def test_command_exec_non_streaming_respects_output_cap(
    spawn_app_server: SpawnAppServer, codex_home: Path, server: MockResponsesServer
) -> None:
    """`outputBytesCap` cuts each buffered stream separately."""
    mcp = await initialized(spawn_app_server, codex_home, server)
    command_request_id = await mcp.send_request(
        "command/exec",
        exec_params(
            ["sh", "-lc", "printf 'abcdef'; printf 'uvwxyz' >&2"], "cap-1", outputBytesCap=5
        ),
    )
    response = (await mcp.read_stream_until_response_message(command_request_id))["result"]
    assert response == {"exitCode": 0, "stdout": "abcde", "stderr": "uvwxy"}


async def test_command_exec_streaming_does_not_buffer_output(
    spawn_app_server: SpawnAppServer, codex_home: Path, server: MockResponsesServer
) -> None:
    """Streamed output is capped, flagged `capReached`, and not repeated in the answer."""
    mcp = await initialized(spawn_app_server, codex_home, server)
    process_id = "stream-cap-1"
    command_request_id = await mcp.send_request(
        "command/exec",
        exec_params(
            ["sh", "-lc", "printf 'abcdefghij'; sleep 30"],
            process_id,
            streamStdoutStderr=True,
            outputBytesCap=5,
        ),
    )
    delta = await read_command_exec_delta(mcp)
    assert delta["processId"] == process_id
    assert delta["stream"] == "stdout"
    assert base64.b64decode(delta["deltaBase64"]) == b"abcde"
    assert delta["capReached"]
    terminate_request_id = await mcp.send_request(
        "command/exec/terminate", {"processId": process_id}
    )
    terminate_response = await mcp.read_stream_until_response_message(terminate_request_id)
    assert terminate_response["result"] == {}
    response = (await mcp.read_stream_until_response_message(command_request_id))["result"]
    assert response["exitCode"] != 0, "terminated command should not succeed"
    assert response["stdout"] == ""
    assert response["stderr"] == ""


async def test_command_exec_pipe_streams_output_and_accepts_write(
    spawn_app_server: SpawnAppServer, codex_home: Path, server: MockResponsesServer
) -> None:
    """On pipes, stdout and stderr stream separately and stdin takes writes, then EOF."""
    mcp = await initialized(spawn_app_server, codex_home, server)
    process_id = "pipe-1"
    script = (
        "printf 'out-start\\n'; printf 'err-start\\n' >&2; IFS= read line; "
        "printf 'out:%s\\n' \"$line\"; printf 'err:%s\\n' \"$line\" >&2"
    )
    command_request_id = await mcp.send_request(
        "command/exec",
        exec_params(["sh", "-lc", script], process_id, streamStdin=True, streamStdoutStderr=True),
    )
    seen = [await read_command_exec_delta(mcp), await read_command_exec_delta(mcp)]
    assert all(d["processId"] == process_id for d in seen)
    assert any(d["stream"] == "stdout" and d["deltaBase64"] == b64("out-start\n") for d in seen)
    assert any(d["stream"] == "stderr" and d["deltaBase64"] == b64("err-start\n") for d in seen)

    write_request_id = await mcp.send_request(
        "command/exec/write",
        {"processId": process_id, "deltaBase64": b64("hello\n"), "closeStdin": True},
    )
    write_response = await mcp.read_stream_until_response_message(write_request_id)
    assert write_response["result"] == {}

    seen = [await read_command_exec_delta(mcp), await read_command_exec_delta(mcp)]
    assert all(d["processId"] == process_id for d in seen)
    assert any(d["stream"] == "stdout" and d["deltaBase64"] == b64("out:hello\n") for d in seen)
    assert any(d["stream"] == "stderr" and d["deltaBase64"] == b64("err:hello\n") for d in seen)

    response = (await mcp.read_stream_until_response_message(command_request_id))["result"]
    assert response == {"exitCode": 0, "stdout": "", "stderr": ""}


async def test_command_exec_tty_implies_streaming_and_reports_pty_output(
    spawn_app_server: SpawnAppServer, codex_home: Path, server: MockResponsesServer
) -> None:
    """`tty: true` runs on a terminal, streams its output and takes stdin writes."""
    mcp = await initialized(spawn_app_server, codex_home, server)
    process_id = "tty-1"
    script = (
        "stty -echo; if [ -t 0 ]; then printf 'tty\\n'; else printf 'notty\\n'; fi; "
        "IFS= read line; printf 'echo:%s\\n' \"$line\""
    )
    command_request_id = await mcp.send_request(
        "command/exec", exec_params(["sh", "-lc", script], process_id, tty=True)
    )
    started_text = await read_command_exec_output_until_contains(mcp, process_id, "stdout", "tty\n")
    assert "tty\n" in started_text, f"expected TTY startup output, got {started_text!r}"

    write_request_id = await mcp.send_request(
        "command/exec/write",
        {"processId": process_id, "deltaBase64": b64("world\n"), "closeStdin": True},
    )
    write_response = await mcp.read_stream_until_response_message(write_request_id)
    assert write_response["result"] == {}

    echoed_text = await read_command_exec_output_until_contains(
        mcp, process_id, "stdout", "echo:world\n"
    )
    assert "echo:world\n" in echoed_text, f"expected TTY echo output, got {echoed_text!r}"

    response = (await mcp.read_stream_until_response_message(command_request_id))["result"]
    assert response["exitCode"] == 0
    assert response["stdout"] == ""
    assert response["stderr"] == ""


async def test_command_exec_tty_supports_initial_size_and_resize(
    spawn_app_server: SpawnAppServer, codex_home: Path, server: MockResponsesServer
) -> None:
    """A terminal starts at the requested size and `command/exec/resize` changes it."""
    mcp = await initialized(spawn_app_server, codex_home, server)
    process_id = "tty-size-1"
    script = (
        "stty -echo; printf 'start:%s\\n' \"$(stty size)\"; IFS= read _line; "
        "printf 'after:%s\\n' \"$(stty size)\""
    )
    command_request_id = await mcp.send_request(
        "command/exec",
        exec_params(["sh", "-lc", script], process_id, tty=True, size={"rows": 31, "cols": 101}),
    )
    started_text = await read_command_exec_output_until_contains(
        mcp, process_id, "stdout", "start:31 101\n"
    )
    assert "start:31 101\n" in started_text, f"unexpected initial size output: {started_text!r}"

    resize_request_id = await mcp.send_request(
        "command/exec/resize", {"processId": process_id, "size": {"rows": 45, "cols": 132}}
    )
    resize_response = await mcp.read_stream_until_response_message(resize_request_id)
    assert resize_response["result"] == {}

    write_request_id = await mcp.send_request(
        "command/exec/write",
        {"processId": process_id, "deltaBase64": b64("go\n"), "closeStdin": True},
    )
    write_response = await mcp.read_stream_until_response_message(write_request_id)
    assert write_response["result"] == {}

    resized_text = await read_command_exec_output_until_contains(
        mcp, process_id, "stdout", "after:45 132\n"
    )
    assert "after:45 132\n" in resized_text, f"unexpected resized output: {resized_text!r}"

    response = (await mcp.read_stream_until_response_message(command_request_id))["result"]
    assert response["exitCode"] == 0
    assert response["stdout"] == ""
    assert response["stderr"] == ""


# -- the WebSocket test ---------------------------------------------------------------------------


class WsClient:
    """A JSON-RPC client over one WebSocket connection (upstream's `WsClient` helpers)."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket

    async def send_request(self, method: str, request_id: int, params: Json) -> None:
        message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        await self.socket.send(orjson.dumps(message).decode())

    async def read_jsonrpc_message(self) -> Json:
        raw = await asyncio.wait_for(self.socket.recv(), DEFAULT_READ_TIMEOUT)
        return orjson.loads(raw)

    async def send_initialize_request(self, request_id: int, client_name: str) -> None:
        params = {
            "clientInfo": {"name": client_name, "title": None, "version": "0.1.0"},
            "capabilities": {"experimentalApi": True},
        }
        await self.send_request("initialize", request_id, params)

    async def read_initialize_response(self, request_id: int) -> None:
        while True:
            message = await self.read_jsonrpc_message()
            if message.get("id") == request_id and "result" in message:
                return

    async def read_command_exec_delta_ws(self) -> Json:
        while True:
            message = await self.read_jsonrpc_message()
            if message.get("method") == "command/exec/outputDelta" and "id" not in message:
                return message["params"]

    async def assert_no_message(self, wait_for: float) -> None:
        with contextlib.suppress(TimeoutError):
            frame = await asyncio.wait_for(self.socket.recv(), wait_for)
            raise AssertionError(f"unexpected frame while waiting for silence: {frame!r}")


async def connect_websocket(port: int) -> Any:
    deadline = time.monotonic() + DEFAULT_READ_TIMEOUT
    while True:
        try:
            return await websockets.connect(f"ws://127.0.0.1:{port}")
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def process_with_marker_exists(marker: str) -> bool:
    # ps cuts lines at $COLUMNS when it is set (pytest sets it), which would hide the marker.
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    output = subprocess.run(["ps", "-axo", "command"], capture_output=True, check=True, env=env)
    return any(marker in line for line in output.stdout.decode().splitlines())


async def wait_for_process_marker(marker: str, should_exist: bool) -> None:
    deadline = time.monotonic() + 5.0
    while True:
        if process_with_marker_exists(marker) == should_exist:
            return
        if time.monotonic() >= deadline:
            expectation = "appear" if should_exist else "exit"
            raise AssertionError(f"process marker {marker!r} did not {expectation} before timeout")
        await asyncio.sleep(0.05)


async def test_command_exec_process_ids_are_connection_scoped_and_disconnect_terminates_process(
    spawn_app_server: SpawnAppServer, codex_home: Path, server: MockResponsesServer
) -> None:
    """Another connection cannot reach a command's processId; closing its own kills it."""
    create_config_toml(codex_home, server.uri, "never")
    marker = f"codex-command-exec-marker-{time.time_ns()}"
    port = free_port()
    await spawn_app_server(codex_home=codex_home, args=["--listen", f"ws://127.0.0.1:{port}"])
    ws1 = WsClient(await connect_websocket(port))
    ws2 = WsClient(await connect_websocket(port))

    await ws1.send_initialize_request(1, "ws_client_one")
    await ws1.read_initialize_response(1)
    await ws2.send_initialize_request(2, "ws_client_two")
    await ws2.read_initialize_response(2)

    python = "python3" if sys.platform != "win32" else sys.executable
    await ws1.send_request(
        "command/exec",
        101,
        {
            "command": [
                python,
                "-c",
                "import time; print('ready', flush=True); time.sleep(30)",
                marker,
            ],
            "processId": "shared-process",
            "streamStdoutStderr": True,
        },
    )
    delta = await ws1.read_command_exec_delta_ws()
    assert delta["processId"] == "shared-process"
    assert delta["stream"] == "stdout"
    assert "ready" in base64.b64decode(delta["deltaBase64"]).decode()
    await wait_for_process_marker(marker, True)

    await ws2.send_request("command/exec/terminate", 102, {"processId": "shared-process"})
    while True:
        message = await ws2.read_jsonrpc_message()
        if "error" in message and message.get("id") == 102:
            terminate_error = message
            break
    assert (
        terminate_error["error"]["message"]
        == 'no active command/exec for process id "shared-process"'
    )
    await wait_for_process_marker(marker, True)

    await ws2.assert_no_message(0.25)
    await ws1.socket.close()

    await wait_for_process_marker(marker, False)
    await ws2.socket.close()
