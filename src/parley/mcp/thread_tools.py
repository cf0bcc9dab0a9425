"""One thread's MCP servers, offered to its agent turns as tools (a `TurnExtension`).

Connections start in the background when the thread is created; a turn waits for the ones
still starting (each bounded by its own startup timeout), then offers the tools of those that
came up under their `mcp__<server>__<tool>` names. A call is shown as an `mcpToolCall` item,
asks the user first when the reference would, and fails with a clear message when its server
is down, crashed or too slow; other servers and the turn carry on. Elicitations a server sends
during a turn are forwarded to the client as `mcpServer/elicitation/request`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

from parley.agent.extensions import CallChannel, ExtensionCall, TurnOffer
from parley.mcp import tool_call
from parley.mcp.config import McpServerConfig
from parley.mcp.errors import McpCallError
from parley.mcp.names import ToolRef, qualify

CODEX_APPS_SERVER = "codex_apps"  # the built-in server of a ChatGPT sign-in (parley.apps)

if TYPE_CHECKING:
    from mcp import types

    from parley.agent.pause import ElicitationPause
    from parley.agent.settings import TurnSettings
    from parley.mcp.connection import McpConnection
    from parley.mcp.hub import BuiltIns, McpHub

log = logging.getLogger(__name__)

ELICITATION_METHOD = "mcpServer/elicitation/request"


class ThreadMcp:
    def __init__(self, hub: McpHub, thread_id: str, built_ins: BuiltIns | None = None) -> None:
        self._hub = hub
        self.thread_id = thread_id
        self._built_ins = built_ins
        self._generation = -1
        self._connections: dict[str, McpConnection] = {}
        self._startups: dict[str, asyncio.Task[None]] = {}
        self._names: dict[str, ToolRef] = {}
        self._turn: CallChannel | None = None
        self._settings: TurnSettings | None = None
        # Stops tool calls' timeout clocks while the client shows an elicitation of its own
        # (thread/increment_elicitation); the thread's, set by the server.
        self.pause: ElicitationPause | None = None
        # Calls the user allowed "for this session": (server, connector id, tool).
        self._approved_for_session: set[tuple[str, str | None, str]] = set()

    # ---- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Begin connecting to every configured server (no waiting)."""
        self._generation = self._hub.generation
        servers = {**self._hub.servers(), **(self._built_ins() if self._built_ins else {})}
        if not servers:
            return
        from parley.mcp.connection import McpConnection  # the SDK loads only when needed

        for name, config in servers.items():
            connection = McpConnection(config, self._forward_elicitation)
            self._connections[name] = connection
            self._hub.announce(name, "starting")
            self._startups[name] = asyncio.create_task(self._start_one(connection))

    async def _start_one(self, connection: McpConnection) -> None:
        try:
            await connection.start()
        except McpCallError as exc:
            self._hub.announce(connection.name, "failed", str(exc))
            return
        self._hub.announce(connection.name, "ready")

    async def _restart_if_reloaded(self) -> None:
        if self._generation == self._hub.generation:
            return
        await self._disconnect()
        self.start()

    async def ready(self) -> dict[str, McpConnection]:
        """The connections that are up, once every startup has finished one way or another."""
        await self._restart_if_reloaded()
        if self._startups:
            await asyncio.gather(*self._startups.values(), return_exceptions=True)
        return {name: c for name, c in self._connections.items() if c.running}

    async def required_failures(self) -> list[str]:
        """`<server>: <error>` for each required server that did not start (waiting for them)."""
        required = [c for c in self._connections.values() if c.config.required]
        startups = [self._startups[c.name] for c in required if c.name in self._startups]
        if startups:
            await asyncio.gather(*startups, return_exceptions=True)
        return [f"{c.name}: {c.failure or 'did not start'}" for c in required if not c.running]

    async def close(self) -> None:
        """The thread is gone: stop its servers."""
        await self._disconnect()
        self._hub.forget(self)

    async def _disconnect(self) -> None:
        for task in self._startups.values():
            task.cancel()
        for connection in self._connections.values():
            with contextlib.suppress(Exception):
                await connection.close()
        self._startups.clear()
        self._connections.clear()
        self._names.clear()

    async def connection(self, server: str) -> McpConnection:
        """The named server's connection once started; `McpCallError` when it is not up."""
        await self._restart_if_reloaded()
        startup = self._startups.get(server)
        if startup is not None:
            await asyncio.gather(startup, return_exceptions=True)
        connection = self._connections.get(server)
        if connection is None:
            raise McpCallError(f"unknown MCP server `{server}`")
        if not connection.running:
            raise McpCallError(connection.failure or f"MCP server `{server}` is not running")
        return connection

    # ---- TurnExtension -----------------------------------------------------------------
    async def offer(self, settings: TurnSettings, io: CallChannel) -> TurnOffer:
        self._turn = io
        self._settings = settings
        connections = await self.ready()
        refs = [
            ToolRef(name, tool.name)
            for name, connection in connections.items()
            for tool in connection.inventory.tools
            if connection.config.offers(tool.name)
        ]
        self._names = qualify(refs)
        tools = []
        for qualified, ref in sorted(self._names.items()):
            tool = self._tool(ref)
            if tool is not None:
                tools.append(tool_call.tool_spec(qualified, tool))
        return TurnOffer(tools=tools)

    def handles(self, tool_name: str) -> bool:
        return tool_name in self._names

    def _tool(self, ref: ToolRef) -> types.Tool | None:
        connection = self._connections.get(ref.server)
        if connection is None:
            return None
        return next((t for t in connection.inventory.tools if t.name == ref.tool), None)

    @staticmethod
    def _session_key(
        ref: ToolRef, tool: types.Tool | None, mode: str
    ) -> tuple[str, str | None, str] | None:
        """What an "allow for this session" is remembered under: the server, the app (for the
        built-in `codex_apps` server, which needs one) and the tool; only for tools whose
        approval mode is "auto" (a "prompt" tool asks every time)."""
        if mode != "auto":
            return None
        meta = tool.meta if tool is not None else None
        connector = meta.get("connector_id") if isinstance(meta, dict) else None
        connector_id = connector if isinstance(connector, str) else None
        if ref.server == CODEX_APPS_SERVER and connector_id is None:
            return None
        return (ref.server, connector_id, ref.tool)

    def _config(self, server: str) -> McpServerConfig | None:
        connection = self._connections.get(server)
        return connection.config if connection is not None else None

    async def call(self, request: ExtensionCall) -> str:
        ref = self._names[request.call.name]
        call_id, io, notifier = request.call.call_id, request.io, request.notifier
        arguments, problem = tool_call.parse_arguments(request.call.arguments)
        if problem is not None:
            return tool_call.error_output(problem)
        self._turn = io

        def show(**fields: Any) -> dict[str, Any]:
            return tool_call.item(call_id, ref.server, ref.tool, arguments, **fields)

        notifier.item_started(show())
        tool = self._tool(ref)
        config = self._config(ref.server)
        mode = config.approval_mode(ref.tool) if config is not None else "auto"
        settings = request.settings
        annotations = tool.annotations if tool is not None else None
        key = self._session_key(ref, tool, mode)
        if key not in self._approved_for_session and tool_call.should_ask(
            annotations, mode, settings.approval_policy, settings.sandbox_mode
        ):
            offered = tool_call.persist_options(
                key is not None, "tool_call_mcp_elicitation" in settings.features
            )
            params = tool_call.approval_request(
                io.thread_id, io.turn_id, ref.server, ref.tool, arguments, offered
            )
            try:
                response = await io.request_client(ELICITATION_METHOD, params)
            except ConnectionError:
                response = {"action": "cancel"}
            refusal = tool_call.approval_refusal(response)
            if refusal is not None:
                notifier.item_completed(show(status="failed", error=refusal, duration_ms=0))
                return tool_call.error_output(refusal)
            choice = tool_call.remembered_choice(response, offered)
            if choice is not None and key is not None:
                self._approved_for_session.add(key)
                if choice == tool_call.PERSIST_ALWAYS:
                    self._hub.approve_always(ref.server, key[1], ref.tool)

        started = time.monotonic()
        try:
            connection = await self.connection(ref.server)
            result = await connection.call_tool(ref.tool, arguments, self.pause)
        except McpCallError as exc:
            elapsed = int((time.monotonic() - started) * 1000)
            notifier.item_completed(show(status="failed", error=str(exc), duration_ms=elapsed))
            return tool_call.error_output(str(exc))
        elapsed = int((time.monotonic() - started) * 1000)
        wire = tool_call.result_wire(result)
        status = "failed" if result.isError else "completed"
        error = None
        if result.isError:
            texts = [str(b.get("text", "")) for b in wire["content"] if b.get("type") == "text"]
            error = " ".join(texts) or "the tool reported an error"
        notifier.item_completed(show(status=status, result=wire, error=error, duration_ms=elapsed))
        return tool_call.output_for_model(result)

    # ---- elicitation -------------------------------------------------------------------
    async def _forward_elicitation(
        self, server: str, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        from mcp import types

        turn, settings = self._turn, self._settings
        if turn is None or settings is None:
            return types.ElicitResult(action="decline")
        if isinstance(params, types.ElicitRequestFormParams):
            schema = params.requestedSchema
            if tool_call.auto_approved(settings.approval_policy, settings.sandbox_mode) and not (
                schema.get("properties")
            ):
                return types.ElicitResult(action="accept", content={})
            request: dict[str, Any] = {
                "mode": "form",
                "message": params.message,
                "requestedSchema": tool_call.form_schema(schema),
            }
        else:
            request = {
                "mode": "url",
                "message": params.message,
                "url": params.url,
                "elicitationId": params.elicitationId,
            }
        if settings.approval_policy == "never":
            return types.ElicitResult(action="decline")
        meta = params.meta.model_dump(by_alias=True, exclude_none=True) if params.meta else None
        wire = {
            "threadId": turn.thread_id,
            "turnId": turn.turn_id,
            "serverName": server,
            **request,
            "_meta": meta,
        }
        response = await turn.request_client(ELICITATION_METHOD, wire)
        action = response.get("action")
        content = response.get("content")
        if action == "accept":
            return types.ElicitResult(
                action="accept", content=content if isinstance(content, dict) else None
            )
        return types.ElicitResult(action="decline" if action == "decline" else "cancel")
