"""Unit tests of the simulated voice model: client frames in, server events out (no sockets)."""

from __future__ import annotations

import base64
from typing import Any

import orjson

from parley.simulator.audio import decode_speech, rms, silence, synthesize_speech
from parley.simulator.realtime_policy import (
    NOT_UNDERSTOOD_REPLY,
    STEERING_REPLY,
    VoiceModel,
    VoiceModelConfig,
    transcript_pieces,
)

Event = dict[str, Any]


def frame(event: Event) -> bytes:
    return orjson.dumps(event)


def types(events: list[Event]) -> list[str]:
    return [e["type"] for e in events]


def speak(model: VoiceModel, audio: bytes, chunk: int = 4800) -> list[Event]:
    out: list[Event] = []
    for offset in range(0, len(audio), chunk):
        data = base64.b64encode(audio[offset : offset + chunk]).decode()
        out += model.receive(frame({"type": "input_audio_buffer.append", "audio": data}))
    return out


def drain(model: VoiceModel) -> list[Event]:
    out: list[Event] = []
    while (step := model.next_stream_step()) is not None:
        out += step.events
    return out


def user_text(text: str, content_type: str = "input_text") -> bytes:
    item = {"type": "message", "role": "user", "content": [{"type": content_type, "text": text}]}
    return frame({"type": "conversation.item.create", "item": item})


def function_output(call_id: str, output: str) -> bytes:
    item = {"type": "function_call_output", "call_id": call_id, "output": output}
    return frame({"type": "conversation.item.create", "item": item})


def test_session_update_is_echoed_with_instructions() -> None:
    """session.update is answered by session.updated carrying the merged session."""
    model = VoiceModel("v2", model="gpt-realtime-1.5")
    assert types(model.start()) == ["session.created"]
    update = {"type": "realtime", "instructions": "backend prompt", "tools": [{"name": "t"}]}
    (updated,) = model.receive(frame({"type": "session.update", "session": update}))
    assert updated["type"] == "session.updated"
    assert updated["session"]["instructions"] == "backend prompt"
    assert updated["session"]["model"] == "gpt-realtime-1.5"
    assert updated["session"]["audio"]["output"]["voice"] == "marin"
    assert updated["event_id"].startswith("event_")


def test_v2_utterance_is_transcribed_and_delegated() -> None:
    """Speech made by synthesize_speech becomes a transcript and a background_agent call."""
    model = VoiceModel("v2")
    events = speak(model, synthesize_speech("list the files"))
    assert types(events)[:3] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
    ]
    deltas = [e["delta"] for e in events if e["type"].endswith("transcription.delta")]
    assert "".join(deltas) == "list the files"
    completed = next(e for e in events if e["type"].endswith("transcription.completed"))
    assert completed["transcript"] == "list the files"
    done = next(
        e
        for e in events
        if e["type"] == "conversation.item.done" and e["item"]["type"] == "function_call"
    )
    assert done["item"]["name"] == "background_agent"
    assert orjson.loads(done["item"]["arguments"]) == {"prompt": "list the files"}
    assert done["item"]["call_id"] and done["item"]["id"]
    assert types(events)[-1] == "response.done"
    assert model.transcripts == ["list the files"]
    assert not model.streaming


def test_v2_function_output_is_spoken_after_response_create() -> None:
    """A function_call_output plus response.create streams audio and a transcript of it."""
    model = VoiceModel("v2")
    acked = model.receive(function_output("call_1", '"Agent Final Message":\n\nThere are 3 files.'))
    assert types(acked) == ["conversation.item.added", "conversation.item.done"]
    opened = model.receive(frame({"type": "response.create"}))
    assert types(opened)[0] == "response.created"
    assert model.streaming
    streamed = drain(model)
    transcript = [
        e["delta"] for e in streamed if e["type"] == "response.output_audio_transcript.delta"
    ]
    assert "".join(transcript) == "There are 3 files."
    audio_events = [e for e in streamed if e["type"] == "response.output_audio.delta"]
    assert all(e["sample_rate"] == 24000 and e["channels"] == 1 for e in audio_events)
    pcm = b"".join(base64.b64decode(e["delta"]) for e in audio_events)
    assert sum(e["samples_per_channel"] for e in audio_events) * 2 == len(pcm)
    assert len(pcm) == 2 * 24000 * 60 * len("There are 3 files.") // 1000
    assert rms(pcm) > 0.02
    done = streamed[-1]
    assert done["type"] == "response.done" and done["response"]["status"] == "completed"
    assert done["response"]["usage"]["output_tokens"] > 0
    assert not model.streaming


