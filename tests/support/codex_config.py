"""Writes the `config.toml` the realtime spec tests run the app-server with.

Twin of the spec's `create_config_toml_with_realtime_version`: the text is byte-for-byte the
upstream layout (leading blank line, the optional startup-context line, the blank lines between
tables), so a config parser is exercised on exactly what the reference saw.
"""

from __future__ import annotations

from pathlib import Path

REALTIME_FEATURE_KEY = "realtime_conversation"


def rust_debug_str(value: str) -> str:
    """Quote `value` the way Rust's `{:?}` does for a `&str`, which is also a TOML basic string.

    Rust escapes `"`, `\\`, tab, CR and LF; other control characters get `\\u{…}` there, which TOML
    cannot read, so they are written as TOML's `\\uXXXX` instead.
    """
    out = ['"']
    for ch in value:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def realtime_config_toml(
    responses_uri: str,
    realtime_uri: str,
    realtime_enabled: bool,
    startup_context_override: str | None,
    realtime_version: str = "v2",
    sandbox: str = "read-only",
) -> str:
    """The config text; `startup_context_override=None` is the spec's `Generated` variant."""
    startup_context = (
        ""
        if startup_context_override is None
        else "experimental_realtime_ws_startup_context = "
        f"{rust_debug_str(startup_context_override)}\n"
    )
    enabled = "true" if realtime_enabled else "false"
    return f"""
model = "mock-model"
approval_policy = "never"
sandbox_mode = "{sandbox}"
model_provider = "mock_provider"
experimental_realtime_ws_base_url = "{realtime_uri}"
experimental_realtime_ws_backend_prompt = "backend prompt"
{startup_context}

[realtime]
version = "{realtime_version}"
type = "conversational"

[features]
{REALTIME_FEATURE_KEY} = {enabled}

[model_providers.mock_provider]
name = "Mock provider for test"
base_url = "{responses_uri}/v1"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
"""


def write_config_toml(
    codex_home: Path,
    responses_uri: str,
    realtime_uri: str,
    realtime_enabled: bool,
    startup_context_override: str | None,
    realtime_version: str = "v2",
    sandbox: str = "read-only",
) -> Path:
    """Write `<codex_home>/config.toml` (see `realtime_config_toml`) and return its path."""
    path = codex_home / "config.toml"
    path.write_text(
        realtime_config_toml(
            responses_uri,
            realtime_uri,
            realtime_enabled,
            startup_context_override,
            realtime_version,
            sandbox,
        ),
        encoding="utf-8",
    )
    return path
