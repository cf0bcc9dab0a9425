"""turn/start, steer and interrupt."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from parley.protocol import models as m
from parley.protocol.params import parse_params
from parley.rpc.errors import ClientError
from parley.server.handlers.wire import dump, enum_value
from parley.server.thread_config import apply_turn_config
from parley.threads.runtime import ThreadRuntime

if TYPE_CHECKING:
    from parley.server.session import ClientSession


def _input_list(params: Any) -> list[dict[str, Any]]:
    items = []
    for item in params.input:
        items.append(dump(item))
    for item in items:
        if item.get("type") == "text":
            item.setdefault("text_elements", [])
    return items


async def turn_start(session: ClientSession, raw: Any) -> Any:
    params = parse_params(m.TurnStartParams, raw)
    thread = session.server.thread(params.thread_id)
    thread.subscribe(session)
    user_input = _input_list(params)
    if not user_input:
        raise ClientError("Invalid request: `input` must contain at least one item")
    _apply_turn_overrides(thread, params)
    apply_turn_config(thread.settings, params)
    return {
        "turn": thread.start_turn(user_input, client_metadata=params.responsesapi_client_metadata)
    }


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
