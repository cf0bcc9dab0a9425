"""Fuzzy file search over directory trees: the one-shot search and the streaming session.

* `walk` lists every file and directory under the roots (hidden ones too, following symlinks
  once), leaving out what git would ignore: ``.gitignore`` files (and ``.git/info/exclude``)
  count only inside a git repository, as in the reference; ``.ignore`` files count anywhere.
  The ``.git`` directories themselves are not listed.
* `Ranking` keeps the best matches seen so far (score, then shorter path, then path) and turns
  them into the protocol's result objects, best first (score, then path).
* `search` runs a whole query (blocking; the handler calls it in a worker thread) and stops
  early when its `threading.Event` is set (a superseded query).
* `SearchSession` walks the roots once, in a worker thread, and re-ranks whenever the query
  changes; it reports `updated(query, files)` while results come in (at least once per query)
  and `completed(query)` when a query has seen every path. A new query cancels the work of the
  previous one. Callbacks run on the worker thread; the handler moves them to the event loop.

Matching and scoring are `parley.services.fuzzy_match`.
"""

from __future__ import annotations

import heapq
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pathspec

from parley.services.fuzzy_match import Pattern

MATCH_LIMIT = 50
# How often a long match pass checks whether it was superseded, and how often a session reports
# intermediate results while the walk is still running.
CHECK_EVERY = 1024
PROGRESS_INTERVAL_S = 0.05


@dataclass(frozen=True)
class Entry:
    root: int  # index into the search roots
    path: str  # relative to its root, "/"-separated
    is_directory: bool


# ---- walking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _IgnoreFile:
    """One ignore file's rules, for paths under `prefix` (its directory, with a slash)."""

    prefix: str
    rules: tuple[tuple[re.Pattern[str], bool], ...]  # (pattern, ignores?) in file order

    def verdict(self, path: str, is_directory: bool) -> bool | None:
        """True: ignored, False: explicitly kept (``!pattern``), None: no opinion."""
        if not path.startswith(self.prefix):
            return None
        relative = path[len(self.prefix) :] + ("/" if is_directory else "")
        verdict = None
        for pattern, ignores in self.rules:  # the last matching line wins, as in git
            if pattern.match(relative):
                verdict = ignores
        return verdict


