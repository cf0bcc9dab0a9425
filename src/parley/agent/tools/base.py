"""What every tool the agent offers the model has in common: the call, the outcome, the context.

A tool is an object with a `name`, a `spec()` (the Responses API tool definition, or None to
keep it out of requests while still answering calls to it) and an async `run(call)`. The turn
engine builds the turn's tools as a plain list (`parley.agent.tools.registry`) and dispatches
each model call by name, so adding a tool is adding one object to that list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from parley.agent.tools.processes import ProcessTable
from parley.tools.shell_snapshot import ShellSnapshotSlot

if TYPE_CHECKING:
    from parley.agent.approval import ApprovalPolicy
    from parley.agent.notifier import TurnNotifier
    from parley.agent.pause import ElicitationPause
    from parley.agent.settings import TurnSettings
    from parley.tools.sandbox import SandboxPolicy


@dataclass(frozen=True)
class ToolCall:
    """One call the model made: a function call (JSON arguments) or a freeform custom call."""

    call_id: str
    name: str
    arguments: str  # JSON text for a function call, the raw input for a custom call
    custom: bool = False


Output = str | list[dict[str, Any]]


@dataclass(frozen=True)
class CallOutcome:
    output: Output  # the text (or content items) the model gets back
    cancel_turn: bool = False  # the user answered `cancel`: end the turn as interrupted
    success: bool | None = None  # reported to the model with content items, when known


class ClientChannel(Protocol):
    """How a tool reaches the client: the thread/turn ids and server requests."""

    thread_id: str
    turn_id: str

    async def request_client(self, method: str, params: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class SessionGrants:
    """What the user allowed "for this session" (kept per thread across turns)."""

    commands: set[str] = field(default_factory=set)
    patch_paths: set[Path] = field(default_factory=set)
    write_roots: set[Path] = field(default_factory=set)  # from request_permissions
    network: bool = False  # from request_permissions


@dataclass
class ToolContext:
    """Everything a tool may use during one turn."""

    channel: ClientChannel
    notifier: TurnNotifier
    settings: TurnSettings
    sandbox: SandboxPolicy
    approval_policy: ApprovalPolicy
    grants: SessionGrants
    plan_mode: bool = False
    dynamic_tools: tuple[dict[str, Any], ...] = ()  # the thread's DynamicToolSpec objects
    processes: ProcessTable = field(default_factory=ProcessTable)
    shell_snapshot: ShellSnapshotSlot | None = None
    view_image: bool = True  # offer view_image (the `view_image_tool` feature is not off)
    pause: ElicitationPause | None = None  # stops the yield clock (thread/increment_elicitation)


class AgentTool(Protocol):
    name: str

    def spec(self) -> dict[str, Any] | None: ...

    async def run(self, call: ToolCall) -> CallOutcome: ...