def test_v1_utterance_requests_a_handoff_and_append_is_spoken() -> None:
    """v1 transcribes with conversation.input_transcript.delta, hands off, and speaks appends."""
    model = VoiceModel("v1")
    events = speak(model, synthesize_speech("run `ls -la`"))
    deltas = [e["delta"] for e in events if e["type"] == "conversation.input_transcript.delta"]
    assert "".join(deltas) == "run `ls -la`"
    handoff = events[-1]
    assert handoff["type"] == "conversation.handoff.requested"
    assert handoff["input_transcript"] == "run `ls -la`"
    assert handoff["handoff_id"] and handoff["item_id"]
    append = {
        "type": "conversation.handoff.append",
        "handoff_id": handoff["handoff_id"],
        "output_text": '"Agent Final Message":\n\nDone.',
    }
    model.receive(frame(append))
    streamed = drain(model)
    said = [e["delta"] for e in streamed if e["type"] == "conversation.output_transcript.delta"]
    assert "".join(said) == "Done."
    audio = [e for e in streamed if e["type"] == "conversation.output_audio.delta"]
    assert audio and all(e["sample_rate"] == 24000 and e["channels"] == 1 for e in audio)


def test_user_text_is_delegated_but_progress_is_not() -> None:
    """A typed user item is delegated at once; a background-agent progress item is not answered."""
    model = VoiceModel("v2")
    events = model.receive(user_text("fix the tests"))
    call = next(
        e
        for e in events
        if e["type"] == "conversation.item.done" and e["item"]["type"] == "function_call"
    )
    assert orjson.loads(call["item"]["arguments"]) == {"prompt": "fix the tests"}
    progress = "Working on it\n\nUpdate from background agent (task hasn't finished yet):"
    assert types(model.receive(user_text(progress))) == [
        "conversation.item.added",
        "conversation.item.done",
    ]
    v1 = VoiceModel("v1")
    (added, handoff) = v1.receive(user_text("hello", content_type="text"))
    assert added["type"] == "conversation.item.added"
    assert handoff["type"] == "conversation.handoff.requested"
    assert handoff["input_transcript"] == "hello"


def test_unintelligible_audio_gets_an_apology() -> None:
    """Audio without the speech code transcribes as unintelligible and is not delegated."""
    model = VoiceModel("v2")
    noise = bytes(x % 251 for x in range(48000)) + silence(800)  # loud, but no code
    events = speak(model, noise)
    completed = next(e for e in events if e["type"].endswith("transcription.completed"))
    assert completed["transcript"].startswith("(unintelligible speech, ")
    assert "function_call" not in str(events)
    streamed = drain(model)
    said = "".join(
        e["delta"] for e in streamed if e["type"] == "response.output_audio_transcript.delta"
    )
    assert said == NOT_UNDERSTOOD_REPLY


def test_barge_in_cancels_the_streaming_response() -> None:
    """Speech starting mid-answer truncates and cancels it, then the new request is delegated."""
    model = VoiceModel("v2")
    model.receive(function_output("call_1", "A fairly long answer that takes a while to say."))
    model.receive(frame({"type": "response.create"}))
    first = model.next_stream_step()
    assert first is not None and first.audio_ms > 0
    events = speak(model, synthesize_speech("stop"))
    assert types(events)[:5] == [
        "input_audio_buffer.speech_started",
        "conversation.item.truncated",
        "response.cancelled",
        "response.output_item.done",
        "response.done",
    ]
    assert events[1]["audio_end_ms"] == int(first.audio_ms)
    assert events[4]["response"]["status"] == "cancelled"
    assert events[4]["response"]["status_details"]["reason"] == "turn_detected"
    assert "conversation.item.done" in types(events)  # the "stop" request became a call
    assert model.next_stream_step() is None


def test_response_cancel_stops_streaming() -> None:
    """response.cancel ends the current answer with status cancelled."""
    model = VoiceModel("v2")
    model.receive(function_output("c", "Some words to say."))
    model.receive(frame({"type": "response.create"}))
    model.next_stream_step()
    events = model.receive(frame({"type": "response.cancel"}))
    assert events[-1]["type"] == "response.done"
    assert events[-1]["response"]["status"] == "cancelled"
    assert model.receive(frame({"type": "response.cancel"})) == []


