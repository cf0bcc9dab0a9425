"""The simulated voice model: a deterministic state machine behind one realtime connection.

`VoiceModel` is sans-IO. Feed it client frames (`receive`) and it returns server events; a
spoken response is produced step by step (`next_stream_step`), each step saying how much
audio it carries so the I/O layer can pace it like a real-time voice and a user can barge in.

Policy (what the "model" does), identical for v1 and v2 except for the wire spelling:

* A user utterance (server VAD on `input_audio_buffer.append`, or a manual
  `input_audio_buffer.commit`) is transcribed by decoding `audio.synthesize_speech`'s code;
  other audio is "(unintelligible speech, N.N s)". With `create_response` (the default) the
  model then responds at once: intelligible speech is delegated to the background agent (v2
  `background_agent` function call, v1 `conversation.handoff.requested`); unintelligible
  speech gets a short spoken "Sorry, I didn't catch that...".
* A user text item (`conversation.item.create`) is treated like an utterance and delegated
  at once, because Parley's `appendText` is append-only and never sends `response.create`
  (`VoiceModelConfig.respond_to_text=False` turns this off; the text then waits for a
  `response.create`). Progress items (text ending in "Update from background agent (task
  hasn't finished yet):") are acknowledged as items but never answered.
* v2: a `function_call_output` is remembered; the next `response.create` speaks it (the
  `"Agent Final Message":` prefix stripped; the steering acknowledgement becomes "Okay, I've
  passed that on to the agent."). v1: every `conversation.handoff.append` is spoken.
* `response.create` with nothing new to answer produces an empty completed response.
* One response at a time: requests arriving while one is streaming are queued (the real API
  would send an error, which would end Parley's session).
* Barge-in: speech starting while a response streams (`interrupt_response`, default on)
  cancels it (`conversation.item.truncated`, `response.cancelled`, `response.done` with status
  `cancelled`) and drops queued responses; `response.cancel` does the same without dropping.
* `session.type == "transcription"`: speech is transcribed, nothing is ever answered.
"""

from __future__ import annotations

import base64
import copy
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import orjson

from parley.simulator.audio import MS_PER_CHAR, SAMPLE_RATE, decode_speech, synthesize_voice
from parley.simulator.realtime_wire import (
    Event,
    RealtimeWire,
    V1Wire,
    V2Wire,
    realtime_usage,
    user_item_text,
)
from parley.simulator.vad import SpeechDetector, SpeechStarted, SpeechStopped, VadSettings

FINAL_MESSAGE_PREFIX: Final = '"Agent Final Message":\n\n'
PROGRESS_SUFFIX: Final = "Update from background agent (task hasn't finished yet):"
STEERING_ACKNOWLEDGEMENT: Final = "This was sent to steer the previous background agent task."
STEERING_REPLY: Final = "Okay, I've passed that on to the agent."
NOT_UNDERSTOOD_REPLY: Final = "Sorry, I didn't catch that. Could you say it again?"
EMPTY_RESULT_REPLY: Final = "The agent finished, but it had nothing to report."

Version = Literal["v1", "v2"]


@dataclass(frozen=True, slots=True)
class VoiceModelConfig:
    """Knobs of the simulated voice model (the defaults suit Parley's demo)."""

    ms_per_char: float = MS_PER_CHAR  # how long the assistant takes to say one character
    chunk_ms: int = 100  # audio per `output_audio.delta`
    respond_to_text: bool = True
    # Word-by-word user transcript deltas before v2's `…transcription.completed` (as
    # gpt-4o-transcribe does). Off: v2 sends only the completion, v1 one whole-text delta.
    input_transcript_deltas: bool = True
    vad: VadSettings = field(default_factory=VadSettings)


@dataclass(frozen=True, slots=True)
class StreamStep:
    """Events to send now; `audio_ms` is how long their audio plays before the next step."""

    events: tuple[Event, ...]
    audio_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class _Delegate:
    prompt: str
    source_item_id: str


