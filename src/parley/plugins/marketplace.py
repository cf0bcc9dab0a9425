"""Local marketplaces: where `marketplace.json` files are found and what they list.

A marketplace file lives at `<root>/.agents/plugins/marketplace.json`. The roots are the home
directory, each working directory a client names (or the root of the git repository holding it),
and the curated catalogue checked out under `$CODEX_HOME/.tmp/plugins`. Local plugin sources are
`./relative` paths under the marketplace root. Errors carry the reference's wording.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from parley.plugins.manifest import load_manifest

MARKETPLACE_RELATIVE_PATH = Path(".agents/plugins/marketplace.json")
CURATED_NAME = "openai-curated"
CURATED_DISPLAY_NAME = "OpenAI Curated"
PRODUCT = "CODEX"  # what Parley is, for `policy.products` restrictions
_RESTRICTION_PRODUCTS = {"chatgpt": "CHATGPT", "codex": "CODEX", "atlas": "ATLAS"}
_CODEX_SOURCES = frozenset(
    {"cli", "vscode", "exec", "mcp", "appserver", "app-server", "app_server", "unknown"}
)
_product: str | None = PRODUCT


def set_session_source(source: str) -> None:
    """`app-server --session-source`: the product plugin and skill restrictions are checked
    against, as the reference derives it (the Codex sources are CODEX; `chatgpt`, `codex` and
    `atlas` name their product; any other source has none, so restricted plugins are out)."""
    global _product
    name = source.strip().lower()
    _product = PRODUCT if name in _CODEX_SOURCES else _RESTRICTION_PRODUCTS.get(name)


def current_product() -> str | None:
    return _product


INSTALL_POLICIES = ("NOT_AVAILABLE", "AVAILABLE", "INSTALLED_BY_DEFAULT")
AUTH_POLICIES = ("ON_INSTALL", "ON_USE")


class MarketplaceError(Exception):
    """A marketplace or plugin cannot be used; `client_fault` is False for I/O failures."""

    def __init__(self, message: str, client_fault: bool = True) -> None:
        super().__init__(message)
        self.client_fault = client_fault


@dataclass(frozen=True)
class MarketplacePlugin:
    name: str
    source: Path
    install_policy: str
    auth_policy: str
    products: tuple[str, ...] | None
    interface: dict[str, Any] | None

    @property
    def product_allowed(self) -> bool:
        return self.products is None or current_product() in self.products


@dataclass(frozen=True)
class Marketplace:
    name: str
    path: Path
    display_name: str | None
    plugins: tuple[MarketplacePlugin, ...]


def curated_root(codex_home: Path) -> Path:
    return codex_home / ".tmp" / "plugins"


def git_root(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


def discover(roots: list[Path], home: Path | None) -> list[Path]:
    paths: list[Path] = []
    if home is not None and (home / MARKETPLACE_RELATIVE_PATH).is_file():
        paths.append(home / MARKETPLACE_RELATIVE_PATH)
    for root in roots:
        direct = root / MARKETPLACE_RELATIVE_PATH
        if direct.is_file():
            if direct not in paths:
                paths.append(direct)
            continue
        repo = git_root(root)
        if repo is not None:
            candidate = repo / MARKETPLACE_RELATIVE_PATH
            if candidate.is_file() and candidate not in paths:
                paths.append(candidate)
    return paths


def _invalid(path: Path, message: str) -> MarketplaceError:
    return MarketplaceError(f"invalid marketplace file `{path}`: {message}")


def read_raw(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MarketplaceError(f"marketplace file `{path}` does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MarketplaceError(
            f"failed to read marketplace file: {exc}", client_fault=False
        ) from None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise _invalid(path, str(exc)) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise _invalid(path, "missing field `name`")
    if not isinstance(raw.get("plugins"), list):
        raise _invalid(path, "missing field `plugins`")
    return raw


def _marketplace_root(path: Path) -> Path:
    plugins_dir = path.parent
    agents_dir = plugins_dir.parent
    if plugins_dir.name != "plugins" or agents_dir.name != ".agents":
        raise _invalid(path, "marketplace file must live under `<root>/.agents/plugins/`")
    return agents_dir.parent


def _source_path(path: Path, source: Any) -> Path:
    if not isinstance(source, dict) or source.get("source") != "local":
        raise _invalid(path, 'plugin source must be `{"source": "local", "path": ...}`')
    relative = source.get("path")
    if not isinstance(relative, str) or not relative.startswith("./"):
        raise _invalid(path, "local plugin source path must start with `./`")
    rest = relative[2:]
    if not rest:
        raise _invalid(path, "local plugin source path must not be empty")
    parts = PurePosixPath(rest).parts
    if any(part in ("..", ".") or part.startswith("/") for part in parts):
        raise _invalid(path, "local plugin source path must stay within the marketplace root")
    return _marketplace_root(path).joinpath(*parts)


def _plugin(path: Path, raw: Any) -> MarketplacePlugin:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise _invalid(path, "every plugin needs a `name`")
    source = _source_path(path, raw.get("source"))
    raw_policy = raw.get("policy")
    policy: dict[str, Any] = raw_policy if isinstance(raw_policy, dict) else {}
    install = policy.get("installation", "AVAILABLE")
    auth = policy.get("authentication", "ON_INSTALL")
    if install not in INSTALL_POLICIES or auth not in AUTH_POLICIES:
        raise _invalid(path, f"unknown policy for plugin `{raw['name']}`")
    products = policy.get("products")
    manifest = load_manifest(source)
    interface = dict(manifest.interface) if manifest and manifest.interface else None
    category = raw.get("category")
    if isinstance(category, str):
        interface = interface or {
            "capabilities": [],
            "screenshots": [],
        }
        interface["category"] = category
    return MarketplacePlugin(
        name=raw["name"],
        source=source,
        install_policy=install,
        auth_policy=auth,
        products=tuple(p for p in products if isinstance(p, str))
        if isinstance(products, list)
        else None,
        interface=interface,
    )


def load(path: Path) -> Marketplace:
    raw = read_raw(path)
    interface = raw.get("interface")
    display = interface.get("displayName") if isinstance(interface, dict) else None
    return Marketplace(
        name=raw["name"],
        path=path,
        display_name=display if isinstance(display, str) else None,
        plugins=tuple(_plugin(path, plugin) for plugin in raw["plugins"]),
    )


def find_plugin(path: Path, plugin_name: str) -> tuple[str, dict[str, Any]]:
    """(marketplace name, raw entry) for an install; errors name the plugin and marketplace."""
    raw = read_raw(path)
    for entry in raw["plugins"]:
        if isinstance(entry, dict) and entry.get("name") == plugin_name:
            return raw["name"], entry
    raise MarketplaceError(f"plugin `{plugin_name}` was not found in marketplace `{raw['name']}`")
