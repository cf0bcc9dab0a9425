"""The realtime bridge as a state machine: commands and events in, actions out, no I/O."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from parley.realtime.bridge import (
    Action,
    CloseTransport,
    Delegate,
    IllegalTransition,
    Lifecycle,
    Notify,
    RealtimeBridge,
    SendFrame,
    SessionState,
    Trigger,
)
from parley.realtime.codec import SessionSpec, codec_for

T = "thr_1"
SPEC = SessionSpec(instructions="backend prompt", voice="marin", model="gpt-realtime-1.5")
V1_SPEC = SessionSpec(instructions="backend prompt", voice="cove", model="gpt-realtime-1.5")


def show(actions: list[Action]) -> list[Any]:
    """Actions as plain values: ("send", json), ("notify", method, params), ("delegate", text)."""
    out: list[Any] = []
    for action in actions:
        if isinstance(action, SendFrame):
            out.append(("send", orjson.loads(action.data)))
        elif isinstance(action, Notify):
            out.append(("notify", action.method, action.params))
        elif isinstance(action, Delegate):
            out.append(("delegate", action.text))
        else:
            assert isinstance(action, CloseTransport)
            out.append(("close",))
    return out


def frames(actions: list[Action]) -> list[Any]:
    return [orjson.loads(a.data) for a in actions if isinstance(a, SendFrame)]


def running(version: str = "v2", **kwargs: Any) -> RealtimeBridge:
    bridge = RealtimeBridge(thread_id=T, session_id=T, codec=codec_for(version), **kwargs)
    bridge.start()
    bridge.established(SPEC if version == "v2" else V1_SPEC)
    return bridge


def up(bridge: RealtimeBridge, event: dict[str, Any]) -> list[Any]:
    return show(bridge.receive_text(orjson.dumps(event)))


def tool_call(call_id: str, prompt: str) -> dict[str, Any]:
    return {
        "type": "conversation.item.done",
        "item": {
            "id": f"item_{call_id}",
            "type": "function_call",
            "name": "background_agent",
            "call_id": call_id,
            "arguments": orjson.dumps({"prompt": prompt}).decode(),
        },
    }


def user_text(text: str) -> dict[str, Any]:
    return {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        },
    }


def progress(text: str) -> dict[str, Any]:
    return user_text(f"{text}\n\nUpdate from background agent (task hasn't finished yet):")


def final(call_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "conversation.item.create",
        "item": {
            "type": "function_call_output",
            "call_id": call_id,
            "output": f'"Agent Final Message":\n\n{text}',
        },
    }


RESPONSE_CREATE = {"type": "response.create"}
ACK = "This was sent to steer the previous background agent task."


# --- lifecycle ----------------------------------------------------------------------------------


def test_lifecycle_table_rejects_illegal_transitions() -> None:
    """An illegal trigger raises a named error and leaves the state unchanged."""
    lifecycle = Lifecycle()
    with pytest.raises(IllegalTransition):
        lifecycle.apply(Trigger.ESTABLISH)
    assert lifecycle.allows(Trigger.START)
    lifecycle.apply(Trigger.START)
    lifecycle.apply(Trigger.ESTABLISH)
    lifecycle.apply(Trigger.STOP)
    with pytest.raises(IllegalTransition):
        lifecycle.apply(Trigger.STOP)
    assert lifecycle.state is SessionState.CLOSED


def test_establish_sends_session_update_then_announces() -> None:
    """session.update goes first, then started; WebRTC adds sdp right after started."""
    bridge = RealtimeBridge(thread_id=T, session_id="sess", codec=codec_for("v2"))
    bridge.start()
    actions = show(bridge.established(SPEC, answer_sdp="v=answer\r\n"))
    assert actions[0][0] == "send" and actions[0][1]["type"] == "session.update"
    assert actions[1:] == [
        (
            "notify",
            "thread/realtime/started",
            {"threadId": T, "sessionId": "sess", "version": "v2"},
        ),
        ("notify", "thread/realtime/sdp", {"threadId": T, "sdp": "v=answer\r\n"}),
    ]
    assert bridge.state is SessionState.RUNNING


def test_input_before_establishment_is_delivered_after_session_update_in_order() -> None:
    """Text and audio appended while connecting are flushed after session.update, in order."""
    bridge = RealtimeBridge(thread_id=T, session_id=T, codec=codec_for("v2"))
    bridge.start()
    assert bridge.append_text("first") == []
    assert bridge.append_audio("BQYH") == []
    assert bridge.mirror_user_text("typed") == []
    sent = frames(bridge.established(SPEC))
    assert [f["type"] for f in sent] == [
        "session.update",
        "conversation.item.create",
        "input_audio_buffer.append",
        "conversation.item.create",
    ]
    assert sent[1] == user_text("first") and sent[3] == user_text("typed")


def test_failure_before_establishment_reports_only_an_error() -> None:
    """A start failure gives an error notification and no closed notification."""
    bridge = RealtimeBridge(thread_id=T, session_id=T, codec=codec_for("v2"))
    bridge.start()
    assert show(bridge.fail("boom")) == [
        ("notify", "thread/realtime/error", {"threadId": T, "message": "boom"})
    ]
    assert bridge.state is SessionState.CLOSED
    assert bridge.append_audio("x") == [] and bridge.append_text("x") == []


def test_stop_closes_with_requested() -> None:
    """Stop drops the transport and reports closed{requested}; stopping twice is illegal."""
    bridge = running()
    assert show(bridge.stop()) == [
        ("close",),
        ("notify", "thread/realtime/closed", {"threadId": T, "reason": "requested"}),
    ]
    with pytest.raises(IllegalTransition):
        bridge.stop()
    assert bridge.state is SessionState.CLOSED


def test_upstream_error_reports_error_then_closed() -> None:
    """An upstream error event gives error, then closed{error}, and ends the session."""
    bridge = running()
    assert up(bridge, {"type": "error", "message": "upstream boom"}) == [
        ("notify", "thread/realtime/error", {"threadId": T, "message": "upstream boom"}),
        ("notify", "thread/realtime/closed", {"threadId": T, "reason": "error"}),
        ("close",),
    ]
    assert up(bridge, {"type": "response.output_text.delta", "delta": "late"}) == []
    assert bridge.transport_closed() == []


def test_events_after_an_error_in_the_same_frame_are_dropped() -> None:
    """Nothing after the error is emitted."""
    bridge = running()
    actions = show(bridge.receive_text(b'{"type":"error","message":"x"}'))
    assert actions[-1] == ("close",)


def test_upstream_close_and_failures() -> None:
    """A clean close is transport_closed with no error; a binary frame is an error."""
    bridge = running()
    assert show(bridge.transport_closed()) == [
        ("close",),
        ("notify", "thread/realtime/closed", {"threadId": T, "reason": "transport_closed"}),
    ]
    bridge = running()
    assert show(bridge.receive_binary())[:2] == [
        (
            "notify",
            "thread/realtime/error",
            {"threadId": T, "message": "unexpected binary realtime websocket event"},
        ),
        ("notify", "thread/realtime/closed", {"threadId": T, "reason": "error"}),
    ]


def test_abandon_is_silent() -> None:
    """Abandoning closes the transport without notifications, in any live state."""
    bridge = running()
    assert show(bridge.abandon()) == [("close",)]
    assert bridge.abandon() == []


# --- upstream events to notifications -----------------------------------------------------------


def test_v2_notifications() -> None:
    """Audio, transcripts and items become the matching client notifications."""
    bridge = running()
    assert up(
        bridge,
        {
            "type": "response.output_audio.delta",
            "delta": "AQID",
            "sample_rate": 24000,
            "channels": 1,
            "samples_per_channel": 512,
        },
    ) == [
        (
            "notify",
            "thread/realtime/outputAudio/delta",
            {
                "threadId": T,
                "audio": {
                    "data": "AQID",
                    "sampleRate": 24000,
                    "numChannels": 1,
                    "samplesPerChannel": 512,
                    "itemId": None,
                },
            },
        )
    ]
    assert up(
        bridge, {"type": "conversation.item.input_audio_transcription.delta", "delta": "d"}
    ) == [
        (
            "notify",
            "thread/realtime/transcriptUpdated",
            {"threadId": T, "role": "user", "text": "d"},
        )
    ]
    item = {"type": "message", "role": "assistant"}
    assert up(bridge, {"type": "conversation.item.added", "item": item}) == [
        ("notify", "thread/realtime/itemAdded", {"threadId": T, "item": item})
    ]
    assert up(bridge, {"type": "session.updated", "session": {"id": "s"}}) == []


def test_v2_handoff_notification_and_delegation() -> None:
    """A background_agent call is announced as a handoff request and delegated verbatim."""
    bridge = running()
    up(bridge, {"type": "conversation.item.input_audio_transcription.delta", "delta": "ignored"})
    assert up(bridge, tool_call("handoff_1", "delegate now")) == [
        (
            "notify",
            "thread/realtime/itemAdded",
            {
                "threadId": T,
                "item": {
                    "type": "handoff_request",
                    "handoff_id": "handoff_1",
                    "item_id": "item_handoff_1",
                    "input_transcript": "delegate now",
                    "active_transcript": [],
                },
            },
        ),
        ("delegate", "delegate now"),
    ]
    assert bridge.active_handoff_id == "handoff_1"


# --- v2 background agent ------------------------------------------------------------------------


def test_v2_progress_then_final_output_then_response_create() -> None:
    """Agent messages go up as progress; completion sends the final output and response.create."""
    bridge = running()
    up(bridge, tool_call("call_v2", "delegate from v2"))
    assert (
        bridge.thread_event("turn/started", {"threadId": T, "turn": {"id": "auto-compact-1"}}) == []
    )
    message = {
        "threadId": T,
        "turnId": "auto-compact-1",
        "item": {"type": "agentMessage", "id": "msg-1", "text": "delegated from v2"},
    }
    assert frames(bridge.thread_event("item/completed", message)) == [progress("delegated from v2")]
    done = {"threadId": T, "turn": {"id": "auto-compact-1", "status": "completed"}}
    assert frames(bridge.thread_event("turn/completed", done)) == [
        final("call_v2", "delegated from v2"),
        RESPONSE_CREATE,
    ]
    assert bridge.active_handoff_id is None


def test_v2_final_output_uses_the_last_agent_message() -> None:
    """With several agent messages, each is progress and the last one is the final answer."""
    bridge = running()
    up(bridge, tool_call("c", "go"))
    bridge.turn_started("t1")
    assert frames(bridge.agent_message_completed("t1", "one")) == [progress("one")]
    assert frames(bridge.agent_message_completed("t1", "two")) == [progress("two")]
    assert frames(bridge.turn_completed("t1", "completed")) == [final("c", "two"), RESPONSE_CREATE]


def test_v2_steering_acknowledges_and_keeps_the_first_call() -> None:
    """A second call while a handoff is active is acked at once and steers the running task."""
    bridge = running()
    up(bridge, tool_call("call_active", "start a task"))
    bridge.turn_started("auto-compact-1")
    actions = up(bridge, tool_call("call_steer", "steer the active task"))
    assert actions[0] == ("send", final("call_steer", ACK))
    assert actions[1] == ("send", RESPONSE_CREATE)
    assert actions[2][1] == "thread/realtime/itemAdded"
    assert actions[3] == ("delegate", "steer the active task")
    assert bridge.active_handoff_id == "call_active"
    # The ack's response.create is still active, so the final one waits for response.done.
    assert frames(bridge.agent_message_completed("auto-compact-1", "first task finished")) == [
        progress("first task finished")
    ]
    assert frames(bridge.turn_completed("auto-compact-1", "completed")) == [
        final("call_active", "first task finished")
    ]
    assert frames(bridge.receive_text(b'{"type":"response.done","response":{"id":"r"}}')) == [
        RESPONSE_CREATE
    ]


def test_v2_steering_before_the_delegated_turn_started_is_still_acked() -> None:
    """Even before its turn starts, an active handoff makes the next call a steer."""
    bridge = running()
    up(bridge, tool_call("a", "x"))
    assert frames(bridge.receive_text(orjson.dumps(tool_call("b", "y")))) == [
        final("b", ACK),
        RESPONSE_CREATE,
    ]


def test_response_create_queue() -> None:
    """A response.create requested while a response is active waits for done or cancelled."""
    bridge = running()
    up(bridge, {"type": "response.created", "response": {"id": "r1"}})
    up(bridge, tool_call("c", "go"))
    bridge.turn_started("t")
    bridge.agent_message_completed("t", "ok")
    assert frames(bridge.turn_completed("t", "completed")) == [final("c", "ok")]
    actions = up(bridge, {"type": "response.cancelled", "response": {"id": "r1"}})
    assert actions == [
        (
            "notify",
            "thread/realtime/itemAdded",
            {"threadId": T, "item": {"type": "response.cancelled", "response_id": "r1"}},
        ),
        ("send", RESPONSE_CREATE),
    ]
    # That response.create marked a response active again.
    up(bridge, tool_call("d", "again"))
    bridge.turn_started("t2")
    bridge.agent_message_completed("t2", "ok2")
    assert frames(bridge.turn_completed("t2", "completed")) == [final("d", "ok2")]
    assert frames(bridge.receive_text(b'{"type":"response.done"}')) == [RESPONSE_CREATE]
    assert frames(bridge.receive_text(b'{"type":"response.done"}')) == []


def test_text_is_append_only_even_while_a_response_is_active() -> None:
    """appendText sends exactly one user item and never requests a response."""
    bridge = running()
    up(bridge, {"type": "response.created", "response": {"id": "r"}})
    assert frames(bridge.append_text("first")) == [user_text("first")]
    up(bridge, {"type": "response.done", "response": {"id": "r"}})
    assert frames(bridge.append_text("second")) == [user_text("second")]


def test_mirrored_text_skips_empty_text() -> None:
    """Typed text is mirrored like appendText; empty text is not sent."""
    bridge = running()
    assert frames(bridge.mirror_user_text("typed")) == [user_text("typed")]
    assert bridge.mirror_user_text("") == []


def test_failed_turn_sends_nothing_and_clears_the_handoff() -> None:
    """A failed or interrupted delegated turn leaves the call unanswered and ends the handoff."""
    bridge = running()
    up(bridge, tool_call("c", "go"))
    bridge.turn_started("t1")
    assert bridge.turn_completed("t1", "failed") == []
    assert bridge.active_handoff_id is None
    bridge.turn_started("t2")
    assert bridge.agent_message_completed("t2", "typed reply") == []
    assert bridge.turn_completed("t2", "completed") == []


def test_handoff_during_a_typed_turn_rides_on_it_without_ack() -> None:
    """With a typed turn running and no handoff, the call becomes the active handoff."""
    bridge = running()
    bridge.turn_started("typed-1")
    actions = up(bridge, tool_call("c", "steer typed"))
    assert actions[-1] == ("delegate", "steer typed")
    assert frames(bridge.receive_text(b"{}")) == []
    assert frames(bridge.agent_message_completed("typed-1", "answer")) == [progress("answer")]
    assert frames(bridge.turn_completed("typed-1", "completed")) == [
        final("c", "answer"),
        RESPONSE_CREATE,
    ]


def test_agent_messages_without_a_handoff_stay_local() -> None:
    """Agent messages of turns nobody delegated are not sent upstream."""
    bridge = running()
    bridge.turn_started("t")
    assert bridge.agent_message_completed("t", "hello") == []
    assert bridge.turn_completed("t", "completed") == []


def test_completion_of_an_older_turn_does_not_clear_a_new_handoff() -> None:
    """A handoff that starts a new turn is not cleared by the previous turn's late completion."""
    active = {"value": False}
    bridge = running(is_turn_active=lambda: active["value"])
    bridge.turn_started("old")  # the thread already finished it; the completion is late
    up(bridge, tool_call("c", "go"))
    assert bridge.turn_completed("old", "completed") == []
    assert bridge.active_handoff_id == "c"
    bridge.turn_started("new")
    bridge.agent_message_completed("new", "done")
    assert frames(bridge.turn_completed("new", "completed")) == [
        final("c", "done"),
        RESPONSE_CREATE,
    ]


