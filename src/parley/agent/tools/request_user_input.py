"""`request_user_input`: the model asks the user short multiple-choice questions.

Offered in Plan mode, and in Default mode when the `default_mode_request_user_input` feature
is on. A call becomes an `item/tool/requestUserInput` server request; the client's answers (a
map from question id to the chosen labels or typed text) go back to the model as JSON. No
thread item is shown: the request itself is what the client displays.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from parley.agent.tools.base import CallOutcome, ToolCall, ToolContext
from parley.agent.turn_options import DEFAULT_MODE_USER_INPUT_FEATURE

log = logging.getLogger(__name__)

TOOL_NAME = "request_user_input"
REQUEST_METHOD = "item/tool/requestUserInput"
NO_ANSWER_OUTPUT = "the user did not answer; continue with your best judgement"


def spec() -> dict[str, Any]:
    option = {
        "type": "object",
        "properties": {
            "label": {"type": "string", "description": "A short choice (a few words)."},
            "description": {"type": "string", "description": "What choosing it means."},
        },
        "required": ["label", "description"],
        "additionalProperties": False,
    }
    question = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "A stable snake_case id for the answer."},
            "header": {"type": "string", "description": "A very short title."},
            "question": {"type": "string", "description": "The question, one sentence."},
            "options": {"type": "array", "items": option, "description": "2 or 3 choices."},
        },
        "required": ["id", "header", "question", "options"],
        "additionalProperties": False,
    }
    return {
        "type": "function",
        "name": TOOL_NAME,
        "description": (
            "Ask the user one to three short multiple-choice questions and wait for the "
            "answers. Put the recommended choice first. Use it only for decisions the user "
            "must make."
        ),
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {"questions": {"type": "array", "items": question}},
            "required": ["questions"],
            "additionalProperties": False,
        },
    }


def parse_questions(arguments: str) -> list[dict[str, Any]]:
    try:
        data = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"request_user_input arguments are not valid JSON: {exc}") from None
    questions = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(questions, list) or not questions:
        raise ValueError("request_user_input needs `questions`: a non-empty list")
    wire: list[dict[str, Any]] = []
    for entry in questions:
        if not isinstance(entry, dict):
            raise ValueError("each question must be an object")
        for key in ("id", "header", "question"):
            if not isinstance(entry.get(key), str):
                raise ValueError(f"each question needs a `{key}` text")
        options = entry.get("options")
        wire.append(
            {
                "id": entry["id"],
                "header": entry["header"],
                "question": entry["question"],
                "isOther": bool(entry.get("isOther", False)),
                "isSecret": bool(entry.get("isSecret", False)),
                "options": [
                    {"label": str(o.get("label", "")), "description": str(o.get("description", ""))}
                    for o in options
                    if isinstance(o, dict)
                ]
                if isinstance(options, list)
                else None,
            }
        )
    return wire


class RequestUserInputTool:
    name = TOOL_NAME

    def __init__(self, context: ToolContext, *, offered: bool) -> None:
        self._ctx = context
        self._offered = offered

    @classmethod
    def for_turn(cls, context: ToolContext, plan_mode: bool) -> RequestUserInputTool:
        offered = plan_mode or DEFAULT_MODE_USER_INPUT_FEATURE in context.settings.features
        return cls(context, offered=offered)

    def spec(self) -> dict[str, Any] | None:
        return spec() if self._offered else None

    async def run(self, call: ToolCall) -> CallOutcome:
        if not self._offered:
            return CallOutcome("request_user_input is not available in this mode")
        try:
            questions = parse_questions(call.arguments)
        except ValueError as exc:
            return CallOutcome(str(exc))
        channel = self._ctx.channel
        params = {
            "threadId": channel.thread_id,
            "turnId": channel.turn_id,
            "itemId": call.call_id,
            "questions": questions,
        }
        try:
            response = await channel.request_client(REQUEST_METHOD, params)
        except Exception as exc:  # no client or an error answer
            log.info("request_user_input %s got no answer (%s)", call.call_id, exc)
            return CallOutcome(NO_ANSWER_OUTPUT)
        answers = response.get("answers") if isinstance(response, dict) else None
        if not isinstance(answers, dict):
            return CallOutcome(NO_ANSWER_OUTPUT)
        return CallOutcome(orjson.dumps({"answers": answers}).decode())
