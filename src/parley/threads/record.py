"""One thread's durable record: its rollout file, the turns rebuilt from it, the model history.

Every line written goes to the rollout (through `RolloutWriter`), to the `HistoryBuilder` (so
`thread/read` and `thread/resume` of a loaded thread show the same turns a fresh read of the
file would) and, for response items, to the model history the next turn continues from. An
ephemeral thread has no file; everything else is the same.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parley.threads import rollout
from parley.threads.rollout import HistoryBuilder, RolloutLine, RolloutWriter, SessionMeta

log = logging.getLogger(__name__)


@dataclass
class LoadedRollout:
    """A rollout read from disk, ready to become a live thread."""

    path: Path
    lines: list[RolloutLine]
    meta: SessionMeta

    @property
    def latest_turn_context(self) -> dict[str, Any] | None:
        for line in reversed(self.lines):
            if line.type == "turn_context":
                return line.payload
        return None

    @property
    def git(self) -> dict[str, Any] | None:
        return self.meta.git

    @property
    def preview(self) -> str:
        for line in self.lines:
            if line.event_type == "user_message":
                text = rollout.strip_user_message_prefix(str(line.payload.get("message", "")))
                if text:
                    return text
        return ""


class RolloutUnreadable(Exception):
    """The file exists but holds no session meta."""


def load_rollout(path: Path) -> LoadedRollout:
    lines = rollout.read_rollout(path)
    for line in lines:
        if line.type == "session_meta":
            return LoadedRollout(path, lines, rollout.session_meta_from(line.payload))
    raise RolloutUnreadable(f"rollout at {path} does not start with session metadata")


class ThreadRecord:
    def __init__(
        self,
        path: Path | None,
        *,
        materialized: bool,
        lines: Iterable[RolloutLine] = (),
        extended: bool = False,
    ) -> None:
        self._writer = RolloutWriter(path, materialized=materialized) if path else None
        self.builder = HistoryBuilder()
        self.extended = extended
        self._lines = list(lines)
        self.builder.feed(self._lines)
        self.history: list[dict[str, Any]] = rollout.model_history(self._lines)

    @property
    def path(self) -> Path | None:
        return self._writer.path if self._writer else None

    @property
    def materialized(self) -> bool:
        return self._writer is not None and self._writer.materialized

    def moved_to(self, path: Path) -> None:
        if self._writer is not None:
            self._writer.moved_to(path)

    def materialize(self) -> None:
        if self._writer is not None:
            self._writer.materialize()

    @property
    def lines(self) -> list[RolloutLine]:
        return list(self._lines)

    def append(self, *lines: RolloutLine) -> None:
        self._lines.extend(lines)
        for line in lines:
            self.builder.handle(line)
            if line.type == "response_item":
                self.history.append(line.payload)
            elif line.type == "compacted":  # the history restarts, as a reload would rebuild it
                self.history = rollout.model_history(self._lines)
        if self._writer is None:
            return
        try:
            self._writer.append(lines)
        except OSError as exc:
            log.error("cannot write to %s: %s", self._writer.path, exc)

    def set_git(self, git: dict[str, Any] | None) -> None:
        """Record new Git metadata in the session meta (the first line), where the Codex CLI
        reads it too: in memory before the file exists, else by rewriting that line."""
        first = next((line for line in self._lines if line.type == "session_meta"), None)
        if first is None:
            return
        payload = {k: v for k, v in first.payload.items() if k != "git"}
        if git:
            payload["git"] = git
        line = RolloutLine(first.timestamp, "session_meta", payload)
        self._lines[self._lines.index(first)] = line
        if self._writer is None:
            return
        if not self._writer.materialized:
            self._writer.replace_pending(first, line)
            return
        try:
            rollout.rewrite_session_meta(self._writer.path, line)
        except OSError as exc:
            log.error("cannot update %s: %s", self._writer.path, exc)

    def rollback(self, num_turns: int) -> None:
        self.append(rollout.event_line("thread_rolled_back", num_turns=num_turns))
        # The model history forgets the dropped turns, as a reload of the file would.
        self.history = rollout.model_history(self._lines)

    def updated_at(self, fallback: int) -> int:
        """The file's modification time (seconds), as the reference reports `updatedAt`."""
        if self._writer is None or not self._writer.materialized:
            return fallback
        try:
            return int(self._writer.path.stat().st_mtime)
        except OSError:
            return fallback


def now_seconds() -> int:
    return int(dt.datetime.now(tz=dt.UTC).timestamp())
