"""The rollout format, values in and values out: reading reference-style files (checked in under
`tests/data/rollouts/`), rebuilding their turns and model history, skipping what cannot be read,
and writing lines the reference reads back the same way.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
import pytest

from parley.threads import rollout
from parley.threads.index import Cursor, InvalidCursor, ThreadIndex
from parley.threads.record import ThreadRecord, load_rollout
from parley.threads.store import ThreadStore, parse_file_name, summarize

DATA = Path(__file__).resolve().parent.parent / "data" / "rollouts"
CLI = DATA / "rollout-2025-10-02T10-14-07-0199a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b.jsonl"
VSCODE = DATA / "rollout-2025-10-06T17-00-00-0199b7c1-0a1b-7c2d-8e3f-4a5b6c7d8e9f.jsonl"
TORN = DATA / "rollout-2025-11-01T08-00-00-0199c0de-0000-7000-8000-0000000000aa.jsonl"


def test_every_readable_line_re_encodes_to_the_same_bytes() -> None:
    """Parley writes a line exactly as the reference would (same keys, order, spacing), so a
    line read and written back is byte-for-byte the original."""
    for path in (CLI, VSCODE):
        raw_lines = path.read_bytes().splitlines()
        parsed = rollout.read_rollout(path)
        assert len(parsed) == len(raw_lines)
        assert [line.encode() for line in parsed] == raw_lines


def test_a_cli_session_rebuilds_as_the_reference_shows_it() -> None:
    """Turn ids come from `task_started`, items are numbered `item-N`, an aborted turn reads as
    interrupted, and instructions / tool calls (response items) are not thread items."""
    turns = rollout.build_turns(rollout.read_rollout(CLI))
    assert [t["id"] for t in turns] == [
        "0199a2b4-6001-7000-8000-000000000001",
        "0199a2b4-6002-7000-8000-000000000002",
    ]
    first, second = turns
    assert first["status"] == "completed"
    assert (first["startedAt"], first["completedAt"], first["durationMs"]) == (
        1759396447,
        1759396455,
        8372,
    )
    assert [item["type"] for item in first["items"]] == ["userMessage", "reasoning", "agentMessage"]
    assert [item["id"] for item in first["items"]] == ["item-1", "item-2", "item-3"]
    assert first["items"][0]["content"] == [
        {"type": "text", "text": "Why does the tokenizer test fail?", "text_elements": []}
    ]
    assert first["items"][1]["summary"] == ["**Running the failing test**"]
    assert second["status"] == "interrupted"
    assert second["durationMs"] == 4249


def test_a_resumed_cli_session_continues_from_its_whole_model_history() -> None:
    """Everything the model saw (instructions, messages, reasoning, calls and outputs) is the
    history the next request carries."""
    history = rollout.model_history(rollout.read_rollout(CLI))
    assert [item["type"] for item in history] == [
        "message",
        "message",
        "message",
        "reasoning",
        "function_call",
        "function_call_output",
        "message",
        "message",
    ]
    assert history[4]["call_id"] == history[5]["call_id"] == "call_8Qx1"
    assert history[-1]["content"][0]["text"] == "Fix it and run the whole suite."


def test_compaction_and_rollback_shape_both_turns_and_history() -> None:
    """A compaction replaces the model history before it (and shows as an item); a rollback
    drops the last turn from both."""
    lines = rollout.read_rollout(VSCODE)
    turns = rollout.build_turns(lines)
    assert turns[0]["id"] == "0199b7c1-1000-7000-8000-00000000000a"
    assert turns[-1]["id"] == "0199b7c1-1000-7000-8000-00000000000b"
    assert any(i["type"] == "contextCompaction" for t in turns for i in t["items"])
    history = rollout.model_history(lines)
    texts = [part["text"] for item in history for part in item["content"]]
    assert texts == [
        "List the services.",
        "Summary: the user asked for the service list (api, worker, scheduler).",
        "Which one owns cron?",
        "The scheduler.",
    ]


def test_a_torn_last_line_and_a_foreign_line_are_skipped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A newer writer's line type and a line cut by a crash are left out, with a warning each;
    the rest of the thread reads normally."""
    with caplog.at_level(logging.WARNING):
        lines = rollout.read_rollout(TORN)
    assert [line.type for line in lines] == ["session_meta", "event_msg", "event_msg"]
    assert sum("skipping" in r.getMessage() for r in caplog.records) == 2
    turns = rollout.build_turns(lines)
    assert [i["type"] for i in turns[0]["items"]] == ["userMessage", "agentMessage"]


