"""Terminal view of a realtime conversation, shared by `parley demo` and `parley voice`.

It turns app-server notifications into one timestamped line per event (transcripts, delegated
background-agent turns, commands and their output, errors) and keeps the assistant's audio.
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.markup import escape


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
    last_event_at: float = field(default_factory=time.monotonic)
    turns_running: int = 0
    awaiting_answer: bool = False
    errors: list[str] = field(default_factory=list)
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
        self.console.print(f"[dim]{elapsed:5.1f}s[/dim] {label} {body}", highlight=False)

    def flush_transcripts(self) -> None:
        if self.state.user_text:
            self.line("you", f"“{self.state.user_text.strip()}”", "green")
            self.state.user_text = ""
        if self.state.assistant_text:
            self.line("assistant", f"“{self.state.assistant_text.strip()}”", "magenta")
            self.state.assistant_text = ""


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
            text = params.get("text", "")
            # The API sends the words as deltas and then the whole utterance once more.
            if text != state.user_text:
                state.user_text += text
        else:
            if state.user_text:
                view.flush_transcripts()
            state.assistant_text += params.get("text", "")
    elif method == "thread/realtime/outputAudio/delta":
        audio = params.get("audio") or {}
        state.audio.extend(base64.b64decode(audio.get("data", "")))
        state.last_audio_at = time.monotonic()
    elif method == "thread/realtime/itemAdded":
        item = params.get("item") or {}
        if item.get("type") == "handoff_request":
            view.flush_transcripts()
            view.line(
                "delegate", f"background agent asked: “{item.get('input_transcript')}”", "blue"
            )
    elif method == "turn/started":
        state.turns_running += 1
        view.line("agent", f"turn {params['turn']['id']} started", "blue")
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
        view.line("agent", f"turn {turn.get('id')} {status}", "blue")
        if status == "completed":
            state.turns_completed += 1
            state.awaiting_answer = True
        else:
            state.turns_failed += 1
            error = (turn.get("error") or {}).get("message", "no details")
            state.errors.append(f"turn {turn.get('id')} {status}: {error}")
    elif method == "thread/realtime/error":
        state.errors.append(f"realtime error: {params.get('message')}")
        view.line("error", str(params.get("message")), "red")
    elif method == "error":
        error = (params.get("error") or {}).get("message")
        if not params.get("willRetry"):
            view.line("error", str(error), "red")
