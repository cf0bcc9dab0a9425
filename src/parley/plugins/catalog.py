"""What the plugin methods answer: marketplace listings, plugin details, install, uninstall, and
the MCP servers installed plugins bring. Reads the files afresh on every call (no cache)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml

from parley.mcp.config_file import feature_enabled, read_tree
from parley.plugins import manifest as manifests
from parley.plugins.marketplace import (
    CURATED_DISPLAY_NAME,
    CURATED_NAME,
    Marketplace,
    MarketplaceError,
    MarketplacePlugin,
    curated_root,
    current_product,
    discover,
    find_plugin,
    load,
)
from parley.plugins.store import (
    DEFAULT_VERSION,
    PluginId,
    PluginStore,
    PluginStoreError,
    configured,
    set_enabled,
)
from parley.skills.loader import SkillFileError, parse_skill_file
from parley.skills.settings import disabled_paths

APP_INSTALL_URL = "https://chatgpt.com/apps/{slug}/{id}"


def plugins_enabled(tree: dict[str, Any]) -> bool:
    return feature_enabled(tree, "plugins", default=True)


def _summary(
    plugin: MarketplacePlugin, marketplace: str, store: PluginStore, states: dict[str, bool]
) -> dict[str, Any]:
    plugin_id = f"{plugin.name}@{marketplace}"
    return {
        "id": plugin_id,
        "name": plugin.name,
        "source": {"type": "local", "path": str(plugin.source)},
        "installed": plugin_id in states and store.is_installed(PluginId(plugin.name, marketplace)),
        "enabled": states.get(plugin_id, False),
        "installPolicy": plugin.install_policy,
        "authPolicy": plugin.auth_policy,
        "interface": plugin.interface,
    }


def list_marketplaces(
    codex_home: Path, roots: list[Path], home: Path | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(marketplace entries, load errors) for `plugin/list`."""
    tree = read_tree(codex_home)
    if not plugins_enabled(tree):
        return [], []
    all_roots = list(roots)
    if curated_root(codex_home).is_dir():
        all_roots.append(curated_root(codex_home))
    all_roots = sorted(set(all_roots))
    store, states = PluginStore(codex_home), configured(tree)
    entries: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for path in discover(all_roots, home):
        try:
            marketplace = load(path)
        except MarketplaceError as exc:
            errors.append({"marketplacePath": str(path), "message": str(exc)})
            continue
        plugins = []
        for plugin in marketplace.plugins:
            key = f"{plugin.name}@{marketplace.name}"
            if key in seen or not plugin.product_allowed:
                continue
            seen.add(key)
            plugins.append(_summary(plugin, marketplace.name, store, states))
        if not plugins:
            continue
        display = (
            CURATED_DISPLAY_NAME if marketplace.name == CURATED_NAME else marketplace.display_name
        )
        entries.append(
            {
                "name": marketplace.name,
                "path": str(marketplace.path),
                "interface": {"displayName": display} if display is not None else None,
                "plugins": plugins,
            }
        )
    return entries, errors


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "app"


def app_summaries(app_ids: list[str]) -> list[dict[str, Any]]:
    """Apps as an API-key user sees them: no directory to look names up in, so each is named by
    its id and needs a ChatGPT sign-in."""
    return [
        {
            "id": app_id,
            "name": app_id,
            "description": None,
            "installUrl": APP_INSTALL_URL.format(slug=_slug(app_id), id=app_id),
            "needsAuth": True,
        }
        for app_id in app_ids
    ]


