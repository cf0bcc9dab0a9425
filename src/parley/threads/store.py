"""Where threads live on disk, as the Codex CLI keeps them, and what a listing shows of each.

* `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<YYYY-MM-DDThh-mm-ss>-<id>.jsonl` for live threads,
  `$CODEX_HOME/archived_sessions/<same file name>` for archived ones (the date folders are the
  local date the thread started, as the reference names them);
* `$CODEX_HOME/session_index.jsonl`: append-only `{"id","thread_name","updated_at"}` lines, the
  newest line for an id giving its name.

`ThreadSummary` is what `thread/list` needs of one rollout (its head and modification time).
The format of the files themselves is `rollout.py`; the listing index is `index.py`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from parley.threads.rollout import (
    SessionMeta,
    format_timestamp,
    parse_timestamp,
    read_head,
)

log = logging.getLogger(__name__)

SESSIONS = "sessions"
ARCHIVED_SESSIONS = "archived_sessions"
SESSION_INDEX = "session_index.jsonl"

_FILE_NAME = re.compile(r"^rollout-(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})-(.+)\.jsonl$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def parse_file_name(name: str) -> tuple[dt.datetime, str] | None:
    """(file timestamp, thread id) of a rollout file name, None if it is not one."""
    match = _FILE_NAME.match(name)
    if match is None:
        return None
    year, month, day, hour, minute, second, rest = match.groups()
    # The id is the longest tail that is a UUID (the reference scans from the right).
    if not _UUID.match(rest):
        return None
    try:
        when = dt.datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=dt.UTC
        )
    except ValueError:
        return None
    return when, rest.lower()


# ---- session sources ---------------------------------------------------------------------------


def source_to_wire(source: Any) -> Any:
    """A rollout `SessionSource` as the v2 `SessionSource`."""
    if source == "mcp":
        return "appServer"
    if source in ("cli", "vscode", "exec", "unknown"):
        return source
    if isinstance(source, dict):
        if "subagent" in source:
            sub = source["subagent"]
            if isinstance(sub, dict) and "thread_spawn" in sub:
                return {"subAgent": {"thread_spawn": sub["thread_spawn"]}}
            return {"subAgent": sub}
        if "custom" in source:
            return {"custom": source["custom"]}
    if isinstance(source, str):
        return {"custom": source}
    return "unknown"


INTERACTIVE_SOURCES = ("cli", "vscode", "atlas", "chatgpt")


def source_kind_matches(source: Any, kind: str) -> bool:
    """Whether a rollout `SessionSource` is of a `ThreadSourceKind`."""
    sub = source.get("subagent") if isinstance(source, dict) else None
    if kind in ("cli", "vscode", "exec", "unknown"):
        return bool(source == kind)
    if kind == "appServer":
        return bool(source == "mcp")
    if kind == "subAgent":
        return sub is not None
    if kind == "subAgentReview":
        return bool(sub == "review")
    if kind == "subAgentCompact":
        return bool(sub == "compact")
    if kind == "subAgentThreadSpawn":
        return isinstance(sub, dict) and "thread_spawn" in sub
    if kind == "subAgentOther":
        return isinstance(sub, dict) and "other" in sub
    return False


def is_interactive(source: Any) -> bool:
    if isinstance(source, str):
        return source in ("cli", "vscode")
    return isinstance(source, dict) and source.get("custom") in ("atlas", "chatgpt")


# ---- summaries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThreadSummary:
    """One rollout as a listing sees it."""

    id: str
    path: Path
    created_at: dt.datetime  # the file name's timestamp (the sort key "created_at")
    updated_at: dt.datetime  # the file's modification time, whole seconds
    meta: SessionMeta
    preview: str
    archived: bool

    def wire(self, name: str | None, status: dict[str, Any]) -> dict[str, Any]:
        """The v2 `Thread` object (without turns)."""
        created = parse_timestamp(self.meta.timestamp) or self.created_at
        git = self.meta.git
        return {
            "id": self.id,
            "forkedFromId": self.meta.forked_from_id,
            "preview": self.preview,
            "ephemeral": False,
            "modelProvider": self.meta.model_provider or "",
            "createdAt": int(created.timestamp()),
            "updatedAt": int(self.updated_at.timestamp()),
            "status": status,
            "path": str(self.path),
            "cwd": self.meta.cwd,
            "cliVersion": self.meta.cli_version,
            "source": source_to_wire(self.meta.source),
            "agentNickname": self.meta.agent_nickname,
            "agentRole": self.meta.agent_role,
            "gitInfo": git_to_wire(git),
            "name": name,
            "turns": [],
            "sessionId": self.id,
        }


def git_to_wire(git: dict[str, Any] | None) -> dict[str, Any] | None:
    if not git:
        return None
    wire = {
        "sha": git.get("commit_hash"),
        "branch": git.get("branch"),
        "originUrl": git.get("repository_url"),
    }
    return wire if any(v is not None for v in wire.values()) else None


def mtime_of(path: Path) -> dt.datetime:
    seconds = int(path.stat().st_mtime)
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def summarize(path: Path, archived: bool) -> ThreadSummary | None:
    """The summary of one rollout, None when it is not a listable thread (no session meta or
    no user message yet, as the reference)."""
    parsed = parse_file_name(path.name)
    if parsed is None:
        return None
    created, _ = parsed
    try:
        head = read_head(path)
        updated = mtime_of(path)
    except OSError as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None
    if head.meta is None or not head.saw_user_event:
        return None
    return ThreadSummary(
        id=head.meta.id,
        path=path,
        created_at=created,
        updated_at=updated,
        meta=head.meta,
        preview=head.first_user_message or "",
        archived=archived,
    )


# ---- the store ---------------------------------------------------------------------------------


class ThreadStore:
    """Paths, names and archiving of rollout files under one `CODEX_HOME`."""

    def __init__(self, codex_home: Path) -> None:
        self.home = codex_home
        self.root = codex_home / SESSIONS
        self.archived_root = codex_home / ARCHIVED_SESSIONS

    def path_for(self, thread_id: str, started: dt.datetime) -> Path:
        local = started.astimezone()
        stamp = local.strftime("%Y-%m-%dT%H-%M-%S")
        return self.root / local.strftime("%Y/%m/%d") / f"rollout-{stamp}-{thread_id}.jsonl"

    # -- finding --
    def rollout_stats(self, archived: bool) -> Iterator[tuple[str, os.stat_result]]:
        """(path, stat) of every rollout file, as plain strings, unsorted: the listing index's
        cheap freshness check over thousands of files."""
        root = str(self.archived_root if archived else self.root)
        depth = 0 if archived else 3
        yield from _scan(root, depth)

    def find(self, thread_id: str) -> Path | None:
        """The live rollout of a thread, else its archived one."""
        return self.find_live(thread_id) or self.find_archived(thread_id)

    def find_live(self, thread_id: str) -> Path | None:
        return _find(str(self.root), 3, f"-{thread_id.lower()}.jsonl")

    def find_archived(self, thread_id: str) -> Path | None:
        return _find(str(self.archived_root), 0, f"-{thread_id.lower()}.jsonl")

    def is_archived(self, path: Path) -> bool:
        return path.parent == self.archived_root

    # -- archiving --
    def archive(self, path: Path) -> Path:
        target = self.archived_root / path.name
        self.archived_root.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), str(target))
        return target

    def unarchive(self, path: Path) -> Path:
        parsed = parse_file_name(path.name)
        if parsed is None:
            raise ValueError(f"`{path.name}` is not a rollout file name")
        when, _ = parsed
        target = self.root / when.strftime("%Y/%m/%d") / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), str(target))
        # As the reference: an unarchived thread counts as updated now.
        os.utime(target)
        return target

    # -- names --
    def set_name(self, thread_id: str, name: str) -> None:
        entry = {
            "id": thread_id,
            "thread_name": name,
            "updated_at": format_timestamp(dt.datetime.now(tz=dt.UTC)),
        }
        self.home.mkdir(parents=True, exist_ok=True)
        with (self.home / SESSION_INDEX).open("ab") as file:
            file.write(orjson.dumps(entry) + b"\n")

    def names(self) -> dict[str, str]:
        """Every thread's latest name (the newest line wins; an empty name clears it)."""
        names: dict[str, str] = {}
        try:
            data = (self.home / SESSION_INDEX).read_bytes()
        except OSError:
            return names
        for raw in data.splitlines():
            try:
                entry = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                name = entry.get("thread_name")
                if isinstance(name, str) and name.strip():
                    names[entry["id"]] = name
                else:
                    names.pop(entry["id"], None)
        return names

    def name_of(self, thread_id: str) -> str | None:
        return self.names().get(thread_id)


def _find(directory: str, depth: int, suffix: str) -> Path | None:
    """The rollout whose name ends with `suffix`, newest folders first, by name only."""
    try:
        with os.scandir(directory) as entries:
            found = sorted(entries, key=lambda e: e.name, reverse=True)
    except OSError:
        return None
    for entry in found:
        if depth > 0:
            if entry.is_dir(follow_symlinks=False):
                hit = _find(entry.path, depth - 1, suffix)
                if hit is not None:
                    return hit
        elif entry.name.startswith("rollout-") and entry.name.lower().endswith(suffix):
            return Path(entry.path)
    return None


def _scan(directory: str, depth: int) -> Iterator[tuple[str, os.stat_result]]:
    try:
        with os.scandir(directory) as entries:
            found = list(entries)
    except OSError:
        return
    for entry in found:
        if depth > 0:
            if entry.is_dir(follow_symlinks=False):
                yield from _scan(entry.path, depth - 1)
        elif entry.name.startswith("rollout-") and entry.name.endswith(".jsonl"):
            try:
                yield entry.path, entry.stat()
            except OSError:
                continue
