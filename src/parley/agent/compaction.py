"""Compaction: replacing a long conversation with a summary the model wrote, to free context.

Pure pieces. `SUMMARY_REQUEST` is the message that asks the model for the summary (a thread's
`compact_prompt` replaces it); `replacement_history` builds what the model sees afterwards: the
user's own recent messages (their words matter most and are short), then the summary, framed so
the model knows it is picking up earlier work. The engine runs the request and records the
result (`parley.agent.turn`).
"""

from __future__ import annotations

from typing import Any

SUMMARY_REQUEST = (
    "Your context is about to be reset. Write a handoff note for yourself that lets you carry "
    "on without the conversation so far: the user's goal and constraints, what has been done "
    "(files changed, commands that mattered and their results), decisions made and why, what "
    "is still open, and the next concrete steps. Be specific (paths, names, errors); skip "
    "pleasantries."
)
SUMMARY_FRAME = (
    "Earlier parts of this conversation were compacted to save context. What follows is the "
    "handoff note you wrote at that point; continue the work from it.\n\n"
)
# How much of the user's own earlier wording is kept, in characters (newest first).
USER_TEXT_BUDGET = 40_000


def _user_text(item: dict[str, Any]) -> str | None:
    if item.get("type") != "message" or item.get("role") != "user":
        return None
    texts = [
        str(part.get("text", ""))
        for part in item.get("content") or []
        if isinstance(part, dict) and part.get("type") == "input_text"
    ]
    text = "\n".join(texts)
    # Context Parley itself adds (environment, earlier summaries) is not the user's wording.
    if not text or text.startswith("<environment_context>") or text.startswith(SUMMARY_FRAME):
        return None
    return text


def replacement_history(history: list[dict[str, Any]], summary: str) -> list[dict[str, Any]]:
    kept: list[str] = []
    budget = USER_TEXT_BUDGET
    for item in reversed(history):
        text = _user_text(item)
        if text is None:
            continue
        if len(text) > budget:
            if budget > 0:
                kept.append(text[-budget:])
            break
        kept.append(text)
        budget -= len(text)
    messages = [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
        for text in reversed(kept)
    ]
    messages.append(
        {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": SUMMARY_FRAME + summary}],
        }
    )
    return messages
