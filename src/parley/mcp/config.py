"""`[mcp_servers.<name>]` tables: what to start or connect to, and how long to wait.

The keys are the reference's: a stdio server has `command` (with `args`, `env`, `env_vars`,
`cwd`), a streamable-HTTP server has `url` (with `bearer_token_env_var`, `http_headers`,
`env_http_headers`); both take `enabled`, `startup_timeout_sec`, `tool_timeout_sec`,
`enabled_tools`, `disabled_tools` and per-tool `tools.<tool>.approval_mode`. A table that cannot be
used is reported as that server's startup error rather than failing the whole file. A server
marked `required = true` must start for a thread to start or resume.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.mcp.config_file import read_tree, table

DEFAULT_STARTUP_TIMEOUT_SEC = 30.0
DEFAULT_TOOL_TIMEOUT_SEC = 120.0


@dataclass(frozen=True)
class StdioTransport:
    command: str
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    env_vars: tuple[str, ...] = ()
    cwd: Path | None = None


@dataclass(frozen=True)
class HttpTransport:
    url: str
    bearer_token_env_var: str | None = None
    http_headers: dict[str, str] = field(default_factory=dict)
    env_http_headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class McpServerConfig:
    name: str
    transport: StdioTransport | HttpTransport | None
    enabled: bool = True
    required: bool = False  # a thread cannot start without it
    startup_timeout_sec: float = DEFAULT_STARTUP_TIMEOUT_SEC
    tool_timeout_sec: float = DEFAULT_TOOL_TIMEOUT_SEC
    enabled_tools: frozenset[str] | None = None
    disabled_tools: frozenset[str] = frozenset()
    tool_approval: dict[str, str] = field(default_factory=dict)
    problem: str | None = None  # why the table cannot be used

    def offers(self, tool: str) -> bool:
        if self.enabled_tools is not None and tool not in self.enabled_tools:
            return False
        return tool not in self.disabled_tools

    def approval_mode(self, tool: str) -> str:
        """ "auto" (ask when the tool's annotations say so), "prompt" (always) or "approve"."""
        return self.tool_approval.get(tool, "auto")


def _strings(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _string_map(value: Any) -> dict[str, str] | None:
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    return None


def _seconds(raw: dict[str, Any], key: str, default: float) -> float:
    value = raw.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return default


def parse_server(name: str, raw: Any) -> McpServerConfig:
    if not isinstance(raw, dict):
        return McpServerConfig(name, None, problem=f"`mcp_servers.{name}` must be a table")
    enabled = raw.get("enabled", True) is not False
    startup = _seconds(raw, "startup_timeout_sec", DEFAULT_STARTUP_TIMEOUT_SEC)
    if "startup_timeout_ms" in raw and "startup_timeout_sec" not in raw:
        startup = _seconds(raw, "startup_timeout_ms", startup * 1000) / 1000
    tool_timeout = _seconds(raw, "tool_timeout_sec", DEFAULT_TOOL_TIMEOUT_SEC)
    enabled_tools = _strings(raw.get("enabled_tools"))
    disabled_tools = _strings(raw.get("disabled_tools")) or ()
    approvals: dict[str, str] = {}
    for tool, settings in table(raw, "tools").items():
        mode = settings.get("approval_mode") if isinstance(settings, dict) else None
        if mode in ("auto", "prompt", "approve"):
            approvals[str(tool)] = mode
    common: dict[str, Any] = {
        "enabled": enabled,
        "required": raw.get("required") is True,
        "startup_timeout_sec": startup,
        "tool_timeout_sec": tool_timeout,
        "enabled_tools": frozenset(enabled_tools) if enabled_tools is not None else None,
        "disabled_tools": frozenset(disabled_tools),
        "tool_approval": approvals,
    }
    command, url = raw.get("command"), raw.get("url")
    if isinstance(command, str) and command and url is None:
        cwd = raw.get("cwd")
        transport: StdioTransport | HttpTransport = StdioTransport(
            command=command,
            args=_strings(raw.get("args")) or (),
            env=_string_map(raw.get("env")) or {},
            env_vars=_strings(raw.get("env_vars")) or (),
            cwd=Path(cwd) if isinstance(cwd, str) and cwd else None,
        )
    elif isinstance(url, str) and url and command is None:
        bearer = raw.get("bearer_token_env_var")
        transport = HttpTransport(
            url=url,
            bearer_token_env_var=bearer if isinstance(bearer, str) and bearer else None,
            http_headers=_string_map(raw.get("http_headers")) or {},
            env_http_headers=_string_map(raw.get("env_http_headers")) or {},
        )
    else:
        return McpServerConfig(
            name,
            None,
            problem=f"`mcp_servers.{name}` needs exactly one of `command` (stdio) or `url` "
            "(streamable HTTP)",
            **common,
        )
    return McpServerConfig(name, transport, **common)


def configured_servers(
    tree: dict[str, Any], bundled: dict[str, Any] | None = None
) -> dict[str, McpServerConfig]:
    """Every `[mcp_servers.*]` table plus the servers installed plugins bring (the config wins
    on a name clash), sorted by name, disabled ones included."""
    servers = {**(bundled or {}), **table(tree, "mcp_servers")}
    return {name: parse_server(name, servers[name]) for name in sorted(servers)}


def load_servers(
    codex_home: Path, tree: dict[str, Any] | None = None
) -> dict[str, McpServerConfig]:
    """The servers of `tree` (the merged configuration; by default `config.toml` alone)."""
    from parley.plugins.catalog import plugin_mcp_servers

    if tree is None:
        tree = read_tree(codex_home)
    return configured_servers(tree, plugin_mcp_servers(codex_home, tree))


def http_headers(transport: HttpTransport) -> dict[str, str]:
    """Request headers: the fixed ones, those read from the environment, the bearer token.
    Raises `ValueError` naming the variable when a required one is unset or empty."""
    headers = dict(transport.http_headers)
    for header, variable in transport.env_http_headers.items():
        value = os.environ.get(variable)
        if value:
            headers[header] = value
    if transport.bearer_token_env_var is not None:
        variable = transport.bearer_token_env_var
        token = os.environ.get(variable)
        if token is None:
            raise ValueError(f"Environment variable {variable} is not set")
        if not token:
            raise ValueError(f"Environment variable {variable} is empty")
        headers["Authorization"] = f"Bearer {token}"
    return headers
