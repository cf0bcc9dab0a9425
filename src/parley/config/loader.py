"""Build a validated `Config` from the layer stack, with the reference's keys, defaults and order.

Precedence, lowest first: built-in defaults < `config.toml` (system, then user) < the selected
`[profiles.<name>]` < trusted project `.codex/config.toml` files < `-c` overrides < managed
config < request parameters (a thread's `config`, `model`, `sandbox`, …). The profile is chosen by
the final `profile` value, then overlaid just above the user file.

A value Parley cannot use is a `ConfigError` naming the file, the key and the reason (and the
line and column when the key can be found in the file). A key Parley does not act on becomes a
`ConfigWarning` (sent once to each client as `configWarning`), never silently dropped.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.config.layers import (
    ConfigError,
    Layer,
    LayerStack,
    TextRange,
    Tree,
    load_layers,
    merge_into,
    set_path,
    trust_level,
)
from parley.config.requirements import Requirements, load_requirements
from parley.config.shell_environment import ShellEnvironmentPolicy, parse_shell_environment_policy

SANDBOX_MODES = ("read-only", "workspace-write", "danger-full-access")
APPROVAL_POLICIES = ("untrusted", "on-failure", "on-request", "never")
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
REASONING_SUMMARIES = ("auto", "concise", "detailed", "none")
VERBOSITIES = ("low", "medium", "high")
SERVICE_TIERS = ("fast", "flex")
PERSONALITIES = ("none", "friendly", "pragmatic")
FORCED_LOGIN_METHODS = ("chatgpt", "api")
TRUST_LEVELS = ("trusted", "untrusted")
WIRE_APIS = ("responses",)
REALTIME_VERSIONS = ("v1", "v2")
REALTIME_TYPES = ("conversational", "transcription")

DEFAULT_MODEL = "gpt-5.4"
DEFAULT_REALTIME_MODEL = "gpt-realtime-1.5"
OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_REQUEST_MAX_RETRIES = 4
DEFAULT_STREAM_MAX_RETRIES = 5
DEFAULT_STREAM_IDLE_TIMEOUT_MS = 300_000
MAX_RETRIES = 100

# Top-level keys Parley acts on. `shell_environment_policy`, `mcp_servers`, `chatgpt_base_url`,
# `apps`, `skills` and `plugins` are applied by the tools, MCP, apps, skills and plugins code;
# the rest here.
HONOURED_KEYS = frozenset(
    {
        "model",
        "model_provider",
        "model_providers",
        "approval_policy",
        "sandbox_mode",
        "sandbox_workspace_write",
        "model_reasoning_effort",
        "model_reasoning_summary",
        "model_verbosity",
        "model_supports_reasoning_summaries",
        "model_context_window",
        "service_tier",
        "notify",
        "projects",
        "personality",
        "forced_login_method",
        "profile",
        "profiles",
        "features",
        "realtime",
        "experimental_realtime_ws_base_url",
        "experimental_realtime_ws_model",
        "experimental_realtime_ws_backend_prompt",
        "experimental_realtime_ws_startup_context",
        "experimental_realtime_start_instructions",
        "shell_environment_policy",
        "mcp_servers",
        "chatgpt_base_url",
        "apps",
        "skills",
        "plugins",
        "compact_prompt",
        "model_auto_compact_token_limit",
        "developer_instructions",
        "model_instructions_file",
    }
)
# Keys the reference reads but does not act on either: warned about with the reason.
INERT_KEYS = {
    "instructions": (
        "`instructions` has no effect (the Codex CLI ignores it too)",
        "Use `developer_instructions` for extra guidance or `model_instructions_file` to replace "
        "the base instructions.",
    ),
    "experimental_instructions_file": (
        "`experimental_instructions_file` is deprecated and ignored; use `model_instructions_file`",
        "Rename the key to `model_instructions_file` (top level or in a profile) to load the "
        "base instructions from a file.",
    ),
}
PROVIDER_KEYS = frozenset(
    {
        "name",
        "base_url",
        "env_key",
        "env_key_instructions",
        "experimental_bearer_token",
        "query_params",
        "http_headers",
        "env_http_headers",
        "wire_api",
        "request_max_retries",
        "stream_max_retries",
        "stream_idle_timeout_ms",
        "requires_openai_auth",
        "supports_websockets",
    }
)
SANDBOX_WORKSPACE_WRITE_KEYS = frozenset(
    {"writable_roots", "network_access", "exclude_tmpdir_env_var", "exclude_slash_tmp"}
)
# The features Parley's own code consults; any other name is accepted (it appears in
# `experimentalFeature/list`) but changes nothing here.
ACTED_ON_FEATURES = frozenset({"realtime_conversation"})


@dataclass(frozen=True)
class ConfigWarning:
    """A `configWarning` notification's fields."""

    summary: str
    details: str | None = None
    path: Path | None = None
    range: TextRange | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "details": self.details,
            "path": str(self.path) if self.path is not None else None,
            "range": self.range.to_wire() if self.range is not None else None,
        }


