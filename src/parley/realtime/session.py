"""The asyncio driver of a thread's realtime conversation.

`RealtimeConversation` owns the upstream socket of the current session and moves data
between it and the sans-IO `RealtimeBridge`: a connect-then-read task pumps upstream frames
through the bridge, a writer task sends frames in order, and client commands and thread
events are handed to the bridge as they come. Delegated turns run in the thread layer; this
module only calls `port.delegate`, so audio keeps flowing while they run.

It decides nothing about the protocol itself; that is the bridge's and the codecs' job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from parley.realtime.bridge import (
    Action,
    CloseTransport,
    Delegate,
    Notify,
    RealtimeBridge,
    SendFrame,
    SessionState,
    closed_notification,
    error_notification,
)
from parley.realtime.codec import RealtimeCodec, SessionSpec, codec_for
from parley.realtime.instructions import (
    build_startup_context,
    compose_instructions,
    default_backend_prompt,
    local_user_first_name,
    resolve_backend_prompt,
)
from parley.realtime.transport import (
    READ_RESET_MESSAGE,
    STREAM_DISCONNECTED,
    RealtimeConnectError,
    call_headers,
    connect_upstream,
    create_call,
    upstream_headers,
)
from parley.realtime.urls import RealtimeUrlError, realtime_call_url, realtime_ws_url
from parley.realtime.voices import UnsupportedVoice, resolve_voice

logger = logging.getLogger(__name__)

DEFAULT_REALTIME_MODEL: Final = "gpt-realtime-1.5"
API_KEY_REQUIRED: Final = "realtime conversation requires API key auth"
# Audio waiting for the writer beyond this is dropped rather than queued without bound.
MAX_QUEUED_AUDIO_FRAMES: Final = 256


@dataclass(frozen=True)
class RealtimeSettings:
    """Configuration a realtime session is started with (read by the thread layer)."""

    version: str  # "v1" | "v2"   ([realtime] version, default v2)
    session_type: str  # "conversational" | "transcription"  ([realtime] type)
    config_voice: str | None  # [realtime] voice
    ws_base_url: str | None  # experimental_realtime_ws_base_url (None: provider base)
    provider_base_url: str  # model provider base_url; call create = base + "/realtime/calls"
    model: str  # experimental_realtime_ws_model
    backend_prompt_override: str | None  # experimental_realtime_ws_backend_prompt
    startup_context_override: str | None  # experimental_realtime_ws_startup_context
    api_key: str | None = field(repr=False)  # never shown in reprs or logs
    originator: str  # initialize clientInfo.name
    user_agent: str
    request_max_retries: int = 4


class RealtimeThreadPort(Protocol):
    """What the realtime conversation needs from the thread it belongs to."""

    thread_id: str
    cwd: Path

    def emit(self, method: str, params: dict[str, Any]) -> None:
        """Send a notification to the thread's clients (params already carry threadId)."""
        ...

    def delegate(self, text: str) -> None:
        """Start a delegated turn with this text, or steer the running turn."""
        ...

    def has_active_turn(self) -> bool: ...

    def prior_turns(self) -> list[tuple[str, str]]:
        """(user text, assistant text) of earlier turns, oldest first."""
        ...


@dataclass(frozen=True)
class StartRequest:
    """`thread/realtime/start` params, with the prompt's absent/null/string kept apart."""

    prompt: str | None
    prompt_present: bool
    session_id: str | None
    transport: str  # "websocket" | "webrtc"
    offer_sdp: str | None
    voice: str | None


