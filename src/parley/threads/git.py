"""The Git facts a rollout's `session_meta` records about a thread's working directory.

The reference collects them when a thread's rollout is first written (its first turn): the
commit, the branch (none when detached) and the `origin` remote's URL, each left out when Git
cannot tell. Nothing here fails: outside a repository, or without `git`, the answer is None.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

# A safety net: a slow file system must not hold a turn back for long.
GIT_TIMEOUT_S = 5.0


def _git(cwd: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(cwd), *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def collect_git_info(cwd: Path) -> dict[str, Any] | None:
    """`{"commit_hash", "branch", "repository_url"}` of the repository holding `cwd` (fields
    Git cannot tell are left out), or None outside a repository."""
    head = _git(cwd, "rev-parse", "HEAD", "--abbrev-ref", "HEAD")
    if head is None:
        return None
    lines = head.split()
    info: dict[str, Any] = {}
    if lines:
        info["commit_hash"] = lines[0]
    if len(lines) > 1 and lines[1] != "HEAD":
        info["branch"] = lines[1]
    origin = _git(cwd, "remote", "get-url", "origin")
    if origin and origin.strip():
        info["repository_url"] = origin.strip()
    return info or None
