"""A SQLite index of rollout summaries, so `thread/list` does not re-read every rollout.

The index is a cache, never the only copy of anything: each row is a rollout's summary keyed by
its path, together with the file's size, modification time and inode (a rewrite replaces
the file, so a same-size edit that keeps the time is still seen). Before answering, `refresh`
walks the session folders (directory entries and `stat` only) and re-reads just the files that
are new or changed since they were indexed, dropping rows of files that are gone. A missing or
unreadable database file is rebuilt from the rollouts; deleting it is always safe.

Ordering and cursors follow the reference: newest first by the file name's timestamp
(`created_at`) or the modification time (`updated_at`), ties broken by thread id, descending;
a cursor is `<RFC 3339 timestamp>|<thread id>` of the last thread of the previous page.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from parley.threads.rollout import SessionMeta, session_meta_from
from parley.threads.store import ThreadStore, ThreadSummary, summarize

log = logging.getLogger(__name__)

INDEX_FILE = "parley_thread_index.sqlite"
SCHEMA_VERSION = 2
# How long to wait for another Parley process that is updating the same index.
LOCK_TIMEOUT_S = 2.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS threads (
    path TEXT PRIMARY KEY,
    archived INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    listable INTEGER NOT NULL,
    id TEXT,
    created_ts INTEGER,
    updated_ts INTEGER,
    summary BLOB
);
CREATE INDEX IF NOT EXISTS by_created ON threads (archived, listable, created_ts DESC, id DESC);
CREATE INDEX IF NOT EXISTS by_updated ON threads (archived, listable, updated_ts DESC, id DESC);
"""


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    ts: int
    id: str

    def encode(self) -> str:
        when = dt.datetime.fromtimestamp(self.ts, tz=dt.UTC)
        return f"{when.strftime('%Y-%m-%dT%H:%M:%SZ')}|{self.id}"

    @classmethod
    def parse(cls, token: str) -> Cursor:
        stamp, sep, thread_id = token.partition("|")
        if not sep:
            raise InvalidCursor(token)
        from parley.threads.rollout import is_uuid, parse_timestamp

        if not is_uuid(thread_id):
            raise InvalidCursor(token)
        when = parse_timestamp(stamp)
        if when is None:
            try:
                when = dt.datetime.strptime(stamp, "%Y-%m-%dT%H-%M-%S").replace(tzinfo=dt.UTC)
            except ValueError:
                raise InvalidCursor(token) from None
        return cls(int(when.timestamp()), thread_id.lower())


def _encode_summary(summary: ThreadSummary) -> bytes:
    meta = summary.meta
    return orjson.dumps(
        {
            "meta": {
                "id": meta.id,
                "timestamp": meta.timestamp,
                "cwd": meta.cwd,
                "originator": meta.originator,
                "cli_version": meta.cli_version,
                "source": meta.source,
                "model_provider": meta.model_provider,
                "forked_from_id": meta.forked_from_id,
                "agent_nickname": meta.agent_nickname,
                "agent_role": meta.agent_role,
                "git": meta.git,
            },
            "preview": summary.preview,
        }
    )


def _decode_summary(row: sqlite3.Row) -> ThreadSummary:
    data = orjson.loads(row["summary"])
    meta: SessionMeta = session_meta_from(data["meta"])
    return ThreadSummary(
        id=row["id"],
        path=Path(row["path"]),
        created_at=dt.datetime.fromtimestamp(row["created_ts"], tz=dt.UTC),
        updated_at=dt.datetime.fromtimestamp(row["updated_ts"], tz=dt.UTC),
        meta=meta,
        preview=data["preview"],
        archived=bool(row["archived"]),
    )