def test_listing_summaries_of_reference_files(tmp_path: Path) -> None:
    """A listing reads each file's head: id, preview, source, provider, git, times."""
    store = ThreadStore(tmp_path)
    summary = summarize(CLI, archived=False)
    assert summary is not None
    wire = summary.wire("Lexer", {"type": "notLoaded"})
    assert wire["id"] == "0199a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b"
    assert wire["preview"] == "Why does the tokenizer test fail?"
    assert wire["source"] == "cli"
    assert wire["gitInfo"] == {
        "sha": "3f9c2d1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e",
        "branch": "main",
        "originUrl": "git@github.com:ada/lexer.git",
    }
    assert wire["createdAt"] == 1759396447
    exec_summary = summarize(TORN, archived=False)
    assert exec_summary is not None and exec_summary.wire(None, {})["source"] == "exec"
    assert store.names() == {}


def test_file_names_parse_as_the_reference_parses_them() -> None:
    parsed = parse_file_name(CLI.name)
    assert parsed is not None
    assert parsed[1] == "0199a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b"
    assert parse_file_name("rollout-2025-10-02T10-14-07-not-a-uuid.jsonl") is None


def _write_parley_thread(path: Path) -> ThreadRecord:
    """A thread as Parley records it: meta (held until the first turn), then one turn."""
    record = ThreadRecord(path, materialized=False)
    meta = rollout.SessionMeta(
        id="0199d000-0000-7000-8000-000000000001",
        timestamp="2025-12-01T10:00:00.000Z",
        cwd="/work",
        originator="codex_vscode",
        cli_version="0.120.0",
        model_provider="openai",
    )
    record.append(rollout.session_meta_line(meta))
    assert not path.exists()
    record.materialize()
    turn = "0199d000-0000-7000-8000-0000000000t1"
    record.append(
        rollout.task_started(turn, 1764583200),
        rollout.turn_context_line(
            rollout.TurnContext(turn, "/work", "never", "read-only", False, "gpt-5.1")
        ),
        rollout.response_item_line(
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
        ),
        *rollout.events_for_item(
            {"type": "userMessage", "id": "u", "content": [{"type": "text", "text": "hi"}]},
            turn,
            extended=False,
        ),
        *rollout.events_for_item(
            {"type": "agentMessage", "id": "a", "text": "hello", "phase": None},
            turn,
            extended=False,
        ),
        rollout.task_complete(turn, "hello", 1764583201, 1200),
    )
    return record


def test_a_thread_parley_writes_reads_back_as_written(tmp_path: Path) -> None:
    """Parley's file: one JSON object per line with `timestamp`, `type`, `payload`; the session
    meta first; the turn rebuilt from it equals what Parley showed live."""
    path = tmp_path / "rollout-2025-12-01T10-00-00-0199d000-0000-7000-8000-000000000001.jsonl"
    record = _write_parley_thread(path)
    raw = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert all(set(line) == {"timestamp", "type", "payload"} for line in raw)
    assert [line["type"] for line in raw][:3] == ["session_meta", "event_msg", "turn_context"]
    assert raw[0]["payload"]["id"] == "0199d000-0000-7000-8000-000000000001"
    assert raw[1]["payload"]["type"] == "task_started"
    stored = load_rollout(path)
    assert rollout.build_turns(stored.lines) == record.builder.snapshot()
    summary = summarize(path, archived=False)
    assert summary is not None and summary.preview == "hi"
    assert stored.latest_turn_context is not None
    assert stored.latest_turn_context["sandbox_policy"] == {"type": "read-only"}


