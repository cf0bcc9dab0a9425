"""The pause a client puts on a thread's clocks while it shows an elicitation of its own.

`thread/increment_elicitation` / `thread/decrement_elicitation` count the out-of-band
elicitations a client is showing for a thread. While the count is above zero the thread's
timeout clocks stand still, as the reference's do: the wait of a unified-exec call for its
`yield_time_ms`, and (Parley's addition) an MCP tool call's `tool_timeout_sec`. Time spent paused
is added to the deadline, so a user answering slowly never makes a call time out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


class ElicitationPause:
    def __init__(self) -> None:
        self.count = 0
        self._running = asyncio.Event()
        self._running.set()
        self._changed = asyncio.Event()

    @property
    def paused(self) -> bool:
        return self.count > 0

    def increment(self) -> int:
        self.count += 1
        self._update()
        return self.count

    def decrement(self) -> int:
        """Raises `ValueError` when the count is already zero."""
        if self.count == 0:
            raise ValueError("out-of-band elicitation count is already zero")
        self.count -= 1
        self._update()
        return self.count

    def _update(self) -> None:
        if self.paused:
            self._running.clear()
        else:
            self._running.set()
        self._changed.set()
        self._changed = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        """Return after `seconds` of unpaused time."""
        loop = asyncio.get_running_loop()
        remaining = seconds
        while True:
            await self._running.wait()
            started = loop.time()
            changed = self._changed
            try:
                await asyncio.wait_for(changed.wait(), max(remaining, 0))
            except TimeoutError:
                return
            remaining -= loop.time() - started

    async def wait_for(self, work: Awaitable[T], seconds: float) -> T:
        """`asyncio.wait_for` whose clock stands still while paused (raises `TimeoutError`)."""
        task = asyncio.ensure_future(work)
        timer = asyncio.ensure_future(self.sleep(seconds))
        try:
            done, _ = await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            task.cancel()
            raise
        finally:
            timer.cancel()
        if task in done:
            return task.result()
        task.cancel()
        raise TimeoutError
