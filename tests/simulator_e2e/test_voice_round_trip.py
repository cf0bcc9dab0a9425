"""Parley against the offline simulator over real sockets: a spoken or typed request is delegated
to a background-agent turn that runs a command, and the answer comes back as audio (v2 and v1
over WebSocket, v2 over WebRTC with a sideband socket)."""

from __future__ import annotations

import asyncio

import orjson

from parley.simulator import rms

from .harness import Launch, answer_finished, events, item_type, role, spoken_audio, spoken_text

TIMEOUT = 20.0
FINAL_PREFIX = '"Agent Final Message":\n\n'
MIN_RMS = 0.01  # full scale is 1.0; the simulator's voice is far louder than this

OFFER_SDP = (
    "v=0\r\n"
    "o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=mid:0\r\n"
    "a=sendrecv\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
)


async def test_v2_websocket_spoken_request_runs_a_command_and_speaks_the_answer(
    launch: Launch,
) -> None:
    """Saying "run: echo sim-ok" over a v2 WebSocket session shows the transcript, runs the
    command in a delegated turn, and speaks the agent's answer back as audible audio."""
    voice = await launch(version="v2")
    client, sim = voice.client, voice.sim
    started = await client.start_realtime()
    assert started["version"] == "v2"

    await client.say("run: echo sim-ok")

    user = await client.next_where("thread/realtime/transcriptUpdated", role("user"))
    assert user["text"] == "run: echo sim-ok"
    handoff = await client.next_where("thread/realtime/itemAdded", item_type("handoff_request"))
    assert handoff["item"]["input_transcript"] == "run: echo sim-ok"
    call_id = handoff["item"]["handoff_id"]

    turn = (await client.read_notification("turn/started"))["turn"]
    assert turn["id"] == "auto-compact-1"
    command = (await client.next_where("item/completed", item_type("commandExecution")))["item"]
    assert "sim-ok" in command["aggregatedOutput"]
    assert command["status"] == "completed"
    completed = (await client.read_notification("turn/completed"))["turn"]
    assert (completed["id"], completed["status"]) == ("auto-compact-1", "completed")

    conn = sim.connections[0]
    async with asyncio.timeout(TIMEOUT):
        await sim.wait_for(lambda: answer_finished(conn))
    said = await client.read_transcript("assistant", spoken_text(conn))
    assert said == spoken_text(conn)
    assert "sim-ok" in said
    pcm = await client.hear(spoken_audio(conn))
    assert pcm == spoken_audio(conn)
    assert rms(pcm) > MIN_RMS

    # What the user saw came in conversational order.
    order = [
        client.index_of("thread/realtime/transcriptUpdated", role("user")),
        client.index_of("thread/realtime/itemAdded", item_type("handoff_request")),
        client.index_of("turn/started"),
        client.index_of("item/completed", item_type("commandExecution")),
        client.index_of("turn/completed"),
        client.index_of("thread/realtime/transcriptUpdated", role("assistant")),
        client.index_of("thread/realtime/outputAudio/delta"),
    ]
    assert -1 not in order and order == sorted(order), order

    # Upstream, the agent's answer went back as the call's output, then a response was asked for.
    received = conn.received
    outputs = [
        i
        for i, f in enumerate(received)
        if isinstance(f, dict)
        and f.get("type") == "conversation.item.create"
        and f["item"].get("type") == "function_call_output"
        and f["item"].get("call_id") == call_id
    ]
    assert len(outputs) == 1, received
    assert received[outputs[0]]["item"]["output"].startswith(FINAL_PREFIX)
    assert "sim-ok" in received[outputs[0]]["item"]["output"]
    assert {"type": "response.create"} in received[outputs[0] + 1 :]

    closed = await client.stop_realtime()
    assert closed["reason"] == "requested"