@dataclass(frozen=True, slots=True)
class _Speak:
    text: str


@dataclass(frozen=True, slots=True)
class _Create:
    """A client `response.create`: decided when it starts, from what is new by then."""


_Job = _Delegate | _Speak | _Create


@dataclass(slots=True)
class _Speech:
    response_id: str
    item_id: str
    text: str
    transcript: str = ""
    audio_ms: float = 0.0
    steps: Iterator[StreamStep] | None = None


def spoken_text_of_output(output: str) -> str:
    """What the voice model says for a background-agent result."""
    text = output.removeprefix(FINAL_MESSAGE_PREFIX).strip()
    if text == STEERING_ACKNOWLEDGEMENT:
        return STEERING_REPLY
    return text or EMPTY_RESULT_REPLY


def is_progress_update(text: str) -> bool:
    """Whether a user text item is Parley's background-agent progress report."""
    return text.rstrip().endswith(PROGRESS_SUFFIX)


def unintelligible(duration_ms: float) -> str:
    """The transcript of speech that carries no decodable text."""
    return f"(unintelligible speech, {duration_ms / 1000:.1f} s)"


def transcript_pieces(text: str) -> list[str]:
    """Word-sized deltas whose concatenation is exactly `text`."""
    pieces = re.findall(r"\s*\S+\s*", text)
    return pieces or ([text] if text else [])


