"""turn/start, steer and interrupt."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.agent.turn_options import CollaborationMode
from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError, InvalidParams
from parley.server.handlers.wire import dump, enum_value
from parley.server.thread_config import apply_turn_config
from parley.threads.runtime import ThreadRuntime

if TYPE_CHECKING:
    from parley.server.session import ClientSession


# The most text (in characters, all text parts together) one turn/start or turn/steer may carry.
MAX_USER_INPUT_TEXT_CHARS = 1 << 20
INPUT_TOO_LARGE_ERROR_CODE = "input_too_large"


def _input_list(params: Any) -> list[dict[str, Any]]:
    items = []
    for item in params.input:
        items.append(dump(item))
    for item in items:
        if item.get("type") == "text":
            item.setdefault("text_elements", [])
    _check_input_size(items)
    return items


def _check_input_size(items: list[dict[str, Any]]) -> None:
    actual = sum(len(str(i.get("text", ""))) for i in items if i.get("type") == "text")
    if actual > MAX_USER_INPUT_TEXT_CHARS:
        raise InvalidParams(
            f"Input exceeds the maximum length of {MAX_USER_INPUT_TEXT_CHARS} characters.",
            {
                "input_error_code": INPUT_TOO_LARGE_ERROR_CODE,
                "max_chars": MAX_USER_INPUT_TEXT_CHARS,
                "actual_chars": actual,
            },
        )


async def turn_start(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.TurnStartParams, raw)
    thread = session.server.thread(params.thread_id)
    thread.subscribe(session)
    user_input = _input_list(params)
    if not user_input:
        raise ClientError("Invalid request: `input` must contain at least one item")
    try:
        _apply_turn_overrides(thread, params)
    except RequirementRefused as refused:
        # As the reference: the turn runs on the thread's settings, the refusal is an error.
        message = str(refused)
        turn = thread.start_turn(user_input, client_metadata=params.responsesapi_client_metadata)
        session.after_response(lambda: _report_refusal(thread, turn["id"], message))
        return {"turn": turn}
    _apply_turn_options(thread, params)
    apply_turn_config(thread.settings, params)
    return {
        "turn": thread.start_turn(user_input, client_metadata=params.responsesapi_client_metadata)
    }


class RequirementRefused(Exception):
    """A turn/start override that requirements.toml does not allow (nothing is applied)."""


def _check_requirements(thread: ThreadRuntime, approval: str, sandbox_mode: str) -> None:
    config = thread.settings.config or thread.config
    if config is None:
        return
    for problem in (
        config.requirements.disallowed("approval_policy", "allowed_approval_policies", approval),
        config.requirements.disallowed("sandbox_mode", "allowed_sandbox_modes", sandbox_mode),
    ):
        if problem is not None:
            raise RequirementRefused(problem)


def _report_refusal(thread: ThreadRuntime, turn_id: str, message: str) -> None:
    error = {"message": message, "codexErrorInfo": "badRequest", "additionalDetails": None}
    thread.emit_to_clients(
        "error", {"error": error, "willRetry": False, "threadId": thread.id, "turnId": turn_id}
    )


def _apply_turn_options(thread: ThreadRuntime, params: m.TurnStartParams) -> None:
    """Effort, summary, personality and collaboration mode stay for later turns; the output
    schema is for this turn only."""
    options = thread.agent_state.options
    if params.effort is not None:
        options.effort = enum_value(params.effort)
    if params.summary is not None:
        options.summary = enum_value(params.summary)
    if params.personality is not None:
        options.personality = enum_value(params.personality)
    if params.collaboration_mode is not None:
        mode = params.collaboration_mode
        options.collaboration_mode = CollaborationMode(
            mode=str(enum_value(mode.mode)),
            model=mode.settings.model or None,
            effort=enum_value(mode.settings.reasoning_effort),
            developer_instructions=mode.settings.developer_instructions or None,
        )
    schema = params.output_schema
    if schema is not None and not isinstance(schema, dict):
        raise ClientError("Invalid request: `outputSchema` must be a JSON Schema object")
    options.output_schema = schema


SANDBOX_POLICY_MODES = {
    "readOnly": "read-only",
    "workspaceWrite": "workspace-write",
    "dangerFullAccess": "danger-full-access",
}


def _apply_turn_overrides(thread: ThreadRuntime, params: Any) -> None:
    """turn/start settings apply to this turn and the thread's later turns (as the reference).

    Every value is checked before any is applied, so a refused request changes nothing."""
    settings = thread.settings
    model = params.model or settings.model
    approval = enum_value(params.approval_policy) or settings.approval_policy
    sandbox_mode, network = settings.sandbox_mode, settings.network_access
    if params.sandbox_policy is not None:
        policy = dump(params.sandbox_policy)
        mode = SANDBOX_POLICY_MODES.get(policy.get("type", ""))
        if mode is None:
            raise ClientError(
                f"Invalid request: sandbox policy `{policy.get('type')}` is not supported; "
                f"use one of {', '.join(SANDBOX_POLICY_MODES)}"
            )
        sandbox_mode = mode
        if mode == "workspace-write":
            network = bool(policy.get("networkAccess", False))
    cwd = settings.cwd
    if params.cwd:
        cwd = Path(params.cwd).expanduser()
        if not cwd.is_absolute() or not cwd.is_dir():
            raise ClientError(f"Invalid request: `cwd` {params.cwd} is not an existing directory")
    if approval != settings.approval_policy or sandbox_mode != settings.sandbox_mode:
        _check_requirements(thread, approval, sandbox_mode)
    settings.model, settings.approval_policy = model, approval
    settings.sandbox_mode, settings.network_access, settings.cwd = sandbox_mode, network, cwd
    thread.remember_settings()


async def turn_steer(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.TurnSteerParams, raw)
    thread = session.server.thread(params.thread_id)
    turn_id = thread.steer(
        _input_list(params),
        params.expected_turn_id,
        client_metadata=params.responsesapi_client_metadata,
    )
    return {"turnId": turn_id}


async def turn_interrupt(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.TurnInterruptParams, raw)
    thread = session.server.thread(params.thread_id)
    thread.interrupt(params.turn_id)
    return {}
