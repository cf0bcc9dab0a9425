"""The realtime conversation as a state machine, with no I/O.

`RealtimeBridge` is fed three kinds of input: client commands (start, audio, text, stop),
upstream frames from the Realtime API, and events from the thread the conversation belongs to
(turn started, agent message completed, turn completed). Every input returns a list of
actions for the I/O layer to carry out, in order: frames to send upstream, notifications for
clients, text to delegate to the thread's agent, and closing the upstream transport.

Version differences live in the codec (`codec_v1`, `codec_v2`); this module only decides when
each kind of frame is due. It never waits, never touches a socket and never raises for
upstream input it does not understand.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from parley.realtime.change_summary import summarize_file_changes
from parley.realtime.codec import RealtimeCodec, SessionSpec
from parley.realtime.events import (
    HandoffRequested,
    ItemAdded,
    OutputAudio,
    ResponseFinished,
    ResponseStarted,
    SpeechStarted,
    TranscriptDelta,
    UpstreamError,
    UpstreamEvent,
)

# Client notification methods.
STARTED: Final = "thread/realtime/started"
SDP: Final = "thread/realtime/sdp"
OUTPUT_AUDIO_DELTA: Final = "thread/realtime/outputAudio/delta"
TRANSCRIPT_UPDATED: Final = "thread/realtime/transcriptUpdated"
ITEM_ADDED: Final = "thread/realtime/itemAdded"
ERROR: Final = "thread/realtime/error"
CLOSED: Final = "thread/realtime/closed"

# `thread/realtime/closed` reasons.
REASON_REQUESTED: Final = "requested"
REASON_TRANSPORT_CLOSED: Final = "transport_closed"
REASON_ERROR: Final = "error"

BINARY_FRAME_ERROR: Final = "unexpected binary realtime websocket event"
# Input that arrives before the socket is up waits here; audio beyond this is dropped, as a
# live microphone stream is worthless once it is this far behind. Clients are told, once.
MAX_PENDING_AUDIO_FRAMES: Final = 256
PENDING_AUDIO_DROPPED: Final = (
    "input audio dropped: the realtime connection is still being set up "
    f"(at most {MAX_PENDING_AUDIO_FRAMES} audio chunks wait for it)"
)


# --- lifecycle -------------------------------------------------------------------------------


class SessionState(enum.Enum):
    """Where a realtime session is in its life."""

    IDLE = "idle"
    CONNECTING = "connecting"
    RUNNING = "running"
    CLOSED = "closed"


class Trigger(enum.Enum):
    """What moves a session from one state to the next."""

    START = "start"
    ESTABLISH = "establish"
    FAIL = "fail"
    STOP = "stop"
    UPSTREAM_CLOSED = "upstream_closed"
    UPSTREAM_FAILED = "upstream_failed"
    ABANDON = "abandon"  # torn down without telling clients (restart, client gone)


_TRANSITIONS: Final[dict[SessionState, dict[Trigger, SessionState]]] = {
    SessionState.IDLE: {
        Trigger.START: SessionState.CONNECTING,
        Trigger.ABANDON: SessionState.CLOSED,
    },
    SessionState.CONNECTING: {
        Trigger.ESTABLISH: SessionState.RUNNING,
        Trigger.FAIL: SessionState.CLOSED,
        Trigger.STOP: SessionState.CLOSED,
        Trigger.ABANDON: SessionState.CLOSED,
    },
    SessionState.RUNNING: {
        Trigger.STOP: SessionState.CLOSED,
        Trigger.UPSTREAM_CLOSED: SessionState.CLOSED,
        Trigger.UPSTREAM_FAILED: SessionState.CLOSED,
        Trigger.ABANDON: SessionState.CLOSED,
    },
    SessionState.CLOSED: {},
}


class IllegalTransition(RuntimeError):
    """A trigger that the current state does not allow; the state is left unchanged."""

    def __init__(self, state: SessionState, trigger: Trigger) -> None:
        super().__init__(f"cannot {trigger.value} a realtime session that is {state.value}")
        self.state = state
        self.trigger = trigger


class Lifecycle:
    """The session state plus the transition table that guards it."""

    def __init__(self) -> None:
        self.state = SessionState.IDLE

    def allows(self, trigger: Trigger) -> bool:
        return trigger in _TRANSITIONS[self.state]

    def apply(self, trigger: Trigger) -> SessionState:
        try:
            self.state = _TRANSITIONS[self.state][trigger]
        except KeyError:
            raise IllegalTransition(self.state, trigger) from None
        return self.state


# --- actions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SendFrame:
    """Write one JSON text frame upstream. `audio` frames may be dropped under back-pressure."""

    data: bytes
    audio: bool = False


@dataclass(frozen=True, slots=True)
class Notify:
    """Emit one notification to the thread's clients."""

    method: str
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Delegate:
    """Hand text to the thread's agent: start a turn with it, or steer the running one."""

    text: str


