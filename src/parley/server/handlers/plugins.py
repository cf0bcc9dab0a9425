"""plugin/list, plugin/read, plugin/install, plugin/uninstall over local marketplaces.

A missing or malformed marketplace, an unknown or unavailable plugin are the client's fault
(-32600, the reference's messages); failing to copy files or write the config is ours (-32603).
There is no remote catalogue for an API-key user, so `forceRemoteSync` on a listing reports why
instead of syncing; featured plugin ids are asked for anonymously (see `plugins.featured`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.plugins import catalog
from parley.plugins.marketplace import CURATED_NAME, MarketplaceError
from parley.plugins.store import PluginStoreError
from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError, InternalError
from parley.skills.loader import home_dir

if TYPE_CHECKING:
    from parley.server.session import ClientSession

REMOTE_SYNC_UNAVAILABLE = "chatgpt authentication required to sync remote plugins"


def _absolute(path: str, field: str) -> Path:
    if not Path(path).is_absolute():
        raise ClientError(f"Invalid request: `{field}` must be an absolute path, got `{path}`")
    return Path(path)


def _fail(exc: MarketplaceError | PluginStoreError, action: str) -> ClientError | InternalError:
    if exc.client_fault:
        return ClientError(str(exc))
    return InternalError(f"failed to {action}: {exc}")


async def plugin_list(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.PluginListParams, raw)
    roots = [_absolute(str(c), "cwds") for c in (params.cwds or [])]
    marketplaces, errors = catalog.list_marketplaces(
        session.server.config.codex_home, roots, home_dir()
    )
    curated = any(entry["name"] == CURATED_NAME for entry in marketplaces)
    featured = await session.server.featured_plugins.ids() if curated else []
    return {
        "marketplaces": marketplaces,
        "marketplaceLoadErrors": errors,
        "remoteSyncError": REMOTE_SYNC_UNAVAILABLE if params.force_remote_sync else None,
        "featuredPluginIds": featured,
    }


async def plugin_read(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.PluginReadParams, raw)
    path = _absolute(str(params.marketplace_path), "marketplacePath")
    try:
        detail = catalog.read_plugin(session.server.config.codex_home, path, params.plugin_name)
    except MarketplaceError as exc:
        raise _fail(exc, "read plugin details") from None
    return {"plugin": detail}


async def plugin_install(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.PluginInstallParams, raw)
    path = _absolute(str(params.marketplace_path), "marketplacePath")
    if params.force_remote_sync:
        raise InternalError(f"failed to enable remote plugin: {REMOTE_SYNC_UNAVAILABLE}")
    try:
        result = catalog.install(session.server.config.codex_home, path, params.plugin_name)
    except (MarketplaceError, PluginStoreError) as exc:
        raise _fail(exc, "install plugin") from None
    session.server.mcp.reload()
    session.server.skills.clear()
    return result


async def plugin_uninstall(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.PluginUninstallParams, raw)
    if params.force_remote_sync:
        raise InternalError(f"failed to uninstall remote plugin: {REMOTE_SYNC_UNAVAILABLE}")
    try:
        catalog.uninstall(session.server.config.codex_home, params.plugin_id)
    except PluginStoreError as exc:
        raise _fail(exc, "uninstall plugin") from None
    session.server.mcp.reload()
    session.server.skills.clear()
    return {}
