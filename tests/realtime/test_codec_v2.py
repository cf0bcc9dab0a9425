"""Values in, values out: the v2 codec's session payloads, frames and event parsing."""

from __future__ import annotations

import orjson

from parley.realtime.codec import SessionSpec, codec_for
from parley.realtime.codec_v2 import V2Codec, extract_input_transcript
from parley.realtime.events import (
    HandoffRequested,
    ItemAdded,
    OutputAudio,
    ResponseFinished,
    ResponseStarted,
    SpeechStarted,
    TranscriptDelta,
    UpstreamError,
)

SPEC = SessionSpec(
    instructions="backend prompt\n\nstartup context", voice="marin", model="gpt-realtime-1.5"
)
TOOL_JSON = (
    '{"type":"function","name":"background_agent","description":"Send a user request to the '
    "background agent. Use this as the default action. If the background agent is idle, this "
    "starts a new task and returns the final result to the user. If the background agent is "
    "already working on a task, this sends the request as guidance to steer that previous task. "
    "If the user asks to do something next, later, after this, or once current work finishes, "
    'call this tool so the work is actually queued instead of merely promising to do it later.",'
    '"parameters":{"type":"object","properties":{"prompt":{"type":"string","description":"The '
    'user request to delegate to the background agent."}},"required":["prompt"],'
    '"additionalProperties":false}}'
)
# Copied from the spec's realtime_webrtc_start_emits_sdp_notification.
V2_CALL_SESSION = (
    '{"tool_choice":"auto","type":"realtime","model":"gpt-realtime-1.5","instructions":"backend '
    'prompt\\n\\nstartup context","output_modalities":["audio"],"audio":{"input":{"format":'
    '{"type":"audio/pcm","rate":24000},"noise_reduction":{"type":"near_field"},"turn_detection":'
    '{"type":"server_vad","interrupt_response":true,"create_response":true}},"output":{"format":'
    '{"type":"audio/pcm","rate":24000},"voice":"marin"}},"tools":[' + TOOL_JSON + "]}"
)

codec = V2Codec()


def test_call_session_is_byte_exact() -> None:
    """The WebRTC call-create session JSON matches the reference byte for byte."""
    assert codec.call_session(SPEC).decode() == V2_CALL_SESSION


def test_session_update_conversational() -> None:
    """session.update carries instructions, audio formats, voice and the background_agent tool."""
    frame = orjson.loads(codec.session_update(SPEC))
    assert frame["type"] == "session.update"
    session = frame["session"]
    assert list(session) == [
        "type",
        "instructions",
        "output_modalities",
        "audio",
        "tools",
        "tool_choice",
    ]
    assert session["type"] == "realtime"
    assert session["instructions"] == SPEC.instructions
    assert session["audio"]["output"] == {
        "format": {"type": "audio/pcm", "rate": 24000},
        "voice": "marin",
    }
    assert orjson.dumps(session["tools"][0]).decode() == TOOL_JSON
    assert "model" not in session and "id" not in session


def test_session_update_transcription() -> None:
    """A transcription session has no instructions, tools or output."""
    spec = SessionSpec(instructions="x", voice="marin", model="m", session_type="transcription")
    assert codec.session_update(spec) == (
        b'{"type":"session.update","session":{"type":"transcription",'
        b'"audio":{"input":{"format":{"type":"audio/pcm","rate":24000}}}}}'
    )


def test_frames() -> None:
    """Audio, user text, progress, final output, steering ack and response.create frames."""
    assert orjson.loads(codec.audio_append("BQYH")) == {
        "type": "input_audio_buffer.append",
        "audio": "BQYH",
    }
    assert orjson.loads(codec.user_text("hello")) == {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "hello"}],
        },
    }
    assert orjson.loads(codec.agent_message("call_1", "working"))["item"]["content"][0] == {
        "type": "input_text",
        "text": "working\n\nUpdate from background agent (task hasn't finished yet):",
    }
    assert orjson.loads(codec.final_output("call_1", "done") or b"") == {
        "type": "conversation.item.create",
        "item": {
            "type": "function_call_output",
            "call_id": "call_1",
            "output": '"Agent Final Message":\n\ndone',
        },
    }
    assert orjson.loads(codec.steering_ack("call_2") or b"")["item"]["output"] == (
        '"Agent Final Message":\n\nThis was sent to steer the previous background agent task.'
    )
    assert codec.response_create() == b'{"type":"response.create"}'


def test_non_ascii_and_escapes_follow_serde() -> None:
    """Non-ASCII text stays UTF-8 and quotes/newlines are escaped as serde_json does."""
    spec = SessionSpec(instructions='é "q" \\ \n', voice="marin", model="m")
    assert '"instructions":"é \\"q\\" \\\\ \\n"' in codec.call_session(spec).decode()


