"""The bug classes other realtime voice stacks are known for, checked on Parley's voice path.

* Barge-in truncation: when the user speaks over the answer the client is playing (WebSocket
  transport), the playing item is cut with `conversation.item.truncate` at the audio heard,
  never beyond the audio sent (openai-agents #1999/#2009 and PR #4122, pipecat #3677,
  livekit #6157).
* Lost transcripts: every input and output transcript delta, and the input transcript's
  `completed`, reaches the client, in order, also around a barge-in (openai-agents-js #523).
* Silent drops: input audio beyond what can wait is dropped with a `thread/realtime/error`,
  never silently (the writer-queue case is in `tests/realtime/test_session_io.py`).
* Close reasons: `thread/realtime/closed` says `transport_closed` for a Close frame (whatever
  its code, as the reference), `error` (after a `thread/realtime/error`) for a dropped
  connection, an upstream `error` event or a binary frame (Codex #35201).

Real `parley app-server` subprocess against the hand-driven `LiveUpstream`.
"""

from __future__ import annotations

import base64

import pytest
from spec.test_realtime_conversation import SpecEnv

from .rig import READ_RESET, Json, Rig, start_rig
from .upstream import LiveUpstream, UpstreamConnection

CHUNK_MS = 100
CHUNKS = 10


async def _running(env: SpecEnv, upstream: LiveUpstream) -> tuple[Rig, UpstreamConnection]:
    rig = await start_rig(env, upstream.uri)
    await rig.start_realtime()
    await rig.notification("thread/realtime/started")
    conn = await upstream.wait_for_connection(0)
    await conn.wait_for_frames(1)
    return rig, conn


def _audio(item_id: str) -> Json:
    pcm = bytes(2 * 24 * CHUNK_MS)  # CHUNK_MS of 24 kHz mono silence
    return {
        "type": "response.output_audio.delta",
        "response_id": "resp_answer",
        "item_id": item_id,
        "delta": base64.b64encode(pcm).decode(),
    }


def _speech_started(item_id: str) -> Json:
    return {"type": "input_audio_buffer.speech_started", "item_id": item_id, "audio_start_ms": 0}


# -- barge-in truncation ---------------------------------------------------------------------------


