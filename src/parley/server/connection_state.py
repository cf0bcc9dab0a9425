"""State a service keeps per client connection, created on first use, cleaned up on close.

`ConnectionState(factory, close)` maps a `ClientSession` to its own value (a table of running
commands, of file watches...); the first `get` creates it and registers `close` to run when the
connection ends, so nothing a client started outlives its connection.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from parley.server.session import ClientSession

T = TypeVar("T")


class ConnectionState(Generic[T]):
    def __init__(self, factory: Callable[[], T], close: Callable[[T], None]) -> None:
        self._factory = factory
        self._close = close
        self._values: weakref.WeakKeyDictionary[ClientSession, T] = weakref.WeakKeyDictionary()

    def get(self, session: ClientSession) -> T:
        value = self._values.get(session)
        if value is None:
            value = self._factory()
            self._values[session] = value
            session.on_close(lambda: self._closed(session))
        return value

    def _closed(self, session: ClientSession) -> None:
        value = self._values.pop(session, None)
        if value is not None:
            self._close(value)
