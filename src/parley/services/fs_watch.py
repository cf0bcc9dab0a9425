"""`fs/watch`: change notifications for a file or a directory's direct children.

* `WatchTarget` is the pure part: which directory the kernel must watch for a target (the
  directory itself, or a file's parent, so a file replaced by a rename or created later is
  seen), and which paths one filesystem event changed for that target.
* `ChangeBatch` collects changed paths between two notifications: a burst of events becomes one
  sorted, de-duplicated `changedPaths` list and no path is lost. When the kernel reports that
  events were lost (its queue overflowed), the target itself is reported, so a client rescans.
* `WatchHub` is the I/O: one `watchdog` observer (inotify on Linux, no polling) shared by every
  watch of the process; events arrive on its thread and are handed to the event loop.

Watches are per connection (`ConnectionWatches`), keyed by the client's `watchId`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.events import (
    EVENT_TYPE_CLOSED_NO_WRITE,
    EVENT_TYPE_EVENTS_LOST,
    EVENT_TYPE_MOVED,
    EVENT_TYPE_OPENED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch

from parley.rpc.errors import ClientError
from parley.services.fs import os_error

log = logging.getLogger(__name__)

# Changes arriving within this window after the first one go out in one notification.
DEBOUNCE_S = 0.2
# Event kinds that change nothing (a file opened, or closed without writing).
_NOT_CHANGES = frozenset({EVENT_TYPE_OPENED, EVENT_TYPE_CLOSED_NO_WRITE})


def _text(path: bytes | str) -> str:
    return os.fsdecode(path)


@dataclass(frozen=True)
class WatchTarget:
    """What a client asked to watch: a directory, or a file (which may not exist yet)."""

    path: Path
    is_directory: bool

    @classmethod
    def at(cls, path: Path) -> WatchTarget:
        return cls(path, path.is_dir())

    @property
    def watched_directory(self) -> Path:
        return self.path if self.is_directory else self.path.parent

    def changed_paths(self, kind: str, src: str, dest: str = "") -> set[str]:
        """The paths of this target that one event (`kind` on `src`, to `dest` if moved)
        changed: the file itself for a file target, a direct child for a directory target."""
        if kind in _NOT_CHANGES:
            return set()
        if kind == EVENT_TYPE_EVENTS_LOST:
            return {str(self.path)}
        candidates = [src, dest] if kind == EVENT_TYPE_MOVED and dest else [src]
        target = str(self.path)
        if not self.is_directory:
            return {c for c in candidates if c == target}
        return {c for c in candidates if c and os.path.dirname(c) == target}


@dataclass
class ChangeBatch:
    """Changed paths waiting for the next notification."""

    paths: set[str] = field(default_factory=set)

    def add(self, paths: set[str]) -> bool:
        """Adds `paths`; True when the batch was empty before (a new burst starts)."""
        was_empty = not self.paths
        self.paths |= paths
        return was_empty and bool(self.paths)

    def take(self) -> list[str]:
        taken = sorted(self.paths)
        self.paths.clear()
        return taken


class _Forwarder(FileSystemEventHandler):
    """Runs on the observer's thread: hands each event to the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sink: Callable[[str, str, str], None]):
        self._loop = loop
        self._sink = sink

    def dispatch(self, event: FileSystemEvent) -> None:
        dest = _text(event.dest_path) if event.dest_path else ""
        with contextlib.suppress(RuntimeError):  # the loop is closed: the server is exiting
            self._loop.call_soon_threadsafe(
                self._sink, event.event_type, _text(event.src_path), dest
            )


class WatchHub:
    """The process's one filesystem observer, shared by every watch."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._observer: BaseObserver | None = None
        self._users: dict[ObservedWatch, int] = {}

    def add(self, directory: Path, handler: FileSystemEventHandler) -> ObservedWatch:
        with self._lock:
            if self._observer is None:
                self._observer = Observer()
                self._observer.daemon = True
                self._observer.start()
            watch = self._observer.schedule(handler, str(directory), recursive=False)
            self._users[watch] = self._users.get(watch, 0) + 1
            return watch

    def remove(self, watch: ObservedWatch, handler: FileSystemEventHandler) -> None:
        with self._lock:
            if self._observer is None:
                return
            count = self._users.get(watch, 0) - 1
            if count > 0:
                self._users[watch] = count
                with contextlib.suppress(KeyError):
                    self._observer.remove_handler_for_watch(handler, watch)
            else:
                self._users.pop(watch, None)
                with contextlib.suppress(KeyError):
                    self._observer.unschedule(watch)


HUB = WatchHub()
Notify = Callable[[list[str]], None]


class Watch:
    """One `fs/watch`: forwards the target's changes, batched, to `notify`."""

    def __init__(self, target: WatchTarget, notify: Notify, hub: WatchHub = HUB) -> None:
        self.target = target
        self._notify = notify
        self._hub = hub
        self._batch = ChangeBatch()
        self._flush: asyncio.TimerHandle | None = None
        self._handler = _Forwarder(asyncio.get_running_loop(), self._on_event)
        self._watch = hub.add(target.watched_directory, self._handler)
        self._closed = False

    def _on_event(self, kind: str, src: str, dest: str) -> None:
        if self._closed:
            return
        if self._batch.add(self.target.changed_paths(kind, src, dest)):
            loop = asyncio.get_running_loop()
            self._flush = loop.call_later(DEBOUNCE_S, self._send)

    def _send(self) -> None:
        self._flush = None
        paths = self._batch.take()
        if paths and not self._closed:
            self._notify(paths)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._flush is not None:
            self._flush.cancel()
        self._hub.remove(self._watch, self._handler)


@dataclass
class ConnectionWatches:
    """One connection's watches, by the client's `watchId`."""

    watches: dict[str, Watch] = field(default_factory=dict)

    def add(self, watch_id: str, path: Path, notify: Notify) -> None:
        if watch_id in self.watches:
            raise ClientError(f"watchId already exists: {watch_id}")
        target = WatchTarget.at(path)
        try:
            self.watches[watch_id] = Watch(target, notify)
        except OSError as exc:
            raise os_error(exc) from None

    def remove(self, watch_id: str) -> None:
        watch = self.watches.pop(watch_id, None)
        if watch is not None:
            watch.close()

    def close_all(self) -> None:
        for watch_id in list(self.watches):
            self.remove(watch_id)
