"""The scripted Realtime WebSocket server follows upstream's batch semantics, seen from a client."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest
from support.mock_realtime import (
    WebSocketConnectionConfig,
    WebSocketTestServer,
    start_websocket_server,
    start_websocket_server_with_headers,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidHandshake
from websockets.frames import CloseCode


def session_updated(session_id: str) -> dict[str, Any]:
    return {"type": "session.updated", "session": {"id": session_id, "instructions": "p"}}


async def recv_json(ws: ClientConnection, within: float = 2.0) -> Any:
    return orjson.loads(await asyncio.wait_for(ws.recv(), within))


async def assert_silent(ws: ClientConnection, for_s: float = 0.2) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(ws.recv(), for_s)


async def send_json(ws: ClientConnection, value: Any) -> None:
    await ws.send(orjson.dumps(value).decode())


async def test_batch_k_is_sent_after_the_kth_client_frame() -> None:
    """Nothing is sent before the first client frame; each batch answers one frame; then close."""
    server = await start_websocket_server(
        [[[session_updated("s1")], [], [{"type": "a"}, {"type": "b"}]]]
    )
    try:
        async with connect(server.uri + "/v1/realtime") as ws:
            await assert_silent(ws)
            await send_json(ws, {"type": "session.update"})
            assert await recv_json(ws) == session_updated("s1")
            await send_json(ws, {"type": "input_audio_buffer.append", "audio": "BQYH"})
            await assert_silent(ws)
            await send_json(ws, {"type": "conversation.item.create"})
            assert await recv_json(ws) == {"type": "a"}
            assert await recv_json(ws) == {"type": "b"}
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 3)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == CloseCode.NO_STATUS_RCVD

        request = await server.wait_for_request(0, 2)
        assert request.body_json() == {"type": "conversation.item.create"}
        frames = server.single_connection()
        assert [f.body_json()["type"] for f in frames] == [
            "session.update",
            "input_audio_buffer.append",
            "conversation.item.create",
        ]
        assert [len(c) for c in server.connections()] == [3]
    finally:
        await server.shutdown()


async def test_wait_for_request_waits_for_a_frame_sent_later() -> None:
    """`wait_for_request` blocks until the frame arrives, and times out with what was seen."""
    async with await start_websocket_server([[[], []]]) as server:
        async with connect(server.uri) as ws:
            waiter = asyncio.ensure_future(server.wait_for_request(0, 1))
            await send_json(ws, {"type": "first"})
            await asyncio.sleep(0.1)
            assert not waiter.done()
            await send_json(ws, {"type": "second"})
            assert (await waiter).body_json() == {"type": "second"}
            with pytest.raises(AssertionError, match=r"connection 0: \['first', 'second'\]"):
                await server.wait_for_request(0, 2, timeout=0.2)


async def test_client_leaving_early_ends_the_script() -> None:
    """If the client closes before the script is done, only its frames are recorded (the spec's
    `connection.len() == 3` with four batches)."""
    async with await start_websocket_server(
        [[[session_updated("s")], [], [{"type": "error", "message": "boom"}], []]]
    ) as server:
        async with connect(server.uri) as ws:
            await send_json(ws, {"type": "session.update"})
            await recv_json(ws)
            await send_json(ws, {"type": "input_audio_buffer.append"})
            await send_json(ws, {"type": "conversation.item.create"})
            assert (await recv_json(ws))["type"] == "error"
        await asyncio.sleep(0.1)
        assert len(server.single_connection()) == 3


async def test_handshake_uri_headers_and_response_headers_are_recorded() -> None:
    """The upgrade's path+query and headers are recorded; configured headers reach the client."""
    async with await start_websocket_server_with_headers(
        [
            WebSocketConnectionConfig(
                requests=[[session_updated("s")]],
                response_headers=[("X-Reasoning-Included", "true")],
                close_after_requests=False,
            )
        ]
    ) as server:
        async with connect(
            server.uri + "/v1/realtime?call_id=rtc_app_test",
            additional_headers={"Authorization": "Bearer sk-test-key"},
        ) as ws:
            assert ws.response is not None
            assert ws.response.headers["x-reasoning-included"] == "true"
            handshake = await server.wait_for_handshake(0)
            assert handshake is server.single_handshake()
            assert handshake.uri() == "/v1/realtime?call_id=rtc_app_test"
            assert handshake.header("authorization") == "Bearer sk-test-key"
            assert handshake.header("AUTHORIZATION") == "Bearer sk-test-key"
            assert handshake.header("x-missing") is None
            assert await server.wait_for_handshakes(1, timeout=0.1)
            assert not await server.wait_for_handshakes(2, timeout=0.1)


