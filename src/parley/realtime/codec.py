"""The interface both realtime protocol codecs implement, and the pieces they share.

A codec knows the wire: how a session is described, which frames carry audio, text and
background-agent output, and how upstream frames become typed events. It keeps no state and
does no I/O; the bridge decides *when* to use which frame, never *how* a version spells it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Protocol

import orjson

from parley.realtime.events import UpstreamError, UpstreamEvent

FINAL_MESSAGE_PREFIX: Final = '"Agent Final Message":\n\n'
PROGRESS_SUFFIX: Final = "\n\nUpdate from background agent (task hasn't finished yet):"
STEERING_ACKNOWLEDGEMENT: Final = "This was sent to steer the previous background agent task."
AUDIO_FORMAT: Final[dict[str, Any]] = {"type": "audio/pcm", "rate": 24000}


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """What one realtime session is configured with, independent of the wire version."""

    instructions: str
    voice: str
    model: str
    session_type: str = "conversational"  # or "transcription" (v2 only)


class RealtimeCodec(Protocol):
    """Frame builders and event parser for one Realtime API protocol version."""

    @property
    def version(self) -> str:
        """`"v1"` or `"v2"`, as reported in `thread/realtime/started`."""
        ...

    @property
    def url_intent(self) -> str | None:
        """The `intent` query value the WebSocket URL carries, if any."""
        ...

    @property
    def keeps_active_transcript(self) -> bool:
        """Whether handoff requests carry the transcript spoken since the previous one."""
        ...

    def session_update(self, spec: SessionSpec) -> bytes:
        """The first frame on every socket."""
        ...

    def call_session(self, spec: SessionSpec) -> bytes:
        """The session JSON for the WebRTC call-create form, byte-exact."""
        ...

    def audio_append(self, data: str) -> bytes:
        """Forward microphone audio (base64 PCM) verbatim."""
        ...

    def user_text(self, text: str) -> bytes:
        """A user text message appended to the conversation (no response requested)."""
        ...

    def agent_message(self, handoff_id: str, text: str) -> bytes:
        """Send one completed background-agent message while a handoff is active."""
        ...

    def final_output(self, handoff_id: str, text: str) -> bytes | None:
        """Answer the handoff when its turn completes, or None if the version has no answer."""
        ...

    def steering_ack(self, handoff_id: str) -> bytes | None:
        """Answer a handoff that steers an active one, or None if the version replaces it."""
        ...

    def response_create(self) -> bytes:
        """Ask the realtime model to respond."""
        ...

    def truncate(self, item_id: str, audio_end_ms: int) -> bytes | None:
        """Cut the model's audio item at what the user heard, or None if the version cannot."""
        ...

    def parse(self, raw: str | bytes) -> list[UpstreamEvent]:
        """Typed events for one upstream text frame; unknown or malformed frames give []."""
        ...


def dumps(value: Any) -> bytes:
    """Compact JSON, insertion-ordered keys, non-ASCII as UTF-8 (serde_json compatible)."""
    return orjson.dumps(value)


def loads_object(raw: str | bytes) -> tuple[dict[str, Any], str] | None:
    """An upstream frame as (object, type), or None when it is not a typed JSON object."""
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(parsed, dict):
        return None
    kind = parsed.get("type")
    if not isinstance(kind, str):
        return None
    return parsed, kind


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def as_uint(value: Any, limit: int) -> int | None:
    """A non-negative integer that fits below `limit`; booleans are not numbers here."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < limit:
        return value
    return None


U32: Final = 1 << 32
U16: Final = 1 << 16


def parse_error(payload: dict[str, Any]) -> UpstreamError | None:
    """The message of an upstream `error` event: top-level, then `error.message`, then `error`."""
    message = as_str(payload.get("message"))
    if message is None:
        error = payload.get("error")
        if isinstance(error, dict):
            message = as_str(error.get("message"))
        if message is None and "error" in payload:
            message = dumps(error).decode()
    return UpstreamError(message) if message is not None else None


def audio_append_frame(data: str) -> bytes:
    return dumps({"type": "input_audio_buffer.append", "audio": data})


def user_message_frame(content_type: str, text: str) -> bytes:
    return dumps(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": content_type, "text": text}],
            },
        }
    )


RESPONSE_CREATE_FRAME: Final = dumps({"type": "response.create"})


def codec_for(version: str) -> RealtimeCodec:
    """The codec for a configured protocol version (`"v1"` or `"v2"`)."""
    # Imported here because both codecs build on this module.
    from parley.realtime.codec_v1 import V1Codec
    from parley.realtime.codec_v2 import V2Codec

    if version == "v1":
        return V1Codec()
    if version == "v2":
        return V2Codec()
    raise ValueError(f"unknown realtime protocol version: {version}")
