"""The server's state and its connections: `AppServer` and one `ClientSession` per client.

`AppServer` is process-wide (config, login, threads); `ClientSession` is one connection (its
JSON-RPC core, its subscriptions, its pending server→client requests). Handlers are quick: long
work (turns, realtime connections) runs in tasks and reports through notifications, so requests
are answered in the order they arrive and one slow thread never stalls another.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.auth import AuthStore, credential_for
from parley.config import Config, ConfigError, ConfigWarning, ModelProvider, load_config
from parley.protocol.methods import BY_NAME, experimental_reason
from parley.rpc.connection import (
    ClientInfo,
    ErrorResponse,
    Malformed,
    Notification,
    Request,
    RequestId,
    Response,
    RpcConnection,
    encode,
)
from parley.rpc.errors import ClientError, InternalError, MethodNotFound, RpcError
from parley.server.deferred import DeferredReply
from parley.server.platform_info import platform_family, platform_os, user_agent
from parley.server.tasks import spawn

if TYPE_CHECKING:
    # The agent, MCP, skills, plugins, threads and the generated models are imported when a
    # request first needs them (see `preload`), so the `initialize` reply never waits for them.
    from parley.agent.settings import ProviderSettings
    from parley.apps.service import AppsService
    from parley.mcp.hub import McpHub
    from parley.plugins.featured import FeaturedPlugins
    from parley.server.sub_agents import SubAgentSpawner
    from parley.skills.catalog import SkillCatalog
    from parley.threads.registry import ThreadRegistry
    from parley.threads.runtime import ThreadRuntime

log = logging.getLogger(__name__)

# Replaces the client's name as the originator (header and user agent), as in the reference.
ORIGINATOR_OVERRIDE_ENV = "CODEX_INTERNAL_ORIGINATOR_OVERRIDE"


def is_header_value(text: str) -> bool:
    """Whether `text` can be sent as an HTTP header value (visible ASCII, space, tab)."""
    return all(ch == "\t" or " " <= ch <= "~" for ch in text)


def _start_shell_snapshot(thread: ThreadRuntime) -> None:
    """Capture the login shell's environment when the thread is loaded, as the reference does,
    rather than when its first command is already waiting."""
    from parley.tools.shell_snapshot import SHELL_SNAPSHOT_FEATURE

    config = thread.settings.config or thread.config
    if config is not None and SHELL_SNAPSHOT_FEATURE in config.features:
        thread.agent_state.shell_snapshot.start_for(
            thread.cwd, config.shell_environment_policy, thread.id, config.codex_home
        )


async def _let_writer_send() -> None:
    """Yield to the loop until the writer has handed the response just queued to the
    transport (it wakes, then sends in a task of its own). The client of a fresh process waits
    on the `initialize` reply; its follow-ups (the sandbox probe, the preload) come after it.
    Requests are handled one at a time, so no other request overtakes them meanwhile."""
    for _ in range(3):
        await asyncio.sleep(0)


def startup_warnings(server: AppServer) -> list[dict[str, Any]]:
    """The `configWarning`s a client gets right after its initialize reply."""
    config = server.config
    warnings: list[dict[str, Any]] = []
    error = server.config_error
    if error is not None:
        warnings.append(
            ConfigWarning(
                "Invalid configuration; using defaults.", error.message, error.path, error.range
            ).to_wire()
        )
    warnings.extend(warning.to_wire() for warning in config.warnings)
    disabled = config.stack.disabled_projects()
    if disabled:
        lines = [
            "Project config.toml files are disabled in the following folders. Settings in "
            "those files are ignored."
        ]
        for index, layer in enumerate(disabled, start=1):
            lines.append(f"    {index}. {layer.path}")
            lines.append(f"       {layer.disabled_reason}")
        warnings.append(ConfigWarning("\n".join(lines) + "\n").to_wire())
    if config.sandbox_mode != "danger-full-access":
        from parley.tools.sandbox import check as sandbox_problem

        problem = sandbox_problem()
        if problem is not None:
            warnings.append(
                ConfigWarning(
                    f"sandboxed commands will be refused: {problem}",
                    "Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) or set "
                    'sandbox_mode = "danger-full-access".',
                ).to_wire()
            )
    return warnings


class AppServer:
    def __init__(
        self,
        config: Config,
        *,
        overrides: Sequence[str] = (),
        enable: Sequence[str] = (),
        disable: Sequence[str] = (),
        config_error: ConfigError | None = None,
    ) -> None:
        """`config` is the startup configuration; with `config_error` it is the defaults the
        server runs on because the files could not be used (requests that need the
        configuration then fail with that error)."""
        self.config = config
        self.config_error = config_error
        self.overrides = list(overrides)
        self._enable = list(enable)
        self._disable = list(disable)
        # experimentalFeature/enablement/set: below the user's own [features] entries.
        self.runtime_features: dict[str, bool] = {}
        self.auth = AuthStore(config.codex_home)
        self.sessions: list[ClientSession] = []
        self._warmed = False

    # The services below are built on first use: a client that only says `initialize` (or an
    # SDK probing the server) never pays for them.
    @cached_property
    def mcp(self) -> McpHub:
        from parley.mcp.hub import McpHub

        return McpHub(self.config.codex_home, self.broadcast, self.mcp_config_tree)

    def mcp_config_tree(self) -> dict[str, Any]:
        """The configuration as the files and `-c` overrides say now, for `[mcp_servers]`."""
        from parley.mcp.config_file import read_tree

        try:
            return self.load_config().tree
        except ConfigError:
            return read_tree(self.config.codex_home)

    @cached_property
    def apps(self) -> AppsService:
        from parley.apps.service import AppsService

        return AppsService()

    @cached_property
    def sub_agents(self) -> SubAgentSpawner:
        from parley.server.sub_agents import SubAgentSpawner

        return SubAgentSpawner(self)

    @cached_property
    def skills(self) -> SkillCatalog:
        from parley.skills.catalog import SkillCatalog

        return SkillCatalog(self.config.codex_home, lambda: self.broadcast("skills/changed", {}))

    @cached_property
    def featured_plugins(self) -> FeaturedPlugins:
        from parley.plugins.featured import FeaturedPlugins

        return FeaturedPlugins(self.config.codex_home)

    @cached_property
    def threads(self) -> ThreadRegistry:
        from parley.threads.registry import ThreadRegistry

        return ThreadRegistry(
            self.config, self.provider_settings, lambda: self.credential(), on_loaded=self.equip
        )

    def _built(self, name: str) -> bool:
        return name in self.__dict__

    def warm_up(self) -> None:
        """Once, right after the first `initialize` reply: start what the reference starts at
        start-up (the featured-plugins fetch) and import, on a background thread, what the
        session's first requests need (handlers, models, the agent and its HTTP stack)."""
        if self._warmed:
            return
        self._warmed = True
        from parley.server.preload import preload_in_background

        loop = asyncio.get_running_loop()

        def start_services() -> None:  # on the loop, once the thread imported their modules
            self.featured_plugins.warm()
            self.mcp.preload_sdk()

        preload_in_background(lambda: loop.call_soon_threadsafe(start_services))

    def connect(self, write: Callable[[bytes], None]) -> ClientSession:
        session = ClientSession(self, write)
        self.sessions.append(session)
        return session

    def broadcast(self, method: str, params: dict[str, Any]) -> None:
        for session in list(self.sessions):
            session.notify(method, params)

    # ---- configuration -----------------------------------------------------------------
    def load_config(
        self, *, cwd: Path | None = None, request: Mapping[str, Any] | None = None
    ) -> Config:
        """The configuration as the files say now (raises `ConfigError`)."""
        config = load_config(
            self.config.codex_home,
            overrides=self.overrides,
            enable=self._enable,
            disable=self._disable,
            cwd=cwd,
            request=request,
        )
        return self.with_runtime_features(config)

    def with_runtime_features(self, config: Config) -> Config:
        features = set(config.features)
        pinned = config.requirements.pinned_features()
        for name, enabled in self.runtime_features.items():
            if name in config.feature_table or name in pinned:
                continue  # the user's own [features] entry (or a requirement) wins
            if enabled:
                features.add(name)
            else:
                features.discard(name)
        return dataclasses.replace(config, features=frozenset(features))

    def thread_config(self, cwd: Path, request: Mapping[str, Any]) -> Config:
        """A thread's configuration, or a client error saying why there is none."""
        try:
            return self.load_config(cwd=cwd, request=request)
        except ConfigError as exc:
            raise ClientError(f"failed to load configuration: {exc.message}") from None

    def reload_config(self) -> None:
        """Pick up edited files for what is not per-thread (e.g. after `config/value/write`)."""
        try:
            self.config = self.load_config(cwd=self.config.cwd)
            self.config_error = None
        except ConfigError as exc:
            self.config_error = exc

    def require_config(self) -> Config:
        if self.config_error is not None:
            raise ClientError(f"failed to load configuration: {self.config_error.message}")
        return self.config

    def credential(self, provider: ModelProvider | None = None) -> str | None:
        """The key `provider` (default: the configured one) is sent, and only its own."""
        return credential_for(provider or self.config.provider, self.auth)

    def provider_settings(self, config: Config | None = None) -> ProviderSettings:
        from parley.config.turn_options import provider_settings

        return provider_settings(config or self.config)

    def thread(self, raw_id: str) -> ThreadRuntime:
        """A loaded thread by its client-supplied id (`thread not found` otherwise)."""
        return self.threads.loaded(raw_id)

    def equip(self, thread: ThreadRuntime) -> None:
        """Give a new or loaded thread its MCP servers (connecting in the background) and its
        skills, and watch its skill folders for changes."""
        from parley.agent.collab import CollabExtension
        from parley.skills.extension import SkillsExtension

        config = thread.config
        tools = self.mcp.for_thread(thread.id, lambda: self.apps.thread_servers(config))
        tools.pause = thread.agent_state.elicitation_pause
        tools.start()
        spawn = CollabExtension(self.sub_agents)
        thread.extensions = [tools, SkillsExtension(self.skills, thread.cwd), spawn]
        self.skills.watch(thread.cwd)
        _start_shell_snapshot(thread)

    async def require_mcp_servers(self, thread: ThreadRuntime) -> None:
        """Wait for the thread's required MCP servers; if any failed, the thread is unloaded and
        the request fails, naming them (as the reference fails thread/start and thread/resume)."""
        from parley.mcp.thread_tools import ThreadMcp

        for extension in thread.extensions:
            if not isinstance(extension, ThreadMcp):
                continue
            failures = await extension.required_failures()
            if failures:
                await self.threads.close(thread)
                raise InternalError(
                    "required MCP servers failed to initialize: " + "; ".join(failures)
                )

    async def shutdown(self) -> None:
        if self._built("threads"):
            await self.threads.close_all()
        if self._built("mcp"):
            await self.mcp.close()
        if self._built("skills"):
            await self.skills.close()


