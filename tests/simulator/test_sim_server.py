"""The simulator over real local sockets: Realtime v1/v2 WebSockets, WebRTC calls, Responses SSE."""

from __future__ import annotations

import asyncio
import base64
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from parley.simulator import (
    ScriptedRealtime,
    Simulator,
    SimulatorConfig,
    Step,
    rms,
    serve,
    synthesize_speech,
)

Event = dict[str, Any]
AUTH = {"Authorization": "Bearer sk-simulator"}


async def send(ws: ClientConnection, event: Event) -> None:
    await ws.send(orjson.dumps(event).decode())


async def send_speech(ws: ClientConnection, text: str) -> None:
    audio = synthesize_speech(text)
    for offset in range(0, len(audio), 4800):
        chunk = base64.b64encode(audio[offset : offset + 4800]).decode()
        await send(ws, {"type": "input_audio_buffer.append", "audio": chunk})


async def read_until(ws: ClientConnection, done: Callable[[Event], bool]) -> list[Event]:
    events: list[Event] = []
    async with asyncio.timeout(5):
        while True:
            event = orjson.loads(await ws.recv())
            events.append(event)
            if done(event):
                return events


def of_type(kind: str) -> Callable[[Event], bool]:
    return lambda event: event["type"] == kind


def is_function_call_done(event: Event) -> bool:
    return bool(
        event["type"] == "conversation.item.done" and event["item"]["type"] == "function_call"
    )


async def test_v2_websocket_voice_round_trip(sim: Simulator) -> None:
    """Spoken 'list the files' becomes a background_agent call; its output is spoken back."""
    url = f"{sim.realtime_ws_url}?model=gpt-realtime-1.5"
    async with connect(url, additional_headers=AUTH) as ws:
        assert (await read_until(ws, of_type("session.created")))[-1]["session"][
            "type"
        ] == "realtime"
        await send(
            ws,
            {"type": "session.update", "session": {"type": "realtime", "instructions": "be brief"}},
        )
        updated = (await read_until(ws, of_type("session.updated")))[-1]
        assert updated["session"]["instructions"] == "be brief"

        await send_speech(ws, "list the files")
        events = await read_until(ws, is_function_call_done)
        kinds = [e["type"] for e in events]
        assert "input_audio_buffer.speech_started" in kinds
        completed = next(e for e in events if e["type"].endswith("transcription.completed"))
        assert completed["transcript"] == "list the files"
        call = events[-1]["item"]
        assert call["name"] == "background_agent"
        assert orjson.loads(call["arguments"]) == {"prompt": "list the files"}
        await read_until(ws, of_type("response.done"))

        output = '"Agent Final Message":\n\nThere are two files.'
        await send(
            ws,
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "function_call_output",
                    "call_id": call["call_id"],
                    "output": output,
                },
            },
        )
        await send(ws, {"type": "response.create"})
        spoken = await read_until(ws, lambda e: e["type"] == "response.done")
        transcript = "".join(
            e["delta"] for e in spoken if e["type"] == "response.output_audio_transcript.delta"
        )
        assert transcript == "There are two files."
        audio = [e for e in spoken if e["type"] == "response.output_audio.delta"]
        assert all(e["sample_rate"] == 24000 and e["channels"] == 1 for e in audio)
        assert rms(b"".join(base64.b64decode(e["delta"]) for e in audio)) > 0.02
        assert spoken[-1]["response"]["status"] == "completed"

    record = sim.connections[0]
    assert record.version == "v2" and record.query["model"] == "gpt-realtime-1.5"
    assert record.had_authorization and "authorization" not in record.headers


