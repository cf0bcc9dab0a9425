"""Load and validate `config.toml`, the same keys and defaults as the reference release.

The file is read with `tomllib`; command-line overrides (`-c a.b=value`) are applied to the
parsed tree before validation, so an override is checked exactly like a file value. An invalid
value is a `ConfigError` naming the file, the key and the reason; a questionable but usable one
becomes a warning the server sends to clients as `configWarning`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.config.shell_environment import ShellEnvironmentPolicy, parse_shell_environment_policy

SANDBOX_MODES = ("read-only", "workspace-write", "danger-full-access")
APPROVAL_POLICIES = ("untrusted", "on-failure", "on-request", "never")
REALTIME_VERSIONS = ("v1", "v2")
REALTIME_TYPES = ("conversational", "transcription")
KNOWN_FEATURES = frozenset({"realtime_conversation"})

DEFAULT_MODEL = "gpt-5.4"
DEFAULT_REALTIME_MODEL = "gpt-realtime-1.5"
OPENAI_BASE_URL = "https://api.openai.com/v1"


class ConfigError(Exception):
    """The configuration cannot be used; the message names file, key and reason."""


@dataclass(frozen=True)
class ModelProvider:
    id: str
    name: str
    base_url: str
    wire_api: str = "responses"
    request_max_retries: int = 4
    stream_max_retries: int = 5
    requires_openai_auth: bool = False
    env_key: str | None = None
    # How long a Responses stream may go without an event before the attempt fails.
    stream_idle_timeout_ms: int = 300_000


@dataclass(frozen=True)
class RealtimeConfig:
    version: str = "v2"
    type: str = "conversational"
    voice: str | None = None
    ws_base_url: str | None = None
    ws_model: str = DEFAULT_REALTIME_MODEL
    backend_prompt: str | None = None
    startup_context: str | None = None
    start_instructions: str | None = None


@dataclass(frozen=True)
class Config:
    codex_home: Path
    model: str = DEFAULT_MODEL
    approval_policy: str = "on-request"
    sandbox_mode: str = "read-only"
    network_access: bool = False
    provider: ModelProvider = field(
        default_factory=lambda: ModelProvider(
            id="openai", name="OpenAI", base_url=OPENAI_BASE_URL, requires_openai_auth=True
        )
    )
    realtime: RealtimeConfig = field(default_factory=RealtimeConfig)
    features: frozenset[str] = frozenset()
    shell_environment_policy: ShellEnvironmentPolicy = field(default_factory=ShellEnvironmentPolicy)
    # Compaction: the prompt asking the model for a summary, and the context size (tokens) at
    # which a thread is compacted automatically (None: only on request).
    compact_prompt: str | None = None
    model_auto_compact_token_limit: int | None = None
    warnings: tuple[str, ...] = ()

    def feature_enabled(self, name: str) -> bool:
        return name in self.features


def resolve_codex_home() -> Path:
    env = os.environ.get("CODEX_HOME")
    if env:
        return Path(env).expanduser().resolve()
    return (Path.home() / ".codex").resolve()


def parse_override(text: str) -> tuple[list[str], Any]:
    """Parse `a.b=value`: the value is TOML when it parses, else the raw string."""
    if "=" not in text:
        raise ConfigError(f"invalid override `{text}`: expected key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(f"invalid override `{text}`: empty key")
    try:
        value: Any = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return [part.strip() for part in key.split(".")], value


def _apply_override(tree: dict[str, Any], path: list[str], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[path[-1]] = value


class _Reader:
    """Typed access to the raw tree that reports errors with file and key."""

    def __init__(self, source: str, tree: dict[str, Any]) -> None:
        self.source = source
        self.tree = tree
        self.warnings: list[str] = []

    def fail(self, key: str, reason: str) -> ConfigError:
        return ConfigError(f"{self.source}: `{key}`: {reason}")

    def get(self, table: dict[str, Any], key: str, full_key: str, kind: type, default: Any) -> Any:
        if key not in table:
            return default
        value = table[key]
        if kind is int and isinstance(value, bool):
            raise self.fail(full_key, f"expected an integer, found {value!r}")
        if not isinstance(value, kind):
            raise self.fail(
                full_key, f"expected {kind.__name__}, found {type(value).__name__} {value!r}"
            )
        return value

    def choice(
        self, table: dict[str, Any], key: str, full_key: str, choices: tuple[str, ...], default: str
    ) -> str:
        value = self.get(table, key, full_key, str, default)
        if value not in choices:
            raise self.fail(
                full_key, f"unknown value `{value}`, expected one of {', '.join(choices)}"
            )
        return str(value)

    def table(self, table: dict[str, Any], key: str, full_key: str) -> dict[str, Any]:
        value = self.get(table, key, full_key, dict, {})
        return dict(value)


def _provider(reader: _Reader, tree: dict[str, Any], provider_id: str) -> ModelProvider:
    providers = reader.table(tree, "model_providers", "model_providers")
    if provider_id not in providers:
        if provider_id == "openai":
            return ModelProvider(
                id="openai",
                name="OpenAI",
                base_url=os.environ.get("OPENAI_BASE_URL", OPENAI_BASE_URL),
                requires_openai_auth=True,
            )
        raise reader.fail(
            "model_provider",
            f"provider `{provider_id}` is not defined "
            f"(add a [model_providers.{provider_id}] table)",
        )
    prefix = f"model_providers.{provider_id}"
    raw = providers[provider_id]
    if not isinstance(raw, dict):
        raise reader.fail(prefix, "expected a table")
    base_url = reader.get(raw, "base_url", f"{prefix}.base_url", str, None)
    if base_url is None:
        if provider_id != "openai":
            raise reader.fail(f"{prefix}.base_url", "missing; a provider needs a base_url")
        base_url = OPENAI_BASE_URL
    if not base_url.startswith(("http://", "https://")):
        raise reader.fail(f"{prefix}.base_url", f"`{base_url}` is not an http(s) URL")
    wire_api = reader.get(raw, "wire_api", f"{prefix}.wire_api", str, "responses")
    if wire_api != "responses":
        raise reader.fail(f"{prefix}.wire_api", f"`{wire_api}` is not supported; use `responses`")
    retries = reader.get(raw, "request_max_retries", f"{prefix}.request_max_retries", int, 4)
    stream_retries = reader.get(raw, "stream_max_retries", f"{prefix}.stream_max_retries", int, 5)
    for name, value in (("request_max_retries", retries), ("stream_max_retries", stream_retries)):
        if value < 0:
            raise reader.fail(f"{prefix}.{name}", f"must be >= 0, found {value}")
        if value > 100:
            reader.warnings.append(f"{prefix}.{name} = {value} is very high; capped at 100")
    idle_ms = reader.get(
        raw, "stream_idle_timeout_ms", f"{prefix}.stream_idle_timeout_ms", int, 300_000
    )
    if idle_ms <= 0:
        raise reader.fail(f"{prefix}.stream_idle_timeout_ms", f"must be > 0, found {idle_ms}")
    return ModelProvider(
        id=provider_id,
        name=reader.get(raw, "name", f"{prefix}.name", str, provider_id),
        base_url=base_url,
        wire_api=wire_api,
        request_max_retries=min(retries, 100),
        stream_max_retries=min(stream_retries, 100),
        requires_openai_auth=reader.get(
            raw, "requires_openai_auth", f"{prefix}.requires_openai_auth", bool, False
        ),
        env_key=reader.get(raw, "env_key", f"{prefix}.env_key", str, None),
        stream_idle_timeout_ms=idle_ms,
    )


def _blank_to_none(value: str | None) -> str | None:
    return value if value is not None and value.strip() else None


def load_config(
    codex_home: Path,
    overrides: Iterable[str] = (),
    enable: Iterable[str] = (),
    disable: Iterable[str] = (),
) -> Config:
    path = codex_home / "config.toml"
    tree: dict[str, Any] = {}
    if path.exists():
        try:
            tree = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from exc
    for override in overrides:
        key_path, value = parse_override(override)
        _apply_override(tree, key_path, value)
    source = str(path) if not overrides else f"{path} (with -c overrides)"
    reader = _Reader(source, tree)

    features_table = reader.table(tree, "features", "features")
    features: set[str] = set()
    for name, value in features_table.items():
        if not isinstance(value, bool):
            raise reader.fail(f"features.{name}", f"expected a boolean, found {value!r}")
        if name not in KNOWN_FEATURES:
            reader.warnings.append(f"unknown feature `{name}` in [features] is ignored")
        if value:
            features.add(name)
    features |= set(enable)
    features -= set(disable)

    realtime_table = reader.table(tree, "realtime", "realtime")
    realtime = RealtimeConfig(
        version=reader.choice(
            realtime_table, "version", "realtime.version", REALTIME_VERSIONS, "v2"
        ),
        type=reader.choice(
            realtime_table, "type", "realtime.type", REALTIME_TYPES, "conversational"
        ),
        voice=reader.get(realtime_table, "voice", "realtime.voice", str, None),
        ws_base_url=_blank_to_none(
            reader.get(
                tree,
                "experimental_realtime_ws_base_url",
                "experimental_realtime_ws_base_url",
                str,
                None,
            )
        ),
        ws_model=reader.get(
            tree,
            "experimental_realtime_ws_model",
            "experimental_realtime_ws_model",
            str,
            DEFAULT_REALTIME_MODEL,
        ),
        backend_prompt=_blank_to_none(
            reader.get(
                tree,
                "experimental_realtime_ws_backend_prompt",
                "experimental_realtime_ws_backend_prompt",
                str,
                None,
            )
        ),
        startup_context=reader.get(
            tree,
            "experimental_realtime_ws_startup_context",
            "experimental_realtime_ws_startup_context",
            str,
            None,
        ),
        start_instructions=reader.get(
            tree,
            "experimental_realtime_start_instructions",
            "experimental_realtime_start_instructions",
            str,
            None,
        ),
    )
    if realtime.ws_base_url is not None and not realtime.ws_base_url.startswith(
        ("ws://", "wss://", "http://", "https://")
    ):
        raise reader.fail(
            "experimental_realtime_ws_base_url",
            f"unsupported realtime api_url scheme in `{realtime.ws_base_url}`",
        )

    provider_id = reader.get(tree, "model_provider", "model_provider", str, "openai")
    provider = _provider(reader, tree, provider_id)
    sandbox_table = reader.table(tree, "sandbox_workspace_write", "sandbox_workspace_write")
    network_access = reader.get(
        sandbox_table, "network_access", "sandbox_workspace_write.network_access", bool, False
    )
    shell_environment_policy = parse_shell_environment_policy(
        tree.get("shell_environment_policy"), fail=reader.fail, warn=reader.warnings.append
    )
    return Config(
        codex_home=codex_home,
        model=reader.get(tree, "model", "model", str, DEFAULT_MODEL),
        approval_policy=reader.choice(
            tree, "approval_policy", "approval_policy", APPROVAL_POLICIES, "on-request"
        ),
        sandbox_mode=reader.choice(
            tree, "sandbox_mode", "sandbox_mode", SANDBOX_MODES, "read-only"
        ),
        network_access=network_access,
        provider=provider,
        realtime=realtime,
        features=frozenset(features),
        shell_environment_policy=shell_environment_policy,
        compact_prompt=_blank_to_none(
            reader.get(tree, "compact_prompt", "compact_prompt", str, None)
        ),
        model_auto_compact_token_limit=reader.get(
            tree, "model_auto_compact_token_limit", "model_auto_compact_token_limit", int, None
        ),
        warnings=tuple(reader.warnings),
    )
