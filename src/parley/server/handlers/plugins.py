"""plugin/list, plugin/read, plugin/install, plugin/uninstall over local marketplaces.

A missing or malformed marketplace, an unknown or unavailable plugin are the client's fault
(-32600, the reference's messages); failing to copy files or write the config is ours (-32603).
With a ChatGPT sign-in, `forceRemoteSync` on install / uninstall first tells the ChatGPT plugin
service (`plugins.remote`); a listing's `forceRemoteSync` reports why nothing was synced (no
sign-in, or Parley does not reconcile the curated marketplace with the remote list). Featured
plugin ids are asked for anonymously (see `plugins.featured`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.apps.service import chatgpt_base_url, summaries
from parley.auth.chatgpt import read_chatgpt_sign_in
from parley.config import Config, ConfigError
from parley.plugins import catalog, remote
from parley.plugins.marketplace import CURATED_NAME, MarketplaceError, find_plugin
from parley.plugins.store import PluginId, PluginStoreError
from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError, InternalError
from parley.server.deferred import DeferredReply
from parley.skills.loader import home_dir

if TYPE_CHECKING:
    from parley.server.session import ClientSession

REMOTE_SYNC_UNAVAILABLE = "chatgpt authentication required to sync remote plugins"
REMOTE_LIST_SYNC_UNSUPPORTED = "Parley does not sync the curated marketplace with remote plugins"


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
    sync_error = None
    if params.force_remote_sync:
        signed_in = read_chatgpt_sign_in(session.server.config.codex_home) is not None
        sync_error = REMOTE_LIST_SYNC_UNSUPPORTED if signed_in else REMOTE_SYNC_UNAVAILABLE
    return {
        "marketplaces": marketplaces,
        "marketplaceLoadErrors": errors,
        "remoteSyncError": sync_error,
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


def _latest_config(session: ClientSession, cwd: Path | None) -> Config:
    try:
        return session.server.load_config(cwd=cwd)
    except ConfigError:
        return session.server.config


async def plugin_install(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.PluginInstallParams, raw)
    path = _absolute(str(params.marketplace_path), "marketplacePath")
    codex_home = session.server.config.codex_home
    if params.force_remote_sync:
        return DeferredReply(_install_after_remote_enable(session, path, params.plugin_name))
    try:
        result = catalog.install(codex_home, path, params.plugin_name)
    except (MarketplaceError, PluginStoreError) as exc:
        raise _fail(exc, "install plugin") from None
    return _installed(session, result, path)


async def _install_after_remote_enable(session: ClientSession, path: Path, plugin_name: str) -> Any:
    """`forceRemoteSync`: the plugin is enabled on the ChatGPT plugin service first."""
    codex_home = session.server.config.codex_home
    try:
        marketplace_name, entry = find_plugin(path, plugin_name)
    except MarketplaceError as exc:
        raise _fail(exc, "install plugin") from None
    base_url = chatgpt_base_url(_latest_config(session, path.parent))
    try:
        await remote.mutate(codex_home, base_url, f"{entry['name']}@{marketplace_name}", "enable")
    except remote.RemotePluginError as exc:
        raise InternalError(f"failed to enable remote plugin: {exc}") from None
    try:
        result = catalog.install(codex_home, path, plugin_name)
    except (MarketplaceError, PluginStoreError) as exc:
        raise _fail(exc, "install plugin") from None
    answer = _installed(session, result, path)
    return await answer.result if isinstance(answer, DeferredReply) else answer


def _installed(session: ClientSession, result: dict[str, Any], path: Path) -> Any:
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
        return DeferredReply(_uninstall_after_remote(session, params.plugin_id))
    return _uninstall(session, params.plugin_id)


async def _uninstall_after_remote(session: ClientSession, plugin_id: str) -> Any:
    """`forceRemoteSync`: the plugin is uninstalled on the ChatGPT plugin service first."""
    try:
        key = PluginId.parse(plugin_id).key
    except PluginStoreError as exc:
        raise _fail(exc, "uninstall plugin") from None
    base_url = chatgpt_base_url(_latest_config(session, None))
    try:
        await remote.mutate(session.server.config.codex_home, base_url, key, "uninstall")
    except remote.RemotePluginError as exc:
        raise InternalError(f"failed to uninstall remote plugin: {exc}") from None
    return _uninstall(session, plugin_id)


def _uninstall(session: ClientSession, plugin_id: str) -> Any:
    try:
        catalog.uninstall(session.server.config.codex_home, plugin_id)
    except PluginStoreError as exc:
        raise _fail(exc, "uninstall plugin") from None
    session.server.mcp.reload()
    session.server.skills.clear()
    return {}
