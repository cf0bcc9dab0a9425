"""Commands do not outlive Parley, even when Parley is killed with SIGKILL.

A confined command dies with its `bwrap` (``--die-with-parent`` plus a PID namespace). An
unconfined one (``danger-full-access``) has no such parent, and ``PR_SET_PDEATHSIG`` would only
reach the shell itself, not the processes the shell started. So the server starts one small
watcher process (this module run as a script, standard library only) the first time it runs a
command. The watcher holds the read end of a pipe whose only write end is in the server; when
the server exits for any reason the kernel closes it, the watcher reads EOF and SIGKILLs:

* every process whose environment carries this server's marker prefix
  (``PARLEY_EXEC_ID=<server token>.``, given to every command and inherited by its
  descendants), and
* every process still in the session of a command the server told it about (a command is the
  leader of its own session), which also catches descendants that scrubbed their environment.

Only a process that both left the command's session (``setsid``) and scrubbed its environment
escapes; a confined command cannot do that. The watcher ignores SIGINT/SIGHUP/SIGTERM and runs
in its own session, so a terminal's Ctrl-C to the server's process group does not end it first.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

from parley.tools.process_tree import MARKER_VARIABLE, all_processes, environ_contains, read_stat

KILL_ROUNDS = 50


class CommandReaper:
    """The server's side: starts the watcher once and tells it about each command."""

    def __init__(self) -> None:
        self.token = uuid.uuid4().hex
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def marker(self) -> str:
        """A fresh `PARLEY_EXEC_ID` value the watcher recognises as this server's."""
        return f"{self.token}.{uuid.uuid4().hex}"

    def _ensure_started(self) -> subprocess.Popen[bytes] | None:
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return self._proc
            package_root = Path(__file__).resolve().parents[2]
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "PYTHONPATH": str(package_root),
            }
            try:
                self._proc = subprocess.Popen(
                    [sys.executable, "-S", "-m", "parley.tools.command_reaper", self.token],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                    env=env,
                    cwd="/",
                )
            except OSError:
                self._proc = None
                return None
            assert self._proc.stdin is not None
            fd = self._proc.stdin.fileno()
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
            return self._proc

    def _send(self, line: str) -> None:
        proc = self._ensure_started()
        if proc is None or proc.stdin is None:
            return
        with contextlib.suppress(OSError):  # a full pipe: the marker still finds the command
            os.write(proc.stdin.fileno(), line.encode())

    def started(self, pid: int) -> None:
        """A command leading its own session `pid` has started."""
        stat = read_stat(pid)
        if stat is not None:
            self._send(f"+{pid} {stat.start_time}\n")

    def finished(self, pid: int) -> None:
        self._send(f"-{pid}\n")

    def prepare(self) -> None:
        """Starts the watcher now (before the first command), so no command is unwatched."""
        self._ensure_started()


# One per server process.
REAPER = CommandReaper()


# ---- the watcher (runs in its own process; standard library and process_tree only) ------


def doomed(token: str, sessions: dict[int, int]) -> list[int]:
    """Live processes of the server's commands: marked ones and members of their sessions."""
    needle = f"{MARKER_VARIABLE}={token}.".encode()
    processes = {stat.pid: stat for stat in all_processes()}
    # A session id stays the leader's pid; if that pid now names another process, the
    # session is gone and the number was reused, so it no longer identifies our command.
    live_sessions = {
        sid
        for sid, start in sessions.items()
        if sid not in processes or processes[sid].start_time == start
    }
    me = os.getpid()
    return [
        stat.pid
        for stat in processes.values()
        if stat.pid != me
        and stat.state not in ("Z", "X")
        and (stat.session in live_sessions or environ_contains(stat.pid, needle))
    ]


def reap(token: str, sessions: dict[int, int]) -> None:
    for _ in range(KILL_ROUNDS):
        pids = doomed(token, sessions)
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def watch(token: str) -> None:
    sessions: dict[int, int] = {}
    for raw in sys.stdin.buffer:
        line = raw.decode("ascii", "replace").strip()
        with contextlib.suppress(ValueError, IndexError):
            if line.startswith("+"):
                pid, start = line[1:].split()
                sessions[int(pid)] = int(start)
            elif line.startswith("-"):
                sessions.pop(int(line[1:]), None)
    reap(token, sessions)


if __name__ == "__main__":
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_IGN)
    watch(sys.argv[1])
