"""Regressions (issue 8, items 10 and 13): oversized stdio lines keep framing in step, and
params that could never be valid (a huge or NUL-containing path, audio that is not base64) are
refused with -32600 naming the field."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from integration.helpers import write_config
from support.app_server import SpawnAppServer

from parley.protocol import models as m
from parley.protocol.params import MAX_PATH_BYTES, MAX_QUOTED_CHARS, parse_params
from parley.rpc.errors import ClientError
from parley.rpc.stdio import MAX_LINE_BYTES


async def test_a_request_after_65_mib_of_spaces_on_the_same_line_is_not_executed(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """The whole over-long line is discarded and answered -32600 (id null: none could be
    read); the request hidden at its end never runs, and the next line is served."""
    write_config(codex_home)
    server = await spawn_app_server(codex_home=codex_home)
    await server.initialize()
    hidden = b'{"id":"hidden","method":"thread/start","params":{}}'
    await server.send_raw_bytes(b" " * (65 * 1024 * 1024) + hidden + b"\n")
    error = await server.read_stream_until_error_message(None, timeout=60.0)  # type: ignore[arg-type]
    assert error["error"]["code"] == -32600
    assert "line limit" in error["error"]["message"]
    loaded = await server.request("thread/loaded/list", {})
    assert loaded["data"] == []
    assert not [m for m in server.received_messages() if m.get("id") == "hidden"]
    assert not [m for m in server.received_messages() if m.get("method") == "thread/started"]
    await server.close()


async def test_a_100_mb_append_text_gets_an_answer(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """A request longer than the 64 MiB line limit is answered (-32600 with its own id)."""
    assert 100_000_000 > MAX_LINE_BYTES
    write_config(codex_home)
    server = await spawn_app_server(codex_home=codex_home)
    await server.initialize()
    params = {"threadId": "00000000-0000-7000-8000-000000000000", "text": "a" * 100_000_000}
    line = orjson.dumps({"id": 41, "method": "thread/realtime/appendText", "params": params})
    await server.send_raw_bytes(line + b"\n")
    error = await server.read_stream_until_error_message(41, timeout=60.0)
    assert error["error"]["code"] == -32600
    assert "64 MiB line limit" in error["error"]["message"]
    assert (await server.request("thread/loaded/list", {}))["data"] == []
    await server.close()


@pytest.mark.parametrize(
    "cwd",
    ["/tmp/" + "x" * 100_000, "/tmp/a\x00b", "/" + "é" * (MAX_PATH_BYTES // 2)],
    ids=["huge", "nul", "multibyte-over-limit"],
)
async def test_thread_start_with_an_impossible_cwd_is_refused_naming_cwd(
    spawn_app_server: SpawnAppServer, codex_home: Path, cwd: str
) -> None:
    """No traceback, no -32603: the client is told `cwd` is not a usable path."""
    write_config(codex_home)
    server = await spawn_app_server(codex_home=codex_home)
    await server.initialize()
    error = await server.request_error("thread/start", {"cwd": cwd})
    assert error["code"] == -32600
    assert error["message"].startswith("Invalid request: `cwd`: invalid path")
    assert len(error["message"]) < 200
    turn_error = await server.request_error(
        "turn/start",
        {"threadId": "x", "input": [{"type": "text", "text": "hi"}], "cwd": cwd},
    )
    assert turn_error["code"] == -32600 and "`cwd`" in turn_error["message"]
    assert "Traceback" not in server.stderr_text()
    await server.close()


async def test_append_audio_that_is_not_base64_is_refused(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    write_config(codex_home, realtime_enabled=True)
    server = await spawn_app_server(codex_home=codex_home)
    await server.initialize()
    thread = await server.start_thread()
    for data in ("not base64!", "QUJD=", "QUJDRA"):
        error = await server.request_error(
            "thread/realtime/appendAudio",
            {
                "threadId": thread["id"],
                "audio": {"data": data, "sampleRate": 24000, "numChannels": 1},
            },
        )
        assert error == {
            "code": -32600,
            "message": "Invalid request: `audio.data`: invalid base64 data",
        }
    await server.close()


def test_error_messages_quote_at_most_a_bounded_part_of_a_value() -> None:
    """A 1 MB value in the wrong place is named, not echoed back whole."""
    with pytest.raises(ClientError) as refused:
        parse_params(m.ThreadReadParams, {"threadId": "t", "includeTurns": "x" * 1_000_000})
    message = refused.value.message
    assert "`includeTurns`" in message and "(1000000 characters)" in message
    assert len(message) < MAX_QUOTED_CHARS + 200
