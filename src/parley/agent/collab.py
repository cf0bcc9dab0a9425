"""Multi-agent collaboration: the `spawn_agent` tool, which starts a sub-agent on a new thread.

When the `multi_agent` feature is on (the reference's default), the model is offered
`spawn_agent`. A call names the task (`message`), optionally a role (`agent_type`, a
`[agents.<name>]` entry of the configuration, whose `config_file` may choose the model and
reasoning effort) and a model and effort of its own; a role's choices win. The call is shown as a
`collabAgentToolCall` item (started, then completed with the new thread's id and the state of the
agent), the sub-agent's thread starts its first turn with the task, and the model gets the new
agent's id and nickname back at once, without waiting for the sub-agent to finish.

This module is the tool's logic (arguments, roles, items, output); starting the thread is the
server's (`Spawner`). Only `spawn_agent` is offered: sending further input to a running
sub-agent, waiting for it and closing it are not part of Parley yet.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

import orjson

from parley.agent.extensions import CallChannel, ExtensionCall, TurnOffer

if TYPE_CHECKING:
    from parley.agent.settings import TurnSettings

SPAWN_AGENT: Final = "spawn_agent"
FEATURE: Final = "multi_agent"
DEFAULT_ROLE: Final = "default"
# Roles every configuration has (no overrides of their own), as the reference's built-ins.
BUILT_IN_ROLES: Final = frozenset({"default", "explorer", "worker"})
DEFAULT_EFFORT: Final = "medium"
MAX_DEPTH: Final = 1  # a sub-agent may not spawn sub-agents of its own
DEPTH_LIMIT_MESSAGE: Final = "Agent depth limit reached. Solve the task yourself."
EFFORTS: Final = ("none", "minimal", "low", "medium", "high", "xhigh")

SPAWN_AGENT_TOOL: Final[dict[str, Any]] = {
    "type": "function",
    "name": SPAWN_AGENT,
    "description": (
        "Start a sub-agent that works on a self-contained task in its own thread while you "
        "continue. Give it everything it needs in `message`; it does not see this conversation. "
        "Returns the new agent's id and nickname immediately."
    ),
    "strict": False,
    "parameters": {
        "type": "object",
        "properties": {
            "message": {"type": "string", "description": "The task for the sub-agent."},
            "agent_type": {
                "type": "string",
                "description": "A configured agent role to use (default: `default`).",
            },
            "model": {"type": "string", "description": "A model for the sub-agent."},
            "reasoning_effort": {
                "type": "string",
                "enum": list(EFFORTS),
                "description": "Reasoning effort for the sub-agent.",
            },
        },
        "required": ["message"],
        "additionalProperties": False,
    },
}


class SpawnError(Exception):
    """A spawn that cannot happen; the message is what the model is told."""


@dataclass(frozen=True)
class SpawnArgs:
    message: str
    agent_type: str | None = None
    model: str | None = None
    reasoning_effort: str | None = None

    @classmethod
    def parse(cls, arguments: str) -> SpawnArgs:
        try:
            raw = orjson.loads(arguments or "{}")
        except orjson.JSONDecodeError as exc:
            raise SpawnError(f"failed to parse function arguments: {exc}") from None
        if not isinstance(raw, dict):
            raise SpawnError("failed to parse function arguments: expected an object")
        message = raw.get("message")
        if not isinstance(message, str) or not message.strip():
            raise SpawnError("Empty message can't be sent to an agent")
        role = raw.get("agent_type")
        model = raw.get("model")
        effort = raw.get("reasoning_effort")
        if effort is not None and effort not in EFFORTS:
            raise SpawnError(f"unknown reasoning_effort '{effort}'")
        return cls(
            message=message,
            agent_type=role.strip() or None if isinstance(role, str) else None,
            model=model or None if isinstance(model, str) else None,
            reasoning_effort=effort,
        )


@dataclass(frozen=True)
class RoleOverrides:
    """What a role's config file sets for the sub-agent."""

    model: str | None = None
    reasoning_effort: str | None = None
    developer_instructions: str | None = None


