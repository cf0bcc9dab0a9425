"""How the simulated Realtime API spells its server events, per protocol version.

v2 is the public Realtime API (`response.output_audio.delta`, `background_agent` function
calls); v1 ("quicksilver") uses `conversation.*` names and `conversation.handoff.requested`.
These classes only build event dicts (without `event_id`, which the caller stamps); what to
say and when is decided by `realtime_policy.VoiceModel`.
"""

from __future__ import annotations

import copy
from typing import Any, Final, Protocol

import orjson

from parley.simulator.audio import SAMPLE_RATE

Event = dict[str, Any]

BACKGROUND_AGENT_TOOL: Final = "background_agent"
AUDIO_FORMAT: Final[dict[str, Any]] = {"type": "audio/pcm", "rate": SAMPLE_RATE}


def user_item_text(item: dict[str, Any]) -> str:
    """The text of a user message item (`input_text` in v2, `text` in v1), parts concatenated."""
    content = item.get("content")
    if isinstance(content, str):
        return content
    parts: list[str] = []
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, dict) and isinstance(part.get("transcript"), str):
                parts.append(part["transcript"])
    return "".join(parts)


class RealtimeWire(Protocol):
    """Event builders for one Realtime API protocol version."""

    @property
    def version(self) -> str:
        """`"v1"` or `"v2"`."""
        ...

    def default_session(self, session_id: str, model: str) -> dict[str, Any]:
        """The session a new connection starts with."""
        ...

    def item_created(self, item: dict[str, Any], previous_item_id: str | None) -> list[Event]:
        """Acknowledge a client `conversation.item.create` (the item carries its new id)."""
        ...

    def audio_committed(self, item_id: str, previous_item_id: str | None) -> list[Event]:
        """A committed audio buffer became a user message item."""
        ...

    def input_transcript(self, item_id: str, transcript: str, pieces: list[str]) -> list[Event]:
        """The user's transcription: `pieces` as deltas, then a completion where the version
        has one (a version without one sends the whole transcript when `pieces` is empty)."""
        ...

    def delegation(
        self, *, response_id: str, item_id: str, call_id: str, source_item_id: str, prompt: str
    ) -> list[Event]:
        """Hand `prompt` to the background agent (v2 function call, v1 handoff request)."""
        ...

    def speech_opened(self, response_id: str, item_id: str, *, audio: bool) -> list[Event]:
        """A spoken (or, without audio, written) assistant response begins."""
        ...

    def speech_piece(
        self,
        response_id: str,
        item_id: str,
        *,
        transcript_delta: str | None,
        audio_b64: str | None,
        samples: int,
        audio: bool,
    ) -> list[Event]:
        """A transcript delta and/or an audio chunk of the response."""
        ...

    def speech_closed(
        self,
        response_id: str,
        item_id: str,
        transcript: str,
        usage: dict[str, Any],
        *,
        audio: bool,
    ) -> list[Event]:
        """The response finished normally."""
        ...

    def speech_cancelled(
        self,
        response_id: str,
        item_id: str,
        transcript: str,
        audio_end_ms: int,
        reason: str,
        usage: dict[str, Any],
    ) -> list[Event]:
        """The response was cut short (barge-in or `response.cancel`)."""
        ...

    def empty_response(self, response_id: str, usage: dict[str, Any]) -> list[Event]:
        """A response with nothing to say (a `response.create` with no new input)."""
        ...


def _response(
    response_id: str,
    status: str,
    output: list[Event],
    usage: dict[str, Any] | None = None,
    status_details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "object": "realtime.response",
        "id": response_id,
        "status": status,
        "status_details": status_details,
        "output": output,
        "usage": usage,
    }


