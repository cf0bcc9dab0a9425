"""What a turn needs to know about its provider, model, workspace and policies (plain values)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.config.shell_environment import ShellEnvironmentPolicy

# The reference sends OpenAI's `fast` tier under the API's name for it.
SERVICE_TIER_WIRE = {"fast": "priority"}


@dataclass(frozen=True)
class ProviderSettings:
    """Where the Responses API is and how hard to retry it."""

    base_url: str  # e.g. "http://127.0.0.1:PORT/v1"; the endpoint is base_url + "/responses"
    request_max_retries: int = 4
    stream_max_retries: int = 5
    name: str = "OpenAI"
    # First retry delay; later ones double (with ±10% jitter). Tests make it tiny.
    retry_base_delay_s: float = 0.2
    # Added to every request: `?key=value` (e.g. an Azure `api-version`) and headers.
    query_params: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    # A stream with no SSE event for this long fails the attempt (provider stream_idle_timeout_ms).
    stream_idle_timeout_s: float = 300.0
    # The provider's `supports_websockets`: the Responses API over a WebSocket (see
    # `parley.agent.responses_socket`), HTTP when the socket cannot be opened.
    websockets: bool = False

    @property
    def responses_url(self) -> str:
        return self.base_url.rstrip("/") + "/responses"


@dataclass(frozen=True)
class ModelOptions:
    """The Responses request fields that depend on the model and the configuration."""

    reasoning_effort: str | None = None  # configured; else the model's default
    reasoning_summary: str | None = None  # configured; else the model's default
    verbosity: str | None = None  # configured; else the model's default
    service_tier: str | None = None  # "fast" | "flex"
    supports_reasoning_summaries: bool = False
    default_reasoning_effort: str | None = None
    default_reasoning_summary: str = "auto"
    support_verbosity: bool = False
    default_verbosity: str | None = None
    context_window: int | None = None  # usable tokens, for `thread/tokenUsage/updated`

    def body_fields(self) -> dict[str, Any]:
        """`reasoning`, `include`, `text` and `service_tier`, as the reference sets them: reasoning
        only for models that support reasoning summaries, verbosity only for models that
        support it."""
        fields: dict[str, Any] = {"reasoning": None, "include": []}
        if self.supports_reasoning_summaries:
            summary = self.reasoning_summary or self.default_reasoning_summary
            fields["reasoning"] = {
                "effort": self.reasoning_effort or self.default_reasoning_effort,
                "summary": None if summary == "none" else summary,
            }
            fields["include"] = ["reasoning.encrypted_content"]
        verbosity = (self.verbosity or self.default_verbosity) if self.support_verbosity else None
        if verbosity is not None:
            fields["text"] = {"verbosity": verbosity}
        if self.service_tier is not None:
            fields["service_tier"] = SERVICE_TIER_WIRE.get(self.service_tier, self.service_tier)
        return fields


@dataclass(frozen=True)
class WorkspaceRoots:
    """`[sandbox_workspace_write]` roots: extra writable folders, temp folders left out."""

    extra: tuple[Path, ...] = ()
    exclude_tmpdir_env_var: bool = False
    exclude_slash_tmp: bool = False

    def apply(self, roots: tuple[Path, ...]) -> tuple[Path, ...]:
        dropped: set[Path] = set()
        if self.exclude_slash_tmp:
            dropped.add(Path(os.path.realpath("/tmp")))
        tmpdir = os.environ.get("TMPDIR")
        if self.exclude_tmpdir_env_var and tmpdir:
            dropped.add(Path(os.path.realpath(tmpdir)))
        kept = [root for root in roots if Path(os.path.realpath(root)) not in dropped]
        for root in self.extra:
            if root not in kept:
                kept.append(root)
        return tuple(kept)


@dataclass(frozen=True)
class ConfiguredOptions:
    """What the configuration adds to a turn (see `parley.config.turn_options`)."""

    model: ModelOptions = field(default_factory=ModelOptions)
    workspace_roots: WorkspaceRoots = field(default_factory=WorkspaceRoots)
    notify: tuple[str, ...] = ()  # argv run after each completed turn
    personality: str | None = None  # `personality`, unless a turn/start chose one


@dataclass(frozen=True)
class TurnSettings:
    model: str
    provider: ProviderSettings
    api_key: str | None
    cwd: Path
    sandbox_mode: str  # "read-only" | "workspace-write" | "danger-full-access"
    approval_policy: str  # "never" | "on-request" | "on-failure" | "untrusted"
    network_access: bool = False  # for workspace-write
    base_instructions: str | None = None  # replaces the built-in system prompt
    developer_context: tuple[str, ...] = ()  # extra developer message parts
    originator: str = "parley"  # client name, sent as the `originator` header
    user_agent: str = "parley"
    configured: ConfiguredOptions = field(default_factory=lambda: ConfiguredOptions())
    features: frozenset[str] = frozenset()  # enabled feature flags (config [features])
    compact_prompt: str | None = None  # replaces Parley's own summary request
    auto_compact_token_limit: int | None = None  # compact when the context reaches this size
    # Which variables commands get (`[shell_environment_policy]`).
    shell_environment: ShellEnvironmentPolicy = field(default_factory=ShellEnvironmentPolicy)
    # Parley's CODEX_HOME: kept read-only in the sandbox; holds the shell snapshots. Without
    # it commands get no snapshot (a login shell each).
    codex_home: Path | None = None
