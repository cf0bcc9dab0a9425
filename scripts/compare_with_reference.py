#!/usr/bin/env python3
"""Run the reference `codex app-server` and `parley app-server` side by side and diff their traffic.

An on-demand developer tool: it is never run by CI and Parley does not depend on it. For each
scenario it starts, once per implementation, fresh local mock servers from `tests/support/` (the
Responses API with WebRTC call creation, and the Realtime WebSocket), writes the spec's
`config.toml` layout, spawns the app-server over stdio, drives the same JSON-RPC requests and then
compares, after normalising ids, uuids, timestamps, ports and paths:

* the client-visible messages, grouped per method (replies by the method they answer), in order;
* the order of the notifications;
* the frames each implementation sent upstream on the Realtime WebSocket (and its handshake);
* the `/responses` request bodies (long texts digested, tools summarised) and headers;
* the WebRTC call-creation bodies; every other HTTP request; the exit status.

Differences that Parley makes on purpose (README, "Differences from the reference") are taken out
of the comparison and listed as expected; everything else is printed as an unexpected diff.

Usage:

    .venv/bin/python scripts/compare_with_reference.py --codex PATH_TO_CODEX [--scenario NAME ...]

Without `--codex` it uses `codex` from PATH or `~/.cache/parley-reference/node_modules/.bin/codex`;
install the reference there with:

    npm install --prefix ~/.cache/parley-reference @openai/codex@0.120.0

`--list` names the scenarios; `--verbose` prints whole sections instead of diff hunks; `--dump DIR`
writes each run's normalised sections (and the server's stderr tail) as JSON. Runs happen in
`~/.cache/parley-compare/run-*` (not under /tmp, where the reference declines to install its helper
binaries), removed afterwards unless `--keep`.

The exit status is 0 when only expected differences were found, 1 otherwise, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import difflib
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))

from support.app_server import AppServerError, AppServerProcess, ReadTimeout  # noqa: E402
from support.codex_config import write_config_toml  # noqa: E402
from support.mock_realtime import (  # noqa: E402
    ServerEvent,
    WebSocketConnectionConfig,
    WebSocketTestServer,
)
from support.mock_responses import (  # noqa: E402
    MockResponsesServer,
    RecordedRequest,
    ScriptedResponse,
)
from support.sse import (  # noqa: E402
    create_final_assistant_message_sse_response,
    create_shell_command_sse_response,
    ev_assistant_message,
    ev_completed,
    ev_message_item_added,
    ev_output_text_delta,
    ev_response_created,
    sse,
)

Json = Any
Message = dict[str, Any]

REFERENCE_VERSION = "0.120.0"
REFERENCE_PREFIX = Path.home() / ".cache" / "parley-reference"
INSTALL_COMMAND = (
    f"npm install --prefix ~/.cache/parley-reference @openai/codex@{REFERENCE_VERSION}"
)
WORK_ROOT = Path.home() / ".cache" / "parley-compare"
API_KEY = "sk-test-key"

# ================================================================================================
# Scenarios: what to script on the mocks and how to drive the app-server (data + functions)
# ================================================================================================


@dataclass(frozen=True)
class CallsMount:
    """How the Responses mock answers `POST /v1/realtime/calls` (WebRTC call creation)."""

    status: int = 200
    location: str = "/v1/realtime/calls/rtc_e2e"
    body: str = "v=answer\r\n"


@dataclass(frozen=True)
class Scenario:
    """One comparison: mock scripts, config, and the client's actions (`drive`).

    The mock scripts are factories so every run gets fresh, identical objects.
    """

    name: str
    summary: str
    drive: Callable[[Driver], Awaitable[None]]
    responses: Callable[[], list[str | ScriptedResponse]] = list
    realtime: Callable[[], list[WebSocketConnectionConfig]] = list
    calls: CallsMount | None = None
    sandbox: str = "read-only"
    realtime_version: str = "v2"
    realtime_enabled: bool = True
    startup_context: str | None = "startup context"


def _connection(
    batches: list[list[ServerEvent]], *, keep_open: bool = False
) -> WebSocketConnectionConfig:
    """A sideband connection script; a kept-open one records every later frame too."""
    return WebSocketConnectionConfig(
        requests=batches, close_after_requests=not keep_open, record_after_requests=True
    )


def _session_updated(session_id: str) -> Json:
    return {
        "type": "session.updated",
        "session": {"id": session_id, "instructions": "backend prompt"},
    }


def _background_agent_call(call_id: str, prompt: str) -> Json:
    return {
        "type": "conversation.item.done",
        "item": {
            "id": f"item_{call_id}",
            "type": "function_call",
            "name": "background_agent",
            "call_id": call_id,
            "arguments": json.dumps({"prompt": prompt}, separators=(",", ":")),
        },
    }


def _text_input(text: str) -> list[Json]:
    return [{"type": "text", "text": text, "text_elements": []}]


def _realtime_start_params(thread_id: str, transport: Json = None) -> Json:
    return {
        "threadId": thread_id,
        "prompt": "backend prompt",
        "sessionId": None,
        "transport": transport,
        "voice": None,
    }


AUDIO_CHUNK: Json = {
    "data": "BQYH",
    "sampleRate": 24_000,
    "numChannels": 1,
    "samplesPerChannel": 480,
    "itemId": None,
}
OUTPUT_AUDIO_DELTA: Json = {
    "type": "response.output_audio.delta",
    "delta": "AQID",
    "sample_rate": 24_000,
    "channels": 1,
    "samples_per_channel": 512,
}

# -- drive functions ------------------------------------------------------------------------------


async def drive_initialize_errors(d: Driver) -> None:
    await d.request("thread/start", {})  # before initialize
    await d.request("account/read", {})
    await d.initialize()
    await d.request(
        "initialize",
        {"clientInfo": {"name": "again", "title": None, "version": "1"}, "capabilities": None},
    )
    await d.request("no/such/method", {})
    await d.request("thread/start", {"model": 5})  # wrong type
    await d.request("thread/start", [1, 2])  # params not an object
    await d.request("account/login/start", {"type": "apiKey"})  # missing field
    await d.request("account/login/start", {"type": "bogus"})  # unknown variant
    await d.raw_line('{"id": 99, "method": "account/read", "params": {')  # not JSON
    await d.raw_line('{"jsonrpc": "2.0", "id": 100}')  # neither request nor response
    await d.request("thread/read", {"threadId": "not-a-thread-id"})
    await d.request("thread/read", {"threadId": "00000000-0000-7000-8000-000000000000"})
    await d.request("turn/start", {"threadId": "00000000-0000-7000-8000-000000000000", "input": []})
    await d.settle()


async def drive_login_account(d: Driver) -> None:
    await d.initialize()
    await d.request("account/read", {})
    await d.request("account/read", {"refreshToken": True})
    await d.request("account/login/start", {"type": "apiKey", "apiKey": API_KEY})
    await d.notification("account/login/completed")
    await d.notification("account/updated")
    await d.request("account/read", {})
    await d.request("account/logout")
    await d.notification("account/updated")
    await d.request("account/read", {})
    await d.settle()


async def drive_thread_start(d: Driver) -> None:
    await d.initialize()
    await d.login()
    first = await d.request("thread/start", {})
    await d.notification("thread/started")
    second = await d.request(
        "thread/start",
        {"model": "other-model", "cwd": str(d.paths.cwd), "approvalPolicy": "on-request"},
    )
    await d.notification("thread/started")
    for reply in (first, second):
        thread_id = _thread_id(reply)
        if thread_id is not None:
            await d.request("thread/read", {"threadId": thread_id, "includeTurns": False})
    await d.request("thread/list", {})
    await d.settle()


async def drive_plain_turn(d: Driver) -> None:
    await d.initialize()
    await d.login()
    thread_id = await d.start_thread()
    if thread_id is None:
        return
    await d.start_turn(thread_id, "say hello")
    await d.notification("turn/completed")
    await d.settle()
    await d.request("thread/read", {"threadId": thread_id, "includeTurns": True})
    await d.request("thread/list", {})
    await d.request("thread/resume", {"threadId": thread_id})
    await d.settle()


async def drive_turn_interrupt(d: Driver) -> None:
    await d.initialize()
    await d.login()
    thread_id = await d.start_thread()
    if thread_id is None:
        return
    reply = await d.start_turn(thread_id, "go")
    turn_id = ((reply or {}).get("result") or {}).get("turn", {}).get("id")
    await d.notification("item/agentMessage/delta")
    await d.request("turn/interrupt", {"threadId": thread_id, "turnId": turn_id})
    await d.notification("turn/completed")
    await d.settle()


async def drive_shell_turn(d: Driver) -> None:
    await d.initialize()
    await d.login()
    thread_id = await d.start_thread()
    if thread_id is None:
        return
    await d.start_turn(thread_id, "run the tool")
    await d.notification("turn/completed", within=30.0)
    await d.settle()


async def drive_turn_upstream_error(d: Driver) -> None:
    await d.initialize()
    await d.login()
    thread_id = await d.start_thread()
    if thread_id is None:
        return
    await d.start_turn(thread_id, "fail please")
    await d.notification("turn/completed")
    await d.settle()


async def drive_realtime_websocket(d: Driver) -> None:
    await d.initialize()
    await d.login()
    thread_id = await d.start_thread()
    if thread_id is None:
        return
    await d.request("thread/realtime/start", _realtime_start_params(thread_id))
    await d.notification("thread/realtime/started")
    await d.ws_frames(1)
    await d.request("thread/realtime/appendAudio", {"threadId": thread_id, "audio": AUDIO_CHUNK})
    await d.ws_frames(2)
    await d.append_text(thread_id, "hello")
    await d.notification("thread/realtime/outputAudio/delta")
    await d.notification("thread/realtime/transcriptUpdated")
    await d.notification("thread/realtime/transcriptUpdated")
    await d.settle()
    await d.request("thread/realtime/stop", {"threadId": thread_id})
    await d.notification("thread/realtime/closed")
    await d.settle()


async def drive_realtime_typed_turn(d: Driver) -> None:
    await d.initialize()
    await d.login()
    thread_id = await d.start_thread()
    if thread_id is None:
        return
    await d.request("thread/realtime/start", _realtime_start_params(thread_id))
    await d.notification("thread/realtime/started")
    await d.ws_frames(1)
    await d.start_turn(thread_id, "typed request")
    await d.notification("turn/completed")
    await d.settle()
    await d.request("thread/realtime/stop", {"threadId": thread_id})
    await d.notification("thread/realtime/closed")
    await d.settle()


async def drive_realtime_upstream_error(d: Driver) -> None:
    await d.initialize()
    await d.login()
    thread_id = await d.start_thread()
    if thread_id is None:
        return
    await d.request("thread/realtime/start", _realtime_start_params(thread_id))
    await d.notification("thread/realtime/started")
    await d.ws_frames(1)
    await d.request("thread/realtime/appendAudio", {"threadId": thread_id, "audio": AUDIO_CHUNK})
    await d.notification("thread/realtime/error")
    await d.notification("thread/realtime/closed")
    await d.settle()
    await d.request("thread/realtime/appendAudio", {"threadId": thread_id, "audio": AUDIO_CHUNK})
    await d.request("thread/realtime/stop", {"threadId": thread_id})
    await d.settle()


async def drive_webrtc_background_agent(d: Driver) -> None:
    await drive_webrtc_delegation(d, frames=4)


async def drive_webrtc_v1_handoff(d: Driver) -> None:
    await drive_webrtc_delegation(d, frames=2)


async def drive_webrtc_delegation(d: Driver, *, frames: int) -> None:
    """Start WebRTC realtime, let the sideband delegate a turn, wait for `frames` upstream."""
    await d.initialize()
    await d.login()
    thread_id = await d.start_thread()
    if thread_id is None:
        return
    await d.request(
        "thread/realtime/start",
        _realtime_start_params(thread_id, {"type": "webrtc", "sdp": "v=offer\r\n"}),
    )
    await d.notification("thread/realtime/started")
    await d.notification("thread/realtime/sdp")
    await d.notification("turn/completed")
    await d.ws_frames(frames)
    await d.settle()
    await d.request("thread/realtime/stop", {"threadId": thread_id})
    await d.settle()


async def drive_webrtc_call_error(d: Driver) -> None:
    await d.initialize()
    await d.login()
    thread_id = await d.start_thread()
    if thread_id is None:
        return
    await d.request(
        "thread/realtime/start",
        _realtime_start_params(thread_id, {"type": "webrtc", "sdp": "v=offer\r\n"}),
    )
    await d.notification("thread/realtime/error")
    await d.settle()


async def drive_realtime_feature_off(d: Driver) -> None:
    await d.initialize()
    thread_id = await d.start_thread()
    if thread_id is None:
        return
    await d.request("thread/realtime/start", _realtime_start_params(thread_id))
    await d.request("thread/realtime/listVoices", {})
    await d.settle()


# -- mock scripts ---------------------------------------------------------------------------------


def plain_turn_responses() -> list[str | ScriptedResponse]:
    return [
        sse(
            [
                ev_response_created("resp-1"),
                ev_message_item_added("msg-1", ""),
                ev_output_text_delta("Hello"),
                ev_output_text_delta(", "),
                ev_output_text_delta("world"),
                ev_assistant_message("msg-1", "Hello, world"),
                ev_completed("resp-1"),
            ]
        )
    ]


def held_open_turn_responses() -> list[str | ScriptedResponse]:
    """A stream that sends a first delta and then stays open until the turn is interrupted."""
    body = sse(
        [
            ev_response_created("resp-1"),
            ev_message_item_added("msg-1", ""),
            ev_output_text_delta("partial"),
        ]
    )
    return [ScriptedResponse.stream(body, hold=asyncio.Event())]


def shell_turn_responses() -> list[str | ScriptedResponse]:
    return [
        create_shell_command_sse_response(["printf", "tool-ok"], None, 5000, "shell_call"),
        create_final_assistant_message_sse_response("the tool said tool-ok"),
    ]


def realtime_websocket_script() -> list[WebSocketConnectionConfig]:
    return [
        _connection(
            [
                [_session_updated("sess_backend")],  # after session.update
                [],  # after input_audio_buffer.append
                [  # after the typed text
                    OUTPUT_AUDIO_DELTA,
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
                        "delta": "hello there",
                    },
                    {"type": "response.output_text.delta", "delta": "working"},
                    {"type": "response.done", "response": {"id": "resp_rt"}},
                ],
            ],
            keep_open=True,
        )
    ]


def typed_turn_responses() -> list[str | ScriptedResponse]:
    return [create_final_assistant_message_sse_response("typed answer")]


def realtime_typed_turn_script() -> list[WebSocketConnectionConfig]:
    return [_connection([[_session_updated("sess_typed")]], keep_open=True)]


def realtime_error_script() -> list[WebSocketConnectionConfig]:
    return [
        _connection(
            [[_session_updated("sess_err")], [{"type": "error", "message": "upstream boom"}]],
            keep_open=True,
        )
    ]


def webrtc_background_agent_responses() -> list[str | ScriptedResponse]:
    return [create_final_assistant_message_sse_response("delegated from v2")]


def webrtc_background_agent_script() -> list[WebSocketConnectionConfig]:
    return [
        _connection(
            [
                [_session_updated("sess_v2_tool"), _background_agent_call("call_v2", "delegate")],
                [],
                [],
                [],
            ]
        )
    ]


def webrtc_v1_handoff_responses() -> list[str | ScriptedResponse]:
    return [create_final_assistant_message_sse_response("delegated from v1")]


def webrtc_v1_handoff_script() -> list[WebSocketConnectionConfig]:
    return [
        _connection(
            [
                [
                    _session_updated("sess_v1_handoff"),
                    {"type": "conversation.input_transcript.delta", "delta": "delegate from v1"},
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


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "initialize-errors",
        "requests before initialize, double initialize, unknown method, bad params",
        drive_initialize_errors,
    ),
    Scenario("login-account", "account/read, API-key login, logout", drive_login_account),
    Scenario(
        "thread-start", "thread/start (default and overridden), read, list", drive_thread_start
    ),
    Scenario(
        "plain-turn",
        "a turn whose answer streams as deltas; then thread/read, list, resume",
        drive_plain_turn,
        responses=plain_turn_responses,
    ),
    Scenario(
        "shell-turn",
        "a danger-full-access turn running shell_command `printf tool-ok`",
        drive_shell_turn,
        responses=shell_turn_responses,
        sandbox="danger-full-access",
    ),
    Scenario(
        "turn-interrupt",
        "turn/interrupt while the model's answer is still streaming",
        drive_turn_interrupt,
        responses=held_open_turn_responses,
    ),
    Scenario(
        "turn-upstream-error",
        "a turn whose /responses request gets HTTP 500 (no retries configured)",
        drive_turn_upstream_error,
    ),
    Scenario(
        "realtime-websocket",
        "v2 websocket realtime: start, appendAudio, appendText, server events, stop",
        drive_realtime_websocket,
        realtime=realtime_websocket_script,
    ),
    Scenario(
        "realtime-typed-turn",
        "a typed turn/start while v2 websocket realtime runs",
        drive_realtime_typed_turn,
        responses=typed_turn_responses,
        realtime=realtime_typed_turn_script,
    ),
    Scenario(
        "realtime-upstream-error",
        "v2 websocket realtime whose upstream sends an error event",
        drive_realtime_upstream_error,
        realtime=realtime_error_script,
    ),
    Scenario(
        "webrtc-background-agent",
        "v2 WebRTC; a background_agent call delegates a turn whose answer goes back upstream",
        drive_webrtc_background_agent,
        responses=webrtc_background_agent_responses,
        realtime=webrtc_background_agent_script,
        calls=CallsMount(),
    ),
    Scenario(
        "webrtc-v1-handoff",
        "v1 WebRTC; a handoff request delegates a turn, the answer is appended to the handoff",
        drive_webrtc_v1_handoff,
        responses=webrtc_v1_handoff_responses,
        realtime=webrtc_v1_handoff_script,
        calls=CallsMount(),
        realtime_version="v1",
    ),
    Scenario(
        "webrtc-call-error",
        "v2 WebRTC whose call creation fails with HTTP 500",
        drive_webrtc_call_error,
        calls=CallsMount(status=500, location="", body="boom"),
    ),
    Scenario(
        "realtime-feature-off",
        "thread/realtime/start with the feature disabled; listVoices",
        drive_realtime_feature_off,
        realtime_enabled=False,
    ),
)
SCENARIOS_BY_NAME = {scenario.name: scenario for scenario in SCENARIOS}


def _thread_id(reply: Message | None) -> str | None:
    if reply is None:
        return None
    value = reply.get("result", {})
    thread = value.get("thread") if isinstance(value, dict) else None
    thread_id = thread.get("id") if isinstance(thread, dict) else None
    return thread_id if isinstance(thread_id, str) else None


# ================================================================================================
# Runner: one scenario against one implementation
# ================================================================================================


@dataclass(frozen=True)
class Target:
    """An app-server implementation: a label and the command that starts it."""

    label: str
    command: tuple[str, ...]


@dataclass(frozen=True)
class RunPaths:
    root: Path
    codex_home: Path
    cwd: Path
    home: Path

    @classmethod
    def create(cls, root: Path) -> RunPaths:
        paths = cls(root, root / "codex-home", root / "work", root / "home")
        for path in (paths.codex_home, paths.cwd, paths.home):
            path.mkdir(parents=True, exist_ok=True)
        return paths


@dataclass
class RawCapture:
    """Everything one run observed, before normalisation."""

    target: str
    messages: list[Message] = field(default_factory=list)
    request_methods: dict[Any, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    appended_texts: list[str] = field(default_factory=list)
    turn_texts: list[str] = field(default_factory=list)
    ws_handshakes: list[tuple[str, tuple[tuple[str, str], ...]]] = field(default_factory=list)
    ws_frames: list[list[Json]] = field(default_factory=list)
    http: list[RecordedRequest] = field(default_factory=list)
    call_requests: list[RecordedRequest] = field(default_factory=list)
    exit_status: int | None = None
    stderr_tail: str = ""
    literals: list[tuple[str, str]] = field(default_factory=list)


class Driver:
    """The client side of one run: sends requests and waits, never raising on a mismatch.

    A wait that times out is written down as a note (compared like everything else) and the
    scenario goes on, so one missing event does not hide the rest of the comparison.
    """

    def __init__(
        self,
        process: AppServerProcess,
        responses: MockResponsesServer,
        realtime: WebSocketTestServer,
        paths: RunPaths,
        capture: RawCapture,
        wait: float,
    ) -> None:
        self.process = process
        self.responses = responses
        self.realtime = realtime
        self.paths = paths
        self.capture = capture
        self.wait = wait

    def note(self, text: str) -> None:
        self.capture.notes.append(text)

    async def request(
        self, method: str, params: Json = None, *, within: float | None = None
    ) -> Message | None:
        """Send a request and return its reply (result or error), or None after a timeout."""
        request_id = await self.process.send_request(method, params)
        self.capture.request_methods[request_id] = method
        try:
            return await self.process.read_stream_until_response_message(
                request_id, within or self.wait
            )
        except AppServerError as exc:  # an error reply is a reply like any other here
            return {"id": request_id, "error": exc.error}
        except ReadTimeout:
            self.note(f"no reply to request {request_id} ({method})")
        except AssertionError as exc:
            self.note(f"request {request_id} ({method}): {_first_line(exc)}")
        return None

    async def notification(self, method: str, *, within: float | None = None) -> Message | None:
        """Wait for the next notification called `method`."""
        try:
            return await self.process.read_stream_until_notification_message(
                method, within or self.wait
            )
        except ReadTimeout:
            self.note(f"timed out waiting for notification {method}")
        except AssertionError as exc:
            self.note(f"waiting for {method}: {_first_line(exc)}")
        return None

    async def ws_frames(self, count: int, connection: int = 0) -> None:
        """Wait until the realtime mock recorded `count` frames on `connection`."""
        try:
            await self.realtime.wait_for_request(connection, count - 1, self.wait)
        except AssertionError:
            got = self.realtime.connections()
            have = len(got[connection]) if connection < len(got) else 0
            self.note(f"timed out waiting for upstream frame #{count} (saw {have})")

    async def settle(self, quiet: float = 0.5, limit: float = 5.0) -> None:
        """Wait until nothing new arrived anywhere for `quiet` seconds (at most `limit`)."""

        def size() -> tuple[int, ...]:
            return (
                len(self.process.received_messages()),
                len(self.responses.requests()),
                sum(len(frames) for frames in self.realtime.connections()),
                len(self.realtime.handshakes()),
            )

        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        last = size()
        changed = loop.time()
        while True:
            await asyncio.sleep(0.05)
            now = size()
            if now != last:
                last, changed = now, loop.time()
            elif loop.time() - changed >= quiet:
                return
            if loop.time() >= deadline:
                return

    # -- conveniences ----------------------------------------------------------------------------

    async def initialize(self) -> None:
        params = {
            "clientInfo": {"name": "codex-app-server-tests", "title": None, "version": "0.1.0"},
            "capabilities": {"experimentalApi": True},
        }
        await self.request("initialize", params)
        await self.process.send_notification("initialized")

    async def login(self) -> None:
        await self.request("account/login/start", {"type": "apiKey", "apiKey": API_KEY})

    async def start_thread(self) -> str | None:
        thread_id = _thread_id(await self.request("thread/start", {}))
        if thread_id is None:
            self.note("thread/start gave no thread id; scenario stopped")
        return thread_id

    async def raw_line(self, line: str) -> None:
        """Write a line as is and give any reply a short while to arrive."""
        await self.process.send_raw_line(line)
        await self.settle(quiet=0.3, limit=2.0)

    async def start_turn(self, thread_id: str, text: str) -> Message | None:
        self.capture.turn_texts.append(text)
        return await self.request("turn/start", {"threadId": thread_id, "input": _text_input(text)})

    async def append_text(self, thread_id: str, text: str) -> None:
        self.capture.appended_texts.append(text)
        await self.request("thread/realtime/appendText", {"threadId": thread_id, "text": text})


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


async def run_scenario(scenario: Scenario, target: Target, root: Path, wait: float) -> RawCapture:
    """Run `scenario` against `target` with fresh mocks under `root`; return what was seen."""
    paths = RunPaths.create(root)
    capture = RawCapture(target.label)
    responses = await MockResponsesServer(scenario.responses()).start()
    realtime = await WebSocketTestServer(scenario.realtime()).start()
    process: AppServerProcess | None = None
    try:
        if scenario.calls is not None:
            mount = scenario.calls
            headers = {"Location": mount.location} if mount.location else {}
            responses.mount_realtime_calls(status=mount.status, headers=headers, body=mount.body)
        write_config_toml(
            paths.codex_home,
            responses.uri,
            realtime.uri,
            scenario.realtime_enabled,
            scenario.startup_context,
            scenario.realtime_version,
            scenario.sandbox,
        )
        process = AppServerProcess(
            paths.codex_home,
            command=target.command,
            env={"HOME": str(paths.home), "RUST_LOG": None, "PARLEY_LOG": None},
            cwd=paths.cwd,
            validate_schema=False,
            default_timeout=wait,
        )
        await process.start()
        driver = Driver(process, responses, realtime, paths, capture, wait)
        try:
            await scenario.drive(driver)
        except AssertionError as exc:  # the process died or wrote garbage
            capture.notes.append(f"scenario aborted: {_first_line(exc)}")
        capture.exit_status = await _close(process)
    finally:
        if process is not None and process.returncode is None:
            process.kill()
        capture.messages = [] if process is None else process.received_messages()
        capture.stderr_tail = "" if process is None else process.stderr_text()[-4000:]
        capture.ws_handshakes = [(h.uri(), h.headers) for h in realtime.handshakes()]
        capture.ws_frames = [[f.body_json() for f in c] for c in realtime.connections()]
        capture.http = responses.requests()
        capture.call_requests = responses.call_requests()
        await realtime.shutdown()
        await responses.stop()
    capture.literals = [
        (str(paths.codex_home), "<codex-home>"),
        (str(paths.cwd), "<cwd>"),
        (str(paths.home), "<home>"),
        (str(paths.root), "<run>"),
        (responses.uri, "<responses-uri>"),
        (realtime.uri, "<realtime-uri>"),
        (realtime.uri.removeprefix("ws://"), "<realtime-host>"),
        (responses.uri.removeprefix("http://"), "<responses-host>"),
    ]
    return capture


async def _close(process: AppServerProcess) -> int | None:
    """Close stdin and wait for the exit (killing the process group after 5 s)."""
    status = await process.close(check=False)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # anything its tools left behind
    return status


# ================================================================================================
# Normaliser: the same shape for both implementations, run-specific values replaced
# ================================================================================================

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_HEX32 = re.compile(r"\b[0-9a-f]{32}\b")
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}[:-]\d{2}[:-]\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_DATE = re.compile(r"\b\d{4}([-/])\d{2}\1\d{2}\b")
_LOOPBACK_PORT = re.compile(r"127\.0\.0\.1:\d+")
_TIME_KEY = re.compile(r"(?:At|AtMs|Ms|_at|_ms|[Tt]imestamp|^created|^updated)$")
_PID_KEYS = frozenset({"processId", "pid"})
_ID_KEYS = frozenset({"loginId"})
_LONG_TEXT = 600


class Normaliser:
    """Replaces run-specific values; generated ids become `<uuid#N>` by first appearance.

    One instance normalises one run, so the numbering is comparable across the two runs as long
    as the ids appear in the same order.
    """

    def __init__(self, literals: Sequence[tuple[str, str]]) -> None:
        self._literals = sorted(literals, key=lambda pair: -len(pair[0]))
        self._ids: dict[str, str] = {}

    def _placeholder(self, kind: str, value: str) -> str:
        if value not in self._ids:
            self._ids[value] = f"<{kind}#{len(self._ids) + 1}>"
        return self._ids[value]

    def text(self, value: str) -> str:
        for literal, placeholder in self._literals:
            if literal:
                value = value.replace(literal, placeholder)
        value = _UUID.sub(lambda m: self._placeholder("uuid", m.group(0).lower()), value)
        value = _HEX32.sub(lambda m: self._placeholder("hex", m.group(0)), value)
        value = _ISO_DATETIME.sub("<datetime>", value)
        value = _DATE.sub("<date>", value)
        return _LOOPBACK_PORT.sub("127.0.0.1:<port>", value)

    def value(self, value: Json, key: str | None = None) -> Json:
        if isinstance(value, dict):
            return {k: self.value(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(item, key) for item in value]
        if isinstance(value, str):
            if key in _ID_KEYS:
                return self._placeholder("id", value)
            return self.text(value)
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float) and key is not None:
            if _TIME_KEY.search(key):
                return "<time>"
            if key in _PID_KEYS:
                return "<pid>"
        return value


def digest(text: str) -> str:
    """A long text as its length, hash and beginning."""
    sha = hashlib.sha1(text.encode()).hexdigest()[:10]
    head = text[:80].replace("\n", "⏎")
    return f"<{len(text)} chars sha1:{sha}> {head}…"


def shorten_long_texts(value: Json) -> Json:
    if isinstance(value, dict):
        return {k: shorten_long_texts(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shorten_long_texts(item) for item in value]
    if isinstance(value, str) and len(value) > _LONG_TEXT:
        return digest(value)
    return value


def summarise_tool(tool: Json) -> Json:
    """One line per tool: `type name(param*, …) strict=… <description digest>` (* = required)."""
    if not isinstance(tool, dict):
        return tool
    line = f"{tool.get('type')} {tool.get('name') or ''}".rstrip()
    parameters = tool.get("parameters")
    if isinstance(parameters, dict):
        required = set(parameters.get("required") or [])
        names = sorted((parameters.get("properties") or {}).keys())
        line += "(" + ", ".join(f"{n}*" if n in required else n for n in names) + ")"
    for key in ("strict", "format"):
        if key in tool:
            line += f" {key}={json.dumps(tool[key])}"
    if isinstance(tool.get("description"), str):
        line += " " + digest(tool["description"]).partition(">")[0] + ">"
    return line


def summarise_responses_body(body: Json) -> Json:
    """A `/responses` body with the instructions digested and the tools summarised."""
    if not isinstance(body, dict):
        return body
    out: dict[str, Json] = {}
    for key, value in body.items():
        if key == "instructions" and isinstance(value, str):
            out[key] = digest(value)
        elif key == "tools" and isinstance(value, list):
            out[key] = [summarise_tool(tool) for tool in value]
        else:
            out[key] = shorten_long_texts(value)
    return out


_SKIPPED_HEADERS = frozenset({"host", "content-length", "connection", "sec-websocket-key"})


def selected_headers(headers: Iterable[tuple[str, str]]) -> list[str]:
    return sorted(
        f"{name.lower()}: {value}"
        for name, value in headers
        if name.lower() not in _SKIPPED_HEADERS
    )


def split_multipart(body: str, content_type: str | None) -> list[Json]:
    """The parts of a multipart body: their headers, and the content (JSON parsed)."""
    match = re.search(r"boundary=([^;]+)", content_type or "")
    if match is None:
        return [body]
    boundary = "--" + match.group(1).strip('"')
    parts: list[Json] = []
    for chunk in body.split(boundary)[1:]:
        if chunk.startswith("--"):
            break
        head, _, content = chunk.strip("\r\n").partition("\r\n\r\n")
        part: dict[str, Json] = {"headers": head.split("\r\n")}
        try:
            part["json"] = json.loads(content)
        except ValueError:
            part["text"] = content
        parts.append(part)
    return parts


@dataclass
class Trace:
    """One run, normalised, as named sections; rules may still edit the structured fields."""

    target: str
    client: list[tuple[str, Json]]
    notes: list[str]
    ws: list[Json]
    responses: list[Json]
    calls: list[Json]
    http: list[str]
    exit_status: int | None
    schema_problems: list[str]
    appended_texts: list[str]
    turn_texts: list[str]
    counts: str = ""

    def sections(self) -> dict[str, list[str]]:
        """Section name → text lines (what is diffed)."""
        out: dict[str, list[str]] = {}
        seen: dict[str, int] = {}
        for group, message in self.client:
            seen[group] = seen.get(group, 0) + 1
            out.setdefault(f"client › {group}", []).extend([f"#{seen[group]}", *_pretty(message)])
        out["client › notification order"] = _collapse(
            [
                group.removeprefix("notification ")
                for group, _ in self.client
                if group.startswith("notification ")
            ]
        )
        for index, connection in enumerate(self.ws):
            out[f"upstream ws #{index}"] = _pretty(connection)
        for index, request in enumerate(self.responses):
            body = dict(request["body"]) if isinstance(request["body"], dict) else {}
            name = f"/responses #{index + 1}"
            out[f"{name} › input"] = _pretty(body.pop("input", None))
            out[f"{name} › tools"] = _pretty(body.pop("tools", None))
            out[f"{name} › other keys"] = _pretty({"path": request["path"], **body})
            out[f"{name} › headers"] = list(request["headers"])
        for index, call in enumerate(self.calls):
            out[f"webrtc call request #{index + 1}"] = _pretty(call, sort_keys=False)
        out["http requests"] = list(self.http)
        out["process exit status"] = [str(self.exit_status)]
        out["driver notes"] = list(self.notes)
        out["0.120 schema violations"] = list(self.schema_problems)
        return out


def _pretty(value: Json, *, sort_keys: bool = True) -> list[str]:
    return json.dumps(value, indent=2, sort_keys=sort_keys, ensure_ascii=False).splitlines()


def _collapse(names: list[str]) -> list[str]:
    """Consecutive repeats folded into `name ×N`."""
    out: list[str] = []
    for name in names:
        if out and (out[-1] == name or out[-1].startswith(name + " ×")):
            count = int(out[-1].rpartition("×")[2]) + 1 if "×" in out[-1] else 2
            out[-1] = f"{name} ×{count}"
        else:
            out.append(name)
    return out


def group_of(message: Message, request_methods: dict[Any, str]) -> str:
    if "method" in message:
        kind = "server request" if "id" in message else "notification"
        return f"{kind} {message['method']}"
    method = request_methods.get(message.get("id"), "?")
    return f"reply {method}"


def schema_problems(capture: RawCapture) -> list[str]:
    try:
        from support.schema import SchemaValidator
    except ImportError as exc:
        return [f"(not checked: {exc})"]
    validator = SchemaValidator()
    problems: list[str] = []
    for message in capture.messages:
        try:
            if "method" in message and "id" in message:
                validator.validate_server_request(message)
            elif "method" in message:
                validator.validate_notification(message)
            elif "result" in message:
                method = capture.request_methods.get(message.get("id"))
                if method is not None:
                    validator.validate_response(method, message["result"])
        except AssertionError as exc:
            problems.append(_first_line(exc)[:300])
    return problems


def normalise(capture: RawCapture) -> Trace:
    norm = Normaliser(capture.literals)
    client = [
        (group_of(message, capture.request_methods), norm.value(message))
        for message in capture.messages
    ]
    ws: list[Json] = []
    for index, frames in enumerate(capture.ws_frames):
        uri, headers = (
            capture.ws_handshakes[index] if index < len(capture.ws_handshakes) else ("", ())
        )
        ws.append(
            {
                "handshake": norm.text(uri),
                "headers": [norm.text(h) for h in selected_headers(headers)],
                "frames": [shorten_long_texts(norm.value(frame)) for frame in frames],
            }
        )
    # Normalised before summarising, so digests of long texts do not depend on the run's paths.
    responses = [
        {
            "path": r.path,
            "headers": [norm.text(h) for h in selected_headers(r.headers.items())],
            "body": summarise_responses_body(norm.value(r.json)),
        }
        for r in capture.http
        if r.path.endswith("/responses")
    ]
    calls = [
        norm.value(
            {
                "path": r.path,
                "query": r.query,
                "headers": selected_headers(r.headers.items()),
                "parts": split_multipart(r.body_text(), r.header("content-type")),
            }
        )
        for r in capture.call_requests
    ]
    http = [
        norm.text(f"{r.method} {r.path}" + (f"?{r.query}" if r.query else "")) for r in capture.http
    ]
    return Trace(
        target=capture.target,
        client=client,
        notes=[norm.text(note) for note in capture.notes],
        ws=ws,
        responses=responses,
        calls=calls,
        http=http,
        exit_status=capture.exit_status,
        schema_problems=schema_problems(capture),
        appended_texts=capture.appended_texts,
        turn_texts=capture.turn_texts,
        counts=(
            f"{len(client)} client messages, {sum(len(f) for f in capture.ws_frames)} upstream "
            f"frames, {len(responses)} /responses, {len(calls)} call requests"
        ),
    )


# ================================================================================================
# Expected differences: Parley's deliberate deviations, taken out before diffing
# ================================================================================================

ExpectedRule = Callable[[Trace, Trace], list[str]]


def _walk_dicts(value: Json) -> Iterable[dict[str, Json]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _walk_dicts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk_dicts(item)


def _is_thread(obj: dict[str, Json]) -> bool:
    return {"id", "cwd", "modelProvider"} <= obj.keys()


def rule_thread_session_id(reference: Trace, parley: Trace) -> list[str]:
    """`Thread.sessionId` is a Parley extra (README)."""
    if any("sessionId" in o for _, m in reference.client for o in _walk_dicts(m) if _is_thread(o)):
        return []
    removed = 0
    for _, message in parley.client:
        for obj in _walk_dicts(message):
            if _is_thread(obj) and "sessionId" in obj:
                del obj["sessionId"]
                removed += 1
    return [f"Thread.sessionId present in Parley's Thread objects (×{removed})"] if removed else []


def rule_item_timestamps(reference: Trace, parley: Trace) -> list[str]:
    """`startedAtMs`/`completedAtMs` on item notifications are Parley extras (README)."""
    notes: list[str] = []
    for method, key in (("item/started", "startedAtMs"), ("item/completed", "completedAtMs")):
        group = f"notification {method}"
        if any(key in m.get("params", {}) for g, m in reference.client if g == group):
            continue
        removed = 0
        for g, message in parley.client:
            if g == group and key in message.get("params", {}):
                del message["params"][key]
                removed += 1
        if removed:
            notes.append(f"{method} carries `{key}` in Parley (×{removed})")
    return notes


def rule_unknown_method_code(reference: Trace, parley: Trace) -> list[str]:
    """Parley answers an unknown method with -32601 naming it; the reference with -32600."""
    ref_errors = {m.get("id"): m for _, m in reference.client if "error" in m}
    notes: list[str] = []
    for _, message in parley.client:
        error = message.get("error")
        if not isinstance(error, dict) or error.get("code") != -32601:
            continue
        ref = ref_errors.get(message.get("id"))
        ref_error = ref.get("error") if ref else None
        if (
            isinstance(ref_error, dict)
            and ref_error.get("code") == -32600
            and "unknown variant" in str(ref_error.get("message"))
        ):
            notes.append(
                f"unknown method: Parley {error['code']} {error['message']!r}; "
                f"reference -32600 'Invalid request: unknown variant …'"
            )
            placeholder = {"code": "<unknown method>", "message": "<unknown method>"}
            message["error"] = dict(placeholder)
            assert ref is not None
            ref["error"] = dict(placeholder)
    return notes


def _is_user_text(frame: Json, texts: list[str]) -> bool:
    item = frame.get("item", {}) if isinstance(frame, dict) else {}
    if frame.get("type") != "conversation.item.create" or item.get("role") != "user":
        return False
    content = item.get("content") or [{}]
    return content[0].get("text") in texts


def rule_append_text_response_create(reference: Trace, parley: Trace) -> list[str]:
    """Parley's appendText is append-only: no `response.create` after the typed text."""
    removed = 0
    for ref_conn, parley_conn in zip(reference.ws, parley.ws, strict=False):
        parley_has = any(f.get("type") == "response.create" for f in parley_conn["frames"])
        frames: list[Json] = ref_conn["frames"]
        kept: list[Json] = []
        for frame in frames:
            if (
                not parley_has
                and frame == {"type": "response.create"}
                and kept
                and _is_user_text(kept[-1], reference.appended_texts)
            ):
                removed += 1
                continue
            kept.append(frame)
        ref_conn["frames"] = kept
    if not removed:
        return []
    return [f"appendText: the reference follows the typed text with response.create (×{removed})"]


