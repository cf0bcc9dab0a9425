"""thread/realtime/*: voice conversations on a thread."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parley.protocol import models as m
from parley.protocol.params import check_base64, parse_params
from parley.realtime.session import RealtimeConversation, RealtimeSettings, StartRequest
from parley.realtime.voices import list_voices_result
from parley.rpc.errors import ClientError
from parley.server.handlers.wire import dump, enum_value
from parley.server.tasks import spawn
from parley.threads.ids import uuid7
from parley.threads.runtime import ThreadRuntime

REALTIME_FEATURE = "realtime_conversation"

if TYPE_CHECKING:
    from parley.server.session import ClientSession


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
        return self._thread.is_running

    def prior_turns(self) -> list[tuple[str, str]]:
        return self._thread.prior_turns()


async def realtime_start(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadRealtimeStartParams, raw)
    thread = _realtime_thread(session, params.thread_id)
    thread.subscribe(session)
    server = session.server
    # The thread's own configuration: the provider it talks to and that provider's credential
    # (each provider gets only its own, as for the thread's turns).
    config = thread.settings.config or server.config
    transport = getattr(params, "transport", None)
    transport_dict = dump(transport) if transport is not None else {}
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
        api_key=server.credential(config.provider),
        originator=session.client_name,
        user_agent=session.user_agent,
        request_max_retries=config.provider.request_max_retries,
    )
    voice = enum_value(getattr(params, "voice", None))
    prompt_present = "prompt" in (raw if isinstance(raw, dict) else {})
    start = StartRequest(
        prompt=getattr(params, "prompt", None),
        prompt_present=prompt_present,
        session_id=getattr(params, "session_id", None),
        transport=kind,
        offer_sdp=transport_dict.get("sdp"),
        voice=voice,
    )
    conversation = RealtimeConversation(_RealtimePort(thread), settings)
    previous = thread.attach_realtime(conversation)
    if previous is not None:
        # Replaced silently, as the reference does; its socket closes in the background so
        # this request is answered at once.
        spawn(previous.close_silently())
    session.after_response(lambda: conversation.start(start))
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
    check_base64(audio["data"], "audio.data")
    for key in ("sampleRate", "numChannels"):
        value = audio.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ClientError(f"Invalid request: `audio.{key}` must be a non-negative integer")
    thread = _realtime_thread(session, thread_id)
    conversation = _running_conversation(thread)
    if conversation is None:
        session.after_response(lambda: _not_running(thread))
        return {}
    # Never waits: one congested conversation must not hold up requests for other threads on
    # this connection. Audio beyond the session's queue bound is dropped and reported.
    conversation.append_audio(audio)
    return {}


async def realtime_append_text(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadRealtimeAppendTextParams, raw)
    thread = _realtime_thread(session, params.thread_id)
    conversation = _running_conversation(thread)
    if conversation is None:
        session.after_response(lambda: _not_running(thread))
        return {}
    conversation.append_text(params.text)
    return {}


async def realtime_stop(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.ThreadRealtimeStopParams, raw)
    thread = _realtime_thread(session, params.thread_id)
    conversation = thread.realtime
    if conversation is None:
        session.after_response(
            lambda: thread.emit_to_clients(
                "thread/realtime/closed", {"threadId": thread.id, "reason": "requested"}
            ),
        )
        return {}
    session.after_response(lambda: spawn(conversation.request_stop()))
    return {}


async def realtime_list_voices(session: ClientSession, raw: Any) -> Any:
    return list_voices_result()
