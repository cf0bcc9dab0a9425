"""Bubblewrap confinement for agent commands: what a sandbox mode allows, as a `bwrap` argv.

Modes (the thread's `sandbox_mode`):

* ``read-only``: the whole filesystem is mounted read-only, a fresh ``/dev`` and ``/proc``, no
  network (a private network namespace with only its own loopback).
* ``workspace-write``: as read-only, plus the turn's cwd, ``/tmp`` and ``$TMPDIR`` mounted
  writable; the network is off unless the thread allows it.
* ``danger-full-access``: no sandbox at all.

Inside a writable root some places stay read-only, as the reference keeps them: a top-level
``.git`` (directory, or file plus the git directory it points to), ``.codex`` (which the
cwd may not create either) and ``.agents``, and Parley's own ``CODEX_HOME`` wherever it is
(so a command cannot rewrite ``config.toml`` to widen the next session's sandbox).
``$CODEX_HOME/auth.json`` cannot be read in any confined mode, even though ``/`` can.

Running as root does not help a command out: it is mapped into a new user namespace
(``--unshare-user``) with every capability dropped (``--cap-drop ALL``), so a remount or a
mount of its own fails, and it runs under the seccomp filter of ``parley.tools.seccomp`` (no
mount calls, no new user namespaces, no ptrace, no kernel-facing calls; with the network off,
no socket traffic, including Unix sockets). Where user namespaces are unavailable to root (some
containers), the namespace is skipped but capabilities are still dropped and the filter still
applies; an unprivileged user without user namespaces gets no sandbox (bwrap cannot start).

Every confined command also gets a private PID namespace (``--unshare-pid``) and
``--die-with-parent``: killing the outer ``bwrap`` process ends every process the command
started, even ones that called ``setsid`` or double-forked.

This module only builds argument lists and probes whether bubblewrap works on this machine; it
never starts the agent's commands (``parley.tools.shell`` does) and never falls back to running
a confined command unconfined.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from parley.tools.seccomp import FilterSpec, SeccompUnavailableError, filter_fd


class SandboxMode(StrEnum):
    READ_ONLY = "read-only"
    WORKSPACE_WRITE = "workspace-write"
    DANGER_FULL_ACCESS = "danger-full-access"

    @classmethod
    def parse(cls, value: str) -> SandboxMode:
        try:
            return cls(value)
        except ValueError:
            # An unknown mode must not widen access: treat it as the strictest one.
            return cls.READ_ONLY


# Entries (relative to a writable root) that stay read-only inside it, so a command cannot
# rewrite repository metadata (git hooks) or project configuration.
PROTECTED_SUBDIRS = (".git", ".codex", ".agents")
# Files of CODEX_HOME a confined command must not read.
HIDDEN_CODEX_FILES = ("auth.json",)


def default_codex_home() -> Path:
    """Where Parley keeps its configuration when the caller does not say (as the loader)."""
    env = os.environ.get("CODEX_HOME")
    return Path(env).expanduser() if env else Path.home() / ".codex"


@dataclass(frozen=True)
class SandboxPolicy:
    """What one turn's commands may touch."""

    mode: SandboxMode
    writable_roots: tuple[Path, ...] = ()
    network_access: bool = False
    codex_home: Path = field(default_factory=default_codex_home)
    # The turn's cwd in workspace-write: its `.codex` may not be created (see reserved_paths).
    workspace: Path | None = None

    @classmethod
    def for_turn(
        cls,
        mode: str,
        cwd: Path,
        network_access: bool = False,
        codex_home: Path | None = None,
    ) -> SandboxPolicy:
        home = codex_home if codex_home is not None else default_codex_home()
        parsed = SandboxMode.parse(mode)
        if parsed is SandboxMode.WORKSPACE_WRITE:
            return cls(parsed, _workspace_roots(cwd), network_access, home, _real(cwd))
        if parsed is SandboxMode.READ_ONLY:
            return cls(parsed, (), False, home)
        return cls(parsed, (), True, home)

    @property
    def confined(self) -> bool:
        return self.mode is not SandboxMode.DANGER_FULL_ACCESS

    @property
    def network_disabled(self) -> bool:
        return self.confined and not self.network_access

    def read_only_paths(self) -> list[Path]:
        """Existing places inside the writable roots that stay read-only, shallowest first."""
        found: list[Path] = []
        for root in self.writable_roots:
            for name in PROTECTED_SUBDIRS:
                entry = root / name
                if entry.is_dir():
                    found.append(entry)
                elif name == ".git" and entry.is_file():
                    found.append(entry)
                    gitdir = _gitdir_of(entry)
                    if gitdir is not None:
                        found.append(gitdir)
        home = _real(self.codex_home)
        if home.is_dir() and any(_within(home, root) for root in self.writable_roots):
            found.append(home)
        unique = {_real(p) for p in found if _real(p) != Path("/")}
        return sorted(unique, key=lambda p: (len(p.parts), str(p)))

    def reserved_paths(self) -> list[Path]:
        """Protected names missing from the workspace, which a command may not create either:
        a project `.codex/config.toml` could otherwise widen a later session of a trusted
        project (the reference protects it before it exists, too)."""
        if self.workspace is None:
            return []
        entry = self.workspace / ".codex"
        return [] if os.path.lexists(entry) else [entry]

    def hidden_files(self) -> list[Path]:
        """Existing credential files replaced by an empty file inside the sandbox."""
        home = _real(self.codex_home)
        return [home / name for name in HIDDEN_CODEX_FILES if (home / name).is_file()]


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _gitdir_of(dot_git_file: Path) -> Path | None:
    """The directory a worktree's or submodule's `.git` file points to (`gitdir: PATH`)."""
    try:
        first = dot_git_file.read_text(encoding="utf-8", errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return None
    if not first.startswith("gitdir:"):
        return None
    target = Path(first[len("gitdir:") :].strip())
    if not target.is_absolute():
        target = dot_git_file.parent / target
    return target if target.is_dir() else None


def _workspace_roots(cwd: Path) -> tuple[Path, ...]:
    candidates = [cwd, Path("/tmp")]
    tmpdir = os.environ.get("TMPDIR")
    if tmpdir:
        candidates.append(Path(tmpdir))
    roots: list[Path] = []
    for candidate in candidates:
        resolved = _real(candidate)
        if resolved.is_dir() and resolved not in roots:
            roots.append(resolved)
    return tuple(roots)


def bwrap_argv(
    bwrap: str,
    policy: SandboxPolicy,
    argv: list[str],
    cwd: Path,
    *,
    seccomp_fd: int | None = None,
    user_namespace: bool = True,
) -> list[str]:
    """The full argv that runs `argv` in `cwd` confined by `policy`.

    `seccomp_fd` (a descriptor the child inherits, see `parley.tools.seccomp.filter_fd`) is
    given to bubblewrap as the filter to install before it runs the command.
    """
    if not policy.confined:
        raise ValueError("danger-full-access commands are not run under bubblewrap")
    args = [
        bwrap,
        "--new-session",  # no access to the server's controlling terminal
        "--die-with-parent",
    ]
    if user_namespace:
        args.append("--unshare-user")
    args += [
        "--unshare-pid",
        "--unshare-ipc",
        "--cap-drop",
        "ALL",
        "--ro-bind",
        "/",
        "/",
        "--dev",
        "/dev",
        "--proc",
        "/proc",
    ]
    if policy.network_disabled:
        args.append("--unshare-net")
    # Deeper mounts cover shallower ones, so mounting by depth lets a workspace inside a
    # protected place stay writable while its own protected entries stay read-only; at equal
    # depth the read-only mount comes last and wins.
    mounts = [(root, "--bind") for root in policy.writable_roots]
    mounts += [(path, "--ro-bind") for path in policy.read_only_paths()]
    for path, flag in sorted(mounts, key=lambda m: (len(m[0].parts), m[1] == "--ro-bind")):
        args += [flag, str(path), str(path)]
    for reserved in policy.reserved_paths():
        # bwrap creates the mount point (an empty directory, removed after the command).
        args += ["--tmpfs", str(reserved), "--remount-ro", str(reserved)]
    for hidden in policy.hidden_files():
        args += ["--ro-bind", "/dev/null", str(hidden)]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    args += ["--chdir", os.path.realpath(cwd), "--", *argv]
    return args


@dataclass
class ConfinedLaunch:
    """A bwrap argv plus the seccomp descriptor it must inherit; close it once started, and
    call `finished` once the command has ended."""

    argv: list[str]
    pass_fds: tuple[int, ...]
    mount_points: tuple[Path, ...] = ()  # empty directories bwrap creates for reserved paths

    def close(self) -> None:
        for fd in self.pass_fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.pass_fds = ()

    def finished(self) -> None:
        """Removes the mount points bwrap left in the workspace (only while still empty)."""
        for path in self.mount_points:
            with contextlib.suppress(OSError):
                path.rmdir()


@dataclass(frozen=True)
class SandboxSupport:
    """How confinement works on this machine, or why it does not."""

    problem: str | None
    user_namespace: bool = True


def prepare_launch(
    bwrap: str, support: SandboxSupport, policy: SandboxPolicy, argv: list[str], cwd: Path
) -> ConfinedLaunch:
    """Compiles the filter into a fresh descriptor and builds the argv that uses it."""
    fd = filter_fd(FilterSpec(network_disabled=policy.network_disabled))
    full = bwrap_argv(
        bwrap, policy, argv, cwd, seccomp_fd=fd, user_namespace=support.user_namespace
    )
    return ConfinedLaunch(full, (fd,), tuple(policy.reserved_paths()))


class SandboxUnavailableError(RuntimeError):
    """A confined command was asked for but bubblewrap (or the filter) cannot run here."""


def confine(policy: SandboxPolicy, argv: list[str], cwd: Path) -> ConfinedLaunch:
    """What to start for `argv` under `policy` (itself when unconfined); blocking (probes once).

    Raises SandboxUnavailableError, never falling back to an unconfined run. The caller passes
    `pass_fds` to the child and calls `close()` once it has started.
    """
    if not policy.confined:
        return ConfinedLaunch(list(argv), ())
    sandbox = support()
    bwrap = find_bwrap()
    if sandbox.problem is not None or bwrap is None:
        raise SandboxUnavailableError(sandbox.problem or "bubblewrap is not available")
    try:
        return prepare_launch(bwrap, sandbox, policy, argv, cwd)
    except (SeccompUnavailableError, OSError) as exc:
        raise SandboxUnavailableError(
            f"the sandbox's seccomp filter cannot be built: {exc}"
        ) from None


def find_bwrap() -> str | None:
    return shutil.which("bwrap")


def _try(bwrap: str, user_namespace: bool) -> str | None:
    true = shutil.which("true") or "/bin/true"
    policy = SandboxPolicy(SandboxMode.READ_ONLY)
    support = SandboxSupport(None, user_namespace)
    try:
        launch = prepare_launch(bwrap, support, policy, [true], Path("/"))
    except (SeccompUnavailableError, OSError) as exc:
        return f"the sandbox's seccomp filter cannot be built: {exc}"
    try:
        done = subprocess.run(
            launch.argv, capture_output=True, timeout=10, check=False, pass_fds=launch.pass_fds
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap ({bwrap}) could not be started: {exc}"
    finally:
        launch.close()
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = detail[-1] if detail else f"exit status {done.returncode}"
        return f"bubblewrap ({bwrap}) cannot create the sandbox namespaces here: {reason}"
    return None


@functools.cache
def _probe(bwrap: str) -> SandboxSupport:
    problem = _try(bwrap, user_namespace=True)
    if problem is None:
        return SandboxSupport(None, True)
    if os.geteuid() == 0 and _try(bwrap, user_namespace=False) is None:
        # Root without user namespaces: capabilities dropped and the filter still hold.
        return SandboxSupport(None, False)
    return SandboxSupport(problem)


def support() -> SandboxSupport:
    """How (or why not) confined commands run here; the probe runs once per bwrap path."""
    bwrap = find_bwrap()
    if bwrap is None:
        return SandboxSupport(
            "bubblewrap (bwrap) is not on PATH, so read-only and workspace-write commands "
            "cannot be confined"
        )
    return _probe(bwrap)


def check() -> str | None:
    """Why confined commands cannot run on this machine, or None when the sandbox works."""
    return support().problem


# The name the server uses for its startup warning.
sandbox_problem = check