@dataclass(frozen=True, slots=True)
class CloseTransport:
    """Drop the upstream connection (and stop reading from it)."""


Action = SendFrame | Notify | Delegate | CloseTransport


def closed_notification(thread_id: str, reason: str) -> Notify:
    return Notify(CLOSED, {"threadId": thread_id, "reason": reason})


def error_notification(thread_id: str, message: str) -> Notify:
    return Notify(ERROR, {"threadId": thread_id, "message": message})


# --- the bridge ------------------------------------------------------------------------------

# Stands for a turn that was already running when the session started, whose id we never saw.
_UNSEEN_TURN: Final = "\x00unseen-turn"


@dataclass(slots=True)
class _Handoff:
    """The background-agent request whose turn's output goes back upstream."""

    handoff_id: str
    # The turn it rides on; None until the delegated turn reports that it started.
    turn_id: str | None
    # Wire `changes` of the completed `fileChange` items of that turn, summarised at the end.
    file_changes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class _Playback:
    """The model's audio item the client is playing: when its first audio went to the client
    and how much audio (ms) went since."""

    item_id: str
    started_at: float
    sent_ms: float = 0.0


def _audio_ms(event: OutputAudio) -> float:
    samples = event.samples_per_channel
    if samples is None:
        data = event.data
        size = len(data) * 3 // 4 - (len(data) - len(data.rstrip("=")))
        samples = size // (2 * max(event.num_channels, 1))
    return samples * 1000 / event.sample_rate if event.sample_rate > 0 else 0.0


@dataclass(slots=True)
class _ResponseQueue:
    """At most one `response.create` in flight; one more may wait for the current response."""

    active: bool = False
    pending: bool = False


@dataclass(slots=True)
class _Transcript:
    """What was said since the last handoff (v1), as role-tagged runs of text."""

    entries: list[dict[str, str]] = field(default_factory=list)

    def add(self, role: str, text: str) -> None:
        if not text:
            return
        if self.entries and self.entries[-1]["role"] == role:
            self.entries[-1]["text"] += text
        else:
            self.entries.append({"role": role, "text": text})

    def take(self) -> list[dict[str, str]]:
        entries, self.entries = self.entries, []
        return entries


