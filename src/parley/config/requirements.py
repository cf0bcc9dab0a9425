"""Administrator requirements: what `requirements.toml` (and a legacy `managed_config.toml`)
allow, reported by `configRequirements/read` and enforced on the configuration.

Sources, first one to set a field wins (as the reference, for a user signed in with an API key
and no device management or cloud requirements):

    system  <system config dir>/requirements.toml   (`/etc/codex`, see `system_config_dir`)
    legacy  managed_config.toml: `approval_policy = X` allows only X; `sandbox_mode = Y`
            allows read-only and Y; `approvals_reviewer = Z` allows Z (and `user` when Z is
            `guardian_subagent`)

Enforcement, as the reference: a configured (or requested) approval policy that is not
allowed falls back to the first allowed one, a sandbox mode to `read-only` (which an
allow-list must contain), each with a warning; an unset approval policy quietly takes the first
allowed one; `features` pins feature flags whatever the user's `[features]` say. The other
fields (web search modes, reviewers, residency, network) are read, validated as far as their
shape and reported; Parley has nothing they would constrain.

Nothing here reads files except `load_requirements`; `Requirements` is plain values.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parley.config.layers import (
    ConfigError,
    managed_config_path,
    read_toml,
    system_config_dir,
)

REQUIREMENTS_FILE = "requirements.toml"
APPROVAL_POLICIES = ("untrusted", "on-failure", "on-request", "never")
REVIEWERS = ("user", "guardian_subagent")
SANDBOX_MODES = ("read-only", "workspace-write", "danger-full-access", "external-sandbox")
WEB_SEARCH_MODES = ("disabled", "cached", "live")
RESIDENCIES = ("us",)
# Fields a requirements file may hold (`feature_requirements` is an alias of `features`).
FIELDS = (
    "allowed_approval_policies",
    "allowed_approvals_reviewers",
    "allowed_sandbox_modes",
    "allowed_web_search_modes",
    "features",
    "mcp_servers",
    "apps",
    "rules",
    "enforce_residency",
    "experimental_network",
    "guardian_policy_config",
)
NETWORK_FLAGS = (
    "enabled",
    "allow_upstream_proxy",
    "dangerously_allow_non_loopback_proxy",
    "dangerously_allow_all_unix_sockets",
    "managed_allowed_domains_only",
    "danger_full_access_denylist_only",
    "allow_local_binding",
)


@dataclass(frozen=True)
class Requirements:
    """The merged requirements: field name → (value, the file that set it)."""

    fields: Mapping[str, tuple[Any, Path]] = field(default_factory=dict)

    def value(self, name: str) -> Any:
        entry = self.fields.get(name)
        return entry[0] if entry is not None else None

    def source(self, name: str) -> Path | None:
        entry = self.fields.get(name)
        return entry[1] if entry is not None else None

    def is_empty(self) -> bool:
        for name, (value, _source) in self.fields.items():
            if name in ("features", "apps") and not value:
                continue
            if name == "guardian_policy_config" and not str(value).strip():
                continue
            return False
        return True

    def merge_unset(self, tree: Mapping[str, Any], source: Path) -> Requirements:
        """These requirements, with the fields they lack taken from `tree`."""
        merged = dict(self.fields)
        for name, value in tree.items():
            if name not in merged:
                merged[name] = (value, source)
        return Requirements(merged)

    # ---- enforcement -------------------------------------------------------------------
    def disallowed(self, name: str, allowed_field: str, candidate: str) -> str | None:
        """The reference's message when `candidate` is outside `allowed_field`, else None."""
        allowed = self.value(allowed_field)
        if allowed is None or candidate in allowed:
            return None
        listed = "[" + ", ".join(allowed) + "]"
        return (
            f"invalid value for `{name}`: `{candidate}` is not in the allowed set {listed} "
            f"(set by {self.source(allowed_field)})"
        )

    def approval_policy(self, configured: str, explicit: bool) -> tuple[str, str | None]:
        """The approval policy to use and, when the configured one was refused, a warning."""
        problem = self.disallowed("approval_policy", "allowed_approval_policies", configured)
        if problem is None:
            return configured, None
        fallback = str(self.value("allowed_approval_policies")[0])
        if not explicit:
            return fallback, None
        return fallback, fallback_warning("approval_policy", fallback, problem)

    def sandbox_mode(self, configured: str) -> tuple[str, str | None]:
        problem = self.disallowed("sandbox_mode", "allowed_sandbox_modes", configured)
        if problem is None:
            return configured, None
        return "read-only", fallback_warning("sandbox_mode", "read-only", problem)

    def pinned_features(self) -> dict[str, bool]:
        return dict(self.value("features") or {})

    # ---- wire --------------------------------------------------------------------------
    def to_wire(self) -> dict[str, Any] | None:
        """`ConfigRequirements`, or None when nothing is required (as the reference)."""
        if self.is_empty():
            return None
        sandbox = self.value("allowed_sandbox_modes")
        web_search = self.value("allowed_web_search_modes")
        if web_search is not None and "disabled" not in web_search:
            web_search = [*web_search, "disabled"]
        network = self.value("experimental_network")
        return {
            "allowedApprovalPolicies": self.value("allowed_approval_policies"),
            "allowedApprovalsReviewers": self.value("allowed_approvals_reviewers"),
            "allowedSandboxModes": (
                [mode for mode in sandbox if mode != "external-sandbox"]
                if sandbox is not None
                else None
            ),
            "allowedWebSearchModes": web_search,
            "featureRequirements": self.value("features"),
            "enforceResidency": self.value("enforce_residency"),
            "network": network_wire(network) if network is not None else None,
        }