async def test_open_connection_stays_open_and_records_nothing_more() -> None:
    """With close_after_requests=False the socket outlives the script (pings answered), later
    frames are not recorded, and shutdown drops it without a Close frame."""
    server = await start_websocket_server_with_headers(
        [WebSocketConnectionConfig(requests=[[session_updated("s")]], close_after_requests=False)]
    )
    try:
        async with connect(server.uri, ping_interval=None) as ws:
            await send_json(ws, {"type": "session.update"})
            assert await recv_json(ws) == session_updated("s")
            await send_json(ws, {"type": "conversation.item.create"})
            await assert_silent(ws, 0.5)
            pong = await ws.ping()
            await asyncio.wait_for(pong, 2)
            assert len(server.single_connection()) == 1
            await server.shutdown()
            with pytest.raises(ConnectionClosedError) as closed:
                await asyncio.wait_for(ws.recv(), 2)
            assert closed.value.rcvd is None
    finally:
        await server.shutdown()


async def test_open_connection_can_record_later_frames_when_asked() -> None:
    """`record_after_requests=True` records frames sent after the script ran out."""
    async with await start_websocket_server_with_headers(
        [
            WebSocketConnectionConfig(
                requests=[[session_updated("s")]],
                close_after_requests=False,
                record_after_requests=True,
            )
        ]
    ) as server:
        async with connect(server.uri) as ws:
            await send_json(ws, {"type": "session.update"})
            await recv_json(ws)
            await send_json(ws, {"type": "response.create"})
            assert (await server.wait_for_request(0, 1)).body_json() == {"type": "response.create"}


async def test_connections_beyond_the_script_are_dropped_without_handshake() -> None:
    """Only configured connections are upgraded; the next one is closed before any handshake."""
    async with await start_websocket_server_with_headers(
        [WebSocketConnectionConfig(requests=[], close_after_requests=False)]
    ) as server:
        async with connect(server.uri + "/first"):
            with pytest.raises((InvalidHandshake, OSError, EOFError)):
                async with connect(server.uri + "/second", open_timeout=2):
                    pass
        assert [h.uri() for h in server.handshakes()] == ["/first"]
        assert len(server.connections()) == 1


async def test_empty_script_accepts_then_closes() -> None:
    """A connection with no batches (`vec![vec![]]`) is upgraded and closed straight away."""
    async with await start_websocket_server([[]]) as server:
        async with connect(server.uri) as ws:
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 3)
        assert server.connections() == [[]]


async def test_non_json_frame_uses_a_batch_but_is_not_recorded() -> None:
    """A frame that is not JSON still triggers its batch (as upstream) but is only logged aside."""
    async with await start_websocket_server([[[{"type": "x"}], [{"type": "y"}]]]) as server:
        async with connect(server.uri) as ws:
            await ws.send("not json")
            assert await recv_json(ws) == {"type": "x"}
            await send_json(ws, {"type": "json"})
            assert await recv_json(ws) == {"type": "y"}
        await server.wait_for_request(0, 0)
        assert [f.body_json() for f in server.single_connection()] == [{"type": "json"}]
        assert server.ignored_messages() == [(0, "not json")]


async def test_accept_delay_postpones_the_handshake() -> None:
    """`accept_delay` holds the 101 answer."""
    async with await start_websocket_server_with_headers(
        [WebSocketConnectionConfig(requests=[], accept_delay=0.3, close_after_requests=False)]
    ) as server:
        started = time.monotonic()
        async with connect(server.uri):
            assert time.monotonic() - started >= 0.3


async def test_raw_string_events_are_sent_verbatim_and_large_frames_pass() -> None:
    """A `str` batch item goes out as is; multi-megabyte client frames are read whole."""
    async with await start_websocket_server([[["{not json"]]]) as server:
        async with connect(server.uri, max_size=None) as ws:
            audio = "A" * (4 * 1024 * 1024)
            await send_json(ws, {"type": "input_audio_buffer.append", "audio": audio})
            assert await asyncio.wait_for(ws.recv(), 5) == "{not json"
        request = await server.wait_for_request(0, 0)
        assert request.body_json()["audio"] == audio


async def test_shutdown_is_idempotent_and_uri_is_loopback() -> None:
    """The server listens on 127.0.0.1 and can be shut down twice."""
    server = WebSocketTestServer([])
    await server.start()
    assert server.uri.startswith("ws://127.0.0.1:")
    await server.shutdown()
    await server.shutdown()