async def test_speaking_over_the_playing_answer_truncates_it_at_the_audio_heard(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """The answer's item is truncated once, at a point within the audio sent to the client."""
    rig, conn = await _running(env, upstream)
    await conn.send({"type": "response.created", "response": {"id": "resp_answer"}})
    for _ in range(CHUNKS):
        await conn.send(_audio("item_answer"))
    for _ in range(CHUNKS):
        await rig.notification("thread/realtime/outputAudio/delta")

    await conn.send(_speech_started("item_user"))
    marker = await rig.notification("thread/realtime/itemAdded")
    assert marker["item"] == {"type": "input_audio_buffer.speech_started", "item_id": "item_user"}
    truncate = (await conn.wait_for_frames(2))[1]
    assert truncate["type"] == "conversation.item.truncate"
    assert (truncate["item_id"], truncate["content_index"]) == ("item_answer", 0)
    assert 0 < truncate["audio_end_ms"] <= CHUNKS * CHUNK_MS

    # The same barge-in reported again (or a second one) has nothing left to cut.
    await conn.send(_speech_started("item_user_2"))
    await rig.notification("thread/realtime/itemAdded")
    await conn.send({"type": "response.done", "response": {"id": "resp_answer"}})
    await rig.list_voices_still_works()
    assert conn.frame_types() == ["session.update", "conversation.item.truncate"]
    assert rig.all_notifications("thread/realtime/error") == []
    await rig.finish()


async def test_speech_before_any_answer_audio_truncates_nothing(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """Speech with no answer playing sends no truncate (there is no item to cut)."""
    rig, conn = await _running(env, upstream)
    await conn.send(_speech_started("item_user"))
    await rig.notification("thread/realtime/itemAdded")
    await rig.list_voices_still_works()
    assert conn.frame_types() == ["session.update"]
    await rig.finish()


# -- transcripts -----------------------------------------------------------------------------------


async def test_every_transcript_piece_reaches_the_client_in_order(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """Many input and output transcript deltas, the input's `completed`, interleaved with
    audio and a barge-in, all reach the client as `transcriptUpdated`, in upstream order."""
    rig, conn = await _running(env, upstream)
    expected: list[tuple[str, str]] = []
    for index in range(60):
        text = f"user piece {index} "
        await conn.send(
            {
                "type": "conversation.item.input_audio_transcription.delta",
                "item_id": "item_user",
                "delta": text,
            }
        )
        expected.append(("user", text))
    completed = "".join(text for _, text in expected)
    await conn.send(
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": "item_user",
            "transcript": completed,
        }
    )
    expected.append(("user", completed))
    await conn.send({"type": "response.created", "response": {"id": "resp_answer"}})
    for index in range(60):
        text = f"answer piece {index} "
        await conn.send(
            {"type": "response.output_audio_transcript.delta", "item_id": "item_a", "delta": text}
        )
        await conn.send(_audio("item_a"))
        expected.append(("assistant", text))
        if index == 30:
            await conn.send(_speech_started("item_user_2"))
    await conn.send({"type": "response.output_text.delta", "item_id": "item_t", "delta": "text"})
    expected.append(("assistant", "text"))

    got = [await rig.notification("thread/realtime/transcriptUpdated") for _ in expected]
    assert [(g["role"], g["text"]) for g in got] == expected
    assert all(g["threadId"] == rig.thread_id for g in got)
    await rig.finish()


# -- silent drops ----------------------------------------------------------------------------------


async def test_audio_beyond_what_can_wait_for_the_connection_is_reported(
    env: SpecEnv, upstream: LiveUpstream
) -> None:
    """While the upstream connection is being set up, audio waits (up to 256 chunks); more is
    dropped and the client is told once. What waited is delivered after session.update."""
    upstream.hold_handshakes()
    rig = await start_rig(env, upstream.uri)
    await rig.start_realtime()
    await upstream.wait_until(lambda: upstream.handshakes_waiting or None, 10.0)
    for index in range(300):
        await rig.append_audio(base64.b64encode(index.to_bytes(2, "little")).decode())
    error = await rig.notification("thread/realtime/error")
    assert error["threadId"] == rig.thread_id
    assert error["message"].startswith("input audio dropped")
    assert "256" in error["message"]

    upstream.release_handshakes()
    await rig.notification("thread/realtime/started")
    conn = await upstream.wait_for_connection(0)
    frames = await conn.wait_for_frames(257)
    assert frames[0]["type"] == "session.update"
    sent = [base64.b64encode(i.to_bytes(2, "little")).decode() for i in range(256)]
    assert [f["audio"] for f in frames[1:]] == sent
    assert len(rig.all_notifications("thread/realtime/error")) == 1
    await rig.finish()


# -- close reasons ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ending", "error_message", "reason"),
    [
        ("close 1000", None, "transport_closed"),
        ("close 1011", None, "transport_closed"),
        ("abort", READ_RESET, "error"),
        ("error event", "upstream says no", "error"),
        ("binary frame", "unexpected binary realtime websocket event", "error"),
    ],
)
async def test_closed_reason_follows_how_the_upstream_ended(
    env: SpecEnv,
    upstream: LiveUpstream,
    ending: str,
    error_message: str | None,
    reason: str,
) -> None:
    """A Close frame (normal or with an error code, as the reference) ends the session with
    `transport_closed` and no error; a dropped connection, an upstream error event or a binary
    frame end it with a `thread/realtime/error` then `closed{error}`. Realtime can be started
    again afterwards."""
    rig, conn = await _running(env, upstream)
    if ending.startswith("close"):
        await conn.close(int(ending.split()[1]), "upstream going away")
    elif ending == "abort":
        conn.abort()
    elif ending == "error event":
        await conn.send(
            {"type": "error", "error": {"type": "server_error", "message": "upstream says no"}}
        )
    else:
        await conn.send_binary(b"\x00\x01")

    closed = await rig.notification("thread/realtime/closed")
    assert closed == {"threadId": rig.thread_id, "reason": reason}
    errors = rig.all_notifications("thread/realtime/error")
    if error_message is None:
        assert errors == []
    else:
        assert errors == [{"threadId": rig.thread_id, "message": error_message}]
        assert rig.index_of("thread/realtime/error") < rig.index_of("thread/realtime/closed")
    await conn.wait_ended()

    await rig.start_realtime()
    await rig.notification("thread/realtime/started")
    await upstream.wait_for_connection(1)
    assert len(rig.all_notifications("thread/realtime/closed")) == 1
    await rig.finish()