class V2Wire:
    """The public Realtime API (GA, `type: realtime` sessions)."""

    version: Final = "v2"

    def default_session(self, session_id: str, model: str) -> dict[str, Any]:
        return {
            "type": "realtime",
            "object": "realtime.session",
            "id": session_id,
            "model": model,
            "output_modalities": ["audio"],
            "instructions": "",
            "tools": [],
            "tool_choice": "auto",
            "max_output_tokens": "inf",
            "audio": {
                "input": {
                    "format": dict(AUDIO_FORMAT),
                    "transcription": None,
                    "noise_reduction": None,
                    "turn_detection": {
                        "type": "server_vad",
                        "prefix_padding_ms": 300,
                        "silence_duration_ms": 500,
                        "create_response": True,
                        "interrupt_response": True,
                    },
                },
                "output": {"format": dict(AUDIO_FORMAT), "voice": "marin", "speed": 1.0},
            },
        }

    def item_created(self, item: dict[str, Any], previous_item_id: str | None) -> list[Event]:
        done = {**copy.deepcopy(item), "status": "completed"}
        return [
            {"type": "conversation.item.added", "previous_item_id": previous_item_id, "item": item},
            {"type": "conversation.item.done", "previous_item_id": previous_item_id, "item": done},
        ]

    def audio_committed(self, item_id: str, previous_item_id: str | None) -> list[Event]:
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        return [
            {
                "type": "input_audio_buffer.committed",
                "previous_item_id": previous_item_id,
                "item_id": item_id,
            },
            {"type": "conversation.item.added", "previous_item_id": previous_item_id, "item": item},
            {"type": "conversation.item.done", "previous_item_id": previous_item_id, "item": item},
        ]

    def input_transcript(self, item_id: str, transcript: str, pieces: list[str]) -> list[Event]:
        events: list[Event] = [
            {
                "type": "conversation.item.input_audio_transcription.delta",
                "item_id": item_id,
                "content_index": 0,
                "delta": piece,
            }
            for piece in pieces
        ]
        events.append(
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": item_id,
                "content_index": 0,
                "transcript": transcript,
            }
        )
        return events

    def delegation(
        self, *, response_id: str, item_id: str, call_id: str, source_item_id: str, prompt: str
    ) -> list[Event]:
        arguments = orjson.dumps({"prompt": prompt}).decode()
        pending = {
            "id": item_id,
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "name": BACKGROUND_AGENT_TOOL,
            "call_id": call_id,
            "arguments": "",
        }
        done = {**pending, "status": "completed", "arguments": arguments}
        where = {"response_id": response_id, "output_index": 0}
        return [
            {"type": "response.created", "response": _response(response_id, "in_progress", [])},
            {"type": "response.output_item.added", **where, "item": pending},
            {
                "type": "conversation.item.added",
                "previous_item_id": source_item_id,
                "item": pending,
            },
            {
                "type": "response.function_call_arguments.delta",
                **where,
                "item_id": item_id,
                "call_id": call_id,
                "delta": arguments,
            },
            {
                "type": "response.function_call_arguments.done",
                **where,
                "item_id": item_id,
                "call_id": call_id,
                "name": BACKGROUND_AGENT_TOOL,
                "arguments": arguments,
            },
            {"type": "conversation.item.done", "previous_item_id": source_item_id, "item": done},
            {"type": "response.output_item.done", **where, "item": done},
            {
                "type": "response.done",
                "response": _response(response_id, "completed", [done], _delegation_usage(prompt)),
            },
        ]

    def speech_opened(self, response_id: str, item_id: str, *, audio: bool) -> list[Event]:
        item = _assistant_item(item_id, "in_progress", [])
        where = {"response_id": response_id, "item_id": item_id, "output_index": 0}
        part = {"type": "audio", "transcript": ""} if audio else {"type": "text", "text": ""}
        return [
            {"type": "response.created", "response": _response(response_id, "in_progress", [])},
            {
                "type": "response.output_item.added",
                "response_id": response_id,
                "output_index": 0,
                "item": item,
            },
            {"type": "conversation.item.added", "previous_item_id": None, "item": item},
            {"type": "response.content_part.added", **where, "content_index": 0, "part": part},
        ]

    def speech_piece(
        self,
        response_id: str,
        item_id: str,
        *,
        transcript_delta: str | None,
        audio_b64: str | None,
        samples: int,
        audio: bool,
    ) -> list[Event]:
        where = {
            "response_id": response_id,
            "item_id": item_id,
            "output_index": 0,
            "content_index": 0,
        }
        events: list[Event] = []
        if transcript_delta is not None:
            kind = (
                "response.output_audio_transcript.delta" if audio else "response.output_text.delta"
            )
            events.append({"type": kind, **where, "delta": transcript_delta})
        if audio_b64 is not None:
            events.append(
                {
                    "type": "response.output_audio.delta",
                    **where,
                    "delta": audio_b64,
                    "sample_rate": SAMPLE_RATE,
                    "channels": 1,
                    "samples_per_channel": samples,
                }
            )
        return events

    def speech_closed(
        self,
        response_id: str,
        item_id: str,
        transcript: str,
        usage: dict[str, Any],
        *,
        audio: bool,
    ) -> list[Event]:
        where = {
            "response_id": response_id,
            "item_id": item_id,
            "output_index": 0,
            "content_index": 0,
        }
        if audio:
            part: dict[str, Any] = {"type": "output_audio", "transcript": transcript}
            ends: list[Event] = [
                {"type": "response.output_audio.done", **where},
                {
                    "type": "response.output_audio_transcript.done",
                    **where,
                    "transcript": transcript,
                },
            ]
        else:
            part = {"type": "output_text", "text": transcript}
            ends = [{"type": "response.output_text.done", **where, "text": transcript}]
        item = _assistant_item(item_id, "completed", [part])
        return [
            *ends,
            {"type": "response.content_part.done", **where, "part": part},
            {
                "type": "response.output_item.done",
                "response_id": response_id,
                "output_index": 0,
                "item": item,
            },
            {"type": "conversation.item.done", "previous_item_id": None, "item": item},
            {
                "type": "response.done",
                "response": _response(response_id, "completed", [item], usage),
            },
        ]

    def speech_cancelled(
        self,
        response_id: str,
        item_id: str,
        transcript: str,
        audio_end_ms: int,
        reason: str,
        usage: dict[str, Any],
    ) -> list[Event]:
        item = _assistant_item(
            item_id, "incomplete", [{"type": "output_audio", "transcript": transcript}]
        )
        details = {"type": "cancelled", "reason": reason}
        return [
            {
                "type": "conversation.item.truncated",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": audio_end_ms,
            },
            {"type": "response.cancelled", "response": {"id": response_id}},
            {
                "type": "response.output_item.done",
                "response_id": response_id,
                "output_index": 0,
                "item": item,
            },
            {
                "type": "response.done",
                "response": _response(response_id, "cancelled", [item], usage, details),
            },
        ]

    def empty_response(self, response_id: str, usage: dict[str, Any]) -> list[Event]:
        return [
            {"type": "response.created", "response": _response(response_id, "in_progress", [])},
            {"type": "response.done", "response": _response(response_id, "completed", [], usage)},
        ]