class ThreadIndex:
    """The listing cache of one `CODEX_HOME` (see the module docstring)."""

    def __init__(self, store: ThreadStore, path: Path | None = None) -> None:
        self.store = store
        self.path = path or store.home / INDEX_FILE
        # What the index holds for each path (size, mtime, inode), kept in memory between calls
        # so a refresh is one directory walk; reloaded when the database is (re)opened empty.
        self._known: dict[str, tuple[int, int, int]] | None = None

    @contextlib.contextmanager
    def _db(self, *, in_memory: bool = False) -> Iterator[sqlite3.Connection]:
        # A connection per use: nothing is held open while the server is idle.
        if in_memory:
            self._known = None
            db, version, kept = sqlite3.connect(":memory:"), 0, False
        else:
            db, version, kept = self._open()
        try:
            if version != SCHEMA_VERSION:
                self._known = None
                db.executescript("DROP TABLE IF EXISTS threads;")
                db.executescript(_SCHEMA)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            db.row_factory = sqlite3.Row
            with db:
                yield db
        except BaseException:
            self._known = None  # the transaction was rolled back: trust the database again
            raise
        finally:
            db.close()
            if not kept:
                self._known = None  # what was learnt went into a throwaway database

    def _open(self) -> tuple[sqlite3.Connection, int, bool]:
        """The index database and its schema version. A file that is not a database is
        rebuilt; one another process holds locked too long is worked around with a throwaway
        in-memory index (built from the files, so the answer is the same, only slower)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_S)
            return db, int(db.execute("PRAGMA user_version").fetchone()[0]), True
        except sqlite3.OperationalError as exc:
            log.warning("thread index %s is unavailable (%s); listing without it", self.path, exc)
        except sqlite3.DatabaseError:
            log.warning("thread index %s is unreadable; rebuilding it", self.path)
            with contextlib.suppress(OSError):
                self.path.unlink()
            with contextlib.suppress(sqlite3.Error):
                return sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_S), 0, True
        except OSError as exc:
            log.warning(
                "thread index %s cannot be created (%s); listing without it", self.path, exc
            )
        self._known = None
        return sqlite3.connect(":memory:"), 0, False

    def _select(
        self,
        query: str,
        args: list[object],
        limit: int,
        accept: Callable[[ThreadSummary], bool],
        *,
        in_memory: bool,
    ) -> tuple[list[ThreadSummary], bool]:
        out: list[ThreadSummary] = []
        with self._db(in_memory=in_memory) as db:
            self._refresh(db)
            for row in db.execute(query, args):
                summary = _decode_summary(row)
                if not accept(summary):
                    continue
                if len(out) == limit:
                    return out, True
                out.append(summary)
        return out, False

    def refresh(self) -> None:
        """Bring the index up to date with the files (re-reading only new or changed ones)."""
        with self._db() as db:
            self._refresh(db)

    def _refresh(self, db: sqlite3.Connection) -> None:
        if self._known is None:
            self._known = {
                path: (size, mtime_ns, inode)
                for path, size, mtime_ns, inode in db.execute(
                    "SELECT path, size, mtime_ns, inode FROM threads"
                )
            }
        known = self._known
        seen: set[str] = set()
        for archived in (False, True):
            for key, st in self.store.rollout_stats(archived):
                seen.add(key)
                stamp = (st.st_size, st.st_mtime_ns, st.st_ino)
                if known.get(key) == stamp:
                    continue
                known[key] = stamp
                summary = summarize(Path(key), archived)
                if summary is None:
                    db.execute(
                        "INSERT OR REPLACE INTO threads (path, archived, size, mtime_ns, "
                        "inode, listable) VALUES (?, ?, ?, ?, ?, 0)",
                        (key, int(archived), *stamp),
                    )
                    continue
                db.execute(
                    "INSERT OR REPLACE INTO threads VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)",
                    (
                        key,
                        int(archived),
                        *stamp,
                        summary.id,
                        int(summary.created_at.timestamp()),
                        int(summary.updated_at.timestamp()),
                        _encode_summary(summary),
                    ),
                )
        gone = [path for path in known if path not in seen]
        db.executemany("DELETE FROM threads WHERE path = ?", [(path,) for path in gone])
        for path in gone:
            del known[path]

    def page(
        self,
        *,
        archived: bool,
        sort_key: str,
        cursor: Cursor | None,
        limit: int,
        accept: Callable[[ThreadSummary], bool],
    ) -> tuple[list[ThreadSummary], Cursor | None]:
        """Up to `limit` summaries after `cursor` that `accept` takes, and the next cursor
        (None when nothing further matches)."""
        column = "updated_ts" if sort_key == "updated_at" else "created_ts"
        query = "SELECT * FROM threads WHERE archived = ? AND listable = 1"
        args: list[object] = [int(archived)]
        if cursor is not None:
            query += f" AND ({column} < ? OR ({column} = ? AND id < ?))"
            args += [cursor.ts, cursor.ts, cursor.id]
        query += f" ORDER BY {column} DESC, id DESC"
        try:
            out, more = self._select(query, args, limit, accept, in_memory=False)
        except sqlite3.OperationalError as exc:  # locked by another process mid-way
            log.warning("thread index %s is busy (%s); listing without it", self.path, exc)
            out, more = self._select(query, args, limit, accept, in_memory=True)
        if not more or not out:
            return out, None
        last = out[-1]
        ts = last.updated_at if sort_key == "updated_at" else last.created_at
        return out, Cursor(int(ts.timestamp()), last.id)
