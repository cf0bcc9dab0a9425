"""Realtime voice conversations (`thread/realtime/*`): a bridge between a thread and the
upstream Realtime API.

`session.RealtimeConversation` is what the thread layer uses; `bridge.RealtimeBridge` is the
sans-IO core it drives; `codec_v1`/`codec_v2` hold the wire formats. This package does not
parse JSON-RPC requests or run turns; the thread layer does both and talks to it through
`RealtimeThreadPort`.
"""

from parley.realtime.session import (
    RealtimeConversation,
    RealtimeSettings,
    RealtimeThreadPort,
    StartRequest,
)
from parley.realtime.voices import list_voices_result

__all__ = [
    "RealtimeConversation",
    "RealtimeSettings",
    "RealtimeThreadPort",
    "StartRequest",
    "list_voices_result",
]
