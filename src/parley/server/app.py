"""Request dispatch: the methods Parley serves and the state they share.

`AppServer` is process-wide (config, login, threads); `ClientSession` is one connection (its
JSON-RPC core, its subscriptions, its pending server→client requests). Handlers are quick: long
work (turns, realtime connections) runs in tasks and reports through notifications, so requests
are answered in the order they arrive and one slow thread never stalls another.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from parley import PROTOCOL_VERSION
from parley.agent.turn import ProviderSettings
from parley.auth import AuthStore
from parley.config import Config
from parley.protocol import models as m
from parley.protocol.methods import BY_NAME, experimental_reason
from parley.protocol.params import parse_params
from parley.realtime.session import RealtimeConversation, RealtimeSettings, StartRequest
from parley.realtime.voices import list_voices_result
from parley.rpc.connection import (
    ClientInfo,
    ErrorResponse,
    Malformed,
    Notification,
    Request,
    RequestId,
    Response,
    RpcConnection,
)
from parley.rpc.errors import ClientError, InternalError, MethodNotFound, RpcError
from parley.server.platform_info import platform_family, platform_os, user_agent
from parley.threads.ids import parse_thread_id, uuid7
from parley.threads.runtime import PRIVATE_META, ThreadRuntime, ThreadSettings
from parley.threads.store import ThreadStore
from parley.tools.sandbox import check as sandbox_problem

log = logging.getLogger(__name__)

REALTIME_FEATURE = "realtime_conversation"
Handler = Callable[["ClientSession", Any], Awaitable[Any]]


def _dump(model: Any) -> Any:
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")


class AppServer:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.auth = AuthStore(config.codex_home, config.provider.env_key or "OPENAI_API_KEY")
        self.store = ThreadStore(config.codex_home)
        self.threads: dict[str, ThreadRuntime] = {}
        self.sessions: list[ClientSession] = []

    def connect(self, write: Callable[[bytes], None]) -> ClientSession:
        session = ClientSession(self, write)
        self.sessions.append(session)
        return session

    def broadcast(self, method: str, params: dict[str, Any]) -> None:
        for session in list(self.sessions):
            session.notify(method, params)

    def provider_settings(self) -> ProviderSettings:
        p = self.config.provider
        return ProviderSettings(
            base_url=p.base_url,
            request_max_retries=p.request_max_retries,
            stream_max_retries=p.stream_max_retries,
            name=p.name,
        )

    def thread(self, raw_id: str) -> ThreadRuntime:
        try:
            thread_id = parse_thread_id(raw_id)
        except ValueError as exc:
            raise ClientError(f"invalid thread id: {exc}") from None
        thread = self.threads.get(thread_id)
        if thread is None:
            raise ClientError(f"thread not found: {raw_id}")
        return thread

    async def shutdown(self) -> None:
        for thread in list(self.threads.values()):
            with contextlib.suppress(Exception):
                await thread.close()


class ClientSession:
    """One client connection."""

    def __init__(self, server: AppServer, write: Callable[[bytes], None]) -> None:
        self.server = server
        self._write = write
        self.rpc = RpcConnection()
        self._waiting: dict[RequestId, asyncio.Future[Any]] = {}
        self.closed = False

    # ---- identity used by threads ------------------------------------------------------
    @property
    def client_name(self) -> str:
        return self.rpc.client.name

    @property
    def user_agent(self) -> str:
        return user_agent(self.rpc.client.name, self.rpc.client.version)

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
        self._write(line)
        try:
            return await future
        finally:
            self._waiting.pop(request_id, None)
            self.rpc.forget(request_id)
            # Answered, or dropped because the turn ended: either way the client can close
            # whatever it showed for the request.
            thread_id = params.get("threadId")
            if isinstance(thread_id, str):
                self.notify(
                    "serverRequest/resolved", {"threadId": thread_id, "requestId": request_id}
                )

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
        self._write(self.rpc.response(request.id, result))
        after = self._after.pop(request.id, None) if self._after else None
        if after is not None:
            after()

    _after: dict[RequestId, Callable[[], None]] | None = None

    def _then(self, request_id: RequestId, action: Callable[[], None]) -> None:
        """Run `action` right after the response to `request_id` is written."""
        if self._after is None:
            self._after = {}
        self._after[request_id] = action

    async def _dispatch(self, request: Request) -> Any:
        method = request.method
        if method == "initialize":
            return self._initialize(request)
        self.rpc.require_initialized()
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
                    parse_params(getattr(m, spec.params), params)
                self.rpc.require_experimental(reason)
        self._current_id = request.id
        return await handler(self, params if params is not None else {})

    _current_id: RequestId = 0

    def close(self) -> None:
        """The connection ended: stop receiving notifications, fail pending requests."""
        self.closed = True
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(ConnectionError("client disconnected"))
        for thread in list(self.server.threads.values()):
            thread.unsubscribe(self)
            if not thread.subscribers and thread.realtime is not None:
                conversation = thread.realtime
                thread.realtime = None
                _spawn(conversation.close_silently())
        if self in self.server.sessions:
            self.server.sessions.remove(self)

    # ---- handlers ----------------------------------------------------------------------
    def _initialize(self, request: Request) -> Any:
        params = parse_params(m.InitializeParams, request.params)
        caps = params.capabilities
        info = params.client_info
        client = ClientInfo(name=info.name, title=info.title, version=info.version)
        self.rpc.accept_initialize(
            client,
            experimental_api=bool(caps and caps.experimental_api),
            opt_out=(caps.opt_out_notification_methods or []) if caps else [],
        )
        self._then(request.id, self._send_startup_warnings)
        return {
            "userAgent": self.user_agent,
            "codexHome": str(self.server.config.codex_home),
            "platformFamily": platform_family(),
            "platformOs": platform_os(),
        }

    def _send_startup_warnings(self) -> None:
        config = self.server.config
        for warning in config.warnings:
            self.notify("configWarning", {"summary": warning, "details": None})
        if config.sandbox_mode != "danger-full-access":
            problem = sandbox_problem()
            if problem is not None:
                self.notify(
                    "configWarning",
                    {
                        "summary": f"sandboxed commands will be refused: {problem}",
                        "details": "Install bubblewrap (Debian/Ubuntu: apt-get install "
                        'bubblewrap) or set sandbox_mode = "danger-full-access".',
                    },
                )


# ---- account ---------------------------------------------------------------------------
async def login_start(session: ClientSession, raw: Any) -> Any:
    if isinstance(raw, dict) and raw.get("type") not in (None, "apiKey"):
        kind = raw.get("type")
        if kind in ("chatgpt", "chatgptDeviceCode", "chatgptAuthTokens"):
            raise ClientError(
                f'login type `{kind}` is not supported by Parley; use {{"type": "apiKey"}}'
            )
    params = parse_params(m.LoginAccountParams, raw)
    if not isinstance(params, m.ApiKeyv2LoginAccountParams):
        raise ClientError("login types other than `apiKey` are not supported by Parley")
    api_key = params.api_key
    if not api_key.strip():
        raise ClientError("Invalid request: `apiKey` must be a non-empty string")
    session.server.auth.login(api_key.strip())

    def announce() -> None:
        session.notify("account/login/completed", {"loginId": None, "success": True, "error": None})
        session.server.broadcast("account/updated", {"authMode": "apikey", "planType": None})

    session._then(session._current_id, announce)
    return {"type": "apiKey"}


async def account_read(session: ClientSession, raw: Any) -> Any:
    server = session.server
    requires = server.config.provider.requires_openai_auth
    account = {"type": "apiKey"} if requires and server.auth.api_key else None
    return {"account": account, "requiresOpenaiAuth": requires}


async def account_logout(session: ClientSession, raw: Any) -> Any:
    session.server.auth.logout()
    session._then(
        session._current_id,
        lambda: session.server.broadcast("account/updated", {"authMode": None, "planType": None}),
    )
    return {}


# ---- threads ---------------------------------------------------------------------------
SANDBOX_WIRE = {"read-only": "readOnly", "workspace-write": "workspaceWrite"}


def _sandbox_wire(mode: str, network: bool, cwd: Path) -> dict[str, Any]:
    if mode == "danger-full-access":
        return {"type": "dangerFullAccess"}
    if mode == "workspace-write":
        return {
            "type": "workspaceWrite",
            "writableRoots": [str(cwd)],
            "readOnlyAccess": {"type": "fullAccess"},
            "networkAccess": network,
            "excludeTmpdirEnvVar": False,
            "excludeSlashTmp": False,
        }
    return {"type": "readOnly", "access": {"type": "fullAccess"}, "networkAccess": False}


def _thread_response(thread: ThreadRuntime, include_turns: bool = False) -> dict[str, Any]:
    s = thread.settings
    return {
        "thread": thread.wire(include_turns=include_turns),
        "model": s.model,
        "modelProvider": s.model_provider,
        "serviceTier": None,
        "cwd": str(s.cwd),
        "approvalPolicy": s.approval_policy,
        "approvalsReviewer": "user",
        "sandbox": _sandbox_wire(s.sandbox_mode, s.network_access, s.cwd),
        "reasoningEffort": None,
    }


def _settings_from(session: ClientSession, params: Any) -> ThreadSettings:
    config = session.server.config
    cwd_raw = getattr(params, "cwd", None)
    cwd = Path(cwd_raw).expanduser() if cwd_raw else Path.cwd()
    if not cwd.is_absolute():
        cwd = (Path.cwd() / cwd).resolve()
    if not cwd.is_dir():
        raise ClientError(f"Invalid request: `cwd` {cwd} is not a directory")
    sandbox = getattr(params, "sandbox", None)
    sandbox_mode = _enum_value(sandbox) or config.sandbox_mode
    approval = getattr(params, "approval_policy", None)
    approval_policy = _enum_value(approval) or config.approval_policy
    provider_id = getattr(params, "model_provider", None)
    if provider_id and provider_id != config.provider.id:
        raise ClientError(
            f"Invalid request: model provider `{provider_id}` is not configured "
            f"(configured: `{config.provider.id}`)"
        )
    return ThreadSettings(
        model=getattr(params, "model", None) or config.model,
        model_provider=config.provider.id,
        provider=session.server.provider_settings(),
        cwd=cwd,
        sandbox_mode=sandbox_mode,
        approval_policy=approval_policy if isinstance(approval_policy, str) else "on-request",
        network_access=config.network_access,
        base_instructions=getattr(params, "base_instructions", None),
        developer_instructions=getattr(params, "developer_instructions", None),
    )


def _enum_value(value: Any) -> str | None:
    if value is None:
        return None
    inner = getattr(value, "root", value)
    inner = getattr(inner, "value", inner)
    return inner if isinstance(inner, str) else None


async def thread_start(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadStartParams, raw)
    server = session.server
    settings = _settings_from(session, params)
    thread_id = uuid7()
    now = int(time.time())
    ephemeral = bool(getattr(params, "ephemeral", None))
    path = server.store.path_for(thread_id, now)
    meta = {
        "id": thread_id,
        "forkedFromId": None,
        "preview": "",
        "ephemeral": ephemeral,
        "modelProvider": settings.model_provider,
        "createdAt": now,
        "updatedAt": now,
        "path": None if ephemeral else str(path),
        "cwd": str(settings.cwd),
        "cliVersion": PROTOCOL_VERSION,
        "source": "vscode",
        "agentNickname": None,
        "agentRole": None,
        "gitInfo": None,
        "name": None,
        "model": settings.model,
        "sandboxMode": settings.sandbox_mode,
        "approvalPolicy": settings.approval_policy,
    }
    log_ = None if ephemeral else server.store.create(meta)
    thread = ThreadRuntime(
        meta=meta,
        settings=settings,
        config=server.config,
        log_=log_,
        api_key=lambda: server.auth.api_key,
    )
    server.threads[thread_id] = thread
    thread.subscribe(session)
    session._then(
        session._current_id,
        lambda: session.notify("thread/started", {"thread": thread.wire()}),
    )
    return _thread_response(thread)


def _load_thread(session: ClientSession, raw_id: str) -> ThreadRuntime:
    server = session.server
    try:
        thread_id = parse_thread_id(raw_id)
    except ValueError as exc:
        raise ClientError(f"invalid thread id: {exc}") from None
    existing = server.threads.get(thread_id)
    if existing is not None:
        return existing
    path = server.store.find(thread_id)
    stored = server.store.load(path) if path else None
    if stored is None:
        raise ClientError(f"thread not found: {raw_id}")
    from parley.threads.store import ThreadLog

    meta = stored.meta
    config = server.config
    cwd = Path(meta.get("cwd") or os.getcwd())
    settings = ThreadSettings(
        model=meta.get("model") or config.model,
        model_provider=config.provider.id,
        provider=server.provider_settings(),
        cwd=cwd if cwd.is_dir() else Path.cwd(),
        sandbox_mode=meta.get("sandboxMode") or config.sandbox_mode,
        approval_policy=meta.get("approvalPolicy") or config.approval_policy,
        network_access=config.network_access,
    )
    thread = ThreadRuntime(
        meta=meta,
        settings=settings,
        config=config,
        log_=ThreadLog(stored.path),
        api_key=lambda: server.auth.api_key,
        history=stored.history,
        turns=stored.turns,
    )
    server.threads[thread.id] = thread
    return thread


async def thread_resume(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadResumeParams, raw)
    thread = _load_thread(session, params.thread_id)
    thread.subscribe(session)
    return _thread_response(thread, include_turns=True)


async def thread_read(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadReadParams, raw)
    thread = _load_thread(session, params.thread_id)
    include = bool(getattr(params, "include_turns", False))
    return {"thread": thread.wire(include_turns=include)}


async def thread_list(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadListParams, raw)
    server = session.server
    limit = getattr(params, "limit", None) or 50
    cursor = getattr(params, "cursor", None)
    start = int(cursor) if cursor and str(cursor).isdigit() else 0
    data: list[dict[str, Any]] = []
    listed = 0
    more = False
    for path in server.store.all_paths():
        stored = server.store.load(path)
        if stored is None or not stored.turns:
            continue  # as the reference: a thread shows up once it has had a turn
        listed += 1
        if listed <= start:
            continue
        if len(data) == limit:
            more = True
            break
        live = server.threads.get(stored.meta["id"])
        if live is not None:
            data.append(live.wire())
            continue
        wire = {k: v for k, v in stored.meta.items() if k not in PRIVATE_META}
        data.append(wire | {"status": {"type": "notLoaded"}, "turns": [], "sessionId": wire["id"]})
    next_cursor = str(start + limit) if more else None
    return {"data": data, "nextCursor": next_cursor}


# ---- turns -----------------------------------------------------------------------------
def _input_list(params: Any) -> list[dict[str, Any]]:
    items = []
    for item in params.input:
        items.append(_dump(item))
    for item in items:
        if item.get("type") == "text":
            item.setdefault("text_elements", [])
    return items


async def turn_start(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.TurnStartParams, raw)
    thread = session.server.thread(params.thread_id)
    thread.subscribe(session)
    user_input = _input_list(params)
    if not user_input:
        raise ClientError("Invalid request: `input` must contain at least one item")
    _apply_turn_overrides(thread, params)
    return {"turn": thread.start_turn(user_input)}


SANDBOX_POLICY_MODES = {
    "readOnly": "read-only",
    "workspaceWrite": "workspace-write",
    "dangerFullAccess": "danger-full-access",
}


def _apply_turn_overrides(thread: ThreadRuntime, params: Any) -> None:
    """turn/start settings apply to this turn and the thread's later turns (as the reference).

    Every value is checked before any is applied, so a refused request changes nothing."""
    settings = thread.settings
    model = params.model or settings.model
    approval = _enum_value(params.approval_policy) or settings.approval_policy
    sandbox_mode, network = settings.sandbox_mode, settings.network_access
    if params.sandbox_policy is not None:
        policy = _dump(params.sandbox_policy)
        mode = SANDBOX_POLICY_MODES.get(policy.get("type", ""))
        if mode is None:
            raise ClientError(
                f"Invalid request: sandbox policy `{policy.get('type')}` is not supported; "
                f"use one of {', '.join(SANDBOX_POLICY_MODES)}"
            )
        sandbox_mode = mode
        if mode == "workspace-write":
            network = bool(policy.get("networkAccess", False))
    cwd = settings.cwd
    if params.cwd:
        cwd = Path(params.cwd).expanduser()
        if not cwd.is_absolute() or not cwd.is_dir():
            raise ClientError(f"Invalid request: `cwd` {params.cwd} is not an existing directory")
    settings.model, settings.approval_policy = model, approval
    settings.sandbox_mode, settings.network_access, settings.cwd = sandbox_mode, network, cwd
    thread.remember_settings()


async def turn_steer(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.TurnSteerParams, raw)
    thread = session.server.thread(params.thread_id)
    turn_id = thread.steer(_input_list(params), params.expected_turn_id)
    return {"turnId": turn_id}


async def turn_interrupt(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.TurnInterruptParams, raw)
    thread = session.server.thread(params.thread_id)
    thread.interrupt(params.turn_id)
    return {}


# ---- realtime --------------------------------------------------------------------------
def _realtime_thread(session: ClientSession, raw_id: str) -> ThreadRuntime:
    thread = session.server.thread(raw_id)
    if not session.server.config.feature_enabled(REALTIME_FEATURE):
        raise ClientError(f"thread {raw_id} does not support realtime conversation")
    return thread


class _RealtimePort:
    """The realtime conversation's view of its thread."""

    def __init__(self, thread: ThreadRuntime) -> None:
        self._thread = thread
        self.thread_id = thread.id
        self.cwd = thread.cwd

    def emit(self, method: str, params: dict[str, Any]) -> None:
        self._thread.emit_to_clients(method, params)
        if method == "thread/realtime/closed":
            self._thread.realtime_stopped()

    def delegate(self, text: str) -> None:
        self._thread.delegate(text)

    def has_active_turn(self) -> bool:
        active = self._thread.active
        return active is not None and not active.interrupted

    def prior_turns(self) -> list[tuple[str, str]]:
        return self._thread.prior_turns()


