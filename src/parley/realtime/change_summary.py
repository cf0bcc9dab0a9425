"""A spoken-length summary of the files a delegated turn changed, for the voice model.

The background agent's final message may not mention its edits (or there may be none); the
`fileChange` items of the turn say exactly what changed. This turns their wire `changes` into
one short sentence the voice model can read out. Pure: wire dicts in, text out; it does not
decide when the summary is sent (the bridge does).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePath
from typing import Any, Final

_VERBS: Final = {"add": "created", "delete": "deleted", "update": "updated"}


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _line_counts(kind: str, diff: str) -> tuple[int, int]:
    """(added, removed) lines: an added or deleted file's diff is its content, an update's is a
    unified diff."""
    lines = diff.splitlines()
    if kind == "add":
        return len(lines), 0
    if kind == "delete":
        return 0, len(lines)
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    return added, removed


def _describe(change: dict[str, Any]) -> str | None:
    path, kind_obj, diff = change.get("path"), change.get("kind"), change.get("diff")
    kind = kind_obj.get("type") if isinstance(kind_obj, dict) else None
    if not isinstance(path, str) or kind not in _VERBS:
        return None
    name = PurePath(path).name or path
    text = f"{_VERBS[kind]} {name}"
    move_path = kind_obj.get("move_path") if isinstance(kind_obj, dict) else None
    if isinstance(move_path, str) and move_path:
        text += f" (moved to {PurePath(move_path).name or move_path})"
    added, removed = _line_counts(kind, diff if isinstance(diff, str) else "")
    counts = [
        part
        for number, part in (
            (added, _count(added, "line") + " added"),
            (removed, _count(removed, "line") + " removed"),
        )
        if number
    ]
    if counts:
        text += ": " + ", ".join(counts)
    return text


def summarize_file_changes(changes: Iterable[dict[str, Any]]) -> str | None:
    """One sentence naming each changed file and its line counts, or None if nothing changed."""
    parts = [part for part in (_describe(change) for change in changes) if part is not None]
    if not parts:
        return None
    return "Files the background agent changed: " + "; ".join(parts) + "."
