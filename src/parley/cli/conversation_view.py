"""Terminal view of a realtime conversation, shared by `parley demo` and `parley voice`.

It turns app-server notifications into one timestamped line per event (transcripts, delegated
background-agent turns, commands and their output, errors) and keeps the assistant's audio.
Lines are never wrapped by us (a pipe or log file gets each event on one line; a terminal
wraps as it likes), and delegated turns are named by what they were asked to do, not by id.
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape

SETTLED_S = 1.0  # a transcript with no new words or audio for this long is complete


@dataclass
class ConversationState:
    """What a terminal client has seen of a realtime conversation."""

    started: float = field(default_factory=time.monotonic)
    turns_completed: int = 0
    turns_failed: int = 0
    answers_spoken: int = 0
    audio: bytearray = field(default_factory=bytearray)
    assistant_text: str = ""
    user_text: str = ""
    last_audio_at: float = 0.0
    last_transcript_at: float = 0.0
    last_event_at: float = field(default_factory=time.monotonic)
    turns_running: int = 0
    awaiting_answer: bool = False
    errors: list[str] = field(default_factory=list)
    last_request: str | None = None  # what the voice model last asked the background agent
    tasks: dict[str, str] = field(default_factory=dict)  # turn id -> how a person calls it
    realtime_started: asyncio.Event = field(default_factory=asyncio.Event)
    answer_spoken: asyncio.Event = field(default_factory=asyncio.Event)


class ConversationView:
    """Prints what happens, one timestamped line per event."""

    def __init__(self, console: Console, state: ConversationState) -> None:
        self.console = console
        self.state = state

    def line(self, who: str, text: str, style: str = "", *, dim: bool = False) -> None:
        """Print one event. `text` is shown as is: command output, transcripts and file names
        may contain brackets that must not be read as markup."""
        elapsed = time.monotonic() - self.state.started
        body = escape(text)
        if dim:
            body = f"[dim]{body}[/dim]"
        label = f"[bold {style}]{who:<10}[/bold {style}]" if style else f"{who:<10}"
        self.console.print(
            f"[dim]{elapsed:5.1f}s[/dim] {label} {body}", highlight=False, soft_wrap=True
        )

    def flush_transcripts(self) -> None:
        if self.state.user_text:
            self.line("you", f"“{self.state.user_text.strip()}”", "green")
            self.state.user_text = ""
        if self.state.assistant_text:
            self.line("assistant", f"“{self.state.assistant_text.strip()}”", "magenta")
            self.state.assistant_text = ""

    def flush_settled(self, quiet_s: float = SETTLED_S) -> None:
        """Print transcripts that have stopped growing (and whose audio has stopped), so each
        utterance shows up as it ends rather than when the next one begins."""
        state = self.state
        now = time.monotonic()
        if now - state.last_transcript_at < quiet_s or now - state.last_audio_at < quiet_s:
            return
        if state.user_text or state.assistant_text:
            self.flush_transcripts()

    def task_label(self, turn_id: str) -> str:
        """How a delegated turn is shown: the request it works on, numbered in order."""
        state = self.state
        label = state.tasks.get(turn_id)
        if label is None:
            number = len(state.tasks) + 1
            request = state.last_request
            label = f"task {number}" + (f" “{request}”" if request else "")
            state.tasks[turn_id] = label
            state.last_request = None
        return label


_DONE_WORDS = {"completed": "done", "interrupted": "interrupted", "failed": "failed"}


def handle_notification(view: ConversationView, message: dict[str, Any]) -> None:
    """Update the state from one server notification and print what a person wants to see."""
    state = view.state
    state.last_event_at = time.monotonic()
    method = message.get("method", "")
    params = message.get("params") or {}
    if method == "thread/realtime/started":
        state.realtime_started.set()
        view.line("realtime", f"voice conversation started ({params.get('version')})", "cyan")
    elif method == "thread/realtime/transcriptUpdated":
        if params.get("role") == "user":
            if state.assistant_text:
                view.flush_transcripts()
            state.last_transcript_at = time.monotonic()
            text = params.get("text", "")
            # The API sends the words as deltas and then the whole utterance once more.
            if text != state.user_text:
                state.user_text += text
        else:
            if state.user_text:
                view.flush_transcripts()
            state.last_transcript_at = time.monotonic()
            state.assistant_text += params.get("text", "")
    elif method == "thread/realtime/outputAudio/delta":
        audio = params.get("audio") or {}
        state.audio.extend(base64.b64decode(audio.get("data", "")))
        state.last_audio_at = time.monotonic()
    elif method == "thread/realtime/itemAdded":
        item = params.get("item") or {}
        if item.get("type") == "handoff_request":
            view.flush_transcripts()
            request = str(item.get("input_transcript") or "").strip()
            state.last_request = request or None
            view.line("delegate", f"background agent asked: “{request}”", "blue")
    elif method == "turn/started":
        state.turns_running += 1
        view.line("agent", f"working on {view.task_label(params['turn']['id'])}", "blue")
    elif method == "item/completed":
        item = params.get("item") or {}
        if item.get("type") == "commandExecution":
            view.line(
                "command", f"$ {item.get('command')}  (exit {item.get('exitCode')})", "yellow"
            )
            output = (item.get("aggregatedOutput") or "").rstrip()
            for out_line in output.splitlines()[:12]:
                view.line("", f"  {out_line}", dim=True)
        elif item.get("type") == "agentMessage":
            view.line("agent", f"says: {item.get('text')}", "blue")
    elif method == "turn/completed":
        turn = params.get("turn") or {}
        status = turn.get("status")
        state.turns_running = max(0, state.turns_running - 1)
        label = view.task_label(str(turn.get("id")))
        view.line("agent", f"{label} {_DONE_WORDS.get(str(status), status)}", "blue")
        if status == "completed":
            state.turns_completed += 1
            state.awaiting_answer = True
        else:
            state.turns_failed += 1
            error = (turn.get("error") or {}).get("message", "no details")
            state.errors.append(f"{label} {status}: {error}")
    elif method == "thread/realtime/error":
        state.errors.append(f"realtime error: {params.get('message')}")
        view.line("error", str(params.get("message")), "red")
    elif method == "error":
        error = (params.get("error") or {}).get("message")
        if not params.get("willRetry"):
            view.line("error", str(error), "red")