def rule_turn_text_mirrored(reference: Trace, parley: Trace) -> list[str]:
    """Parley mirrors `turn/start` text into a running realtime session as a user text item."""
    removed = 0
    for ref_conn, parley_conn in zip(reference.ws, parley.ws, strict=False):
        if any(_is_user_text(f, reference.turn_texts) for f in ref_conn["frames"]):
            continue
        frames: list[Json] = parley_conn["frames"]
        kept = [f for f in frames if not _is_user_text(f, parley.turn_texts)]
        removed += len(frames) - len(kept)
        parley_conn["frames"] = kept
    if not removed:
        return []
    return [f"turn/start text mirrored upstream as a user text item by Parley (×{removed})"]


EXPECTED_RULES: tuple[ExpectedRule, ...] = (
    rule_thread_session_id,
    rule_item_timestamps,
    rule_unknown_method_code,
    rule_append_text_response_create,
    rule_turn_text_mirrored,
)


# ================================================================================================
# Reporter
# ================================================================================================


@dataclass
class SectionDiff:
    name: str
    reference_lines: list[str]
    parley_lines: list[str]

    def unified(self, context: int) -> list[str]:
        return list(
            difflib.unified_diff(
                self.reference_lines,
                self.parley_lines,
                "reference",
                "parley",
                n=context,
                lineterm="",
            )
        )


