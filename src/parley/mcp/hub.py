"""Process-wide MCP state: which servers the config names, each thread's connections, reloads.

The servers are the `[mcp_servers]` tables of the configuration as the files and the `-c`
overrides give it now (`tree_source`), plus those installed plugins bring. Every thread gets its
own `ThreadMcp` (its own server processes and sessions, as the reference
gives each thread its own connection manager), started in the background when the thread is
created so the first turn rarely waits. `config/mcpServer/reload` only bumps a generation: each
thread rebuilds its connections at its next turn. Startup progress is announced to every client
as `mcpServer/startupStatus/updated`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomlkit

from parley.mcp.config import McpServerConfig, load_servers
from parley.mcp.config_file import edit_tree, read_tree, table
from parley.mcp.errors import McpCallError

if TYPE_CHECKING:
    from parley.mcp.connection import McpConnection

log = logging.getLogger(__name__)

Broadcast = Callable[[str, dict[str, Any]], None]
TreeSource = Callable[[], dict[str, Any]]
BuiltIns = Callable[[], dict[str, McpServerConfig]]
STARTUP_STATUS = "mcpServer/startupStatus/updated"


class McpHub:
    def __init__(
        self, codex_home: Path, broadcast: Broadcast, tree_source: TreeSource | None = None
    ) -> None:
        self.codex_home = codex_home
        self.broadcast = broadcast
        self._tree_source = tree_source
        self.generation = 0
        self._threads: list[Any] = []
        self._sdk_loading: asyncio.Future[Any] | None = None

    def configured(self) -> dict[str, McpServerConfig]:
        """Every configured server as the configuration says now, disabled ones included."""
        tree = self._tree_source() if self._tree_source is not None else None
        return load_servers(self.codex_home, tree)

    def servers(self) -> dict[str, McpServerConfig]:
        """The configured servers as the configuration says now, disabled ones left out."""
        return {name: c for name, c in self.configured().items() if c.enabled}

    def preload_sdk(self) -> None:
        """When the config names servers, load the MCP SDK in a worker thread now, so the first
        thread or status listing does not wait for the import (it takes a moment)."""
        if self._sdk_loading is None and self.servers():
            self._sdk_loading = asyncio.get_running_loop().run_in_executor(
                None, importlib.import_module, "parley.mcp.connection"
            )

    def reload(self) -> None:
        self.generation += 1

    def for_thread(self, thread_id: str, built_ins: BuiltIns | None = None) -> Any:
        """A thread's MCP state; `built_ins` gives servers the thread has besides the
        configured ones (the `codex_apps` server of a ChatGPT sign-in)."""
        from parley.mcp.thread_tools import ThreadMcp

        tools = ThreadMcp(self, thread_id, built_ins)
        self._threads.append(tools)
        return tools

    def forget(self, tools: Any) -> None:
        if tools in self._threads:
            self._threads.remove(tools)

    def approve_always(self, server: str, connector_id: str | None, tool: str) -> None:
        """ "Don't ask me again" for a tool: `approval_mode = "approve"` written to
        `[mcp_servers.<server>.tools.<tool>]` (or `[apps.<app>.tools.<tool>]` for an app), as
        the reference persists it. A server the file does not name (one a plugin brings) is
        not written: a partial table there would hide the plugin's own."""
        if connector_id is not None and server == "codex_apps":
            path = ["apps", connector_id, "tools", tool]
        elif server in table(read_tree(self.codex_home), "mcp_servers"):
            path = ["mcp_servers", server, "tools", tool]
        else:
            return

        def change(document: Any) -> None:
            node = document
            for key in path:
                if key not in node:
                    node[key] = tomlkit.table()
                node = node[key]
            node["approval_mode"] = "approve"

        try:
            edit_tree(self.codex_home, change)
        except (OSError, ValueError) as exc:
            log.warning("could not remember the approval of %s/%s: %s", server, tool, exc)

    def announce(self, name: str, status: str, error: str | None = None) -> None:
        self.broadcast(STARTUP_STATUS, {"name": name, "status": status, "error": error})

    async def close(self) -> None:
        for tools in list(self._threads):
            with contextlib.suppress(Exception):
                await tools.close()
        self._threads.clear()


async def snapshot(
    servers: dict[str, McpServerConfig], *, with_resources: bool
) -> dict[str, McpConnection | str]:
    """Connect to every server at once for a status listing; each entry is the connected
    (already closed) connection with its inventory, or the reason it failed."""

    from parley.mcp.connection import McpConnection  # the SDK loads only when needed

    async def one(config: McpServerConfig) -> McpConnection | str:
        connection = McpConnection(config)
        try:
            await connection.start(with_resources=with_resources)
        except McpCallError as exc:
            return str(exc)
        finally:
            await connection.close()
        return connection

    names = list(servers)
    results = await asyncio.gather(*(one(servers[name]) for name in names))
    return dict(zip(names, results, strict=True))