class RealtimeBridge:
    """One realtime session's logic: commands and events in, actions out."""

    def __init__(
        self,
        *,
        thread_id: str,
        session_id: str,
        codec: RealtimeCodec,
        turn_in_progress: bool = False,
        is_turn_active: Callable[[], bool] | None = None,
        truncates_playback: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`is_turn_active` asks the thread, at the moment a handoff is delegated, whether the
        delegation will steer a running turn (True) or start a new one (False); without it the
        bridge relies on the turn events it has seen, which can lag behind the thread.

        `truncates_playback`: the client plays the model's audio (WebSocket transport), so on a
        barge-in the upstream item is cut at what was heard, estimated as the time since its
        first audio went out (`clock`, seconds) and never more than the audio sent. Over
        WebRTC the upstream plays the audio and truncates by itself."""
        self.thread_id = thread_id
        self.session_id = session_id
        self.codec = codec
        self._is_turn_active = is_turn_active
        self._lifecycle = Lifecycle()
        self._pending: list[SendFrame] = []
        self._pending_audio = 0
        self._handoff: _Handoff | None = None
        self._turn_id: str | None = _UNSEEN_TURN if turn_in_progress else None
        self._last_agent_text: str | None = None
        self._responses = _ResponseQueue()
        self._transcript = _Transcript()
        self._truncates_playback = truncates_playback
        self._clock = clock
        self._playback: _Playback | None = None

    # -- state ----------------------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        return self._lifecycle.state

    @property
    def is_live(self) -> bool:
        """Connecting or running: input is accepted (queued or sent)."""
        return self._lifecycle.state in (SessionState.CONNECTING, SessionState.RUNNING)

    @property
    def active_handoff_id(self) -> str | None:
        return self._handoff.handoff_id if self._handoff is not None else None

    # -- client commands ------------------------------------------------------------------

    def start(self) -> list[Action]:
        """The client asked to start; the I/O layer now connects."""
        self._lifecycle.apply(Trigger.START)
        return []

    def established(self, spec: SessionSpec, answer_sdp: str | None = None) -> list[Action]:
        """The upstream socket is open: configure the session, announce it, flush input."""
        self._lifecycle.apply(Trigger.ESTABLISH)
        actions: list[Action] = [SendFrame(self.codec.session_update(spec))]
        started = {
            "threadId": self.thread_id,
            "sessionId": self.session_id,
            "version": self.codec.version,
        }
        actions.append(Notify(STARTED, started))
        if answer_sdp is not None:
            actions.append(Notify(SDP, {"threadId": self.thread_id, "sdp": answer_sdp}))
        actions.extend(self._pending)
        self._pending = []
        self._pending_audio = 0
        return actions

    def fail(self, message: str) -> list[Action]:
        """Starting failed before the session was established: report it, nothing to close."""
        self._lifecycle.apply(Trigger.FAIL)
        self._pending = []
        return [error_notification(self.thread_id, message)]

    def append_audio(self, data: str) -> list[Action]:
        """Forward microphone audio; dropped when the session is not live."""
        state = self._lifecycle.state
        if state is SessionState.RUNNING:
            return [SendFrame(self.codec.audio_append(data), audio=True)]
        if state is not SessionState.CONNECTING:
            return []
        self._pending_audio += 1
        if self._pending_audio <= MAX_PENDING_AUDIO_FRAMES:
            self._pending.append(SendFrame(self.codec.audio_append(data), audio=True))
        elif self._pending_audio == MAX_PENDING_AUDIO_FRAMES + 1:
            return [error_notification(self.thread_id, PENDING_AUDIO_DROPPED)]
        return []

    def append_text(self, text: str) -> list[Action]:
        """Append user text to the realtime conversation; it never requests a response."""
        frame = SendFrame(self.codec.user_text(text))
        state = self._lifecycle.state
        if state is SessionState.RUNNING:
            return [frame]
        if state is SessionState.CONNECTING:
            self._pending.append(frame)
        return []

    def mirror_user_text(self, text: str) -> list[Action]:
        """Typed text the thread accepted while realtime runs; empty text is not sent."""
        return self.append_text(text) if text else []

    def stop(self) -> list[Action]:
        """The client asked to stop."""
        self._lifecycle.apply(Trigger.STOP)
        self._pending = []
        return [CloseTransport(), closed_notification(self.thread_id, REASON_REQUESTED)]

    def abandon(self) -> list[Action]:
        """Tear down without telling clients (a restart replaces it, or the client is gone)."""
        if self._lifecycle.state is SessionState.CLOSED:
            return []
        self._lifecycle.apply(Trigger.ABANDON)
        self._pending = []
        return [CloseTransport()]

    # -- upstream -------------------------------------------------------------------------

    def receive_text(self, raw: str | bytes) -> list[Action]:
        """One upstream text frame."""
        if self._lifecycle.state is not SessionState.RUNNING:
            return []
        actions: list[Action] = []
        for event in self.codec.parse(raw):
            actions.extend(self.receive_event(event))
            if self._lifecycle.state is not SessionState.RUNNING:
                break
        return actions

    def receive_binary(self) -> list[Action]:
        """Upstream sent a binary frame, which the protocol never does: end with an error."""
        return self.transport_failed(BINARY_FRAME_ERROR)

    def transport_closed(self) -> list[Action]:
        """Upstream closed the connection cleanly (a close frame arrived)."""
        if self._lifecycle.state is not SessionState.RUNNING:
            return []
        self._lifecycle.apply(Trigger.UPSTREAM_CLOSED)
        return [CloseTransport(), closed_notification(self.thread_id, REASON_TRANSPORT_CLOSED)]

    def transport_failed(self, message: str) -> list[Action]:
        """Reading or writing the upstream failed, or it reported an error: end with an error."""
        if self._lifecycle.state is not SessionState.RUNNING:
            return []
        self._lifecycle.apply(Trigger.UPSTREAM_FAILED)
        return [
            error_notification(self.thread_id, message),
            closed_notification(self.thread_id, REASON_ERROR),
            CloseTransport(),
        ]

    def receive_event(self, event: UpstreamEvent) -> list[Action]:
        """One parsed upstream event."""
        if self._lifecycle.state is not SessionState.RUNNING:
            return []
        tid = self.thread_id
        match event:
            case OutputAudio():
                self._track_playback(event)
                audio = {
                    "data": event.data,
                    "sampleRate": event.sample_rate,
                    "numChannels": event.num_channels,
                    "samplesPerChannel": event.samples_per_channel,
                    "itemId": event.item_id,
                }
                return [Notify(OUTPUT_AUDIO_DELTA, {"threadId": tid, "audio": audio})]
            case TranscriptDelta():
                if self.codec.keeps_active_transcript:
                    self._transcript.add(event.role, event.text)
                params = {"threadId": tid, "role": event.role, "text": event.text}
                return [Notify(TRANSCRIPT_UPDATED, params)]
            case ItemAdded():
                return [Notify(ITEM_ADDED, {"threadId": tid, "item": event.item})]
            case HandoffRequested():
                return self._handoff_requested(event)
            case ResponseStarted():
                self._responses.active = True
                return []
            case ResponseFinished():
                self._responses.active = False
                if self._responses.pending:
                    self._responses.pending = False
                    return self._request_response()
                return []
            case SpeechStarted():
                return self._barge_in()
            case UpstreamError():
                return self.transport_failed(event.message)
        return []

    def _track_playback(self, event: OutputAudio) -> None:
        if event.item_id is None:
            self._playback = None
            return
        if self._playback is None or self._playback.item_id != event.item_id:
            self._playback = _Playback(event.item_id, self._clock())
        self._playback.sent_ms += _audio_ms(event)

    def _barge_in(self) -> list[Action]:
        """The user spoke: cut the playing item at the audio heard so far. Nothing is sent when
        no audio was heard yet, or when all of a finished response's audio was heard (the
        upstream rejects a truncate beyond the audio it made, which would end the session).

        The 0.120 reference also truncates, but at all the audio it relayed, only until the
        response is done, and only when the speech event names no item or the playing one
        (the real API names the new user item there, so it seldom does); cutting at what was
        heard, also while the client still plays a finished response, is what the user
        actually heard."""
        playback, self._playback = self._playback, None
        if playback is None or not self._truncates_playback:
            return []
        sent_ms = int(playback.sent_ms)
        # Any time at all since the first audio went out counts as a millisecond heard.
        heard_ms = min(math.ceil((self._clock() - playback.started_at) * 1000), sent_ms)
        if heard_ms <= 0 or (heard_ms >= sent_ms and not self._responses.active):
            return []
        frame = self.codec.truncate(playback.item_id, heard_ms)
        return [SendFrame(frame)] if frame is not None else []

    def _request_response(self) -> list[Action]:
        if self._responses.active:
            self._responses.pending = True
            return []
        self._responses.active = True
        return [SendFrame(self.codec.response_create())]

    def _handoff_requested(self, event: HandoffRequested) -> list[Action]:
        transcript = self._transcript.take() if self.codec.keeps_active_transcript else []
        actions: list[Action] = []
        ack = self.codec.steering_ack(event.handoff_id) if self._handoff is not None else None
        if ack is not None:
            # The earlier handoff stays the one that gets progress and the final answer; this
            # one is answered at once and its text steers the running task.
            actions.append(SendFrame(ack))
            actions.extend(self._request_response())
        else:
            self._handoff = _Handoff(event.handoff_id, self._turn_to_ride())
        item = {
            "type": "handoff_request",
            "handoff_id": event.handoff_id,
            "item_id": event.item_id,
            "input_transcript": event.input_transcript,
            "active_transcript": transcript,
        }
        actions.append(Notify(ITEM_ADDED, {"threadId": self.thread_id, "item": item}))
        if transcript:
            text = "\n".join(f"{entry['role']}: {entry['text']}" for entry in transcript)
        else:
            text = event.input_transcript
        if text:
            actions.append(Delegate(text))
        return actions

    def _turn_to_ride(self) -> str | None:
        """The turn a new handoff's text will land in: the running one, or (None) the next."""
        if self._is_turn_active is not None and not self._is_turn_active():
            # The thread will start a new turn; a completion still on its way for the old
            # one must not clear this handoff.
            return None
        return self._turn_id

    # -- thread events --------------------------------------------------------------------

    def thread_event(self, method: str, params: dict[str, Any]) -> list[Action]:
        """A notification the thread emitted; only turn and agent-message events matter."""
        if method == "turn/started":
            turn = params.get("turn")
            turn_id = turn.get("id") if isinstance(turn, dict) else None
            return self.turn_started(turn_id if isinstance(turn_id, str) else "")
        if method == "item/completed":
            item = params.get("item")
            if isinstance(item, dict) and item.get("type") == "fileChange":
                turn_id = params.get("turnId")
                return self.file_change_completed(turn_id if isinstance(turn_id, str) else "", item)
            if isinstance(item, dict) and item.get("type") == "agentMessage":
                text = item.get("text")
                turn_id = params.get("turnId")
                return self.agent_message_completed(
                    turn_id if isinstance(turn_id, str) else "",
                    text if isinstance(text, str) else "",
                )
            return []
        if method == "turn/completed":
            turn = params.get("turn")
            if not isinstance(turn, dict):
                return []
            turn_id, status = turn.get("id"), turn.get("status")
            return self.turn_completed(
                turn_id if isinstance(turn_id, str) else "",
                status if isinstance(status, str) else "",
            )
        return []

    def turn_started(self, turn_id: str) -> list[Action]:
        self._turn_id = turn_id
        self._last_agent_text = None
        if self._handoff is not None and self._handoff.turn_id is None:
            self._handoff.turn_id = turn_id
        return []

    def _rides_on(self, turn_id: str) -> bool:
        handoff = self._handoff
        return handoff is not None and handoff.turn_id in (turn_id, _UNSEEN_TURN)

    def agent_message_completed(self, turn_id: str, text: str) -> list[Action]:
        """An agent message finished; while a handoff rides on its turn it goes upstream."""
        if turn_id == self._turn_id or self._turn_id == _UNSEEN_TURN:
            self._last_agent_text = text
        if self._lifecycle.state is not SessionState.RUNNING or not self._rides_on(turn_id):
            return []
        assert self._handoff is not None
        return [SendFrame(self.codec.agent_message(self._handoff.handoff_id, text))]

    def file_change_completed(self, turn_id: str, item: dict[str, Any]) -> list[Action]:
        """A patch was applied in a handoff's turn: remember it for the final answer."""
        changes = item.get("changes")
        applied = item.get("status") == "completed" and isinstance(changes, list)
        if applied and self._rides_on(turn_id):
            assert self._handoff is not None and isinstance(changes, list)
            self._handoff.file_changes.extend(c for c in changes if isinstance(c, dict))
        return []

    def turn_completed(self, turn_id: str, status: str) -> list[Action]:
        """A turn ended; a handoff riding on it is answered (if it succeeded) and cleared."""
        last_text = self._last_agent_text
        if turn_id == self._turn_id or self._turn_id == _UNSEEN_TURN:
            self._turn_id = None
            self._last_agent_text = None
        if not self._rides_on(turn_id):
            return []
        assert self._handoff is not None
        handoff_id = self._handoff.handoff_id
        summary = summarize_file_changes(self._handoff.file_changes)
        self._handoff = None
        if self._lifecycle.state is not SessionState.RUNNING:
            return []
        if summary is not None:
            last_text = summary if last_text is None else f"{last_text}\n\n{summary}"
        if status != "completed" or last_text is None:
            return []
        final = self.codec.final_output(handoff_id, last_text)
        if final is None:
            # v1 answers nothing at the end (the agent's messages went up as they came): the
            # change summary goes up the same way.
            if summary is None:
                return []
            return [SendFrame(self.codec.agent_message(handoff_id, summary))]
        return [SendFrame(final), *self._request_response()]
