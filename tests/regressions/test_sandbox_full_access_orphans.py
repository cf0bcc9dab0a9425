"""Issue 8, item 5: with `danger-full-access`, `kill -9` of Parley leaves no command running.

A command's shell, the processes it forks, and one that left the command's session (`setsid`)
are all ended by the server's watcher once the server is gone; as root and as `nobody`.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from integration.helpers import (
    API_KEY,
    describe_processes,
    eventually,
    processes_with_argument,
    start_turn,
    write_config,
)
from support.app_server import SpawnAppServer, default_command
from support.confined import USERS, Scratch, as_user_prefix
from support.mock_responses import MockResponsesServer
from support.sse import create_shell_command_sse_response

import parley


@pytest.fixture(params=USERS)
def user(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "root" and os.geteuid() != 0:
        pytest.skip("the root case needs the tests to run as root")
    return name


def runnable_by(prefix: list[str], program: str) -> bool:
    probe = [*prefix, "/bin/sh", "-c", 'test -x "$1"', "sh", program]
    return subprocess.run(probe, check=False).returncode == 0


def server_command(user: str) -> tuple[list[str], dict[str, str]]:
    """How to start the server as `user`, and the extra environment it needs.

    The server starts its watcher with its own interpreter, so that interpreter must be one the
    user can run; a venv whose interpreter lives under root's private home is not, and then the
    system Python of the same version runs the server with the venv's packages on its path.
    """
    prefix = as_user_prefix(user)
    if not prefix or runnable_by(prefix, sys.executable):
        return [*prefix, *default_command()], {}
    system = "/usr/bin/python3"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    same = subprocess.run(
        [system, "-c", "import sys; print(f'{sys.version_info.major}.{sys.version_info.minor}')"],
        capture_output=True,
        text=True,
        check=False,
    )
    if not runnable_by(prefix, system) or same.stdout.strip() != version:
        pytest.skip(f"no Python {version} that {user} can run")
    paths = [p for p in sys.path if p.endswith("site-packages") or p.endswith("/src")]
    package_root = str(Path(parley.__file__).resolve().parents[1])
    return [*prefix, system, "-m", "parley", "app-server"], {
        "PYTHONPATH": os.pathsep.join([package_root, *paths])
    }


@pytest.fixture
def scratch(user: str) -> Iterator[Scratch]:
    tree = Scratch(user)
    try:
        yield tree
    finally:
        tree.remove()


async def test_sigkill_of_the_server_ends_its_unconfined_commands(
    spawn_app_server: SpawnAppServer,
    responses_server: MockResponsesServer,
    user: str,
    scratch: Scratch,
) -> None:
    """SIGKILL of the server: the running command and everything it started are killed."""
    workspace = scratch.mkdir("ws")
    codex_home = scratch.mkdir("codex-home")
    tag = f"{random.randrange(10**8):08d}"
    child, daemon, main = (f"{n}0.{tag}" for n in (4, 5, 6))
    script = f"sleep {child} & (setsid sleep {daemon} &); sleep {main}; echo done"
    responses_server.push(
        create_shell_command_sse_response(["bash", "-c", script], None, None, "c1")
    )
    write_config(codex_home, responses_server.uri, sandbox="danger-full-access")
    command, extra_env = server_command(user)
    server = await spawn_app_server(
        codex_home=codex_home, command=command, env={"HOME": str(scratch.path), **extra_env}
    )
    await server.initialize()
    await server.login_with_api_key(API_KEY)
    thread = await server.start_thread({"cwd": str(workspace)})
    await start_turn(server, thread["id"], "run something long")
    markers = (child, daemon, main)
    assert await eventually(lambda: all(processes_with_argument(m) for m in markers), 15.0), (
        f"the command never started{server.stderr_text()[-3000:]}"
    )

    os.kill(server.pid, signal.SIGKILL)
    await server.wait_for_exit()

    left = lambda: [p for m in markers for p in processes_with_argument(m)]  # noqa: E731
    assert await eventually(lambda: not left(), timeout=10.0), (
        f"left running after the server was killed:\n{describe_processes(left())}"
    )
