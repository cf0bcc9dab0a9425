"""The terminal view shows what happened literally, whatever characters it contains."""

from __future__ import annotations

import io

from rich.console import Console

from parley.cli.conversation_view import ConversationState, ConversationView, handle_notification


def _view() -> tuple[ConversationView, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None, highlight=False)
    return ConversationView(console, ConversationState()), out


def test_command_output_with_brackets_is_printed_as_is() -> None:
    """Output such as `[bold]` or `[/oops]` is shown literally, not read as markup (or crash)."""
    view, out = _view()
    item = {
        "type": "commandExecution",
        "id": "c1",
        "command": "/bin/bash -lc 'cat x'",
        "exitCode": 0,
        "aggregatedOutput": "[bold]x[/bold] and [/oops] stay\n",
    }
    handle_notification(view, {"method": "item/completed", "params": {"item": item}})
    handle_notification(
        view,
        {"method": "thread/realtime/error", "params": {"threadId": "t", "message": "bad [x]"}},
    )
    text = out.getvalue()
    assert "[bold]x[/bold] and [/oops] stay" in text
    assert "bad [x]" in text
    assert view.state.errors == ["realtime error: bad [x]"]


def test_transcripts_are_joined_and_the_final_repeat_is_skipped() -> None:
    """Word deltas make one line, and the API's full-utterance repeat is not shown twice."""
    view, out = _view()
    for text in ("list", " the", " files", "list the files"):
        handle_notification(
            view,
            {
                "method": "thread/realtime/transcriptUpdated",
                "params": {"threadId": "t", "role": "user", "text": text},
            },
        )
    view.flush_transcripts()
    assert out.getvalue().count("list the files") == 1
