"""Run one command through Parley's real sandbox path as root or as an unprivileged user.

`run_confined(...)` starts a fresh Python process (as `nobody` through `setpriv` when asked and
the tests run as root) that calls `parley.tools.shell.run_command` with the policy a turn would
get, and returns the command's exit code and output. The same process prints the sandbox's
problem instead when bubblewrap cannot work for that user, so a test can say why it skips.

`Scratch` makes a directory tree every test user can use (pytest's own tmp dirs are private to
root).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

NOBODY_UID = 65534
NOBODY_GID = 65534
USERS = ("root", "nobody")

_RUNNER = """
import asyncio, json, sys
from pathlib import Path
from parley.tools.sandbox import SandboxPolicy, check
from parley.tools.shell import run_command

args = json.loads(sys.argv[1])

async def main() -> None:
    problem = check()
    if problem is not None and args["mode"] != "danger-full-access":
        print(json.dumps({"problem": problem}))
        return
    cwd = Path(args["cwd"])
    policy = SandboxPolicy.for_turn(
        args["mode"], cwd, args["network"], codex_home=Path(args["codex_home"])
    )
    result = await run_command(
        ["/bin/bash", "-c", args["script"]], cwd=cwd, policy=policy, timeout_s=60
    )
    print(json.dumps({"exit_code": result.exit_code, "output": result.output}))

asyncio.run(main())
"""


@dataclass(frozen=True)
class Confined:
    exit_code: int
    output: str


class SandboxUnavailableForUser(Exception):
    """bubblewrap cannot confine commands for this user here (the message says why)."""


def as_user_prefix(user: str) -> list[str]:
    """The argv prefix that runs a program as `user` ("root": as we are)."""
    if user == "root":
        return []
    if os.geteuid() != 0:
        return []  # already unprivileged
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise SandboxUnavailableForUser("setpriv (util-linux) is needed to drop to nobody")
    return [
        setpriv,
        f"--reuid={NOBODY_UID}",
        f"--regid={NOBODY_GID}",
        "--clear-groups",
        "--inh-caps=-all",
    ]


def run_confined(
    user: str,
    mode: str,
    cwd: Path,
    script: str,
    *,
    codex_home: Path,
    network: bool = False,
    env: dict[str, str] | None = None,
) -> Confined:
    """Runs `script` with `/bin/bash -c` in `cwd` under `mode`, as `user`."""
    args = {
        "mode": mode,
        "cwd": str(cwd),
        "script": script,
        "network": network,
        "codex_home": str(codex_home),
    }
    full_env = {**os.environ, "HOME": str(cwd), **(env or {})}
    done = subprocess.run(
        [*as_user_prefix(user), sys.executable, "-c", _RUNNER, json.dumps(args)],
        capture_output=True,
        env=full_env,
        cwd=str(cwd),
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"runner failed ({done.returncode}): {done.stderr.decode(errors='replace')[-3000:]}"
        )
    reply: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    if "problem" in reply:
        raise SandboxUnavailableForUser(reply["problem"])
    return Confined(reply["exit_code"], reply["output"])


class Scratch:
    """A directory under /tmp that `user` owns (so workspace-write can write in it)."""

    def __init__(self, user: str) -> None:
        self.path = Path(tempfile.mkdtemp(prefix="parley-sandbox-", dir="/tmp"))
        self.path.chmod(0o755)
        self._user = user

    def mkdir(self, relative: str) -> Path:
        path = self.path / relative
        path.mkdir(parents=True, exist_ok=True)
        self.give(path)
        return path

    def write(self, relative: str, text: str) -> Path:
        path = self.path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self.give(path)
        return path

    def give(self, path: Path) -> None:
        """Hands `path` (and its parents up to the scratch root) to the test user."""
        if self._user == "root" or os.geteuid() != 0:
            return
        current = path
        while True:
            os.chown(current, NOBODY_UID, NOBODY_GID)
            if current == self.path:
                return
            current = current.parent

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
