"""The unified-exec processes a thread keeps running between tool calls (no tool logic here)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import time
from dataclasses import dataclass, field
from typing import Any

from parley.agent.notifier import TurnNotifier
from parley.tools.process_tree import ProcessTree
from parley.tools.shell import AGGREGATED_OUTPUT_LIMIT, OutputBuffer


class PseudoTerminal:
    """A pty pair for a `tty: true` process: the child end becomes its stdin/stdout/stderr, the
    server keeps the other end to read output and write input."""

    def __init__(self, parent: int, child: int) -> None:
        self.parent = parent
        self.child: int | None = child

    @classmethod
    def open(cls) -> PseudoTerminal:
        parent, child = os.openpty()
        os.set_blocking(parent, False)
        return cls(parent, child)

    async def reader(self) -> asyncio.StreamReader:
        """A stream of the terminal's output (the parent end, duplicated for the transport)."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        pipe = os.fdopen(os.dup(self.parent), "rb", buffering=0)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), pipe)
        return reader

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.parent, view) :]
            except BlockingIOError:
                await asyncio.sleep(0.01)  # the input buffer is full: let the child read

    def close_child(self) -> None:
        """Once the process has its copy: without this, reading never sees the end."""
        if self.child is not None:
            os.close(self.child)
            self.child = None

    def close(self) -> None:
        self.close_child()
        if self.parent >= 0:
            with contextlib.suppress(OSError):
                os.close(self.parent)
            self.parent = -1


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
    terminal: PseudoTerminal | None = None  # set when it runs under a pseudo-terminal

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