def test_turn_running_before_the_session_started() -> None:
    """A turn already running at start is steered; its completion answers the handoff."""
    bridge = running(turn_in_progress=True)
    up(bridge, tool_call("c", "go"))
    assert frames(bridge.agent_message_completed("earlier", "msg")) == [progress("msg")]
    assert frames(bridge.turn_completed("earlier", "completed")) == [
        final("c", "msg"),
        RESPONSE_CREATE,
    ]


def test_nothing_goes_upstream_after_stop() -> None:
    """After stop, agent output of a still-running delegated turn is dropped."""
    bridge = running()
    up(bridge, tool_call("c", "go"))
    bridge.turn_started("t")
    bridge.stop()
    assert bridge.agent_message_completed("t", "late") == []
    assert bridge.turn_completed("t", "completed") == []


# --- v1 -----------------------------------------------------------------------------------------


def test_v1_transcript_is_attached_and_cleared_by_a_handoff() -> None:
    """v1 deltas merge by role into the active transcript, which a handoff takes and clears."""
    bridge = running("v1")
    for kind, delta in (
        ("conversation.input_transcript.delta", "first "),
        ("conversation.input_transcript.delta", "ask"),
        ("conversation.input_transcript.delta", ""),
        ("conversation.output_transcript.delta", "sure"),
    ):
        up(bridge, {"type": kind, "delta": delta})
    handoff = {
        "type": "conversation.handoff.requested",
        "handoff_id": "h1",
        "item_id": "i1",
        "input_transcript": "first ask",
    }
    actions = up(bridge, handoff)
    assert actions[0][2]["item"]["active_transcript"] == [
        {"role": "user", "text": "first ask"},
        {"role": "assistant", "text": "sure"},
    ]
    assert actions[1] == ("delegate", "user: first ask\nassistant: sure")
    actions = up(bridge, {**handoff, "handoff_id": "h2", "input_transcript": "only this"})
    assert actions[0][2]["item"]["active_transcript"] == []
    assert actions[1] == ("delegate", "only this")


