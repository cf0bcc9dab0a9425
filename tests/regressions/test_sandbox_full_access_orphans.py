"""Issue 8, item 5: with `danger-full-access`, `kill -9` of Parley leaves no command running.

A command's shell, the processes it forks, and one that left the command's session (`setsid`)
are all ended by the server's watcher once the server is gone.
"""

from __future__ import annotations

import os
import random
import signal
from pathlib import Path

from integration.helpers import (
    describe_processes,
    eventually,
    processes_with_argument,
    ready_server,
    start_turn,
)
from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer
from support.sse import create_shell_command_sse_response


async def test_sigkill_of_the_server_ends_its_unconfined_commands(
    spawn_app_server: SpawnAppServer,
    codex_home: Path,
    responses_server: MockResponsesServer,
    tmp_path: Path,
) -> None:
    """SIGKILL of the server: the running command and everything it started are killed."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    tag = f"{random.randrange(10**8):08d}"
    child, daemon, main = (f"{n}0.{tag}" for n in (4, 5, 6))
    script = f"sleep {child} & (setsid sleep {daemon} &); sleep {main}; echo done"
    responses_server.push(
        create_shell_command_sse_response(["bash", "-c", script], None, None, "c1")
    )
    server, thread = await ready_server(
        spawn_app_server,
        codex_home,
        responses_server,
        workspace=workspace,
        sandbox="danger-full-access",
    )
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