@dataclass
class ScenarioResult:
    scenario: Scenario
    expected: list[str]
    same: list[str]
    diffs: list[SectionDiff]
    reference: Trace
    parley: Trace


def compare(scenario: Scenario, reference: Trace, parley: Trace) -> ScenarioResult:
    expected = [note for rule in EXPECTED_RULES for note in rule(reference, parley)]
    ref_sections = reference.sections()
    parley_sections = parley.sections()
    names = list(dict.fromkeys([*ref_sections, *parley_sections]))
    same: list[str] = []
    diffs: list[SectionDiff] = []
    for name in names:
        left, right = ref_sections.get(name, []), parley_sections.get(name, [])
        if left == right:
            if left:
                same.append(name)
        else:
            diffs.append(SectionDiff(name, left, right))
    return ScenarioResult(scenario, expected, same, diffs, reference, parley)


def render(result: ScenarioResult, *, context: int, verbose: bool) -> str:
    lines = [
        "",
        "━" * 100,
        f"scenario {result.scenario.name}: {result.scenario.summary}",
        f"  reference: {result.reference.counts}",
        f"  parley:    {result.parley.counts}",
    ]
    if result.same:
        lines.append("  same: " + ", ".join(name.removeprefix("client › ") for name in result.same))
    for note in result.expected:
        lines.append(f"  expected: {note}")
    if not result.diffs:
        lines.append("  no unexpected differences")
    for diff in result.diffs:
        lines.append(f"  ▸ UNEXPECTED in {diff.name}")
        if (not diff.reference_lines or not diff.parley_lines) and not verbose:
            lines.extend(f"    {line}" for line in _one_sided(diff))
            continue
        for line in diff.unified(context if not verbose else 10_000)[2:]:
            lines.append(f"    {line}")
    return "\n".join(lines)