def test_v1_appends_each_agent_message_and_nothing_at_turn_end() -> None:
    """v1 sends a handoff.append per agent message and no final output."""
    bridge = running("v1")
    up(bridge, {"type": "conversation.input_transcript.delta", "delta": "delegate from v1"})
    actions = up(
        bridge,
        {
            "type": "conversation.handoff.requested",
            "handoff_id": "handoff_v1",
            "item_id": "item_v1",
            "input_transcript": "delegate from v1",
        },
    )
    assert actions[-1] == ("delegate", "user: delegate from v1")
    bridge.turn_started("auto-compact-1")
    assert frames(bridge.agent_message_completed("auto-compact-1", "delegated from v1")) == [
        {
            "type": "conversation.handoff.append",
            "handoff_id": "handoff_v1",
            "output_text": '"Agent Final Message":\n\ndelegated from v1',
        }
    ]
    assert bridge.turn_completed("auto-compact-1", "completed") == []
    assert bridge.active_handoff_id is None


def test_v1_second_handoff_replaces_the_first_without_ack() -> None:
    """In v1 a new handoff during a turn takes over; later appends use its id."""
    bridge = running("v1")
    request = {"type": "conversation.handoff.requested", "item_id": "i", "input_transcript": "t"}
    up(bridge, {**request, "handoff_id": "h1"})
    bridge.turn_started("t1")
    actions = up(bridge, {**request, "handoff_id": "h2", "input_transcript": "more"})
    assert [a[0] for a in actions] == ["notify", "delegate"]
    assert frames(bridge.agent_message_completed("t1", "x"))[0]["handoff_id"] == "h2"


