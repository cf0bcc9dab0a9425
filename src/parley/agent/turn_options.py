"""Per-thread choices a client makes on `turn/start` that shape the model request.

`TurnOptions` holds reasoning effort and summary, personality and collaboration mode: once a
turn sets one it applies to the thread's later turns too. `outputSchema` is for one turn only.
`request_fields` turns them into Responses request fields; `mode_instructions` and
`personality_instructions` are the developer text Parley adds for a mode or a personality
(Parley's own wording; the `<personality_spec>` and `<collaboration_mode>` wrappers mark them),
and `personality_base_section` the base-instructions part of a new thread's personality.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

OUTPUT_SCHEMA_NAME = "codex_output_schema"
DEFAULT_MODE_USER_INPUT_FEATURE = "default_mode_request_user_input"


@dataclass(frozen=True)
class CollaborationMode:
    mode: str  # "default" | "plan"
    model: str | None = None
    effort: str | None = None
    developer_instructions: str | None = None


@dataclass
class TurnOptions:
    effort: str | None = None
    summary: str | None = None
    personality: str | None = None
    collaboration_mode: CollaborationMode | None = None
    # Set by turn/start for its own turn; taken (and cleared) when that turn starts.
    output_schema: dict[str, Any] | None = None

    def take_output_schema(self) -> dict[str, Any] | None:
        schema, self.output_schema = self.output_schema, None
        return schema

    @property
    def plan_mode(self) -> bool:
        return self.collaboration_mode is not None and self.collaboration_mode.mode == "plan"

    def model(self, thread_model: str) -> str:
        mode = self.collaboration_mode
        return mode.model if mode is not None and mode.model else thread_model

    def reasoning_effort(self) -> str | None:
        mode = self.collaboration_mode
        if mode is not None and mode.effort:
            return mode.effort
        return self.effort


def request_fields(options: TurnOptions, output_schema: dict[str, Any] | None) -> dict[str, Any]:
    """The request-body fields the options set (only those; the rest of the body is the loop's)."""
    fields: dict[str, Any] = {}
    effort, summary = options.reasoning_effort(), options.summary
    if effort is not None or (summary is not None and summary != "none"):
        reasoning: dict[str, Any] = {}
        if effort is not None:
            reasoning["effort"] = effort
        if summary is not None and summary != "none":
            reasoning["summary"] = summary
        fields["reasoning"] = reasoning
    if output_schema is not None:
        fields["text"] = {
            "format": {
                "name": OUTPUT_SCHEMA_NAME,
                "type": "json_schema",
                "strict": True,
                "schema": output_schema,
            }
        }
    return fields


_PERSONALITY = {
    "friendly": "Be warm and encouraging. Explain what you are doing in plain words, acknowledge "
    "the user's goal, and keep a kind, upbeat tone without padding your answers.",
    "pragmatic": "Be direct and efficient. Lead with the result, skip pleasantries, and keep "
    "explanations to what the user needs to act on.",
    "none": "Use a neutral, matter-of-fact tone.",
}


def personality_base_section(personality: str) -> str:
    """The part of a new thread's base instructions its starting personality adds (the
    personality of the configuration, or of `thread/start`)."""
    text = _PERSONALITY.get(personality, _PERSONALITY["none"])
    return f"# Personality\n\nYour personality is `{personality}`. {text}"


def personality_instructions(personality: str) -> str:
    text = _PERSONALITY.get(personality, _PERSONALITY["none"])
    return (
        f"<personality_spec>\nThe user chose the `{personality}` personality for your replies "
        f"from now on. {text}\n</personality_spec>"
    )


_PLAN_MODE = (
    "You are in Plan mode: explore and think, but do not change files or run commands that "
    "modify anything. When you have a plan the user can approve, write it once inside a "
    "<proposed_plan> block (the opening and closing tags each on their own line), in Markdown. "
    "Ask clarifying questions first if the request is ambiguous."
)
_DEFAULT_MODE = (
    "You are in Default mode: carry out the user's request end to end, making the changes and "
    "running the commands it needs."
)
_DEFAULT_MODE_USER_INPUT = (
    " In this mode you may call `request_user_input` to put a short multiple-choice question "
    "to the user when a decision is genuinely theirs to make."
)
_DEFAULT_MODE_NO_USER_INPUT = (
    " Do not stop to ask questions you could answer yourself; make reasonable assumptions and "
    "state them."
)


def mode_instructions(mode: CollaborationMode, features: frozenset[str]) -> str:
    if mode.developer_instructions:
        body = mode.developer_instructions
    elif mode.mode == "plan":
        body = _PLAN_MODE
    else:
        user_input = DEFAULT_MODE_USER_INPUT_FEATURE in features
        extra = _DEFAULT_MODE_USER_INPUT if user_input else _DEFAULT_MODE_NO_USER_INPUT
        body = _DEFAULT_MODE + extra
    return f"<collaboration_mode>\n{body}\n</collaboration_mode>"
