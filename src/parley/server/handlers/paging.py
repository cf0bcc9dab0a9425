"""Offset cursors for list methods, as the reference pages `model/list` and feature lists.

The cursor is the decimal index of the next item; a limit of 0 counts as 1 so a page always
advances; a cursor past the end or not a number is a client error.
"""

from __future__ import annotations

from typing import Any, TypeVar

from parley.rpc.errors import ClientError

T = TypeVar("T")


def page(items: list[T], cursor: str | None, limit: int | None, what: str) -> tuple[list[T], Any]:
    """(this page, next cursor or None); `what` names the items in the overflow error."""
    total = len(items)
    if total == 0:
        return [], None
    size = min(max(limit if limit is not None else total, 1), total)
    start = 0
    if cursor is not None:
        if not cursor.isdigit():
            raise ClientError(f"invalid cursor: {cursor}")
        start = int(cursor)
    if start > total:
        raise ClientError(f"cursor {start} exceeds total {what} {total}")
    end = min(start + size, total)
    return items[start:end], (str(end) if end < total else None)
