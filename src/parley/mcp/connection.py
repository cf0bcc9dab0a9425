"""One live connection to one MCP server, through the official MCP Python SDK.

The SDK's transports and `ClientSession` are context managers that must be entered and left in
one task, so each connection has an owner task that opens them, initializes the session, lists
the tools, reports ready and then holds the connection open until `close()`. Callers in other
tasks use the session; every call is raced against the server's end and bounded by the
server's `tool_timeout_sec`, so a server that crashes or hangs fails its calls with a clear
error and never blocks anyone else. Startup is bounded by `startup_timeout_sec`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import get_default_environment, stdio_client
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.context import RequestContext
from mcp.shared.exceptions import McpError

from parley.agent.pause import ElicitationPause
from parley.mcp.config import HttpTransport, McpServerConfig, StdioTransport, http_headers
from parley.mcp.errors import McpCallError

log = logging.getLogger(__name__)

T = TypeVar("T")

ElicitationHandler = Callable[[str, types.ElicitRequestParams], Awaitable[types.ElicitResult]]


@dataclass
class Inventory:
    """What a server offers: tools always, resources and templates when asked for."""

    tools: list[types.Tool] = field(default_factory=list)
    resources: list[types.Resource] = field(default_factory=list)
    resource_templates: list[types.ResourceTemplate] = field(default_factory=list)


def startup_error(config: McpServerConfig, reason: BaseException | str) -> str:
    """The reference's wording for a server that did not come up."""
    name = config.name
    if isinstance(reason, TimeoutError):
        seconds = int(config.startup_timeout_sec)
        return (
            f"MCP client for `{name}` timed out after {seconds} seconds. Add or adjust "
            f"`startup_timeout_sec` in your config.toml:\n[mcp_servers.{name}]\n"
            "startup_timeout_sec = XX"
        )
    return f"MCP client for `{name}` failed to start: {describe(reason)}"


def describe(error: BaseException | str) -> str:
    """A one-line reason, unwrapping the SDK's exception groups to their first cause."""
    if isinstance(error, str):
        return error
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    if isinstance(error, anyio.BrokenResourceError | anyio.ClosedResourceError | anyio.EndOfStream):
        return "the server closed the connection"
    if isinstance(error, McpError):
        return error.error.message
    return str(error) or type(error).__name__