def test_parse_output_audio_with_defaults() -> None:
    """Output audio defaults to 24 kHz mono and keeps samples_per_channel and item_id."""
    assert codec.parse(
        '{"type":"response.output_audio.delta","delta":"AQID","sample_rate":24000,'
        '"channels":1,"samples_per_channel":512}'
    ) == [OutputAudio("AQID", 24000, 1, 512, None)]
    assert codec.parse('{"type":"response.output_audio.delta","delta":"x","item_id":"i"}') == [
        OutputAudio("x", 24000, 1, None, "i")
    ]
    assert codec.parse('{"type":"response.output_audio.delta"}') == []


def test_parse_transcripts_and_items() -> None:
    """Transcript deltas are role-tagged; added items are passed through verbatim."""
    assert codec.parse(
        '{"type":"conversation.item.input_audio_transcription.delta","delta":"hi"}'
    ) == [TranscriptDelta("user", "hi")]
    assert codec.parse(
        '{"type":"conversation.item.input_audio_transcription.completed","transcript":"hi all"}'
    ) == [TranscriptDelta("user", "hi all")]
    assert codec.parse('{"type":"response.output_text.delta","delta":"w"}') == [
        TranscriptDelta("assistant", "w")
    ]
    assert codec.parse('{"type":"response.output_audio_transcript.delta","delta":"v"}') == [
        TranscriptDelta("assistant", "v")
    ]
    item = {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "hi"}]}
    raw = orjson.dumps({"type": "conversation.item.added", "item": item})
    assert codec.parse(raw) == [ItemAdded(item)]


def test_parse_background_agent_call() -> None:
    """Only a done background_agent function call is a handoff request."""
    raw = orjson.dumps(
        {
            "type": "conversation.item.done",
            "item": {
                "id": "item_2",
                "type": "function_call",
                "name": "background_agent",
                "call_id": "handoff_1",
                "arguments": '{"input_transcript":"delegate now"}',
            },
        }
    )
    assert codec.parse(raw) == [HandoffRequested("handoff_1", "item_2", "delegate now")]
    other = raw.replace(b"background_agent", b"other_tool")
    assert codec.parse(other) == []
    no_call_id = orjson.dumps(
        {
            "type": "conversation.item.done",
            "item": {"id": "item_9", "type": "function_call", "name": "background_agent"},
        }
    )
    assert codec.parse(no_call_id) == [HandoffRequested("item_9", "item_9", "")]


def test_extract_input_transcript() -> None:
    """The request comes from input_transcript, then prompt, else the raw arguments."""
    assert extract_input_transcript('{"prompt":"p","input_transcript":"t"}') == "t"
    assert extract_input_transcript('{"input_transcript":"","prompt":"p"}') == "p"
    assert extract_input_transcript("{}") == "{}"
    assert extract_input_transcript("not json") == "not json"
    assert extract_input_transcript('{"prompt": ""}') == '{"prompt": ""}'


def test_parse_markers_and_responses() -> None:
    """Speech start and cancellation become marker items; responses mark activity; speech
    start is also a barge-in."""
    assert codec.parse('{"type":"input_audio_buffer.speech_started","item_id":"it"}') == [
        ItemAdded({"type": "input_audio_buffer.speech_started", "item_id": "it"}),
        SpeechStarted("it"),
    ]
    assert codec.parse('{"type":"response.created","response":{"id":"r1"}}') == [
        ResponseStarted("r1")
    ]
    assert codec.parse('{"type":"response.done","response_id":"r1"}') == [ResponseFinished("r1")]
    assert codec.parse('{"type":"response.cancelled","response":{"id":"r2"}}') == [
        ItemAdded({"type": "response.cancelled", "response_id": "r2"}),
        ResponseFinished("r2"),
    ]


def test_parse_errors_and_ignored() -> None:
    """Errors take the top-level message, then error.message; unknown frames are ignored."""
    assert codec.parse('{"type":"error","message":"upstream boom"}') == [
        UpstreamError("upstream boom")
    ]
    assert codec.parse('{"type":"error","error":{"message":"nested"}}') == [UpstreamError("nested")]
    for raw in (
        '{"type":"session.updated","session":{"id":"s"}}',
        '{"type":"response.output_item.done","item":{"name":"background_agent"}}',
        '{"type":"conversation.handoff.requested","handoff_id":"h","item_id":"i",'
        '"input_transcript":"t"}',
        "not json",
        "[1,2]",
        '{"no":"type"}',
    ):
        assert codec.parse(raw) == []


def test_codec_for_versions() -> None:
    """Each configured version gets its codec, reporting that version."""
    assert codec_for("v2").version == "v2"
    assert codec_for("v1").version == "v1"