def _one_sided(diff: SectionDiff) -> list[str]:
    """A section only one side has: how many entries, and the first one."""
    side, body = ("reference", diff.reference_lines)
    if not body:
        side, body = ("parley", diff.parley_lines)
    entries = sum(1 for line in body if re.fullmatch(r"#\d+", line))
    if not entries:
        return [f"only the {side} has:", *(f"  {line}" for line in body)]
    first = body[1 : body.index("#2")] if "#2" in body else body[1:]
    return [f"only the {side} sends this (×{entries}); the first:", *(f"  {x}" for x in first)]


def dump(directory: Path, result: ScenarioResult, stderr_tails: dict[str, str]) -> None:
    """Write both runs' compared sections (after the expected-difference rules) as JSON."""
    directory.mkdir(parents=True, exist_ok=True)
    for trace in (result.reference, result.parley):
        path = directory / f"{result.scenario.name}.{trace.target}.json"
        content = {
            "expected": result.expected,
            "sections": trace.sections(),
            "stderr_tail": stderr_tails.get(trace.target, ""),
        }
        path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def render_summary(results: list[ScenarioResult]) -> str:
    lines = ["", "═" * 100, "summary (unexpected differing sections per scenario)"]
    for result in results:
        names = ", ".join(d.name for d in result.diffs) or "—"
        lines.append(f"  {result.scenario.name:<26} {len(result.diffs):>3}  {names}")
    return "\n".join(lines)


