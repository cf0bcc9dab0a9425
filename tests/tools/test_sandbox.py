"""The bubblewrap sandbox really confines commands: writes, network and process lifetime."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from parley.tools.sandbox import SandboxPolicy, bwrap_argv, check
from parley.tools.shell import CommandResult, SandboxUnavailableError, run_command, shell_argv

from .test_shell_command import live_processes

pytestmark = pytest.mark.skipif(check() is not None, reason=f"no sandbox: {check()}")


async def run(
    script: str, cwd: Path, policy: SandboxPolicy, timeout_s: float = 10
) -> CommandResult:
    return await run_command(
        shell_argv("/bin/bash", script, login=False), cwd=cwd, policy=policy, timeout_s=timeout_s
    )


@pytest.fixture
def outside() -> Iterator[Path]:
    """A directory that is neither the workspace nor a temp dir (so not writable in the sandbox)."""
    path = Path(tempfile.mkdtemp(prefix="parley-outside-", dir="/var/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class Listener:
    def __init__(self) -> None:
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            writer.close()

        self._server = await asyncio.start_server(accepted, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    server = Listener()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_read_only_blocks_writes_in_cwd(tmp_path: Path) -> None:
    """Read-only: reading works, writing a file in the workspace fails and creates nothing."""
    (tmp_path / "probe.txt").write_text("readable")
    policy = SandboxPolicy.for_turn("read-only", tmp_path)

    read = await run("cat probe.txt", tmp_path, policy)
    write = await run("echo x > f.txt", tmp_path, policy)

    assert read.exit_code == 0 and read.output.endswith("readable")
    assert write.exit_code != 0 and "Read-only file system" in write.output
    assert not (tmp_path / "f.txt").exists()


async def test_read_only_blocks_network(tmp_path: Path, listener: Listener) -> None:
    """Read-only: a connection to a local listener fails and never arrives."""
    policy = SandboxPolicy.for_turn("read-only", tmp_path)

    result = await run(f"echo hi > /dev/tcp/127.0.0.1/{listener.port}", tmp_path, policy)
    await asyncio.sleep(0.1)

    assert result.exit_code != 0
    assert listener.connections == 0


async def test_workspace_write_allows_cwd_and_blocks_outside(tmp_path: Path, outside: Path) -> None:
    """Workspace-write: the workspace and /tmp are writable, other places are not."""
    policy = SandboxPolicy.for_turn("workspace-write", tmp_path)

    inside = await run("echo in > in.txt", tmp_path, policy)
    elsewhere = await run(f"echo out > {outside}/out.txt", tmp_path, policy)

    assert inside.exit_code == 0 and (tmp_path / "in.txt").read_text() == "in\n"
    assert elsewhere.exit_code != 0 and "Read-only file system" in elsewhere.output
    assert not (outside / "out.txt").exists()


async def test_workspace_write_keeps_git_metadata_read_only(tmp_path: Path) -> None:
    """Workspace-write: a repository's .git directory cannot be modified."""
    (tmp_path / ".git").mkdir()
    policy = SandboxPolicy.for_turn("workspace-write", tmp_path)

    result = await run("echo evil > .git/hook", tmp_path, policy)

    assert result.exit_code != 0
    assert not (tmp_path / ".git" / "hook").exists()


async def test_workspace_write_network_follows_the_setting(
    tmp_path: Path, listener: Listener
) -> None:
    """Workspace-write: network is off by default and on when the thread allows it."""
    script = f"echo hi > /dev/tcp/127.0.0.1/{listener.port}"

    blocked = await run(script, tmp_path, SandboxPolicy.for_turn("workspace-write", tmp_path))
    await asyncio.sleep(0.1)
    assert blocked.exit_code != 0 and listener.connections == 0

    allowed = await run(
        script, tmp_path, SandboxPolicy.for_turn("workspace-write", tmp_path, network_access=True)
    )
    await asyncio.sleep(0.1)
    assert allowed.exit_code == 0 and listener.connections == 1


async def test_timeout_kills_sandboxed_daemons(tmp_path: Path) -> None:
    """A timed-out sandboxed command is killed with everything it started."""
    policy = SandboxPolicy.for_turn("workspace-write", tmp_path)

    result = await run("(setsid sleep 6161.1 &); sleep 6161.2", tmp_path, policy, timeout_s=0.5)

    assert result.timed_out
    assert live_processes("sleep 6161.") == []


def test_confined_argv_shape(tmp_path: Path) -> None:
    """The bwrap argv mounts / read-only, isolates pid and network, and binds the workspace."""
    policy = SandboxPolicy.for_turn("workspace-write", tmp_path)
    argv = bwrap_argv("/usr/bin/bwrap", policy, ["/bin/true"], tmp_path)
    joined = " ".join(argv)
    assert "--ro-bind / /" in joined
    assert "--unshare-net" in argv and "--unshare-pid" in argv and "--die-with-parent" in argv
    real = os.path.realpath(tmp_path)
    assert f"--bind {real} {real}" in joined
    assert argv[-2:] == ["--", "/bin/true"]


async def test_missing_bubblewrap_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without bubblewrap, check() explains why and confined commands are refused, not run."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    reason = check()
    assert reason is not None and "bubblewrap" in reason

    with pytest.raises(SandboxUnavailableError):
        await run("touch made", tmp_path, SandboxPolicy.for_turn("read-only", tmp_path))
    assert not (tmp_path / "made").exists()