def test_thread_events_without_turn_ids_are_tolerated() -> None:
    """Malformed thread notifications are ignored rather than raising."""
    bridge = running()
    assert bridge.thread_event("turn/started", {}) == []
    assert bridge.thread_event("item/completed", {"item": "nope"}) == []
    assert bridge.thread_event("turn/completed", {"turn": None}) == []
    assert bridge.thread_event("thread/status/changed", {"status": {}}) == []


# --- barge-in truncation ------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def audio_delta(item_id: str | None, ms: int) -> dict[str, Any]:
    """`ms` of 24 kHz mono audio of `item_id` (samples_per_channel given, as upstream does)."""
    return {
        "type": "response.output_audio.delta",
        "response_id": "resp_1",
        "item_id": item_id,
        "delta": "AAAA",
        "samples_per_channel": 24 * ms,
    }


SPEECH_STARTED = {"type": "input_audio_buffer.speech_started", "item_id": "item_user"}
SPEECH_MARKER = (
    "notify",
    "thread/realtime/itemAdded",
    {"threadId": T, "item": {"type": "input_audio_buffer.speech_started", "item_id": "item_user"}},
)


def truncate(item_id: str, audio_end_ms: int) -> Any:
    return (
        "send",
        {
            "type": "conversation.item.truncate",
            "item_id": item_id,
            "content_index": 0,
            "audio_end_ms": audio_end_ms,
        },
    )


