"""The simulator's HTTP + WebSocket server: one aiohttp app on one local port.

Routes (each also without the `/v1` prefix):

* `GET  /v1/realtime?model=…[&intent=quicksilver]` — a Realtime WebSocket (v1 with
  `intent=quicksilver`, else v2), driven by `realtime_policy.VoiceModel` or by a queued
  `script.ScriptedRealtime`.
* `POST /v1/realtime/calls` — create a WebRTC call (multipart `sdp` + `session`, or a bare
  `application/sdp` body): 201, SDP answer, `Location: /v1/realtime/calls/<call_id>`. A real
  browser offer gets real media when aiortc is installed (`webrtc_media`): the microphone is
  heard from RTP and answers are spoken on an audio track rather than as sideband deltas.
* `GET  /v1/realtime?call_id=<id>` — the call's sideband socket; the call's session applies.
* `POST /v1/realtime/calls/<id>/hangup` — end a call (closes its sideband sockets).
* `POST /v1/responses` — the scripted agent (`responses_agent`), as SSE when `stream` is true.
* `GET  /v1/models`, `GET /healthz`.

This layer only moves frames: parsing, deciding and pacing decisions live in the sans-IO
modules. Any `Authorization` header is accepted (or none) and is never recorded or logged.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import math
import socket
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import orjson
from aiohttp import BodyPartReader, WSMsgType, web

from parley.simulator.calls import RealtimeCall, sdp_answer
from parley.simulator.realtime_policy import StreamStep, Version, VoiceModel, VoiceModelConfig
from parley.simulator.responses_agent import ResponsesAgent
from parley.simulator.script import Emitted
from parley.simulator.webrtc_media import CallMedia, available, is_real_offer

# The key Parley's simulator provider sends (the simulator takes any): configs pointing at the
# simulator give it this one, so a user's real key is never sent to it.
SIMULATOR_TOKEN: Final = "sk-parley-simulator"

log = logging.getLogger("parley.simulator")

DEFAULT_REALTIME_MODEL: Final = "gpt-realtime-1.5"
DEFAULT_AGENT_MODEL: Final = "sim-agent"
_PRIVATE_HEADERS: Final = frozenset(
    {"authorization", "cookie", "openai-api-key", "api-key", "sec-websocket-key"}
)
_MAX_FRAME: Final = 32 * 1024 * 1024
# On a call with real media these go to the audio track instead of the sideband.
_AUDIO_DELTAS: Final = frozenset({"response.output_audio.delta", "conversation.output_audio.delta"})
_AUDIO_STOPPED: Final = frozenset({"conversation.item.truncated", "output_audio_buffer.cleared"})


class RealtimeEndpoint(Protocol):
    """What drives one realtime connection (`VoiceModel` or `ScriptedRealtime`)."""

    def start(self) -> Sequence[Emitted]:
        """Events to send as the connection opens."""
        ...

    def receive(self, frame: str | bytes) -> Sequence[Emitted]:
        """Events answering one client frame."""
        ...

    @property
    def streaming(self) -> bool:
        """Whether `next_stream_step` has paced output."""
        ...

    def next_stream_step(self) -> StreamStep | None:
        """The next paced step, or None."""
        ...

    @property
    def should_close(self) -> bool:
        """Whether the server should close the connection now."""
        ...


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """How the simulator behaves."""

    speed: float = (
        1.0  # realtime audio is sent this many times faster than it plays (inf: no pacing)
    )
    voice: VoiceModelConfig = field(default_factory=VoiceModelConfig)
    responses_event_delay_s: float = 0.0  # pause between Responses SSE events
    record: bool = True  # keep every frame/request for tests (off for long-running use)


@dataclass
class RealtimeConnection:
    """What one realtime WebSocket connection did (for tests and logs)."""

    version: Version
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # without credentials
    had_authorization: bool
    call_id: str | None
    endpoint: RealtimeEndpoint
    received: list[Any] = field(default_factory=list)
    sent: list[Any] = field(default_factory=list)
    closed: bool = False


_CLOSE: Final = object()


class Simulator:
    """A running simulator; create it with `serve()` and stop it with `close()`."""

    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.host = "127.0.0.1"
        self.port = 0
        self.connections: list[RealtimeConnection] = []
        self.calls: dict[str, RealtimeCall] = {}
        self.responses_requests: list[dict[str, Any]] = []
        self.agent = ResponsesAgent()
        self._scripts: deque[RealtimeEndpoint] = deque()
        self._scripted_responses: deque[list[Emitted]] = deque()
        self._sockets: dict[web.WebSocketResponse, RealtimeConnection] = {}
        self._runner: web.AppRunner | None = None
        self._sessions = 0
        self._calls_made = 0
        self._changed = asyncio.Condition()

    # --- addresses ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """`http://HOST:PORT`."""
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def http_base_url(self) -> str:
        """The model provider `base_url` (Responses API, models, WebRTC calls)."""
        return f"{self.base_url}/v1"

    @property
    def realtime_ws_url(self) -> str:
        """The Realtime WebSocket endpoint (`experimental_realtime_ws_base_url`)."""
        return "ws" + self.base_url.removeprefix("http") + "/v1/realtime"

    def config_toml(self, *, model: str = DEFAULT_AGENT_MODEL, version: str = "v2") -> str:
        """A `config.toml` snippet pointing Parley at this simulator."""
        return (
            f'model = "{model}"\n'
            'model_provider = "parley_simulator"\n'
            f'experimental_realtime_ws_base_url = "{self.realtime_ws_url}"\n'
            "\n"
            "[model_providers.parley_simulator]\n"
            'name = "Parley simulator"\n'
            f'base_url = "{self.http_base_url}"\n'
            'wire_api = "responses"\n'
            f'experimental_bearer_token = "{SIMULATOR_TOKEN}"\n'
            "\n"
            "[realtime]\n"
            f'version = "{version}"\n'
            "\n"
            "[features]\n"
            "realtime_conversation = true\n"
        )

    # --- scripting ----------------------------------------------------------------------------

    def script_realtime(self, *endpoints: RealtimeEndpoint) -> None:
        """Drive the next realtime connections with these (e.g. `ScriptedRealtime`), in order."""
        self._scripts.extend(endpoints)

    def script_responses(self, *bodies: Sequence[Emitted]) -> None:
        """Answer the next `POST /responses` requests with these SSE events, in order."""
        self._scripted_responses.extend(list(body) for body in bodies)

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until `predicate` holds; it is rechecked whenever the simulator records
        something (a connection, a frame in or out, a call, a Responses request). Wrap it in
        `asyncio.timeout`."""
        async with self._changed:
            await self._changed.wait_for(predicate)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> None:
        """Bind and start serving."""
        app = web.Application(client_max_size=_MAX_FRAME)
        for prefix in ("/v1", ""):
            app.router.add_get(f"{prefix}/realtime", self._realtime)
            app.router.add_get(f"{prefix}/realtime/", self._realtime)
            app.router.add_post(f"{prefix}/realtime/calls", self._create_call)
            app.router.add_post(f"{prefix}/realtime/calls/{{call_id}}/hangup", self._hangup)
            app.router.add_post(f"{prefix}/responses", self._responses)
            app.router.add_get(f"{prefix}/models", self._models)
        app.router.add_get("/healthz", self._healthz)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.create_server((host, port), family=family)
        site = web.SockSite(runner, sock)
        await site.start()
        self._runner = runner
        self.host = host
        self.port = int(sock.getsockname()[1])

    async def close(self) -> None:
        """Close every open socket and stop serving."""
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"simulator shutting down")
        for call in self.calls.values():
            if call.media is not None:
                await call.media.close()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Simulator:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # --- realtime -----------------------------------------------------------------------------

    async def _realtime(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=_MAX_FRAME, autoping=True)
        if not ws.can_prepare(request).ok:
            return web.Response(status=426, text="expected a WebSocket upgrade\n")
        query = dict(request.query)
        call_id = query.get("call_id")
        call = self.calls.get(call_id) if call_id else None
        if call_id and (call is None or call.hung_up):
            return _error_response(404, f"Call '{call_id}' not found.", "call_not_found")
        version: Version = "v1" if query.get("intent") == "quicksilver" else "v2"
        if call is not None and call.version == "v1":
            version = "v1"
        endpoint = (
            self._scripts.popleft() if self._scripts else self._voice_model(version, query, call)
        )
        record = RealtimeConnection(
            version=version,
            path=request.path,
            query=query,
            headers={
                k.lower(): v
                for k, v in request.headers.items()
                if k.lower() not in _PRIVATE_HEADERS
            },
            had_authorization="Authorization" in request.headers,
            call_id=call_id,
            endpoint=endpoint,
        )
        self.connections.append(record)
        await self._notify()
        await ws.prepare(request)
        self._sockets[ws] = record
        log.info("realtime %s connection opened (call %s)", version, call_id or "-")
        try:
            await self._pump(ws, record)
        finally:
            record.closed = True
            self._sockets.pop(ws, None)
            await self._notify()
            log.info("realtime %s connection closed", version)
        return ws

    def _voice_model(
        self, version: Version, query: dict[str, str], call: RealtimeCall | None
    ) -> VoiceModel:
        self._sessions += 1
        model = query.get("model") or (
            str(call.session.get("model")) if call and call.session.get("model") else None
        )
        return VoiceModel(
            version,
            model=model or DEFAULT_REALTIME_MODEL,
            session=call.session if call is not None else None,
            config=self.config.voice,
            session_id=f"sess_sim{self._sessions}",
        )

    async def _pump(self, ws: web.WebSocketResponse, record: RealtimeConnection) -> None:
        endpoint = record.endpoint
        outgoing: asyncio.Queue[object] = asyncio.Queue()
        wake = asyncio.Event()
        call = self.calls.get(record.call_id) if record.call_id else None
        media: CallMedia | None = call.media if call is not None else None

        def post(events: Sequence[Emitted]) -> None:
            for event in events:
                outgoing.put_nowait(event)
            if endpoint.should_close:
                outgoing.put_nowait(_CLOSE)

        async def write() -> None:
            while (item := await outgoing.get()) is not _CLOSE:
                if self.config.record:
                    record.sent.append(item)
                if media is not None and isinstance(item, dict):
                    if item.get("type") in _AUDIO_DELTAS:
                        media.play(base64.b64decode(str(item.get("delta", ""))))
                        continue
                    if item.get("type") in _AUDIO_STOPPED:
                        media.clear()
                text = item if isinstance(item, str) else orjson.dumps(item).decode()
                await ws.send_str(text)
                await self._notify()
            await ws.close()

        async def pace() -> None:
            speed = self.config.speed
            while True:
                await wake.wait()
                wake.clear()
                clock = asyncio.get_running_loop().time
                deadline = clock()
                while (step := endpoint.next_stream_step()) is not None:
                    post(step.events)
                    if math.isfinite(speed) and speed > 0:
                        deadline += step.audio_ms / 1000 / speed
                        await asyncio.sleep(max(0.0, deadline - clock()))
                    else:
                        await asyncio.sleep(0)

        async def hear() -> None:
            """The call's microphone, from RTP, as if appended on this socket."""
            assert media is not None
            while True:
                pcm = await media.inbound.get()
                audio = base64.b64encode(pcm).decode()
                frame = {"type": "input_audio_buffer.append", "audio": audio}
                post(endpoint.receive(orjson.dumps(frame).decode()))
                if endpoint.streaming:
                    wake.set()

        writer = asyncio.create_task(write())
        pacer = asyncio.create_task(pace())
        tasks = [writer, pacer]
        if media is not None:
            tasks.append(asyncio.create_task(hear()))
        try:
            post(endpoint.start())
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    if self.config.record:
                        record.received.append(_parsed(message.data))
                    post(endpoint.receive(message.data))
                    await self._notify()
                elif message.type == WSMsgType.BINARY:
                    post([_binary_frame_error()])
                else:
                    break
                if endpoint.streaming:
                    wake.set()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    # --- WebRTC calls -------------------------------------------------------------------------

    async def _create_call(self, request: web.Request) -> web.Response:
        offer: str | None = None
        session: dict[str, Any] = {}
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "sdp":
                    offer = await part.text()
                elif part.name == "session":
                    try:
                        decoded = orjson.loads(await part.text())
                    except orjson.JSONDecodeError:
                        return _error_response(400, "'session' is not valid JSON.", "invalid_json")
                    if not isinstance(decoded, dict):
                        return _error_response(400, "'session' must be an object.", "invalid_type")
                    session = decoded
        else:
            offer = await request.text()
        if not offer:
            return _error_response(400, "Missing required parameter: 'sdp'.", "missing_required")
        self._calls_made += 1
        call_id = f"rtc_sim{self._calls_made}"
        media: CallMedia | None = None
        answer = sdp_answer(offer, self._calls_made)
        if is_real_offer(offer) and available():
            try:
                media, answer = await CallMedia.answer(offer)
            except Exception as exc:  # an offer aiortc cannot take: fall back to no media
                log.warning("cannot answer the call's media (%s); no audio will flow", exc)
        self.calls[call_id] = RealtimeCall(call_id, offer, answer, session, media=media)
        await self._notify()
        log.info("realtime call %s created", call_id)
        return web.Response(
            status=201,
            body=answer.encode(),
            headers={
                "Content-Type": "application/sdp",
                "Location": f"/v1/realtime/calls/{call_id}",
            },
        )

    async def _hangup(self, request: web.Request) -> web.Response:
        call = self.calls.get(request.match_info["call_id"])
        if call is None:
            return _error_response(404, "Call not found.", "call_not_found")
        call.hung_up = True
        if call.media is not None:
            await call.media.close()
        for ws, record in list(self._sockets.items()):
            if record.call_id == call.call_id:
                await ws.close()
        return web.json_response({})

    # --- Responses API ------------------------------------------------------------------------

    async def _responses(self, request: web.Request) -> web.StreamResponse:
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return _error_response(400, "The body is not valid JSON.", "invalid_json")
        if not isinstance(body, dict):
            return _error_response(400, "The body must be a JSON object.", "invalid_type")
        if self.config.record:
            self.responses_requests.append(body)
        await self._notify()
        created_at = int(time.time())
        scripted = self._scripted_responses.popleft() if self._scripted_responses else None
        if body.get("stream") is not True:
            if scripted is None:
                return web.json_response(
                    self.agent.complete(body, created_at=created_at), dumps=_dumps
                )
            last = next(
                (e for e in reversed(scripted) if isinstance(e, dict) and "response" in e), {}
            )
            return web.json_response(last.get("response", {}), dumps=_dumps)
        events: Sequence[Emitted] = (
            scripted if scripted is not None else self.agent.stream(body, created_at=created_at)
        )
        response = web.StreamResponse(
            status=200, headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        for event in events:
            if isinstance(event, str):
                chunk = event
            else:
                chunk = f"event: {event.get('type', 'message')}\ndata: {_dumps(event)}\n\n"
            await response.write(chunk.encode())
            if self.config.responses_event_delay_s > 0:
                await asyncio.sleep(self.config.responses_event_delay_s)
        await response.write_eof()
        return response

    async def _models(self, request: web.Request) -> web.Response:
        models = [DEFAULT_AGENT_MODEL, DEFAULT_REALTIME_MODEL]
        data = [
            {"id": m, "object": "model", "created": 0, "owned_by": "parley-simulator"}
            for m in models
        ]
        return web.json_response({"object": "list", "data": data})

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _parsed(frame: str) -> Any:
    try:
        return orjson.loads(frame)
    except orjson.JSONDecodeError:
        return frame


def _binary_frame_error() -> dict[str, Any]:
    return {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "code": "binary_frame",
            "message": "Binary frames are not supported; send JSON text frames.",
            "param": None,
            "event_id": None,
        },
    }


def _error_response(status: int, message: str, code: str) -> web.Response:
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    return web.json_response({"error": error}, status=status)


async def serve(host: str, port: int, *, config: SimulatorConfig | None = None) -> Simulator:
    """Start a simulator on `host:port` (0 picks a free port) and return it, running."""
    simulator = Simulator(config)
    await simulator.start(host, port)
    return simulator