# ================================================================================================
# Reference discovery and command line
# ================================================================================================


def find_codex(explicit: str | None) -> Path | None:
    if explicit:
        path = Path(explicit).expanduser()
        return path if path.exists() else None
    on_path = shutil.which("codex")
    if on_path:
        return Path(on_path)
    cached = REFERENCE_PREFIX / "node_modules" / ".bin" / "codex"
    return cached if cached.exists() else None


def codex_version(codex: Path) -> str:
    try:
        out = subprocess.run(
            [str(codex), "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    return out.stdout.strip() or out.stderr.strip()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Diff Parley's app-server traffic against the reference codex app-server.",
        epilog=f"Install the reference with: {INSTALL_COMMAND}",
    )
    parser.add_argument("--codex", help="path to the reference `codex` executable")
    parser.add_argument(
        "--parley",
        default=shlex.join([sys.executable, "-m", "parley", "app-server"]),
        help="command that starts Parley's app-server (default: %(default)s)",
    )
    parser.add_argument(
        "--scenario",
        action="extend",
        nargs="+",
        metavar="NAME",
        choices=list(SCENARIOS_BY_NAME),
        help="scenario(s) to run (default: all)",
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--wait", type=float, default=10.0, help="seconds per awaited event")
    parser.add_argument("--context", type=int, default=3, help="diff context lines")
    parser.add_argument("--verbose", action="store_true", help="print whole sections in diffs")
    parser.add_argument("--keep", action="store_true", help="keep the run directories")
    parser.add_argument("--stderr", action="store_true", help="print each server's stderr tail")
    parser.add_argument(
        "--dump",
        type=Path,
        metavar="DIR",
        help="write each run's normalised sections and stderr to DIR/<scenario>.<target>.json",
    )
    return parser.parse_args(argv)


async def run_all(args: argparse.Namespace, targets: tuple[Target, Target]) -> list[ScenarioResult]:
    WORK_ROOT.mkdir(parents=True, exist_ok=True)
    # Not under /tmp: the reference refuses to set up its helper binaries in a temp directory.
    root = Path(tempfile.mkdtemp(prefix="run-", dir=WORK_ROOT))
    names = args.scenario or list(SCENARIOS_BY_NAME)
    results: list[ScenarioResult] = []
    try:
        for name in names:
            scenario = SCENARIOS_BY_NAME[name]
            started = time.monotonic()
            traces: list[Trace] = []
            stderr_tails: dict[str, str] = {}
            for target in targets:
                capture = await run_scenario(
                    scenario, target, root / name / target.label, args.wait
                )
                stderr_tails[target.label] = capture.stderr_tail
                if args.stderr:
                    print(f"--- {name} / {target.label} stderr (tail) ---\n{capture.stderr_tail}")
                traces.append(normalise(capture))
            result = compare(scenario, traces[0], traces[1])
            results.append(result)
            if args.dump is not None:
                dump(args.dump, result, stderr_tails)
            print(render(result, context=args.context, verbose=args.verbose), flush=True)
            print(f"  ({time.monotonic() - started:.1f}s)", flush=True)
    finally:
        if args.keep:
            print(f"\nrun directories kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.list:
        for scenario in SCENARIOS:
            print(f"{scenario.name:<26} {scenario.summary}")
        return 0
    codex = find_codex(args.codex)
    if codex is None:
        where = args.codex or "`codex` on PATH or " + str(REFERENCE_PREFIX / "node_modules/.bin")
        print(f"reference codex not found ({where}). Install it with:\n\n    {INSTALL_COMMAND}\n")
        return 2
    version = codex_version(codex)
    print(f"reference: {codex} ({version})")
    if REFERENCE_VERSION not in version:
        print(f"warning: the reference is expected to be codex-cli {REFERENCE_VERSION}")
    print(f"parley:    {args.parley}")
    targets = (
        Target("reference", (str(codex), "app-server")),
        Target("parley", tuple(shlex.split(args.parley))),
    )
    results = asyncio.run(run_all(args, targets))
    print(render_summary(results))
    return 1 if any(result.diffs for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
