"""The JSON-RPC layer of `parley app-server` over stdio: handshake, gates, errors, framing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from support.app_server import AppServerProcess, SpawnAppServer

from .helpers import write_config

LIST_VOICES = "thread/realtime/listVoices"
CLIENT_INFO = {"name": "parley-it-client", "title": None, "version": "9.9.9"}


async def started(spawn: SpawnAppServer, codex_home: Path) -> AppServerProcess:
    """A server with the mock-provider config, not yet initialized."""
    write_config(codex_home)
    return await spawn(codex_home=codex_home)


def replies_with_id(server: AppServerProcess, request_id: Any) -> list[dict[str, Any]]:
    """Every response or error received so far whose id equals `request_id` (same JSON type)."""
    return [
        m
        for m in server.received_messages()
        if "method" not in m
        and "id" in m
        and type(m["id"]) is type(request_id)
        and m["id"] == request_id
    ]


async def test_initialize_describes_the_server(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """initialize answers with a user agent naming the client, the CODEX_HOME and the platform."""
    server = await started(spawn_app_server, codex_home)
    result = await server.initialize(client_name="parley-it-client", client_version="9.9.9")

    assert set(result) == {"userAgent", "codexHome", "platformFamily", "platformOs"}
    assert result["userAgent"].startswith("parley-it-client/")
    assert result["codexHome"] == str(codex_home)
    assert result["platformFamily"] == "unix"
    assert result["platformOs"] == "linux"
    first = server.received_messages()[0]
    assert first == {"id": 0, "result": result}, "the initialize answer is the first line"
    await server.close()


async def test_requests_before_initialize_are_refused(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Requests sent before initialize get -32600 "Not initialized" with their id echoed as sent."""
    server = await started(spawn_app_server, codex_home)
    await server.send_raw_line(f'{{"id":100,"method":"{LIST_VOICES}","params":{{}}}}')
    await server.send_raw_line('{"id":"early","method":"thread/start","params":{}}')

    by_int = await server.read_stream_until_error_message(100)
    by_str = await server.read_stream_until_error_message("early")

    assert by_int == {"error": {"code": -32600, "message": "Not initialized"}, "id": 100}
    assert by_str == {"error": {"code": -32600, "message": "Not initialized"}, "id": "early"}
    await server.initialize()
    assert (await server.request(LIST_VOICES, {}))["voices"]["defaultV2"] == "marin"
    await server.close()


