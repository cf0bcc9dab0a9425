"""Values in, values out: the v1 codec's session payloads, frames and event parsing."""

from __future__ import annotations

import orjson

from parley.realtime.codec import SessionSpec
from parley.realtime.codec_v1 import V1Codec
from parley.realtime.events import (
    HandoffRequested,
    ItemAdded,
    OutputAudio,
    TranscriptDelta,
    UpstreamError,
)

SPEC = SessionSpec(
    instructions="backend prompt\n\nstartup context", voice="cove", model="gpt-realtime-1.5"
)
# Copied from the spec's v1_session_create_json().
V1_SESSION_CREATE_JSON = (
    '{"audio":{"input":{"format":{"type":"audio/pcm","rate":24000}},"output":{"voice":"cove"}},'
    '"type":"quicksilver","model":"gpt-realtime-1.5","instructions":"backend prompt\\n\\nstartup '
    'context"}'
)

codec = V1Codec()


def test_call_session_is_byte_exact() -> None:
    """The v1 WebRTC call-create session JSON matches the reference byte for byte."""
    assert codec.call_session(SPEC).decode() == V1_SESSION_CREATE_JSON


def test_session_update() -> None:
    """v1 session.update is a quicksilver session with voice and no tools."""
    frame = orjson.loads(codec.session_update(SPEC))
    assert frame == {
        "type": "session.update",
        "session": {
            "type": "quicksilver",
            "instructions": SPEC.instructions,
            "audio": {
                "input": {"format": {"type": "audio/pcm", "rate": 24000}},
                "output": {"voice": "cove"},
            },
        },
    }


def test_frames() -> None:
    """v1 user text uses `text` content and agent output is a handoff append."""
    assert orjson.loads(codec.user_text("hi"))["item"]["content"] == [
        {"type": "text", "text": "hi"}
    ]
    assert orjson.loads(codec.agent_message("handoff_v1", "delegated from v1")) == {
        "type": "conversation.handoff.append",
        "handoff_id": "handoff_v1",
        "output_text": '"Agent Final Message":\n\ndelegated from v1',
    }
    assert codec.final_output("h", "t") is None
    assert codec.steering_ack("h") is None
    assert codec.url_intent == "quicksilver"
    assert codec.keeps_active_transcript is True


def test_parse_output_audio_requires_format() -> None:
    """v1 audio needs sample_rate and channels; itemId is never set."""
    assert codec.parse(
        '{"type":"conversation.output_audio.delta","delta":"AQID","sample_rate":24000,'
        '"channels":1,"samples_per_channel":480,"item_id":"x"}'
    ) == [OutputAudio("AQID", 24000, 1, 480, None)]
    assert codec.parse('{"type":"conversation.output_audio.delta","delta":"AQID"}') == []


def test_parse_transcripts_items_handoffs_errors() -> None:
    """v1 transcript deltas, added items, handoff requests and errors are recognised."""
    assert codec.parse('{"type":"conversation.input_transcript.delta","delta":"a"}') == [
        TranscriptDelta("user", "a")
    ]
    assert codec.parse('{"type":"conversation.output_transcript.delta","delta":"b"}') == [
        TranscriptDelta("assistant", "b")
    ]
    assert codec.parse('{"type":"conversation.item.added","item":{"k":1}}') == [ItemAdded({"k": 1})]
    assert codec.parse(
        '{"type":"conversation.handoff.requested","handoff_id":"handoff_v1","item_id":"item_v1",'
        '"input_transcript":"delegate from v1"}'
    ) == [HandoffRequested("handoff_v1", "item_v1", "delegate from v1")]
    assert codec.parse('{"type":"conversation.handoff.requested","handoff_id":"h"}') == []
    assert codec.parse('{"type":"error","message":"bad"}') == [UpstreamError("bad")]


def test_v2_only_events_are_ignored() -> None:
    """Events that only v2 defines do nothing on a v1 session."""
    for kind in (
        "response.output_audio.delta",
        "conversation.item.input_audio_transcription.delta",
        "response.output_text.delta",
        "response.output_audio_transcript.delta",
        "input_audio_buffer.speech_started",
        "response.created",
        "response.done",
        "response.cancelled",
        "conversation.item.done",
    ):
        assert codec.parse(orjson.dumps({"type": kind, "delta": "x"})) == []
