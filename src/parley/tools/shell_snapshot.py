"""The user's login environment, captured once per thread instead of a login shell per command.

Running ``bash -lc`` for every command runs the whole profile every time (often 100 ms or
more). As the reference does, a thread instead starts its user's login shell once, in the
background, with a time limit, and records what the profile produced: its aliases and
functions (as shell text, in ``$CODEX_HOME/shell_snapshots/``) and its exported variables.
Each later command that asked for a login shell runs as ``<shell> -c`` in a non-login shell
that first sources that file and then evaluates the command, with the recorded variables as
its environment (after the thread's `shell_environment_policy` is applied again, so its
excludes and `set` still win). The snapshot file lives in CODEX_HOME, which is read-only inside
the sandbox, so a confined command cannot plant code that a later unconfined one would run.

When the snapshot cannot be made (the profile fails, prints no marker, or outlasts the limit)
a warning is logged and commands fall back to a login shell each, as before; a command whose
working directory differs from the thread's also runs in a login shell (a profile may depend on
where it starts), as the reference does. The item shown to the client keeps the command as
typed (``<shell> -lc '<command>'``); only the argv that runs changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import time
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from parley.config.shell_environment import Inherit, ShellEnvironmentPolicy
from parley.tools.command_reaper import REAPER
from parley.tools.environment import command_environment
from parley.tools.process_tree import MARKER_VARIABLE, ProcessTree

log = logging.getLogger(__name__)

# `[features] shell_snapshot = false` turns snapshots off (a login shell per command again).
SHELL_SNAPSHOT_FEATURE = "shell_snapshot"
SNAPSHOT_TIMEOUT_S = 10.0
SNAPSHOT_DIR = "shell_snapshots"
RETENTION_S = 3 * 24 * 3600
OUTPUT_LIMIT = 16 * 1024 * 1024
# Set by the shell itself (or by Parley for this capture), not by the profile: never restored.
SHELL_OWN_VARIABLES = frozenset({"PWD", "OLDPWD", "SHLVL", "_", MARKER_VARIABLE})
_START = "# parley shell snapshot"


class SnapshotError(Exception):
    """Why a snapshot could not be made (logged; commands then use a login shell)."""


def _shell_kind(shell: str) -> str:
    name = Path(shell).name
    if name in ("bash", "zsh"):
        return name
    return "sh"


def capture_script(shell: str, env_marker: str) -> str:
    """What the login shell runs: load the interactive rc as the reference does, then print
    the aliases and functions, a marker line, and the exported variables NUL-separated."""
    kind = _shell_kind(shell)
    if kind == "bash":
        rc = 'if [ -z "$BASH_ENV" ] && [ -r "$HOME/.bashrc" ]; then . "$HOME/.bashrc"; fi'
        dump = "echo 'shopt -s expand_aliases'\nalias -p\ndeclare -f"
    elif kind == "zsh":
        rc = (
            'if [ -n "$ZDOTDIR" ]; then __rc="$ZDOTDIR/.zshrc"; else __rc="$HOME/.zshrc"; fi\n'
            '[ -r "$__rc" ] && . "$__rc"; unset __rc'
        )
        dump = "alias -L\nfunctions"
    else:
        rc = 'if [ -n "$ENV" ] && [ -r "$ENV" ]; then . "$ENV"; fi'
        dump = "alias"
    return f"{rc}\nprintf '%s\\n' '{_START}'\n{dump}\nprintf '\\n%s\\n' '{env_marker}'\nenv -0\n"


def parse_capture(output: bytes, env_marker: str) -> tuple[str, dict[str, str]]:
    """Splits the capture into the shell text and the variables; SnapshotError when garbled."""
    text = output.decode("utf-8", "replace")
    start = text.find(_START)
    split = text.rfind(f"\n{env_marker}\n")
    if start < 0 or split < start:
        raise SnapshotError("the login shell's output holds no snapshot (did the profile exit?)")
    script = text[start:split] + "\n"
    variables: dict[str, str] = {}
    for entry in text[split + len(env_marker) + 2 :].split("\0"):
        name, sep, value = entry.partition("=")
        if sep and name.isidentifier() and name not in SHELL_OWN_VARIABLES:
            variables[name] = value
    return script, variables


@dataclass(frozen=True)
class ShellSnapshot:
    """A captured login environment: the file to source and the variables to start with."""

    shell: str
    cwd: Path
    path: Path
    environment: Mapping[str, str]

    def applies_to(self, shell: str, cwd: Path) -> bool:
        return (
            shell == self.shell
            and os.path.realpath(cwd) == os.path.realpath(self.cwd)
            and self.path.is_file()
        )

    def argv(self, command: str) -> list[str]:
        """A non-login shell that restores the snapshot, then runs `command` unchanged."""
        wrapper = f". {shlex.quote(str(self.path))} >/dev/null 2>&1\neval {shlex.quote(command)}"
        return [self.shell, "-c", wrapper]

    def command_environment(
        self, policy: ShellEnvironmentPolicy, thread_id: str | None
    ) -> dict[str, str]:
        """The snapshot's variables with the policy's excludes, `set` and `include_only`."""
        everything = replace(policy, inherit=Inherit.ALL)
        return command_environment(everything, self.environment, thread_id)


def _remove_stale(directory: Path) -> None:
    cutoff = time.time() - RETENTION_S
    with contextlib.suppress(OSError):
        for entry in directory.iterdir():
            with contextlib.suppress(OSError):
                if entry.stat().st_mtime < cutoff:
                    entry.unlink()


async def capture(
    shell: str,
    cwd: Path,
    environment: Mapping[str, str],
    codex_home: Path,
    timeout_s: float = SNAPSHOT_TIMEOUT_S,
) -> ShellSnapshot:
    """Runs `shell` as a login shell in `cwd` once and records what its profile set up."""
    env_marker = f"# parley environment {uuid.uuid4().hex}"
    await asyncio.to_thread(REAPER.prepare)  # a profile left running dies with the server too
    try:
        proc = await asyncio.create_subprocess_exec(
            shell,
            "-lc",
            capture_script(shell, env_marker),
            cwd=str(cwd),
            env={**environment, MARKER_VARIABLE: REAPER.marker()},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,  # detached from any terminal, and killable as a tree
        )
    except OSError as exc:
        raise SnapshotError(f"cannot start {shell}: {exc.strerror or exc}") from None
    REAPER.started(proc.pid)
    tree = ProcessTree(proc.pid)
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError:
        raise SnapshotError(f"the login shell did not finish within {timeout_s:g} s") from None
    finally:
        tree.kill()  # the profile's leftovers (and the shell itself on timeout or cancel)
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(proc.wait(), 2.0)
        REAPER.finished(proc.pid)
    if len(stdout) > OUTPUT_LIMIT:
        raise SnapshotError("the login shell printed more than a snapshot can hold")
    if proc.returncode != 0:
        detail = stderr.decode("utf-8", "replace").strip()[-300:]
        raise SnapshotError(f"the login shell exited with status {proc.returncode}: {detail}")
    script, variables = parse_capture(stdout, env_marker)
    directory = codex_home / SNAPSHOT_DIR
    try:
        await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread(_remove_stale, directory)
        path = directory / f"{uuid.uuid4().hex}.sh"
        await asyncio.to_thread(path.write_text, script, encoding="utf-8")
    except OSError as exc:
        raise SnapshotError(f"cannot write the snapshot under {directory}: {exc}") from None
    return ShellSnapshot(shell, cwd, path, variables)


@dataclass
class ShellSnapshotSlot:
    """A thread's snapshot: captured in the background once, again if shell, cwd or env change."""

    timeout_s: float = SNAPSHOT_TIMEOUT_S
    _key: tuple[object, ...] | None = None
    _task: asyncio.Task[ShellSnapshot | None] | None = None

    def start_for(
        self, cwd: Path, policy: ShellEnvironmentPolicy, thread_id: str | None, codex_home: Path
    ) -> None:
        """Begins capturing the user's shell in `cwd` with the environment the thread's commands
        get. The server calls it when a thread is started or loaded, the first command's turn
        again (a no-op then: same shell, cwd and environment), so the capture is usually done
        before the first command needs it."""
        from parley.tools.shell import command_env, user_shell

        self.start(user_shell(), cwd, command_env(policy, thread_id), codex_home)

    def start(
        self, shell: str, cwd: Path, environment: Mapping[str, str], codex_home: Path
    ) -> None:
        """Begins capturing (no-op when the same capture is already under way or done)."""
        key = (shell, os.path.realpath(cwd), tuple(sorted(environment.items())), codex_home)
        if key == self._key and self._task is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._task is not None:
            self._task.cancel()
        self._key = key
        self._task = loop.create_task(self._capture(shell, cwd, dict(environment), codex_home))

    async def _capture(
        self, shell: str, cwd: Path, environment: dict[str, str], codex_home: Path
    ) -> ShellSnapshot | None:
        try:
            snapshot = await capture(shell, cwd, environment, codex_home, self.timeout_s)
        except SnapshotError as exc:
            log.warning(
                "shell snapshot of %s failed (%s); commands run in a login shell each", shell, exc
            )
            return None
        # The file goes when the snapshot is dropped (a new capture, or the server's exit).
        weakref.finalize(snapshot, _unlink, snapshot.path)
        return snapshot

    async def get(self) -> ShellSnapshot | None:
        """The snapshot, waiting for a capture under way (bounded by its own time limit)."""
        task = self._task
        if task is None:
            return None
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                return None  # replaced by a newer capture; this command uses a login shell
            raise

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._task = None
        self._key = None


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