async def test_request_ids_are_echoed_with_their_type(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Integer and string request ids come back exactly, with the same JSON type."""
    server = await started(spawn_app_server, codex_home)
    await server.initialize()
    ids: list[Any] = [41, -7, 9007199254740993, "41", "", "007", "req-abc"]
    for request_id in ids:
        line = f'{{"id":{_json(request_id)},"method":"{LIST_VOICES}","params":{{}}}}'
        await server.send_raw_line(line)
    for request_id in ids:
        reply = await server.read_stream_until_response_message(request_id)
        assert type(reply["id"]) is type(request_id) and reply["id"] == request_id
    await server.close()


def _json(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


async def test_second_initialize_is_refused(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """A second initialize on the same connection gets -32600 "Already initialized"."""
    server = await started(spawn_app_server, codex_home)
    await server.initialize()
    error = await server.request_error(
        "initialize", {"clientInfo": CLIENT_INFO, "capabilities": {"experimentalApi": True}}
    )
    assert error == {"code": -32600, "message": "Already initialized"}
    await server.close()


async def test_experimental_method_needs_the_capability(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Without experimentalApi, realtime methods are refused while stable methods still work."""
    server = await started(spawn_app_server, codex_home)
    await server.initialize(experimental_api=False)

    error = await server.request_error(LIST_VOICES, {})

    assert error == {
        "code": -32600,
        "message": "thread/realtime/listVoices requires experimentalApi capability",
    }
    thread = await server.start_thread()
    assert thread["status"] == {"type": "idle"}
    await server.close()


async def test_opt_out_suppresses_exactly_the_named_notifications(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Notifications named in optOutNotificationMethods never arrive; the others still do."""
    server = await started(spawn_app_server, codex_home)
    await server.initialize(opt_out=["thread/started", "account/updated"])

    await server.login_with_api_key("sk-opt-out")
    completed = await server.read_notification("account/login/completed")
    thread = await server.start_thread()
    await server.request(LIST_VOICES, {})  # everything before this answer has been written

    assert completed == {"loginId": None, "success": True, "error": None}
    assert thread["id"]
    await server.expect_no_notification("thread/started", within=0.3)
    await server.expect_no_notification("account/updated", within=0.01)
    await server.close()


async def test_unknown_method_is_method_not_found(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """A method Parley does not know gets -32601 and a message naming it."""
    server = await started(spawn_app_server, codex_home)
    await server.initialize()
    error = await server.request_error("no/such/method", {})
    assert error["code"] == -32601
    assert "no/such/method" in error["message"]
    await server.close()


async def test_invalid_params_name_the_field(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Params that do not fit the method get -32600 with a message naming the offending field."""
    server = await started(spawn_app_server, codex_home)
    await server.initialize()
    text = [{"type": "text", "text": "hi", "text_elements": []}]

    missing = await server.request_error("turn/start", {"input": text})
    wrong_type = await server.request_error("thread/realtime/stop", {"threadId": 5})
    not_bool = await server.request_error("thread/start", {"ephemeral": "x"})
    no_key = await server.request_error("account/login/start", {"type": "apiKey"})

    assert missing["code"] == -32600
    assert missing["message"].startswith("Invalid request: ")
    assert "missing field `threadId`" in missing["message"]
    assert wrong_type["code"] == -32600
    assert "threadId" in wrong_type["message"]
    assert "invalid type: integer `5`, expected a string" in wrong_type["message"]
    assert not_bool["code"] == -32600
    assert "ephemeral" in not_bool["message"]
    assert 'invalid type: string "x", expected a boolean' in not_bool["message"]
    assert no_key["code"] == -32600
    assert "missing field `apiKey`" in no_key["message"]
    await server.close()


async def test_explicit_nulls_are_treated_as_absent(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """thread/start with every optional field null (as some SDKs send) starts a default thread."""
    server = await started(spawn_app_server, codex_home)
    await server.initialize()
    fields = [
        "model",
        "modelProvider",
        "cwd",
        "approvalPolicy",
        "sandbox",
        "config",
        "baseInstructions",
        "developerInstructions",
        "ephemeral",
        "personality",
        "serviceTier",
        "serviceName",
        "dynamicTools",
        "sessionStartSource",
        "approvalsReviewer",
        "experimentalRawEvents",
        "mockExperimentalField",
        "persistExtendedHistory",
    ]
    result = await server.request("thread/start", dict.fromkeys(fields))

    assert result["model"] == "mock-model"
    assert result["modelProvider"] == "mock_provider"
    assert result["approvalPolicy"] == "never"
    assert result["sandbox"]["type"] == "readOnly"
    assert result["cwd"] == str(Path.cwd())
    assert result["thread"]["ephemeral"] is False
    await server.close()


async def test_unknown_fields_are_ignored(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Fields a newer client sends that 0.120 does not know are ignored, not refused."""
    server = await started(spawn_app_server, codex_home)
    await server.initialize()
    result = await server.request(
        "thread/start", {"protocolVersion": "2", "turnTrigger": {"x": 1}, "futureFlag": True}
    )
    voices = await server.request(LIST_VOICES, {"someNewOption": "y"})

    assert result["thread"]["status"] == {"type": "idle"}
    assert voices["voices"]["defaultV1"] == "cove"
    await server.close()


async def test_params_that_are_not_an_object_are_refused(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """`params: 5` is an error naming `params`, and it does not log the user out."""
    server = await started(spawn_app_server, codex_home)
    await server.initialize()
    await server.login_with_api_key("sk-test-key")
    for method in ("account/read", "account/logout", LIST_VOICES):
        error = await server.request_error(method, 5)
        assert error["code"] == -32600
        assert "`params` must be an object" in error["message"]
    assert await server.request(LIST_VOICES, []) == await server.request(LIST_VOICES, {})
    assert (codex_home / "auth.json").exists(), "a refused logout logged the user out"
    await server.close()


async def test_auto_review_reviewer_is_accepted(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """thread/start accepts `approvalsReviewer: "auto_review"`, the newer clients' name."""
    server = await started(spawn_app_server, codex_home)
    await server.initialize()
    result = await server.request("thread/start", {"approvalsReviewer": "auto_review"})
    assert result["thread"]["id"]
    await server.close()


async def test_jsonrpc_member_is_accepted_and_never_written(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Messages carrying `"jsonrpc":"2.0"` are served; replies do not carry the member."""
    server = await started(spawn_app_server, codex_home)
    await server.send_raw_line(
        '{"jsonrpc":"2.0","id":"init","method":"initialize","params":'
        '{"clientInfo":{"name":"rpc2","title":null,"version":"1"},'
        '"capabilities":{"experimentalApi":true}}}'
    )
    await server.read_stream_until_response_message("init")
    await server.send_raw_line('{"jsonrpc":"2.0","method":"initialized"}')
    await server.send_raw_line(
        f'{{"jsonrpc":"2.0","id":"v","method":"{LIST_VOICES}","params":{{}}}}'
    )

    reply = await server.read_stream_until_response_message("v")

    assert reply["result"]["voices"]["defaultV2"] == "marin"
    assert all("jsonrpc" not in m for m in server.received_messages())
    await server.close()


async def test_malformed_lines_are_dropped_and_the_server_keeps_serving(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Garbage, truncated JSON, batches and invalid UTF-8 get no reply; the server keeps serving."""
    server = await started(spawn_app_server, codex_home)
    await server.initialize()

    await server.send_raw_line("this is not json")
    await server.send_raw_line('{"id": 50, "method": ')
    await server.send_raw_line(f'[{{"id":51,"method":"{LIST_VOICES}","params":{{}}}}]')
    await server.send_raw_bytes(
        b'{"id":52,"method":"thread/realtime/listVoices","params":{"x":"\xff\xfe"}}\n'
    )
    await server.send_raw_line("42")
    await server.send_raw_line("null")
    await server.send_raw_line("{}")
    await server.send_raw_line("")
    await server.send_raw_line('{"id":1.5,"method":"thread/realtime/listVoices","params":{}}')
    await server.send_raw_line('{"id":9999,"result":{"ok":true}}')
    await server.send_raw_line('{"method":"no/such/notification","params":{"x":1}}')
    reply = await server.read_stream_until_response_message(
        await server.send_request(LIST_VOICES, {})
    )

    assert reply["result"]["voices"]["v2"][0] == "alloy"
    for dropped in (50, 51, 52, 1.5):
        assert replies_with_id(server, dropped) == [], f"a reply to dropped id {dropped}"
    assert server.returncode is None
    await server.close()


async def test_stdin_eof_ends_the_server(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """When the client closes stdin the server exits with status 0 within a few seconds."""
    server = await started(spawn_app_server, codex_home)
    await server.initialize()
    await server.start_thread()

    began = time.monotonic()
    await server.close_stdin()
    status = await server.wait_for_exit(timeout=5.0)

    assert status == 0
    assert time.monotonic() - began < 3.0
    assert "Traceback" not in server.stderr_text()
    await server.close()
