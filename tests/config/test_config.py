"""Config loading: the reference's keys and defaults, overrides, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.config import ConfigError, load_config, parse_override

SPEC_CONFIG = """
model = "mock-model"
approval_policy = "never"
sandbox_mode = "read-only"
model_provider = "mock_provider"
experimental_realtime_ws_base_url = "ws://127.0.0.1:9"
experimental_realtime_ws_backend_prompt = "backend prompt"
experimental_realtime_ws_startup_context = "startup context"

[realtime]
version = "v1"
type = "conversational"

[features]
realtime_conversation = true

[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "http://127.0.0.1:8/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""


def test_spec_config_keys_are_read(tmp_path: Path) -> None:
    """Every key the upstream tests write is understood."""
    (tmp_path / "config.toml").write_text(SPEC_CONFIG)
    config = load_config(tmp_path)
    assert config.model == "mock-model"
    assert config.approval_policy == "never"
    assert config.sandbox_mode == "read-only"
    assert config.provider.id == "mock_provider"
    assert config.provider.base_url == "http://127.0.0.1:8/v1"
    assert config.provider.request_max_retries == 0
    assert config.provider.stream_max_retries == 0
    assert config.realtime.version == "v1"
    assert config.realtime.ws_base_url == "ws://127.0.0.1:9"
    assert config.realtime.backend_prompt == "backend prompt"
    assert config.realtime.startup_context == "startup context"
    assert config.feature_enabled("realtime_conversation")


def test_defaults_without_a_file(tmp_path: Path) -> None:
    """With no config.toml Parley uses the built-in OpenAI provider and realtime v2."""
    config = load_config(tmp_path)
    assert config.provider.id == "openai"
    assert config.provider.request_max_retries == 4
    assert config.provider.stream_max_retries == 5
    assert config.realtime.version == "v2"
    assert not config.feature_enabled("realtime_conversation")


def test_overrides_and_feature_flags(tmp_path: Path) -> None:
    """-c values are parsed as TOML (else kept as strings) and --enable/--disable win."""
    (tmp_path / "config.toml").write_text(SPEC_CONFIG)
    config = load_config(
        tmp_path,
        overrides=[
            "model=gpt-x",
            'realtime.version="v2"',
            "model_providers.mock_provider.request_max_retries=3",
        ],
        disable=["realtime_conversation"],
    )
    assert config.model == "gpt-x"
    assert config.realtime.version == "v2"
    assert config.provider.request_max_retries == 3
    assert not config.feature_enabled("realtime_conversation")
    assert parse_override('web_search="live"') == (["web_search"], "live")
    assert parse_override("a.b=[1, 2]") == (["a", "b"], [1, 2])


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('sandbox_mode = "everything"', "`sandbox_mode`: unknown value `everything`"),
        ("model = 5", "`model`: expected str"),
        ('model_provider = "nope"', "`model_provider`: provider `nope` is not defined"),
        ('[realtime]\nversion = "v9"', "`realtime.version`"),
        ("model = ", "invalid TOML"),
    ],
)
def test_invalid_config_names_file_key_and_reason(tmp_path: Path, text: str, needle: str) -> None:
    """A broken config is reported with the file, the key and what is wrong."""
    (tmp_path / "config.toml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path)
    assert str(tmp_path / "config.toml") in str(err.value)
    assert needle in str(err.value)


def test_questionable_values_become_warnings(tmp_path: Path) -> None:
    """An unknown feature flag is a warning, not a failure."""
    (tmp_path / "config.toml").write_text("[features]\nno_such_feature = true\n")
    config = load_config(tmp_path)
    assert any("no_such_feature" in w.summary for w in config.warnings)
