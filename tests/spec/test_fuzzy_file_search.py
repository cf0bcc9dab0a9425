"""pytest twins of upstream `app-server/tests/suite/fuzzy_file_search.rs` (12 tests, all here).

Upstream names already begin with `test_`, so each twin is `test_<upstream name>`.
Each twin starts the real `parley app-server` over stdio with upstream's `config.toml`, creates
the same files in a temporary root and sends the same `fuzzyFileSearch*` traffic with the same
assertions (including the exact scores and highlight indices). Upstream's helpers keep their
names below.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.app_server import AppServerProcess, ReadTimeout, SpawnAppServer

DEFAULT_READ_TIMEOUT = 10.0
SHORT_READ_TIMEOUT = 0.5
STOP_GRACE_PERIOD = 0.25
SESSION_UPDATED_METHOD = "fuzzyFileSearch/sessionUpdated"
SESSION_COMPLETED_METHOD = "fuzzyFileSearch/sessionCompleted"
Json = Any


class FileExpectation(enum.Enum):
    ANY = "any"
    EMPTY = "empty"
    NON_EMPTY = "non-empty"


def create_config_toml(codex_home: Path) -> None:
    (codex_home / "config.toml").write_text(
        """
model = "mock-model"
approval_policy = "never"
sandbox_mode = "danger-full-access"

