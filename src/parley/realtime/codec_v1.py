"""Realtime protocol v1 ("quicksilver"): session payloads, frames and event parsing.

v1 hands work to the background agent with `conversation.handoff.requested` and takes each
agent message back as `conversation.handoff.append`. It has no tools, no response queue and
no steering acknowledgement. Stateless; see `codec.RealtimeCodec` for the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from parley.realtime.codec import (
    AUDIO_FORMAT,
    FINAL_MESSAGE_PREFIX,
    RESPONSE_CREATE_FRAME,
    U16,
    U32,
    SessionSpec,
    as_str,
    as_uint,
    audio_append_frame,
    dumps,
    loads_object,
    parse_error,
    user_message_frame,
)
from parley.realtime.events import (
    HandoffRequested,
    ItemAdded,
    OutputAudio,
    TranscriptDelta,
    UpstreamEvent,
)

SESSION_TYPE: Final = "quicksilver"


def _audio(spec: SessionSpec) -> dict[str, Any]:
    return {"input": {"format": dict(AUDIO_FORMAT)}, "output": {"voice": spec.voice}}


class V1Codec:
    """The v1 wire format; v1 sessions are always conversational."""

    version: Final = "v1"
    url_intent: Final = "quicksilver"
    keeps_active_transcript: Final = True

    def session_update(self, spec: SessionSpec) -> bytes:
        session = {"type": SESSION_TYPE, "instructions": spec.instructions, "audio": _audio(spec)}
        return dumps({"type": "session.update", "session": session})

    def call_session(self, spec: SessionSpec) -> bytes:
        # Literal key order expected byte-for-byte by the call-create endpoint's clients.
        return dumps(
            {
                "audio": _audio(spec),
                "type": SESSION_TYPE,
                "model": spec.model,
                "instructions": spec.instructions,
            }
        )

    def audio_append(self, data: str) -> bytes:
        return audio_append_frame(data)

    def user_text(self, text: str) -> bytes:
        return user_message_frame("text", text)

    def agent_message(self, handoff_id: str, text: str) -> bytes:
        return dumps(
            {
                "type": "conversation.handoff.append",
                "handoff_id": handoff_id,
                "output_text": FINAL_MESSAGE_PREFIX + text,
            }
        )

    def final_output(self, handoff_id: str, text: str) -> bytes | None:
        return None

    def steering_ack(self, handoff_id: str) -> bytes | None:
        return None

    def response_create(self) -> bytes:
        return RESPONSE_CREATE_FRAME

    def truncate(self, item_id: str, audio_end_ms: int) -> bytes | None:
        return None  # v1 reports no speech start, so there is no barge-in to truncate for

    def parse(self, raw: str | bytes) -> list[UpstreamEvent]:
        loaded = loads_object(raw)
        if loaded is None:
            return []
        payload, kind = loaded
        event = _PARSERS.get(kind)
        if event is None:
            return []
        parsed = event(payload)
        return [parsed] if parsed is not None else []


def _output_audio(payload: dict[str, Any]) -> UpstreamEvent | None:
    data = as_str(payload.get("delta"))
    if data is None:
        data = as_str(payload.get("data"))
    sample_rate = as_uint(payload.get("sample_rate"), U32)
    channels = payload.get("channels", payload.get("num_channels"))
    num_channels = as_uint(channels, U16)
    # v1 gives no defaults: a chunk without its format cannot be played, so it is dropped.
    if data is None or sample_rate is None or num_channels is None:
        return None
    return OutputAudio(
        data=data,
        sample_rate=sample_rate,
        num_channels=num_channels,
        samples_per_channel=as_uint(payload.get("samples_per_channel"), U32),
        item_id=None,
    )


def _user_transcript(payload: dict[str, Any]) -> UpstreamEvent | None:
    delta = as_str(payload.get("delta"))
    return TranscriptDelta("user", delta) if delta is not None else None


def _assistant_transcript(payload: dict[str, Any]) -> UpstreamEvent | None:
    delta = as_str(payload.get("delta"))
    return TranscriptDelta("assistant", delta) if delta is not None else None


def _item_added(payload: dict[str, Any]) -> UpstreamEvent | None:
    return ItemAdded(payload["item"]) if "item" in payload else None


def _handoff(payload: dict[str, Any]) -> UpstreamEvent | None:
    handoff_id = as_str(payload.get("handoff_id"))
    item_id = as_str(payload.get("item_id"))
    transcript = as_str(payload.get("input_transcript"))
    if handoff_id is None or item_id is None or transcript is None:
        return None
    return HandoffRequested(handoff_id, item_id, transcript)


_PARSERS: Final[dict[str, Callable[[dict[str, Any]], UpstreamEvent | None]]] = {
    "conversation.output_audio.delta": _output_audio,
    "conversation.input_transcript.delta": _user_transcript,
    "conversation.output_transcript.delta": _assistant_transcript,
    "conversation.item.added": _item_added,
    "conversation.handoff.requested": _handoff,
    "error": parse_error,
}
