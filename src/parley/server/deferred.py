"""A handler's answer that comes later than its return."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DeferredReply:
    """What a handler returns when its answer comes later (`command/exec` answers when the
    command exits): the connection keeps serving other requests meanwhile, and `result` is
    awaited in the background; its value, or the `RpcError` it raises, becomes the response."""

    result: Awaitable[Any]
