"""Realtime protocol v2 (the GA Realtime API): session payloads, frames and event parsing.

v2 hands work to the background agent through the `background_agent` function tool and takes
the result back as a `function_call_output`; progress goes in as user text. Stateless; see
`codec.RealtimeCodec` for the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import orjson

from parley.realtime.codec import (
    AUDIO_FORMAT,
    FINAL_MESSAGE_PREFIX,
    PROGRESS_SUFFIX,
    RESPONSE_CREATE_FRAME,
    STEERING_ACKNOWLEDGEMENT,
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
    ResponseFinished,
    ResponseStarted,
    SpeechStarted,
    TranscriptDelta,
    TranscriptRole,
    UpstreamEvent,
)

BACKGROUND_AGENT_TOOL_NAME: Final = "background_agent"
DEFAULT_SAMPLE_RATE: Final = 24000
DEFAULT_CHANNELS: Final = 1
# Argument keys that may carry the delegated request, in order of preference.
_ARGUMENT_KEYS: Final = ("input_transcript", "prompt")

BACKGROUND_AGENT_TOOL: Final[dict[str, Any]] = {
    "type": "function",
    "name": BACKGROUND_AGENT_TOOL_NAME,
    "description": (
        "Send a user request to the background agent. Use this as the default action. "
        "If the background agent is idle, this starts a new task and returns the final "
        "result to the user. If the background agent is already working on a task, this "
        "sends the request as guidance to steer that previous task. If the user asks to do "
        "something next, later, after this, or once current work finishes, call this tool "
        "so the work is actually queued instead of merely promising to do it later."
    ),
    "parameters": {
        "type": "object",
        "properties": {
            "prompt": {
                "type": "string",
                "description": "The user request to delegate to the background agent.",
            }
        },
        "required": ["prompt"],
        "additionalProperties": False,
    },
}


def _conversational_audio(spec: SessionSpec) -> dict[str, Any]:
    return {
        "input": {
            "format": dict(AUDIO_FORMAT),
            "noise_reduction": {"type": "near_field"},
            "turn_detection": {
                "type": "server_vad",
                "interrupt_response": True,
                "create_response": True,
            },
        },
        "output": {"format": dict(AUDIO_FORMAT), "voice": spec.voice},
    }


def _transcription_audio() -> dict[str, Any]:
    return {"input": {"format": dict(AUDIO_FORMAT)}}


class V2Codec:
    """The v2 wire format, conversational or transcription-only."""

    version: Final = "v2"
    url_intent: Final = None
    keeps_active_transcript: Final = False

    def session_update(self, spec: SessionSpec) -> bytes:
        session: dict[str, Any]
        if spec.session_type == "transcription":
            session = {"type": "transcription", "audio": _transcription_audio()}
        else:
            session = {
                "type": "realtime",
                "instructions": spec.instructions,
                "output_modalities": ["audio"],
                "audio": _conversational_audio(spec),
                "tools": [BACKGROUND_AGENT_TOOL],
                "tool_choice": "auto",
            }
        return dumps({"type": "session.update", "session": session})

    def call_session(self, spec: SessionSpec) -> bytes:
        # Literal key orders, compared byte-for-byte by clients of the call-create endpoint.
        if spec.session_type == "transcription":
            return dumps(
                {"audio": _transcription_audio(), "type": "transcription", "model": spec.model}
            )
        return dumps(
            {
                "tool_choice": "auto",
                "type": "realtime",
                "model": spec.model,
                "instructions": spec.instructions,
                "output_modalities": ["audio"],
                "audio": _conversational_audio(spec),
                "tools": [BACKGROUND_AGENT_TOOL],
            }
        )

    def audio_append(self, data: str) -> bytes:
        return audio_append_frame(data)

    def user_text(self, text: str) -> bytes:
        return user_message_frame("input_text", text)

    def agent_message(self, handoff_id: str, text: str) -> bytes:
        # Progress is user-role text so the realtime model can narrate it; the call id is
        # answered only once, by `final_output`.
        return user_message_frame("input_text", text + PROGRESS_SUFFIX)

    def final_output(self, handoff_id: str, text: str) -> bytes | None:
        return _function_call_output(handoff_id, FINAL_MESSAGE_PREFIX + text)

    def steering_ack(self, handoff_id: str) -> bytes | None:
        return _function_call_output(handoff_id, FINAL_MESSAGE_PREFIX + STEERING_ACKNOWLEDGEMENT)

    def response_create(self) -> bytes:
        return RESPONSE_CREATE_FRAME

    def truncate(self, item_id: str, audio_end_ms: int) -> bytes | None:
        return dumps(
            {
                "type": "conversation.item.truncate",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": audio_end_ms,
            }
        )

    def parse(self, raw: str | bytes) -> list[UpstreamEvent]:
        loaded = loads_object(raw)
        if loaded is None:
            return []
        payload, kind = loaded
        parser = _PARSERS.get(kind)
        return parser(payload) if parser is not None else []


def _function_call_output(call_id: str, output: str) -> bytes:
    return dumps(
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": call_id, "output": output},
        }
    )


def _response_id(payload: dict[str, Any]) -> str | None:
    response = payload.get("response")
    if isinstance(response, dict):
        response_id = as_str(response.get("id"))
        if response_id is not None:
            return response_id
    return as_str(payload.get("response_id"))


def _output_audio(payload: dict[str, Any]) -> list[UpstreamEvent]:
    data = as_str(payload.get("delta"))
    if data is None:
        return []
    sample_rate = as_uint(payload.get("sample_rate"), U32)
    channels = as_uint(payload.get("channels", payload.get("num_channels")), U16)
    return [
        OutputAudio(
            data=data,
            sample_rate=DEFAULT_SAMPLE_RATE if sample_rate is None else sample_rate,
            num_channels=DEFAULT_CHANNELS if channels is None else channels,
            samples_per_channel=as_uint(payload.get("samples_per_channel"), U32),
            item_id=as_str(payload.get("item_id")),
        )
    ]


def _transcript(
    role: TranscriptRole, field: str
) -> Callable[[dict[str, Any]], list[UpstreamEvent]]:
    def parse(payload: dict[str, Any]) -> list[UpstreamEvent]:
        text = as_str(payload.get(field))
        return [TranscriptDelta(role, text)] if text is not None else []

    return parse


def _item_added(payload: dict[str, Any]) -> list[UpstreamEvent]:
    return [ItemAdded(payload["item"])] if "item" in payload else []


def extract_input_transcript(arguments: str) -> str:
    """The delegated request from the tool arguments; the raw arguments if none is usable."""
    try:
        parsed = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return arguments
    if isinstance(parsed, dict):
        for key in _ARGUMENT_KEYS:
            value = parsed.get(key)
            if isinstance(value, str) and value.strip():
                return value
    return arguments


def _item_done(payload: dict[str, Any]) -> list[UpstreamEvent]:
    item = payload.get("item")
    if not isinstance(item, dict):
        return []
    if item.get("type") != "function_call" or item.get("name") != BACKGROUND_AGENT_TOOL_NAME:
        return []
    item_id = as_str(item.get("id"))
    call_id = as_str(item.get("call_id")) or item_id
    if call_id is None:
        return []
    arguments = as_str(item.get("arguments")) or ""
    return [HandoffRequested(call_id, item_id or call_id, extract_input_transcript(arguments))]


def _speech_started(payload: dict[str, Any]) -> list[UpstreamEvent]:
    item_id = as_str(payload.get("item_id"))
    marker = {"type": "input_audio_buffer.speech_started", "item_id": item_id}
    return [ItemAdded(marker), SpeechStarted(item_id)]


def _response_created(payload: dict[str, Any]) -> list[UpstreamEvent]:
    return [ResponseStarted(_response_id(payload))]


def _response_done(payload: dict[str, Any]) -> list[UpstreamEvent]:
    return [ResponseFinished(_response_id(payload))]


def _response_cancelled(payload: dict[str, Any]) -> list[UpstreamEvent]:
    response_id = _response_id(payload)
    marker = {"type": "response.cancelled", "response_id": response_id}
    return [ItemAdded(marker), ResponseFinished(response_id)]


def _error(payload: dict[str, Any]) -> list[UpstreamEvent]:
    error = parse_error(payload)
    return [error] if error is not None else []


_PARSERS: Final[dict[str, Callable[[dict[str, Any]], list[UpstreamEvent]]]] = {
    "response.output_audio.delta": _output_audio,
    "conversation.item.input_audio_transcription.delta": _transcript("user", "delta"),
    "conversation.item.input_audio_transcription.completed": _transcript("user", "transcript"),
    "response.output_text.delta": _transcript("assistant", "delta"),
    "response.output_audio_transcript.delta": _transcript("assistant", "delta"),
    "conversation.item.added": _item_added,
    "conversation.item.done": _item_done,
    "input_audio_buffer.speech_started": _speech_started,
    "response.created": _response_created,
    "response.done": _response_done,
    "response.cancelled": _response_cancelled,
    "error": _error,
}
