"""Bubblewrap confinement for agent commands: what a sandbox mode allows, as a `bwrap` argv.

Modes (the thread's `sandbox_mode`):

* ``read-only``: the whole filesystem is mounted read-only, a fresh ``/dev`` and ``/proc``, no
  network (a private network namespace with only its own loopback).
* ``workspace-write``: as read-only, plus the turn's cwd, ``/tmp`` and ``$TMPDIR`` mounted
  writable (a ``.git`` directory directly inside a writable root stays read-only); the network
  is off unless the thread allows it.
* ``danger-full-access``: no sandbox at all.

Every confined command also gets a private PID namespace (``--unshare-pid``) and
``--die-with-parent``: killing the outer ``bwrap`` process ends every process the command
started, even ones that called ``setsid`` or double-forked.

This module only builds argument lists and probes whether bubblewrap works on this machine; it
never starts the agent's commands (``parley.tools.shell`` does) and never falls back to running
a confined command unconfined.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


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


# Directories (relative to a writable root) that stay read-only inside it, so a command cannot
# rewrite repository metadata such as git hooks.
PROTECTED_SUBDIRS = (".git",)


@dataclass(frozen=True)
class SandboxPolicy:
    """What one turn's commands may touch."""

    mode: SandboxMode
    writable_roots: tuple[Path, ...] = ()
    network_access: bool = False

    @classmethod
    def for_turn(cls, mode: str, cwd: Path, network_access: bool = False) -> SandboxPolicy:
        parsed = SandboxMode.parse(mode)
        if parsed is SandboxMode.WORKSPACE_WRITE:
            return cls(parsed, _workspace_roots(cwd), network_access)
        if parsed is SandboxMode.READ_ONLY:
            return cls(parsed, (), False)
        return cls(parsed, (), True)

    @property
    def confined(self) -> bool:
        return self.mode is not SandboxMode.DANGER_FULL_ACCESS

    @property
    def network_disabled(self) -> bool:
        return self.confined and not self.network_access


def _workspace_roots(cwd: Path) -> tuple[Path, ...]:
    candidates = [cwd, Path("/tmp")]
    tmpdir = os.environ.get("TMPDIR")
    if tmpdir:
        candidates.append(Path(tmpdir))
    roots: list[Path] = []
    for candidate in candidates:
        resolved = Path(os.path.realpath(candidate))
        if resolved.is_dir() and resolved not in roots:
            roots.append(resolved)
    return tuple(roots)


def bwrap_argv(bwrap: str, policy: SandboxPolicy, argv: list[str], cwd: Path) -> list[str]:
    """The full argv that runs `argv` in `cwd` confined by `policy`."""
    if not policy.confined:
        raise ValueError("danger-full-access commands are not run under bubblewrap")
    args = [
        bwrap,
        "--new-session",  # no access to the server's controlling terminal
        "--die-with-parent",
        "--unshare-pid",
        "--unshare-ipc",
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
    for root in policy.writable_roots:
        args += ["--bind", str(root), str(root)]
    for root in policy.writable_roots:
        for name in PROTECTED_SUBDIRS:
            protected = root / name
            if protected.is_dir():
                args += ["--ro-bind", str(protected), str(protected)]
    args += ["--chdir", os.path.realpath(cwd), "--", *argv]
    return args


def find_bwrap() -> str | None:
    return shutil.which("bwrap")


@functools.cache
def _probe(bwrap: str) -> str | None:
    true = shutil.which("true") or "/bin/true"
    policy = SandboxPolicy(SandboxMode.READ_ONLY)
    argv = bwrap_argv(bwrap, policy, [true], Path("/"))
    try:
        done = subprocess.run(argv, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap ({bwrap}) could not be started: {exc}"
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = detail[-1] if detail else f"exit status {done.returncode}"
        return f"bubblewrap ({bwrap}) cannot create the sandbox namespaces here: {reason}"
    return None


def check() -> str | None:
    """Why confined commands cannot run on this machine, or None when the sandbox works.

    The probe result is cached per bubblewrap path; the first call runs `bwrap` once.
    """
    bwrap = find_bwrap()
    if bwrap is None:
        return (
            "bubblewrap (bwrap) is not on PATH, so read-only and workspace-write commands "
            "cannot be confined"
        )
    return _probe(bwrap)


# The name the server uses for its startup warning.
sandbox_problem = check
