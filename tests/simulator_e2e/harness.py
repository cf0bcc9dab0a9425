"""A voice client for end-to-end tests: the simulator in the test's loop, Parley as a subprocess.

`VoiceClient` is the real `parley app-server` (via `support.app_server.AppServerProcess`) with a
few client-side conveniences: speaking synthesised audio in 100 ms `appendAudio` chunks, reading
the next notification that satisfies a predicate, and collecting a spoken answer. The helpers at
the bottom read what the simulator recorded on its realtime connections.
"""

# Reads take their own deadline so a timeout can report what was received instead.
# ruff: noqa: ASYNC109

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.app_server import AppServerProcess

from parley.simulator import SAMPLE_RATE, RealtimeConnection, Simulator, synthesize_speech

CHUNK_MS = 100
CHUNK_BYTES = 2 * SAMPLE_RATE * CHUNK_MS // 1000
API_KEY = "sk-simulator-e2e"

# Event names per realtime protocol version (what the simulator sends for a spoken answer).
AUDIO_DELTA = {"v1": "conversation.output_audio.delta", "v2": "response.output_audio.delta"}
TRANSCRIPT_DELTA = {
    "v1": "conversation.output_transcript.delta",
    "v2": "response.output_audio_transcript.delta",
}

Json = Any


def codex_config(
    sim: Simulator, *, version: str = "v2", sandbox: str = "danger-full-access"
) -> str:
    """`config.toml` text: the simulator's own snippet, plus a policy that never asks."""
    policy = f'approval_policy = "never"\nsandbox_mode = "{sandbox}"\n'
    return policy + sim.config_toml(version=version)


# --- notification predicates ------------------------------------------------------------------


def item_type(kind: str) -> Callable[[Json], bool]:
    """Params whose `item.type` is `kind` (itemAdded, item/started, item/completed)."""

    def check(params: Json) -> bool:
        return bool(params["item"].get("type") == kind)

    check.__name__ = f"item type {kind!r}"
    return check


def role(name: str) -> Callable[[Json], bool]:
    """`transcriptUpdated` params of this role."""

    def check(params: Json) -> bool:
        return bool(params["role"] == name)

    check.__name__ = f"role {name!r}"
    return check