class VoiceModel:
    """One simulated realtime conversation (v1 or v2): frames in, server events out."""

    def __init__(
        self,
        version: Version,
        *,
        model: str = "gpt-realtime-1.5",
        session: dict[str, Any] | None = None,
        config: VoiceModelConfig | None = None,
        session_id: str = "sess_sim1",
    ) -> None:
        self.version = version
        self.config = config or VoiceModelConfig()
        self._wire: RealtimeWire = V2Wire() if version == "v2" else V1Wire()
        self._counters: dict[str, int] = {}
        self.session = self._wire.default_session(session_id, model)
        if session:
            _merge(self.session, session)
        self._detector = SpeechDetector(self.config.vad)
        self._apply_turn_detection()
        self._last_item_id: str | None = None
        self._speech_item_id: str | None = None
        self._active: _Speech | None = None
        self._queue: deque[_Job] = deque()
        self._outputs: list[str] = []  # function outputs not yet spoken
        self._unanswered: tuple[str, str] | None = None  # (text, item id) awaiting a response
        self.transcripts: list[str] = []  # every user transcript, for tests and logs

    # --- inputs -------------------------------------------------------------------------------

    def start(self) -> list[Event]:
        """Events sent as soon as the connection opens."""
        return self._stamp([{"type": "session.created", "session": copy.deepcopy(self.session)}])

    def receive(self, frame: str | bytes) -> list[Event]:
        """Handle one client frame."""
        try:
            event = orjson.loads(frame)
        except orjson.JSONDecodeError:
            return self._stamp([_error("invalid_json", "The frame is not valid JSON.")])
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return self._stamp([_error("invalid_event", "Events are objects with a 'type'.")])
        handler = _HANDLERS.get(event["type"])
        if handler is None:
            message = f"Invalid value: '{event['type']}'. This event type is not supported."
            return self._stamp([_error("unknown_event_type", message, event.get("event_id"))])
        return self._stamp(handler(self, event))

    @property
    def should_close(self) -> bool:
        """The voice model never ends a conversation by itself."""
        return False

    @property
    def streaming(self) -> bool:
        """Whether `next_stream_step` has something to produce."""
        return self._active is not None or bool(self._queue)

    def next_stream_step(self) -> StreamStep | None:
        """The next paced piece of the current response, or None when nothing is pending."""
        while True:
            speech = self._active
            if speech is not None and speech.steps is not None:
                step = next(speech.steps, None)
                if step is not None:
                    return StreamStep(tuple(self._stamp(list(step.events))), step.audio_ms)
                self._active = None
            if not self._queue:
                return None
            events = self._start(self._queue.popleft())
            if events:
                return StreamStep(tuple(self._stamp(events)))

    # --- client event handlers ---------------------------------------------------------------

    def _on_session_update(self, event: dict[str, Any]) -> list[Event]:
        session = event.get("session")
        if isinstance(session, dict):
            _merge(self.session, session)
            self._apply_turn_detection()
        return [{"type": "session.updated", "session": copy.deepcopy(self.session)}]

    def _on_audio_append(self, event: dict[str, Any]) -> list[Event]:
        try:
            audio = base64.b64decode(str(event.get("audio", "")), validate=True)
        except ValueError:
            return [_error("invalid_audio", "'audio' is not valid base64.", event.get("event_id"))]
        out: list[Event] = []
        for vad_event in self._detector.feed(audio, detect=self._auto_turns):
            if isinstance(vad_event, SpeechStarted):
                out.extend(self._speech_started(vad_event))
            else:
                out.extend(self._speech_stopped(vad_event))
        return out

    def _on_audio_commit(self, event: dict[str, Any]) -> list[Event]:
        audio = self._detector.take_buffer()
        if not audio:
            return [_error("input_audio_buffer_commit_empty", "The buffer is empty.")]
        item_id = self._speech_item_id or self._next("item")
        self._speech_item_id = None
        duration = len(audio) * 500 / SAMPLE_RATE  # bytes → ms
        return self._utterance(item_id, audio, duration)

    def _on_audio_clear(self, event: dict[str, Any]) -> list[Event]:
        self._detector.clear()
        self._speech_item_id = None
        return [{"type": "input_audio_buffer.cleared"}]

    def _on_item_create(self, event: dict[str, Any]) -> list[Event]:
        item = event.get("item")
        if not isinstance(item, dict):
            return [_error("invalid_item", "'item' must be an object.", event.get("event_id"))]
        item = {"id": self._next("item"), "object": "realtime.item", **item}
        previous, self._last_item_id = self._last_item_id, str(item["id"])
        out = self._wire.item_created(item, previous)
        kind = item.get("type", "message")
        if kind == "function_call_output":
            self._outputs.append(str(item.get("output", "")))
        elif kind == "message" and item.get("role") == "user":
            text = user_item_text(item)
            if is_progress_update(text) or not self._conversational or not text.strip():
                return out
            if self.config.respond_to_text:
                out.extend(self._submit(_Delegate(text, str(item["id"]))))
            else:
                self._unanswered = (text, str(item["id"]))
        return out

    def _on_response_create(self, event: dict[str, Any]) -> list[Event]:
        return self._submit(_Create())

    def _on_response_cancel(self, event: dict[str, Any]) -> list[Event]:
        return self._cancel("client_cancelled")

    def _on_handoff_append(self, event: dict[str, Any]) -> list[Event]:
        text = spoken_text_of_output(str(event.get("output_text", "")))
        return self._submit(_Speak(text))

    def _on_item_truncate(self, event: dict[str, Any]) -> list[Event]:
        return [
            {
                "type": "conversation.item.truncated",
                "item_id": event.get("item_id"),
                "content_index": event.get("content_index", 0),
                "audio_end_ms": event.get("audio_end_ms", 0),
            }
        ]

    def _on_item_delete(self, event: dict[str, Any]) -> list[Event]:
        return [{"type": "conversation.item.deleted", "item_id": event.get("item_id")}]

    def _on_output_audio_clear(self, event: dict[str, Any]) -> list[Event]:
        return [*self._cancel("client_cancelled"), {"type": "output_audio_buffer.cleared"}]

    def _on_ignored(self, event: dict[str, Any]) -> list[Event]:
        return []

    # --- speech -------------------------------------------------------------------------------

    def _speech_started(self, started: SpeechStarted) -> list[Event]:
        self._speech_item_id = self._next("item")
        out: list[Event] = [
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": started.audio_start_ms,
                "item_id": self._speech_item_id,
            }
        ]
        if self._interrupt_response and self._active is not None:
            self._queue.clear()
            out.extend(self._cancel("turn_detected"))
        return out

    def _speech_stopped(self, stopped: SpeechStopped) -> list[Event]:
        item_id = self._speech_item_id or self._next("item")
        self._speech_item_id = None
        out: list[Event] = [
            {
                "type": "input_audio_buffer.speech_stopped",
                "audio_end_ms": stopped.audio_end_ms,
                "item_id": item_id,
            }
        ]
        duration = stopped.audio_end_ms - stopped.audio_start_ms
        out.extend(self._utterance(item_id, stopped.audio, duration))
        return out

    def _utterance(self, item_id: str, audio: bytes, duration_ms: float) -> list[Event]:
        previous, self._last_item_id = self._last_item_id, item_id
        text = decode_speech(audio)
        transcript = text if text is not None else unintelligible(duration_ms)
        self.transcripts.append(transcript)
        out = self._wire.audio_committed(item_id, previous)
        pieces = transcript_pieces(transcript) if self.config.input_transcript_deltas else []
        out.extend(self._wire.input_transcript(item_id, transcript, pieces))
        if not self._conversational:
            return out
        job: _Job = (
            _Delegate(text, item_id) if text and text.strip() else _Speak(NOT_UNDERSTOOD_REPLY)
        )
        if self._create_response:
            out.extend(self._submit(job))
        elif isinstance(job, _Delegate):
            self._unanswered = (job.prompt, item_id)
        return out

    # --- responses ----------------------------------------------------------------------------

    def _submit(self, job: _Job) -> list[Event]:
        if self._active is not None or self._queue:
            self._queue.append(job)
            return []
        return self._start(job)

    def _start(self, job: _Job) -> list[Event]:
        if isinstance(job, _Create):
            if self._outputs:
                text = " ".join(spoken_text_of_output(o) for o in self._outputs)
                self._outputs.clear()
                job = _Speak(text)
            elif self._unanswered is not None:
                job = _Delegate(*self._unanswered)
            else:
                usage = realtime_usage(input_text="", output_text="", output_audio_ms=0)
                return self._wire.empty_response(self._next("resp"), usage)
        if isinstance(job, _Delegate):
            self._unanswered = None
            return self._wire.delegation(
                response_id=self._next("resp"),
                item_id=self._next("item"),
                call_id=self._next("call"),
                source_item_id=job.source_item_id,
                prompt=job.prompt,
            )
        speech = _Speech(self._next("resp"), self._next("item"), job.text.strip())
        self._last_item_id = speech.item_id
        speech.steps = self._speech_steps(speech)
        self._active = speech
        return self._wire.speech_opened(speech.response_id, speech.item_id, audio=self._audio_out)

    def _speech_steps(self, speech: _Speech) -> Iterator[StreamStep]:
        wire, audio_out = self._wire, self._audio_out
        chunk_bytes = max(2, 2 * SAMPLE_RATE * self.config.chunk_ms // 1000)
        for index, piece in enumerate(transcript_pieces(speech.text)):
            speech.transcript += piece
            if not audio_out:
                step_ms = len(piece) * self.config.ms_per_char
                speech.audio_ms += step_ms
                events = wire.speech_piece(
                    speech.response_id,
                    speech.item_id,
                    transcript_delta=piece,
                    audio_b64=None,
                    samples=0,
                    audio=False,
                )
                yield StreamStep(tuple(events), step_ms)
                continue
            pcm = synthesize_voice(piece, ms_per_char=self.config.ms_per_char, word_index=index)
            delta: str | None = piece
            for offset in range(0, max(len(pcm), 1), chunk_bytes):
                chunk = pcm[offset : offset + chunk_bytes]
                chunk_ms = len(chunk) * 500 / SAMPLE_RATE
                speech.audio_ms += chunk_ms
                events = wire.speech_piece(
                    speech.response_id,
                    speech.item_id,
                    transcript_delta=delta,
                    audio_b64=base64.b64encode(chunk).decode() if chunk else None,
                    samples=len(chunk) // 2,
                    audio=True,
                )
                delta = None
                yield StreamStep(tuple(events), chunk_ms)
        usage = realtime_usage(
            input_text="", output_text=speech.transcript, output_audio_ms=speech.audio_ms
        )
        closed = wire.speech_closed(
            speech.response_id, speech.item_id, speech.transcript, usage, audio=audio_out
        )
        # Finished as of this step: speech starting after it must not cancel anything.
        if self._active is speech:
            self._active = None
        yield StreamStep(tuple(closed))

    def _cancel(self, reason: str) -> list[Event]:
        speech, self._active = self._active, None
        if speech is None:
            return []
        usage = realtime_usage(
            input_text="", output_text=speech.transcript, output_audio_ms=speech.audio_ms
        )
        return self._wire.speech_cancelled(
            speech.response_id,
            speech.item_id,
            speech.transcript,
            int(speech.audio_ms),
            reason,
            usage,
        )

    # --- session-derived settings -------------------------------------------------------------

    @property
    def _conversational(self) -> bool:
        return self.session.get("type") != "transcription"

    @property
    def _audio_out(self) -> bool:
        modalities = self.session.get("output_modalities")
        return not isinstance(modalities, list) or "audio" in modalities

    def _turn_detection(self) -> dict[str, Any] | None:
        audio = self.session.get("audio")
        audio_in = audio.get("input") if isinstance(audio, dict) else None
        if isinstance(audio_in, dict) and "turn_detection" in audio_in:
            value = audio_in["turn_detection"]
            return value if isinstance(value, dict) else None
        return {}  # not configured: server VAD with defaults

    def _apply_turn_detection(self) -> None:
        detection = self._turn_detection()
        self._auto_turns = detection is not None
        detection = detection or {}
        self._create_response = detection.get("create_response", True) is not False
        self._interrupt_response = detection.get("interrupt_response", True) is not False
        base = self.config.vad
        padding = detection.get("prefix_padding_ms", base.prefix_padding_ms)
        silence = detection.get("silence_duration_ms", base.silence_duration_ms)
        self._detector.settings = VadSettings(
            threshold=base.threshold,
            prefix_padding_ms=padding if isinstance(padding, int) else base.prefix_padding_ms,
            silence_duration_ms=silence if isinstance(silence, int) else base.silence_duration_ms,
            min_speech_ms=base.min_speech_ms,
        )

    # --- ids ----------------------------------------------------------------------------------

    def _next(self, prefix: str) -> str:
        count = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = count
        return f"{prefix}_sim{count}"

    def _stamp(self, events: list[Event]) -> list[Event]:
        return [{"type": e["type"], "event_id": self._next("event"), **e} for e in events]


def _error(code: str, message: str, event_id: Any = None) -> Event:
    return {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "code": code,
            "message": message,
            "param": None,
            "event_id": event_id,
        },
    }


def _merge(target: dict[str, Any], update: dict[str, Any]) -> None:
    """Deep-merge a session update: objects merge key by key, anything else replaces."""
    for key, value in update.items():
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            _merge(current, value)
        else:
            target[key] = copy.deepcopy(value)


_HANDLERS: Final = {
    "session.update": VoiceModel._on_session_update,
    "input_audio_buffer.append": VoiceModel._on_audio_append,
    "input_audio_buffer.commit": VoiceModel._on_audio_commit,
    "input_audio_buffer.clear": VoiceModel._on_audio_clear,
    "conversation.item.create": VoiceModel._on_item_create,
    "conversation.item.truncate": VoiceModel._on_item_truncate,
    "conversation.item.delete": VoiceModel._on_item_delete,
    "conversation.item.retrieve": VoiceModel._on_ignored,
    "conversation.handoff.append": VoiceModel._on_handoff_append,
    "response.create": VoiceModel._on_response_create,
    "response.cancel": VoiceModel._on_response_cancel,
    "output_audio_buffer.clear": VoiceModel._on_output_audio_clear,
}