def test_requests_during_an_answer_are_queued() -> None:
    """A response.create arriving while one streams runs after it, not as an error."""
    model = VoiceModel("v2")
    model.receive(function_output("c1", "First."))
    model.receive(frame({"type": "response.create"}))
    model.receive(
        function_output(
            "c2",
            '"Agent Final Message":\n\nThis was sent to steer the previous background agent task.',
        )
    )
    assert model.receive(frame({"type": "response.create"})) == []
    streamed = drain(model)
    said = [e["delta"] for e in streamed if e["type"] == "response.output_audio_transcript.delta"]
    assert "".join(said) == "First." + STEERING_REPLY
    assert types(streamed).count("response.done") == 2


def test_response_create_with_nothing_new_is_empty() -> None:
    """response.create without new input gives an empty completed response."""
    model = VoiceModel("v2")
    events = model.receive(frame({"type": "response.create"}))
    assert types(events) == ["response.created", "response.done"]
    assert events[1]["response"]["output"] == []


def test_transcription_sessions_never_answer() -> None:
    """A transcription-only session transcribes speech and stays silent."""
    model = VoiceModel("v2", session={"type": "transcription"})
    events = speak(model, synthesize_speech("just notes"))
    assert events[-1]["type"] == "conversation.item.input_audio_transcription.completed"
    assert events[-1]["transcript"] == "just notes"
    assert not model.streaming


def test_manual_turns_commit_explicitly() -> None:
    """With turn_detection null, audio is only transcribed on input_audio_buffer.commit."""
    model = VoiceModel("v2")
    update = {"audio": {"input": {"turn_detection": None}}}
    model.receive(frame({"type": "session.update", "session": update}))
    assert speak(model, synthesize_speech("manual")) == []
    events = model.receive(frame({"type": "input_audio_buffer.commit"}))
    assert types(events)[0] == "input_audio_buffer.committed"
    assert next(e for e in events if e["type"].endswith("completed"))["transcript"] == "manual"


def test_bad_frames_produce_error_events() -> None:
    """Invalid JSON and unknown event types are reported as error events."""
    model = VoiceModel("v2")
    (bad,) = model.receive(b"not json")
    assert bad["type"] == "error" and bad["error"]["code"] == "invalid_json"
    (unknown,) = model.receive(frame({"type": "no.such.event", "event_id": "e1"}))
    assert unknown["error"]["code"] == "unknown_event_type"
    assert unknown["error"]["event_id"] == "e1"


def test_text_mode_streams_text_deltas() -> None:
    """With output_modalities ["text"] the answer streams as response.output_text.delta."""
    model = VoiceModel("v2", session={"output_modalities": ["text"]})
    model.receive(function_output("c", "Hi there."))
    model.receive(frame({"type": "response.create"}))
    streamed = drain(model)
    assert "response.output_audio.delta" not in types(streamed)
    assert (
        "".join(e["delta"] for e in streamed if e["type"] == "response.output_text.delta")
        == "Hi there."
    )


def test_transcript_pieces_concatenate_exactly() -> None:
    """Word deltas always join back into the original text."""
    for text in ["a", "  two  words ", "x\ny", ""]:
        assert "".join(transcript_pieces(text)) == text


def test_same_input_gives_same_output() -> None:
    """The voice model is deterministic: ids, transcripts and audio repeat exactly."""
    runs = []
    for _ in range(2):
        model = VoiceModel("v2")
        events = speak(model, synthesize_speech("again"))
        model.receive(function_output("c", "Same."))
        model.receive(frame({"type": "response.create"}))
        runs.append(events + drain(model))
    assert runs[0] == runs[1]
    assert decode_speech(synthesize_speech("again")) == "again"


def test_input_transcript_deltas_can_be_turned_off() -> None:
    """Without word deltas, v2 sends only the completed transcript and v1 one whole delta."""
    config = VoiceModelConfig(input_transcript_deltas=False)
    v2 = speak(VoiceModel("v2", config=config), synthesize_speech("two words"))
    assert [e["type"] for e in v2 if "transcription" in e["type"]] == [
        "conversation.item.input_audio_transcription.completed"
    ]
    v1 = speak(VoiceModel("v1", config=config), synthesize_speech("two words"))
    assert [e["delta"] for e in v1 if e["type"] == "conversation.input_transcript.delta"] == [
        "two words"
    ]
