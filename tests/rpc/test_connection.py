"""Unit tests of the sans-IO JSON-RPC core: lines in, events out; messages in, lines out."""

from __future__ import annotations

import orjson
import pytest

from parley.rpc.connection import (
    ClientInfo,
    ErrorResponse,
    Malformed,
    Notification,
    Request,
    Response,
    RpcConnection,
)
from parley.rpc.errors import ClientError, MethodNotFound


def test_request_ids_keep_their_json_type() -> None:
    """A client that sends string ids gets string ids back, and int ids stay ints."""
    conn = RpcConnection()
    event = conn.receive_line(b'{"id":"41","method":"initialize","params":{}}\n')
    assert event == Request("41", "initialize", {})
    assert orjson.loads(conn.response("41", {}))["id"] == "41"
    event = conn.receive_line(b'{"id":9007199254740993,"method":"x"}')
    assert isinstance(event, Request) and event.id == 9007199254740993
    assert b'"id":9007199254740993' in conn.response(event.id, {})


def test_jsonrpc_member_accepted_and_never_written() -> None:
    """Clients that send "jsonrpc":"2.0" work, and Parley never writes the member."""
    conn = RpcConnection()
    event = conn.receive_line(b'{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1}}')
    assert event == Request(1, "m", {"a": 1})
    assert b"jsonrpc" not in conn.response(1, {"ok": True})
    assert b"jsonrpc" not in (conn.notification("n", {}) or b"")


@pytest.mark.parametrize(
    "line",
    [
        b"this is not json",
        b'{"id": 50, "method": ',
        b"[]",
        b"42",
        b'"hello"',
        b"null",
        b"{}",
        b"",
        b'{"id":1.5,"method":"m"}',
        b'{"id":true,"method":"m"}',
        b'{"id":null,"method":"m"}',
        b'{"id":1,"params":{"x":"\xff\xfe"},"method":"m"}',
    ],
)
def test_malformed_lines_are_reported_not_raised(line: bytes) -> None:
    """Garbage, batches, bad ids and invalid UTF-8 are dropped without killing the connection."""
    assert isinstance(RpcConnection().receive_line(line), Malformed)


def test_notifications_with_or_without_params() -> None:
    """`initialized` is accepted with no params, empty params or null params."""
    conn = RpcConnection()
    assert conn.receive_line(b'{"method":"initialized"}') == Notification("initialized", None)
    assert conn.receive_line(b'{"method":"initialized","params":{}}') == Notification(
        "initialized", {}
    )


def test_handshake_gates() -> None:
    """Requests before initialize fail with "Not initialized"; a second initialize fails too."""
    conn = RpcConnection()
    with pytest.raises(ClientError, match=r"^Not initialized$"):
        conn.require_initialized()
    conn.accept_initialize(ClientInfo("c", None, "1"), experimental_api=False, opt_out=[])
    conn.require_initialized()
    with pytest.raises(ClientError, match=r"^Already initialized$"):
        conn.accept_initialize(ClientInfo("c", None, "1"), experimental_api=False, opt_out=[])
    with pytest.raises(ClientError) as err:
        conn.require_experimental("thread/realtime/start")
    assert err.value.message == "thread/realtime/start requires experimentalApi capability"
    assert err.value.code == -32600


def test_opt_out_suppresses_exactly_the_named_notifications() -> None:
    """A client that opts out of a notification never receives it, and still gets the others."""
    conn = RpcConnection()
    conn.accept_initialize(ClientInfo(), experimental_api=True, opt_out=["thread/started"])
    assert conn.notification("thread/started", {"thread": {}}) is None
    line = conn.notification("turn/started", {"x": 1})
    assert line is not None and orjson.loads(line) == {"method": "turn/started", "params": {"x": 1}}


def test_server_requests_are_routed_back_by_id() -> None:
    """A client's answer to an approval request is matched to the request that asked it."""
    conn = RpcConnection()
    request_id, line = conn.server_request("item/commandExecution/requestApproval", {"a": 1})
    assert orjson.loads(line) == {
        "id": request_id,
        "method": "item/commandExecution/requestApproval",
        "params": {"a": 1},
    }
    answer = conn.receive_line(orjson.dumps({"id": request_id, "result": {"decision": "accept"}}))
    assert answer == Response(
        request_id, "item/commandExecution/requestApproval", {"decision": "accept"}
    )
    stray = conn.receive_line(b'{"id":"zz","error":{"code":-1,"message":"nope"}}')
    assert isinstance(stray, ErrorResponse) and stray.method is None


def test_error_lines_carry_code_and_message_without_data() -> None:
    """Errors are written as {"error":{code,message},"id"} with no data member when absent."""
    conn = RpcConnection()
    line = conn.error(7, MethodNotFound("no/such"))
    assert orjson.loads(line) == {
        "error": {
            "code": -32601,
            "message": "method not found: `no/such` is not implemented by Parley",
        },
        "id": 7,
    }
