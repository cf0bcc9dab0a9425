"""The `notify` program: run after each completed turn with a JSON description as last argument.

The argument is the reference's `agent-turn-complete` object (kebab-case keys: `thread-id`,
`turn-id`, `cwd`, `client`, `input-messages`, `last-assistant-message`). The program is started
detached with no stdin/stdout/stderr and never waited for; a program that cannot start is logged
and otherwise ignored, as the reference does.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TurnCompletion:
    thread_id: str
    turn_id: str
    cwd: str
    client: str | None
    input_messages: list[str]
    last_assistant_message: str | None

    def to_json(self) -> str:
        payload: dict[str, Any] = {
            "type": "agent-turn-complete",
            "thread-id": self.thread_id,
            "turn-id": self.turn_id,
            "cwd": self.cwd,
        }
        if self.client is not None:
            payload["client"] = self.client
        payload["input-messages"] = self.input_messages
        payload["last-assistant-message"] = self.last_assistant_message
        return orjson.dumps(payload).decode()


def text_of_input(user_input: list[dict[str, Any]]) -> str:
    return "".join(str(part.get("text", "")) for part in user_input if part.get("type") == "text")


def notify_turn_complete(argv: Sequence[str], completion: TurnCompletion) -> None:
    if not argv or not argv[0]:
        return
    try:
        # Never waited for: the program must not delay the turn. CPython reaps dropped Popen
        # objects on later Popen calls.
        subprocess.Popen(
            [*argv, completion.to_json()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        log.warning("notify program %s could not start: %s", argv[0], exc)
