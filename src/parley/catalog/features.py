"""The feature-flag registry (`[features]` names, stages, defaults), from `features.json`."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The only features `experimentalFeature/enablement/set` may change, in the reference's order.
RUNTIME_ENABLEMENT = ("apps", "plugins", "tool_search", "tool_suggest", "tool_call_mcp_elicitation")
# Old names the reference still reads, and the feature each stands for.
LEGACY_ALIASES = {
    "connectors": "apps",
    "enable_experimental_windows_sandbox": "experimental_windows_sandbox",
    "experimental_use_unified_exec_tool": "unified_exec",
    "experimental_use_freeform_apply_patch": "apply_patch_freeform",
    "include_apply_patch_tool": "apply_patch_freeform",
    "request_permissions": "exec_permission_approvals",
    "web_search": "web_search_request",
    "collab": "multi_agent",
    "memory_tool": "memories",
}


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    stage: str  # beta | underDevelopment | stable | deprecated | removed
    default_enabled: bool
    display_name: str | None = None
    description: str | None = None
    announcement: str | None = None

    def to_wire(self, enabled: bool) -> dict[str, Any]:
        return {
            "name": self.name,
            "stage": self.stage,
            "displayName": self.display_name,
            "description": self.description,
            "announcement": self.announcement,
            "enabled": enabled,
            "defaultEnabled": self.default_enabled,
        }


@functools.cache
def all_features() -> tuple[FeatureSpec, ...]:
    # A plain file read: `importlib.resources` alone would add tens of ms to every start-up.
    text = Path(__file__).with_name("features.json").read_text("utf-8")
    return tuple(
        FeatureSpec(
            name=entry["name"],
            stage=entry["stage"],
            default_enabled=entry["defaultEnabled"],
            display_name=entry.get("displayName"),
            description=entry.get("description"),
            announcement=entry.get("announcement"),
        )
        for entry in json.loads(text)["features"]
    )


FEATURES_BY_KEY: dict[str, FeatureSpec] = {spec.name: spec for spec in all_features()}


def default_enabled() -> frozenset[str]:
    return frozenset(spec.name for spec in all_features() if spec.default_enabled)


def enablement_problem(key: str) -> str | None:
    """Why `experimentalFeature/enablement/set` refuses `key`, or None."""
    if key in FEATURES_BY_KEY:
        if key in RUNTIME_ENABLEMENT:
            return None
        return (
            f"unsupported feature enablement `{key}`: currently supported features are "
            + ", ".join(RUNTIME_ENABLEMENT)
        )
    if key in LEGACY_ALIASES:
        return (
            f"invalid feature enablement `{key}`: use canonical feature key `{LEGACY_ALIASES[key]}`"
        )
    return f"invalid feature enablement `{key}`"
