"""Installed plugins: copies under `$CODEX_HOME/plugins/cache/<marketplace>/<plugin>/<version>`
(version from the manifest, else `local`), and their `[plugins."<id>"]` config entries."""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from parley.mcp.config_file import edit_tree, table

CACHE_DIR = Path("plugins/cache")
DEFAULT_VERSION = "local"
_VERSION = re.compile(r"^[A-Za-z0-9._+-]+$")
_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")


class PluginStoreError(Exception):
    """Installing or removing a plugin failed; `client_fault` when the request was wrong."""

    def __init__(self, message: str, client_fault: bool = False) -> None:
        super().__init__(message)
        self.client_fault = client_fault


@dataclass(frozen=True)
class PluginId:
    plugin: str
    marketplace: str

    @property
    def key(self) -> str:
        return f"{self.plugin}@{self.marketplace}"

    @classmethod
    def parse(cls, text: str) -> PluginId:
        plugin, sep, marketplace = text.rpartition("@")
        if not sep or not _SEGMENT.match(plugin or "") or not _SEGMENT.match(marketplace):
            raise PluginStoreError(
                f"invalid plugin id `{text}`: expected `<plugin>@<marketplace>`", client_fault=True
            )
        return cls(plugin, marketplace)


def valid_version(version: str) -> bool:
    return version not in (".", "..") and bool(_VERSION.match(version))


class PluginStore:
    def __init__(self, codex_home: Path) -> None:
        self.codex_home = codex_home
        self.root = codex_home / CACHE_DIR

    def base(self, plugin_id: PluginId) -> Path:
        return self.root / plugin_id.marketplace / plugin_id.plugin

    def active_root(self, plugin_id: PluginId) -> Path | None:
        try:
            versions = sorted(
                entry.name
                for entry in self.base(plugin_id).iterdir()
                if entry.is_dir() and valid_version(entry.name)
            )
        except OSError:
            return None
        if not versions:
            return None
        version = DEFAULT_VERSION if DEFAULT_VERSION in versions else versions[-1]
        return self.base(plugin_id) / version

    def is_installed(self, plugin_id: PluginId) -> bool:
        return self.active_root(plugin_id) is not None

    def install(self, source: Path, plugin_id: PluginId, version: str) -> Path:
        if not source.is_dir():
            raise PluginStoreError(f"plugin source path is not a directory: {source}")
        if not valid_version(version):
            raise PluginStoreError(f"invalid plugin version: {version}")
        base = self.base(plugin_id)
        base.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{plugin_id.plugin}-", dir=base.parent))
        try:
            shutil.copytree(source, staging / version, symlinks=True)
            if base.exists():
                shutil.rmtree(base)
            staging.rename(base)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise PluginStoreError(f"failed to install plugin: {exc}") from None
        return base / version

    def uninstall(self, plugin_id: PluginId) -> None:
        base = self.base(plugin_id)
        if base.exists():
            try:
                shutil.rmtree(base)
            except OSError as exc:
                raise PluginStoreError(f"failed to remove plugin files: {exc}") from None


def configured(tree: dict[str, Any]) -> dict[str, bool]:
    """`[plugins."<id>"]` entries: id -> enabled."""
    entries = table(tree, "plugins")
    return {
        key: value.get("enabled") is True
        for key, value in entries.items()
        if isinstance(value, dict)
    }


def set_enabled(codex_home: Path, plugin_id: PluginId, enabled: bool | None) -> None:
    """Write `enabled` for the plugin, or drop its entry when `enabled` is None."""

    def change(document: Any) -> None:
        plugins = document.get("plugins")
        if enabled is None:
            if plugins is not None and plugin_id.key in plugins:
                del plugins[plugin_id.key]
                if not plugins:
                    del document["plugins"]
            return
        if plugins is None:
            plugins = tomlkit.table(is_super_table=True)
            document["plugins"] = plugins
        entry = plugins.get(plugin_id.key)
        if entry is None:
            entry = tomlkit.table()
            plugins[plugin_id.key] = entry
        entry["enabled"] = enabled

    edit_tree(codex_home, change)
