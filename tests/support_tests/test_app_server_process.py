"""`AppServerProcess` talks JSON lines to a real subprocess with upstream McpProcess semantics.

Most tests drive `stub_app_server.py` (a scripted stand-in process) so the client's own behaviour
is checked; the last one starts the real `parley app-server`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
import pytest
from support.app_server import AppServerError, AppServerProcess, ReadTimeout, SpawnAppServer

STUB = [sys.executable, str(Path(__file__).with_name("stub_app_server.py"))]


async def spawn_stub(spawn: SpawnAppServer, **kwargs: object) -> AppServerProcess:
    return await spawn(command=STUB, validate_schema=False, **kwargs)


async def test_initialize_writes_the_upstream_handshake(spawn_app_server: SpawnAppServer) -> None:
    """initialize sends clientInfo + capabilities with id 0, then the `initialized` notification."""
    server = await spawn_stub(spawn_app_server)
    result = await server.initialize()
    assert result["userAgent"] == "stub/0.0.0"
    log = await server.request("stub/log", {})
    assert [orjson.loads(line) for line in log["lines"]] == [
        {
            "id": 0,
            "method": "initialize",
            "params": {
                "clientInfo": {"name": "codex-app-server-tests", "title": None, "version": "0.1.0"},
                "capabilities": {"experimentalApi": True},
            },
        },
        {"method": "initialized"},
    ]
    await server.close()


async def test_environment_points_at_codex_home(
    spawn_app_server: SpawnAppServer, codex_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CODEX_HOME is the test's directory, OPENAI_API_KEY is removed, overrides apply."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-should-not-leak")
    monkeypatch.setenv("PARLEY_TEST_REMOVE_ME", "x")
    server = await spawn_stub(
        spawn_app_server, env={"PARLEY_TEST_SET": "yes", "PARLEY_TEST_REMOVE_ME": None}
    )
    names = ["CODEX_HOME", "OPENAI_API_KEY", "PARLEY_TEST_SET", "PARLEY_TEST_REMOVE_ME"]
    assert await server.request("stub/env", {"names": names}) == {
        "CODEX_HOME": str(codex_home),
        "OPENAI_API_KEY": None,
        "PARLEY_TEST_SET": "yes",
        "PARLEY_TEST_REMOVE_ME": None,
    }
    await server.close()


async def test_reads_are_fifo_per_method_and_search_the_buffer_first(
    spawn_app_server: SpawnAppServer,
) -> None:
    """Messages skipped by one read are found by later reads, oldest first."""
    server = await spawn_stub(spawn_app_server)
    request_id = await server.send_request("stub/burst", {})
    assert await server.read_notification("stub/b") == {"n": 2}
    assert [m["method"] for m in server.buffered_messages()] == ["stub/a"]
    assert await server.read_notification("stub/a") == {"n": 1}
    response = await server.read_stream_until_response_message(request_id)
    assert response == {"id": request_id, "result": {"done": True}}
    assert await server.read_notification("stub/a") == {"n": 3}
    assert server.buffered_messages() == []
    assert len(server.received_messages()) == 4
    await server.expect_no_notification("stub/a", within=0.1)
    await server.close()


async def test_error_answers(spawn_app_server: SpawnAppServer) -> None:
    """An error answer fails `request` but is returned by `read_stream_until_error_message`."""
    server = await spawn_stub(spawn_app_server)
    with pytest.raises(AppServerError) as failed:
        await server.request("stub/fail", {})
    assert failed.value.error == {"code": -32600, "message": "nope"}
    assert await server.request_error("stub/fail", {}) == {"code": -32600, "message": "nope"}
    with pytest.raises(AssertionError, match="expected an error"):
        await server.read_stream_until_error_message(await server.send_request("stub/burst", {}))
    await server.close()


async def test_timeout_reports_unread_messages_and_stderr(
    spawn_app_server: SpawnAppServer,
) -> None:
    """A read that times out says what it waited for, what was left unread, and stderr's tail."""
    server = await spawn_stub(spawn_app_server)
    await server.send_request("stub/stderr", {})
    with pytest.raises(ReadTimeout) as timed_out:
        await server.read_stream_until_notification_message("never/sent", timeout=0.5)
    text = str(timed_out.value)
    assert "notification 'never/sent'" in text
    assert '"stub/unrelated"' in text
    assert "stub says hi" in text
    assert "stub says hi" in server.stderr_text()
    await server.close()


async def test_server_requests_are_matched_by_kind_not_just_id(
    spawn_app_server: SpawnAppServer,
) -> None:
    """A server request with the same id as a client request is not taken for its response, and
    `send_response` answers it."""
    server = await spawn_stub(spawn_app_server)
    request_id = await server.send_request("stub/ask", {})
    question = await server.read_stream_until_request_message("stub/approve")
    assert question["id"] == request_id
    await server.send_response(question["id"], {"decision": "accept"})
    assert await server.read_notification("stub/answered") == {"result": {"decision": "accept"}}
    assert await server.read_stream_until_response_message(request_id) == {
        "id": request_id,
        "result": {},
    }
    await server.close()


async def test_non_json_output_fails_the_next_read(spawn_app_server: SpawnAppServer) -> None:
    """Anything on stdout that is not a JSON-RPC message is reported."""
    server = await spawn_stub(spawn_app_server)
    await server.send_request("stub/garbage", {})
    with pytest.raises(AssertionError, match="not JSON: b'this is not json"):
        await server.read_stream_until_notification_message("never/sent", timeout=1)
    with pytest.raises(AssertionError, match="invalid output"):
        await server.close()


async def test_schema_violations_fail_the_next_read(spawn_app_server: SpawnAppServer) -> None:
    """Notifications are checked against the 0.120 schema as they arrive."""
    pytest.importorskip("support.schema")
    server = await spawn_app_server(command=STUB)
    with pytest.raises(AssertionError, match="account/login/completed"):
        await server.request("stub/invalid", {})
    await server.close(check=False)


async def test_exit_status_and_closed_stdout_are_reported(
    spawn_app_server: SpawnAppServer,
) -> None:
    """Reading after the server exited fails at once; `close()` fails on a non-zero status."""
    server = await spawn_stub(spawn_app_server)
    await server.request("stub/exit", {})
    assert await server.wait_for_exit() == 3
    with pytest.raises(AssertionError, match="closed stdout"):
        await server.read_stream_until_notification_message("anything")
    with pytest.raises(AssertionError, match="exited with status 3"):
        await server.close()


async def test_real_server_initializes(spawn_app_server: SpawnAppServer, codex_home: Path) -> None:
    """`parley app-server` answers initialize with its identity and exits cleanly on stdin EOF."""
    server = await spawn_app_server()
    result = await server.initialize()
    assert {"userAgent", "codexHome", "platformFamily", "platformOs"} <= set(result)
    assert result["codexHome"] == str(codex_home)
    assert result["userAgent"].startswith("codex-app-server-tests/")
    await server.close()
