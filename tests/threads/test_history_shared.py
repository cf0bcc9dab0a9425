"""History shared with the Codex CLI, end to end: a thread the CLI recorded lists, reads and
resumes in Parley, and its next model request carries the whole recorded history; what Parley
appends stays a valid rollout. Also: loaded threads hold no file open, so a low descriptor limit
does not cap how many threads a server can hold.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from support.app_server import SpawnAppServer, default_command
from support.mock_responses import MockResponsesServer
from support.rollout import read_rollout_lines
from support.sse import create_final_assistant_message_sse_response
from support.thread_harness import create_config_toml, run_turn

DATA = Path(__file__).resolve().parent.parent / "data" / "rollouts"
CLI_ID = "0199a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b"
CLI_FILE = f"rollout-2025-10-02T10-14-07-{CLI_ID}.jsonl"


def _seed(codex_home: Path) -> Path:
    day = codex_home / "sessions" / "2025" / "10" / "02"
    day.mkdir(parents=True)
    target = day / CLI_FILE
    shutil.copyfile(DATA / CLI_FILE, target)
    return target


async def test_a_codex_cli_thread_lists_reads_and_resumes_with_its_whole_history(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """The CLI's thread is listed (any provider), read with its turns, resumed with its model
    (its approval policy and sandbox come from the configuration, as in the reference), and the
    next request replays every recorded item before the new message."""
    path = _seed(codex_home)
    async with MockResponsesServer([create_final_assistant_message_sse_response("Fixed.")]) as api:
        create_config_toml(codex_home, api.uri)
        mcp = await spawn_app_server(codex_home=codex_home)
        await mcp.initialize()
        listed = await mcp.request("thread/list", {"modelProviders": []})
        assert [t["id"] for t in listed["data"]] == [CLI_ID]
        assert listed["data"][0]["preview"] == "Why does the tokenizer test fail?"
        read = await mcp.request("thread/read", {"threadId": CLI_ID, "includeTurns": True})
        assert [t["status"] for t in read["thread"]["turns"]] == ["completed", "interrupted"]

        resumed = await mcp.request("thread/resume", {"threadId": CLI_ID})
        assert resumed["model"] == "gpt-5.1-codex"
        assert resumed["sandbox"]["type"] == "readOnly"
        assert resumed["approvalPolicy"] == "never"
        assert resumed["thread"]["path"] == str(path)

        await run_turn(mcp, CLI_ID, "Now run it again.")
        body = api.responses_requests()[0]
        sent = body["input"]
        calls = [item for item in sent if item.get("type") == "function_call"]
        assert [c["call_id"] for c in calls] == ["call_8Qx1"]
        texts = [
            part.get("text")
            for item in sent
            if item.get("type") == "message"
            for part in item.get("content", [])
        ]
        recorded = [
            "Why does the tokenizer test fail?",
            "Fix it and run the whole suite.",
            "Now run it again.",
        ]
        positions = [next(i for i, t in enumerate(texts) if t and r in t) for r in recorded]
        assert positions == sorted(positions)

        lines = read_rollout_lines(path)
        kinds = [(line["type"], line["payload"].get("type")) for line in lines[-8:]]
        assert ("event_msg", "task_started") in kinds
        assert ("event_msg", "task_complete") in kinds
        assert ("turn_context", None) in kinds
        reread = await mcp.request("thread/read", {"threadId": CLI_ID, "includeTurns": True})
        assert len(reread["thread"]["turns"]) == 3
        assert reread["thread"]["turns"][-1]["items"][-1]["text"] == "Fixed."


LOW_FD_LIMIT = 256
THREADS = 300


async def test_many_threads_under_a_low_descriptor_limit(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Under `ulimit -n 256`, 300 `thread/start`s and a turn on the last thread all succeed:
    a thread opens its rollout only to append to it."""
    limit = (
        "import os, resource, sys; "
        f"resource.setrlimit(resource.RLIMIT_NOFILE, ({LOW_FD_LIMIT}, {LOW_FD_LIMIT})); "
        "os.execv(sys.argv[1], sys.argv[1:])"
    )
    async with MockResponsesServer([create_final_assistant_message_sse_response("ok")]) as api:
        create_config_toml(codex_home, api.uri)
        mcp = await spawn_app_server(
            codex_home=codex_home, command=[sys.executable, "-c", limit, *default_command()]
        )
        await mcp.initialize()
        ids = []
        for _ in range(THREADS):
            ids.append((await mcp.request("thread/start", {}))["thread"]["id"])
        completed = await run_turn(mcp, ids[-1], "still working?")
        assert completed["turn"]["status"] == "completed"
        loaded = await mcp.request("thread/loaded/list", {})
        assert len(loaded["data"]) == THREADS