def _skill_allowed(skill_file: Path) -> bool:
    metadata = skill_file.parent / "agents" / "openai.yaml"
    try:
        data = yaml.safe_load(metadata.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return True
    policy = data.get("policy") if isinstance(data, dict) else None
    products = policy.get("products") if isinstance(policy, dict) else None
    if not isinstance(products, list):
        return True
    return current_product() in [str(p).upper() for p in products]


def plugin_skills(plugin_name: str, skills_dir: Path | None, tree: dict[str, Any]) -> list[Any]:
    """`SkillSummary` entries for a plugin's bundled skills, named `<plugin>:<skill>`."""
    if skills_dir is None or not skills_dir.is_dir():
        return []
    found = []
    for skill_file in sorted(skills_dir.glob("*/SKILL.md")):
        if not _skill_allowed(skill_file):
            continue
        try:
            skill = parse_skill_file(skill_file, "user")
        except SkillFileError:
            continue
        found.append(dataclasses.replace(skill, name=f"{plugin_name}:{skill.name}"))
    disabled = disabled_paths(found, tree)
    return [
        {
            "name": skill.name,
            "description": skill.description,
            "shortDescription": skill.short_description,
            "interface": None,
            "path": str(skill.path),
            "enabled": skill.path not in disabled,
        }
        for skill in found
    ]


def read_plugin(codex_home: Path, marketplace_path: Path, plugin_name: str) -> dict[str, Any]:
    tree = read_tree(codex_home)
    if not plugins_enabled(tree):
        raise MarketplaceError("plugins feature is disabled")
    marketplace: Marketplace = load(marketplace_path)
    plugin = next((p for p in marketplace.plugins if p.name == plugin_name), None)
    if plugin is None:
        raise MarketplaceError(
            f"plugin `{plugin_name}` was not found in marketplace `{marketplace.name}`"
        )
    manifest = manifests.load_manifest(plugin.source)
    if manifest is None:
        manifest_file = plugin.source / manifests.MANIFEST_PATH
        raise MarketplaceError(f"missing or invalid {manifests.MANIFEST_PATH}: {manifest_file}")
    store, states = PluginStore(codex_home), configured(tree)
    return {
        "marketplaceName": marketplace.name,
        "marketplacePath": str(marketplace.path),
        "summary": _summary(plugin, marketplace.name, store, states),
        "description": manifest.description,
        "skills": plugin_skills(plugin.name, manifest.skills_dir, tree),
        "apps": app_summaries(manifests.app_ids(manifest)),
        "mcpServers": sorted(manifests.mcp_servers(manifest)),
    }


def install(codex_home: Path, marketplace_path: Path, plugin_name: str) -> dict[str, Any]:
    marketplace_name, entry = find_plugin(marketplace_path, plugin_name)
    marketplace = load(marketplace_path)
    plugin = next(p for p in marketplace.plugins if p.name == entry["name"])
    if plugin.install_policy == "NOT_AVAILABLE" or not plugin.product_allowed:
        raise MarketplaceError(
            f"plugin `{plugin_name}` is not available for install in marketplace "
            f"`{marketplace_name}`"
        )
    plugin_id = PluginId.parse(f"{plugin.name}@{marketplace_name}")
    manifest = manifests.load_manifest(plugin.source)
    if manifest is None:
        raise PluginStoreError(
            f"missing or invalid plugin manifest: {plugin.source / manifests.MANIFEST_PATH}",
            client_fault=True,
        )
    if manifest.name != plugin.name:
        raise PluginStoreError(
            f"plugin manifest name `{manifest.name}` does not match marketplace plugin name "
            f"`{plugin.name}`",
            client_fault=True,
        )
    PluginStore(codex_home).install(plugin.source, plugin_id, manifest.version or DEFAULT_VERSION)
    set_enabled(codex_home, plugin_id, True)
    # Which of the apps still need sign-in is for the caller to learn (ChatGPT sign-in only).
    return {
        "authPolicy": plugin.auth_policy,
        "appsNeedingAuth": [],
        "appIds": manifests.app_ids(manifest),
    }


def uninstall(codex_home: Path, plugin_key: str) -> None:
    plugin_id = PluginId.parse(plugin_key)
    PluginStore(codex_home).uninstall(plugin_id)
    set_enabled(codex_home, plugin_id, None)


def plugin_mcp_servers(codex_home: Path, tree: dict[str, Any]) -> dict[str, Any]:
    """`mcpServers` tables of installed, enabled plugins (for the MCP configuration)."""
    if not plugins_enabled(tree):
        return {}
    store = PluginStore(codex_home)
    servers: dict[str, Any] = {}
    for key, enabled in configured(tree).items():
        if not enabled:
            continue
        try:
            root = store.active_root(PluginId.parse(key))
        except PluginStoreError:
            continue
        manifest = manifests.load_manifest(root) if root is not None else None
        if manifest is not None:
            for name, raw in manifests.mcp_servers(manifest).items():
                servers.setdefault(name, raw)
    return servers


def plugin_skill_roots(codex_home: Path, tree: dict[str, Any]) -> list[tuple[str, Path]]:
    """(plugin name, skills folder) of installed, enabled plugins."""
    if not plugins_enabled(tree):
        return []
    store = PluginStore(codex_home)
    roots = []
    for key, enabled in configured(tree).items():
        if not enabled:
            continue
        try:
            plugin_id = PluginId.parse(key)
        except PluginStoreError:
            continue
        root = store.active_root(plugin_id)
        manifest = manifests.load_manifest(root) if root is not None else None
        if manifest is not None and manifest.skills_dir is not None:
            roots.append((plugin_id.plugin, manifest.skills_dir))
    return roots
