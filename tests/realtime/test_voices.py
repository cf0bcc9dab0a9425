"""Voice lists, defaults, precedence and validation."""

from __future__ import annotations

import pytest

from parley.realtime.voices import ALL_VOICES, UnsupportedVoice, list_voices_result, resolve_voice


def test_list_voices_result() -> None:
    """listVoices reports both lists in reference order with their defaults."""
    assert list_voices_result() == {
        "voices": {
            "v1": ["juniper", "maple", "spruce", "ember", "vale", "breeze", "arbor", "sol", "cove"],
            "v2": [
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
            ],
            "defaultV1": "cove",
            "defaultV2": "marin",
        }
    }
    assert len(ALL_VOICES) == 19 and list(ALL_VOICES) == sorted(ALL_VOICES)


def test_precedence() -> None:
    """The request's voice beats the config's, which beats the version default."""
    assert resolve_voice("v2", "cedar", "alloy") == "cedar"
    assert resolve_voice("v2", None, "alloy") == "alloy"
    assert resolve_voice("v2", None, None) == "marin"
    assert resolve_voice("v1", None, None) == "cove"


def test_wrong_version_voice() -> None:
    """A voice from the other version's list is refused with the supported list."""
    with pytest.raises(UnsupportedVoice) as info:
        resolve_voice("v1", "cedar", None)
    assert str(info.value) == (
        "realtime voice `cedar` is not supported for v1; supported voices: "
        "juniper, maple, spruce, ember, vale, breeze, arbor, sol, cove"
    )