[features]
shell_snapshot = false
"""
    )


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    """A search root separate from CODEX_HOME (upstream's second `TempDir`)."""
    directory = tmp_path / "root"
    directory.mkdir()
    yield directory


async def initialized_mcp(spawn_app_server: SpawnAppServer, codex_home: Path) -> AppServerProcess:
    create_config_toml(codex_home)
    mcp = await spawn_app_server(codex_home=codex_home)
    await asyncio.wait_for(mcp.initialize(), DEFAULT_READ_TIMEOUT)
    return mcp


async def send_fuzzy_file_search_request(
    mcp: AppServerProcess, query: str, roots: list[str], cancellation_token: str | None
) -> int:
    params: Json = {"query": query, "roots": roots}
    if cancellation_token is not None:
        params["cancellationToken"] = cancellation_token
    return await mcp.send_request("fuzzyFileSearch", params)


async def send_session_start_request(
    mcp: AppServerProcess, session_id: str, roots: list[str]
) -> int:
    return await mcp.send_request(
        "fuzzyFileSearch/sessionStart", {"sessionId": session_id, "roots": roots}
    )


async def send_session_update_request(mcp: AppServerProcess, session_id: str, query: str) -> int:
    return await mcp.send_request(
        "fuzzyFileSearch/sessionUpdate", {"sessionId": session_id, "query": query}
    )


async def start_fuzzy_file_search_session(
    mcp: AppServerProcess, session_id: str, roots: list[str]
) -> Json:
    request_id = await send_session_start_request(mcp, session_id, roots)
    return await mcp.read_stream_until_response_message(request_id)


async def update_fuzzy_file_search_session(
    mcp: AppServerProcess, session_id: str, query: str
) -> Json:
    request_id = await send_session_update_request(mcp, session_id, query)
    return await mcp.read_stream_until_response_message(request_id)


async def stop_fuzzy_file_search_session(mcp: AppServerProcess, session_id: str) -> Json:
    request_id = await mcp.send_request("fuzzyFileSearch/sessionStop", {"sessionId": session_id})
    return await mcp.read_stream_until_response_message(request_id)


async def wait_for_session_updated(
    mcp: AppServerProcess, session_id: str, query: str, file_expectation: FileExpectation
) -> Json:
    description = f"session update for sessionId={session_id}, query={query}"

    def matches(notification: Json) -> bool:
        if notification.get("method") != SESSION_UPDATED_METHOD:
            return False
        payload = notification.get("params")
        if not isinstance(payload, dict):
            return False
        files = payload.get("files")
        if not isinstance(files, list):
            return False
        files_match = {
            FileExpectation.ANY: True,
            FileExpectation.EMPTY: not files,
            FileExpectation.NON_EMPTY: bool(files),
        }[file_expectation]
        return (
            payload.get("sessionId") == session_id and payload.get("query") == query and files_match
        )

    notification = await mcp.read_stream_until_matching_notification(
        description, matches, DEFAULT_READ_TIMEOUT
    )
    return notification["params"]


async def wait_for_session_completed(mcp: AppServerProcess, session_id: str) -> Json:
    def matches(notification: Json) -> bool:
        payload = notification.get("params")
        return (
            notification.get("method") == SESSION_COMPLETED_METHOD
            and isinstance(payload, dict)
            and payload.get("sessionId") == session_id
        )

    notification = await mcp.read_stream_until_matching_notification(
        f"session completion for sessionId={session_id}", matches, DEFAULT_READ_TIMEOUT
    )
    return notification["params"]


async def assert_update_request_fails_for_missing_session(
    mcp: AppServerProcess, session_id: str, query: str
) -> None:
    request_id = await send_session_update_request(mcp, session_id, query)
    err = await mcp.read_stream_until_error_message(request_id, DEFAULT_READ_TIMEOUT)
    assert err["error"]["code"] == -32600
    assert err["error"]["message"] == f"fuzzy file search session not found: {session_id}"


async def assert_no_session_updates_for(
    mcp: AppServerProcess, session_id: str, grace_period: float, duration: float
) -> None:
    grace_deadline = time.monotonic() + grace_period
    while (remaining := grace_deadline - time.monotonic()) > 0:
        try:
            await mcp.read_stream_until_notification_message(SESSION_UPDATED_METHOD, remaining)
        except ReadTimeout:
            break
    deadline = time.monotonic() + duration
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            notification = await mcp.read_stream_until_notification_message(
                SESSION_UPDATED_METHOD, remaining
            )
        except ReadTimeout:
            return
        payload = notification["params"]
        if payload["sessionId"] == session_id:
            raise AssertionError(f"received unexpected session update after stop: {payload!r}")


async def test_test_fuzzy_file_search_sorts_and_includes_indices(
    spawn_app_server: SpawnAppServer, codex_home: Path, root: Path
) -> None:
    """Matches come best first with the reference's scores and highlight indices."""
    create_config_toml(codex_home)
    for name in ("abc", "abcde", "abexy", "zzz.txt"):
        (root / name).write_text("x")
    sub_dir = root / "sub"
    sub_dir.mkdir()
    sub_abce_path = sub_dir / "abce"
    sub_abce_path.write_text("x")
    sub_abce_rel = str(sub_abce_path.relative_to(root))

    mcp = await spawn_app_server(codex_home=codex_home)
    await asyncio.wait_for(mcp.initialize(), DEFAULT_READ_TIMEOUT)
    root_path = str(root)
    request_id = await send_fuzzy_file_search_request(mcp, "abe", [root_path], None)
    resp = await mcp.read_stream_until_response_message(request_id, DEFAULT_READ_TIMEOUT)

    expected_score = 72
    assert resp["result"] == {
        "files": [
            {
                "root": root_path,
                "path": "abexy",
                "match_type": "file",
                "file_name": "abexy",
                "score": 84,
                "indices": [0, 1, 2],
            },
            {
                "root": root_path,
                "path": sub_abce_rel,
                "match_type": "file",
                "file_name": "abce",
                "score": expected_score,
                "indices": [4, 5, 7],
            },
            {
                "root": root_path,
                "path": "abcde",
                "match_type": "file",
                "file_name": "abcde",
                "score": 71,
                "indices": [0, 1, 4],
            },
        ]
    }


async def test_test_fuzzy_file_search_accepts_cancellation_token(
    spawn_app_server: SpawnAppServer, codex_home: Path, root: Path
) -> None:
    """A search that names a cancellation token still answers with its matches."""
    create_config_toml(codex_home)
    (root / "alpha.txt").write_text("contents")
    mcp = await spawn_app_server(codex_home=codex_home)
    await asyncio.wait_for(mcp.initialize(), DEFAULT_READ_TIMEOUT)
    root_path = str(root)
    request_id = await send_fuzzy_file_search_request(mcp, "alp", [root_path], None)
    request_id_2 = await send_fuzzy_file_search_request(mcp, "alp", [root_path], str(request_id))
    resp = await mcp.read_stream_until_response_message(request_id_2, DEFAULT_READ_TIMEOUT)
    files = resp["result"]["files"]
    assert len(files) == 1
    assert files[0]["root"] == root_path
    assert files[0]["path"] == "alpha.txt"


async def test_test_fuzzy_file_search_session_streams_updates(
    spawn_app_server: SpawnAppServer, codex_home: Path, root: Path
) -> None:
    """A session reports the query's matches, then that the query is complete."""
    (root / "alpha.txt").write_text("contents")
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    root_path = str(root)
    session_id = "session-1"
    await start_fuzzy_file_search_session(mcp, session_id, [root_path])
    await update_fuzzy_file_search_session(mcp, session_id, "alp")
    payload = await wait_for_session_updated(mcp, session_id, "alp", FileExpectation.NON_EMPTY)
    assert len(payload["files"]) == 1
    assert payload["files"][0]["root"] == root_path
    assert payload["files"][0]["path"] == "alpha.txt"
    completed = await wait_for_session_completed(mcp, session_id)
    assert completed["sessionId"] == session_id
    await stop_fuzzy_file_search_session(mcp, session_id)


async def test_test_fuzzy_file_search_session_update_is_case_insensitive(
    spawn_app_server: SpawnAppServer, codex_home: Path, root: Path
) -> None:
    """Upper-case queries match lower-case names."""
    (root / "alpha.txt").write_text("contents")
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    root_path = str(root)
    session_id = "session-case-insensitive"
    await start_fuzzy_file_search_session(mcp, session_id, [root_path])
    await update_fuzzy_file_search_session(mcp, session_id, "ALP")
    payload = await wait_for_session_updated(mcp, session_id, "ALP", FileExpectation.NON_EMPTY)
    assert len(payload["files"]) == 1
    assert payload["files"][0]["root"] == root_path
    assert payload["files"][0]["path"] == "alpha.txt"


async def test_test_fuzzy_file_search_session_no_updates_after_complete_until_query_edited(
    spawn_app_server: SpawnAppServer, codex_home: Path, root: Path
) -> None:
    """A completed query stays quiet until the query changes."""
    (root / "alpha.txt").write_text("contents")
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    session_id = "session-complete-invariant"
    await start_fuzzy_file_search_session(mcp, session_id, [str(root)])
    await update_fuzzy_file_search_session(mcp, session_id, "alp")
    await wait_for_session_updated(mcp, session_id, "alp", FileExpectation.NON_EMPTY)
    await wait_for_session_completed(mcp, session_id)
    await assert_no_session_updates_for(mcp, session_id, STOP_GRACE_PERIOD, SHORT_READ_TIMEOUT)
    await update_fuzzy_file_search_session(mcp, session_id, "alpha")
    await wait_for_session_updated(mcp, session_id, "alpha", FileExpectation.NON_EMPTY)


async def test_test_fuzzy_file_search_session_update_before_start_errors(
    spawn_app_server: SpawnAppServer, codex_home: Path
) -> None:
    """Updating a session that was never started is refused."""
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    await assert_update_request_fails_for_missing_session(mcp, "missing", "alp")


async def test_test_fuzzy_file_search_session_update_works_without_waiting_for_start_response(
    spawn_app_server: SpawnAppServer, codex_home: Path, root: Path
) -> None:
    """A client may send the first query right behind sessionStart."""
    (root / "alpha.txt").write_text("contents")
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    root_path = str(root)
    session_id = "session-no-wait"
    start_request_id = await send_session_start_request(mcp, session_id, [root_path])
    update_request_id = await send_session_update_request(mcp, session_id, "alp")
    await mcp.read_stream_until_response_message(update_request_id, DEFAULT_READ_TIMEOUT)
    await mcp.read_stream_until_response_message(start_request_id, DEFAULT_READ_TIMEOUT)
    payload = await wait_for_session_updated(mcp, session_id, "alp", FileExpectation.NON_EMPTY)
    assert len(payload["files"]) == 1
    assert payload["files"][0]["root"] == root_path
    assert payload["files"][0]["path"] == "alpha.txt"


async def test_test_fuzzy_file_search_session_multiple_query_updates_work(
    spawn_app_server: SpawnAppServer, codex_home: Path, root: Path
) -> None:
    """Each new query gets its own updates and completion, empty ones included."""
    (root / "alpha.txt").write_text("contents")
    (root / "alphabet.txt").write_text("contents")
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    root_path = str(root)
    session_id = "session-multi-update"
    await start_fuzzy_file_search_session(mcp, session_id, [root_path])
    await update_fuzzy_file_search_session(mcp, session_id, "alp")
    alp_payload = await wait_for_session_updated(mcp, session_id, "alp", FileExpectation.NON_EMPTY)
    assert all(file["root"] == root_path for file in alp_payload["files"])
    await wait_for_session_completed(mcp, session_id)

    await update_fuzzy_file_search_session(mcp, session_id, "zzzz")
    zzzz_payload = await wait_for_session_updated(mcp, session_id, "zzzz", FileExpectation.ANY)
    assert zzzz_payload["query"] == "zzzz"
    assert zzzz_payload["files"] == []
    await wait_for_session_completed(mcp, session_id)


async def test_test_fuzzy_file_search_session_update_after_stop_fails(
    spawn_app_server: SpawnAppServer, codex_home: Path, root: Path
) -> None:
    """A stopped session is gone."""
    (root / "alpha.txt").write_text("contents")
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    session_id = "session-stop-fail"
    await start_fuzzy_file_search_session(mcp, session_id, [str(root)])
    await stop_fuzzy_file_search_session(mcp, session_id)
    await assert_update_request_fails_for_missing_session(mcp, session_id, "alp")


async def test_test_fuzzy_file_search_session_stops_sending_updates_after_stop(
    spawn_app_server: SpawnAppServer, codex_home: Path, root: Path
) -> None:
    """After sessionStop no more updates arrive for that session."""
    for i in range(512):
        (root / f"file-{i:04}.txt").write_text("contents")
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    session_id = "session-stop-no-updates"
    await start_fuzzy_file_search_session(mcp, session_id, [str(root)])
    await update_fuzzy_file_search_session(mcp, session_id, "file-")
    await wait_for_session_updated(mcp, session_id, "file-", FileExpectation.NON_EMPTY)
    await stop_fuzzy_file_search_session(mcp, session_id)
    await assert_no_session_updates_for(mcp, session_id, STOP_GRACE_PERIOD, SHORT_READ_TIMEOUT)


async def test_test_fuzzy_file_search_two_sessions_are_independent(
    spawn_app_server: SpawnAppServer, codex_home: Path, tmp_path: Path
) -> None:
    """Two sessions search their own roots with their own queries."""
    root_a = tmp_path / "root-a"
    root_b = tmp_path / "root-b"
    root_a.mkdir()
    root_b.mkdir()
    (root_a / "alpha.txt").write_text("contents")
    (root_b / "beta.txt").write_text("contents")
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    session_a, session_b = "session-a", "session-b"
    await start_fuzzy_file_search_session(mcp, session_a, [str(root_a)])
    await start_fuzzy_file_search_session(mcp, session_b, [str(root_b)])

    await update_fuzzy_file_search_session(mcp, session_a, "alp")
    update_a = await wait_for_session_updated(mcp, session_a, "alp", FileExpectation.NON_EMPTY)
    assert len(update_a["files"]) == 1
    assert update_a["files"][0]["root"] == str(root_a)
    assert update_a["files"][0]["path"] == "alpha.txt"

    await update_fuzzy_file_search_session(mcp, session_b, "bet")
    update_b = await wait_for_session_updated(mcp, session_b, "bet", FileExpectation.NON_EMPTY)
    assert len(update_b["files"]) == 1
    assert update_b["files"][0]["root"] == str(root_b)
    assert update_b["files"][0]["path"] == "beta.txt"


async def test_test_fuzzy_file_search_query_cleared_sends_blank_snapshot(
    spawn_app_server: SpawnAppServer, codex_home: Path, root: Path
) -> None:
    """Clearing the query sends an update with no files."""
    (root / "alpha.txt").write_text("contents")
    mcp = await initialized_mcp(spawn_app_server, codex_home)
    session_id = "session-clear-query"
    await start_fuzzy_file_search_session(mcp, session_id, [str(root)])
    await update_fuzzy_file_search_session(mcp, session_id, "alp")
    await wait_for_session_updated(mcp, session_id, "alp", FileExpectation.NON_EMPTY)
    await update_fuzzy_file_search_session(mcp, session_id, "")
    payload = await wait_for_session_updated(mcp, session_id, "", FileExpectation.EMPTY)
    assert payload["files"] == []
