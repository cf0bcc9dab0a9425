"""The user's `config.toml` as a raw tree, read fresh, and small in-place edits to it.

MCP servers, skills and plugins are configured in tables the typed `Config` does not model;
their readers take the raw tree from here. Edits go through tomlkit so the user's comments and
layout survive (`skills/config/write`, `plugin/install`, `plugin/uninstall`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.toml_document import TOMLDocument

CONFIG_FILE = "config.toml"


def config_path(codex_home: Path) -> Path:
    return codex_home / CONFIG_FILE


def read_tree(codex_home: Path) -> dict[str, Any]:
    """The parsed file, or an empty tree when it is missing or unreadable (the server refused
    to start on an invalid file, so a bad file here is one edited since; it reads as empty)."""
    path = config_path(codex_home)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def edit_tree(codex_home: Path, change: Callable[[TOMLDocument], None]) -> None:
    """Apply `change` to the document and write it back (creating the file if needed)."""
    path = config_path(codex_home)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    document = tomlkit.parse(text)
    change(document)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tomlkit.dumps(document), encoding="utf-8")


def table(tree: dict[str, Any], key: str) -> dict[str, Any]:
    value = tree.get(key)
    return value if isinstance(value, dict) else {}


def feature_enabled(tree: dict[str, Any], name: str, default: bool = False) -> bool:
    value = table(tree, "features").get(name)
    return value if isinstance(value, bool) else default
