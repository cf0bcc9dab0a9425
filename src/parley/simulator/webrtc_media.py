"""Real WebRTC media for simulated calls, so a browser's call works end to end offline.

Optional: it needs aiortc (`pip install 'parley[web-rtc]'`). When it is installed and a call is
created with a real browser offer (ICE credentials and a DTLS fingerprint), the simulator answers
with a real peer connection instead of an all-inactive SDP. The caller's microphone then arrives
as RTP audio, which `CallMedia` decodes to 24 kHz mono PCM16 for the call's voice model (as if
it had been appended on the sideband), and the model's spoken answers go back as an audio track
paced in real time instead of as `output_audio.delta` events. Everything else about the call
(events, transcripts, handoffs) stays on the sideband WebSocket, as with the real API.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import time
from typing import TYPE_CHECKING, Any, Final

from parley.simulator.audio import SAMPLE_RATE

if TYPE_CHECKING:
    from aiortc import RTCPeerConnection

log = logging.getLogger("parley.simulator")

FRAME_SAMPLES: Final = SAMPLE_RATE // 50  # 20 ms
FRAME_BYTES: Final = 2 * FRAME_SAMPLES
_MAX_INBOUND_FRAMES: Final = 50 * 30  # 30 s of microphone waiting for the sideband to attach


def available() -> bool:
    """Whether aiortc (and PyAV) can be imported."""
    try:
        import aiortc  # noqa: F401
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def is_real_offer(sdp: str) -> bool:
    """A browser's offer carries ICE credentials and a DTLS fingerprint; test stand-ins do not."""
    return "a=ice-ufrag:" in sdp and "a=fingerprint:" in sdp and "m=audio" in sdp


class CallMedia:
    """One call's peer connection: microphone PCM in (`inbound`), answer PCM out (`play`)."""

    def __init__(self, pc: RTCPeerConnection, outbound: Any) -> None:
        self.pc = pc
        self.inbound: asyncio.Queue[bytes] = asyncio.Queue(maxsize=_MAX_INBOUND_FRAMES)
        self._outbound = outbound
        self._readers: set[asyncio.Task[None]] = set()

    @classmethod
    async def answer(cls, offer_sdp: str) -> tuple[CallMedia, str]:
        """Accept `offer_sdp`; return the media and the answer SDP (candidates included)."""
        from aiortc import RTCPeerConnection, RTCSessionDescription

        pc = RTCPeerConnection()
        media = cls(pc, _outbound_track())

        @pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "audio":
                task = asyncio.create_task(media._read(track))
                media._readers.add(task)
                task.add_done_callback(media._readers.discard)

        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
        for transceiver in pc.getTransceivers():
            if transceiver.kind == "audio":
                transceiver.sender.replaceTrack(media._outbound)
                transceiver.direction = "sendrecv"
        if not any(t.kind == "audio" for t in pc.getTransceivers()):
            pc.addTrack(media._outbound)
        await pc.setLocalDescription(await pc.createAnswer())
        return media, pc.localDescription.sdp

    async def _read(self, track: Any) -> None:
        import av
        from aiortc.mediastreams import MediaStreamError

        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            for out in resampler.resample(frame):
                pcm = bytes(out.planes[0])[: 2 * out.samples]
                if self.inbound.full():
                    self.inbound.get_nowait()  # keep the newest audio, as a live stream would
                self.inbound.put_nowait(pcm)

    def play(self, pcm16: bytes) -> None:
        """Queue model speech (24 kHz mono PCM16) on the outgoing track."""
        self._outbound.buffer.extend(pcm16)

    def clear(self) -> None:
        """Drop speech not yet sent (the model was interrupted)."""
        self._outbound.buffer.clear()

    async def close(self) -> None:
        for task in list(self._readers):
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.pc.close(), 3)


def _outbound_track() -> Any:
    """An audio track that plays queued PCM in real time, and silence when there is none."""
    import av
    from aiortc import MediaStreamTrack

    class OutboundAudio(MediaStreamTrack):  # type: ignore[misc,unused-ignore]
        kind = "audio"

        def __init__(self) -> None:
            super().__init__()
            self.buffer = bytearray()
            self._start: float | None = None
            self._pts = 0

        async def recv(self) -> Any:
            if self._start is None:
                self._start = time.monotonic()
            else:
                self._pts += FRAME_SAMPLES
            delay = self._start + self._pts / SAMPLE_RATE - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            chunk = bytes(self.buffer[:FRAME_BYTES])
            del self.buffer[:FRAME_BYTES]
            frame = av.AudioFrame(format="s16", layout="mono", samples=FRAME_SAMPLES)
            frame.planes[0].update(chunk.ljust(FRAME_BYTES, b"\0"))
            frame.sample_rate = SAMPLE_RATE
            frame.pts = self._pts
            frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
            return frame

    return OutboundAudio()
