"""The realtime voices each protocol version accepts, their defaults and the listVoices result.

Pure data and one validation function; it does not know where a requested voice came from
(request, config or default) beyond the precedence rule in `resolve_voice`.
"""

from __future__ import annotations

from typing import Any, Final

# Order matters: it is the order `thread/realtime/listVoices` reports and the order the
# "not supported" message lists.
V1_VOICES: Final[tuple[str, ...]] = (
    "juniper",
    "maple",
    "spruce",
    "ember",
    "vale",
    "breeze",
    "arbor",
    "sol",
    "cove",
)
V2_VOICES: Final[tuple[str, ...]] = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
DEFAULT_V1_VOICE: Final = "cove"
DEFAULT_V2_VOICE: Final = "marin"

# The schema's RealtimeVoice enum lists every voice alphabetically.
ALL_VOICES: Final[tuple[str, ...]] = tuple(sorted({*V1_VOICES, *V2_VOICES}))

_BY_VERSION: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    "v1": (V1_VOICES, DEFAULT_V1_VOICE),
    "v2": (V2_VOICES, DEFAULT_V2_VOICE),
}


class UnsupportedVoice(ValueError):
    """The chosen voice does not belong to the session's protocol version."""


def list_voices_result() -> dict[str, Any]:
    """The `thread/realtime/listVoices` result, a fresh object each call."""
    return {
        "voices": {
            "v1": list(V1_VOICES),
            "v2": list(V2_VOICES),
            "defaultV1": DEFAULT_V1_VOICE,
            "defaultV2": DEFAULT_V2_VOICE,
        }
    }


def voices_for(version: str) -> tuple[str, ...]:
    """The voices a protocol version accepts."""
    return _BY_VERSION[version][0]


def default_voice(version: str) -> str:
    """The voice used when neither the request nor the config names one."""
    return _BY_VERSION[version][1]


def resolve_voice(version: str, requested: str | None, configured: str | None) -> str:
    """Pick the request's voice, else the config's, else the default, and check it fits."""
    voice = requested or configured or default_voice(version)
    allowed = voices_for(version)
    if voice not in allowed:
        raise UnsupportedVoice(
            f"realtime voice `{voice}` is not supported for {version}; "
            f"supported voices: {', '.join(allowed)}"
        )
    return voice
