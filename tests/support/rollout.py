"""Seeded rollout files, as upstream's test harness writes them (`common/rollout.rs`).

`create_fake_rollout` writes a minimal Codex rollout (a `session_meta` line, the user's message as
a `response_item` and as a `user_message` event) under `CODEX_HOME/sessions/YYYY/MM/DD/` and sets
the file's modification time to the meta timestamp, byte-for-byte the lines upstream writes
(serde_json key order, no spaces).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from pathlib import Path
from typing import Any


def rollout_path(codex_home: Path, filename_ts: str, thread_id: str) -> Path:
    year, month, day = filename_ts[0:4], filename_ts[5:7], filename_ts[8:10]
    return codex_home / "sessions" / year / month / day / f"rollout-{filename_ts}-{thread_id}.jsonl"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def session_meta_payload(
    thread_id: str,
    meta_rfc3339: str,
    model_provider: str | None,
    git_info: dict[str, Any] | None,
    source: Any,
    cwd: str = "/",
) -> dict[str, Any]:
    """`SessionMetaLine` as serde serialises it (skipped `None`s left out, others null)."""
    payload: dict[str, Any] = {
        "id": thread_id,
        "timestamp": meta_rfc3339,
        "cwd": cwd,
        "originator": "codex",
        "cli_version": "0.0.0",
        "source": source,
        "model_provider": model_provider,
        "base_instructions": None,
    }
    if git_info is not None:
        payload["git"] = {k: v for k, v in git_info.items() if v is not None}
    return payload


def set_mtime(path: Path, rfc3339: str) -> None:
    when = dt.datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))


def create_fake_rollout_with_source(
    codex_home: Path,
    filename_ts: str,
    meta_rfc3339: str,
    preview: str,
    model_provider: str | None,
    git_info: dict[str, Any] | None,
    source: Any,
) -> str:
    thread_id = str(uuid.uuid4())
    path = rollout_path(codex_home, filename_ts, thread_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        {
            "timestamp": meta_rfc3339,
            "type": "session_meta",
            "payload": session_meta_payload(
                thread_id, meta_rfc3339, model_provider, git_info, source
            ),
        },
        {
            "timestamp": meta_rfc3339,
            "type": "response_item",
            "payload": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": preview}],
            },
        },
        {
            "timestamp": meta_rfc3339,
            "type": "event_msg",
            "payload": {"type": "user_message", "message": preview, "kind": "plain"},
        },
    ]
    path.write_text("".join(_dumps(line) + "\n" for line in lines))
    set_mtime(path, meta_rfc3339)
    return thread_id


def create_fake_rollout(
    codex_home: Path,
    filename_ts: str,
    meta_rfc3339: str,
    preview: str,
    model_provider: str | None,
    git_info: dict[str, Any] | None = None,
) -> str:
    return create_fake_rollout_with_source(
        codex_home, filename_ts, meta_rfc3339, preview, model_provider, git_info, "cli"
    )


def create_fake_rollout_with_text_elements(
    codex_home: Path,
    filename_ts: str,
    meta_rfc3339: str,
    preview: str,
    text_elements: list[dict[str, Any]],
    model_provider: str | None,
    git_info: dict[str, Any] | None = None,
) -> str:
    """As upstream, this one leaves the file's modification time alone."""
    thread_id = str(uuid.uuid4())
    path = rollout_path(codex_home, filename_ts, thread_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        {
            "timestamp": meta_rfc3339,
            "type": "session_meta",
            "payload": session_meta_payload(
                thread_id, meta_rfc3339, model_provider, git_info, "cli"
            ),
        },
        {
            "timestamp": meta_rfc3339,
            "type": "response_item",
            "payload": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": preview}],
            },
        },
        {
            "timestamp": meta_rfc3339,
            "type": "event_msg",
            "payload": {
                "type": "user_message",
                "message": preview,
                "text_elements": text_elements,
                "local_images": [],
            },
        },
    ]
    path.write_text("".join(_dumps(line) + "\n" for line in lines))
    return thread_id


def find_thread_path_by_id_str(codex_home: Path, thread_id: str) -> Path | None:
    for path in (codex_home / "sessions").glob(f"*/*/*/rollout-*-{thread_id}.jsonl"):
        return path
    return None


def find_archived_thread_path_by_id_str(codex_home: Path, thread_id: str) -> Path | None:
    for path in (codex_home / "archived_sessions").glob(f"rollout-*-{thread_id}.jsonl"):
        return path
    return None


def read_rollout_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