async def test_v1_websocket_handoff_is_answered_with_handoff_append_and_spoken(
    launch: Launch,
) -> None:
    """With `[realtime] version = "v1"`, a spoken request is handed off, the command runs, the
    agent's message goes back as `conversation.handoff.append`, and the answer is spoken."""
    voice = await launch(version="v1")
    client, sim = voice.client, voice.sim
    started = await client.start_realtime()
    assert started["version"] == "v1"

    await client.say("run: echo sim-ok")

    user = await client.next_where("thread/realtime/transcriptUpdated", role("user"))
    assert user["text"] == "run: echo sim-ok"
    handoff = await client.next_where("thread/realtime/itemAdded", item_type("handoff_request"))
    assert handoff["item"]["input_transcript"] == "run: echo sim-ok"
    # v1 hands off the transcript since the last handoff, as "role: text" lines.
    assert handoff["item"]["active_transcript"] == [{"role": "user", "text": "run: echo sim-ok"}]
    handoff_id = handoff["item"]["handoff_id"]
    turn = (await client.read_notification("turn/started"))["turn"]
    assert turn["id"] == "auto-compact-1"
    command = (await client.next_where("item/completed", item_type("commandExecution")))["item"]
    assert "sim-ok" in command["aggregatedOutput"]
    completed = (await client.read_notification("turn/completed"))["turn"]
    assert completed["status"] == "completed"

    assert "user: run: echo sim-ok" in orjson.dumps(sim.responses_requests[0]["input"]).decode()

    conn = sim.connections[0]
    assert conn.version == "v1"
    assert conn.query.get("intent") == "quicksilver"
    async with asyncio.timeout(TIMEOUT):
        await sim.wait_for(lambda: answer_finished(conn))
    appends = events(conn.received, "conversation.handoff.append")
    assert len(appends) == 1, conn.received
    assert appends[0]["handoff_id"] == handoff_id
    assert appends[0]["output_text"].startswith(FINAL_PREFIX)
    assert "sim-ok" in appends[0]["output_text"]

    said = await client.read_transcript("assistant", spoken_text(conn))
    assert said == spoken_text(conn)
    assert "sim-ok" in said
    pcm = await client.hear(spoken_audio(conn))
    assert pcm == spoken_audio(conn)
    assert rms(pcm) > MIN_RMS

    closed = await client.stop_realtime()
    assert closed["reason"] == "requested"


async def test_webrtc_call_joins_the_sideband_and_answers_a_typed_request(launch: Launch) -> None:
    """Starting realtime over WebRTC returns the simulator's SDP answer, joins the call's sideband
    socket, and a typed "run: pwd" is delegated, run in the workspace and answered aloud."""
    voice = await launch(version="v2")
    client, sim = voice.client, voice.sim

    started = await client.start_realtime({"type": "webrtc", "sdp": OFFER_SDP})
    assert started["version"] == "v2"
    sdp = await client.read_notification("thread/realtime/sdp")
    assert -1 < client.index_of("thread/realtime/started") < client.index_of("thread/realtime/sdp")

    assert list(sim.calls) == ["rtc_sim1"]
    call = sim.calls["rtc_sim1"]
    assert call.offer_sdp.strip() == OFFER_SDP.strip()
    assert sdp["sdp"] == call.answer_sdp
    assert "m=audio 9 UDP/TLS/RTP/SAVPF 111" in sdp["sdp"]
    assert call.session.get("type") == "realtime"
    async with asyncio.timeout(TIMEOUT):
        await sim.wait_for(lambda: len(sim.connections) == 1)
    conn = sim.connections[0]
    assert conn.call_id == "rtc_sim1"  # the id from `Location: /v1/realtime/calls/rtc_sim1`
    assert conn.query.get("call_id") == "rtc_sim1"

    await client.type_text("run: pwd")

    handoff = await client.next_where("thread/realtime/itemAdded", item_type("handoff_request"))
    assert handoff["item"]["input_transcript"] == "run: pwd"
    turn = (await client.read_notification("turn/started"))["turn"]
    assert turn["id"] == "auto-compact-1"
    command = (await client.next_where("item/completed", item_type("commandExecution")))["item"]
    assert str(voice.workspace) in command["aggregatedOutput"]
    completed = (await client.read_notification("turn/completed"))["turn"]
    assert completed["status"] == "completed"

    async with asyncio.timeout(TIMEOUT):
        await sim.wait_for(lambda: answer_finished(conn))
    said = await client.read_transcript("assistant", spoken_text(conn))
    assert said == spoken_text(conn)
    assert "pwd" in said
    pcm = await client.hear(spoken_audio(conn))
    assert pcm == spoken_audio(conn)
    assert rms(pcm) > MIN_RMS

    closed = await client.stop_realtime()
    assert closed["reason"] == "requested"