def test_git_metadata_is_rewritten_in_place(tmp_path: Path) -> None:
    """A metadata update lands in the session meta (where the reference reads it), keeps the
    file's modification time, and leaves every other line alone."""
    path = tmp_path / "rollout-2025-12-01T10-00-00-0199d000-0000-7000-8000-000000000001.jsonl"
    record = _write_parley_thread(path)
    before = path.read_bytes().splitlines()
    mtime = path.stat().st_mtime_ns
    record.set_git({"branch": "feature/x"})
    after = path.read_bytes().splitlines()
    assert after[1:] == before[1:]
    assert orjson.loads(after[0])["payload"]["git"] == {"branch": "feature/x"}
    assert path.stat().st_mtime_ns == mtime


def test_cursors_round_trip_and_reject_garbage() -> None:
    cursor = Cursor(1759396447, "0199a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b")
    assert Cursor.parse(cursor.encode()) == cursor
    assert Cursor.parse("2025-10-02T09-14-07|0199a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b").ts == 1759396447
    for bad in ("not-a-cursor", "2025-10-02T09:14:07Z|nope", "|"):
        with pytest.raises(InvalidCursor):
            Cursor.parse(bad)


def test_the_index_is_rebuilt_from_the_files_when_missing_or_corrupt(tmp_path: Path) -> None:
    """Deleting or corrupting the index loses nothing: it is rebuilt from the rollouts."""
    store = ThreadStore(tmp_path)
    day = tmp_path / "sessions" / "2025" / "10" / "02"
    day.mkdir(parents=True)
    (day / CLI.name).write_bytes(CLI.read_bytes())
    index = ThreadIndex(store)

    def ids() -> list[str]:
        page, _ = index.page(
            archived=False, sort_key="created_at", cursor=None, limit=10, accept=lambda s: True
        )
        return [s.id for s in page]

    assert ids() == ["0199a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b"]
    index.path.write_bytes(b"this is not a database")
    assert ids() == ["0199a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b"]
    index.path.unlink()
    assert ids() == ["0199a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b"]
    (day / CLI.name).unlink()
    assert ids() == []


