"""The one seam through which tools from outside the agent (MCP servers, skills) join a turn.

A thread may carry `extensions` (an attribute of the `TurnIO` the engine is given). At the start
of each turn the engine asks every extension for its `TurnOffer`: function tools to offer the
model and developer-message text. When the model calls one of those tools the engine hands the
call to the extension that claimed its name and feeds the returned text back as the call's
output. An extension shows its own items (through the `TurnNotifier`) and asks the client
through `io.request_client`; the engine knows nothing of MCP. Extensions are closed with their
thread.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from parley.agent.notifier import TurnNotifier
    from parley.agent.response_events import FunctionCall
    from parley.agent.settings import TurnSettings


class CallChannel(Protocol):
    thread_id: str
    turn_id: str

    async def request_client(self, method: str, params: dict[str, Any]) -> dict[str, Any]: ...


@dataclass
class TurnOffer:
    tools: list[dict[str, Any]] = field(default_factory=list)  # Responses function tool specs
    instructions: list[str] = field(default_factory=list)  # developer-message parts


@dataclass(frozen=True)
class ExtensionCall:
    """Everything an extension needs to run one call inside the current turn."""

    call: FunctionCall
    io: CallChannel
    notifier: TurnNotifier
    settings: TurnSettings


class TurnExtension(Protocol):
    async def offer(self, settings: TurnSettings, io: CallChannel) -> TurnOffer: ...

    def handles(self, tool_name: str) -> bool: ...

    async def call(self, request: ExtensionCall) -> str: ...

    async def close(self) -> None:
        """The thread is closed or unloaded: release what the extension holds."""
