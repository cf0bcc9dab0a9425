"""Shared steps for history shared with the Codex CLI: comparing what two app-servers say about
the same rollout files, and the recorded reference rollouts under `tests/data/rollouts-recorded/`.

Used by `scripts/history_round_trip.py` (run by hand against the reference binary) and by
`tests/threads/test_recorded_rollouts.py` (Parley against what the reference answered).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from parley.threads.rollout import is_context_message

from .app_server import AppServerError, AppServerProcess

# Where the recorded scenarios live: one folder each, holding a CODEX_HOME's `sessions/`,
# `archived_sessions/`, `session_index.jsonl` and the reference's answers in `expected.json`.
RECORDED = Path(__file__).resolve().parent.parent / "data" / "rollouts-recorded"
HOME_MARK = "$CODEX_HOME"
# Fields Parley adds to `Thread` on purpose (README, "Differences from the reference").
PARLEY_EXTRA_THREAD_FIELDS = ("sessionId",)
# What a CODEX_HOME holds that belongs to the thread history (copied between homes).
HISTORY_ENTRIES = ("sessions", "archived_sessions", "session_index.jsonl")


def normalize(value: Any, home: Path) -> Any:
    """An answer with the home directory replaced by `$CODEX_HOME` and Parley's extra `Thread`
    fields dropped, so answers from two homes (or two servers) compare equal."""
    text = json.dumps(value, sort_keys=True).replace(str(home), HOME_MARK)
    return _drop_extra(json.loads(text))


def _drop_extra(value: Any) -> Any:
    if isinstance(value, dict):
        if "preview" in value and "modelProvider" in value:  # a Thread
            value = {k: v for k, v in value.items() if k not in PARLEY_EXTRA_THREAD_FIELDS}
        return {k: _drop_extra(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_drop_extra(v) for v in value]
    return value


# Recorded files keep the reference's structure but not its prompt wording (HELPERS: no prompt
# text from the Codex project in this repository): these texts are replaced where they occur.
REDACTED = "(the reference's wording, not kept in this repository)"
_REDACTED_TAGS = (
    "permissions instructions",
    "skills_instructions",
    "realtime_conversation",
    "turn_aborted",
)
_SUMMARY_PREAMBLE_END = "use the information in this summary to assist with your own analysis:"


def redact(value: Any) -> Any:
    """`value` (a rollout payload or an answer) with the reference's prompt texts replaced."""
    if isinstance(value, dict):
        out = {k: redact(v) for k, v in value.items()}
        base = out.get("base_instructions")
        if isinstance(base, dict) and isinstance(base.get("text"), str):
            out["base_instructions"] = {**base, "text": REDACTED}
        return out
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        for tag in _REDACTED_TAGS:
            if value.startswith(f"<{tag}>"):
                return f"<{tag}>\n{REDACTED}\n</{tag}>"
        if _SUMMARY_PREAMBLE_END in value:
            return REDACTED + "\n" + value.split(_SUMMARY_PREAMBLE_END, 1)[1].lstrip("\n")
    return value


def copy_history(source: Path, target: Path) -> None:
    """Copy the thread history of one CODEX_HOME into another (nothing private to a server)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in HISTORY_ENTRIES:
        path = source / name
        if path.is_dir():
            shutil.copytree(path, target / name, dirs_exist_ok=True)
        elif path.is_file():
            shutil.copy2(path, target / name)


def conversation(request_body: dict[str, Any]) -> list[dict[str, Any]]:
    """The conversation a Responses request carries: its `input` without context messages, each
    item reduced to what both servers must agree on."""
    items: list[dict[str, Any]] = []
    for item in request_body.get("input") or []:
        if not isinstance(item, dict) or is_context_message(item):
            continue
        kind = item.get("type")
        if kind == "message":
            texts = [
                str(p.get("text", "")) for p in item.get("content") or [] if isinstance(p, dict)
            ]
            items.append({"type": "message", "role": item.get("role"), "text": texts})
        elif kind in ("function_call", "custom_tool_call"):
            items.append({"type": kind, "name": item.get("name"), "call_id": item.get("call_id")})
        elif kind in ("function_call_output", "custom_tool_call_output"):
            output = item.get("output")
            ok = isinstance(output, str | list | dict)
            items.append({"type": kind, "call_id": item.get("call_id"), "has_output": ok})
        else:
            items.append({"type": kind})
    return items


async def read_everything(server: AppServerProcess) -> dict[str, Any]:
    """`thread/list` (live and archived) and `thread/read` of every listed thread, with turns
    (an archived thread's without: the reference cannot rebuild those)."""
    listed = await server.request("thread/list", {})
    archived = await server.request("thread/list", {"archived": True})
    reads: dict[str, Any] = {}
    for thread, turns in [(t, True) for t in listed["data"]] + [
        (t, False) for t in archived["data"]
    ]:
        params = {"threadId": thread["id"], "includeTurns": turns}
        try:
            reads[thread["id"]] = await server.request("thread/read", params)
        except AppServerError as exc:  # the reference cannot read an archived thread
            reads[thread["id"]] = {"error": exc.error}
    return {"list": listed, "archived": archived, "reads": reads}


def differences(expected: Any, actual: Any, where: str = "") -> list[str]:
    """Human-readable paths where two JSON values differ (at most a few per call site)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out: list[str] = []
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                out.append(f"{where}.{key}: missing (expected {_short(expected[key])})")
            elif key not in expected:
                out.append(f"{where}.{key}: unexpected {_short(actual[key])}")
            else:
                out += differences(expected[key], actual[key], f"{where}.{key}")
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: {len(actual)} entries, expected {len(expected)}: {_short(actual)}"]
        out = []
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            out += differences(e, a, f"{where}[{index}]")
        return out
    return [] if expected == actual else [f"{where}: {_short(actual)} != {_short(expected)}"]


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 160 else text[:157] + "..."
