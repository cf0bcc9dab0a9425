"""The unified-exec processes a thread keeps running between tool calls (no tool logic here)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

from parley.agent.notifier import TurnNotifier
from parley.tools.process_tree import ProcessTree
from parley.tools.shell import AGGREGATED_OUTPUT_LIMIT, OutputBuffer


@dataclass
class ExecProcess:
    """One running (or finished) process and what it printed."""

    process_id: str
    item: dict[str, Any]
    proc: asyncio.subprocess.Process
    tree: ProcessTree
    notifier: TurnNotifier
    started: float = field(default_factory=time.monotonic)
    output: OutputBuffer = field(default_factory=lambda: OutputBuffer(AGGREGATED_OUTPUT_LIMIT))
    unread: list[str] = field(default_factory=list)
    reader: asyncio.Task[None] | None = None
    exit_code: int | None = None

    @property
    def done(self) -> bool:
        return self.exit_code is not None

    def take_unread(self) -> str:
        text = "".join(self.unread)
        self.unread.clear()
        return text

    def kill(self) -> None:
        self.tree.kill()


class ProcessTable:
    """The thread's unified-exec processes, by process id."""

    def __init__(self) -> None:
        self._ids = itertools.count(1000)
        self.processes: dict[str, ExecProcess] = {}

    def next_id(self) -> str:
        return str(next(self._ids))

    async def clean(self) -> int:
        """Ends every running process; returns how many there were."""
        running = [p for p in self.processes.values() if not p.done]
        for process in running:
            process.kill()
        for process in running:
            if process.reader is not None:
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(asyncio.shield(process.reader), 5.0)
        self.processes.clear()
        return len(running)
