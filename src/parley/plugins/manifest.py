"""A plugin's `.codex-plugin/plugin.json`, its bundled skills (`skills/`), MCP servers
(`.mcp.json`) and apps (`.app.json`), read as the reference reads them. Pure file reading."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

MANIFEST_PATH = ".codex-plugin/plugin.json"
MAX_DEFAULT_PROMPTS = 3
MAX_DEFAULT_PROMPT_LEN = 128


@dataclass
class PluginManifest:
    name: str
    version: str | None
    description: str | None
    interface: dict[str, Any] | None  # wire `PluginInterface`, paths made absolute
    skills_dir: Path | None = None
    mcp_servers_file: Path | None = None
    apps_file: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)


def resolve_relative(root: Path, value: Any) -> Path | None:
    """`./x/y` under `root`; anything else (absolute, `..`, no `./`) is ignored."""
    if not isinstance(value, str) or not value.startswith("./"):
        return None
    rest = value[2:]
    parts = PurePosixPath(rest).parts
    if not rest or any(part in ("..", ".") for part in parts):
        return None
    return root.joinpath(*parts)


def _default_prompts(value: Any) -> list[str] | None:
    raw = [value] if isinstance(value, str) else value if isinstance(value, list) else None
    if raw is None:
        return None
    prompts: list[str] = []
    for item in raw:
        if len(prompts) >= MAX_DEFAULT_PROMPTS:
            break
        if isinstance(item, str):
            text = " ".join(item.split())
            if text and len(text) <= MAX_DEFAULT_PROMPT_LEN:
                prompts.append(text)
    return prompts or None


def _text(raw: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = raw.get(key)
        if isinstance(value, str):
            return value
    return None


def interface_wire(root: Path, raw: Any) -> dict[str, Any] | None:
    if not isinstance(raw, dict):
        return None
    capabilities = raw.get("capabilities")
    screenshots = raw.get("screenshots")
    shots = [
        resolve_relative(root, s) for s in (screenshots if isinstance(screenshots, list) else [])
    ]
    composer = resolve_relative(root, raw.get("composerIcon"))
    logo = resolve_relative(root, raw.get("logo"))
    wire = {
        "displayName": _text(raw, "displayName"),
        "shortDescription": _text(raw, "shortDescription"),
        "longDescription": _text(raw, "longDescription"),
        "developerName": _text(raw, "developerName"),
        "category": _text(raw, "category"),
        "capabilities": [c for c in capabilities if isinstance(c, str)]
        if isinstance(capabilities, list)
        else [],
        "websiteUrl": _text(raw, "websiteUrl", "websiteURL"),
        "privacyPolicyUrl": _text(raw, "privacyPolicyUrl", "privacyPolicyURL"),
        "termsOfServiceUrl": _text(raw, "termsOfServiceUrl", "termsOfServiceURL"),
        "defaultPrompt": _default_prompts(raw.get("defaultPrompt")),
        "brandColor": _text(raw, "brandColor"),
        "composerIcon": str(composer) if composer else None,
        "logo": str(logo) if logo else None,
        "screenshots": [str(s) for s in shots if s is not None],
    }
    has_fields = any(v for v in wire.values())
    return wire if has_fields else None


def load_manifest(root: Path) -> PluginManifest | None:
    path = root / MANIFEST_PATH
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    if not isinstance(raw, dict):
        return None
    raw_name = raw.get("name")
    name = raw_name if isinstance(raw_name, str) else ""
    if not name.strip():
        name = root.name
    version = raw.get("version")
    version = version.strip() if isinstance(version, str) and version.strip() else None
    description = raw.get("description")
    return PluginManifest(
        name=name,
        version=version,
        description=description if isinstance(description, str) else None,
        interface=interface_wire(root, raw.get("interface")),
        skills_dir=resolve_relative(root, raw.get("skills")) or root / "skills",
        mcp_servers_file=resolve_relative(root, raw.get("mcpServers")) or root / ".mcp.json",
        apps_file=resolve_relative(root, raw.get("apps")) or root / ".app.json",
        raw=raw,
    )


def _json_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def mcp_servers(manifest: PluginManifest) -> dict[str, Any]:
    """The `mcpServers` tables a plugin bundles (same keys as `[mcp_servers.*]`)."""
    servers = _json_file(manifest.mcp_servers_file).get("mcpServers")
    return dict(servers) if isinstance(servers, dict) else {}


def app_ids(manifest: PluginManifest) -> list[str]:
    apps = _json_file(manifest.apps_file).get("apps")
    if not isinstance(apps, dict):
        return []
    ids = []
    for entry in apps.values():
        app_id = entry.get("id") if isinstance(entry, dict) else None
        if isinstance(app_id, str) and app_id:
            ids.append(app_id)
    return ids