async def realtime_start(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadRealtimeStartParams, raw)
    thread = _realtime_thread(session, params.thread_id)
    thread.subscribe(session)
    server = session.server
    config = server.config
    transport = getattr(params, "transport", None)
    transport_dict = _dump(transport) if transport is not None else {}
    kind = transport_dict.get("type", "websocket")
    settings = RealtimeSettings(
        version=config.realtime.version,
        session_type=config.realtime.type,
        config_voice=config.realtime.voice,
        ws_base_url=config.realtime.ws_base_url,
        provider_base_url=config.provider.base_url,
        model=config.realtime.ws_model,
        backend_prompt_override=config.realtime.backend_prompt,
        startup_context_override=config.realtime.startup_context,
        api_key=server.auth.api_key,
        originator=session.client_name,
        user_agent=session.user_agent,
        request_max_retries=config.provider.request_max_retries,
    )
    voice = _enum_value(getattr(params, "voice", None))
    prompt_present = "prompt" in (raw if isinstance(raw, dict) else {})
    start = StartRequest(
        prompt=getattr(params, "prompt", None),
        prompt_present=prompt_present,
        session_id=getattr(params, "session_id", None),
        transport=kind,
        offer_sdp=transport_dict.get("sdp"),
        voice=voice,
    )
    previous = thread.realtime
    if previous is not None:
        # Replaced silently, as the reference does; its socket closes in the background so
        # this request is answered at once.
        thread.realtime = None
        _spawn(previous.close_silently())
    conversation = RealtimeConversation(_RealtimePort(thread), settings)
    thread.attach_realtime(conversation)
    session._then(session._current_id, lambda: conversation.start(start))
    return {}


