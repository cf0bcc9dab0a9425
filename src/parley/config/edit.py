"""Edits to the user's `config.toml` that keep its comments and layout (tomlkit).

`apply_edits(codex_home, edits, expected_version, file_path)` checks the target is the user file
and its version is the one the client read, applies each edit (`replace` sets the value, `upsert`
merges tables into tables, a null value removes the key), validates the result as a whole, then
writes the file atomically. Failures are `ConfigWriteError`s carrying the reference's
`config_write_error_code`.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.items import Table

from parley.config.layers import ConfigError, Layer, load_layers, merge_into, version_of
from parley.config.loader import config_from_stack


class ConfigWriteError(Exception):
    """A refused write; `code` is the wire `config_write_error_code`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Edit:
    key_path: str
    value: Any  # JSON value; None removes the key
    merge_strategy: str = "replace"  # "replace" | "upsert"


@dataclass(frozen=True)
class WriteResult:
    path: Path
    version: str
    overridden: dict[str, Any] | None


def _segments(key_path: str) -> list[str]:
    if not key_path.strip():
        raise ConfigWriteError("configValidationError", "keyPath must not be empty")
    return key_path.split(".")


def _plain(value: Any) -> Any:
    """A JSON value as TOML can hold it (no nulls inside tables or arrays)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        if any(item is None for item in value):
            raise ConfigWriteError("configValidationError", "invalid value: null in an array")
        return [_plain(item) for item in value]
    return value


def _set(tree: dict[str, Any], segments: Sequence[str], value: Any, strategy: str) -> None:
    node = tree
    for part in segments[:-1]:
        child = node.get(part)
        if child is None:
            if value is None:
                return
            child = {}
            node[part] = child
        if not isinstance(child, dict):
            raise ConfigWriteError(
                "configValidationError", f"`{part}` is not a table in the configuration"
            )
        node = child
    last = segments[-1]
    if value is None:
        node.pop(last, None)
    elif strategy == "upsert" and isinstance(value, dict) and isinstance(node.get(last), dict):
        merge_into(node[last], value)
    else:
        node[last] = copy.deepcopy(value)


def _set_doc(doc: Container | Table, segments: Sequence[str], value: Any, strategy: str) -> None:
    """The same edit on the tomlkit document, so untouched lines stay as they were."""
    node: Any = doc
    for part in segments[:-1]:
        if part not in node:
            if value is None:
                return
            node[part] = tomlkit.table()
        node = node[part]
    last = segments[-1]
    if value is None:
        if last in node:
            del node[last]
    elif strategy == "upsert" and isinstance(value, dict) and isinstance(node.get(last), dict):
        for key, child in value.items():
            _set_doc(node[last], [key], child, strategy)
    elif isinstance(value, dict):
        table = tomlkit.table()
        for key, child in value.items():
            table[key] = child
        node[last] = table
    else:
        node[last] = value


def _leaf_paths(value: Any, prefix: list[str]) -> list[str]:
    if isinstance(value, dict) and value:
        out: list[str] = []
        for key, child in value.items():
            out.extend(_leaf_paths(child, [*prefix, key]))
        return out
    return [".".join(prefix)]


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".config.toml.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def apply_edits(
    codex_home: Path,
    edits: Sequence[Edit],
    *,
    expected_version: str | None = None,
    file_path: str | None = None,
    overrides: Sequence[str] = (),
) -> WriteResult:
    user_file = codex_home / "config.toml"
    if file_path is not None:
        target = Path(file_path)
        if not target.is_absolute() or os.path.realpath(target) != os.path.realpath(user_file):
            raise ConfigWriteError(
                "configLayerReadonly", "Only writes to the user config are allowed"
            )
    try:
        stack = load_layers(codex_home, overrides=overrides)
    except ConfigError as exc:
        raise ConfigWriteError("configValidationError", exc.message) from None
    user = stack.user_layer()
    assert user is not None  # load_layers always has one
    if expected_version is not None and expected_version != user.version:
        raise ConfigWriteError(
            "configVersionConflict",
            "Configuration was modified since last read. Fetch latest version and retry.",
        )
    try:
        text = user_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    doc = tomlkit.parse(text)
    tree = copy.deepcopy(user.tree)
    written: list[list[str]] = []
    for edit in edits:
        if edit.merge_strategy not in ("replace", "upsert"):
            raise ConfigWriteError(
                "configValidationError", f"unknown merge strategy `{edit.merge_strategy}`"
            )
        segments = _segments(edit.key_path)
        value = _plain(edit.value)
        _set(tree, segments, value, edit.merge_strategy)
        _set_doc(doc, segments, value, edit.merge_strategy)
        written.append(segments)

    user.tree = tree
    try:
        config_from_stack(codex_home, stack)
    except ConfigError as exc:
        raise ConfigWriteError(
            "configValidationError", f"Invalid configuration: {exc.message}"
        ) from None
    _write_atomically(user_file, tomlkit.dumps(doc))
    return WriteResult(user_file, version_of(tree), _first_override(stack, user, written))


def _first_override(stack: Any, user: Layer, written: list[list[str]]) -> dict[str, Any] | None:
    """When a layer above the user file still decides a written key: which, and its value."""
    origins = stack.origins()
    effective = stack.effective()
    for segments in written:
        for leaf in _leaf_paths(_lookup(user.tree, segments), segments):
            meta = origins.get(leaf)
            if meta is not None and meta["name"] != user.source():
                return {
                    "message": f"`{leaf}` is overridden by a higher-precedence layer",
                    "overridingLayer": meta,
                    "effectiveValue": _lookup(effective, leaf.split(".")),
                }
    return None


def _lookup(tree: Any, segments: Sequence[str]) -> Any:
    node = tree
    for part in segments:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node
