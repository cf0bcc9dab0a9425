"""The spec's config.toml is written with upstream's exact layout and quoting."""

from __future__ import annotations

import tomllib
from pathlib import Path

from support.codex_config import rust_debug_str, write_config_toml

EXPECTED_OVERRIDE = """
model = "mock-model"
approval_policy = "never"
sandbox_mode = "danger-full-access"
model_provider = "mock_provider"
experimental_realtime_ws_base_url = "ws://127.0.0.1:2"
experimental_realtime_ws_backend_prompt = "backend prompt"
experimental_realtime_ws_startup_context = "startup context"


[realtime]
version = "v1"
type = "conversational"

[features]
realtime_conversation = true

[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "http://127.0.0.1:1/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""


def test_override_variant_is_byte_for_byte(tmp_path: Path) -> None:
    """With an override, the startup-context line sits after the backend prompt."""
    path = write_config_toml(
        tmp_path,
        "http://127.0.0.1:1",
        "ws://127.0.0.1:2",
        True,
        "startup context",
        realtime_version="v1",
        sandbox="danger-full-access",
    )
    assert path.read_text() == EXPECTED_OVERRIDE


def test_generated_variant_omits_the_line_and_parses(tmp_path: Path) -> None:
    """Without an override there is no startup-context key; the feature flag follows the flag."""
    path = write_config_toml(tmp_path, "http://h:1", "ws://h:2", False, None)
    text = path.read_text()
    assert "startup_context" not in text
    assert 'experimental_realtime_ws_backend_prompt = "backend prompt"\n\n\n[realtime]' in text
    config = tomllib.loads(text)
    assert config["features"] == {"realtime_conversation": False}
    assert config["sandbox_mode"] == "read-only"
    assert config["realtime"] == {"version": "v2", "type": "conversational"}


def test_rust_debug_quoting_round_trips_through_toml() -> None:
    """`{:?}` quoting escapes quotes, backslashes and newlines, and stays valid TOML."""
    value = 'say "hi"\\ now\n\ttab\x01 é'
    quoted = rust_debug_str(value)
    assert quoted == '"say \\"hi\\"\\\\ now\\n\\ttab\\u0001 é"'
    assert tomllib.loads(f"k = {quoted}")["k"] == value
