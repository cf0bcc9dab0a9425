"""pytest twins of upstream `app-server/tests/suite/v2/realtime_conversation.rs` (16 tests).

Each test keeps the Rust test's name, its scripted upstream traffic (the same JSON events in the
same batches) and its assertions, and runs them against the real `parley app-server` subprocess,
a real scripted Realtime WebSocket server (`support.mock_realtime`) and a real HTTP server standing
in for the Responses API and WebRTC call creation (`support.mock_responses`).

Upstream's helpers are ported below under their own names. Two notes on the translation:

* Rust deserialises notifications into typed structs and compares the structs, so a Python
  comparison of a whole notification looks only at the struct's fields (`as_struct`); where Rust
  indexes a `serde_json::Value` (`value["a"]["b"]`, Null when missing) the twin is `at()`.
* `skip_if_no_network!` has no counterpart: these tests never skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import signal
import warnings
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from support.app_server import AppServerProcess, ReadTimeout
from support.codex_config import REALTIME_FEATURE_KEY, write_config_toml
from support.mock_realtime import (
    ServerEvent,
    WebSocketConnectionConfig,
    WebSocketTestServer,
    start_websocket_server,
    start_websocket_server_with_headers,
)
from support.mock_responses import (
    MockResponsesServer,
    RecordedRequest,
    ScriptedResponse,
    create_mock_responses_server_sequence_unchecked,
)
from support.sse import (
    create_final_assistant_message_sse_response,
    create_shell_command_sse_response,
    ev_assistant_message,
    ev_completed,
    ev_response_created,
    sse,
)

DEFAULT_TIMEOUT = 10.0
STARTUP_CONTEXT_HEADER = "Startup context from Codex."
V2_STEERING_ACKNOWLEDGEMENT = "This was sent to steer the previous background agent task."

Json = Any


# -- serde_json / serde twins ---------------------------------------------------------------------

_MISSING = object()


def at(value: Json, *path: str | int) -> Json:
    """`value[p0][p1]…` with serde_json `Index` semantics: None (Null) when anything is missing."""
    for key in path:
        if isinstance(key, str) and isinstance(value, dict):
            value = value.get(key)
        elif isinstance(key, int) and isinstance(value, list) and 0 <= key < len(value):
            value = value[key]
        else:
            return None
    return value


def as_struct(value: Json, *fields: str) -> dict[str, Json]:
    """The fields a Rust struct would deserialise from `value` (missing `Option`s are None)."""
    assert isinstance(value, dict), f"expected a JSON object, got {value!r}"
    return {name: value.get(name) for name in fields}


def to_json_string(value: Json) -> str:
    """`serde_json::Value::to_string()` (compact)."""
    return orjson.dumps(value).decode()


# -- upstream enums and config --------------------------------------------------------------------


@dataclass(frozen=True)
class StartupContextConfig:
    """`Generated` (override None: no config line) or `Override(context)`."""

    override: str | None = None

    @classmethod
    def generated(cls) -> StartupContextConfig:
        return cls(None)

    @classmethod
    def override_with(cls, context: str) -> StartupContextConfig:
        return cls(context)


class RealtimeTestVersion(enum.Enum):
    V1 = "v1"
    V2 = "v2"

    def config_value(self) -> str:
        return self.value


class RealtimeTestSandbox(enum.Enum):
    READ_ONLY = "read-only"
    DANGER_FULL_ACCESS = "danger-full-access"

    def config_value(self) -> str:
        return self.value


def create_config_toml(
    codex_home: Path,
    responses_server_uri: str,
    realtime_server_uri: str,
    realtime_enabled: bool,
    startup_context: StartupContextConfig,
) -> None:
    create_config_toml_with_realtime_version(
        codex_home,
        responses_server_uri,
        realtime_server_uri,
        realtime_enabled,
        startup_context,
        RealtimeTestVersion.V2,
        RealtimeTestSandbox.READ_ONLY,
    )


def create_config_toml_with_realtime_version(
    codex_home: Path,
    responses_server_uri: str,
    realtime_server_uri: str,
    realtime_enabled: bool,
    startup_context: StartupContextConfig,
    realtime_version: RealtimeTestVersion,
    sandbox: RealtimeTestSandbox,
) -> None:
    assert REALTIME_FEATURE_KEY == "realtime_conversation"
    write_config_toml(
        codex_home,
        responses_server_uri,
        realtime_server_uri,
        realtime_enabled,
        startup_context.override,
        realtime_version.config_value(),
        sandbox.config_value(),
    )


# -- everything a test starts, always shut down ---------------------------------------------------


class SpecEnv:
    """Starts the app-server subprocess and the mock servers of one test and owns their cleanup.

    Tests shut things down explicitly where the Rust test does (`shutdown()`); the fixture's
    `aclose()` repeats that (it is idempotent) so a failing test leaks nothing either: app-server
    processes first (stdin closed, killed with their process group after 5 s), then the servers.
    """

    def __init__(self, codex_home: Path) -> None:
        self.codex_home = codex_home
        self._processes: list[AppServerProcess] = []
        self._realtime_servers: list[WebSocketTestServer] = []
        self._responses_servers: list[MockResponsesServer] = []
        # wiremock `.expect(n)` on a mounted mock: /responses request counts checked at shutdown.
        self.responses_expectations: dict[int, int] = {}
        # Environment overrides for the app-server processes started from now on.
        self.app_server_env: dict[str, str | None] = {}

    def isolate_login_shell(self) -> None:
        """Give the app-server (and so its `bash -lc` tool commands) an empty HOME.

        The shell tool runs a login shell, which sources the machine's ~/.profile; on a developer
        machine that can be slow or block (e.g. `pyenv init` waiting for pyenv's rehash lock
        while other test runs start shells), which would trip the scripted 5 s command timeout
        for reasons outside the test. The upstream CI machines have no such profile.
        """
        home = self.codex_home.parent / "home"
        home.mkdir(exist_ok=True)
        self.app_server_env["HOME"] = str(home)

    async def mcp_process(self, codex_home: Path | None = None) -> AppServerProcess:
        """`McpProcess::new(codex_home)`: spawn `python -m parley app-server`."""
        process = await AppServerProcess.spawn(
            codex_home or self.codex_home, env=dict(self.app_server_env)
        )
        self._processes.append(process)
        return process

    async def create_mock_responses_server_sequence_unchecked(
        self, responses: Sequence[str | ScriptedResponse], *, gate: asyncio.Event | None = None
    ) -> MockResponsesServer:
        server = await create_mock_responses_server_sequence_unchecked(responses, gate=gate)
        self._responses_servers.append(server)
        return server

    async def start_websocket_server(
        self, connections: list[list[list[ServerEvent]]]
    ) -> WebSocketTestServer:
        server = await start_websocket_server(connections)
        self._realtime_servers.append(server)
        return server

    async def start_websocket_server_with_headers(
        self, connections: list[WebSocketConnectionConfig]
    ) -> WebSocketTestServer:
        server = await start_websocket_server_with_headers(connections)
        self._realtime_servers.append(server)
        return server

    async def close_process(self, process: AppServerProcess) -> None:
        """Drop the McpProcess: close stdin, wait (kill after 5 s), reap its process group."""
        returncode = await process.close(check=False)
        if process.returncode is None:  # pragma: no cover - close() always waits
            process.kill()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            # Anything the server spawned in its session (shell tools) that outlived it.
            os.killpg(process.pid, 0)
            warnings.warn(
                f"app-server pid {process.pid} left processes behind; killing them",
                stacklevel=2,
            )
            os.killpg(process.pid, signal.SIGKILL)
        if returncode is not None and returncode < 0:
            warnings.warn(
                f"app-server pid {process.pid} had to be killed after stdin closed "
                f"(status {returncode})",
                stacklevel=2,
            )

    async def aclose(self) -> None:
        for process in self._processes:
            await self.close_process(process)
        for realtime_server in self._realtime_servers:
            await realtime_server.shutdown()
        for responses_server in self._responses_servers:
            await responses_server.stop()


@pytest.fixture
async def env(codex_home: Path) -> AsyncIterator[SpecEnv]:
    spec_env = SpecEnv(codex_home)
    try:
        yield spec_env
    finally:
        await spec_env.aclose()


# -- request capture and gated responses ----------------------------------------------------------


class RealtimeCallRequestCapture:
    """Captures `POST /v1/realtime/calls` requests (the mock mounted on the Responses server)."""

    def __init__(self, server: MockResponsesServer) -> None:
        self._server = server

    def single_request(self) -> RecordedRequest:
        requests = self._server.call_requests()
        assert len(requests) == 1, "expected one realtime call request"
        return requests[0]


def mount_realtime_calls(
    server: MockResponsesServer, location: str, body: str = "v=answer\r\n"
) -> RealtimeCallRequestCapture:
    """`Mock::given(POST /v1/realtime/calls).and(call_capture).respond_with(200 + Location)`."""
    server.mount_realtime_calls(status=200, headers={"Location": location}, body=body)
    return RealtimeCallRequestCapture(server)


async def start_gated_responses_server(
    env: SpecEnv, response: str, expect: int
) -> tuple[MockResponsesServer, asyncio.Event]:
    """`responses::start_mock_server()` with a `GatedSseResponse` mounted on `.*/responses$`.

    Every `/responses` request gets `response`; the first is held until the returned gate is set
    (the Rust test's `gate_completed_tx.send(())`). `.expect(n)` is checked at harness shutdown,
    as wiremock checks it when the server is dropped.
    """
    gate = asyncio.Event()
    server = await env.create_mock_responses_server_sequence_unchecked(
        [response] * expect, gate=gate
    )
    env.responses_expectations[id(server)] = expect
    return server, gate


# -- client helpers -------------------------------------------------------------------------------


async def read_notification(mcp: AppServerProcess, method: str) -> Json:
    """The params of the next `method` notification (DEFAULT_TIMEOUT)."""
    return await mcp.read_notification(method, timeout=DEFAULT_TIMEOUT)


async def read_response(mcp: AppServerProcess, request_id: int) -> Json:
    """`to_response(read_stream_until_response_message(id))`: the result (a JSON object)."""
    message = await mcp.read_stream_until_response_message(request_id, timeout=DEFAULT_TIMEOUT)
    result = message["result"]
    assert isinstance(result, dict), f"expected an object result, got {result!r}"
    return result


async def login_with_api_key(mcp: AppServerProcess, api_key: str) -> None:
    request_id = await mcp.send_request(
        "account/login/start", {"type": "apiKey", "apiKey": api_key}
    )
    login = await read_response(mcp, request_id)
    assert as_struct(login, "type") == {"type": "apiKey"}


async def start_thread(mcp: AppServerProcess) -> str:
    """`thread/start` with `ThreadStartParams::default()`; returns the thread id."""
    request_id = await mcp.send_request("thread/start", {})
    thread_start = await read_response(mcp, request_id)
    thread_id = at(thread_start, "thread", "id")
    assert isinstance(thread_id, str), f"thread/start result without thread.id: {thread_start}"
    return thread_id


def realtime_start_params(
    thread_id: str,
    *,
    prompt: str | object | None = _MISSING,
    transport: Json = None,
    voice: str | None = None,
) -> dict[str, Json]:
    """`ThreadRealtimeStartParams` as serde writes it: `prompt: None` is omitted (double option),
    `Some(None)` is null; the other `Option`s are written as null."""
    params: dict[str, Json] = {"threadId": thread_id}
    if prompt is not _MISSING:
        params["prompt"] = prompt
    params["sessionId"] = None
    params["transport"] = transport
    params["voice"] = voice
    return params


def webrtc_transport(sdp: str) -> dict[str, str]:
    return {"type": "webrtc", "sdp": sdp}


def append_audio_params(thread_id: str) -> dict[str, Json]:
    return {
        "threadId": thread_id,
        "audio": {
            "data": "BQYH",
            "sampleRate": 24_000,
            "numChannels": 1,
            "samplesPerChannel": 480,
            "itemId": None,
        },
    }


def item_type(notification: Json) -> Json:
    return at(notification, "item", "type")


async def wait_for_started_command_execution(mcp: AppServerProcess) -> Json:
    while True:
        started = await read_notification(mcp, "item/started")
        if item_type(started) == "commandExecution":
            return started


async def wait_for_completed_command_execution(mcp: AppServerProcess) -> Json:
    while True:
        completed = await read_notification(mcp, "item/completed")
        if item_type(completed) == "commandExecution":
            return completed


def responses_requests(server: MockResponsesServer) -> list[Json]:
    return server.responses_requests()


def response_request_contains_text(request: Json, text: str) -> bool:
    return text in to_json_string(request)


def realtime_tool_ok_command() -> list[str]:
    return ["printf", "realtime-tool-ok"]


def function_call_output_sideband_requests(server: WebSocketTestServer) -> list[Json]:
    return [
        body
        for body in (request.body_json() for request in server.single_connection())
        if at(body, "type") == "conversation.item.create"
        and at(body, "item", "type") == "function_call_output"
    ]


# -- upstream assertion helpers -------------------------------------------------------------------


def assert_v2_function_call_output(request: Json, call_id: str, expected_output: str) -> None:
    assert request == {
        "type": "conversation.item.create",
        "item": {
            "type": "function_call_output",
            "call_id": call_id,
            "output": f'"Agent Final Message":\n\n{expected_output}',
        },
    }


def assert_v2_progress_update(request: Json, expected_text: str) -> None:
    assert request == {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [
                {
                    "type": "input_text",
                    "text": f"{expected_text}\n\n"
                    "Update from background agent (task hasn't finished yet):",
                }
            ],
        },
    }


def assert_v2_user_text_item(request: Json, expected_text: str) -> None:
    assert request == {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": expected_text}],
        },
    }


def assert_v2_response_create(request: Json) -> None:
    assert request == {"type": "response.create"}


def assert_v1_session_update(request: Json) -> None:
    assert at(request, "type") == "session.update"
    assert at(request, "session", "type") == "quicksilver"
    instructions = at(request, "session", "instructions")
    assert isinstance(instructions, str), "v1 session.update instructions"
    assert "startup context" in instructions
    assert at(request, "session", "audio", "output", "voice") == "cove"
    assert at(request, "session", "tools") is None


def assert_v2_session_update(request: Json) -> None:
    assert at(request, "type") == "session.update"
    assert at(request, "session", "type") == "realtime"
    instructions = at(request, "session", "instructions")
    assert isinstance(instructions, str), "v2 session.update instructions"
    assert "startup context" in instructions
    assert at(request, "session", "tools", 0, "name") == "background_agent"


def assert_call_create_multipart(request: RecordedRequest, offer_sdp: str, session: str) -> None:
    assert request.path == "/v1/realtime/calls"
    assert request.query is None
    assert request.header("content-type") == (
        "multipart/form-data; boundary=codex-realtime-call-boundary"
    )
    body = request.body.decode("utf-8")  # "multipart body should be utf-8"
    assert body == (
        "--codex-realtime-call-boundary\r\n"
        'Content-Disposition: form-data; name="sdp"\r\n'
        "Content-Type: application/sdp\r\n"
        "\r\n"
        f"{offer_sdp}\r\n"
        "--codex-realtime-call-boundary\r\n"
        'Content-Disposition: form-data; name="session"\r\n'
        "Content-Type: application/json\r\n"
        "\r\n"
        f"{session}\r\n"
        "--codex-realtime-call-boundary--\r\n"
    )


def v1_session_create_json() -> str:
    return (
        r'{"audio":{"input":{"format":{"type":"audio/pcm","rate":24000}},'
        r'"output":{"voice":"cove"}},"type":"quicksilver","model":"gpt-realtime-1.5",'
        r'"instructions":"backend prompt\n\nstartup context"}'
    )


def assert_invalid_request(error_message: Json, message: str) -> None:
    error = error_message["error"]
    assert error["code"] == -32600
    assert error["message"] == message
    assert error.get("data") is None


# -- the end-to-end harness -----------------------------------------------------------------------


@dataclass(frozen=True)
class MainLoopResponsesScript:
    """Scripted SSE bodies for the delegated background-agent turns (`/responses`)."""

    responses: list[str]


@dataclass(frozen=True)
class RealtimeSidebandScript:
    """Scripted server events for the realtime sideband WebSocket joined after call creation."""

    connections: list[WebSocketConnectionConfig]


@dataclass
class StartedWebrtcRealtime:
    started: Json
    sdp: Json


def main_loop_responses(responses: list[str]) -> MainLoopResponsesScript:
    return MainLoopResponsesScript(responses)


def no_main_loop_responses() -> MainLoopResponsesScript:
    return main_loop_responses([])


def realtime_sideband(connections: list[WebSocketConnectionConfig]) -> RealtimeSidebandScript:
    return RealtimeSidebandScript(connections)


def realtime_sideband_connection(
    realtime_server_events: list[list[ServerEvent]],
) -> WebSocketConnectionConfig:
    return WebSocketConnectionConfig(
        requests=realtime_server_events,
        response_headers=[],
        accept_delay=None,
        close_after_requests=True,
    )


def open_realtime_sideband_connection(
    realtime_server_events: list[list[ServerEvent]],
) -> WebSocketConnectionConfig:
    config = realtime_sideband_connection(realtime_server_events)
    config.close_after_requests = False
    return config


def session_updated(session_id: str) -> Json:
    return {
        "type": "session.updated",
        "session": {"id": session_id, "instructions": "backend prompt"},
    }


def v2_background_agent_tool_call(call_id: str, prompt: str) -> Json:
    return {
        "type": "conversation.item.done",
        "item": {
            "id": f"item_{call_id}",
            "type": "function_call",
            "name": "background_agent",
            "call_id": call_id,
            "arguments": to_json_string({"prompt": prompt}),
        },
    }


class RealtimeE2eHarness:
    """The mocked app-server realtime route: client, Responses mock with WebRTC call capture,
    sideband WebSocket server, login, config and a started thread."""

    def __init__(
        self,
        env: SpecEnv,
        mcp: AppServerProcess,
        main_loop_responses_server: MockResponsesServer,
        realtime_server: WebSocketTestServer,
        call_capture: RealtimeCallRequestCapture,
        thread_id: str,
    ) -> None:
        self._env = env
        self.mcp = mcp
        self.main_loop_responses_server = main_loop_responses_server
        self.realtime_server = realtime_server
        self.call_capture = call_capture
        self.thread_id = thread_id

    @classmethod
    async def new(
        cls,
        env: SpecEnv,
        realtime_version: RealtimeTestVersion,
        main_loop: MainLoopResponsesScript,
        realtime_sideband: RealtimeSidebandScript,
    ) -> RealtimeE2eHarness:
        main_loop_responses_server = await env.create_mock_responses_server_sequence_unchecked(
            main_loop.responses
        )
        return await cls.new_with_main_loop_responses_server_and_sandbox(
            env,
            realtime_version,
            main_loop_responses_server,
            realtime_sideband,
            RealtimeTestSandbox.READ_ONLY,
        )

    @classmethod
    async def new_with_sandbox(
        cls,
        env: SpecEnv,
        realtime_version: RealtimeTestVersion,
        main_loop: MainLoopResponsesScript,
        realtime_sideband: RealtimeSidebandScript,
        sandbox: RealtimeTestSandbox,
    ) -> RealtimeE2eHarness:
        main_loop_responses_server = await env.create_mock_responses_server_sequence_unchecked(
            main_loop.responses
        )
        return await cls.new_with_main_loop_responses_server_and_sandbox(
            env, realtime_version, main_loop_responses_server, realtime_sideband, sandbox
        )

    @classmethod
    async def new_with_main_loop_responses_server(
        cls,
        env: SpecEnv,
        realtime_version: RealtimeTestVersion,
        main_loop_responses_server: MockResponsesServer,
        realtime_sideband: RealtimeSidebandScript,
    ) -> RealtimeE2eHarness:
        return await cls.new_with_main_loop_responses_server_and_sandbox(
            env,
            realtime_version,
            main_loop_responses_server,
            realtime_sideband,
            RealtimeTestSandbox.READ_ONLY,
        )

    @classmethod
    async def new_with_main_loop_responses_server_and_sandbox(
        cls,
        env: SpecEnv,
        realtime_version: RealtimeTestVersion,
        main_loop_responses_server: MockResponsesServer,
        realtime_sideband: RealtimeSidebandScript,
        sandbox: RealtimeTestSandbox,
    ) -> RealtimeE2eHarness:
        call_capture = mount_realtime_calls(
            main_loop_responses_server, location="/v1/realtime/calls/rtc_e2e"
        )
        realtime_server = await env.start_websocket_server_with_headers(
            realtime_sideband.connections
        )
        create_config_toml_with_realtime_version(
            env.codex_home,
            main_loop_responses_server.uri,
            realtime_server.uri,
            True,  # realtime_enabled
            StartupContextConfig.override_with("startup context"),
            realtime_version,
            sandbox,
        )
        mcp = await env.mcp_process()
        await mcp.initialize()
        await login_with_api_key(mcp, "sk-test-key")
        thread_id = await start_thread(mcp)
        return cls(env, mcp, main_loop_responses_server, realtime_server, call_capture, thread_id)

    async def start_webrtc_realtime(self, offer_sdp: str) -> StartedWebrtcRealtime:
        """Start realtime over WebRTC, then wait for `started` and the SDP answer."""
        start_request_id = await self.mcp.send_request(
            "thread/realtime/start",
            realtime_start_params(
                self.thread_id, prompt="backend prompt", transport=webrtc_transport(offer_sdp)
            ),
        )
        await read_response(self.mcp, start_request_id)
        started = await self.read_notification("thread/realtime/started")
        sdp = await self.read_notification("thread/realtime/sdp")
        return StartedWebrtcRealtime(started=started, sdp=sdp)

    async def read_notification(self, method: str) -> Json:
        return await read_notification(self.mcp, method)

    async def sideband_outbound_request(self, request_index: int) -> Json:
        """The nth JSON message app-server wrote to the fake Realtime API sideband websocket."""
        request = await self.realtime_server.wait_for_request(0, request_index)
        return request.body_json()

    async def append_audio(self, thread_id: str) -> None:
        request_id = await self.mcp.send_request(
            "thread/realtime/appendAudio", append_audio_params(thread_id)
        )
        await read_response(self.mcp, request_id)

    async def append_text(self, thread_id: str, text: str) -> None:
        request_id = await self.mcp.send_request(
            "thread/realtime/appendText", {"threadId": thread_id, "text": text}
        )
        await read_response(self.mcp, request_id)

    async def main_loop_responses_requests(self) -> list[Json]:
        return responses_requests(self.main_loop_responses_server)

    async def shutdown(self) -> None:
        # Rust drops the McpProcess (killing the child) and the servers with the harness, and
        # wiremock checks `.expect(n)` as the Responses server is dropped.
        await self._env.close_process(self.mcp)
        await self.realtime_server.shutdown()
        await self.main_loop_responses_server.stop()
        expected = self._env.responses_expectations.get(id(self.main_loop_responses_server))
        if expected is not None:
            received = len(self.main_loop_responses_server.responses_request_records())
            assert received == expected, (
                f"mock /responses expected {expected} request(s), received {received}"
            )


# -- tests ----------------------------------------------------------------------------------------


async def test_realtime_conversation_streams_v2_notifications(env: SpecEnv) -> None:
    """A v2 realtime session forwards audio, items, transcripts, a handoff and an upstream error to
    the client, then reports the session closed because of that error."""
    responses_server = await env.create_mock_responses_server_sequence_unchecked([])
    realtime_server = await env.start_websocket_server(
        [
            [
                [
                    {
                        "type": "session.updated",
                        "session": {"id": "sess_backend", "instructions": "backend prompt"},
                    }
                ],
                [],
                [
                    {
                        "type": "response.output_audio.delta",
                        "delta": "AQID",
                        "sample_rate": 24_000,
                        "channels": 1,
                        "samples_per_channel": 512,
                    },
                    {
                        "type": "conversation.item.added",
                        "item": {
                            "type": "message",
                            "role": "assistant",
                            "content": [{"type": "text", "text": "hi"}],
                        },
                    },
                    {
                        "type": "conversation.item.input_audio_transcription.delta",
                        "delta": "delegate now",
                    },
                    {"type": "response.output_text.delta", "delta": "working"},
                    {
                        "type": "conversation.item.done",
                        "item": {
                            "id": "item_2",
                            "type": "function_call",
                            "name": "background_agent",
                            "call_id": "handoff_1",
                            "arguments": '{"input_transcript":"delegate now"}',
                        },
                    },
                    {"type": "error", "message": "upstream boom"},
                ],
                [],
            ]
        ]
    )

    create_config_toml(
        env.codex_home,
        responses_server.uri,
        realtime_server.uri,
        True,  # realtime_enabled
        StartupContextConfig.generated(),
    )

    mcp = await env.mcp_process()
    await mcp.initialize()
    await login_with_api_key(mcp, "sk-test-key")

    thread_id = await start_thread(mcp)

    start_request_id = await mcp.send_request(
        "thread/realtime/start", realtime_start_params(thread_id, voice="cedar")
    )
    await read_response(mcp, start_request_id)

    started = await read_notification(mcp, "thread/realtime/started")
    assert started["threadId"] == thread_id
    assert started.get("sessionId") is not None
    assert started["version"] == "v2"

    startup_context_request = await realtime_server.wait_for_request(0, 0)
    assert at(startup_context_request.body_json(), "type") == "session.update"
    assert at(startup_context_request.body_json(), "session", "audio", "output", "voice") == "cedar"
    startup_context_instructions = at(
        startup_context_request.body_json(), "session", "instructions"
    )
    assert isinstance(startup_context_instructions, str), "expected startup context instructions"
    assert startup_context_instructions.startswith("backend prompt")
    assert STARTUP_CONTEXT_HEADER in startup_context_instructions

    audio_append_request_id = await mcp.send_request(
        "thread/realtime/appendAudio", append_audio_params(started["threadId"])
    )
    await read_response(mcp, audio_append_request_id)

    text_append_request_id = await mcp.send_request(
        "thread/realtime/appendText", {"threadId": started["threadId"], "text": "hello"}
    )
    await read_response(mcp, text_append_request_id)

    output_audio = await read_notification(mcp, "thread/realtime/outputAudio/delta")
    assert output_audio["audio"]["data"] == "AQID"
    assert output_audio["audio"]["sampleRate"] == 24_000
    assert output_audio["audio"]["numChannels"] == 1
    assert output_audio["audio"].get("samplesPerChannel") == 512

    item_added = await read_notification(mcp, "thread/realtime/itemAdded")
    assert item_added["threadId"] == output_audio["threadId"]
    assert at(item_added, "item", "type") == "message"

    first_transcript_update = await read_notification(mcp, "thread/realtime/transcriptUpdated")
    assert first_transcript_update["threadId"] == output_audio["threadId"]
    assert first_transcript_update["role"] == "user"
    assert first_transcript_update["text"] == "delegate now"

    second_transcript_update = await read_notification(mcp, "thread/realtime/transcriptUpdated")
    assert second_transcript_update["threadId"] == output_audio["threadId"]
    assert second_transcript_update["role"] == "assistant"
    assert second_transcript_update["text"] == "working"

    handoff_item_added = await read_notification(mcp, "thread/realtime/itemAdded")
    assert handoff_item_added["threadId"] == output_audio["threadId"]
    assert at(handoff_item_added, "item", "type") == "handoff_request"
    assert at(handoff_item_added, "item", "handoff_id") == "handoff_1"
    assert at(handoff_item_added, "item", "item_id") == "item_2"
    assert at(handoff_item_added, "item", "input_transcript") == "delegate now"
    assert at(handoff_item_added, "item", "active_transcript") == []

    realtime_error = await read_notification(mcp, "thread/realtime/error")
    assert realtime_error["threadId"] == output_audio["threadId"]
    assert realtime_error["message"] == "upstream boom"

    closed = await read_notification(mcp, "thread/realtime/closed")
    assert closed["threadId"] == output_audio["threadId"]
    assert closed.get("reason") == "error"

    connections = realtime_server.connections()
    assert len(connections) == 1
    connection = connections[0]
    assert len(connection) == 3
    assert at(connection[0].body_json(), "type") == "session.update"
    assert at(connection[0].body_json(), "session", "instructions") == (
        startup_context_instructions
    )
    request_types = []
    for request in connection[1:3]:
        request_type = at(request.body_json(), "type")
        assert isinstance(request_type, str), "expected websocket request type"
        request_types.append(request_type)
    request_types.sort()
    assert request_types == ["conversation.item.create", "input_audio_buffer.append"]

    await realtime_server.shutdown()


async def test_realtime_list_voices_returns_supported_names(env: SpecEnv) -> None:
    """Listing realtime voices returns the v1 and v2 voice names and their defaults, in order."""
    create_config_toml(
        env.codex_home,
        "http://127.0.0.1:1",
        "ws://127.0.0.1:1",
        True,  # realtime_enabled
        StartupContextConfig.generated(),
    )

    mcp = await env.mcp_process()
    await mcp.initialize()

    request_id = await mcp.send_request("thread/realtime/listVoices", {})
    response = await read_response(mcp, request_id)
    voices = response.get("voices")
    assert {"voices": as_struct(voices, "v1", "v2", "defaultV1", "defaultV2")} == {
        "voices": {
            "v1": [
                "juniper",
                "maple",
                "spruce",
                "ember",
                "vale",
                "breeze",
                "arbor",
                "sol",
                "cove",
            ],
            "v2": [
                "alloy",
                "ash",
                "ballad",
                "coral",
                "echo",
                "sage",
                "shimmer",
                "verse",
                "marin",
                "cedar",
            ],
            "defaultV1": "cove",
            "defaultV2": "marin",
        }
    }


async def test_realtime_conversation_stop_emits_closed_notification(env: SpecEnv) -> None:
    """Stopping a live realtime session answers the request and reports the session closed."""
    responses_server = await env.create_mock_responses_server_sequence_unchecked([])
    realtime_server = await env.start_websocket_server(
        [
            [
                [
                    {
                        "type": "session.updated",
                        "session": {"id": "sess_backend", "instructions": "backend prompt"},
                    }
                ],
                [],
            ]
        ]
    )

    create_config_toml(
        env.codex_home,
        responses_server.uri,
        realtime_server.uri,
        True,  # realtime_enabled
        StartupContextConfig.generated(),
    )

    mcp = await env.mcp_process()
    await mcp.initialize()
    await login_with_api_key(mcp, "sk-test-key")

    thread_id = await start_thread(mcp)

    start_request_id = await mcp.send_request(
        "thread/realtime/start", realtime_start_params(thread_id, prompt="backend prompt")
    )
    await read_response(mcp, start_request_id)

    started = await read_notification(mcp, "thread/realtime/started")

    stop_request_id = await mcp.send_request(
        "thread/realtime/stop", {"threadId": started["threadId"]}
    )
    await read_response(mcp, stop_request_id)

    closed = await read_notification(mcp, "thread/realtime/closed")
    assert closed["threadId"] == started["threadId"]
    assert closed.get("reason") in ("requested", "transport_closed")

    await realtime_server.shutdown()


async def test_realtime_webrtc_start_emits_sdp_notification(env: SpecEnv) -> None:
    """Starting realtime over WebRTC posts the offer and v2 session as multipart, returns the SDP
    answer, joins the call's sideband socket, and stops cleanly."""
    responses_server = await env.create_mock_responses_server_sequence_unchecked([])
    call_capture = mount_realtime_calls(
        responses_server, location="/v1/realtime/calls/rtc_app_test"
    )
    realtime_server = await env.start_websocket_server_with_headers(
        [
            WebSocketConnectionConfig(
                requests=[
                    [
                        {
                            "type": "session.updated",
                            "session": {"id": "sess_webrtc", "instructions": "backend prompt"},
                        }
                    ]
                ],
                response_headers=[],
                accept_delay=None,
                close_after_requests=False,
            )
        ]
    )

    create_config_toml(
        env.codex_home,
        responses_server.uri,
        realtime_server.uri,
        True,  # realtime_enabled
        StartupContextConfig.override_with("startup context"),
    )

    mcp = await env.mcp_process()
    await mcp.initialize()
    await login_with_api_key(mcp, "sk-test-key")

    thread_id = await start_thread(mcp)

    start_request_id = await mcp.send_request(
        "thread/realtime/start",
        realtime_start_params(
            thread_id, prompt="backend prompt", transport=webrtc_transport("v=offer\r\n")
        ),
    )
    await read_response(mcp, start_request_id)

    started = await read_notification(mcp, "thread/realtime/started")
    assert started["threadId"] == thread_id
    assert started["version"] == "v2"

    sdp_notification = await read_notification(mcp, "thread/realtime/sdp")
    assert as_struct(sdp_notification, "threadId", "sdp") == {
        "threadId": thread_id,
        "sdp": "v=answer\r\n",
    }

    session_update = await realtime_server.wait_for_request(0, 0)
    assert at(session_update.body_json(), "type") == "session.update"
    instructions = at(session_update.body_json(), "session", "instructions")
    assert isinstance(instructions, str), "expected session.update instructions"
    assert "startup context" in instructions
    assert realtime_server.single_handshake().uri() == "/v1/realtime?call_id=rtc_app_test"

    stop_request_id = await mcp.send_request("thread/realtime/stop", {"threadId": thread_id})
    await read_response(mcp, stop_request_id)

    closed_notification = await read_notification(mcp, "thread/realtime/closed")
    assert closed_notification["threadId"] == thread_id
    assert closed_notification.get("reason") in ("requested", "transport_closed"), (
        f"unexpected close reason: {closed_notification}"
    )

    request = call_capture.single_request()
    assert request.path == "/v1/realtime/calls"
    assert request.query is None
    assert request.header("content-type") == (
        "multipart/form-data; boundary=codex-realtime-call-boundary"
    )
    body = request.body.decode("utf-8")  # "multipart body should be utf-8"
    session = (
        r'{"tool_choice":"auto","type":"realtime","model":"gpt-realtime-1.5",'
        r'"instructions":"backend prompt\n\nstartup context","output_modalities":["audio"],'
        r'"audio":{"input":{"format":{"type":"audio/pcm","rate":24000},'
        r'"noise_reduction":{"type":"near_field"},"turn_detection":{"type":"server_vad",'
        r'"interrupt_response":true,"create_response":true}},"output":{"format":'
        r'{"type":"audio/pcm","rate":24000},"voice":"marin"}},"tools":[{"type":"function",'
        r'"name":"background_agent","description":"Send a user request to the background '
        r"agent. Use this as the default action. If the background agent is idle, this starts a "
        r"new task and returns the final result to the user. If the background agent is already "
        r"working on a task, this sends the request as guidance to steer that previous task. If "
        r"the user asks to do something next, later, after this, or once current work finishes, "
        r"call this tool so the work is actually queued instead of merely promising to do it "
        r'later.","parameters":{"type":"object","properties":{"prompt":{"type":"string",'
        r'"description":"The user request to delegate to the background agent."}},'
        r'"required":["prompt"],"additionalProperties":false}}]}'
    )
    assert body == (
        "--codex-realtime-call-boundary\r\n"
        'Content-Disposition: form-data; name="sdp"\r\n'
        "Content-Type: application/sdp\r\n"
        "\r\n"
        "v=offer\r\n"
        "\r\n"
        "--codex-realtime-call-boundary\r\n"
        'Content-Disposition: form-data; name="session"\r\n'
        "Content-Type: application/json\r\n"
        "\r\n"
        f"{session}\r\n"
        "--codex-realtime-call-boundary--\r\n"
    )

    await realtime_server.shutdown()


async def test_webrtc_v1_start_posts_offer_returns_sdp_and_joins_sideband(env: SpecEnv) -> None:
    """A v1 WebRTC start posts the offer, hands the SDP answer to the client, joins the
    quicksilver sideband with a v1 session.update, and keeps the session open."""
    # Phase 1: build a v1 realtime thread with a mocked call-create response and a sideband socket
    # that immediately proves the joined connection can receive server events.
    harness = await RealtimeE2eHarness.new(
        env,
        RealtimeTestVersion.V1,
        no_main_loop_responses(),
        realtime_sideband(
            [open_realtime_sideband_connection([[session_updated("sess_v1_webrtc")]])]
        ),
    )

    # Phase 2: start through app-server and assert the app receives both the started
    # notification and the answer SDP.
    started = await harness.start_webrtc_realtime("v=offer\r\n")
    assert (
        as_struct(started.started, "threadId", "sessionId", "version"),
        as_struct(started.sdp, "threadId", "sdp"),
    ) == (
        {"threadId": harness.thread_id, "sessionId": harness.thread_id, "version": "v1"},
        {"threadId": harness.thread_id, "sdp": "v=answer\r\n"},
    )

    # Phase 3: verify the HTTP call-create leg, the direct sideband join, and the normal v1
    # session.update; the WebRTC transport should remain alive instead of closing after SDP.
    assert_call_create_multipart(
        harness.call_capture.single_request(), "v=offer\r\n", v1_session_create_json()
    )
    assert (
        harness.realtime_server.single_handshake().uri()
        == "/v1/realtime?intent=quicksilver&call_id=rtc_e2e"
    )
    session_update = await harness.sideband_outbound_request(0)
    assert_v1_session_update(session_update)
    with pytest.raises(ReadTimeout):
        await harness.mcp.read_stream_until_notification_message(
            "thread/realtime/closed", timeout=0.1
        )  # "WebRTC start should not close immediately"

    await harness.shutdown()


async def test_webrtc_v1_handoff_request_delegates_and_appends_result(env: SpecEnv) -> None:
    """A v1 handoff request runs a background agent turn on the transcript and appends the
    agent's final answer back to the realtime handoff."""
    # Phase 1: script one v1 handoff request on the sideband and one delegated Responses turn.
    harness = await RealtimeE2eHarness.new(
        env,
        RealtimeTestVersion.V1,
        main_loop_responses([create_final_assistant_message_sse_response("delegated from v1")]),
        realtime_sideband(
            [
                realtime_sideband_connection(
                    [
                        [
                            session_updated("sess_v1_handoff"),
                            {
                                "type": "conversation.input_transcript.delta",
                                "delta": "delegate from v1",
                            },
                            {
                                "type": "conversation.handoff.requested",
                                "handoff_id": "handoff_v1",
                                "item_id": "item_v1",
                                "input_transcript": "delegate from v1",
                            },
                        ],
                        [],
                    ]
                )
            ]
        ),
    )

    started = await harness.start_webrtc_realtime("v=offer\r\n")
    assert started.started["version"] == "v1"

    # Phase 2: wait for the delegated background agent turn launched by the handoff request.
    turn_started = await harness.read_notification("turn/started")
    assert turn_started["threadId"] == harness.thread_id
    turn_completed = await harness.read_notification("turn/completed")
    assert turn_completed["threadId"] == harness.thread_id

    # Phase 3: assert the delegated prompt went to Responses, then the v1 handoff append went
    # back over the existing sideband connection.
    requests = await harness.main_loop_responses_requests()
    assert len(requests) == 1
    assert response_request_contains_text(requests[0], "user: delegate from v1"), (
        f"delegated Responses request should contain realtime text: {to_json_string(requests[0])}"
    )
    handoff_append = await harness.sideband_outbound_request(1)
    assert handoff_append == {
        "type": "conversation.handoff.append",
        "handoff_id": "handoff_v1",
        "output_text": '"Agent Final Message":\n\ndelegated from v1',
    }

    await harness.shutdown()


async def test_webrtc_v2_forwards_audio_and_text_between_client_and_sideband(
    env: SpecEnv,
) -> None:
    """Over v2 WebRTC, client audio and text reach the sideband and sideband transcripts and audio
    reach the client."""
    # Phase 1: a v2 WebRTC conversation whose sideband sends transcript + output audio after the
    # client has had a chance to append input.
    harness = await RealtimeE2eHarness.new(
        env,
        RealtimeTestVersion.V2,
        no_main_loop_responses(),
        realtime_sideband(
            [
                realtime_sideband_connection(
                    [
                        [session_updated("sess_v2_stream")],
                        [],
                        [
                            {
                                "type": "conversation.item.input_audio_transcription.delta",
                                "delta": "transcribed audio",
                            },
                            {
                                "type": "response.output_audio.delta",
                                "delta": "AQID",
                                "sample_rate": 24_000,
                                "channels": 1,
                                "samples_per_channel": 512,
                            },
                        ],
                    ]
                )
            ]
        ),
    )

    started = await harness.start_webrtc_realtime("v=offer\r\n")
    assert started.started["version"] == "v2"
    assert_v2_session_update(await harness.sideband_outbound_request(0))

    # Phase 2: append audio, append text, then receive the transcript/audio notifications that
    # came from the sideband socket.
    thread_id = started.started["threadId"]
    await harness.append_audio(thread_id)
    await harness.append_text(thread_id, "hello")

    transcript = await harness.read_notification("thread/realtime/transcriptUpdated")
    assert transcript["text"] == "transcribed audio"
    output_audio = await harness.read_notification("thread/realtime/outputAudio/delta")
    assert output_audio["audio"]["data"] == "AQID"

    # Phase 3: the client inputs were translated into the v2 realtime sideband events.
    requests = [
        await harness.sideband_outbound_request(1),
        await harness.sideband_outbound_request(2),
    ]
    assert any(
        at(request, "type") == "input_audio_buffer.append" and at(request, "audio") == "BQYH"
        for request in requests
    ), f"sideband requests should include audio append: {requests}"
    assert any(
        at(request, "type") == "conversation.item.create"
        and at(request, "item", "type") == "message"
        and at(request, "item", "role") == "user"
        and at(request, "item", "content", 0, "text") == "hello"
        for request in requests
    ), f"sideband requests should include user text item: {requests}"

    await harness.shutdown()


async def test_webrtc_v2_text_input_is_append_only_while_response_is_active(
    env: SpecEnv,
) -> None:
    """Typing while a v2 realtime response is active sends only the user text, never an extra
    response.create, and audio still flows afterwards."""
    # Phase 1: a server-side response that becomes active after the first user text turn, then
    # finishes only after a later audio input.
    harness = await RealtimeE2eHarness.new(
        env,
        RealtimeTestVersion.V2,
        no_main_loop_responses(),
        realtime_sideband(
            [
                realtime_sideband_connection(
                    [
                        [session_updated("sess_v2_response_queue")],
                        [
                            {"type": "response.created", "response": {"id": "resp_active"}},
                            {
                                "type": "response.output_text.delta",
                                "delta": "active response started",
                            },
                        ],
                        [],
                        [{"type": "response.done", "response": {"id": "resp_active"}}],
                    ]
                )
            ]
        ),
    )

    started = await harness.start_webrtc_realtime("v=offer\r\n")
    assert started.started["version"] == "v2"
    # From here on, `sideband_outbound_request(n)` reads the frames app-server sends upstream.
    assert_v2_session_update(await harness.sideband_outbound_request(0))

    # Phase 2: the first text turn is append-only: only the user text item is sent.
    thread_id = started.started["threadId"]
    await harness.append_text(thread_id, "first")
    assert_v2_user_text_item(await harness.sideband_outbound_request(1), "first")

    transcript = await harness.read_notification("thread/realtime/transcriptUpdated")
    assert transcript["text"] == "active response started"

    # Phase 3: a second text turn while `resp_active` is still open reaches realtime without
    # requesting another response.
    await harness.append_text(thread_id, "second")
    assert_v2_user_text_item(await harness.sideband_outbound_request(2), "second")

    # Phase 4: audio still forwards normally after text input.
    await harness.append_audio(thread_id)
    audio = await harness.sideband_outbound_request(3)
    assert at(audio, "type") == "input_audio_buffer.append"
    assert at(audio, "audio") == "BQYH"

    await harness.shutdown()


async def test_webrtc_v2_text_input_is_append_only_when_response_is_cancelled(
    env: SpecEnv,
) -> None:
    """Typing while a v2 realtime response is open (later cancelled) sends only the user text,
    never an extra response.create, and audio still flows afterwards."""
    # Phase 1: a server-side response that becomes active after the first text turn, then is
    # cancelled only after a later audio input.
    harness = await RealtimeE2eHarness.new(
        env,
        RealtimeTestVersion.V2,
        no_main_loop_responses(),
        realtime_sideband(
            [
                realtime_sideband_connection(
                    [
                        [session_updated("sess_v2_response_cancel_queue")],
                        [{"type": "response.created", "response": {"id": "resp_cancelled"}}],
                        [],
                        [{"type": "response.cancelled", "response": {"id": "resp_cancelled"}}],
                    ]
                )
            ]
        ),
    )

    started = await harness.start_webrtc_realtime("v=offer\r\n")
    assert started.started["version"] == "v2"
    assert_v2_session_update(await harness.sideband_outbound_request(0))

    # Phase 2: the first text turn is append-only: only the user text item is sent.
    thread_id = started.started["threadId"]
    await harness.append_text(thread_id, "first")
    assert_v2_user_text_item(await harness.sideband_outbound_request(1), "first")

    # Phase 3: a second text turn while `resp_cancelled` is still open reaches realtime without
    # requesting another response.
    await harness.append_text(thread_id, "second")
    assert_v2_user_text_item(await harness.sideband_outbound_request(2), "second")

    # Phase 4: audio still forwards normally after text input.
    await harness.append_audio(thread_id)
    audio = await harness.sideband_outbound_request(3)
    assert at(audio, "type") == "input_audio_buffer.append"
    assert at(audio, "audio") == "BQYH"

    await harness.shutdown()


async def test_webrtc_v2_background_agent_tool_call_delegates_and_returns_function_output(
    env: SpecEnv,
) -> None:
    """A v2 background_agent tool call runs a delegated turn, then realtime gets one progress
    update, exactly one function-call output with the final answer, and a response.create."""
    # Phase 1: a v2 background agent function call and a delegated Responses turn that returns
    # final assistant text.
    harness = await RealtimeE2eHarness.new(
        env,
        RealtimeTestVersion.V2,
        main_loop_responses([create_final_assistant_message_sse_response("delegated from v2")]),
        realtime_sideband(
            [
                realtime_sideband_connection(
                    [
                        [
                            session_updated("sess_v2_tool"),
                            v2_background_agent_tool_call("call_v2", "delegate from v2"),
                        ],
                        [],
                        [],
                        [],
                    ]
                )
            ]
        ),
    )

    started = await harness.start_webrtc_realtime("v=offer\r\n")
    assert started.started["version"] == "v2"

    # Phase 2: the delegated turn lifecycle kicked off by the v2 function-call item.
    turn_started = await harness.read_notification("turn/started")
    assert turn_started["threadId"] == harness.thread_id
    turn_completed = await harness.read_notification("turn/completed")
    assert turn_completed["threadId"] == harness.thread_id

    # Phase 3: the delegated prompt went to Responses and the result returned as exactly one v2
    # function-call output event on the sideband.
    requests = await harness.main_loop_responses_requests()
    assert len(requests) == 1
    assert response_request_contains_text(requests[0], "delegate from v2"), (
        f"delegated Responses request should contain tool prompt: {to_json_string(requests[0])}"
    )
    progress = await harness.sideband_outbound_request(1)
    assert_v2_progress_update(progress, "delegated from v2")
    tool_output = await harness.sideband_outbound_request(2)
    assert_v2_function_call_output(tool_output, "call_v2", "delegated from v2")
    assert len(function_call_output_sideband_requests(harness.realtime_server)) == 1

    # Phase 4: after the final function-call output, realtime needs an explicit
    # `response.create` to produce the next user-visible response.
    assert_v2_response_create(await harness.sideband_outbound_request(3))

    await harness.shutdown()


async def test_webrtc_v2_background_agent_steering_ack_requests_response_create(
    env: SpecEnv,
) -> None:
    """A second background_agent call while a task runs is acknowledged to realtime as steering
    (followed by response.create) and its text reaches the running task."""
    # Phase 1: gate the delegated Responses turn from the first tool call so the handoff stays
    # active while realtime sends a second tool call that should steer the active task.
    gated_response = sse(
        [
            ev_response_created("resp-1"),
            ev_assistant_message("msg-1", "first task finished"),
            ev_completed("resp-1"),
        ]
    )
    main_loop_responses_server, gate_completed = await start_gated_responses_server(
        env, gated_response, expect=2
    )

    harness = await RealtimeE2eHarness.new_with_main_loop_responses_server(
        env,
        RealtimeTestVersion.V2,
        main_loop_responses_server,
        realtime_sideband(
            [
                realtime_sideband_connection(
                    [
                        [
                            session_updated("sess_v2_steering_ack"),
                            v2_background_agent_tool_call("call_active", "start a task"),
                            v2_background_agent_tool_call("call_steer", "steer the active task"),
                        ],
                        [],
                        [],
                        [],
                        [],
                    ]
                )
            ]
        ),
    )

    started = await harness.start_webrtc_realtime("v=offer\r\n")
    assert started.started["version"] == "v2"
    assert_v2_session_update(await harness.sideband_outbound_request(0))

    turn_started = await harness.read_notification("turn/started")
    assert turn_started["threadId"] == harness.thread_id

    # Phase 2: the second tool call arrives while `call_active` is still running, so app-server
    # sends a steering acknowledgement as the function-call output of the second call.
    assert_v2_function_call_output(
        await harness.sideband_outbound_request(1), "call_steer", V2_STEERING_ACKNOWLEDGEMENT
    )

    # Phase 3: realtime needs a `response.create` after the acknowledgement to voice it.
    assert_v2_response_create(await harness.sideband_outbound_request(2))

    # Phase 4: release the gated delegated turn; the run continues with the steering text in
    # the follow-up Responses request.
    gate_completed.set()
    turn_completed = await harness.read_notification("turn/completed")
    assert turn_completed["threadId"] == harness.thread_id

    requests = await harness.main_loop_responses_requests()
    assert len(requests) == 2
    assert response_request_contains_text(requests[1], "steer the active task"), (
        f"follow-up Responses request should contain steering prompt: {to_json_string(requests[1])}"
    )

    await harness.shutdown()


async def test_webrtc_v2_background_agent_progress_is_sent_before_function_output(
    env: SpecEnv,
) -> None:
    """The background agent's answer reaches realtime as a progress update before the final
    function-call output."""
    harness = await RealtimeE2eHarness.new(
        env,
        RealtimeTestVersion.V2,
        main_loop_responses([create_final_assistant_message_sse_response("progress before final")]),
        realtime_sideband(
            [
                realtime_sideband_connection(
                    [
                        [
                            session_updated("sess_v2_progress_before_final"),
                            v2_background_agent_tool_call("call_progress_order", "stream progress"),
                        ],
                        [],
                        [],
                    ]
                )
            ]
        ),
    )

    started = await harness.start_webrtc_realtime("v=offer\r\n")
    assert started.started["version"] == "v2"

    turn_completed = await harness.read_notification("turn/completed")
    assert turn_completed["threadId"] == harness.thread_id

    progress = await harness.sideband_outbound_request(1)
    assert_v2_progress_update(progress, "progress before final")
    tool_output = await harness.sideband_outbound_request(2)
    assert_v2_function_call_output(tool_output, "call_progress_order", "progress before final")

    await harness.shutdown()


async def test_webrtc_v2_tool_call_delegated_turn_can_execute_shell_tool(env: SpecEnv) -> None:
    """A turn delegated from realtime can run a shell command, and its final answer (which used
    the command output) returns to realtime as one function-call output."""
    # Phase 1: the realtime sideband only calls `background_agent`; the shell command is requested
    # by the delegated background agent Responses turn.
    main_loop = main_loop_responses(
        [
            create_shell_command_sse_response(realtime_tool_ok_command(), None, 5000, "shell_call"),
            create_final_assistant_message_sse_response("shell tool finished"),
        ]
    )
    realtime = realtime_sideband(
        [
            realtime_sideband_connection(
                [
                    [
                        session_updated("sess_v2_shell"),
                        v2_background_agent_tool_call(
                            "call_shell", "run shell through delegated turn"
                        ),
                    ],
                    [],
                    [],
                ]
            )
        ]
    )
    env.isolate_login_shell()
    harness = await RealtimeE2eHarness.new_with_sandbox(
        env,
        RealtimeTestVersion.V2,
        main_loop,
        realtime,
        RealtimeTestSandbox.DANGER_FULL_ACCESS,
    )

    await harness.start_webrtc_realtime("v=offer\r\n")

    # Phase 2: the delegated background agent turn executes the requested shell command.
    started_command = await wait_for_started_command_execution(harness.mcp)
    item = started_command["item"]
    assert (item["id"], item["status"]) == ("shell_call", "inProgress")

    completed_command = await wait_for_completed_command_execution(harness.mcp)
    item = completed_command["item"]
    assert item["id"] == "shell_call"
    assert item["status"] == "completed"
    assert item.get("aggregatedOutput") == "realtime-tool-ok"

    # Phase 3: the shell output reached Responses and the final delegated answer returned to
    # realtime as a single function-call-output item.
    turn_completed = await harness.read_notification("turn/completed")
    assert turn_completed["threadId"] == harness.thread_id

    requests = await harness.main_loop_responses_requests()
    assert len(requests) == 2
    assert response_request_contains_text(requests[1], "realtime-tool-ok"), (
        f"follow-up Responses request should contain shell output: {to_json_string(requests[1])}"
    )
    progress = await harness.sideband_outbound_request(1)
    assert_v2_progress_update(progress, "shell tool finished")
    tool_output = await harness.sideband_outbound_request(2)
    assert_v2_function_call_output(tool_output, "call_shell", "shell tool finished")
    assert len(function_call_output_sideband_requests(harness.realtime_server)) == 1

    await harness.shutdown()


async def test_webrtc_v2_tool_call_does_not_block_sideband_audio(env: SpecEnv) -> None:
    """Realtime audio keeps flowing to the client while a delegated background-agent turn is
    still waiting for its model answer."""
    # Phase 1: gate the delegated Responses stream so the sideband can send audio while the tool
    # call is still waiting on its delegated turn.
    gated_response = sse(
        [
            ev_response_created("resp-1"),
            ev_assistant_message("msg-1", "late delegated result"),
            ev_completed("resp-1"),
        ]
    )
    main_loop_responses_server, gate_completed = await start_gated_responses_server(
        env, gated_response, expect=1
    )

    harness = await RealtimeE2eHarness.new_with_main_loop_responses_server(
        env,
        RealtimeTestVersion.V2,
        main_loop_responses_server,
        realtime_sideband(
            [
                realtime_sideband_connection(
                    [
                        [
                            session_updated("sess_v2_nonblocking"),
                            v2_background_agent_tool_call(
                                "call_audio", "delegate while audio continues"
                            ),
                            {
                                "type": "response.output_audio.delta",
                                "delta": "CQoL",
                                "sample_rate": 24_000,
                                "channels": 1,
                                "samples_per_channel": 256,
                            },
                        ],
                        [],
                        [],
                    ]
                )
            ]
        ),
    )

    await harness.start_webrtc_realtime("v=offer\r\n")
    await harness.read_notification("turn/started")

    # Phase 2: app-server fans out sideband audio before the delegated tool call may finish.
    audio = await harness.read_notification("thread/realtime/outputAudio/delta")
    assert audio["audio"]["data"] == "CQoL"

    # Phase 3: release the delegated turn; the sideband function-call output is delivered after
    # the nonblocking audio.
    gate_completed.set()
    turn_completed = await harness.read_notification("turn/completed")
    assert turn_completed["threadId"] == harness.thread_id

    progress = await harness.sideband_outbound_request(1)
    assert_v2_progress_update(progress, "late delegated result")
    tool_output = await harness.sideband_outbound_request(2)
    assert_v2_function_call_output(tool_output, "call_audio", "late delegated result")

    await harness.shutdown()


async def test_realtime_webrtc_start_surfaces_backend_error(env: SpecEnv) -> None:
    """When WebRTC call creation fails upstream, the start request still succeeds and the failure
    arrives as a realtime error notification."""
    # Phase 1: make call creation fail before any sideband connection can matter.
    responses_server = await env.create_mock_responses_server_sequence_unchecked([])
    responses_server.mount_realtime_calls(status=500, headers={}, body="boom")
    realtime_server = await env.start_websocket_server([[]])

    create_config_toml(
        env.codex_home,
        responses_server.uri,
        realtime_server.uri,
        True,  # realtime_enabled
        StartupContextConfig.override_with("startup context"),
    )

    mcp = await env.mcp_process()
    await mcp.initialize()
    await login_with_api_key(mcp, "sk-test-key")

    # Phase 2: start a normal app-server thread and request realtime over WebRTC.
    thread_id = await start_thread(mcp)

    start_request_id = await mcp.send_request(
        "thread/realtime/start",
        realtime_start_params(
            thread_id, prompt="backend prompt", transport=webrtc_transport("v=offer\r\n")
        ),
    )
    await read_response(mcp, start_request_id)

    # Phase 3: the JSON-RPC start request returns, and the realtime failure is delivered as the
    # typed realtime error notification.
    error = await read_notification(mcp, "thread/realtime/error")
    assert "currently experiencing high demand" in error["message"]

    await realtime_server.shutdown()


async def test_realtime_conversation_requires_feature_flag(env: SpecEnv) -> None:
    """Starting realtime on a thread fails with an invalid-request error when the realtime feature
    is turned off."""
    responses_server = await env.create_mock_responses_server_sequence_unchecked([])
    realtime_server = await env.start_websocket_server([[]])

    create_config_toml(
        env.codex_home,
        responses_server.uri,
        realtime_server.uri,
        False,  # realtime_enabled
        StartupContextConfig.generated(),
    )

    mcp = await env.mcp_process()
    await mcp.initialize()

    thread_id = await start_thread(mcp)

    start_request_id = await mcp.send_request(
        "thread/realtime/start",
        realtime_start_params(thread_id, prompt="backend prompt"),
    )
    error = await mcp.read_stream_until_error_message(start_request_id, timeout=DEFAULT_TIMEOUT)
    assert_invalid_request(error, f"thread {thread_id} does not support realtime conversation")

    await realtime_server.shutdown()