def test_barge_in_truncates_the_playing_item_at_the_time_heard() -> None:
    """Speech starting while the client plays the answer cuts the answer's item at the time
    since its first audio went out, after relaying the speech marker."""
    clock = FakeClock()
    bridge = running(truncates_playback=True, clock=clock)
    up(bridge, {"type": "response.created", "response": {"id": "resp_1"}})
    up(bridge, audio_delta("item_answer", 500))
    clock.now += 0.25
    up(bridge, audio_delta("item_answer", 500))
    clock.now += 0.125
    assert up(bridge, SPEECH_STARTED) == [SPEECH_MARKER, truncate("item_answer", 375)]
    # The playback is over: a second speech start truncates nothing.
    clock.now += 1.0
    assert up(bridge, SPEECH_STARTED) == [SPEECH_MARKER]


def test_barge_in_truncation_never_goes_beyond_the_audio_sent() -> None:
    """The point is clamped to the audio the client was sent (the upstream refuses a truncate
    beyond the item's audio, and an upstream error ends the session)."""
    clock = FakeClock()
    bridge = running(truncates_playback=True, clock=clock)
    up(bridge, {"type": "response.created", "response": {"id": "resp_1"}})
    up(bridge, audio_delta("item_answer", 300))
    clock.now += 2.0
    assert up(bridge, SPEECH_STARTED) == [SPEECH_MARKER, truncate("item_answer", 300)]