class McpConnection:
    def __init__(
        self, config: McpServerConfig, on_elicitation: ElicitationHandler | None = None
    ) -> None:
        self.config = config
        self.name = config.name
        self._on_elicitation = on_elicitation
        self._session: ClientSession | None = None
        self._ready: asyncio.Future[None] | None = None
        self._stop = asyncio.Event()
        self._ended = asyncio.Event()
        self._owner: asyncio.Task[None] | None = None
        self.failure: str | None = None
        self.inventory = Inventory()

    # ---- lifecycle ---------------------------------------------------------------------
    async def start(self, *, with_resources: bool = False) -> None:
        """Connect, initialize and list the tools (and resources when asked), within the
        startup timeout. Raises `McpCallError` with the reference's wording on failure."""
        if self._owner is None:
            self._ready = asyncio.get_running_loop().create_future()
            self._owner = asyncio.create_task(
                self._own(with_resources), name=f"mcp-server-{self.name}"
            )
        assert self._ready is not None
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), self.config.startup_timeout_sec)
        except TimeoutError as exc:
            self.failure = startup_error(self.config, exc)
            await self._abort()
            raise McpCallError(self.failure) from None
        except Exception as exc:
            self.failure = startup_error(self.config, exc)
            raise McpCallError(self.failure) from None

    async def close(self) -> None:
        self._stop.set()
        owner = self._owner
        if owner is None or owner.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(owner), 5)
        except (TimeoutError, Exception):
            owner.cancel()
            with contextlib.suppress(BaseException):
                await owner

    async def _abort(self) -> None:
        """Stop a connection that is still starting (it is not waiting for `close`)."""
        self._stop.set()
        owner = self._owner
        if owner is not None and not owner.done():
            owner.cancel()
            with contextlib.suppress(BaseException):
                await owner

    @property
    def running(self) -> bool:
        return self._session is not None and not self._ended.is_set()

    async def _own(self, with_resources: bool) -> None:
        ready = self._ready
        assert ready is not None
        try:
            async with AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._transport())
                session = await stack.enter_async_context(
                    ClientSession(
                        read,
                        write,
                        elicitation_callback=self._elicit,
                        client_info=types.Implementation(name="parley", version="0.1.0"),
                    )
                )
                await session.initialize()
                self.inventory.tools = await self._list(session.list_tools, "tools")
                if with_resources:
                    await self._list_resources(session)
                self._session = session
                if not ready.done():
                    ready.set_result(None)
                await self._stop.wait()
        except asyncio.CancelledError:
            if not ready.done():
                ready.set_exception(McpCallError("startup was cancelled"))
            raise
        except BaseException as exc:  # the SDK reports transport failures as groups
            reason = describe(exc)
            if not ready.done():
                ready.set_exception(McpCallError(reason))
                ready.exception()  # retrieved: start() reports it
            elif not self._stop.is_set():
                self.failure = f"MCP server `{self.name}` stopped: {reason}"
                log.warning("%s", self.failure)
        finally:
            self._session = None
            self._ended.set()

    @asynccontextmanager
    async def _transport(self) -> AsyncIterator[tuple[Any, Any]]:
        transport = self.config.transport
        if isinstance(transport, StdioTransport):
            env = get_default_environment()
            for variable in transport.env_vars:
                value = os.environ.get(variable)
                if value is not None:
                    env[variable] = value
            env.update(transport.env)
            params = StdioServerParameters(
                command=transport.command,
                args=list(transport.args),
                env=env,
                cwd=transport.cwd,
            )
            async with stdio_client(params) as (read, write):
                yield read, write
        elif isinstance(transport, HttpTransport):
            headers = http_headers(transport)
            async with streamablehttp_client(
                transport.url, headers=headers, timeout=self.config.startup_timeout_sec
            ) as (read, write, _session_id):
                yield read, write
        else:
            raise McpCallError(self.config.problem or "no transport configured")

    async def _elicit(
        self, context: RequestContext[ClientSession, Any], params: types.ElicitRequestParams
    ) -> types.ElicitResult | types.ErrorData:
        if self._on_elicitation is None:
            return types.ElicitResult(action="decline")
        try:
            return await self._on_elicitation(self.name, params)
        except Exception as exc:
            log.info("elicitation from %s not answered: %s", self.name, exc)
            return types.ElicitResult(action="cancel")

    @staticmethod
    async def _list(fetch: Callable[..., Awaitable[Any]], attribute: str) -> list[Any]:
        items: list[Any] = []
        cursor: str | None = None
        while True:
            page = await fetch(cursor=cursor) if cursor else await fetch()
            items.extend(getattr(page, attribute))
            cursor = page.nextCursor
            if not cursor:
                return items

    async def _list_resources(self, session: ClientSession) -> None:
        capabilities = session.get_server_capabilities()
        if capabilities is None or capabilities.resources is None:
            return
        self.inventory.resources = await self._list(session.list_resources, "resources")
        self.inventory.resource_templates = await self._list(
            session.list_resource_templates, "resourceTemplates"
        )

    # ---- requests ----------------------------------------------------------------------
    async def _request(
        self,
        what: str,
        call: Callable[[ClientSession], Awaitable[T]],
        pause: ElicitationPause | None = None,
    ) -> T:
        """`call` bounded by `tool_timeout_sec` (a clock that stands still while `pause` is
        paused) and by the server's end."""
        session = self._session
        if session is None or self._ended.is_set():
            raise McpCallError(self.failure or f"MCP server `{self.name}` is not running")
        request = asyncio.ensure_future(call(session))
        ended = asyncio.ensure_future(self._ended.wait())
        timer = asyncio.ensure_future(
            pause.sleep(self.config.tool_timeout_sec)
            if pause is not None
            else asyncio.sleep(self.config.tool_timeout_sec)
        )
        try:
            done, _ = await asyncio.wait(
                {request, ended, timer}, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            ended.cancel()
            timer.cancel()
            if not request.done():
                request.cancel()
        if request in done:
            try:
                return request.result()
            except McpError as exc:
                raise McpCallError(f"{what} failed: {exc.error.message}") from None
            except Exception as exc:
                raise McpCallError(f"{what} failed: {describe(exc)}") from None
        if ended in done:
            reason = self.failure or "the server exited"
            raise McpCallError(f"{what} failed: MCP server `{self.name}` stopped ({reason})")
        raise McpCallError(
            f"{what} timed out after {self.config.tool_timeout_sec:g} seconds "
            f"(`tool_timeout_sec` of MCP server `{self.name}`)"
        )

    async def call_tool(
        self,
        tool: str,
        arguments: dict[str, Any] | None,
        pause: ElicitationPause | None = None,
    ) -> types.CallToolResult:
        # The SDK's own read timeout cannot pause: ours (in `_request`) decides.
        return await self._request(
            f"tool call `{self.name}/{tool}`",
            lambda session: session.call_tool(tool, arguments),
            pause,
        )

    async def read_resource(self, uri: str) -> types.ReadResourceResult:
        from pydantic import AnyUrl

        return await self._request(
            f"reading resource `{uri}` from `{self.name}`",
            lambda session: session.read_resource(AnyUrl(uri)),
        )
