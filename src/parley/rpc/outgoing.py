"""A connection's outgoing lines while the client is slow to read: bounded, never unbounded.

Both transports put every line here and one writer task takes them out as fast as the client
reads. Two limits, counted in queued bytes:

* `AUDIO_DROP_BYTES`: above it, lines marked droppable (realtime output audio deltas, see
  `DroppableLine`) are dropped instead of queued. The client is told once per burst and thread
  with a `thread/realtime/error` notification; audio flows again as soon as the backlog drains.
* `MAX_QUEUED_BYTES`: a client that lets more than this pile up (replies and notifications
  that cannot be dropped) is disconnected: `push` answers False and the transport closes.
  A single line larger than the limit is still accepted when nothing else is waiting.

Sans-IO: lines in, lines out, no waiting.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from parley.rpc.connection import DroppableLine, encode

AUDIO_DROP_BYTES: Final = 1024 * 1024
MAX_QUEUED_BYTES: Final = 64 * 1024 * 1024
AUDIO_DROPPED_MESSAGE: Final = (
    "output audio dropped: the client is not reading fast enough "
    "(realtime audio is not queued beyond 1 MiB per connection)"
)


class OutgoingQueue:
    def __init__(
        self, *, audio_drop_bytes: int = AUDIO_DROP_BYTES, max_bytes: int = MAX_QUEUED_BYTES
    ) -> None:
        self._lines: deque[bytes] = deque()
        self.queued_bytes = 0
        self.dropped = 0
        self._audio_drop_bytes = audio_drop_bytes
        self.max_bytes = max_bytes
        self._told: set[str | None] = set()

    def __len__(self) -> int:
        return len(self._lines)

    def push(self, line: bytes) -> bool:
        """Queue `line` (or drop it when it may be dropped); False: the client must go."""
        if isinstance(line, DroppableLine):
            if self.queued_bytes + len(line) > self._audio_drop_bytes:
                self.dropped += 1
                if line.thread_id not in self._told:
                    self._told.add(line.thread_id)
                    self._append(_dropped_notice(line.thread_id))
                return True
            self._told.discard(line.thread_id)
        if self._lines and self.queued_bytes + len(line) > self.max_bytes:
            return False
        self._append(line)
        return True

    def pop(self) -> bytes | None:
        if not self._lines:
            return None
        line = self._lines.popleft()
        self.queued_bytes -= len(line)
        return line

    def _append(self, line: bytes) -> None:
        self._lines.append(line)
        self.queued_bytes += len(line)


def _dropped_notice(thread_id: str | None) -> bytes:
    return encode(
        {
            "method": "thread/realtime/error",
            "params": {"threadId": thread_id, "message": AUDIO_DROPPED_MESSAGE},
        }
    )