async def test_v1_websocket_handoff(sim: Simulator) -> None:
    """A v1 (quicksilver) session hands the utterance off and speaks the handoff append."""
    url = f"{sim.realtime_ws_url}?intent=quicksilver&model=gpt-realtime-1.5"
    async with connect(url) as ws:
        await read_until(ws, of_type("session.created"))
        await send(
            ws, {"type": "session.update", "session": {"type": "quicksilver", "instructions": "x"}}
        )
        await read_until(ws, of_type("session.updated"))
        await send_speech(ws, "run `ls -la`")
        events = await read_until(ws, of_type("conversation.handoff.requested"))
        said = "".join(
            e["delta"] for e in events if e["type"] == "conversation.input_transcript.delta"
        )
        assert said == "run `ls -la`"
        handoff = events[-1]
        assert handoff["input_transcript"] == "run `ls -la`"
        await send(
            ws,
            {
                "type": "conversation.handoff.append",
                "handoff_id": handoff["handoff_id"],
                "output_text": '"Agent Final Message":\n\nI ran it.',
            },
        )
        spoken = await read_until(ws, of_type("response.done"))
        assert (
            "".join(
                e["delta"] for e in spoken if e["type"] == "conversation.output_transcript.delta"
            )
            == "I ran it."
        )
        audio = [e for e in spoken if e["type"] == "conversation.output_audio.delta"]
        assert audio and audio[0]["sample_rate"] == 24000 and audio[0]["channels"] == 1
    assert sim.connections[0].version == "v1"


async def test_webrtc_call_and_sideband(sim: Simulator) -> None:
    """A multipart call create answers SDP + Location; its sideband uses the call's session."""
    session = (
        b'{"tool_choice":"auto","type":"realtime","model":"gpt-realtime-1.5",'
        b'"instructions":"backend prompt","output_modalities":["audio"]}'
    )
    boundary = b"codex-realtime-call-boundary"
    body = (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="sdp"\r\n'
        b"Content-Type: application/sdp\r\n\r\nv=offer\r\n\r\n"
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="session"\r\n'
        b"Content-Type: application/json\r\n\r\n" + session + b"\r\n--" + boundary + b"--\r\n"
    )
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{sim.http_base_url}/realtime/calls",
            content=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary.decode()}", **AUTH},
        )
    assert response.status_code == 201
    assert response.headers["location"] == "/v1/realtime/calls/rtc_sim1"
    assert response.text.startswith("v=0\r\n")
    assert sim.calls["rtc_sim1"].offer_sdp == "v=offer\r\n"

    async with connect(f"{sim.realtime_ws_url}?call_id=rtc_sim1") as ws:
        created = (await read_until(ws, of_type("session.created")))[-1]
        assert created["session"]["instructions"] == "backend prompt"
        await send(
            ws,
            {
                "type": "session.update",
                "session": {"type": "realtime", "instructions": "backend prompt"},
            },
        )
        await read_until(ws, of_type("session.updated"))
        await send(
            ws,
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "hello"}],
                },
            },
        )
        call = (await read_until(ws, is_function_call_done))[-1]
        assert orjson.loads(call["item"]["arguments"]) == {"prompt": "hello"}
    assert sim.connections[0].call_id == "rtc_sim1"

    with pytest.raises(InvalidStatus):
        async with connect(f"{sim.realtime_ws_url}?call_id=rtc_unknown"):
            pass


async def test_barge_in_cancels_a_paced_answer() -> None:
    """Speaking while the paced answer streams cancels it; no more audio of it follows."""
    sim = await serve("127.0.0.1", 0, config=SimulatorConfig(speed=4.0))
    try:
        async with connect(sim.realtime_ws_url) as ws:
            await read_until(ws, of_type("session.created"))
            long_answer = (
                "This answer is long enough to be interrupted halfway through by the user."
            )
            await send(
                ws,
                {
                    "type": "conversation.item.create",
                    "item": {"type": "function_call_output", "call_id": "c", "output": long_answer},
                },
            )
            await send(ws, {"type": "response.create"})
            await read_until(ws, of_type("response.output_audio.delta"))
            await send_speech(ws, "stop")
            events = await read_until(ws, lambda e: e["type"] == "response.done")
            response_id = events[-1]["response"]["id"]
            assert events[-1]["response"]["status"] == "cancelled"
            kinds = [e["type"] for e in events]
            assert kinds.index("input_audio_buffer.speech_started") < kinds.index(
                "conversation.item.truncated"
            )
            assert "response.cancelled" in kinds
            rest = await read_until(ws, is_function_call_done)
            assert not [e for e in rest if e.get("response_id") == response_id]
            assert orjson.loads(rest[-1]["item"]["arguments"]) == {"prompt": "stop"}
    finally:
        await sim.close()