class _StartFailure(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Link:
    """One started session: its bridge, socket, outbound queue and tasks."""

    def __init__(
        self,
        port: RealtimeThreadPort,
        settings: RealtimeSettings,
        request: StartRequest,
        bridge: RealtimeBridge,
    ) -> None:
        self.port = port
        self.settings = settings
        self.request = request
        self.bridge = bridge
        self.outbox: asyncio.Queue[SendFrame] = asyncio.Queue()
        self.queued_audio = 0
        self.dropped_audio = 0
        self.ws: ClientConnection | None = None
        self.task: asyncio.Task[None] | None = None
        self.writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None

    # -- carrying out bridge actions ---------------------------------------------------------

    def dispatch(self, actions: Iterable[Action]) -> None:
        """Carry out actions without waiting: frames are queued for the writer."""
        for action in actions:
            if isinstance(action, SendFrame):
                if action.audio:
                    if self.queued_audio >= MAX_QUEUED_AUDIO_FRAMES:
                        self._report_dropped_audio()
                        continue
                    self.queued_audio += 1
                self.outbox.put_nowait(action)
            elif isinstance(action, Notify):
                self.port.emit(action.method, redact_secret(action.params, self.settings.api_key))
            elif isinstance(action, Delegate):
                self._delegate(action.text)
            elif isinstance(action, CloseTransport):
                # From the reader itself the loop ends on its own (the bridge is closed);
                # from anywhere else, shut the link down in the background.
                if asyncio.current_task() is not self.task and self._closer is None:
                    self._closer = asyncio.get_running_loop().create_task(self.shutdown())

    def _report_dropped_audio(self) -> None:
        """Audio beyond the queue bound is dropped; the client is told once per burst."""
        self.dropped_audio += 1
        if self.dropped_audio == 1:
            logger.warning("dropping realtime input audio: the upstream connection is behind")
            self.port.emit(
                "thread/realtime/error",
                {
                    "threadId": self.port.thread_id,
                    "message": "input audio dropped: the realtime connection cannot keep up "
                    "(send audio no faster than real time)",
                },
            )

    def _delegate(self, text: str) -> None:
        try:
            self.port.delegate(text)
        except Exception:
            logger.exception("realtime handoff could not be delegated to the thread")

    async def deliver_now(self, actions: Iterable[Action]) -> None:
        """Carry out actions in order, writing frames directly (before the writer runs)."""
        for action in actions:
            if isinstance(action, SendFrame):
                assert self.ws is not None
                await self.ws.send(action.data, text=True)
            elif isinstance(action, CloseTransport):
                await self.shutdown()
            else:
                self.dispatch([action])

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, configure, announce, then read until the session ends."""
        try:
            try:
                spec, answer_sdp = await self._prepare_and_connect()
            except _StartFailure as failure:
                if self.bridge.state is SessionState.CONNECTING:
                    self.dispatch(self.bridge.fail(failure.message))
                return
            try:
                await self.deliver_now(self.bridge.established(spec, answer_sdp))
            except ConnectionClosed as exc:
                self._connection_ended(exc)
                return
            self.writer = asyncio.get_running_loop().create_task(self._write())
            await self._read()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("realtime session failed unexpectedly")
            if self.bridge.state is SessionState.CONNECTING:
                self.dispatch(self.bridge.fail("realtime conversation failed to start"))
            else:
                self.dispatch(self.bridge.transport_failed("realtime conversation failed"))
        finally:
            await self._close_socket()

    async def _prepare_and_connect(self) -> tuple[SessionSpec, str | None]:
        settings, request, codec = self.settings, self.request, self.bridge.codec
        try:
            voice = resolve_voice(codec.version, request.voice, settings.config_voice)
        except UnsupportedVoice as exc:
            raise _StartFailure(str(exc)) from None
        webrtc = request.transport == "webrtc"
        if not webrtc and not settings.api_key:
            raise _StartFailure(API_KEY_REQUIRED)
        base_url = settings.ws_base_url or settings.provider_base_url
        try:
            # Checked before any network use so a bad base URL never creates a call.
            realtime_ws_url(base_url, intent=codec.url_intent)
        except RealtimeUrlError as exc:
            raise _StartFailure(str(exc)) from None

        spec = await self._session_spec(codec, voice)
        headers = upstream_headers(settings.originator, settings.api_key, self.bridge.session_id)
        answer_sdp: str | None = None
        try:
            if webrtc:
                call = await create_call(
                    realtime_call_url(settings.provider_base_url),
                    offer_sdp=request.offer_sdp or "",
                    session_json=codec.call_session(spec),
                    headers=call_headers(
                        session_id=self.bridge.session_id,
                        api_key=settings.api_key,
                        user_agent=settings.user_agent,
                        originator=settings.originator,
                    ),
                    max_retries=settings.request_max_retries,
                )
                answer_sdp = call.sdp
                url = realtime_ws_url(base_url, intent=codec.url_intent, call_id=call.call_id)
            else:
                url = realtime_ws_url(base_url, intent=codec.url_intent, model=settings.model)
            self.ws = await connect_upstream(url, headers)
        except RealtimeConnectError as exc:
            raise _StartFailure(exc.message) from None
        return spec, answer_sdp

    async def _session_spec(self, codec: RealtimeCodec, voice: str) -> SessionSpec:
        settings, request = self.settings, self.request
        backend_prompt = resolve_backend_prompt(
            config_override=settings.backend_prompt_override,
            prompt=request.prompt,
            prompt_present=request.prompt_present,
            default=lambda: default_backend_prompt(local_user_first_name()),
        )
        startup_context = settings.startup_context_override
        if startup_context is None:
            prior_turns = self.port.prior_turns()
            try:
                startup_context = await asyncio.to_thread(
                    build_startup_context, self.port.cwd, prior_turns
                )
            except Exception:
                logger.exception("could not build the realtime startup context")
                startup_context = ""
        return SessionSpec(
            instructions=compose_instructions(backend_prompt, startup_context),
            voice=voice,
            model=settings.model or DEFAULT_REALTIME_MODEL,
            session_type=settings.session_type,
        )

    async def _read(self) -> None:
        ws, bridge = self.ws, self.bridge
        assert ws is not None
        while bridge.state is SessionState.RUNNING:
            try:
                message = await ws.recv()
            except ConnectionClosed as exc:
                self._connection_ended(exc)
                return
            if isinstance(message, str):
                self.dispatch(bridge.receive_text(message))
            else:
                self.dispatch(bridge.receive_binary())

    def _connection_ended(self, exc: ConnectionClosed) -> None:
        # A close frame from upstream is an orderly end; a connection that just drops is not.
        if exc.rcvd is not None:
            self.dispatch(self.bridge.transport_closed())
        else:
            self.dispatch(self.bridge.transport_failed(READ_RESET_MESSAGE))

    async def _write(self) -> None:
        ws = self.ws
        assert ws is not None
        while True:
            frame = await self.outbox.get()
            if frame.audio:
                self.queued_audio -= 1
                self.dropped_audio = 0
            try:
                await ws.send(frame.data, text=True)
            except ConnectionClosed:
                return  # the reader reports how the connection ended
            except Exception as exc:
                logger.warning("realtime frame could not be sent: %s", type(exc).__name__)
                self.dispatch(
                    self.bridge.transport_failed(
                        f"{STREAM_DISCONNECTED}failed to send websocket message"
                    )
                )
                return

    async def _close_socket(self) -> None:
        writer, self.writer = self.writer, None
        if writer is not None and writer is not asyncio.current_task():
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        ws, self.ws = self.ws, None
        if ws is not None:
            with contextlib.suppress(Exception):
                await ws.close()

    def abandon(self) -> None:
        """Stop without notifications and without waiting (a new session replaces this one)."""
        self.bridge.abandon()
        if self.task is not None:
            self.task.cancel()

    async def shutdown(self) -> None:
        """Stop reading and writing and close the socket; waits until that is done."""
        task = self.task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close_socket()


class RealtimeConversation:
    """A thread's realtime voice conversation: at most one live session at a time."""

    def __init__(self, port: RealtimeThreadPort, settings: RealtimeSettings) -> None:
        self._port = port
        self._settings = settings
        self._link: _Link | None = None

    @property
    def is_running(self) -> bool:
        """A session is connecting or established (input is accepted)."""
        return self._link is not None and self._link.bridge.is_live

    def start(self, request: StartRequest) -> None:
        """Replace any live session silently and connect a new one in the background."""
        previous, self._link = self._link, None
        if previous is not None:
            previous.abandon()
        port = self._port
        try:
            codec = codec_for(self._settings.version)
        except ValueError as exc:
            port.emit(*_as_pair(error_notification(port.thread_id, str(exc))))
            return
        bridge = RealtimeBridge(
            thread_id=port.thread_id,
            session_id=request.session_id or port.thread_id,
            codec=codec,
            turn_in_progress=port.has_active_turn(),
            is_turn_active=port.has_active_turn,
            truncates_playback=request.transport != "webrtc",
        )
        bridge.start()
        link = _Link(port, self._settings, request, bridge)
        link.task = asyncio.get_running_loop().create_task(link.run())
        self._link = link

    def append_audio(self, audio: dict[str, Any]) -> None:
        """Forward one client audio chunk; only `data` travels upstream."""
        link = self._link
        data = audio.get("data")
        if link is not None and isinstance(data, str):
            link.dispatch(link.bridge.append_audio(data))

    def append_text(self, text: str) -> None:
        link = self._link
        if link is not None:
            link.dispatch(link.bridge.append_text(text))

    def mirror_user_text(self, text: str) -> None:
        """Typed text accepted by `turn/start` or a steer while realtime runs."""
        link = self._link
        if link is not None:
            link.dispatch(link.bridge.mirror_user_text(text))

    def on_thread_event(self, method: str, params: dict[str, Any]) -> None:
        """Every notification the thread emits; turn and agent-message events drive output."""
        link = self._link
        if link is not None:
            link.dispatch(link.bridge.thread_event(method, params))

    def request_stop(self) -> Coroutine[Any, Any, None]:
        """Report `closed{reason:"requested"}` now (even if none was live) and return the
        teardown to run in the background, so a slow close handshake never delays the report
        or lets it arrive after a newer session's `started`."""
        link, self._link = self._link, None
        if link is not None and link.bridge.is_live:
            link.bridge.stop()  # the state change; its notification is sent just below
        notice = closed_notification(self._port.thread_id, "requested")
        self._port.emit(notice.method, notice.params)
        return self._teardown(link)

    async def stop(self) -> None:
        await self.request_stop()

    @staticmethod
    async def _teardown(link: _Link | None) -> None:
        if link is not None:
            await link.shutdown()

    async def close_silently(self) -> None:
        """Tear the session down without any notification (restart, client gone)."""
        link, self._link = self._link, None
        if link is not None:
            link.abandon()
            await link.shutdown()


def redact_secret(params: dict[str, Any], secret: str | None) -> dict[str, Any]:
    """Masks the API key wherever upstream text (error bodies, error events) quoted it."""
    if not secret or len(secret) < 4:
        return params
    return {
        key: value.replace(secret, "[REDACTED]") if isinstance(value, str) else value
        for key, value in params.items()
    }


def _as_pair(notice: Notify) -> tuple[str, dict[str, Any]]:
    return notice.method, notice.params
