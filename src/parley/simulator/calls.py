"""Simulated WebRTC calls: what a `POST /v1/realtime/calls` created, and its SDP answer.

By default no media flows: the answer marks every offered media section inactive, and the
call's conversation happens on its sideband WebSocket (`/v1/realtime?call_id=…`), where audio is
appended as `input_audio_buffer.append` frames exactly as on a plain WebSocket session. A real
browser offer, when aiortc is installed, gets a real answer instead (`webrtc_media.CallMedia`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RealtimeCall:
    """One created call: the offer and session it was created with, and the answer given."""

    call_id: str
    offer_sdp: str
    answer_sdp: str
    session: dict[str, Any] = field(default_factory=dict)
    hung_up: bool = False
    media: Any = None  # a webrtc_media.CallMedia when the call carries real media

    @property
    def version(self) -> str:
        """v1 when the call's session is a quicksilver session, else v2."""
        return "v1" if self.session.get("type") == "quicksilver" else "v2"


def sdp_answer(offer: str, serial: int) -> str:
    """A syntactically valid answer that accepts each offered media section as inactive."""
    lines = [
        "v=0",
        f"o=- {1_000_000 + serial} 1 IN IP4 127.0.0.1",
        "s=parley-simulator",
        "t=0 0",
    ]
    for raw in offer.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            kind, _, rest = line[2:].partition(" ")
            _port, _, formats = rest.partition(" ")
            lines += [f"m={kind} 9 {formats}", "c=IN IP4 127.0.0.1", "a=inactive"]
        elif line.startswith("a=mid:"):
            lines.append(line)
    return "\r\n".join(lines) + "\r\n"
