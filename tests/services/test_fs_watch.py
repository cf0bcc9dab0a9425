"""The watcher: which paths an event changes for a target, batching, and real bursts."""

from __future__ import annotations

import asyncio
from pathlib import Path

from parley.services.fs_watch import ChangeBatch, Watch, WatchTarget


def test_a_file_target_sees_only_itself_including_renames_onto_it() -> None:
    """A file watch reports the file, also when another file is renamed onto it."""
    target = WatchTarget(Path("/r/.git/HEAD"), is_directory=False)
    assert target.watched_directory == Path("/r/.git")
    assert target.changed_paths("modified", "/r/.git/HEAD") == {"/r/.git/HEAD"}
    assert target.changed_paths("created", "/r/.git/HEAD.lock") == set()
    assert target.changed_paths("moved", "/r/.git/HEAD.lock", "/r/.git/HEAD") == {"/r/.git/HEAD"}


def test_a_directory_target_sees_its_children_not_itself() -> None:
    """A directory watch reports changed direct children; open/close-without-write are no change."""
    target = WatchTarget(Path("/r/.git"), is_directory=True)
    assert target.changed_paths("modified", "/r/.git/FETCH_HEAD") == {"/r/.git/FETCH_HEAD"}
    assert target.changed_paths("modified", "/r/.git") == set()
    assert target.changed_paths("opened", "/r/.git/FETCH_HEAD") == set()
    assert target.changed_paths("closed_no_write", "/r/.git/FETCH_HEAD") == set()
    assert target.changed_paths("events_lost", "") == {"/r/.git"}


def test_a_batch_merges_a_burst_sorted_and_deduplicated() -> None:
    """Repeated changes of one path within a burst are reported once, in order."""
    batch = ChangeBatch()
    assert batch.add({"/b"}) is True
    assert batch.add({"/a", "/b"}) is False
    assert batch.take() == ["/a", "/b"]
    assert batch.take() == []


def write_files(names: list[str]) -> None:
    for name in names:
        Path(name).write_text("x")


async def test_a_burst_of_changes_loses_nothing(tmp_path: Path) -> None:
    """Writing 300 files in a burst reports every one of them."""
    seen: set[str] = set()
    complete = asyncio.Event()
    names = {str(tmp_path / f"f{i:03}") for i in range(300)}

    def notify(paths: list[str]) -> None:
        seen.update(paths)
        if names <= seen:
            complete.set()

    watch = Watch(WatchTarget.at(tmp_path), notify)
    try:
        write_files(sorted(names))
        await asyncio.wait_for(complete.wait(), 10)
    finally:
        watch.close()
    assert names <= seen


async def test_a_closed_watch_reports_nothing(tmp_path: Path) -> None:
    """After close, changes are not reported (a second, open watch proves the events came)."""
    closed_calls: list[list[str]] = []
    other_seen = asyncio.Event()
    closed = Watch(WatchTarget.at(tmp_path), closed_calls.append)
    other = Watch(WatchTarget.at(tmp_path), lambda paths: other_seen.set())
    closed.close()
    try:
        write_files([str(tmp_path / "new")])
        await asyncio.wait_for(other_seen.wait(), 10)
    finally:
        other.close()
    assert closed_calls == []