@dataclass(frozen=True)
class ModelProvider:
    id: str
    name: str
    base_url: str
    wire_api: str = "responses"
    request_max_retries: int = DEFAULT_REQUEST_MAX_RETRIES
    stream_max_retries: int = DEFAULT_STREAM_MAX_RETRIES
    stream_idle_timeout_ms: int = DEFAULT_STREAM_IDLE_TIMEOUT_MS
    requires_openai_auth: bool = False
    supports_websockets: bool = False
    env_key: str | None = None
    env_key_instructions: str | None = None
    bearer_token: str | None = None
    query_params: Mapping[str, str] = field(default_factory=dict)
    http_headers: Mapping[str, str] = field(default_factory=dict)
    env_http_headers: Mapping[str, str] = field(default_factory=dict)  # header -> env var

    def __repr__(self) -> str:  # never print a bearer token
        return f"ModelProvider(id={self.id!r}, base_url={self.base_url!r})"

    def headers(self) -> dict[str, str]:
        """Static headers plus those whose value comes from a (set, non-empty) variable."""
        headers = dict(self.http_headers)
        for header, variable in self.env_http_headers.items():
            value = os.environ.get(variable, "").strip()
            if value:
                headers[header] = value
        return headers


def openai_provider() -> ModelProvider:
    return ModelProvider(
        id="openai",
        name="OpenAI",
        base_url=os.environ.get("OPENAI_BASE_URL") or OPENAI_BASE_URL,
        requires_openai_auth=True,
    )


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
    provider: ModelProvider = field(default_factory=openai_provider)
    realtime: RealtimeConfig = field(default_factory=RealtimeConfig)
    features: frozenset[str] = frozenset()
    shell_environment_policy: ShellEnvironmentPolicy = field(default_factory=ShellEnvironmentPolicy)
    warnings: tuple[ConfigWarning, ...] = ()
    profile: str | None = None
    reasoning_effort: str | None = None
    reasoning_summary: str | None = None
    verbosity: str | None = None
    supports_reasoning_summaries: bool | None = None
    model_context_window: int | None = None
    service_tier: str | None = None
    writable_roots: tuple[Path, ...] = ()
    exclude_tmpdir_env_var: bool = False
    exclude_slash_tmp: bool = False
    notify: tuple[str, ...] = ()
    personality: str | None = None
    forced_login_method: str | None = None
    cwd: Path | None = None
    trust_level: str | None = None  # the cwd's `[projects]` trust, when a cwd was given
    # The merged raw table (profile not applied) and its layers, for `config/read`.
    tree: Tree = field(default_factory=dict, repr=False, compare=False)
    stack: LayerStack = field(default_factory=LayerStack, repr=False, compare=False)
    # [features] name -> value as written, for `experimentalFeature/list`.
    feature_table: Mapping[str, bool] = field(default_factory=dict)
    # Compaction: the prompt asking the model for a summary, and the context size (tokens) at
    # which a thread is compacted automatically (None: only on request).
    compact_prompt: str | None = None
    model_auto_compact_token_limit: int | None = None
    # `model_instructions_file`'s text (replaces the base instructions) and
    # `developer_instructions` (a developer message); request parameters win over both.
    base_instructions: str | None = None
    developer_instructions: str | None = None
    # What requirements.toml / managed_config.toml allow (already applied to the values above).
    requirements: Requirements = field(default_factory=Requirements, compare=False)

    def feature_enabled(self, name: str) -> bool:
        return name in self.features


