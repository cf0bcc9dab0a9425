"""Finds and kills every process a command started, including ones that left its session.

A command is started as the leader of a new session (``start_new_session=True``), so a
process-group kill reaches ordinary children. That misses a child that calls ``setsid`` (the
reference's own regression case: ``setsid sleep 30``) or moves to another process group, so the
tree is also followed through ``/proc``: every process whose parent chain leads back to the
command, plus every process still in the command's session. While the command runs the tree is
re-scanned periodically and everything seen is remembered (with its start time, so a recycled
pid is never killed), which also catches a descendant whose parent has already exited.

The one case scans can miss is a process that double-forks and calls ``setsid`` while its
intermediate parent exits between two scans (a daemon). For that, every command gets a unique
environment variable (``PARLEY_EXEC_ID``) that its descendants inherit; when the tree is killed,
processes started after the command and carrying that value in ``/proc/<pid>/environ`` are
killed too. Only a descendant that both daemonizes and scrubs its environment (``env -i``,
``sudo``) escapes, and only when the command runs unconfined: confined commands run in a private
PID namespace that dies with its ``bwrap`` parent (see ``parley.tools.sandbox``). cgroups would
close this gap too but need privileges or systemd, which a server started by an editor lacks.
"""

from __future__ import annotations

import contextlib
import os
import signal
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
MARKER_VARIABLE = "PARLEY_EXEC_ID"


@dataclass(frozen=True)
class ProcStat:
    pid: int
    ppid: int
    pgrp: int
    session: int
    state: str
    start_time: int


def _read(pid: int, name: str) -> bytes | None:
    # Plain os calls: a command's end scans every process, so this is on the tool-call path.
    try:
        fd = os.open(f"/proc/{pid}/{name}", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def read_stat(pid: int) -> ProcStat | None:
    data = _read(pid, "stat")
    if data is None:
        return None
    raw = data.decode("utf-8", "replace")
    # The command name (field 2) may contain spaces and parentheses; it ends at the last ')'.
    rest = raw[raw.rfind(")") + 2 :].split()
    try:
        return ProcStat(
            pid=pid,
            ppid=int(rest[1]),
            pgrp=int(rest[2]),
            session=int(rest[3]),
            state=rest[0],
            start_time=int(rest[19]),
        )
    except (IndexError, ValueError):
        return None


def environ_contains(pid: int, entry_prefix: bytes) -> bool:
    """Some entry of the process's environment starts with `entry_prefix` (`NAME=value...`)."""
    environ = _read(pid, "environ")
    if environ is None:
        return False
    return environ.startswith(entry_prefix) or b"\0" + entry_prefix in environ


def all_processes() -> list[ProcStat]:
    stats: list[ProcStat] = []
    try:
        entries = os.listdir(PROC)
    except OSError:
        return stats
    for entry in entries:
        if entry.isdigit():
            stat = read_stat(int(entry))
            if stat is not None:
                stats.append(stat)
    return stats


class ProcessTree:
    """The processes descended from one root pid (the root leads its own session)."""

    def __init__(self, root_pid: int, marker: str | None = None) -> None:
        self.root_pid = root_pid
        self._marker = f"{MARKER_VARIABLE}={marker}".encode() + b"\0" if marker else None
        root = read_stat(root_pid)
        self._root_session = root.session if root is not None else root_pid
        self._root_start = root.start_time if root is not None else -1
        self._seen: dict[int, int] = {}  # pid -> start time
        if root is not None:
            self._seen[root_pid] = root.start_time

    def refresh(self, *, by_marker: bool = False) -> list[ProcStat]:
        """Re-scan /proc; returns the live (non-zombie) members of the tree.

        With `by_marker`, also adopts processes that carry the command's environment marker.
        """
        stats = all_processes()
        by_pid = {s.pid: s for s in stats}
        children: dict[int, list[int]] = {}
        for s in stats:
            children.setdefault(s.ppid, []).append(s.pid)
        members: dict[int, ProcStat] = {}
        frontier = [
            pid
            for pid, start in self._seen.items()
            if pid in by_pid and by_pid[pid].start_time == start
        ]
        if self._session_is_ours(by_pid):
            frontier += [s.pid for s in stats if s.session == self._root_session]
        if by_marker and self._marker is not None:
            frontier += [s.pid for s in stats if self._carries_marker(s)]
        while frontier:
            pid = frontier.pop()
            if pid in members or pid not in by_pid:
                continue
            members[pid] = by_pid[pid]
            frontier.extend(children.get(pid, ()))
        for stat in members.values():
            self._seen.setdefault(stat.pid, stat.start_time)
        return [s for s in members.values() if s.state not in ("Z", "X")]

    def _carries_marker(self, stat: ProcStat) -> bool:
        if self._marker is None or stat.start_time < self._root_start or stat.pid == os.getpid():
            return False
        return environ_contains(stat.pid, self._marker)

    def _session_is_ours(self, by_pid: dict[int, ProcStat]) -> bool:
        if self._root_session == os.getsid(0):
            return False  # the command did not get its own session; never kill the server's
        # A session id is the pid of its leader; the kernel keeps that pid allocated while the
        # session has members, so a live process with the root's pid but another start time
        # means the session is gone and the pid was recycled.
        current = by_pid.get(self.root_pid)
        return current is None or current.start_time == self._root_start

    def _group_is_ours(self) -> bool:
        """The root's process group id still names our group, not a recycled pid's."""
        if self._root_session == os.getsid(0):
            return False  # the command shares the server's session; never signal that group
        current = read_stat(self.root_pid)
        return current is None or current.start_time == self._root_start

    def kill(self) -> None:
        """SIGKILL the whole tree; repeats until a scan finds nothing alive (bounded)."""
        if self._group_is_ours():
            with contextlib.suppress(OSError):
                os.killpg(self.root_pid, signal.SIGKILL)
        for _ in range(20):
            alive = self.refresh(by_marker=True)
            if not alive:
                return
            for stat in alive:
                if stat.pid == os.getpid():
                    continue
                with contextlib.suppress(OSError):
                    os.kill(stat.pid, signal.SIGKILL)