def test_a_locked_index_still_lists_from_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holding the index locked does not fail or empty a listing, and the index
    file is kept (a lock is not corruption)."""
    import sqlite3

    from parley.threads import index as index_module

    monkeypatch.setattr(index_module, "LOCK_TIMEOUT_S", 0.05)
    store = ThreadStore(tmp_path)
    day = tmp_path / "sessions" / "2025" / "10" / "02"
    day.mkdir(parents=True)
    (day / CLI.name).write_bytes(CLI.read_bytes())
    index = ThreadIndex(store)
    index.refresh()
    (day / TORN.name).write_bytes(TORN.read_bytes())  # a change to write while it is locked
    holder = sqlite3.connect(index.path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        page, _ = index.page(
            archived=False, sort_key="created_at", cursor=None, limit=10, accept=lambda s: True
        )
    finally:
        holder.rollback()
        holder.close()
    assert [s.id for s in page] == [
        "0199c0de-0000-7000-8000-0000000000aa",
        "0199a2b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b",
    ]
    assert index.path.exists()


def test_commands_are_recorded_only_in_extended_history() -> None:
    """As the reference: a command execution is kept in the rollout (`exec_command_end`) only
    for threads that asked for extended history, and then reads back as the same item."""
    item = {
        "type": "commandExecution",
        "id": "call_1",
        "command": "ls -la",
        "cwd": "/work",
        "status": "completed",
        "aggregatedOutput": "total 0\n",
        "exitCode": 0,
        "durationMs": 1234,
    }
    assert rollout.events_for_item(item, "t1", extended=False) == []
    lines = [rollout.task_started("t1", 1), *rollout.events_for_item(item, "t1", extended=True)]
    (turn,) = rollout.build_turns(lines)
    (rebuilt,) = turn["items"]
    assert rebuilt["type"] == "commandExecution"
    assert (rebuilt["id"], rebuilt["command"], rebuilt["cwd"]) == ("call_1", "ls -la", "/work")
    assert (rebuilt["exitCode"], rebuilt["durationMs"]) == (0, 1234)
    assert rebuilt["aggregatedOutput"] == "total 0\n"


def test_appending_after_a_torn_line_keeps_the_new_line_readable(tmp_path: Path) -> None:
    """A thread resumed after a crash mid-write appends on a fresh line: the torn fragment stays
    a single skipped line and what is written now reads back."""
    path = tmp_path / TORN.name
    path.write_bytes(TORN.read_bytes())
    record = ThreadRecord(path, materialized=True, lines=rollout.read_rollout(path))
    record.append(rollout.event_line("agent_message", message="after the crash", phase=None))
    lines = rollout.read_rollout(path)
    assert lines[-1].payload["message"] == "after the crash"
    assert len(lines) == 4


def test_a_command_keeps_its_argv_and_actions_through_the_rollout() -> None:
    """The displayed command is stored as its argv and read back shell-quoted, and its actions
    as the reference's `parsed_cmd` (snake_case), as the Codex CLI stores and shows them."""
    item = {
        "type": "commandExecution",
        "id": "call_2",
        "command": "/bin/bash -lc 'cat README.md'",
        "cwd": "/work",
        "status": "completed",
        "commandActions": [
            {"type": "read", "command": "cat README.md", "name": "README.md", "path": "README.md"}
        ],
        "aggregatedOutput": "hi\n",
        "exitCode": 0,
        "durationMs": 5,
    }
    [line] = rollout.events_for_item(item, "t1", extended=True)
    assert line.payload["command"] == ["/bin/bash", "-lc", "cat README.md"]
    assert line.payload["parsed_cmd"] == [
        {"type": "read", "cmd": "cat README.md", "name": "README.md", "path": "README.md"}
    ]
    (turn,) = rollout.build_turns([rollout.task_started("t1", 1), line])
    (rebuilt,) = turn["items"]
    assert rebuilt["command"] == item["command"]
    assert rebuilt["commandActions"] == item["commandActions"]


def test_recorded_context_messages_are_not_sent_again() -> None:
    """The permissions and environment messages in a history are context, not conversation; a
    mode's developer text, a `<turn_aborted>` note and ordinary messages are conversation."""

    def message(role: str, *texts: str) -> dict[str, Any]:
        content = [{"type": "input_text", "text": text} for text in texts]
        return {"type": "message", "role": role, "content": content}

    permissions = message(
        "developer",
        "<permissions instructions>\nx\n</permissions instructions>",
        "<skills_instructions>\n</skills_instructions>",
    )
    environment = message("user", "<environment_context>\n</environment_context>")
    mode = message("developer", "<collaboration_mode>plan</collaboration_mode>")
    aborted = message("user", rollout.TURN_ABORTED_MARKER)
    said = message("user", "hi")
    call = {"type": "function_call", "name": "shell_command", "call_id": "c", "arguments": "{}"}
    history = [permissions, environment, mode, said, call, aborted]
    assert rollout.without_context(history) == [mode, said, call, aborted]


def test_a_user_message_event_always_lists_its_images() -> None:
    item = {"type": "userMessage", "content": [{"type": "text", "text": "hi", "text_elements": []}]}
    [line] = rollout.events_for_item(item, "t1", extended=False)
    assert line.payload == {
        "type": "user_message",
        "message": "hi",
        "images": [],
        "local_images": [],
        "text_elements": [],
    }
