"""Unit tests of the bounded outgoing queue and the stdio framing limit's answer."""

from __future__ import annotations

import orjson

from parley.rpc.connection import DroppableLine, RpcConnection
from parley.rpc.outgoing import AUDIO_DROPPED_MESSAGE, OutgoingQueue


def _audio(conn: RpcConnection, thread_id: str, size: int = 1000) -> bytes:
    line = conn.notification(
        "thread/realtime/outputAudio/delta", {"threadId": thread_id, "audio": {"data": "A" * size}}
    )
    assert line is not None
    return line


def _drain(queue: OutgoingQueue) -> list[dict[str, object]]:
    out = []
    while (line := queue.pop()) is not None:
        out.append(orjson.loads(bytes(line)))
    return out


def test_only_realtime_output_audio_is_marked_droppable() -> None:
    conn = RpcConnection()
    audio = _audio(conn, "t1")
    assert isinstance(audio, DroppableLine) and audio.thread_id == "t1"
    other = conn.notification("thread/realtime/transcriptUpdated", {"threadId": "t1"})
    assert other is not None and not isinstance(other, DroppableLine)


def test_audio_beyond_the_backlog_limit_is_dropped_with_one_notice_per_burst() -> None:
    """A client that stops reading loses late audio, is told once, and hears new audio later."""
    conn = RpcConnection()
    queue = OutgoingQueue(audio_drop_bytes=5_000, max_bytes=1_000_000)
    for _ in range(20):
        assert queue.push(_audio(conn, "t1"))
    assert queue.queued_bytes < 5_000 + 500
    assert queue.dropped > 10
    delivered = _drain(queue)
    notices = [m for m in delivered if m.get("method") == "thread/realtime/error"]
    assert notices == [
        {
            "method": "thread/realtime/error",
            "params": {"threadId": "t1", "message": AUDIO_DROPPED_MESSAGE},
        }
    ]
    # Drained: audio flows again, and a later burst is reported again.
    for _ in range(20):
        queue.push(_audio(conn, "t1"))
    again = _drain(queue)
    assert again[0]["method"] == "thread/realtime/outputAudio/delta"
    assert sum(1 for m in again if m.get("method") == "thread/realtime/error") == 1


def test_a_backlog_of_undroppable_lines_beyond_the_limit_asks_for_a_disconnect() -> None:
    queue = OutgoingQueue(audio_drop_bytes=100, max_bytes=10_000)
    line = b"x" * 999 + b"\n"
    accepted = 0
    while queue.push(line):
        accepted += 1
    assert accepted == 10
    assert queue.queued_bytes <= 10_000


def test_one_line_larger_than_the_limit_is_accepted_when_nothing_waits() -> None:
    queue = OutgoingQueue(audio_drop_bytes=10, max_bytes=100)
    assert queue.push(b"y" * 1000)
    assert queue.pop() == b"y" * 1000


def test_an_oversized_line_is_answered_with_its_id_when_it_can_be_read() -> None:
    """The -32600 answer carries the request id found at the start of the line, else null."""
    conn = RpcConnection()
    limit = 64 * 1024 * 1024
    cases = {
        b'{"id":7,"method":"thread/realtime/appendText","params":{"text":"': 7,
        b'{"jsonrpc":"2.0","method":"turn/start","id":"abc","params":': "abc",
        b'{"method":"x","params":{"id":3,"text":"': None,
        b" " * 4096: None,
        b'{"id":true,': None,
    }
    for prefix, expected in cases.items():
        answer = orjson.loads(conn.oversized_line(prefix, limit))
        assert answer["id"] == expected, prefix[:40]
        assert answer["error"]["code"] == -32600
        assert "64 MiB line limit" in answer["error"]["message"]
