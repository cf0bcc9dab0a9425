"""What the configuration adds to a Responses request, per model (values in, values out)."""

from __future__ import annotations

from pathlib import Path

from parley.agent.settings import ModelOptions
from parley.config import load_config
from parley.config.turn_options import model_options, provider_settings, turn_options


def write(tmp_path: Path, text: str) -> None:
    (tmp_path / "config.toml").write_text(text)


def test_reasoning_and_verbosity_follow_the_model_catalogue(tmp_path: Path) -> None:
    """A catalogue model gets reasoning/verbosity (configured or its defaults); an unknown
    model gets neither, as the reference sends them."""
    write(tmp_path, 'model_reasoning_effort = "high"\nmodel_verbosity = "high"\n')
    config = load_config(tmp_path)
    known = model_options(config, "gpt-5.4").body_fields()
    assert known["reasoning"] == {"effort": "high", "summary": None}  # gpt-5.4: summary "none"
    assert known["include"] == ["reasoning.encrypted_content"]
    assert known["text"] == {"verbosity": "high"}
    unknown = model_options(config, "mock-model").body_fields()
    assert unknown == {"reasoning": None, "include": []}


def test_defaults_come_from_the_model(tmp_path: Path) -> None:
    """Without settings, the model's default effort, summary and verbosity are sent."""
    config = load_config(tmp_path)
    fields = model_options(config, "gpt-5.2").body_fields()
    assert fields["reasoning"] == {"effort": "medium", "summary": "auto"}
    assert fields["text"] == {"verbosity": "low"}
    assert model_options(config, "gpt-5.2-codex").body_fields().get("text") is None


def test_service_tier_and_context_window(tmp_path: Path) -> None:
    """`fast` goes on the wire as `priority`; the usable window is 95% of the model's."""
    write(tmp_path, 'service_tier = "fast"\nmodel_context_window = 100000\n')
    options = model_options(load_config(tmp_path), "gpt-5.4")
    assert options.body_fields()["service_tier"] == "priority"
    assert options.context_window == 95_000
    assert ModelOptions().body_fields() == {"reasoning": None, "include": []}


def test_supports_reasoning_summaries_override(tmp_path: Path) -> None:
    """model_supports_reasoning_summaries turns reasoning on for an unknown model."""
    write(tmp_path, 'model_supports_reasoning_summaries = true\nmodel_reasoning_effort = "low"\n')
    fields = model_options(load_config(tmp_path), "my-model").body_fields()
    assert fields["reasoning"] == {"effort": "low", "summary": "auto"}


def test_provider_settings_and_turn_options(tmp_path: Path, monkeypatch) -> None:
    """Query params, static and environment headers, idle timeout, roots, notify, personality."""
    monkeypatch.setenv("TENANT", "acme")
    write(
        tmp_path,
        'model_provider = "p"\npersonality = "pragmatic"\nnotify = ["n"]\n'
        '[model_providers.p]\nbase_url = "http://h/v1"\nstream_idle_timeout_ms = 1500\n'
        'query_params = { v = "1" }\nhttp_headers = { A = "b" }\n'
        'env_http_headers = { T = "TENANT", U = "UNSET_VAR_X" }\n'
        '[sandbox_workspace_write]\nwritable_roots = ["/srv"]\nexclude_slash_tmp = true\n',
    )
    config = load_config(tmp_path)
    provider = provider_settings(config)
    assert provider.query_params == (("v", "1"),)
    assert dict(provider.headers) == {"A": "b", "T": "acme"}
    assert provider.stream_idle_timeout_s == 1.5
    options = turn_options(config, "m")
    assert options.notify == ("n",)
    assert options.personality == "pragmatic"
    roots = options.workspace_roots.apply((Path("/work"), Path("/tmp")))
    assert roots == (Path("/work"), Path("/srv"))
