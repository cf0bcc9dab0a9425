"""plugin/list, plugin/read, plugin/install, plugin/uninstall over local marketplaces.

A missing or malformed marketplace, an unknown or unavailable plugin are the client's fault
(-32600, the reference's messages); failing to copy files or write the config is ours (-32603).
There is no remote catalogue for an API-key user, so `forceRemoteSync` on a listing reports why
instead of syncing; featured plugin ids are asked for anonymously (see `plugins.featured`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.apps.service import summaries
from parley.config import Config, ConfigError
from parley.plugins import catalog
from parley.plugins.marketplace import CURATED_NAME, MarketplaceError
from parley.plugins.store import PluginStoreError
from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError, InternalError
from parley.server.deferred import DeferredReply
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
    app_ids = [app["id"] for app in detail["apps"]]
    if not app_ids:
        return {"plugin": detail}
    return DeferredReply(_with_app_states(session, detail, app_ids, path))


async def _with_app_states(
    session: ClientSession, detail: dict[str, Any], app_ids: list[str], path: Path
) -> dict[str, Any]:
    """The plugin's apps with their directory names and whether each still needs sign-in."""
    config = _latest_config(session, path.parent)
    apps, connected = await session.server.apps.plugin_apps(config, app_ids, force=False)
    detail["apps"] = summaries(apps, connected)
    return {"plugin": detail}


def _latest_config(session: ClientSession, cwd: Path) -> Config:
    try:
        return session.server.load_config(cwd=cwd)
    except ConfigError:
        return session.server.config


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
    app_ids = result.pop("appIds")
    if not app_ids:
        return result
    return DeferredReply(_apps_needing_auth(session, result, app_ids, path))


async def _apps_needing_auth(
    session: ClientSession, result: dict[str, Any], app_ids: list[str], path: Path
) -> dict[str, Any]:
    """The installed plugin's apps the account has not connected yet (ChatGPT sign-in only:
    an API-key user has no apps, so none is listed)."""
    config = _latest_config(session, path.parent)
    if session.server.apps.sign_in(config) is None:
        return result
    apps, connected = await session.server.apps.plugin_apps(config, app_ids, force=True)
    if connected is not None:
        result["appsNeedingAuth"] = [app for app in summaries(apps, connected) if app["needsAuth"]]
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