class V1Wire:
    """The "quicksilver" protocol (`intent=quicksilver`): handoffs instead of tool calls."""

    version: Final = "v1"

    def default_session(self, session_id: str, model: str) -> dict[str, Any]:
        return {
            "type": "quicksilver",
            "object": "realtime.session",
            "id": session_id,
            "model": model,
            "instructions": "",
            "audio": {"input": {"format": dict(AUDIO_FORMAT)}, "output": {"voice": "cove"}},
        }

    def item_created(self, item: dict[str, Any], previous_item_id: str | None) -> list[Event]:
        return [
            {"type": "conversation.item.added", "previous_item_id": previous_item_id, "item": item}
        ]

    def audio_committed(self, item_id: str, previous_item_id: str | None) -> list[Event]:
        return [
            {
                "type": "input_audio_buffer.committed",
                "previous_item_id": previous_item_id,
                "item_id": item_id,
            }
        ]

    def input_transcript(self, item_id: str, transcript: str, pieces: list[str]) -> list[Event]:
        return [
            {"type": "conversation.input_transcript.delta", "item_id": item_id, "delta": piece}
            for piece in (pieces or [transcript])
        ]

    def delegation(
        self, *, response_id: str, item_id: str, call_id: str, source_item_id: str, prompt: str
    ) -> list[Event]:
        return [
            {
                "type": "conversation.handoff.requested",
                "handoff_id": call_id,
                "item_id": source_item_id,
                "input_transcript": prompt,
            }
        ]

    def speech_opened(self, response_id: str, item_id: str, *, audio: bool) -> list[Event]:
        return [{"type": "response.created", "response": _response(response_id, "in_progress", [])}]

    def speech_piece(
        self,
        response_id: str,
        item_id: str,
        *,
        transcript_delta: str | None,
        audio_b64: str | None,
        samples: int,
        audio: bool,
    ) -> list[Event]:
        events: list[Event] = []
        if transcript_delta is not None:
            events.append(
                {
                    "type": "conversation.output_transcript.delta",
                    "item_id": item_id,
                    "delta": transcript_delta,
                }
            )
        if audio_b64 is not None:
            events.append(
                {
                    "type": "conversation.output_audio.delta",
                    "item_id": item_id,
                    "delta": audio_b64,
                    "sample_rate": SAMPLE_RATE,
                    "channels": 1,
                    "samples_per_channel": samples,
                }
            )
        return events

    def speech_closed(
        self,
        response_id: str,
        item_id: str,
        transcript: str,
        usage: dict[str, Any],
        *,
        audio: bool,
    ) -> list[Event]:
        return [
            {"type": "response.done", "response": _response(response_id, "completed", [], usage)}
        ]

    def speech_cancelled(
        self,
        response_id: str,
        item_id: str,
        transcript: str,
        audio_end_ms: int,
        reason: str,
        usage: dict[str, Any],
    ) -> list[Event]:
        details = {"type": "cancelled", "reason": reason}
        return [
            {
                "type": "conversation.item.truncated",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": audio_end_ms,
            },
            {"type": "response.cancelled", "response": {"id": response_id}},
            {
                "type": "response.done",
                "response": _response(response_id, "cancelled", [], usage, details),
            },
        ]

    def empty_response(self, response_id: str, usage: dict[str, Any]) -> list[Event]:
        return [
            {"type": "response.created", "response": _response(response_id, "in_progress", [])},
            {"type": "response.done", "response": _response(response_id, "completed", [], usage)},
        ]


def _assistant_item(item_id: str, status: str, content: list[Event]) -> dict[str, Any]:
    return {
        "id": item_id,
        "object": "realtime.item",
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def _delegation_usage(prompt: str) -> dict[str, Any]:
    return realtime_usage(input_text=prompt, output_text=prompt, output_audio_ms=0.0)


def realtime_usage(*, input_text: str, output_text: str, output_audio_ms: float) -> dict[str, Any]:
    """Deterministic token counts: ~4 characters per text token, 50 ms per audio token."""
    text_in = (len(input_text) + 3) // 4
    text_out = (len(output_text) + 3) // 4
    audio_out = int(output_audio_ms // 50)
    return {
        "total_tokens": text_in + text_out + audio_out,
        "input_tokens": text_in,
        "output_tokens": text_out + audio_out,
        "input_token_details": {"text_tokens": text_in, "audio_tokens": 0, "cached_tokens": 0},
        "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out},
    }