def resolve_codex_home() -> Path:
    """`$CODEX_HOME` (which must exist) or `~/.codex`."""
    env = os.environ.get("CODEX_HOME")
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise ConfigError(
                f"CODEX_HOME points to {str(path)!r}, but that path does not exist"
                if not path.exists()
                else f"CODEX_HOME points to {str(path)!r}, which is not a directory"
            )
        return path.resolve()
    return (Path.home() / ".codex").resolve()


class _Reader:
    """Typed access to the merged tree; errors name the file that set the key, and where."""

    def __init__(self, tree: Tree, origin_of: Mapping[str, Layer], fallback: Path) -> None:
        self.tree = tree
        self._origin_of = origin_of
        self._fallback = fallback
        self.warnings: list[ConfigWarning] = []

    def _file_of(self, key: str) -> Path | None:
        probe = key
        while probe:
            layer = self._origin_of.get(probe)
            if layer is None:
                # a table: any leaf under it
                for leaf, candidate in self._origin_of.items():
                    if leaf.startswith(probe + "."):
                        layer = candidate
                        break
            if layer is not None:
                if layer.path is None:  # -c flags, request parameters
                    return None
                return layer.path / "config.toml" if layer.kind == "project" else layer.path
            probe = probe.rpartition(".")[0]
        return self._fallback

    def where(self, key: str) -> tuple[str, Path | None, TextRange | None]:
        path = self._file_of(key)
        layer = self._origin_of.get(key)
        if path is None:
            label = "request parameters" if layer and layer.kind == "request" else "-c overrides"
            return label, None, None
        return str(path), path, locate_key(path, key)

    def fail(self, key: str, reason: str) -> ConfigError:
        label, path, where = self.where(key)
        return ConfigError(f"{label}: `{key}`: {reason}", path=path, range=where)

    def warn(self, key: str, summary: str, details: str | None = None) -> None:
        _label, path, where = self.where(key)
        self.warnings.append(ConfigWarning(summary, details, path, where))

    def get(self, table: Tree, key: str, full_key: str, kind: type, default: Any) -> Any:
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
        self,
        table: Tree,
        key: str,
        full_key: str,
        choices: tuple[str, ...],
        default: str | None,
    ) -> Any:
        value = self.get(table, key, full_key, str, default)
        if value is not None and value not in choices:
            raise self.fail(
                full_key, f"unknown value `{value}`, expected one of {', '.join(choices)}"
            )
        return value

    def table(self, table: Tree, key: str, full_key: str) -> Tree:
        return dict(self.get(table, key, full_key, dict, {}))

    def string_map(self, table: Tree, key: str, full_key: str) -> dict[str, str]:
        raw = self.table(table, key, full_key)
        for name, value in raw.items():
            if not isinstance(value, str):
                raise self.fail(f"{full_key}.{name}", f"expected str, found {value!r}")
        return raw

    def string_list(self, table: Tree, key: str, full_key: str) -> list[str]:
        raw = self.get(table, key, full_key, list, [])
        for index, value in enumerate(raw):
            if not isinstance(value, str):
                raise self.fail(f"{full_key}.{index}", f"expected str, found {value!r}")
        return list(raw)


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")


def _key_parts(text: str) -> list[str]:
    return [part.strip().strip("\"'") for part in text.split(".")]