class ClientSession:
    """One client connection."""

    def __init__(self, server: AppServer, write: Callable[[bytes], None]) -> None:
        self.server = server
        self._write = write
        self.rpc = RpcConnection()
        self._waiting: dict[RequestId, asyncio.Future[Any]] = {}
        # What each waiting request asked, so a resuming client can be asked again.
        self._asked: dict[RequestId, tuple[str, dict[str, Any]]] = {}
        # Actions to run once the current request's response is written (see after_response).
        self._after: list[Callable[[], None]] = []
        # Actions to run when the connection ends (see on_close).
        self._on_close: list[Callable[[], None]] = []
        self.closed = False

    # ---- identity used by threads ------------------------------------------------------
    @property
    def client_name(self) -> str:
        """The originator Parley presents upstream: the environment's override, else the
        client's name."""
        return os.environ.get(ORIGINATOR_OVERRIDE_ENV) or self.rpc.client.name

    @property
    def user_agent(self) -> str:
        return user_agent(self.client_name, self.rpc.client.version)

    # ---- output ------------------------------------------------------------------------
    def notify(self, method: str, params: dict[str, Any]) -> None:
        if self.closed:
            return
        line = self.rpc.notification(method, params)
        if line is not None:
            self._write(line)

    async def request(self, method: str, params: dict[str, Any]) -> Any:
        if self.closed:
            raise ConnectionError("client connection is closed")
        request_id, line = self.rpc.server_request(method, params)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        self._asked[request_id] = (method, params)
        self._write(line)
        try:
            return await future
        finally:
            self._waiting.pop(request_id, None)
            self._asked.pop(request_id, None)
            self.rpc.forget(request_id)
            # Answered, or dropped because the turn ended: either way the client can close
            # whatever it showed for the request.
            thread_id = params.get("threadId")
            if isinstance(thread_id, str):
                self.notify(
                    "serverRequest/resolved", {"threadId": thread_id, "requestId": request_id}
                )

    def replay_pending_requests(self, thread_id: str) -> None:
        """Send again, with the same ids, the requests about `thread_id` still unanswered on
        this connection (as the reference does for a client that resumes the thread)."""
        for request_id, (method, params) in list(self._asked.items()):
            if params.get("threadId") == thread_id and not self.closed:
                self._write(encode({"id": request_id, "method": method, "params": params}))

    # ---- input -------------------------------------------------------------------------
    async def receive_line(self, line: bytes) -> None:
        event = self.rpc.receive_line(line)
        if isinstance(event, Malformed):
            log.warning("ignoring a malformed line: %s", event.reason)
        elif isinstance(event, Request):
            await self._handle_request(event)
        elif isinstance(event, Notification):
            if event.method != "initialized":
                log.debug("ignoring client notification %s", event.method)
        elif isinstance(event, Response | ErrorResponse):
            future = self._waiting.get(event.id) if event.id is not None else None
            if future is None or future.done():
                log.warning("ignoring a response to unknown request id %r", event.id)
            elif isinstance(event, Response):
                future.set_result(event.result)
            else:
                future.set_exception(
                    ConnectionError(f"client answered with an error: {event.error}")
                )

    async def _handle_request(self, request: Request) -> None:
        self._after = []
        try:
            result = await self._dispatch(request)
        except RpcError as exc:
            self._write(self.rpc.error(request.id, exc))
            return
        except Exception:
            log.exception("internal error while handling %s", request.method)
            self._write(
                self.rpc.error(
                    request.id, InternalError(f"internal error while handling `{request.method}`")
                )
            )
            return
        if isinstance(result, DeferredReply):
            spawn(self._reply_later(request, result.result))
        else:
            self._write(self.rpc.response(request.id, result))
        if request.method == "initialize":
            await _let_writer_send()
        for action in self._after:
            action()

    async def _reply_later(self, request: Request, result: Awaitable[Any]) -> None:
        try:
            value = await result
        except RpcError as exc:
            line = self.rpc.error(request.id, exc)
        except Exception:
            log.exception("internal error while handling %s", request.method)
            line = self.rpc.error(
                request.id, InternalError(f"internal error while handling `{request.method}`")
            )
        else:
            line = self.rpc.response(request.id, value)
        if not self.closed:
            self._write(line)

    def after_response(self, action: Callable[[], None]) -> None:
        """Run `action` right after the current request's response is written (notifications
        the reference sends after its answer, such as `thread/started`). Requests on one
        connection are handled one at a time, so "current" is unambiguous."""
        self._after.append(action)

    def on_close(self, action: Callable[[], None]) -> None:
        """Run `action` when the connection ends (a service's per-connection clean-up)."""
        self._on_close.append(action)

    async def _dispatch(self, request: Request) -> Any:
        method = request.method
        if method == "initialize":
            return self._initialize(request)
        self.rpc.require_initialized()
        from parley.server.handlers import HANDLERS, NO_PARAMS_OK

        handler = HANDLERS.get(method)
        if handler is None:
            raise MethodNotFound(method)
        params = request.params
        if params is None and method not in NO_PARAMS_OK:
            raise ClientError("Invalid request: missing field `params`")
        if params == []:
            params = {}  # some clients send an empty array for "no params"
        if params is not None and not isinstance(params, dict):
            raise ClientError(
                f"Invalid request: `params` must be an object, found {type(params).__name__}"
            )
        if not self.rpc.experimental_api:
            reason = experimental_reason(method, params)
            if reason is not None:
                # As the reference: malformed params are reported before the gate.
                spec = BY_NAME.get(method)
                if spec is not None and spec.params is not None:
                    from parley.protocol import models as m
                    from parley.protocol.params import parse_params

                    parse_params(getattr(m, spec.params), params)
                self.rpc.require_experimental(reason)
        return await handler(self, params if params is not None else {})

    def close(self) -> None:
        """The connection ended: stop receiving notifications, fail pending requests."""
        self.closed = True
        for action in self._on_close:
            try:
                action()
            except Exception:
                log.exception("a clean-up action failed when the connection closed")
        self._on_close.clear()
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(ConnectionError("client disconnected"))
        threads = self.server.threads if self.server._built("threads") else ()
        for thread in threads:
            was_subscribed = self in thread.subscribers
            thread.unsubscribe(self)
            if not thread.subscribers:
                conversation = thread.detach_realtime()
                if conversation is not None:
                    spawn(conversation.close_silently())
            if was_subscribed and not thread.subscribers and thread.is_idle:
                # Its last client went away and nothing runs on it: unload it, as the
                # reference does (thread/resume loads it again).
                spawn(self.server.threads.close(thread))
        if self in self.server.sessions:
            self.server.sessions.remove(self)

    # ---- handlers ----------------------------------------------------------------------
    def _initialize(self, request: Request) -> Any:
        # Read without pydantic when well formed (`protocol/handshake.py`): the reply must not
        # wait for it, nor for the ~600 generated models.
        from parley.protocol.handshake import read_initialize

        info = read_initialize(request.params)
        caps = info.capabilities
        if not os.environ.get(ORIGINATOR_OVERRIDE_ENV) and not is_header_value(info.name):
            raise ClientError(
                f"Invalid clientInfo.name: '{info.name}'. Must be a valid HTTP header value."
            )
        client = ClientInfo(name=info.name, title=info.title, version=info.version)
        self.rpc.accept_initialize(
            client,
            experimental_api=bool(caps and caps.experimental_api),
            opt_out=list(caps.opt_out_notification_methods or ()) if caps else [],
        )
        self.after_response(self._send_startup_warnings)
        self.after_response(self.server.warm_up)
        return {
            "userAgent": self.user_agent,
            "codexHome": str(self.server.config.codex_home),
            "platformFamily": platform_family(),
            "platformOs": platform_os(),
        }

    def _send_startup_warnings(self) -> None:
        for warning in startup_warnings(self.server):
            self.notify("configWarning", warning)
