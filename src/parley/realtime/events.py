"""Typed events parsed from the upstream Realtime API, shared by the v1 and v2 codecs.

Each codec turns one upstream text frame into zero or more of these; the bridge consumes
them. They carry only what the bridge needs, already defaulted, never raw wire dicts
(except `ItemAdded.item`, which is forwarded to clients verbatim).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

TranscriptRole = Literal["user", "assistant"]


@dataclass(frozen=True, slots=True)
class OutputAudio:
    """A chunk of model speech to play."""

    data: str
    sample_rate: int
    num_channels: int
    samples_per_channel: int | None
    item_id: str | None


@dataclass(frozen=True, slots=True)
class TranscriptDelta:
    """A piece of the spoken transcript; `text` is the delta only, never accumulated."""

    role: TranscriptRole
    text: str


@dataclass(frozen=True, slots=True)
class ItemAdded:
    """An item (or a marker item) that clients see as `thread/realtime/itemAdded`."""

    item: Any


@dataclass(frozen=True, slots=True)
class HandoffRequested:
    """The realtime model asks the background agent to do something."""

    handoff_id: str
    item_id: str
    input_transcript: str


@dataclass(frozen=True, slots=True)
class ResponseStarted:
    """The realtime model began producing a response (v2)."""

    response_id: str | None


@dataclass(frozen=True, slots=True)
class ResponseFinished:
    """The realtime model's response completed or was cancelled (v2)."""

    response_id: str | None


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """The upstream's voice detection heard the user start speaking (v2): a barge-in when the
    model's audio is still playing."""

    item_id: str | None


@dataclass(frozen=True, slots=True)
class UpstreamError:
    """The upstream reported an error; the session ends."""

    message: str


UpstreamEvent = (
    OutputAudio
    | TranscriptDelta
    | ItemAdded
    | HandoffRequested
    | ResponseStarted
    | ResponseFinished
    | SpeechStarted
    | UpstreamError
)