class VoiceClient(AppServerProcess):
    """A `parley app-server` subprocess, driven the way a voice client drives it."""

    thread_id: str = ""

    async def open_thread(self, workspace: Path) -> str:
        """initialize, log in with an API key and start a thread in `workspace`."""
        await self.initialize()
        await self.login_with_api_key(API_KEY)
        thread = await self.start_thread({"cwd": str(workspace)})
        self.thread_id = thread["id"]
        return self.thread_id

    async def start_realtime(self, transport: Json = None) -> Json:
        """`thread/realtime/start`; returns the `thread/realtime/started` params."""
        params: dict[str, Json] = {"threadId": self.thread_id}
        if transport is not None:
            params["transport"] = transport
        await self.request("thread/realtime/start", params)
        return await self.read_notification("thread/realtime/started")

    async def stop_realtime(self) -> Json:
        """`thread/realtime/stop`; returns the `thread/realtime/closed` params."""
        await self.request("thread/realtime/stop", {"threadId": self.thread_id})
        return await self.read_notification("thread/realtime/closed")

    async def say(self, text: str) -> None:
        """Speak `text` (decodable synthetic speech) as 100 ms `appendAudio` chunks."""
        pcm = synthesize_speech(text)
        for offset in range(0, len(pcm), CHUNK_BYTES):
            chunk = pcm[offset : offset + CHUNK_BYTES]
            audio = {
                "data": base64.b64encode(chunk).decode(),
                "sampleRate": SAMPLE_RATE,
                "numChannels": 1,
                "samplesPerChannel": len(chunk) // 2,
                "itemId": None,
            }
            await self.request(
                "thread/realtime/appendAudio", {"threadId": self.thread_id, "audio": audio}
            )

    async def type_text(self, text: str) -> None:
        """`thread/realtime/appendText`."""
        await self.request("thread/realtime/appendText", {"threadId": self.thread_id, "text": text})

    async def next_where(
        self,
        method: str,
        predicate: Callable[[Json], bool] = lambda _params: True,
        timeout: float | None = None,
    ) -> Json:
        """The params of the oldest unread `method` notification whose params satisfy
        `predicate`; non-matching ones stay unread."""
        message = await self._read_until(
            lambda m: "id" not in m and m.get("method") == method and predicate(m.get("params")),
            f"notification {method!r} matching {getattr(predicate, '__name__', predicate)}",
            timeout,
        )
        return message["params"]

    async def hear(self, expected_pcm: bytes, item_id: str | None = None) -> bytes:
        """Read `outputAudio/delta` notifications (of `item_id`, if given) until
        `len(expected_pcm)` bytes have arrived; returns the PCM received."""
        received = bytearray()
        while len(received) < len(expected_pcm):
            params = await self.next_where(
                "thread/realtime/outputAudio/delta",
                lambda p: item_id is None or p["audio"].get("itemId") == item_id,
            )
            received += base64.b64decode(params["audio"]["data"])
        return bytes(received)

    async def read_transcript(self, role: str, expected: str) -> str:
        """Read `transcriptUpdated` notifications of `role` until their text adds up to
        `expected` (or is longer); returns the text received."""
        text = ""
        while len(text) < len(expected):
            params = await self.next_where(
                "thread/realtime/transcriptUpdated", lambda p: p["role"] == role
            )
            text += params["text"]
        return text

    def index_of(self, method: str, predicate: Callable[[Json], bool] = lambda _p: True) -> int:
        """Position of the first matching notification among everything received (-1: none)."""
        for index, message in enumerate(self.received_messages()):
            if (
                "id" not in message
                and message.get("method") == method
                and predicate(message.get("params"))
            ):
                return index
        return -1


@dataclass
class Voice:
    """One test's simulator, app-server client (with a thread open) and workspace."""

    sim: Simulator
    client: VoiceClient
    workspace: Path


# The `launch` fixture: `await launch(speed=…, version=…, sandbox=…)`.
Launch = Callable[..., Awaitable[Voice]]


# --- what the simulator recorded --------------------------------------------------------------


def events(frames: list[Json], kind: str) -> list[dict[str, Any]]:
    """The JSON events of type `kind` among recorded frames."""
    return [f for f in frames if isinstance(f, dict) and f.get("type") == kind]


def answer_finished(conn: RealtimeConnection, item_id: str | None = None) -> bool:
    """Whether the simulator finished speaking an answer (of `item_id`, if given) on `conn`:
    some audio went out, then a `response.done`, and nothing more is being streamed."""
    kinds = [f.get("type") if isinstance(f, dict) else None for f in conn.sent]
    audio = AUDIO_DELTA[conn.version]
    last_audio = max(
        (
            i
            for i, f in enumerate(conn.sent)
            if kinds[i] == audio and (item_id is None or f.get("item_id") == item_id)
        ),
        default=-1,
    )
    return last_audio >= 0 and "response.done" in kinds[last_audio:] and not conn.endpoint.streaming


def spoken_audio(conn: RealtimeConnection, item_id: str | None = None) -> bytes:
    """All assistant PCM the simulator sent on `conn` (for `item_id`, if given)."""
    return b"".join(
        base64.b64decode(e["delta"])
        for e in events(conn.sent, AUDIO_DELTA[conn.version])
        if item_id is None or e.get("item_id") == item_id
    )


def spoken_text(conn: RealtimeConnection, item_id: str | None = None) -> str:
    """The assistant transcript the simulator sent on `conn` (for `item_id`, if given)."""
    return "".join(
        e["delta"]
        for e in events(conn.sent, TRANSCRIPT_DELTA[conn.version])
        if item_id is None or e.get("item_id") == item_id
    )
