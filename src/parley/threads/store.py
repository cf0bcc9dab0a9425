"""Durable thread records: one append-only JSONL file per thread under `$CODEX_HOME/sessions`.

Each line is a record (`thread`, `turn_started`, `history_item`, `thread_item`,
`turn_completed`); replaying the file rebuilds the thread, so a thread can be resumed after a
restart, listed and read. Writes are appended and flushed line by line: a crash loses at most
the line being written, and a torn last line is skipped on load.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

log = logging.getLogger(__name__)


@dataclass
class StoredTurn:
    id: str
    status: str = "inProgress"
    error: Any = None
    started_at: int | None = None
    completed_at: int | None = None
    items: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class StoredThread:
    meta: dict[str, Any]
    path: Path
    history: list[dict[str, Any]] = field(default_factory=list)
    turns: list[StoredTurn] = field(default_factory=list)


class ThreadLog:
    """Appends records to one thread's file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Opened on the first write, so threads that are only read hold no file open.
        self._file: BinaryIO | None = None

    def append(self, record: dict[str, Any]) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = self.path.open("ab")
        self._file.write(orjson.dumps(record) + b"\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class ThreadStore:
    def __init__(self, codex_home: Path) -> None:
        self.root = codex_home / "sessions"

    def path_for(self, thread_id: str, created_at: int) -> Path:
        when = dt.datetime.fromtimestamp(created_at, tz=dt.UTC)
        stamp = when.strftime("%Y-%m-%dT%H-%M-%S")
        return self.root / when.strftime("%Y/%m/%d") / f"rollout-{stamp}-{thread_id}.jsonl"

    def create(self, meta: dict[str, Any]) -> ThreadLog:
        path = self.path_for(meta["id"], meta["createdAt"])
        log_ = ThreadLog(path)
        log_.append({"type": "thread", "thread": meta})
        return log_

    def find(self, thread_id: str) -> Path | None:
        if not self.root.exists():
            return None
        for path in self.root.glob(f"*/*/*/rollout-*-{thread_id}.jsonl"):
            return path
        return None

    def all_paths(self) -> list[Path]:
        if not self.root.exists():
            return []
        return sorted(self.root.glob("*/*/*/rollout-*.jsonl"), reverse=True)

    def load(self, path: Path) -> StoredThread | None:
        meta: dict[str, Any] | None = None
        thread: StoredThread | None = None
        turns: dict[str, StoredTurn] = {}
        try:
            lines = path.read_bytes().splitlines()
        except OSError as exc:
            log.warning("cannot read thread file %s: %s", path, exc)
            return None
        for number, line in enumerate(lines, 1):
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                log.warning("%s:%d: skipping unreadable record", path, number)
                continue
            kind = record.get("type")
            if kind == "thread":
                meta = record["thread"]
                thread = StoredThread(meta=meta, path=path)
                continue
            if thread is None:
                continue
            if kind == "history_item":
                thread.history.append(record["item"])
            elif kind == "turn_started":
                turn = StoredTurn(id=record["turnId"], started_at=record.get("startedAt"))
                turns[turn.id] = turn
                thread.turns.append(turn)
            elif kind == "thread_item":
                stored = turns.get(record.get("turnId", ""))
                if stored is not None:
                    stored.items.append(record["item"])
            elif kind == "turn_completed":
                stored = turns.get(record.get("turnId", ""))
                if stored is not None:
                    stored.status = record.get("status", "completed")
                    stored.error = record.get("error")
                    stored.completed_at = record.get("completedAt")
            elif kind == "meta_update" and meta is not None:
                meta.update(record.get("fields", {}))
        for turn in thread.turns if thread else []:
            if turn.status == "inProgress":
                # The process ended while the turn ran: report it as interrupted, not running.
                turn.status = "interrupted"
        return thread