def _load(base: str, file: str) -> _IgnoreFile | None:
    try:
        with open(file, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    rules = tuple(
        (pattern.regex, bool(pattern.include))
        for pattern in spec.patterns
        if pattern.include is not None and isinstance(pattern.regex, re.Pattern)
    )
    return _IgnoreFile(base.rstrip("/") + "/", rules) if rules else None


def _repository_root(directory: str) -> str | None:
    path = Path(directory)
    for candidate in (path, *path.parents):
        if (candidate / ".git").exists():
            return str(candidate)
    return None


def _ignore_files_for(directory: str, in_repository: bool) -> list[_IgnoreFile]:
    found: list[_IgnoreFile] = []
    names = (".gitignore", ".ignore") if in_repository else (".ignore",)
    for name in names:
        loaded = _load(directory, os.path.join(directory, name))
        if loaded is not None:
            found.append(loaded)
    return found


def _inherited_ignore_files(root: str) -> tuple[list[_IgnoreFile], str | None]:
    """Ignore files that apply to `root` from the directories above it."""
    repository = _repository_root(root)
    inherited: list[_IgnoreFile] = []
    if repository is not None:
        exclude = _load(repository, os.path.join(repository, ".git", "info", "exclude"))
        if exclude is not None:
            inherited.append(exclude)
    for ancestor in reversed(Path(root).parents):
        in_repository = repository is not None and (
            str(ancestor) == repository or Path(repository) in ancestor.parents
        )
        inherited.extend(_ignore_files_for(str(ancestor), in_repository))
    return inherited, repository


def _ignored(rules: Sequence[_IgnoreFile], path: str, is_directory: bool) -> bool:
    for rule in reversed(rules):  # the deepest file has the last word
        verdict = rule.verdict(path, is_directory)
        if verdict is not None:
            return verdict
    return False


def walk(roots: Sequence[Path], cancelled: threading.Event | None = None) -> Iterator[Entry]:
    """Every entry under `roots` that git would not ignore (see the module docstring)."""
    visited: set[tuple[int, int]] = set()
    for index, root_path in enumerate(roots):
        root = os.path.normpath(str(root_path))
        inherited, repository = _inherited_ignore_files(root)
        # (absolute directory, its path relative to the root with a trailing slash, rules)
        stack: list[tuple[str, str, list[_IgnoreFile], bool]] = [
            (root, "", inherited, repository is not None)
        ]
        while stack:
            if cancelled is not None and cancelled.is_set():
                return
            directory, prefix, rules, in_repository = stack.pop()
            try:
                info = os.stat(directory)
            except OSError:
                continue
            if (info.st_dev, info.st_ino) in visited:
                continue  # a symlink loop, or a directory reached twice
            visited.add((info.st_dev, info.st_ino))
            if not in_repository and os.path.exists(os.path.join(directory, ".git")):
                in_repository = True
            rules = rules + _ignore_files_for(directory, in_repository)
            try:
                with os.scandir(directory) as listing:
                    children = sorted(listing, key=lambda e: e.name)
            except OSError:
                continue
            subdirectories = []
            for child in children:
                name = child.name
                if name == ".git":
                    continue
                try:
                    is_directory = child.is_dir(follow_symlinks=True)
                except OSError:
                    is_directory = False
                if rules and _ignored(rules, child.path, is_directory):
                    continue
                relative = prefix + name
                yield Entry(index, relative, is_directory)
                if is_directory:
                    subdirectories.append((child.path, relative + "/", rules, in_repository))
            stack.extend(reversed(subdirectories))


# ---- ranking ---------------------------------------------------------------------------------


@dataclass(frozen=True, order=False)
class _Reverse:
    """Orders paths backwards, so that in the min-heap the alphabetically first path wins."""

    path: str

    def __lt__(self, other: _Reverse) -> bool:
        return self.path > other.path

    def __gt__(self, other: _Reverse) -> bool:
        return self.path < other.path

    def __le__(self, other: _Reverse) -> bool:
        return self.path >= other.path

    def __ge__(self, other: _Reverse) -> bool:
        return self.path <= other.path


_Key = tuple[int, int, _Reverse, int]


@dataclass
class Ranking:
    """The best `limit` matches so far for one pattern."""

    pattern: Pattern
    roots: Sequence[Path]
    limit: int = MATCH_LIMIT
    # A min-heap of the kept matches, worst on top; the key ranks by score, then the shorter
    # path, then the alphabetically first path (as the reference's matcher orders ties).
    _heap: list[tuple[_Key, int, Entry, tuple[int, ...]]] = field(default_factory=list)
    matched: int = 0

    def offer(self, entry: Entry) -> bool:
        """Scores `entry`; True when it is now among the kept matches."""
        found = self.pattern.match(entry.path)
        if found is None:
            return False
        self.matched += 1
        key = (found.score, -len(entry.path), _Reverse(entry.path), -entry.root)
        item = (key, self.matched, entry, found.indices)
        if len(self._heap) < self.limit:
            heapq.heappush(self._heap, item)
        elif key > self._heap[0][0]:
            heapq.heapreplace(self._heap, item)
        else:
            return False
        return True

    def results(self) -> list[dict[str, Any]]:
        """The kept matches as `FuzzyFileSearchResult` objects, best score first, then path."""
        kept = sorted(self._heap, key=lambda item: (-item[0][0], item[2].path, item[2].root))
        return [
            {
                "root": str(self.roots[entry.root]),
                "path": entry.path,
                "match_type": "directory" if entry.is_directory else "file",
                "file_name": entry.path.rsplit("/", 1)[-1],
                "score": score,
                "indices": list(indices),
            }
            for (score, *_rest), _order, entry, indices in kept
        ]


def search_roots(raw_roots: Sequence[str]) -> list[Path]:
    return [Path(root) for root in raw_roots]


def search(
    query: str, roots: Sequence[str], cancelled: threading.Event | None = None
) -> list[dict[str, Any]]:
    """The best matches of `query` under `roots` (partial results if cancelled)."""
    paths = search_roots(roots)
    ranking = Ranking(Pattern.parse(query), paths)
    for count, entry in enumerate(walk(paths, cancelled)):
        ranking.offer(entry)
        if count % CHECK_EVERY == 0 and cancelled is not None and cancelled.is_set():
            break
    return ranking.results()


# ---- the streaming session -------------------------------------------------------------------

Updated = Callable[[str, list[dict[str, Any]]], object]
Completed = Callable[[str], object]


class SearchSession:
    """One `fuzzyFileSearch/session*`: one walk, many queries (see the module docstring)."""

    def __init__(self, roots: Sequence[str], updated: Updated, completed: Completed) -> None:
        self.roots = search_roots(roots)
        self._updated = updated
        self._completed = completed
        self._entries: list[Entry] = []
        self._walk_done = False
        self._query: str | None = None
        self._generation = 0
        self._stopped = False
        self._changed = threading.Condition()
        self._stop_walk = threading.Event()
        self._walker = threading.Thread(target=self._walk, name="fuzzy-walk", daemon=True)
        self._matcher = threading.Thread(target=self._match, name="fuzzy-match", daemon=True)
        self._walker.start()
        self._matcher.start()

    def update_query(self, query: str) -> None:
        with self._changed:
            self._query = query
            self._generation += 1
            self._changed.notify_all()

    def stop(self) -> None:
        self._stop_walk.set()
        with self._changed:
            self._stopped = True
            self._changed.notify_all()

    # ---- worker threads ----------------------------------------------------------------
    def _walk(self) -> None:
        batch: list[Entry] = []
        last = time.monotonic()
        for entry in walk(self.roots, self._stop_walk):
            batch.append(entry)
            now = time.monotonic()
            if len(batch) >= CHECK_EVERY or now - last >= PROGRESS_INTERVAL_S:
                self._publish(batch)
                batch = []
                last = now
        with self._changed:
            self._entries.extend(batch)
            self._walk_done = True
            self._changed.notify_all()

    def _publish(self, batch: list[Entry]) -> None:
        with self._changed:
            self._entries.extend(batch)
            self._changed.notify_all()

    def _match(self) -> None:
        done_generation = -1
        while True:
            with self._changed:
                while not self._stopped and (
                    self._query is None or self._generation == done_generation
                ):
                    self._changed.wait()
                if self._stopped:
                    return
                query, generation = self._query or "", self._generation
            if self._run(query, generation):
                done_generation = generation

    def _superseded(self, generation: int) -> bool:
        return self._stopped or self._generation != generation

    def _run(self, query: str, generation: int) -> bool:
        """Matches `query` against every entry (waiting for the walk); False if superseded."""
        pattern = Pattern.parse(query)
        ranking = Ranking(pattern, self.roots)
        position = 0
        last_report = time.monotonic()
        reported_once = False
        unreported = False  # the ranking changed since the last report
        while True:
            with self._changed:
                while (
                    position >= len(self._entries)
                    and not self._walk_done
                    and not self._superseded(generation)
                ):
                    self._changed.wait()
                if self._superseded(generation):
                    return False
                available = len(self._entries)
                walk_done = self._walk_done
                entries = self._entries
            while position < available:
                stop = min(position + CHECK_EVERY, available)
                if not pattern.is_empty:
                    for entry in entries[position:stop]:
                        unreported |= ranking.offer(entry)
                position = stop
                if self._superseded(generation):
                    return False
                # The first matches go out at once; later changes at most every interval.
                now = time.monotonic()
                if unreported and (not reported_once or now - last_report >= PROGRESS_INTERVAL_S):
                    self._updated(query, ranking.results())
                    reported_once, unreported, last_report = True, False, now
            finished = walk_done and position >= available
            if finished:
                # Every query ends with its final results, even when nothing matched.
                if unreported or not reported_once:
                    self._updated(query, [] if pattern.is_empty else ranking.results())
                self._completed(query)
                return True
