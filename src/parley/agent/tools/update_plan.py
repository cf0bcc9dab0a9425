"""`update_plan`: the model keeps a step-by-step plan the client shows (`turn/plan/updated`).

The whole plan is sent each time (steps with pending / in_progress / completed status and an
optional explanation); the client gets it as `turn/plan/updated` with the protocol's status
names. Nothing is stored: the plan lives in the conversation history like any tool call.
"""

from __future__ import annotations

from typing import Any

import orjson

from parley.agent.tools.base import CallOutcome, ToolCall, ToolContext

TOOL_NAME = "update_plan"
PLAN_UPDATED = "turn/plan/updated"

_STATUS = {"pending": "pending", "in_progress": "inProgress", "completed": "completed"}


def spec() -> dict[str, Any]:
    return {
        "type": "function",
        "name": TOOL_NAME,
        "description": (
            "Share or revise your plan for a multi-step task: send every step with its status "
            "(at most one `in_progress`). Skip it for simple, single-step requests."
        ),
        "strict": False,
        "parameters": {
            "type": "object",
            "properties": {
                "explanation": {"type": "string", "description": "Why the plan changed."},
                "plan": {
                    "type": "array",
                    "description": "The steps, in order.",
                    "items": {
                        "type": "object",
                        "properties": {
                            "step": {"type": "string"},
                            "status": {"type": "string", "enum": list(_STATUS)},
                        },
                        "required": ["step", "status"],
                        "additionalProperties": False,
                    },
                },
            },
            "required": ["plan"],
            "additionalProperties": False,
        },
    }


def parse_plan(arguments: str) -> tuple[str | None, list[dict[str, str]]]:
    """(explanation, wire steps) from the call's arguments; ValueError names what is wrong."""
    try:
        data = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"update_plan arguments are not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("plan"), list):
        raise ValueError("update_plan needs `plan`: a list of {step, status}")
    steps: list[dict[str, str]] = []
    for entry in data["plan"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("step"), str):
            raise ValueError("each plan entry needs a `step` text")
        status = _STATUS.get(str(entry.get("status")))
        if status is None:
            raise ValueError(f"plan status must be one of {', '.join(_STATUS)}")
        steps.append({"step": entry["step"], "status": status})
    explanation = data.get("explanation")
    return (explanation if isinstance(explanation, str) else None), steps


class UpdatePlanTool:
    name = TOOL_NAME

    def __init__(self, context: ToolContext) -> None:
        self._ctx = context

    def spec(self) -> dict[str, Any] | None:
        return spec()

    async def run(self, call: ToolCall) -> CallOutcome:
        try:
            explanation, steps = parse_plan(call.arguments)
        except ValueError as exc:
            return CallOutcome(str(exc))
        self._ctx.notifier.notify(PLAN_UPDATED, {"explanation": explanation, "plan": steps})
        return CallOutcome("Plan updated.")
