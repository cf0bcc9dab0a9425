"""Twins of upstream `app-server-tests/suite/v2/connection_handling_websocket_unix.rs`.

A WebSocket app-server with a turn waiting on a slow Responses answer gets SIGINT or SIGTERM:
the first signal lets the running turn finish before the process exits 0; a second one ends it
at once, still with status 0. Upstream delays the mock's answer by 3 s; here the answer is held
by a gate that the test opens where upstream's delay would run out, so nothing depends on
timing except upstream's own "has not exited within 300 ms" check. All four tests run here.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.app_server import AppServerProcess, SpawnAppServer
from support.mock_responses import MockResponsesServer, ScriptedResponse
from support.sse import ev_assistant_message, ev_completed, ev_response_created, sse
from support.thread_harness import create_config_toml
from support.ws_app_server import (
    DEFAULT_READ_TIMEOUT,
    WsRpc,
    connect_websocket,
    spawn_websocket_server,
)
from websockets.exceptions import ConnectionClosed


@dataclass
class GracefulCtrlCFixture:
    server: MockResponsesServer
    release_turn: asyncio.Event
    process: AppServerProcess
    ws: WsRpc


def _final_assistant_message(text: str) -> str:
    return sse(
        [ev_response_created("resp-1"), ev_assistant_message("msg-1", text), ev_completed("resp-1")]
    )


@pytest.fixture
async def ctrl_c_fixture(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> AsyncIterator[GracefulCtrlCFixture]:
    """A WebSocket app-server with a turn whose Responses answer is held back."""
    release_turn = asyncio.Event()
    server = await MockResponsesServer(
        [ScriptedResponse(_final_assistant_message("Done"), gate=release_turn)]
    ).start()
    try:
        create_config_toml(codex_home, server.uri, "never")
        process, bind_addr = await spawn_websocket_server(spawn_app_server, codex_home)
        ws = WsRpc(await connect_websocket(bind_addr))

        await ws.send_initialize_request(1, "ws_graceful_shutdown")
        init_response = await ws.read_response_for_id(1)
        assert init_response["id"] == 1

        await ws.send_request("thread/start", 2, {"model": "mock-model"})
        thread = (await ws.read_response_for_id(2))["result"]["thread"]

        await ws.send_request(
            "turn/start",
            3,
            {
                "threadId": thread["id"],
                "input": [{"type": "text", "text": "Hello", "text_elements": []}],
            },
        )
        turn_start_response = await ws.read_response_for_id(3)
        assert turn_start_response["id"] == 3

        await server.wait_for_responses_requests(1, timeout=5.0)
        yield GracefulCtrlCFixture(server, release_turn, process, ws)
    finally:
        release_turn.set()
        await server.stop()


async def _assert_process_does_not_exit_within(process: AppServerProcess, window: float) -> None:
    with pytest.raises(AssertionError, match="still running"):
        await process.wait_for_exit(timeout=window)


async def _expect_websocket_disconnect(ws: WsRpc) -> None:
    async with asyncio.timeout(DEFAULT_READ_TIMEOUT):
        try:
            while True:
                await ws.socket.recv()
        except ConnectionClosed:
            return


async def _first_signal_waits_for_the_turn(fixture: GracefulCtrlCFixture, signum: int) -> None:
    os.kill(fixture.process.pid, signum)
    await _assert_process_does_not_exit_within(fixture.process, 0.3)

    fixture.release_turn.set()  # upstream: the mock's 3 s delay runs out
    status = await fixture.process.wait_for_exit(timeout=10.0)
    assert status == 0, f"expected graceful exit, got {status}"

    await _expect_websocket_disconnect(fixture.ws)


async def _second_signal_forces_exit(fixture: GracefulCtrlCFixture, signum: int) -> None:
    os.kill(fixture.process.pid, signum)
    await _assert_process_does_not_exit_within(fixture.process, 0.3)

    os.kill(fixture.process.pid, signum)
    status = await fixture.process.wait_for_exit(timeout=15.0)  # a safety net, not a measurement
    assert status == 0, f"expected graceful exit, got {status}"

    await _expect_websocket_disconnect(fixture.ws)


async def test_websocket_transport_ctrl_c_waits_for_running_turn_before_exit(
    ctrl_c_fixture: GracefulCtrlCFixture,
) -> None:
    """Ctrl-C lets the running turn finish, then the server exits 0 and drops the socket."""
    await _first_signal_waits_for_the_turn(ctrl_c_fixture, signal.SIGINT)


async def test_websocket_transport_second_ctrl_c_forces_exit_while_turn_running(
    ctrl_c_fixture: GracefulCtrlCFixture,
) -> None:
    """A second Ctrl-C while the turn still runs ends the server at once, with status 0."""
    await _second_signal_forces_exit(ctrl_c_fixture, signal.SIGINT)


async def test_websocket_transport_sigterm_waits_for_running_turn_before_exit(
    ctrl_c_fixture: GracefulCtrlCFixture,
) -> None:
    """SIGTERM lets the running turn finish, then the server exits 0 and drops the socket."""
    await _first_signal_waits_for_the_turn(ctrl_c_fixture, signal.SIGTERM)


async def test_websocket_transport_second_sigterm_forces_exit_while_turn_running(
    ctrl_c_fixture: GracefulCtrlCFixture,
) -> None:
    """A second SIGTERM while the turn still runs ends the server at once, with status 0."""
    await _second_signal_forces_exit(ctrl_c_fixture, signal.SIGTERM)