def resolve_role(tree: dict[str, Any], base: Path, name: str | None) -> RoleOverrides:
    """The overrides of role `name` from the configuration's `[agents.<name>]` table (its
    `config_file` is relative to `base`, the folder of the configuration that declares it)."""
    role = name or DEFAULT_ROLE
    agents = tree.get("agents")
    entry = agents.get(role) if isinstance(agents, dict) else None
    if not isinstance(entry, dict):
        if role in BUILT_IN_ROLES:
            return RoleOverrides()
        raise SpawnError(f"unknown agent_type '{role}'")
    config_file = entry.get("config_file")
    if not isinstance(config_file, str) or not config_file:
        return RoleOverrides()
    path = Path(config_file).expanduser()
    path = path if path.is_absolute() else base / path
    try:
        layer = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        raise SpawnError("agent type is currently not available") from None

    def text(key: str) -> str | None:
        value = layer.get(key)
        return value if isinstance(value, str) and value else None

    return RoleOverrides(
        model=text("model"),
        reasoning_effort=text("model_reasoning_effort"),
        developer_instructions=text("developer_instructions"),
    )


@dataclass(frozen=True)
class SpawnedAgent:
    thread_id: str
    nickname: str | None
    model: str  # the sub-agent's effective model and effort
    reasoning_effort: str
    status: str  # a wire CollabAgentStatus: "pendingInit" | "running" | ...


class Spawner(Protocol):
    """Starts a sub-agent thread for `parent_thread_id` and its first turn with `args.message`."""

    async def spawn(self, parent_thread_id: str, args: SpawnArgs) -> SpawnedAgent: ...


def spawn_item(
    call_id: str,
    sender: str,
    args: SpawnArgs,
    spawned: SpawnedAgent | None = None,
    *,
    failed: bool = False,
) -> dict[str, Any]:
    """The `collabAgentToolCall` item: in progress (no `spawned`), completed or failed."""
    if spawned is None:
        status = "failed" if failed else "inProgress"
        model, effort = args.model or "", args.reasoning_effort or DEFAULT_EFFORT
        receivers: list[str] = []
        states: dict[str, Any] = {}
    else:
        status = "completed"
        model, effort = spawned.model, spawned.reasoning_effort
        receivers = [spawned.thread_id]
        states = {spawned.thread_id: {"status": spawned.status, "message": None}}
    return {
        "type": "collabAgentToolCall",
        "id": call_id,
        "tool": "spawnAgent",
        "status": status,
        "senderThreadId": sender,
        "receiverThreadIds": receivers,
        "prompt": args.message,
        "model": model,
        "reasoningEffort": effort,
        "agentsStates": states,
    }


class CollabExtension:
    """The thread's `spawn_agent` tool (a `TurnExtension`)."""

    def __init__(self, spawner: Spawner) -> None:
        self._spawner = spawner

    async def offer(self, settings: TurnSettings, io: CallChannel) -> TurnOffer:
        return TurnOffer(tools=[SPAWN_AGENT_TOOL] if FEATURE in settings.features else [])

    def handles(self, tool_name: str) -> bool:
        return tool_name == SPAWN_AGENT

    async def call(self, request: ExtensionCall) -> str:
        call_id, sender = request.call.call_id, request.io.thread_id
        try:
            args = SpawnArgs.parse(request.call.arguments)
        except SpawnError as exc:
            return str(exc)
        request.notifier.item_started(spawn_item(call_id, sender, args))
        try:
            spawned = await self._spawner.spawn(sender, args)
        except SpawnError as exc:
            request.notifier.item_completed(spawn_item(call_id, sender, args, failed=True))
            return str(exc)
        request.notifier.item_completed(spawn_item(call_id, sender, args, spawned))
        return orjson.dumps({"agent_id": spawned.thread_id, "nickname": spawned.nickname}).decode()

    async def close(self) -> None:
        return None
