"""What a turn needs to know about its provider, model, workspace and policies (plain values)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from parley.config.shell_environment import ShellEnvironmentPolicy


@dataclass(frozen=True)
class ProviderSettings:
    """Where the Responses API is and how hard to retry it."""

    base_url: str  # e.g. "http://127.0.0.1:PORT/v1"; the endpoint is base_url + "/responses"
    request_max_retries: int = 4
    stream_max_retries: int = 5
    name: str = "OpenAI"
    # First retry delay; later ones double (with ±10% jitter). Tests make it tiny.
    retry_base_delay_s: float = 0.2
    # A stream with no SSE event for this long fails the attempt (provider stream_idle_timeout_ms).
    stream_idle_timeout_s: float = 300.0

    @property
    def responses_url(self) -> str:
        return self.base_url.rstrip("/") + "/responses"


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
    features: frozenset[str] = frozenset()  # enabled feature flags (config [features])
    compact_prompt: str | None = None  # replaces Parley's own summary request
    auto_compact_token_limit: int | None = None  # compact when the context reaches this size
    # Which variables commands get (`[shell_environment_policy]`).
    shell_environment: ShellEnvironmentPolicy = field(default_factory=ShellEnvironmentPolicy)
    # Parley's CODEX_HOME: kept read-only in the sandbox; holds the shell snapshots. Without
    # it commands get no snapshot (a login shell each).
    codex_home: Path | None = None