def fallback_warning(name: str, fallback: str, problem: str) -> str:
    return (
        f"Configured value for `{name}` is disallowed by requirements; falling back to "
        f"required value {fallback}. Details: {problem}"
    )


def network_wire(network: Mapping[str, Any]) -> dict[str, Any]:
    domains = network.get("domains")
    sockets = network.get("unix_sockets")
    wire: dict[str, Any] = {
        _camel(flag): network.get(flag) for flag in ("enabled", "http_port", "socks_port")
    }
    wire |= {_camel(flag): network.get(flag) for flag in NETWORK_FLAGS}
    wire["domains"] = domains
    wire["allowedDomains"] = _keys_with(domains, "allow")
    wire["deniedDomains"] = _keys_with(domains, "deny")
    wire["unixSockets"] = sockets
    wire["allowUnixSockets"] = _keys_with(sockets, "allow")
    return wire


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _keys_with(table: Mapping[str, str] | None, wanted: str) -> list[str] | None:
    if table is None:
        return None
    keys = [key for key, value in table.items() if value == wanted]
    return keys or None


# ---- parsing ---------------------------------------------------------------------------


class _Parser:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, reason: str) -> ConfigError:
        return ConfigError(f"Error parsing requirements file {self.path}: {reason}", path=self.path)

    def choices(self, tree: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> list[str]:
        values = tree[name]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise self.fail(f"`{name}` must be a list of strings")
        for value in values:
            if value not in allowed:
                raise self.fail(
                    f"`{name}`: unknown variant `{value}`, expected one of {', '.join(allowed)}"
                )
        if not values:
            raise ConfigError(f"field `{name}` cannot be empty", path=self.path)
        return list(values)

    def bool_map(self, tree: Mapping[str, Any], name: str) -> dict[str, bool]:
        table = tree[name]
        if not isinstance(table, dict) or not all(isinstance(v, bool) for v in table.values()):
            raise self.fail(f"`{name}` must be a table of booleans")
        return dict(table)

    def network(self, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise self.fail("`experimental_network` must be a table")
        network: dict[str, Any] = {}
        for flag in NETWORK_FLAGS:
            if flag in raw:
                if not isinstance(raw[flag], bool):
                    raise self.fail(f"`experimental_network.{flag}` must be a boolean")
                network[flag] = raw[flag]
        for port in ("http_port", "socks_port"):
            if port in raw:
                value = raw[port]
                if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 65536:
                    raise self.fail(f"`experimental_network.{port}` must be a port number")
                network[port] = value
        domains = self._permissions(raw, "domains", ("allow", "deny"))
        if domains is not None and ("allowed_domains" in raw or "denied_domains" in raw):
            raise self.fail(
                "`experimental_network.domains` cannot be combined with legacy "
                "`allowed_domains` or `denied_domains`"
            )
        if domains is None:
            legacy = {name: "allow" for name in self._names(raw, "allowed_domains")}
            legacy |= {name: "deny" for name in self._names(raw, "denied_domains")}
            domains = legacy or None
        sockets = self._permissions(raw, "unix_sockets", ("allow", "none"))
        if sockets is not None and "allow_unix_sockets" in raw:
            raise self.fail(
                "`experimental_network.unix_sockets` cannot be combined with legacy "
                "`allow_unix_sockets`"
            )
        if sockets is None:
            sockets = {name: "allow" for name in self._names(raw, "allow_unix_sockets")} or None
        network["domains"] = domains
        network["unix_sockets"] = sockets
        return network

    def _permissions(
        self, raw: Mapping[str, Any], name: str, allowed: tuple[str, ...]
    ) -> dict[str, str] | None:
        if name not in raw:
            return None
        table = raw[name]
        if not isinstance(table, dict) or not all(v in allowed for v in table.values()):
            raise self.fail(
                f"`experimental_network.{name}` must map names to one of {', '.join(allowed)}"
            )
        return dict(table)

    def _names(self, raw: Mapping[str, Any], name: str) -> list[str]:
        values = raw.get(name) or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise self.fail(f"`experimental_network.{name}` must be a list of strings")
        return list(values)


def parse_requirements(tree: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """The fields of one requirements file, validated (unknown keys are ignored, as serde)."""
    from parley.catalog.features import FEATURES_BY_KEY, LEGACY_ALIASES

    parser = _Parser(path)
    tree = dict(tree)
    if "feature_requirements" in tree and "features" not in tree:
        tree["features"] = tree.pop("feature_requirements")
    parsed: dict[str, Any] = {}
    for name, allowed in (
        ("allowed_approval_policies", APPROVAL_POLICIES),
        ("allowed_approvals_reviewers", REVIEWERS),
        ("allowed_sandbox_modes", SANDBOX_MODES),
        ("allowed_web_search_modes", WEB_SEARCH_MODES),
    ):
        if name in tree:
            parsed[name] = parser.choices(tree, name, allowed)
    modes = parsed.get("allowed_sandbox_modes")
    if modes is not None and "read-only" not in modes:
        raise ConfigError(
            f"invalid value for `allowed_sandbox_modes`: `[{', '.join(modes)}]` is not in the "
            f"allowed set must include 'read-only' to allow any SandboxPolicy (set by {path})",
            path=path,
        )
    if "features" in tree:
        features = parser.bool_map(tree, "features")
        for key in features:
            if key in LEGACY_ALIASES:
                raise ConfigError(
                    f"invalid `features` requirement `{key}` from {path}: use canonical feature "
                    f"key `{LEGACY_ALIASES[key]}`",
                    path=path,
                )
            if key not in FEATURES_BY_KEY:
                raise ConfigError(f"invalid `features` requirement `{key}` from {path}", path=path)
        parsed["features"] = features
    if "enforce_residency" in tree:
        if tree["enforce_residency"] not in RESIDENCIES:
            raise parser.fail(f"`enforce_residency`: unknown variant `{tree['enforce_residency']}`")
        parsed["enforce_residency"] = tree["enforce_residency"]
    if "experimental_network" in tree:
        parsed["experimental_network"] = parser.network(tree["experimental_network"])
    if "guardian_policy_config" in tree:
        text = tree["guardian_policy_config"]
        if not isinstance(text, str):
            raise parser.fail("`guardian_policy_config` must be a string")
        if text.strip():
            parsed["guardian_policy_config"] = text.strip()
    for name in ("mcp_servers", "apps", "rules"):
        if name in tree:
            if not isinstance(tree[name], dict):
                raise parser.fail(f"`{name}` must be a table")
            parsed[name] = copy.deepcopy(tree[name])
    return parsed


def legacy_requirements(managed: Mapping[str, Any]) -> dict[str, Any]:
    """A legacy `managed_config.toml`'s settings read as requirements (as the reference). Its
    values are validated where it is read as a configuration layer."""
    parsed: dict[str, Any] = {}
    approval = managed.get("approval_policy")
    if isinstance(approval, str) and approval in APPROVAL_POLICIES:
        parsed["allowed_approval_policies"] = [approval]
    reviewer = managed.get("approvals_reviewer")
    if isinstance(reviewer, str) and reviewer in REVIEWERS:
        reviewers = [reviewer] + (["user"] if reviewer == "guardian_subagent" else [])
        parsed["allowed_approvals_reviewers"] = reviewers
    sandbox = managed.get("sandbox_mode")
    if isinstance(sandbox, str) and sandbox in SANDBOX_MODES:
        parsed["allowed_sandbox_modes"] = ["read-only"] + (
            [sandbox] if sandbox != "read-only" else []
        )
    return parsed


def load_requirements() -> Requirements:
    """Read the requirement sources (a `ConfigError` names a file that cannot be used)."""
    requirements = Requirements()
    system_file = system_config_dir() / REQUIREMENTS_FILE
    tree = read_toml(system_file)
    if tree is not None:
        requirements = requirements.merge_unset(parse_requirements(tree, system_file), system_file)
    managed_file = managed_config_path()
    managed = read_toml(managed_file)
    if managed is not None:
        requirements = requirements.merge_unset(legacy_requirements(managed), managed_file)
    return requirements


__all__ = ["Requirements", "load_requirements", "parse_requirements"]