def _running_conversation(thread: ThreadRuntime) -> RealtimeConversation | None:
    conversation = thread.realtime
    return conversation if conversation is not None and conversation.is_running else None


def _not_running(thread: ThreadRuntime) -> None:
    """As the reference: the request succeeded, the failure arrives as an `error` notification."""
    thread.set_status({"type": "systemError"})
    thread.emit_to_clients(
        "error",
        {
            "error": {
                "message": "conversation is not running",
                "codexErrorInfo": "badRequest",
                "additionalDetails": None,
            },
            "willRetry": False,
            "threadId": thread.id,
            "turnId": uuid7(),
        },
    )


async def realtime_append_audio(session: ClientSession, raw: Any) -> Any:
    # Hot path: plain dict checks, no model validation.
    if not isinstance(raw, dict):
        raise ClientError("Invalid request: params must be an object")
    thread_id = raw.get("threadId")
    if not isinstance(thread_id, str):
        raise ClientError("Invalid request: missing field `threadId`")
    audio = raw.get("audio")
    if not isinstance(audio, dict):
        raise ClientError("Invalid request: missing field `audio`")
    if not isinstance(audio.get("data"), str):
        raise ClientError("Invalid request: `audio.data` must be a base64 string")
    for key in ("sampleRate", "numChannels"):
        value = audio.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ClientError(f"Invalid request: `audio.{key}` must be a non-negative integer")
    thread = _realtime_thread(session, thread_id)
    conversation = _running_conversation(thread)
    if conversation is None:
        session._then(session._current_id, lambda: _not_running(thread))
        return {}
    # Back-pressure: a client sending faster than the upstream takes waits here (bounded).
    await conversation.wait_for_audio_room()
    conversation.append_audio(audio)
    return {}


