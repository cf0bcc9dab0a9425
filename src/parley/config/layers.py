"""The configuration layer stack: which files (and flags) contribute which keys, in what order.

Lowest precedence first, as the reference loads them:

    system   /etc/codex/config.toml (`PARLEY_SYSTEM_CONFIG_DIR` moves /etc/codex)
    user     $CODEX_HOME/config.toml
    project  <dir>/.codex/config.toml for each dir from the project root down to the cwd
             (only when the project is trusted in `[projects]`; otherwise loaded but disabled)
    session  `-c key=value` flags
    managed  managed_config.toml (`CODEX_APP_SERVER_MANAGED_CONFIG_PATH`), on top of all

`LayerStack.effective()` merges the enabled layers (tables merge key by key, anything else is
replaced); `origins()` says which layer each leaf came from, as `config/read` reports it. A file
that is not valid TOML is a `ConfigFileError` with the file and the line/column of the problem.
Nothing here validates values: that is `loader.py`.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

DEFAULT_SYSTEM_CONFIG_DIR = Path("/etc/codex")
# Parley's own: moves the system folder (config.toml, managed_config.toml, requirements.toml),
# e.g. for tests or a machine where /etc is not writable.
SYSTEM_CONFIG_DIR_ENV = "PARLEY_SYSTEM_CONFIG_DIR"
SYSTEM_CONFIG = DEFAULT_SYSTEM_CONFIG_DIR / "config.toml"
MANAGED_CONFIG_ENV = "CODEX_APP_SERVER_MANAGED_CONFIG_PATH"
PROJECT_ROOT_MARKERS = (".git",)

Tree = dict[str, Any]


@dataclass(frozen=True)
class TextRange:
    """1-based line/column span inside a config file."""

    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def to_wire(self) -> dict[str, Any]:
        return {
            "start": {"line": self.line, "column": self.column},
            "end": {
                "line": self.end_line or self.line,
                "column": self.end_column or self.column,
            },
        }


class ConfigError(Exception):
    """The configuration cannot be used; the message names file, key and reason.

    `path` and `range` locate the problem when it is known (a TOML syntax error, or a bad value
    whose key can be found in the file)."""

    def __init__(
        self, message: str, *, path: Path | None = None, range: TextRange | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.range = range


class ConfigFileError(ConfigError):
    """A config file could not be read or parsed."""


@dataclass
class Layer:
    """One source of configuration and the raw table it contributed."""

    kind: str  # "system" | "user" | "project" | "sessionFlags" | "legacyManagedConfigTomlFromFile"
    path: Path | None  # the file (or the .codex folder for a project layer)
    tree: Tree
    disabled_reason: str | None = None

    def source(self) -> dict[str, Any]:
        """The `ConfigLayerSource` wire object."""
        if self.kind == "project":
            return {"type": "project", "dotCodexFolder": str(self.path)}
        if self.kind == "sessionFlags":
            return {"type": "sessionFlags"}
        return {"type": self.kind, "file": str(self.path)}

    @property
    def version(self) -> str:
        return version_of(self.tree)

    def to_wire(self) -> dict[str, Any]:
        return {
            "name": self.source(),
            "version": self.version,
            "config": self.tree,
            "disabledReason": self.disabled_reason,
        }


def version_of(tree: Tree) -> str:
    """A content fingerprint: sha256 of the table as canonical (key-sorted) JSON."""
    digest = hashlib.sha256(orjson.dumps(tree, option=orjson.OPT_SORT_KEYS, default=str))
    return "sha256:" + digest.hexdigest()


def merge_into(base: Tree, overlay: Tree) -> None:
    """Overlay `overlay` on `base` in place: tables merge, everything else replaces."""
    for key, value in overlay.items():
        current = base.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merge_into(current, value)
        else:
            base[key] = copy.deepcopy(value)


def _leaves(value: Any, prefix: list[str]) -> Iterable[str]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaves(child, [*prefix, key])
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _leaves(child, [*prefix, str(index)])
    elif prefix:
        yield ".".join(prefix)


@dataclass
class LayerStack:
    """The layers, lowest precedence first."""

    layers: list[Layer] = field(default_factory=list)

    def enabled(self) -> list[Layer]:
        return [layer for layer in self.layers if layer.disabled_reason is None]

    def effective(self) -> Tree:
        merged: Tree = {}
        for layer in self.enabled():
            merge_into(merged, layer.tree)
        return merged

    def origins(self) -> dict[str, dict[str, Any]]:
        """Dotted key path (array items by index) → the layer that set it last."""
        found: dict[str, dict[str, Any]] = {}
        for layer in self.enabled():
            meta = {"name": layer.source(), "version": layer.version}
            # A table or array replaced by a higher layer loses its lower leaves.
            for key in list(_leaves(layer.tree, [])):
                found[key] = meta
            for key in _replaced_paths(layer.tree):
                for stale in [k for k in found if k.startswith(key + ".")]:
                    if found[stale] is not meta:
                        del found[stale]
        return found

    def user_layer(self) -> Layer | None:
        for layer in self.layers:
            if layer.kind == "user":
                return layer
        return None

    def disabled_projects(self) -> list[Layer]:
        return [
            layer
            for layer in self.layers
            if layer.kind == "project" and layer.disabled_reason is not None
        ]

    def to_wire(self) -> list[dict[str, Any]]:
        """`config/read` layers: highest precedence first."""
        return [layer.to_wire() for layer in reversed(self.layers)]


def _replaced_paths(tree: Tree, prefix: str = "") -> Iterable[str]:
    """Paths whose value in `tree` is an array (it replaces lower arrays whole)."""
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, list):
            yield path
        elif isinstance(value, dict):
            yield from _replaced_paths(value, path + ".")


_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


def read_toml(path: Path) -> Tree | None:
    """The file's table, None when it does not exist; a `ConfigFileError` when unusable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigFileError(f"{path}: is a directory, not a file", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"{path}: cannot read: {exc}", path=path) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_POSITION.search(str(exc))
        where = TextRange(int(match[1]), int(match[2])) if match else None
        raise ConfigFileError(f"{path}: invalid TOML: {exc}", path=path, range=where) from None