def test_barge_in_after_all_audio_was_heard_or_before_any_truncates_nothing() -> None:
    """No truncate when the finished answer was all heard, when no time passed since its first
    audio (0 ms heard), when the item has no id, or when the upstream plays the audio (WebRTC)."""
    clock = FakeClock()
    bridge = running(truncates_playback=True, clock=clock)
    up(bridge, {"type": "response.created", "response": {"id": "resp_1"}})
    up(bridge, audio_delta("item_answer", 300))
    up(bridge, {"type": "response.done", "response": {"id": "resp_1"}})
    clock.now += 0.4
    assert up(bridge, SPEECH_STARTED) == [SPEECH_MARKER]

    up(bridge, audio_delta("item_next", 300))
    assert up(bridge, SPEECH_STARTED) == [SPEECH_MARKER]

    up(bridge, audio_delta(None, 300))
    clock.now += 0.1
    assert up(bridge, SPEECH_STARTED) == [SPEECH_MARKER]

    webrtc = running(truncates_playback=False, clock=clock)
    up(webrtc, audio_delta("item_answer", 300))
    clock.now += 0.1
    assert up(webrtc, SPEECH_STARTED) == [SPEECH_MARKER]


def test_barge_in_truncates_the_latest_item_and_counts_audio_without_a_sample_count() -> None:
    """A new audio item restarts the estimate; without samples_per_channel the audio length
    comes from the data itself."""
    clock = FakeClock()
    bridge = running(truncates_playback=True, clock=clock)
    up(bridge, {"type": "response.created", "response": {"id": "resp_1"}})
    up(bridge, audio_delta("item_first", 1000))
    clock.now += 0.5
    pcm = base64.b64encode(bytes(2 * 2400)).decode()  # 100 ms at 24 kHz
    up(bridge, {"type": "response.output_audio.delta", "item_id": "item_second", "delta": pcm})
    clock.now += 0.5
    assert up(bridge, SPEECH_STARTED) == [SPEECH_MARKER, truncate("item_second", 100)]