def locate_key(path: Path, dotted: str) -> TextRange | None:
    """Line and column of `dotted`'s assignment in the file (best effort, top-level tables and
    dotted keys; None when it cannot be found)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    wanted = [p for p in dotted.split(".") if not p.isdigit()]
    table: list[str] = []
    for number, line in enumerate(lines, start=1):
        header = _HEADER.match(line)
        if header:
            table = _key_parts(header[1])
            continue
        assign = _ASSIGN.match(line)
        if not assign:
            continue
        full = table + _key_parts(assign[1])
        if full == wanted or (len(full) < len(wanted) and wanted[: len(full)] == full):
            column = len(line) - len(line.lstrip()) + 1
            return TextRange(number, column, number, len(line) + 1)
    return None


def _provider(reader: _Reader, tree: Tree, provider_id: str) -> ModelProvider:
    providers = reader.table(tree, "model_providers", "model_providers")
    if provider_id not in providers:
        if provider_id == "openai":
            return openai_provider()
        raise reader.fail(
            "model_provider",
            f"provider `{provider_id}` is not defined "
            f"(add a [model_providers.{provider_id}] table)",
        )
    prefix = f"model_providers.{provider_id}"
    raw = providers[provider_id]
    if not isinstance(raw, dict):
        raise reader.fail(prefix, "expected a table")
    for key in sorted(set(raw) - PROVIDER_KEYS):
        reader.warn(
            f"{prefix}.{key}",
            f"Parley ignores `{prefix}.{key}` in the configuration",
            "This provider setting is not used by Parley.",
        )
    base_url = reader.get(raw, "base_url", f"{prefix}.base_url", str, None)
    if base_url is None:
        if provider_id != "openai":
            raise reader.fail(f"{prefix}.base_url", "missing; a provider needs a base_url")
        base_url = OPENAI_BASE_URL
    if not base_url.startswith(("http://", "https://")):
        raise reader.fail(f"{prefix}.base_url", f"`{base_url}` is not an http(s) URL")
    wire_api = reader.get(raw, "wire_api", f"{prefix}.wire_api", str, "responses")
    if wire_api not in WIRE_APIS:
        raise reader.fail(
            f"{prefix}.wire_api",
            f"`{wire_api}` is not supported; use `responses`"
            + (" (the reference removed `chat`)" if wire_api == "chat" else ""),
        )
    numbers: dict[str, int] = {}
    for name, default in (
        ("request_max_retries", DEFAULT_REQUEST_MAX_RETRIES),
        ("stream_max_retries", DEFAULT_STREAM_MAX_RETRIES),
        ("stream_idle_timeout_ms", DEFAULT_STREAM_IDLE_TIMEOUT_MS),
    ):
        value = reader.get(raw, name, f"{prefix}.{name}", int, default)
        if value < 0:
            raise reader.fail(f"{prefix}.{name}", f"must be >= 0, found {value}")
        if name != "stream_idle_timeout_ms" and value > MAX_RETRIES:
            reader.warn(
                f"{prefix}.{name}", f"{prefix}.{name} = {value} is very high; capped at 100"
            )
            value = MAX_RETRIES
        numbers[name] = value
    if numbers["stream_idle_timeout_ms"] <= 0:
        raise reader.fail(
            f"{prefix}.stream_idle_timeout_ms",
            f"must be > 0, found {numbers['stream_idle_timeout_ms']}",
        )
    env_key = reader.get(raw, "env_key", f"{prefix}.env_key", str, None)
    return ModelProvider(
        id=provider_id,
        name=reader.get(raw, "name", f"{prefix}.name", str, provider_id),
        base_url=base_url,
        wire_api=wire_api,
        request_max_retries=numbers["request_max_retries"],
        stream_max_retries=numbers["stream_max_retries"],
        stream_idle_timeout_ms=numbers["stream_idle_timeout_ms"],
        requires_openai_auth=reader.get(
            raw, "requires_openai_auth", f"{prefix}.requires_openai_auth", bool, False
        ),
        supports_websockets=reader.get(
            raw, "supports_websockets", f"{prefix}.supports_websockets", bool, False
        ),
        env_key=env_key or None,
        env_key_instructions=reader.get(
            raw, "env_key_instructions", f"{prefix}.env_key_instructions", str, None
        ),
        bearer_token=reader.get(
            raw, "experimental_bearer_token", f"{prefix}.experimental_bearer_token", str, None
        ),
        query_params=reader.string_map(raw, "query_params", f"{prefix}.query_params"),
        http_headers=reader.string_map(raw, "http_headers", f"{prefix}.http_headers"),
        env_http_headers=reader.string_map(raw, "env_http_headers", f"{prefix}.env_http_headers"),
    )


def _blank_to_none(value: str | None) -> str | None:
    return value if value is not None and value.strip() else None


def _realtime(reader: _Reader, tree: Tree) -> RealtimeConfig:
    table = reader.table(tree, "realtime", "realtime")

    def top(key: str, default: str | None = None) -> Any:
        return reader.get(tree, key, key, str, default)

    realtime = RealtimeConfig(
        version=reader.choice(table, "version", "realtime.version", REALTIME_VERSIONS, "v2"),
        type=reader.choice(table, "type", "realtime.type", REALTIME_TYPES, "conversational"),
        voice=reader.get(table, "voice", "realtime.voice", str, None),
        ws_base_url=_blank_to_none(top("experimental_realtime_ws_base_url")),
        ws_model=top("experimental_realtime_ws_model", DEFAULT_REALTIME_MODEL),
        backend_prompt=_blank_to_none(top("experimental_realtime_ws_backend_prompt")),
        startup_context=top("experimental_realtime_ws_startup_context"),
        start_instructions=top("experimental_realtime_start_instructions"),
    )
    if realtime.ws_base_url is not None and not realtime.ws_base_url.startswith(
        ("ws://", "wss://", "http://", "https://")
    ):
        raise reader.fail(
            "experimental_realtime_ws_base_url",
            f"unsupported realtime api_url scheme in `{realtime.ws_base_url}`",
        )
    return realtime


def _features(
    reader: _Reader, tree: Tree, enable: Iterable[str], disable: Iterable[str]
) -> tuple[frozenset[str], dict[str, bool]]:
    from parley.catalog.features import FEATURES_BY_KEY, default_enabled

    table = reader.table(tree, "features", "features")
    written: dict[str, bool] = {}
    for name, value in table.items():
        if not isinstance(value, bool):
            if isinstance(value, dict) and isinstance(value.get("enabled"), bool):
                value = value["enabled"]
            else:
                raise reader.fail(f"features.{name}", f"expected a boolean, found {value!r}")
        written[name] = value
        if name not in FEATURES_BY_KEY:
            reader.warn(f"features.{name}", f"unknown feature `{name}` in [features] is ignored")
    features = set(default_enabled())
    for name, value in written.items():
        if value:
            features.add(name)
        else:
            features.discard(name)
    features |= set(enable)
    features -= set(disable)
    return frozenset(features), written


def _sandbox_workspace_write(
    reader: _Reader, tree: Tree, base: Path
) -> tuple[tuple[Path, ...], bool, bool, bool]:
    table = reader.table(tree, "sandbox_workspace_write", "sandbox_workspace_write")
    for key in sorted(set(table) - SANDBOX_WORKSPACE_WRITE_KEYS):
        reader.warn(
            f"sandbox_workspace_write.{key}",
            f"Parley ignores `sandbox_workspace_write.{key}` in the configuration",
        )
    roots: list[Path] = []
    for index, raw in enumerate(
        reader.string_list(table, "writable_roots", "sandbox_workspace_write.writable_roots")
    ):
        root = Path(raw).expanduser()
        if not root.is_absolute():
            raise reader.fail(
                f"sandbox_workspace_write.writable_roots.{index}",
                f"`{raw}` is not an absolute path",
            )
        roots.append(root)
    flags = [
        reader.get(table, name, f"sandbox_workspace_write.{name}", bool, False)
        for name in ("network_access", "exclude_tmpdir_env_var", "exclude_slash_tmp")
    ]
    return tuple(roots), flags[0], flags[1], flags[2]


def _model_instructions(reader: _Reader, tree: Tree, cwd: Path) -> str | None:
    """The text of `model_instructions_file` (trimmed; it must exist and not be empty). A
    relative path is taken from the folder of the file that set it (from `cwd` for `-c` and
    request values), as the reference resolves path-valued keys."""
    key = "model_instructions_file"
    raw = reader.get(tree, key, key, str, None)
    if raw is None:
        return None
    path = Path(raw).expanduser()
    if not path.is_absolute():
        _label, source, _where = reader.where(key)
        path = (source.parent if source is not None else cwd) / path
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise reader.fail(key, f"failed to read model instructions file {path}: {reason}") from None
    if not text:
        raise reader.fail(key, f"model instructions file is empty: {path}")
    return text


def _apply_profile(reader: _Reader, tree: Tree, name: str | None) -> Tree:
    """The tree with `[profiles.<name>]` overlaid (a deep copy; `tree` is left alone)."""
    if name is None:
        return tree
    profiles = reader.table(tree, "profiles", "profiles")
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none are defined"
        raise reader.fail("profile", f"config profile `{name}` not found (profiles: {known})")
    profile = profiles[name]
    if not isinstance(profile, dict):
        raise reader.fail(f"profiles.{name}", "expected a table")
    applied = copy.deepcopy(tree)
    merge_into(applied, profile)
    return applied


def _origin_map(stack: LayerStack, extra: list[Layer]) -> dict[str, Layer]:
    origin: dict[str, Layer] = {}

    def walk(layer: Layer, value: Any, prefix: list[str]) -> None:
        if prefix:
            origin[".".join(prefix)] = layer
        if isinstance(value, dict):
            for key, child in value.items():
                walk(layer, child, [*prefix, key])
        elif isinstance(value, list):
            for index, child in enumerate(value):
                walk(layer, child, [*prefix, str(index)])

    for layer in [*stack.enabled(), *extra]:
        walk(layer, layer.tree, [])
    return origin


def request_tree(request: Mapping[str, Any]) -> Tree:
    """Dotted request overrides (`{"model": "x", "sandbox_workspace_write.network_access":
    true}`) as a table."""
    tree: Tree = {}
    for key, value in request.items():
        if value is not None:
            set_path(tree, [part for part in key.split(".") if part], value)
    return tree


def load_config(
    codex_home: Path,
    overrides: Iterable[str] = (),
    enable: Iterable[str] = (),
    disable: Iterable[str] = (),
    *,
    cwd: Path | None = None,
    request: Mapping[str, Any] | None = None,
    system_config: Path | None = None,
) -> Config:
    """The effective configuration. `cwd` adds trusted project layers; `request` holds dotted
    keys from request parameters, the highest layer; `requirements.toml` constrains it."""
    stack = load_layers(codex_home, cwd=cwd, overrides=list(overrides), system_config=system_config)
    return config_from_stack(
        codex_home,
        stack,
        enable=enable,
        disable=disable,
        cwd=cwd,
        request=request,
        requirements=load_requirements(),
    )


def config_from_stack(
    codex_home: Path,
    stack: LayerStack,
    *,
    enable: Iterable[str] = (),
    disable: Iterable[str] = (),
    cwd: Path | None = None,
    request: Mapping[str, Any] | None = None,
    requirements: Requirements | None = None,
) -> Config:
    """Validate and interpret already-read layers (also used to check an edit before it is
    written), within the administrator's `requirements` when given."""
    requirements = requirements or Requirements()
    merged = stack.effective()
    request_layer = Layer("request", None, request_tree(request or {}))
    full = copy.deepcopy(merged)
    merge_into(full, request_layer.tree)
    reader = _Reader(full, _origin_map(stack, [request_layer]), codex_home / "config.toml")

    profile = reader.get(full, "profile", "profile", str, None)
    # The profile sits just above the user file: project, -c and request values win over it.
    below_profile = LayerStack(
        [layer for layer in stack.enabled() if layer.kind in ("system", "user")]
    )
    above_profile = [layer for layer in stack.enabled() if layer.kind not in ("system", "user")]
    tree = _apply_profile(reader, below_profile.effective(), profile)
    if profile is not None:
        # `profiles` itself may come from any layer; keep every layer's value above the profile.
        for layer in [*above_profile, request_layer]:
            merge_into(tree, layer.tree)
    else:
        tree = full
    reader.tree = tree

    for key in sorted(set(tree) - HONOURED_KEYS):
        if key in INERT_KEYS:
            reader.warn(key, *INERT_KEYS[key])
            continue
        reader.warn(
            key,
            f"Parley ignores `{key}` in the configuration",
            "Parley does not act on this setting; the reference Codex CLI does.",
        )

    features, feature_table = _features(reader, tree, enable, disable)
    pinned = requirements.pinned_features()
    features = frozenset({*features, *(k for k, on in pinned.items() if on)}) - {
        k for k, on in pinned.items() if not on
    }
    approval_policy, approval_warning = requirements.approval_policy(
        reader.choice(tree, "approval_policy", "approval_policy", APPROVAL_POLICIES, "on-request"),
        explicit="approval_policy" in tree,
    )
    sandbox_mode, sandbox_warning = requirements.sandbox_mode(
        reader.choice(tree, "sandbox_mode", "sandbox_mode", SANDBOX_MODES, "read-only")
    )
    for text in (approval_warning, sandbox_warning):
        if text is not None:
            reader.warnings.append(ConfigWarning(text))
    realtime = _realtime(reader, tree)
    provider_id = reader.get(tree, "model_provider", "model_provider", str, "openai")
    provider = _provider(reader, tree, provider_id)
    roots, network_access, exclude_tmpdir, exclude_slash_tmp = _sandbox_workspace_write(
        reader, tree, codex_home
    )
    projects = reader.table(tree, "projects", "projects")
    for project, entry in projects.items():
        if isinstance(entry, dict) and "trust_level" in entry:
            reader.choice(
                entry, "trust_level", f"projects.{project}.trust_level", TRUST_LEVELS, None
            )
    notify = reader.string_list(tree, "notify", "notify")
    context_window = reader.get(tree, "model_context_window", "model_context_window", int, None)
    if context_window is not None and context_window <= 0:
        raise reader.fail("model_context_window", f"must be > 0, found {context_window}")
    shell_environment_policy = parse_shell_environment_policy(
        tree.get("shell_environment_policy"),
        fail=reader.fail,
        warn=lambda text: reader.warnings.append(ConfigWarning(text)),
    )
    return Config(
        codex_home=codex_home,
        model=reader.get(tree, "model", "model", str, DEFAULT_MODEL),
        approval_policy=approval_policy,
        sandbox_mode=sandbox_mode,
        network_access=network_access,
        provider=provider,
        realtime=realtime,
        features=features,
        shell_environment_policy=shell_environment_policy,
        compact_prompt=_blank_to_none(
            reader.get(tree, "compact_prompt", "compact_prompt", str, None)
        ),
        model_auto_compact_token_limit=reader.get(
            tree, "model_auto_compact_token_limit", "model_auto_compact_token_limit", int, None
        ),
        base_instructions=_model_instructions(reader, tree, cwd or codex_home),
        developer_instructions=reader.get(
            tree, "developer_instructions", "developer_instructions", str, None
        ),
        warnings=tuple(reader.warnings),
        profile=profile,
        reasoning_effort=reader.choice(
            tree, "model_reasoning_effort", "model_reasoning_effort", REASONING_EFFORTS, None
        ),
        reasoning_summary=reader.choice(
            tree, "model_reasoning_summary", "model_reasoning_summary", REASONING_SUMMARIES, None
        ),
        verbosity=reader.choice(tree, "model_verbosity", "model_verbosity", VERBOSITIES, None),
        supports_reasoning_summaries=reader.get(
            tree,
            "model_supports_reasoning_summaries",
            "model_supports_reasoning_summaries",
            bool,
            None,
        ),
        model_context_window=context_window,
        service_tier=reader.choice(tree, "service_tier", "service_tier", SERVICE_TIERS, None),
        writable_roots=roots,
        exclude_tmpdir_env_var=exclude_tmpdir,
        exclude_slash_tmp=exclude_slash_tmp,
        notify=tuple(notify),
        personality=reader.choice(tree, "personality", "personality", PERSONALITIES, None),
        forced_login_method=reader.choice(
            tree, "forced_login_method", "forced_login_method", FORCED_LOGIN_METHODS, None
        ),
        cwd=cwd,
        trust_level=trust_level(merged, cwd) if cwd is not None else None,
        tree=merged,
        stack=stack,
        feature_table=feature_table,
        requirements=requirements,
    )
