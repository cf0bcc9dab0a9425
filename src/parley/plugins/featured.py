"""Featured plugin ids from the ChatGPT backend (`GET <chatgpt_base_url>/plugins/featured`).

The reference asks anonymously when it starts and caches the answer for three hours;
`plugin/list` shows it when the curated marketplace is listed. Parley asks only when the config
names `chatgpt_base_url` (so a default setup makes no network call), shares one request between
the start-up warm-up and a listing that arrives meanwhile, and treats any failure as "none".
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import httpx

from parley.mcp.config_file import read_tree
from parley.plugins.catalog import plugins_enabled

log = logging.getLogger(__name__)

CACHE_SECONDS = 3 * 60 * 60
FETCH_TIMEOUT_SECONDS = 10.0
PLATFORM = "codex"


class FeaturedPlugins:
    def __init__(self, codex_home: Path) -> None:
        self.codex_home = codex_home
        self._cached: tuple[str, float, list[str]] | None = None  # (base url, when, ids)
        self._inflight: asyncio.Task[list[str]] | None = None

    def _base_url(self) -> str | None:
        tree = read_tree(self.codex_home)
        base = tree.get("chatgpt_base_url")
        if not plugins_enabled(tree) or not isinstance(base, str) or not base.strip():
            return None
        return base.strip().rstrip("/")

    def warm(self) -> None:
        """Start fetching in the background (at start-up), if there is anything to ask."""
        if self._base_url() is not None and self._inflight is None and self._cached is None:
            self._inflight = asyncio.create_task(self._fetch_shared())

    async def ids(self) -> list[str]:
        base = self._base_url()
        if base is None:
            return []
        cached = self._cached
        if (
            cached is not None
            and cached[0] == base
            and time.monotonic() - cached[1] < CACHE_SECONDS
        ):
            return list(cached[2])
        if self._inflight is None:
            self._inflight = asyncio.create_task(self._fetch_shared())
        return list(await asyncio.shield(self._inflight))

    async def _fetch_shared(self) -> list[str]:
        try:
            base = self._base_url()
            ids = await self._fetch(base) if base is not None else []
            if base is not None:
                self._cached = (base, time.monotonic(), ids)
            return ids
        finally:
            self._inflight = None

    @staticmethod
    async def _fetch(base: str) -> list[str]:
        try:
            async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS) as client:
                response = await client.get(
                    f"{base}/plugins/featured", params={"platform": PLATFORM}
                )
                response.raise_for_status()
                data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.info("featured plugins unavailable: %s", exc)
            return []
        return [item for item in data if isinstance(item, str)] if isinstance(data, list) else []