async def realtime_append_text(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadRealtimeAppendTextParams, raw)
    thread = _realtime_thread(session, params.thread_id)
    conversation = _running_conversation(thread)
    if conversation is None:
        session._then(session._current_id, lambda: _not_running(thread))
        return {}
    conversation.append_text(params.text)
    return {}


async def realtime_stop(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadRealtimeStopParams, raw)
    thread = _realtime_thread(session, params.thread_id)
    conversation = thread.realtime
    if conversation is None:
        session._then(
            session._current_id,
            lambda: thread.emit_to_clients(
                "thread/realtime/closed", {"threadId": thread.id, "reason": "requested"}
            ),
        )
        return {}
    session._then(session._current_id, lambda: _spawn(conversation.request_stop()))
    return {}


_background: set[asyncio.Task[Any]] = set()


def _spawn(coro: Any) -> None:
    task = asyncio.get_running_loop().create_task(coro)
    _background.add(task)
    task.add_done_callback(_background.discard)


async def realtime_list_voices(session: ClientSession, raw: Any) -> Any:
    return list_voices_result()


HANDLERS: dict[str, Handler] = {
    "account/login/start": login_start,
    "account/read": account_read,
    "account/logout": account_logout,
    "thread/start": thread_start,
    "thread/resume": thread_resume,
    "thread/read": thread_read,
    "thread/list": thread_list,
    "turn/start": turn_start,
    "turn/steer": turn_steer,
    "turn/interrupt": turn_interrupt,
    "thread/realtime/start": realtime_start,
    "thread/realtime/appendAudio": realtime_append_audio,
    "thread/realtime/appendText": realtime_append_text,
    "thread/realtime/stop": realtime_stop,
    "thread/realtime/listVoices": realtime_list_voices,
}
NO_PARAMS_OK = frozenset({"account/logout"})