def parse_override(text: str) -> tuple[list[str], Any]:
    """Parse `a.b=value`: the value is TOML when it parses, else the raw string."""
    if "=" not in text:
        raise ConfigError(f"invalid override `{text}`: expected key=value")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(f"invalid override `{text}`: empty key")
    try:
        value: Any = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return [part.strip() for part in key.split(".")], value


def set_path(tree: Tree, path: Sequence[str], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[path[-1]] = value


def overrides_tree(overrides: Iterable[str]) -> Tree:
    tree: Tree = {}
    for override in overrides:
        key_path, value = parse_override(override)
        set_path(tree, key_path, value)
    return tree


def project_trust_key(path: Path) -> str:
    try:
        return str(path.resolve())
    except OSError:
        return str(path)


def find_project_root(cwd: Path) -> Path:
    """The nearest ancestor of `cwd` (itself included) holding a root marker, else `cwd`."""
    for candidate in (cwd, *cwd.parents):
        if any((candidate / marker).exists() for marker in PROJECT_ROOT_MARKERS):
            return candidate
    return cwd


def _trust_levels(merged: Tree) -> dict[str, str]:
    projects = merged.get("projects")
    levels: dict[str, str] = {}
    if isinstance(projects, dict):
        for key, entry in projects.items():
            if isinstance(entry, dict) and isinstance(entry.get("trust_level"), str):
                levels[project_trust_key(Path(key))] = entry["trust_level"]
    return levels


def trust_level(merged: Tree, cwd: Path) -> str | None:
    """The `[projects]` trust level that applies to `cwd` (its own entry, else its root's)."""
    levels = _trust_levels(merged)
    for key in (project_trust_key(cwd), project_trust_key(find_project_root(cwd))):
        if key in levels:
            return levels[key]
    return None


def _project_layers(merged: Tree, cwd: Path, user_file: Path) -> list[Layer]:
    cwd = Path(project_trust_key(cwd))
    root = find_project_root(cwd)
    dirs = [root]
    if cwd != root:
        rel = cwd.relative_to(root)
        for part in rel.parts:
            dirs.append(dirs[-1] / part)
    levels = _trust_levels(merged)
    root_key = project_trust_key(root)
    layers: list[Layer] = []
    for directory in dirs:
        dot_codex = directory / ".codex"
        tree = read_toml(dot_codex / "config.toml")
        if tree is None:
            continue
        # The folder's own entry, else the project root's (which also names an untrusted one).
        key = project_trust_key(directory)
        if key not in levels:
            key = root_key
        level = levels.get(key)
        reason: str | None = None
        if level == "untrusted":
            reason = (
                f"{key} is marked as untrusted in {user_file}. To load config.toml, mark it "
                "trusted."
            )
        elif level != "trusted":
            reason = f"To load config.toml, add {key} as a trusted project in {user_file}."
        layers.append(Layer("project", dot_codex, tree, reason))
    return layers


def system_config_dir() -> Path:
    env = os.environ.get(SYSTEM_CONFIG_DIR_ENV)
    return Path(env) if env else DEFAULT_SYSTEM_CONFIG_DIR


def managed_config_path() -> Path:
    env = os.environ.get(MANAGED_CONFIG_ENV)
    return Path(env) if env else system_config_dir() / "managed_config.toml"


def load_layers(
    codex_home: Path,
    *,
    cwd: Path | None = None,
    overrides: Iterable[str] = (),
    system_config: Path | None = None,
) -> LayerStack:
    """Read every layer; `cwd` adds the project layers (None: thread-agnostic, as
    `config/read` without a cwd)."""
    if system_config is None:
        system_config = system_config_dir() / "config.toml"
    user_file = codex_home / "config.toml"
    system = read_toml(system_config) or {}
    user = read_toml(user_file) or {}
    session = overrides_tree(overrides)
    stack = LayerStack([Layer("system", system_config, system), Layer("user", user_file, user)])
    if cwd is not None:
        merged: Tree = {}
        for tree in (system, user, session):
            merge_into(merged, tree)
        stack.layers.extend(_project_layers(merged, cwd, user_file))
    if session:
        stack.layers.append(Layer("sessionFlags", None, session))
    managed_file = managed_config_path()
    managed = read_toml(managed_file)
    if managed is not None:
        stack.layers.append(Layer("legacyManagedConfigTomlFromFile", managed_file, managed))
    return stack
