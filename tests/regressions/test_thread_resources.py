"""Regressions: what loaded threads hold on to in a long-running app-server."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from integration.helpers import ready_server, start_turn, wait_turn_completed, write_config
from support.app_server import SpawnAppServer
from support.mock_responses import MockResponsesServer
from support.rollout import create_fake_rollout
from support.sse import create_final_assistant_message_sse_response

THREADS = 40


def _open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def test_reading_stored_threads_does_not_pin_a_file_per_thread(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Browsing history (`thread/read` of stored threads) does not keep one open file per thread
    read, so a client that shows many old threads does not run the server out of descriptors."""
    write_config(codex_home)
    ids = [
        create_fake_rollout(
            codex_home, f"2025-01-01T10-00-{i:02d}", f"2025-01-01T10:00:{i:02d}Z", "hi", None
        )
        for i in range(THREADS)
    ]

    server = await spawn_app_server(codex_home=codex_home)
    await server.initialize()
    before = _open_fds(server.pid)
    for thread_id in ids:
        await server.request("thread/read", {"threadId": thread_id})
    after = _open_fds(server.pid)
    await server.close()
    assert after - before < THREADS // 2, f"{after - before} descriptors left open by reads"


async def test_updated_at_moves_when_a_turn_completes(
    spawn_app_server: SpawnAppServer, codex_home: Path, responses_server: MockResponsesServer
) -> None:
    """A thread's `updatedAt` reflects its last activity, so clients that sort history by it
    show the thread just used first (here it stayed at `createdAt` forever)."""
    responses_server.push(create_final_assistant_message_sse_response("hi"))
    server, thread = await ready_server(spawn_app_server, codex_home, responses_server)
    await asyncio.sleep(1.1)  # timestamps are whole seconds
    turn = await start_turn(server, thread["id"], "hello")
    await wait_turn_completed(server, turn["id"])
    read = (await server.request("thread/read", {"threadId": thread["id"]}))["thread"]
    listed = (await server.request("thread/list", {}))["data"][0]
    await server.close()
    assert read["updatedAt"] > read["createdAt"], read
    assert listed["updatedAt"] > listed["createdAt"], listed
