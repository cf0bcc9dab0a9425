"""Multi-agent collaboration: the `spawn_agent` tool, which starts a sub-agent on a new thread.

When the `multi_agent` feature is on (the reference's default), the model is offered
`spawn_agent`. A call names the task (`message`), optionally a role (`agent_type`, a
`[agents.<name>]` entry of the configuration, whose `config_file` may choose the model and
reasoning effort) and a model and effort of its own; a role's choices win. The call is shown as a
`collabAgentToolCall` item (started, then completed with the new thread's id and the state of the
agent), the sub-agent's thread starts its first turn with the task, and the model gets the new
agent's id and nickname back at once, without waiting for the sub-agent to finish.

`wait_agent` waits (up to `timeout_ms`) until one of the named sub-agents has finished its
turn and returns how each finished one ended, with its final message (a `collabAgentToolCall`
item with the `wait` tool).

This module is the tools' logic (arguments, roles, items, output); starting and watching the
threads is the server's (`Spawner`). Sending further input to a running sub-agent, resuming and
closing one are not part of Parley yet.
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
WAIT_AGENT: Final = "wait_agent"
# timeout_ms of wait_agent: default, and the range it is held to (as the reference).
DEFAULT_WAIT_MS: Final = 30_000
MIN_WAIT_MS: Final = 10_000
MAX_WAIT_MS: Final = 3_600_000
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


WAIT_AGENT_TOOL: Final[dict[str, Any]] = {
    "type": "function",
    "name": WAIT_AGENT,
    "description": (
        "Wait until at least one of the given sub-agents has finished its task (or the timeout "
        "passes) and return how each finished one ended, with its final message."
    ),
    "strict": False,
    "parameters": {
        "type": "object",
        "properties": {
            "targets": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Agent ids returned by spawn_agent.",
            },
            "timeout_ms": {
                "type": "number",
                "description": "How long to wait at most (default 30000).",
            },
        },
        "required": ["targets"],
        "additionalProperties": False,
    },
}


class SpawnError(Exception):
    """A spawn that cannot happen; the message is what the model is told."""


def _object(arguments: str) -> dict[str, Any]:
    """A call's JSON arguments, which must be an object."""
    try:
        raw = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError as exc:
        raise SpawnError(f"failed to parse function arguments: {exc}") from None
    if not isinstance(raw, dict):
        raise SpawnError("failed to parse function arguments: expected an object")
    return raw


@dataclass(frozen=True)
class SpawnArgs:
    message: str
    agent_type: str | None = None
    model: str | None = None
    reasoning_effort: str | None = None

    @classmethod
    def parse(cls, arguments: str) -> SpawnArgs:
        raw = _object(arguments)
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
class WaitArgs:
    targets: tuple[str, ...]
    timeout_s: float

    @classmethod
    def parse(cls, arguments: str) -> WaitArgs:
        raw = _object(arguments)
        targets = raw.get("targets")
        if not isinstance(targets, list) or not targets:
            raise SpawnError("agent ids must be non-empty")
        if not all(isinstance(t, str) and t.strip() for t in targets):
            raise SpawnError("agent ids must be non-empty strings")
        timeout = raw.get("timeout_ms", DEFAULT_WAIT_MS)
        if not isinstance(timeout, int | float) or isinstance(timeout, bool):
            raise SpawnError("timeout_ms must be a number")
        if timeout <= 0:
            raise SpawnError("timeout_ms must be greater than zero")
        ms = min(max(int(timeout), MIN_WAIT_MS), MAX_WAIT_MS)
        return cls(tuple(t.strip() for t in targets), ms / 1000)


@dataclass(frozen=True)
class AgentOutcome:
    """How a sub-agent stands: a wire CollabAgentStatus and, once it finished, its message."""

    status: str
    message: str | None = None

    def result(self) -> Any:
        """The reference's status value in `wait_agent`'s output."""
        if self.status in ("completed", "errored"):
            return {self.status: self.message}
        return "not_found" if self.status == "notFound" else self.status


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
    """Starts sub-agent threads and watches them."""

    async def spawn(self, parent_thread_id: str, args: SpawnArgs) -> SpawnedAgent:
        """A new sub-agent thread for `parent_thread_id`, its first turn running `args.message`."""
        ...

    async def wait(self, targets: tuple[str, ...], timeout_s: float) -> dict[str, AgentOutcome]:
        """The targets that have finished (waiting up to `timeout_s` for the first one); empty
        when none finished in time."""
        ...


def wait_item(
    call_id: str, sender: str, targets: tuple[str, ...], outcomes: dict[str, AgentOutcome] | None
) -> dict[str, Any]:
    """The `collabAgentToolCall` item of a wait: in progress, then with the finished agents."""
    states = {
        thread_id: {"status": outcome.status, "message": outcome.message}
        for thread_id, outcome in (outcomes or {}).items()
    }
    return {
        "type": "collabAgentToolCall",
        "id": call_id,
        "tool": "wait",
        "status": "inProgress" if outcomes is None else "completed",
        "senderThreadId": sender,
        "receiverThreadIds": list(targets),
        "prompt": None,
        "model": None,
        "reasoningEffort": None,
        "agentsStates": states,
    }


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
    """The thread's `spawn_agent` and `wait_agent` tools (a `TurnExtension`)."""

    def __init__(self, spawner: Spawner) -> None:
        self._spawner = spawner

    async def offer(self, settings: TurnSettings, io: CallChannel) -> TurnOffer:
        enabled = FEATURE in settings.features
        return TurnOffer(tools=[SPAWN_AGENT_TOOL, WAIT_AGENT_TOOL] if enabled else [])

    def handles(self, tool_name: str) -> bool:
        return tool_name in (SPAWN_AGENT, WAIT_AGENT)

    async def call(self, request: ExtensionCall) -> str:
        if request.call.name == WAIT_AGENT:
            return await self._wait(request)
        return await self._spawn(request)

    async def _wait(self, request: ExtensionCall) -> str:
        call_id, sender = request.call.call_id, request.io.thread_id
        try:
            args = WaitArgs.parse(request.call.arguments)
        except SpawnError as exc:
            return str(exc)
        request.notifier.item_started(wait_item(call_id, sender, args.targets, None))
        outcomes = await self._spawner.wait(args.targets, args.timeout_s)
        request.notifier.item_completed(wait_item(call_id, sender, args.targets, outcomes))
        status = {thread_id: outcome.result() for thread_id, outcome in outcomes.items()}
        return orjson.dumps({"status": status, "timed_out": not outcomes}).decode()

    async def _spawn(self, request: ExtensionCall) -> str:
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