async def test_scripted_connection(sim: Simulator) -> None:
    """A queued ScriptedRealtime drives the next connection and records a mismatching event."""
    script = ScriptedRealtime(
        [
            Step(emit=[{"type": "session.created"}]),
            Step({"type": "session.update"}, [{"type": "session.updated", "session": {"id": "s"}}]),
            Step({"type": "response.create"}, [{"type": "response.done", "response": {"id": "r"}}]),
        ],
        close_after=True,
    )
    sim.script_realtime(script)
    async with connect(sim.realtime_ws_url) as ws:
        assert orjson.loads(await ws.recv()) == {"type": "session.created"}
        await send(ws, {"type": "session.update", "session": {}})
        assert orjson.loads(await ws.recv())["type"] == "session.updated"
        await send(ws, {"type": "input_audio_buffer.clear"})
        await send(ws, {"type": "response.create"})
        assert orjson.loads(await ws.recv())["type"] == "response.done"
        async with asyncio.timeout(5):
            await ws.wait_closed()
    assert script.finished
    assert [f.received["type"] for f in script.failures] == ["input_audio_buffer.clear"]


async def test_responses_runs_a_command_then_summarises(sim: Simulator) -> None:
    """'run `ls -la`' gets a shell_command call; with its output appended, a text summary."""
    tools = [{"type": "function", "name": "shell_command", "parameters": {}}]
    user = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "run `ls -la`"}],
    }
    body: dict[str, Any] = {"model": "sim-agent", "input": [user], "tools": tools, "stream": True}
    async with httpx.AsyncClient(base_url=sim.http_base_url, headers=AUTH) as client:
        first = await sse_events(client, body)
        assert first[0]["type"] == "response.created"
        call = next(e for e in first if e["type"] == "response.output_item.done")["item"]
        assert call["name"] == "shell_command" and call["call_id"].startswith("call_")
        assert orjson.loads(call["arguments"]) == {
            "command": "ls -la",
            "workdir": None,
            "timeout_ms": 10000,
        }
        assert first[-1]["type"] == "response.completed"

        output = {
            "type": "function_call_output",
            "call_id": call["call_id"],
            "output": "Exit code: 0\nWall time: 0 seconds\nOutput:\ntotal 0\nREADME.md\n",
        }
        body["input"] = [
            user,
            {k: call[k] for k in ("type", "name", "call_id", "arguments")},
            output,
        ]
        second = await sse_events(client, body)
        text = "".join(e["delta"] for e in second if e["type"] == "response.output_text.delta")
        assert text == "I ran `ls -la`. It printed 2 lines: total 0; README.md"
        message = next(e for e in second if e["type"] == "response.output_item.done")["item"]
        assert message["role"] == "assistant" and message["content"][0]["text"] == text
        assert second[-1]["response"]["usage"]["total_tokens"] > 0

        models = (await client.get("/models")).json()
        assert "sim-agent" in [m["id"] for m in models["data"]]
    assert len(sim.responses_requests) == 2


async def sse_events(client: httpx.AsyncClient, body: dict[str, Any]) -> list[Event]:
    response = await client.post("/responses", json=body, headers={"Accept": "text/event-stream"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events: list[Event] = []
    for block in response.text.split("\n\n"):
        if not block.strip():
            continue
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        event = orjson.loads(lines["data"])
        assert lines["event"] == event["type"]
        events.append(event)
    return events


async def test_wait_for_sees_recorded_frames(sim: Simulator) -> None:
    """Simulator.wait_for wakes when a client frame has been recorded."""
    async with connect(sim.realtime_ws_url) as ws:
        await send(ws, {"type": "session.update", "session": {}})
        async with asyncio.timeout(5):
            await sim.wait_for(lambda: bool(sim.connections) and bool(sim.connections[0].received))
    assert sim.connections[0].received[0]["type"] == "session.update"


def test_cli_prints_urls_and_stops_on_ctrl_c() -> None:
    """`main()` prints the URLs and a config snippet, serves, and exits 0 on Ctrl-C."""
    code = "from parley.simulator.cli import main; raise SystemExit(main(['--port', '0']))"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or "Ctrl-C" not in lines[-1]:
            line = process.stdout.readline()
            assert line, "simulator exited early"
            lines.append(line)
        output = "".join(lines)
        assert 'wire_api = "responses"' in output and "ws://127.0.0.1:" in output
        base = next(word for word in output.split() if word.startswith("http://127.0.0.1:"))
        assert httpx.get(base.rstrip("/").removesuffix("/v1") + "/healthz").json() == {
            "status": "ok"
        }
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
