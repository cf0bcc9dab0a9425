"""Scripted realtime connections for tests: steps of *expect this client event, emit these*.

A `ScriptedRealtime` replaces the voice model for one connection. Each `Step` waits for the
next client event that matches `expect` (a partial dict, matched recursively, or a predicate),
then the simulator sends `emit`. A step with `expect=None` emits without waiting (at connect,
or right after the previous step). A client event that does not match is recorded as a
`ScriptFailure` and does not advance the script, so a test can assert `script.failures == []`
and `script.finished`. Sans-IO: the server feeds it frames and sends what it returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from parley.simulator.realtime_policy import StreamStep

Expectation = Mapping[str, Any] | Callable[[dict[str, Any]], bool]
Emitted = Mapping[str, Any] | str  # a str is sent verbatim (e.g. to test malformed frames)


@dataclass(frozen=True, slots=True)
class Step:
    """Wait for a client event matching `expect` (None: don't wait), then send `emit`."""

    expect: Expectation | None = None
    emit: Sequence[Emitted] = ()


@dataclass(frozen=True, slots=True)
class ScriptFailure:
    """A client event the script did not expect at that point."""

    step_index: int
    expected: str
    received: Any
    reason: str


def matches(expected: Any, actual: Any) -> bool:
    """Whether `actual` contains `expected`: dict keys recursively, everything else by equality."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and matches(value, actual[key]) for key, value in expected.items()
        )
    return bool(expected == actual)


class ScriptedRealtime:
    """One scripted realtime connection (use it in place of the default voice model)."""

    def __init__(
        self,
        steps: Sequence[Step],
        *,
        ignore_types: Iterable[str] = (),
        close_after: bool = False,
    ) -> None:
        self.steps = list(steps)
        self.ignore_types = frozenset(ignore_types)  # client events skipped, never matched
        self.close_after = close_after  # close the socket once every step has run
        self.received: list[dict[str, Any]] = []
        self.failures: list[ScriptFailure] = []
        self._position = 0

    @property
    def finished(self) -> bool:
        """Every step has run."""
        return self._position >= len(self.steps)

    @property
    def should_close(self) -> bool:
        """The server should close the connection now."""
        return self.close_after and self.finished

    @property
    def streaming(self) -> bool:
        """Scripted events are sent at once; nothing is paced."""
        return False

    def next_stream_step(self) -> StreamStep | None:
        """Scripted events are sent at once; nothing is paced."""
        return None

    def start(self) -> list[Emitted]:
        """Events sent at connect: the leading steps that expect nothing."""
        return self._run_unconditional()

    def receive(self, frame: str | bytes) -> list[Emitted]:
        """Match one client frame against the current step."""
        try:
            event = orjson.loads(frame)
        except orjson.JSONDecodeError:
            event = {"_raw": frame if isinstance(frame, str) else frame.decode("utf-8", "replace")}
        if not isinstance(event, dict):
            event = {"_raw": event}
        self.received.append(event)
        if event.get("type") in self.ignore_types:
            return []
        if self.finished:
            self._fail("nothing (script finished)", event, "unexpected event after the script")
            return []
        step = self.steps[self._position]
        expect = step.expect
        ok = expect(event) if callable(expect) else matches(expect, event)
        if not ok:
            self._fail(_describe(expect), event, "event does not match the step")
            return []
        self._position += 1
        return [*step.emit, *self._run_unconditional()]

    def _run_unconditional(self) -> list[Emitted]:
        out: list[Emitted] = []
        while not self.finished and self.steps[self._position].expect is None:
            out.extend(self.steps[self._position].emit)
            self._position += 1
        return out

    def _fail(self, expected: str, event: dict[str, Any], reason: str) -> None:
        self.failures.append(ScriptFailure(self._position, expected, event, reason))


def _describe(expect: Expectation | None) -> str:
    if callable(expect):
        return getattr(expect, "__name__", repr(expect))
    return repr(dict(expect)) if expect is not None else "None"
