"""Threads recorded by the Codex CLI 0.120.0 itself list, read and resume in Parley as they do in
the CLI.

Each folder of `tests/data/rollouts-recorded/` is one scenario played against the reference
`codex app-server` by `scripts/history_round_trip.py --record` (a plain turn, a shell command,
extended history, an interrupted turn, a named thread, an archived one, a rollback, a fork, a
compaction, a turn delegated by a realtime session): the rollout files it wrote (its prompt
wording redacted) and, in `expected.json`, what the reference itself answered on those files:
`thread/list` (live and archived), `thread/read` with turns, and the conversation its Responses
request carried after `thread/resume` and one more turn. Parley must answer the same. The
reference never runs here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from support.app_server import AppServerProcess, SpawnAppServer
from support.history import (
    RECORDED,
    conversation,
    copy_history,
    differences,
    normalize,
    read_everything,
)
from support.mock_responses import MockResponsesServer
from support.sse import create_final_assistant_message_sse_response
from support.thread_harness import create_config_toml, run_turn

SCENARIOS = sorted(p.name for p in RECORDED.iterdir() if (p / "expected.json").is_file())


def expected_of(scenario: str) -> dict[str, Any]:
    answers: dict[str, Any] = json.loads((RECORDED / scenario / "expected.json").read_text())
    return answers


def seed(scenario: str, codex_home: Path, expected: dict[str, Any]) -> None:
    """The scenario's history in `codex_home`, each file's modification time as it was when
    the reference answered (`updatedAt` is the file's mtime; a checkout resets it)."""
    copy_history(RECORDED / scenario, codex_home)
    for thread in [*expected["list"]["data"], *expected["archived"]["data"]]:
        path = Path(thread["path"].replace("$CODEX_HOME", str(codex_home)))
        os.utime(path, (thread["updatedAt"], thread["updatedAt"]))


async def start_parley(
    scenario: str, spawn: SpawnAppServer, codex_home: Path, api_uri: str
) -> tuple[AppServerProcess, dict[str, Any]]:
    """Parley on a home holding the scenario's history; and what the reference answered."""
    expected = expected_of(scenario)
    seed(scenario, codex_home, expected)
    create_config_toml(codex_home, api_uri)
    mcp = await spawn(codex_home=codex_home)
    await mcp.initialize()
    return mcp, expected


def test_every_scenario_was_recorded() -> None:
    assert {
        "plain",
        "shell",
        "extended",
        "interrupted",
        "named",
        "archived",
        "rollback",
        "fork",
        "compacted",
        "delegated",
    } <= set(SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_parley_lists_and_reads_recorded_threads_as_the_reference_does(
    scenario: str, spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    mcp, expected = await start_parley(scenario, spawn_app_server, codex_home, "http://127.0.0.1:9")
    actual = normalize(await read_everything(mcp), codex_home)

    assert differences(expected["list"], actual["list"], "list") == []
    assert differences(expected["archived"], actual["archived"], "archived") == []
    for thread_id, wanted in expected["reads"].items():
        got = actual["reads"][thread_id]
        if "error" in wanted:
            # The reference reads an archived thread only from its private SQLite state, which
            # a copied home lacks; Parley reads it from the file, as listed.
            [listed] = [t for t in expected["archived"]["data"] if t["id"] == thread_id]
            assert got == {"thread": listed}
        else:
            assert differences(wanted, got, f"read {thread_id}") == []


RESUMABLE = [s for s in SCENARIOS if expected_of(s)["resumed_conversation"]]


@pytest.mark.parametrize("scenario", RESUMABLE)
async def test_parley_resumes_recorded_threads_with_the_history_the_reference_sends(
    scenario: str, spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    threads = expected_of(scenario)["resumed_conversation"]
    answers = [create_final_assistant_message_sse_response("Everything so far.") for _ in threads]
    async with MockResponsesServer(answers) as api:
        mcp, expected = await start_parley(scenario, spawn_app_server, codex_home, api.uri)
        for thread_id, wanted in threads.items():
            before = len(expected["reads"][thread_id]["thread"]["turns"])
            await mcp.request("thread/resume", {"threadId": thread_id})
            await run_turn(mcp, thread_id, expected["follow_up"])
            sent = conversation(api.responses_requests()[-1])
            assert differences(wanted, sent, f"input of {thread_id}") == []
            read = await mcp.request("thread/read", {"threadId": thread_id, "includeTurns": True})
            assert len(read["thread"]["turns"]) == before + 1
