"""Apps for a user signed in with ChatGPT: the directory, the connected apps, `app/list`.

Apps are on when the `apps` feature is (its old name `connectors` is still read) and
`auth.json` holds a ChatGPT sign-in; an API-key user has none. Then:

* the directory is fetched from `<chatgpt_base_url>/connectors/directory/list` (page by page,
  plus `list_workspace` for a workspace account) with the sign-in's bearer token and account id;
* the connected apps are read from the tools of the built-in `codex_apps` MCP server
  (`<chatgpt_base_url>/api/codex/apps`, streamable HTTP, same credentials), which each thread
  also offers to its agent;
* both are cached for an hour per base URL and account; `forceRefetch` bypasses the cache and
  a failed refetch leaves the cache as it was.

`app/list` sends `app/list/updated` as each list arrives (never an update before some app is
known connected, unless both lists are in) and answers once both have loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from parley.apps import connectors
from parley.apps.connectors import CODEX_APPS_SERVER, App
from parley.auth.chatgpt import ChatGptSignIn, read_chatgpt_sign_in
from parley.mcp.config import HttpTransport, McpServerConfig
from parley.mcp.errors import McpCallError
from parley.rpc.errors import InternalError

if TYPE_CHECKING:
    from parley.config import Config
    from parley.server.session import AppServer

log = logging.getLogger(__name__)

DEFAULT_CHATGPT_BASE_URL = "https://chatgpt.com/backend-api/"
CACHE_TTL_SEC = 3600.0
DIRECTORY_TIMEOUT_SEC = 60.0
CODEX_APPS_STARTUP_TIMEOUT_SEC = 30.0
APP_LIST_LOAD_TIMEOUT_SEC = 90.0
LIST_UPDATED = "app/list/updated"

Notify = Callable[[list[App]], None]
CacheKey = tuple[str, str | None, str | None, bool]


def apps_feature(config: Config) -> bool:
    """The `apps` feature, or its legacy name `connectors` when only that is written."""
    table = config.feature_table
    if "apps" not in table and "connectors" in table:
        return bool(table["connectors"])
    return config.feature_enabled("apps")


def chatgpt_base_url(config: Config) -> str:
    value = config.tree.get("chatgpt_base_url")
    return (value if isinstance(value, str) and value else DEFAULT_CHATGPT_BASE_URL).rstrip("/")


def codex_apps_url(base_url: str) -> str:
    """Where the `codex_apps` MCP server lives for a ChatGPT base URL (as the reference)."""
    if base_url.startswith(("https://chatgpt.com", "https://chat.openai.com")) and (
        "/backend-api" not in base_url
    ):
        base_url += "/backend-api"
    if "/backend-api" in base_url:
        return f"{base_url}/wham/apps"
    if "/api/codex" in base_url:
        return f"{base_url}/apps"
    return f"{base_url}/api/codex/apps"


@dataclass
class _Cached:
    key: CacheKey
    expires: float
    apps: list[App]


class AppsService:
    def __init__(self) -> None:
        self._directory: _Cached | None = None
        self._accessible: _Cached | None = None
        self._background: set[asyncio.Task[Any]] = set()

    # ---- who gets apps ---------------------------------------------------------------------
    @staticmethod
    def sign_in(config: Config) -> ChatGptSignIn | None:
        """The ChatGPT sign-in apps run under, or None when apps are off for this user."""
        if not apps_feature(config):
            return None
        return read_chatgpt_sign_in(config.codex_home)

    @staticmethod
    def server_config(config: Config, sign_in: ChatGptSignIn) -> McpServerConfig:
        return McpServerConfig(
            CODEX_APPS_SERVER,
            HttpTransport(
                url=codex_apps_url(chatgpt_base_url(config)), http_headers=sign_in.headers()
            ),
            startup_timeout_sec=CODEX_APPS_STARTUP_TIMEOUT_SEC,
        )

    def thread_servers(self, config: Config) -> dict[str, McpServerConfig]:
        """The built-in servers a thread with `config` gets: `codex_apps` when apps are on."""
        sign_in = self.sign_in(config)
        if sign_in is None:
            return {}
        return {CODEX_APPS_SERVER: self.server_config(config, sign_in)}

    @staticmethod
    def _key(config: Config, sign_in: ChatGptSignIn) -> CacheKey:
        return (
            chatgpt_base_url(config),
            sign_in.account_id,
            sign_in.user_id,
            sign_in.is_workspace_account,
        )

    @staticmethod
    def _fresh(cached: _Cached | None, key: CacheKey) -> list[App] | None:
        if cached is None or cached.key != key or time.monotonic() >= cached.expires:
            return None
        return [dict(app) for app in cached.apps]

    # ---- the two lists ---------------------------------------------------------------------
    async def directory(self, config: Config, sign_in: ChatGptSignIn, force: bool) -> list[App]:
        """Every app the account could use (raises `InternalError` "failed to list apps")."""
        key = self._key(config, sign_in)
        if not force and (cached := self._fresh(self._directory, key)) is not None:
            return cached
        try:
            pages = await self._fetch_directory(config, sign_in)
        except Exception as exc:
            raise InternalError(f"failed to list apps: {exc}") from None
        apps = connectors.directory_apps(pages)
        self._directory = _Cached(key, time.monotonic() + CACHE_TTL_SEC, apps)
        return [dict(app) for app in apps]

    async def _fetch_directory(
        self, config: Config, sign_in: ChatGptSignIn
    ) -> list[dict[str, Any]]:
        import httpx

        base = chatgpt_base_url(config)
        if not sign_in.account_id:
            raise ValueError("ChatGPT account ID not available, please re-run `codex login`")
        headers = {
            **sign_in.headers(),
            "chatgpt-account-id": sign_in.account_id,
            "Content-Type": "application/json",
        }
        headers.pop("ChatGPT-Account-ID", None)
        pages: list[dict[str, Any]] = []
        async with httpx.AsyncClient(timeout=DIRECTORY_TIMEOUT_SEC) as client:

            async def get(path: str, params: dict[str, str]) -> dict[str, Any]:
                response = await client.get(base + path, params=params, headers=headers)
                if response.status_code >= 400:
                    raise ValueError(
                        f"request failed with status {response.status_code} "
                        f"{response.reason_phrase}: {response.text}"
                    )
                data = response.json()
                return data if isinstance(data, dict) else {}

            token: str | None = None
            while True:
                params = {"tier": "categorized", "external_logos": "true"}
                if token is not None:
                    params["token"] = token
                page = await get("/connectors/directory/list", params)
                pages.append(page)
                raw_token = page.get("next_token", page.get("nextToken"))
                token = raw_token.strip() if isinstance(raw_token, str) else None
                if not token:
                    break
            if sign_in.is_workspace_account:
                with contextlib.suppress(Exception):
                    pages.append(
                        await get(
                            "/connectors/directory/list_workspace", {"external_logos": "true"}
                        )
                    )
        return pages

    async def accessible(
        self, config: Config, sign_in: ChatGptSignIn, force: bool
    ) -> tuple[list[App], bool]:
        """(the apps the account has connected, whether `codex_apps` answered). A server that
        does not come up gives no apps and is not cached."""
        key = self._key(config, sign_in)
        if not force and (cached := self._fresh(self._accessible, key)) is not None:
            return cached, True
        from parley.mcp.connection import McpConnection  # the SDK loads only when needed

        connection = McpConnection(self.server_config(config, sign_in))
        try:
            await connection.start()
        except McpCallError as exc:
            log.info("codex_apps MCP server did not start: %s", exc)
            return [], False
        finally:
            await connection.close()
        apps = connectors.accessible_apps(tool.meta for tool in connection.inventory.tools)
        self._accessible = _Cached(key, time.monotonic() + CACHE_TTL_SEC, apps)
        return [dict(app) for app in apps], True

    def cached(self, config: Config) -> tuple[list[App] | None, list[App] | None]:
        """(cached directory, cached connected apps) for the config's sign-in."""
        sign_in = self.sign_in(config)
        if sign_in is None:
            return [], []
        key = self._key(config, sign_in)
        return self._fresh(self._directory, key), self._fresh(self._accessible, key)

    # ---- app/list --------------------------------------------------------------------------
    async def list_apps(
        self,
        config: Config,
        cursor: str | None,
        limit: int | None,
        force: bool,
        notify: Notify,
    ) -> dict[str, Any]:
        sign_in = self.sign_in(config)
        if sign_in is None:
            return {"data": [], "nextCursor": None}
        start = connectors.parse_cursor(cursor)
        table = _apps_table(config)

        def merged(directory: list[App] | None, accessible: list[App] | None) -> list[App]:
            return connectors.with_enabled_state(connectors.merge(directory, accessible), table)

        cached_directory, accessible = self.cached(config)
        directory = cached_directory
        results: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        async def load(kind: str, work: Any) -> None:
            try:
                await results.put((kind, await work))
            except Exception as exc:
                await results.put((kind, exc))

        self._spawn(load("accessible", self.accessible(config, sign_in, force)))
        self._spawn(load("directory", self.directory(config, sign_in, force)))

        accessible_loaded = directory_loaded = False
        last: list[App] | None = None
        if accessible is not None or directory is not None:
            apps = merged(directory, accessible)
            if connectors.worth_announcing(apps, False, False):
                notify(apps)
                last = apps
        deadline = time.monotonic() + APP_LIST_LOAD_TIMEOUT_SEC
        while True:
            try:
                kind, value = await asyncio.wait_for(
                    results.get(), max(deadline - time.monotonic(), 0)
                )
            except TimeoutError:
                raise InternalError(
                    f"timed out waiting for app lists after {int(APP_LIST_LOAD_TIMEOUT_SEC)} "
                    "seconds"
                ) from None
            if isinstance(value, InternalError):
                raise value
            if isinstance(value, Exception):
                raise InternalError(f"failed to load app lists: {value}")
            if kind == "accessible":
                accessible, accessible_loaded = value[0], True
            else:
                directory, directory_loaded = value, True
            interim = force and not (accessible_loaded and directory_loaded)
            shown_directory = cached_directory if interim and cached_directory else directory
            shown_accessible = None if interim and not accessible_loaded else accessible
            apps = merged(shown_directory, shown_accessible)
            if (
                connectors.worth_announcing(apps, accessible_loaded, directory_loaded)
                and apps != last
            ):
                notify(apps)
                last = apps
            if accessible_loaded and directory_loaded:
                return connectors.page(apps, start, limit)

    def refresh_after_enablement(self, server: AppServer) -> None:
        """Apps were just turned on: fetch both lists afresh in the background and send every
        client the result as `app/list/updated` (nothing is sent when a list fails)."""
        try:
            config = server.load_config()
        except Exception as exc:
            log.info("no apps refresh after enablement: %s", exc)
            return
        sign_in = self.sign_in(config)
        if sign_in is None:
            return

        async def refresh() -> None:
            try:
                directory, (accessible, _ready) = await asyncio.gather(
                    self.directory(config, sign_in, True), self.accessible(config, sign_in, True)
                )
            except InternalError as exc:
                log.info("apps refresh after enablement failed: %s", exc.message)
                return
            apps = connectors.with_enabled_state(
                connectors.merge(directory, accessible), _apps_table(config)
            )
            server.broadcast(LIST_UPDATED, {"data": apps})

        self._spawn(refresh())

    def _spawn(self, work: Any) -> None:
        """Run a load to the end even when the request no longer waits (it fills the cache)."""
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ---- plugins ---------------------------------------------------------------------------
    async def plugin_apps(
        self, config: Config, app_ids: list[str], *, force: bool
    ) -> tuple[list[App], set[str] | None]:
        """(the plugin's apps with their directory details, the ids of the connected ones, or
        None when that could not be learned)."""
        sign_in = self.sign_in(config)
        directory: list[App] = []
        connected: set[str] | None = set()
        if sign_in is not None:
            key = self._key(config, sign_in)
            try:
                directory = await self.directory(config, sign_in, force)
            except InternalError as exc:
                log.info("app details for a plugin unavailable: %s", exc.message)
                directory = self._fresh(self._directory, key) or []
            accessible, ready = await self.accessible(config, sign_in, force)
            connected = {app["id"] for app in accessible} if ready else None
        return connectors.for_plugin(directory, app_ids), connected


def _apps_table(config: Config) -> dict[str, Any]:
    table = config.tree.get("apps")
    return table if isinstance(table, dict) else {}


def summaries(apps: Iterable[App], connected: set[str] | None) -> list[dict[str, Any]]:
    """`AppSummary` entries: an app needs sign-in when the connected apps are known and it is
    not among them (when they are not known, nothing is claimed, as the reference does)."""
    return [
        {
            "id": app["id"],
            "name": app["name"],
            "description": app["description"],
            "installUrl": app["installUrl"],
            "needsAuth": connected is not None and app["id"] not in connected,
        }
        for app in apps
    ]
